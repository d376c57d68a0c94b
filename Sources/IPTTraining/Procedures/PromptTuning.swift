import Foundation
import IPTCore
import IPTData
import IPTModels

/// How the soft prompt starts.
public struct PromptInitialization: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// N(0, std^2) values (the paper: std 0.02).
        case random
        /// Rows of the model's word-embedding table at uniformly sampled token ids (PEFT's SAMPLE_VOCAB).
        case vocabulary
        /// The embedding rows of a text's tokens, repeated to the prompt length (PEFT's TEXT).
        case text
        /// A prompt from a file: an IPT prompt artifact, a PEFT `adapter_model.safetensors`, or any
        /// safetensors file with one (n, h) tensor.
        case file
    }

    public var kind: Kind
    public var standardDeviation: Float
    public var text: String?
    public var file: String?

    public init(kind: Kind = .random, standardDeviation: Float = 0.02, text: String? = nil, file: String? = nil) {
        self.kind = kind
        self.standardDeviation = standardDeviation
        self.text = text
        self.file = file
    }

    enum CodingKeys: String, CodingKey { case kind, standardDeviation = "std", text, file }
}

/// Settings of prompt tuning (ipt-reference.md §2.5-2.6).
public struct PromptTuningConfiguration: Codable, Sendable, Equatable {
    /// n, prompt vectors; default 100.
    public var promptLength: Int
    public var initialization: PromptInitialization
    public var optimization: OptimizationSettings
    public var evaluation: EvaluationSettings
    /// Label smoothing epsilon; default 0.1.
    public var labelSmoothing: Float
    /// Token sum (the paper) or mean.
    public var lossReduction: LossReduction
    /// Answers as written (single-task prompt tuning in the paper) or with a leading space.
    public var targetFormat: TargetFormat
    /// Prompt plus text positions; default 512.
    public var maximumInputLength: Int

    public init(promptLength: Int = 100, initialization: PromptInitialization = PromptInitialization(),
                optimization: OptimizationSettings, evaluation: EvaluationSettings = EvaluationSettings(),
                labelSmoothing: Float = 0.1, lossReduction: LossReduction = .sum,
                targetFormat: TargetFormat = .answerAsIs, maximumInputLength: Int = 512) {
        self.promptLength = promptLength
        self.initialization = initialization
        self.optimization = optimization
        self.evaluation = evaluation
        self.labelSmoothing = labelSmoothing
        self.lossReduction = lossReduction
        self.targetFormat = targetFormat
        self.maximumInputLength = maximumInputLength
    }

    /// The paper's settings (promptTune.sh) for one grid point: 100k steps, 10k warm-up, dev every
    /// 1,000 steps, no early stopping, clipping 0.1, AdamW without weight decay, seed 42.
    public static func paper(learningRate: Float = 1e-5, batchSize: Int = 2) -> PromptTuningConfiguration {
        PromptTuningConfiguration(optimization: OptimizationSettings(
            learningRate: learningRate, batchSize: batchSize, totalSteps: 100_000, warmupSteps: 10_000,
            evaluationPeriod: 1_000))
    }

    public func validate() throws {
        guard promptLength >= 1 else { throw TrainingError.invalidConfiguration("prompt_length must be at least 1, got \(promptLength)") }
        guard labelSmoothing >= 0 && labelSmoothing < 1 else { throw TrainingError.invalidConfiguration("label_smoothing must be in [0, 1)") }
        guard maximumInputLength > promptLength else {
            throw TrainingError.invalidConfiguration("max_input_length \(maximumInputLength) must exceed prompt_length \(promptLength)")
        }
        if initialization.kind == .text && (initialization.text ?? "").isEmpty {
            throw TrainingError.invalidConfiguration("initialization.text is needed for text initialisation")
        }
        if initialization.kind == .file && (initialization.file ?? "").isEmpty {
            throw TrainingError.invalidConfiguration("initialization.file is needed for file initialisation")
        }
        guard initialization.standardDeviation >= 0 else { throw TrainingError.invalidConfiguration("initialization.std must not be negative") }
        try optimization.validate()
        try evaluation.validate()
    }

    enum CodingKeys: String, CodingKey {
        case promptLength = "prompt_length", initialization, optimization, evaluation
        case labelSmoothing = "label_smoothing", lossReduction = "loss_reduction", targetFormat = "target_format"
        case maximumInputLength = "max_input_length"
    }
}

/// What a run folder's `config.json` holds: the procedure, its data and the resolved configuration.
public struct RunConfiguration<Configuration: Codable & Sendable>: Codable, Sendable {
    public var procedure: ProcedureKind
    public var tasks: [String]
    public var dataSeed: Int
    public var baseModel: ModelIdentity
    public var configuration: Configuration
    public var libraryVersion: String = IPTVersion.string
    /// Digests of what the run starts from besides its settings (``RunInputs``): `examples` (the
    /// tasks' train and dev examples) and, when read from files, `initial_prompt`, `subspace`,
    /// `prompts` or `adapter_subspace`. `config.json` is compared with them like the settings when
    /// a run is resumed or its result reused, so an input replaced in between (a subspace found
    /// again with `--overwrite`) is noticed; a run folder written before they were recorded is
    /// checked on its settings alone.
    public var inputs: [String: String]? = nil

    /// A short hash identifying the settings that decide the run's numbers (for checkpoints). The
    /// ``inputs`` are left out: `config.json` is compared with them before a checkpoint is read,
    /// and checkpoints written before they were recorded stay resumable.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var settings = self
        settings.inputs = nil
        var digest = ContentDigest()
        ((try? encoder.encode(settings)) ?? Data()).withUnsafeBytes { digest.add($0) }
        return String(digest.value, radix: 16)
    }
}

/// Digests of a run's inputs for ``RunConfiguration/inputs``.
enum RunInputs {
    /// The train and dev examples of `tasks`, in order: what training and model selection read.
    static func examples(_ tasks: [TaskSetup]) -> String {
        var digest = ContentDigest()
        for t in tasks {
            digest.add(t.name)
            for (part, examples) in [("train", t.task.train), ("dev", t.task.dev)] {
                digest.add(part)
                for e in examples {
                    digest.add(e.input)
                    for answer in e.answers { digest.add(answer) }
                }
            }
        }
        return digest.hex
    }

    /// Named tensors, in the order given.
    static func tensors(_ tensors: [(String, Tensor)]) -> String {
        var digest = ContentDigest()
        for (name, t) in tensors {
            digest.add(name)
            digest.add(t)
        }
        return digest.hex
    }
}

/// Vanilla prompt tuning of a frozen model on one task: only the n x h prompt is trained,
/// evaluated on the k-shot dev set every period; the best prompt by dev is kept and scored on test.
///
/// Writes into its run folder: `config.json`, `prompt.safetensors` (the best prompt, kind
/// "prompt", tensor `prompt`), `checkpoint.safetensors`, `events.jsonl` (by the CLI),
/// `test_predictions.txt` and `results.json`.
public final class PromptTuning {
    public let configuration: PromptTuningConfiguration
    public let task: TaskSetup
    /// The trained prompt (n, h).
    public let prompt: Parameter
    /// `.promptTuning`, or `.stageTwo` when started from an intrinsic-subspace solution.
    public let procedure: ProcedureKind
    let model: any Backbone
    let tokenizer: any Tokenizer
    let identity: ModelIdentity
    /// ``RunConfiguration/inputs``, computed once.
    let inputs: [String: String]

    /// - Parameters:
    ///   - model: the frozen backbone (its parameters are frozen by the run).
    ///   - tokenizer: the model's tokenizer.
    ///   - identity: the model's identity, written into artifacts.
    ///   - task: the task's k-shot sample and metric.
    ///   - configuration: settings (validated here).
    ///   - initialPrompt: start from these values (n, h) instead of the configured initialisation
    ///     (stage two starts from a decoded intrinsic vector).
    ///   - initialPromptDigest: identifies where `initialPrompt` came from in `config.json`
    ///     (``RunConfiguration/inputs``); default a digest of its values.
    ///   - procedure: the name written into results and artifacts; default `.promptTuning`.
    public init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                configuration: PromptTuningConfiguration, initialPrompt: Tensor? = nil, initialPromptDigest: String? = nil,
                procedure: ProcedureKind = .promptTuning) throws {
        try configuration.validate()
        let n = configuration.promptLength, h = model.hiddenSize
        _ = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: n,
                                maximumInputLength: configuration.maximumInputLength, targetFormat: configuration.targetFormat, tasks: [task])
        try requireTrainingData(task)
        let initial: Tensor
        if let initialPrompt {
            guard initialPrompt.shape == [n, h] else {
                throw TrainingError.checkpointMismatch("initial prompt has shape \(initialPrompt.shape), expected [\(n), \(h)]")
            }
            initial = initialPrompt
        } else {
            initial = try PromptTuning.initialPrompt(configuration.initialization, length: n, model: model,
                                                     tokenizer: tokenizer, seed: configuration.optimization.seed)
        }
        var inputs = ["examples": RunInputs.examples([task])]
        if initialPrompt != nil || configuration.initialization.kind == .file {
            inputs["initial_prompt"] = initialPromptDigest ?? RunInputs.tensors([("prompt", initial)])
        }
        self.inputs = inputs
        self.configuration = configuration
        self.task = task
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        self.procedure = procedure
        prompt = Parameter(initial)
    }

    /// The initial prompt of a configuration.
    static func initialPrompt(_ initialization: PromptInitialization, length n: Int, model: any Backbone,
                              tokenizer: any Tokenizer, seed: UInt64) throws -> Tensor {
        let h = model.hiddenSize
        var generator = RandomGenerator(seed: seed).derived("prompt initialization")
        switch initialization.kind {
        case .random:
            return Tensor.randomNormal([n, h], standardDeviation: initialization.standardDeviation, generator: &generator)
        case .vocabulary:
            // Ordinary tokens only: the special tokens sit at the ends of BART's vocabulary.
            let special = Set([tokenizer.bosTokenID, tokenizer.eosTokenID, tokenizer.padTokenID, tokenizer.unkTokenID].compactMap { $0 })
            let candidates = (0..<Int32(tokenizer.vocabularySize)).filter { !special.contains($0) }
            guard !candidates.isEmpty else {
                throw TrainingError.invalidConfiguration("initialization vocabulary: the tokenizer has no tokens but its special ones")
            }
            let ids = (0..<n).map { _ in candidates[generator.nextInt(below: candidates.count)] }
            return model.embeddingRows(ids)
        case .text:
            let ids = tokenizer.encode(initialization.text ?? "", addSpecialTokens: false)
            guard !ids.isEmpty else { throw TrainingError.invalidConfiguration("initialization.text has no tokens") }
            return model.embeddingRows((0..<n).map { ids[$0 % ids.count] })
        case .file:
            let path = initialization.file ?? ""
            return try PromptTuning.readPrompt(path, length: n, hiddenSize: h)
        }
    }

    /// A prompt (n, h) from an IPT prompt artifact (`prompt`), a PEFT adapter file
    /// (`prompt_embeddings`) or a safetensors file holding a single 2-D tensor.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - n: the prompt length required; `nil`: any length of at least 1.
    ///   - h: the model's hidden size.
    /// - Throws: ``TrainingError`` naming the file: no such tensor, a wrong shape, a NaN or an infinity.
    public static func readPrompt(_ path: String, length n: Int?, hiddenSize h: Int) throws -> Tensor {
        let file = try SafeTensors.read(path)
        let name = ["prompt", "prompt_embeddings"].first { file.tensors[$0] != nil } ?? (file.names.count == 1 ? file.names.first : nil)
        guard let name, let tensor = file.tensors[name] else {
            throw TrainingError.checkpointMismatch("\(path): no `prompt` or `prompt_embeddings` tensor")
        }
        guard tensor.rank == 2, tensor.shape[1] == h, tensor.shape[0] == n ?? max(1, tensor.shape[0]) else {
            throw TrainingError.checkpointMismatch("\(path): prompt has shape \(tensor.shape), expected [\(n.map(String.init) ?? "n"), \(h)] (prompt length x the model's hidden size)")
        }
        try Artifact.requireFinite(tensor, name: name, path: path)
        return tensor
    }

    var runConfiguration: RunConfiguration<PromptTuningConfiguration> {
        RunConfiguration(procedure: procedure, tasks: [task.name], dataSeed: task.task.sample.seed,
                         baseModel: identity, configuration: configuration, inputs: inputs)
    }

    /// Trains, selects the best prompt on dev, scores it on test.
    ///
    /// - Parameters:
    ///   - directory: the run folder (`nil`: keep everything in memory).
    ///   - progress: receives events; may stop the run (then the result is marked interrupted).
    /// - Returns: the run's result (also written to `results.json`). When the folder already holds
    ///   a finished run, that result is returned without training.
    public func run(in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        if let finished = try directory?.begin(runConfiguration, result: ProcedureResult.self) { return finished }
        let started = Date()
        model.freeze()
        var clippingOnly: [Parameter] = []
        if configuration.optimization.clipping == .allModelParameters {
            model.unfreeze()
            clippingOnly = model.parameters()
        }
        defer { model.freeze() }
        var run = SingleTaskRun(
            model: model, task: task,
            encoder: try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: configuration.promptLength,
                                         maximumInputLength: configuration.maximumInputLength,
                                         targetFormat: configuration.targetFormat, tasks: [task]),
            settings: configuration.optimization, evaluation: configuration.evaluation,
            labelSmoothing: configuration.labelSmoothing, lossReduction: configuration.lossReduction,
            parameters: [("prompt", prompt)],
            conditioning: { [prompt] _ in Conditioning(prompt: .shared(prompt.tensor)) },
            saveArtifact: { [self] directory, step in
                try Artifact.write([("prompt", prompt.value)], metadata: artifactMetadata(step: step),
                                   to: directory.path("prompt.safetensors"))
            })
        run.clippingOnlyParameters = clippingOnly
        let outcome = try run.run(in: directory, fingerprint: runConfiguration.fingerprint, progress: progress)
        if let directory, let predictions = outcome.testPredictions {
            try AtomicFile.write(predictions.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n") + "\n",
                                 to: directory.path(RunDirectory.testPredictionsName))
        }
        return try run.result(outcome, procedure: procedure, subspace: nil, dimension: nil,
                              trainableParameters: prompt.value.count, intrinsicVector: nil, identity: identity,
                              started: started, directory: directory)
    }

    func artifactMetadata(step: Int) -> ArtifactMetadata {
        ArtifactMetadata(kind: "prompt", procedure: procedure.rawValue, configuration: runConfiguration.json,
                                baseModel: identity, step: step, seed: configuration.optimization.seed)
    }
}
