import Foundation
import IPTData
import Testing

@Suite("Few-shot sampling of generated tasks")
struct FewShotSamplingTests {
    static func classification(_ labels: [String]) -> TaskDescription {
        TaskDescription(name: "toy-classes", kind: .classification, metric: "ACC", options: labels,
                        summary: "toy", inputFormat: "item: <n>")
    }

    static let textToText = TaskDescription(name: "toy-text", kind: .textToText, metric: "EM", options: [],
                                            summary: "toy", inputFormat: "item: <n>")

    /// `count` candidates per label, inputs `item: <label> <i>`.
    static func pool(_ labels: [String], count: Int) -> [TaskCandidate] {
        labels.flatMap { label in (0..<count).compactMap { TaskCandidate(input: "item: \(label) \($0)", answer: label) } }
    }

    @Test func classificationIsBalancedAndTestIsDisjointFromEverySeed() throws {
        let labels = ["no", "yes"]
        let task = try FewShotSampling.sample(Self.classification(labels), pool: Self.pool(labels, count: 300))
        // 400 at most, balanced: 200 per class, leaving 100 per class for the draws.
        #expect(task.test.count == 400)
        #expect(task.test.filter { $0.answer == "yes" }.count == 200)
        #expect(task.draws.map(\.seed) == [100, 13, 21, 42, 87])
        let testInputs = Set(task.test.map(\.input))
        for draw in task.draws {
            #expect(draw.train.count == 16 && draw.dev.count == 16)
            #expect(draw.train.filter { $0.answer == "yes" }.count == 8)
            #expect(draw.dev.filter { $0.answer == "yes" }.count == 8)
            let train = Set(draw.train.map(\.input)), dev = Set(draw.dev.map(\.input))
            #expect(train.count == 16 && dev.count == 16)
            #expect(train.isDisjoint(with: dev) && train.isDisjoint(with: testInputs) && dev.isDisjoint(with: testInputs))
        }
        #expect(Set(task.draws.map { $0.train.map(\.input) }).count == 5, "each seed draws its own sample")
    }

    @Test func smallClassesShrinkTheTestSetAndRemaindersGoToSeedChosenClasses() throws {
        let labels = ["a", "b", "c"]
        var pool = Self.pool(["a", "b"], count: 200)
        pool += Self.pool(["c"], count: 60)
        let task = try FewShotSampling.sample(Self.classification(labels), pool: pool)
        // The smallest class keeps 4 * ceil(16 / 3) = 24 for the draws: 36 per class in the test set.
        #expect(FewShotSampling.reservePerClass(classCount: 3) == 24)
        #expect(task.test.count == 3 * 36)
        var sharesSeen = Set<[Int]>()
        for draw in task.draws {
            let shares = labels.map { label in draw.train.filter { $0.answer == label }.count }
            #expect(shares.sorted() == [5, 5, 6])
            #expect(labels.map { label in draw.dev.filter { $0.answer == label }.count } == shares)
            sharesSeen.insert(shares)
        }
        #expect(sharesSeen.count > 1, "the class that gets the 16th example depends on the seed")
    }

    @Test func samplingIsDeterministicAndIndependentOfCandidateOrder() throws {
        let labels = ["no", "yes"]
        let pool = Self.pool(labels, count: 250)
        let first = try FewShotSampling.sample(Self.classification(labels), pool: pool)
        let second = try FewShotSampling.sample(Self.classification(labels), pool: pool.reversed())
        #expect(first.test == second.test)
        #expect(first.draws.map(\.train) == second.draws.map(\.train))
        #expect(first.draws.map(\.dev) == second.draws.map(\.dev))
    }

    @Test func textToTextTakesAtMost400TestExamplesAndKeeps64ForTheDraws() throws {
        let small = (0..<200).compactMap { TaskCandidate(input: "item: \($0)", answer: "answer \($0 % 7)") }
        let task = try FewShotSampling.sample(Self.textToText, pool: small)
        #expect(task.test.count == 136)
        let large = (0..<1000).compactMap { TaskCandidate(input: "item: \($0)", answer: "answer") }
        #expect(try FewShotSampling.sample(Self.textToText, pool: large).test.count == 400)
        for draw in task.draws {
            #expect(Set(draw.train.map(\.input)).isDisjoint(with: task.test.map(\.input)))
            #expect(Set(draw.dev.map(\.input)).isDisjoint(with: draw.train.map(\.input)))
        }
    }

    @Test func heldOutTestSetsComeOnlyFromTheTestPoolAndDrawsOnlyFromThePool() throws {
        let heldOut = (0..<150).compactMap { TaskCandidate(input: "held \($0)", answer: "a\($0)", revealing: ["line \($0)"]) }
        // "held 3" is also in the pool: it stays a test example and leaves the draws' pool.
        let rest = (0..<100).compactMap { TaskCandidate(input: "item: \($0)", answer: "b\($0)") }
            + [TaskCandidate(input: "held 3", answer: "a3")!]
        let task = try FewShotSampling.sample(Self.textToText, testPool: heldOut, pool: rest)
        #expect(task.test.count == 150)
        #expect(Set(task.test.map(\.input)) == Set(heldOut.map(\.line.input)))
        #expect(task.revealingCorpusLines == Set((0..<150).map { "line \($0)" }))
        for draw in task.draws {
            #expect((draw.train + draw.dev).allSatisfy { $0.input.hasPrefix("item: ") })
            #expect(draw.train.count == 16 && draw.dev.count == 16)
        }
        let again = try FewShotSampling.sample(Self.textToText, testPool: heldOut.reversed(), pool: rest.reversed())
        #expect(again.test == task.test && again.draws.map(\.train) == task.draws.map(\.train))

        let fewHeldOut = #expect(throws: TaskBuildingError.self) {
            try FewShotSampling.sample(Self.textToText, testPool: Array(heldOut.prefix(99)), pool: rest)
        }
        #expect(fewHeldOut?.description == "task toy-text: only 99 held-out examples: too few for a test set of 100")
        let fewForDraws = #expect(throws: TaskBuildingError.self) {
            try FewShotSampling.sample(Self.textToText, testPool: heldOut, pool: Array(rest.prefix(63)))
        }
        #expect(fewForDraws?.description == "task toy-text: only 63 examples for the few-shot draws (64 needed)")
    }

    @Test func ambiguousRepeatedAndLongInputsAreDropped() throws {
        var pool = (0..<200).compactMap { TaskCandidate(input: "item: \($0)", answer: "a\($0)") }
        pool.append(TaskCandidate(input: "item: 5", answer: "another answer")!)  // ambiguous: both dropped
        pool.append(TaskCandidate(input: "item:\t6\n", answer: " a6 ")!)  // the same line as item 6 once normalised
        pool.append(TaskCandidate(input: Array(repeating: "word", count: 61).joined(separator: " "), answer: "long")!)
        let task = try FewShotSampling.sample(Self.textToText, pool: pool, minimumTestSize: 1)
        let all = task.test + task.draws.flatMap { $0.train + $0.dev }
        #expect(!all.contains { $0.input == "item: 5" })
        #expect(!all.contains { $0.answer == "long" })
        #expect(task.test.count == 199 - 64)
        #expect(TaskCandidate(input: " \t", answer: "x") == nil)
    }

    @Test func tooSmallPoolsAndWrongLabelsAreErrorsNamingTheTask() {
        let labels = ["no", "yes"]
        let tooSmall = #expect(throws: TaskBuildingError.self) {
            try FewShotSampling.sample(Self.classification(labels), pool: Self.pool(labels, count: 50))
        }
        #expect(tooSmall?.description.hasPrefix("task toy-classes: ") == true)
        let wrongLabels = #expect(throws: TaskBuildingError.self) {
            try FewShotSampling.sample(Self.classification(["no", "maybe"]), pool: Self.pool(labels, count: 300))
        }
        #expect(wrongLabels?.description.contains("not the options") == true)
    }

    @Test func taskSetFilesHaveTheCrossFitLayoutAndJSON() throws {
        let labels = ["no", "yes"]
        let classes = try FewShotSampling.sample(Self.classification(labels), pool: Self.pool(labels, count: 300))
        let text = try FewShotSampling.sample(Self.textToText, pool: (0..<300).compactMap {
            TaskCandidate(input: "item: \($0)", answer: "a \"quoted\" answer")
        })
        let files = TaskSetFiles(tasks: [text, classes], trainTasks: ["toy-classes"], testTasks: ["toy-text"])
        let paths = files.files().map(\.path)
        #expect(paths.count == 2 * 15 + 3)
        #expect(paths.contains("toy-text/toy-text_16_87_dev.tsv"))
        #expect(paths.suffix(3) == ["tasks.json", "splits/default.json", "README.md"])
        let contents = Dictionary(uniqueKeysWithValues: files.files().map { ($0.path, $0.contents) })
        let catalog = try JSONSerialization.jsonObject(with: Data(contents["tasks.json"]!.utf8)) as! [String: [String: Any]]
        #expect(catalog["toy-classes"]?["options"] as? [String] == ["no", "yes"])
        #expect(catalog["toy-text"]?["kind"] as? String == "text-to-text")
        #expect(catalog["toy-text"]?["options"] as? [String] == [])
        let split = try JSONSerialization.jsonObject(with: Data(contents["splits/default.json"]!.utf8)) as! [String: [String]]
        #expect(split["train"] == ["toy-classes"] && split["dev"] == ["toy-classes"] && split["test"] == ["toy-text"])
        #expect(contents["toy-classes/toy-classes_16_13_train.tsv"]!.split(separator: "\n").count == 16)
        #expect(TaskSetFiles.majorityBaseline(of: classes) == 0.5)
        #expect(TaskSetFiles.majorityBaseline(of: text) == 1.0)
    }

    @Test func writingReplacesATaskFolderButNotOtherFolders() throws {
        let folder = try ScratchFolder()
        let labels = ["no", "yes"]
        let task = try FewShotSampling.sample(Self.classification(labels), pool: Self.pool(labels, count: 300))
        let files = TaskSetFiles(tasks: [task], trainTasks: ["toy-classes"], testTasks: [])
        let output = folder.url.appendingPathComponent("tasks")
        try folder.write("tasks/tasks.json", "{}")
        try folder.write("tasks/stale-task/stale.tsv", "x\ty\n")
        try files.write(to: output)
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("stale-task").path))
        let written = try String(contentsOf: output.appendingPathComponent("toy-classes/toy-classes_16_100_test.tsv"), encoding: .utf8)
        #expect(written == task.test.map { $0.input + "\t" + $0.answer + "\n" }.joined())

        let precious = folder.url.appendingPathComponent("home")
        try folder.write("home/notes.txt", "keep me")
        let error = #expect(throws: (any Error).self) { try files.write(to: precious) }
        #expect("\(error!)".contains("not a task folder"))
        #expect(FileManager.default.fileExists(atPath: precious.appendingPathComponent("notes.txt").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }
}
