import IPTCore
import IPTData
import IPTModels

/// A frozen pretrained model the procedures train around: BART, or any ``PromptTunableModel``
/// that is also a ``Module`` (parameters for SAID and identity).
public typealias Backbone = Module & PromptTunableModel

/// One task as the procedures see it: its k-shot sample and how it is scored.
public struct TaskSetup: Sendable {
    public var task: FewShotTask
    public var metric: Metric
    /// The label set of a classification task (for option scoring); empty for generation tasks.
    public var options: [String]

    public init(task: FewShotTask, metric: Metric, options: [String]) {
        self.task = task
        self.metric = metric
        self.options = options
    }

    /// The task's name.
    public var name: String { task.name }

    /// Loads `task`'s k-shot sample of seed `seed` from a CrossFit folder, with its metric and
    /// options from the folder's `tasks.json` (or CrossFit's metric table when there is none).
    public static func load(dataDirectory: URL, task: String, seed: Int, includeTest: Bool = true) throws -> TaskSetup {
        let sample = try FewShotTask.load(dataDirectory: dataDirectory, task: task, seed: seed, includeTest: includeTest)
        // A data folder without tasks.json uses CrossFit's table; a malformed one is an error, not ignored.
        if FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("tasks.json").path) {
            let catalog = try TaskCatalog.load(dataDirectory: dataDirectory)
            if catalog.entries[task] != nil {
                return TaskSetup(task: sample, metric: try catalog.metric(for: task), options: try catalog.options(for: task))
            }
        }
        guard let metric = Metric.crossFitTable[task] else {
            throw TrainingError.data("\(dataDirectory.path): no tasks.json entry and no CrossFit metric for task \(task)")
        }
        return TaskSetup(task: sample, metric: metric, options: [])
    }
}

/// How predictions are made for evaluation.
public enum PredictionMode: String, Codable, Sendable, CaseIterable {
    /// Beam search, as the paper (num_beams 4, max length 64).
    case generation
    /// The option with the highest likelihood (classification tasks; generation otherwise).
    /// Faster, and never produces an invalid label (beyond the paper).
    case optionScoring = "option-scoring"
}

/// Evaluation settings (the paper's `predict_batch_size`, `num_beams`, `max_output_length`).
public struct EvaluationSettings: Codable, Sendable, Equatable {
    /// How predictions are made; a model that cannot generate (an encoder) always scores options.
    public var mode: PredictionMode
    /// Examples per forward; default 32.
    public var batchSize: Int
    /// Beams; default 4.
    public var numBeams: Int
    /// Longest generated answer in tokens; default 64.
    public var maximumLength: Int
    /// Evaluate on at most this many dev examples (all when `nil`).
    public var maximumDevExamples: Int?
    /// Evaluate on at most this many test examples (all when `nil`).
    public var maximumTestExamples: Int?

    public init(mode: PredictionMode = .generation, batchSize: Int = 32, numBeams: Int = 4, maximumLength: Int = 64,
                maximumDevExamples: Int? = nil, maximumTestExamples: Int? = nil) {
        self.mode = mode
        self.batchSize = batchSize
        self.numBeams = numBeams
        self.maximumLength = maximumLength
        self.maximumDevExamples = maximumDevExamples
        self.maximumTestExamples = maximumTestExamples
    }

    func validate() throws {
        guard batchSize >= 1 else { throw TrainingError.invalidConfiguration("predict_batch_size must be at least 1") }
        guard batchSize <= OptimizationSettings.maximumBatchSize else {
            throw TrainingError.invalidConfiguration("predict_batch_size must be at most \(OptimizationSettings.maximumBatchSize)")
        }
        guard numBeams >= 1 else { throw TrainingError.invalidConfiguration("num_beams must be at least 1") }
        guard numBeams <= 1024 else { throw TrainingError.invalidConfiguration("num_beams must be at most 1024") }
        guard maximumLength >= 2 else { throw TrainingError.invalidConfiguration("max_output_length must be at least 2") }
    }

    enum CodingKeys: String, CodingKey {
        case mode, batchSize = "predict_batch_size", numBeams = "num_beams", maximumLength = "max_output_length"
        case maximumDevExamples = "max_dev_examples", maximumTestExamples = "max_test_examples"
    }
}

/// Turns examples into token batches the way the paper does: inputs `" [task] input"` as
/// `<s> ... </s>` truncated so that prompt + text fit (keeping `</s>`), targets `<s> answer </s>`
/// (at most 64 tokens), in the procedure's target format; each batch carries its examples' task
/// options, encoded like targets (the loss of an encoder-only model is over them).
public struct TaskTextEncoder: Sendable {
    public let tokenizer: any Tokenizer
    /// Text tokens per input, special tokens included.
    public let maximumTextLength: Int
    public let maximumTargetLength: Int
    public let targetFormat: TargetFormat
    public let padID: Int32
    /// Task name -> its options' target ids (classification tasks only).
    public let optionIDs: [String: [[Int32]]]

    /// - Parameters:
    ///   - promptLength: n, prompt vectors ahead of the text (0 without a prompt).
    ///   - maximumInputLength: prompt plus text (the paper: 512), capped by the model's positions.
    ///   - tasks: the tasks whose examples will be encoded; their options go into every batch.
    ///     An encoder-only model (no generation) needs every one to be a classification task.
    public init(tokenizer: any Tokenizer, model: PromptTunableModel, promptLength: Int, maximumInputLength: Int = 512,
                maximumTargetLength: Int = 64, targetFormat: TargetFormat, tasks: [TaskSetup] = []) throws {
        guard let pad = tokenizer.padTokenID else {
            throw TrainingError.invalidConfiguration("the tokenizer has no pad token")
        }
        let total = min(maximumInputLength, model.maximumInputLength)
        guard promptLength + 3 <= total else {
            throw TrainingError.invalidConfiguration("prompt_length \(promptLength) leaves no room for text in \(total) positions")
        }
        try model.checkInputLength(promptLength: promptLength, textLength: total - promptLength)
        if !model.supportsGeneration, let task = tasks.first(where: \.options.isEmpty) {
            throw TrainingError.invalidConfiguration("task \(task.name) has no label set (options in tasks.json): "
                + "an encoder-only model can only be trained and evaluated on classification tasks")
        }
        self.tokenizer = tokenizer
        maximumTextLength = total - promptLength
        self.maximumTargetLength = maximumTargetLength
        self.targetFormat = targetFormat
        padID = pad
        var optionIDs: [String: [[Int32]]] = [:]
        for task in tasks where !task.options.isEmpty {
            optionIDs[task.name] = try task.options.map {
                try tokenizer.encode(targetFormat.format($0), addSpecialTokens: true, maxLength: maximumTargetLength)
            }
        }
        self.optionIDs = optionIDs
    }

    /// Input ids of one example.
    public func inputIDs(_ example: Example) throws -> [Int32] {
        try tokenizer.encode(example.formattedInput, addSpecialTokens: true, maxLength: maximumTextLength)
    }

    /// Target ids of one answer.
    public func targetIDs(_ answer: String) throws -> [Int32] {
        try tokenizer.encode(targetFormat.format(answer), addSpecialTokens: true, maxLength: maximumTargetLength)
    }

    /// The encoder inputs of `examples`.
    public func inputs(_ examples: [Example]) throws -> TokenBatch {
        TokenBatch(try examples.map(inputIDs), paddingID: padID)
    }

    /// A teacher-forced batch, with the examples' options when every example's task has them.
    public func batch(_ examples: [Example], answers: [String]) throws -> TaskBatch {
        let options = examples.compactMap { optionIDs[$0.task] }
        return TaskBatch(inputs: try inputs(examples), targets: TokenBatch(try answers.map(targetIDs), paddingID: padID),
                         options: options.count == examples.count ? options : nil)
    }

    /// A generated answer as text (special tokens skipped, clean-up on, stripped).
    public func text(of ids: [Int32]) -> String {
        tokenizer.decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: true)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Predicts and scores a task's examples with the model in evaluation mode.
public struct TaskEvaluator {
    public let model: any Backbone
    public let encoder: TaskTextEncoder
    public let settings: EvaluationSettings

    public init(model: any Backbone, encoder: TaskTextEncoder, settings: EvaluationSettings) {
        self.model = model
        self.encoder = encoder
        self.settings = settings
    }

    /// One prediction per example.
    ///
    /// - Parameters:
    ///   - prompt: the prompt for every example, or one per example (`(B, n, h)` with B = examples).
    ///   - adapters: adapter weights for every example.
    ///   - options: the task's label set; used when the mode is option scoring, and always with a
    ///     model that cannot generate (an encoder).
    /// - Throws: `TrainingError.invalidConfiguration` when a model that cannot generate is asked
    ///   about a task without options.
    public func predictions(_ examples: [Example], prompt: PromptInput?, adapters: AdapterWeights?,
                            options: [String]) throws -> [String] {
        let scoresOptions = !options.isEmpty && (settings.mode == .optionScoring || !model.supportsGeneration)
        if !scoresOptions && !model.supportsGeneration {
            throw TrainingError.invalidConfiguration("an encoder-only model predicts by option scoring, and the task of "
                + "\(examples.first?.task ?? "these examples") has no options")
        }
        let wasTraining = model.isTraining
        model.train(false)
        defer { model.train(wasTraining) }
        let encodedOptions = try options.map(encoder.targetIDs)
        var configuration = model.generationConfiguration
        configuration.numBeams = settings.numBeams
        configuration.maxLength = settings.maximumLength
        configuration.maxNewTokens = nil
        return try withoutGradients {
            var result: [String] = []
            var start = 0
            while start < examples.count {
                let end = min(examples.count, start + settings.batchSize)
                let inputs = try encoder.inputs(Array(examples[start..<end]))
                let batchPrompt: PromptInput?
                switch prompt {
                case .perExample(let t)?: batchPrompt = .perExample(t.slice(axis: 0, start..<end))
                default: batchPrompt = prompt
                }
                if scoresOptions {
                    let scores = try model.scoreOptions(inputs, options: Array(repeating: encodedOptions, count: end - start),
                                                        prompt: batchPrompt, adapters: adapters)
                    for row in scores {
                        let best = row.indices.max { row[$0] < row[$1] } ?? 0
                        result.append(options[best])
                    }
                } else {
                    let generated = try model.generate(inputs, prompt: batchPrompt, adapters: adapters,
                                                       configuration: configuration)
                    result += generated.map(encoder.text)
                }
                start = end
            }
            return result
        }
    }

    /// The metric's score of the predictions for `examples`.
    public func score(_ examples: [Example], metric: Metric, prompt: PromptInput?, adapters: AdapterWeights?,
                      options: [String]) throws -> (score: Double, predictions: [String]) {
        let predictions = try self.predictions(examples, prompt: prompt, adapters: adapters, options: options)
        return (metric.score(predictions: predictions, references: examples.map(\.answers)), predictions)
    }
}

/// The training batch of a global step, as a pure function of (seed, step): the epoch and
/// position follow from the step, so a resumed run draws the same batches.
func trainingBatch(pool: ExamplePool, batchSize: Int, seed: UInt64, step: Int) throws -> TrainingBatch {
    let perEpoch = Batcher(count: pool.count, batchSize: batchSize, order: .shuffled, seed: seed).batchesPerEpoch
    guard perEpoch > 0 else { throw TrainingError.data("no training examples") }
    let cursor = BatchCursor(epoch: (step - 1) / perEpoch, batch: (step - 1) % perEpoch)
    var batches = try TrainingBatches(pool: pool, batchSize: batchSize, seed: seed, resumingFrom: cursor)
    guard let batch = batches.next() else { throw TrainingError.data("no training batch at step \(step)") }
    return batch
}

/// Reseeds the model's dropout for `step`, so that a resumed run draws the same masks.
func reseedDropout(_ model: any Backbone, seed: UInt64, step: Int) {
    model.randomSource.generator = RandomGenerator(seed: seed).derived("dropout").derived(step)
}

/// A capped prefix of `examples`.
func capped(_ examples: [Example], _ limit: Int?) -> [Example] {
    guard let limit, limit < examples.count else { return examples }
    return Array(examples.prefix(limit))
}

import Foundation
