import Foundation
import IPTCore

/// One example of a generated task file: `input<TAB>answer`.
public struct TaskLine: Hashable, Sendable {
    public let input: String
    public let answer: String

    /// A line with whitespace runs (tabs and newlines included) collapsed to single spaces, or nil
    /// when the input or the answer is empty after that.
    public init?(input: String, answer: String) {
        let input = SourceText.collapsingWhitespace(input)
        let answer = SourceText.collapsingWhitespace(answer)
        guard !input.isEmpty, !answer.isEmpty else { return nil }
        self.input = input
        self.answer = answer
    }

    /// The line as written in a task file, without the line break.
    public var tsv: String { "\(input)\t\(answer)" }
}

/// What a generated task is: its name, kind, metric and label words, and how it is described in
/// the task folder's README.
public struct TaskDescription: Sendable {
    /// CrossFit's task kinds, as written in `tasks.json`.
    public enum Kind: String, Sendable {
        case classification
        case textToText = "text-to-text"
    }

    public let name: String
    public let kind: Kind
    /// A CrossFit metric name (`ACC`, `Classification-F1`, `EM`, `Rouge-L`).
    public let metric: String
    /// The sorted label words of a classification task; empty for a text-to-text task.
    public let options: [String]
    /// Where the examples come from and what is asked, for the README.
    public let summary: String
    /// The input's format, for the README (`word: <word> [SEP] definition: <definition>`).
    public let inputFormat: String

    /// - Parameters:
    ///   - options: the label words of a classification task (sorted here); empty for text-to-text.
    public init(name: String, kind: Kind, metric: String, options: [String], summary: String, inputFormat: String) {
        self.name = name
        self.kind = kind
        self.metric = metric
        self.options = options.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.summary = summary
        self.inputFormat = inputFormat
    }
}

/// A task's candidate example, with the pretraining-corpus lines that hold its answer next to its
/// input (for example `dog: a member of the genus Canis ...` for the definition-to-word task).
public struct TaskCandidate: Sendable {
    public let line: TaskLine
    public let revealingCorpusLines: [String]

    /// A candidate from raw text (whitespace is normalised); nil when a field is empty.
    ///
    /// - Parameter revealing: corpus lines that give this example's answer away (default none).
    public init?(input: String, answer: String, revealing: [String] = []) {
        guard let line = TaskLine(input: input, answer: answer) else { return nil }
        self.line = line
        self.revealingCorpusLines = revealing
    }

    init(line: TaskLine, revealingCorpusLines: [String]) {
        self.line = line
        self.revealingCorpusLines = revealingCorpusLines
    }
}

/// The train and dev files of one seed.
public struct FewShotDraw: Sendable {
    public let seed: Int
    public let train: [TaskLine]
    public let dev: [TaskLine]
}

/// A generated task: a fixed test set and, for each seed, a 16-example train and dev set.
public struct GeneratedTask: Sendable {
    public let description: TaskDescription
    public let test: [TaskLine]
    /// One draw per seed of ``FewShotSampling/seeds``, in that order.
    public let draws: [FewShotDraw]
    /// Corpus lines that would give away a test answer (see ``TaskCandidate``).
    public let revealingCorpusLines: Set<String>
}

/// Why a task could not be generated. One line naming the task.
public struct TaskBuildingError: Error, CustomStringConvertible, Equatable {
    public let task: String
    public let problem: String

    public var description: String { "task \(task): \(problem)" }
}

/// Turns a pool of candidate examples into CrossFit-style few-shot files.
///
/// 1. Candidates are cleaned: inputs longer than ``maximumInputWords`` are dropped; an input that
///    occurs with different answers is ambiguous and dropped entirely; repeated identical lines
///    are kept once. They are then sorted (answer, then input, by UTF-8 bytes), so the result does
///    not depend on the order they were produced in.
/// 2. The sorted pool is shuffled with a fixed generator derived from the task name
///    (per class for classification). The test set is its head: for classification, the same
///    number from each class (balanced), at most ``maximumTestSize`` in all, leaving at least
///    ``reservePerClass(classCount:)`` examples of each class for the few-shot draws; for
///    text-to-text, at most ``maximumTestSize``, leaving at least 64.
/// 3. For each seed, a generator seeded with the seed and derived from the task name shuffles the
///    rest and takes 16 train then 16 dev examples: for classification, `16 / k` of each of the
///    `k` classes, the remainder going to classes chosen by the same generator.
///
/// So the test set is the same for every seed and disjoint from every seed's train and dev, and
/// train and dev of one seed are disjoint.
public enum FewShotSampling {
    /// CrossFit's seeds, in the order of its files.
    public static let seeds = [100, 13, 21, 42, 87]
    /// Train (and dev) examples per seed.
    public static let shots = 16
    /// Test examples at most.
    public static let maximumTestSize = 400
    /// Longest input kept, in whitespace-separated words.
    public static let maximumInputWords = 60
    /// Seed of the generator that fixes each task's pool order and test set.
    static let poolSeed: UInt64 = 2022

    /// Examples of each class kept out of the test set: twice what train and dev take, so that
    /// the seeds draw different samples.
    public static func reservePerClass(classCount: Int) -> Int {
        4 * ((shots + classCount - 1) / classCount)
    }

    /// Builds the test set and the five seeds' train and dev sets of a task.
    ///
    /// - Parameters:
    ///   - description: the task; for classification its `options` must be exactly the answers
    ///     of the pool.
    ///   - pool: the candidate examples, in any order.
    ///   - minimumTestSize: fewest test examples acceptable (default 100).
    /// - Throws: ``TaskBuildingError`` when the pool is too small or its answers do not match the options.
    public static func sample(_ description: TaskDescription, pool: [TaskCandidate], minimumTestSize: Int = 100) throws -> GeneratedTask {
        let items = clean(pool)
        let poolGenerator = RandomGenerator(seed: poolSeed).derived("pool/\(description.name)")
        let test: [TaskCandidate]
        let draws: [FewShotDraw]
        switch description.kind {
        case .classification:
            let classes = description.options
            var byClass = Dictionary(grouping: items, by: \.line.answer)
            guard Set(byClass.keys) == Set(classes) else {
                throw TaskBuildingError(task: description.name, problem:
                    "the examples' answers \(byClass.keys.sorted()) are not the options \(classes)")
            }
            for label in classes { poolGenerator.derived("class/\(label)").shuffleCopy(&byClass[label]!) }
            let smallest = classes.map { byClass[$0]!.count }.min() ?? 0
            let perClass = min(maximumTestSize / classes.count, smallest - reservePerClass(classCount: classes.count))
            guard perClass * classes.count >= minimumTestSize else {
                throw TaskBuildingError(task: description.name, problem:
                    "only \(smallest) examples in the smallest class: too few for a test set of \(minimumTestSize)")
            }
            var testItems = classes.flatMap { byClass[$0]!.prefix(perClass) }
            poolGenerator.derived("test-order").shuffleCopy(&testItems)
            test = testItems
            let rest = classes.map { Array(byClass[$0]!.dropFirst(perClass)) }
            draws = seeds.map { drawClassification(name: description.name, seed: $0, rest: rest) }
        case .textToText:
            var shuffled = items
            poolGenerator.shuffleCopy(&shuffled)
            let count = min(maximumTestSize, shuffled.count - 64)
            guard count >= minimumTestSize else {
                throw TaskBuildingError(task: description.name, problem:
                    "only \(shuffled.count) examples: too few for a test set of \(minimumTestSize)")
            }
            test = Array(shuffled.prefix(count))
            draws = drawTextToText(name: description.name, rest: Array(shuffled.dropFirst(count)))
        }
        return GeneratedTask(description: description, test: test.map(\.line), draws: draws,
                             revealingCorpusLines: Set(test.flatMap(\.revealingCorpusLines)))
    }

    /// Builds a text-to-text task whose test set must be text the pretrained model never saw: the
    /// test examples come from `testPool` only (candidates made from corpus lines that
    /// ``PretrainingCorpus`` leaves out), train and dev from `pool` only. Cleaning is as in
    /// ``sample(_:pool:minimumTestSize:)``; the test set is the head of the shuffled, cleaned
    /// `testPool` (at most ``maximumTestSize``), and a `pool` example whose input is also a test
    /// input is dropped.
    ///
    /// - Throws: ``TaskBuildingError`` when either pool is too small (fewer than
    ///   `minimumTestSize` test examples, or fewer than 64 for the few-shot draws).
    public static func sample(_ description: TaskDescription, testPool: [TaskCandidate], pool: [TaskCandidate],
                              minimumTestSize: Int = 100) throws -> GeneratedTask {
        precondition(description.kind == .textToText, "held-out test sets are for text-to-text tasks")
        var shuffled = clean(testPool)
        RandomGenerator(seed: poolSeed).derived("pool/\(description.name)").shuffleCopy(&shuffled)
        let test = Array(shuffled.prefix(maximumTestSize))
        guard test.count >= minimumTestSize else {
            throw TaskBuildingError(task: description.name, problem:
                "only \(test.count) held-out examples: too few for a test set of \(minimumTestSize)")
        }
        let testInputs = Set(test.map(\.line.input))
        let rest = clean(pool).filter { !testInputs.contains($0.line.input) }
        guard rest.count >= 64 else {
            throw TaskBuildingError(task: description.name, problem: "only \(rest.count) examples for the few-shot draws (64 needed)")
        }
        return GeneratedTask(description: description, test: test.map(\.line),
                             draws: drawTextToText(name: description.name, rest: rest),
                             revealingCorpusLines: Set(test.flatMap(\.revealingCorpusLines)))
    }

    /// For each seed, a generator seeded with it and derived from the task name shuffles `rest`;
    /// train is the first 16, dev the next 16.
    private static func drawTextToText(name: String, rest: [TaskCandidate]) -> [FewShotDraw] {
        seeds.map { seed in
            var generator = RandomGenerator(seed: UInt64(seed)).derived(name)
            var candidates = rest
            generator.shuffle(&candidates)
            return FewShotDraw(seed: seed, train: candidates.prefix(shots).map(\.line),
                               dev: candidates.dropFirst(shots).prefix(shots).map(\.line))
        }
    }

    private static func drawClassification(name: String, seed: Int, rest: [[TaskCandidate]]) -> FewShotDraw {
        var generator = RandomGenerator(seed: UInt64(seed)).derived(name)
        let classCount = rest.count
        var shares = Array(repeating: shots / classCount, count: classCount)
        for position in generator.permutation(classCount).prefix(shots % classCount) { shares[position] += 1 }
        var train: [TaskLine] = [], dev: [TaskLine] = []
        for (position, items) in rest.enumerated() {
            var candidates = items
            generator.shuffle(&candidates)
            train += candidates.prefix(shares[position]).map(\.line)
            dev += candidates.dropFirst(shares[position]).prefix(shares[position]).map(\.line)
        }
        generator.shuffle(&train)
        generator.shuffle(&dev)
        return FewShotDraw(seed: seed, train: train, dev: dev)
    }

    /// Drops long and ambiguous inputs, merges repeats, sorts by answer then input.
    static func clean(_ pool: [TaskCandidate]) -> [TaskCandidate] {
        var byInput: [String: (answers: Set<String>, item: TaskCandidate, revealing: [String])] = [:]
        for item in pool where item.line.input.split(separator: " ").count <= maximumInputWords {
            if var entry = byInput[item.line.input] {
                entry.answers.insert(item.line.answer)
                entry.revealing += item.revealingCorpusLines
                byInput[item.line.input] = entry
            } else {
                byInput[item.line.input] = ([item.line.answer], item, item.revealingCorpusLines)
            }
        }
        return byInput.values
            .filter { $0.answers.count == 1 }
            .map { TaskCandidate(line: $0.item.line, revealingCorpusLines: $0.revealing) }
            .sorted { lhs, rhs in
                lhs.line.answer != rhs.line.answer
                    ? lhs.line.answer.utf8.lexicographicallyPrecedes(rhs.line.answer.utf8)
                    : lhs.line.input.utf8.lexicographicallyPrecedes(rhs.line.input.utf8)
            }
    }
}

extension RandomGenerator {
    /// Shuffles `array` with a copy of this generator, leaving this one unchanged: each use of a
    /// fixed derived generator then gives the same order however often it is called.
    fileprivate func shuffleCopy<T>(_ array: inout [T]) {
        var copy = self
        copy.shuffle(&array)
    }
}
