import Foundation
import IPTCore
import IPTData
import IPTModels

/// Where the subspace of intrinsic subspace tuning comes from.
public struct SubspaceSource: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A `subspace.safetensors` of subspace finding (autoencoder decoder or PCA).
        case file
        /// The paper's random prompt subspace: the autoencoder's decoder architecture with
        /// untrained PyTorch-default random weights, regenerated from `seed`.
        case random
    }
    public var kind: Kind
    /// The subspace file (kind `file`).
    public var path: String?
    /// d (kind `random`; for `file` it comes from the file).
    public var dimension: Int?
    /// Prompt length n (kind `random`); default 100.
    public var promptLength: Int?
    /// Width of the random decoder's tanh layer; default 768.
    public var decoderWidth: Int?
    /// Seed of the random decoder's weights (kind `random`).
    public var seed: UInt64?

    public static func file(_ path: String) -> SubspaceSource { SubspaceSource(kind: .file, path: path) }

    public static func random(dimension: Int, promptLength: Int = 100, decoderWidth: Int = 768, seed: UInt64 = 0) -> SubspaceSource {
        SubspaceSource(kind: .random, dimension: dimension, promptLength: promptLength, decoderWidth: decoderWidth, seed: seed)
    }

    public init(kind: Kind, path: String? = nil, dimension: Int? = nil, promptLength: Int? = nil,
                decoderWidth: Int? = nil, seed: UInt64? = nil) {
        self.kind = kind
        self.path = path
        self.dimension = dimension
        self.promptLength = promptLength
        self.decoderWidth = decoderWidth
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey {
        case kind, path, dimension = "dim", promptLength = "prompt_length", decoderWidth = "decoder_width", seed
    }

    /// The subspace, its label for reports ("learned", "pca", "random") and, for files, the artifact's metadata.
    public func load(model: ModelIdentity) throws -> (subspace: PromptSubspace, label: String) {
        switch kind {
        case .file:
            guard let path else { throw TrainingError.invalidConfiguration("subspace.path is needed for a subspace file") }
            let loaded = try SubspaceArtifact.read(path, model: model)
            return (loaded.subspace, loaded.geometry.method == "pca" ? "pca" : "learned")
        case .random:
            guard let d = dimension, d >= 1 else { throw TrainingError.invalidConfiguration("dim must be at least 1 for a random subspace") }
            let n = promptLength ?? 100, width = decoderWidth ?? 768
            guard n >= 1, width >= 1 else { throw TrainingError.invalidConfiguration("prompt_length and decoder_width must be positive") }
            guard MemoryBudget.fits([d, width], bytesPerValue: 4), MemoryBudget.fits([width, n, model.hiddenSize], bytesPerValue: 4) else {
                throw TrainingError.invalidConfiguration("a random subspace of dim \(d), prompt_length \(n) and decoder_width \(width) does not fit in this machine's \(MemoryBudget.physicalGigabytes) GB")
            }
            var generator = RandomGenerator(seed: seed ?? 0).derived("random prompt subspace")
            let decoder = PromptDecoder(dimension: d, promptLength: n, hiddenSize: model.hiddenSize, decoderWidth: width,
                                        generator: &generator)
            decoder.freeze()
            return (decoder, "random")
        }
    }
}

/// Settings of intrinsic subspace tuning (ipt-reference.md §4.1-4.3).
public struct SubspaceTuningConfiguration: Codable, Sendable, Equatable {
    public var subspace: SubspaceSource
    /// Standard deviation of z's normal initialisation; default 0.02.
    public var initialStandardDeviation: Float
    public var optimization: OptimizationSettings
    public var evaluation: EvaluationSettings
    public var labelSmoothing: Float
    public var lossReduction: LossReduction
    public var targetFormat: TargetFormat
    public var maximumInputLength: Int

    public init(subspace: SubspaceSource, initialStandardDeviation: Float = 0.02, optimization: OptimizationSettings,
                evaluation: EvaluationSettings = EvaluationSettings(), labelSmoothing: Float = 0.1,
                lossReduction: LossReduction = .sum, targetFormat: TargetFormat = .leadingSpace, maximumInputLength: Int = 512) {
        self.subspace = subspace
        self.initialStandardDeviation = initialStandardDeviation
        self.optimization = optimization
        self.evaluation = evaluation
        self.labelSmoothing = labelSmoothing
        self.lossReduction = lossReduction
        self.targetFormat = targetFormat
        self.maximumInputLength = maximumInputLength
    }

    /// The paper's settings (IST_prompt.sh): learning rate 1e-5, batch 4, 100k steps, 6k warm-up,
    /// dev every 1,000 steps.
    public static func paper(subspace: SubspaceSource) -> SubspaceTuningConfiguration {
        SubspaceTuningConfiguration(subspace: subspace, optimization: OptimizationSettings(
            learningRate: 1e-5, batchSize: 4, totalSteps: 100_000, warmupSteps: 6_000, evaluationPeriod: 1_000))
    }

    public func validate() throws {
        guard initialStandardDeviation >= 0 else { throw TrainingError.invalidConfiguration("z_init_std must not be negative") }
        try optimization.validate()
        try evaluation.validate()
    }

    enum CodingKeys: String, CodingKey {
        case subspace, initialStandardDeviation = "z_init_std", optimization, evaluation, labelSmoothing = "label_smoothing"
        case lossReduction = "loss_reduction", targetFormat = "target_format", maximumInputLength = "max_input_length"
    }
}

/// Intrinsic subspace tuning: only z in R^d is trained (initialised N(0, 0.02)); the prompt is
/// the frozen subspace's image of z. Writes `intrinsic_vector.safetensors` (kind
/// "intrinsic-vector", tensor `z`; the subspace is referenced in its configuration) and `results.json`.
public final class SubspaceTuning {
    public let configuration: SubspaceTuningConfiguration
    public let task: TaskSetup
    public let subspace: PromptSubspace
    /// "learned", "pca" or "random".
    public let subspaceLabel: String
    public let z: Parameter
    let model: any Backbone
    let tokenizer: any Tokenizer
    let identity: ModelIdentity

    public convenience init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                            configuration: SubspaceTuningConfiguration) throws {
        try configuration.validate()
        let (subspace, label) = try configuration.subspace.load(model: identity)
        try self.init(model: model, tokenizer: tokenizer, identity: identity, task: task, subspace: subspace,
                      label: label, configuration: configuration)
    }

    /// With a subspace object of the caller's (an experimenter's own ``PromptSubspace``).
    public init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                subspace: PromptSubspace, label: String, configuration: SubspaceTuningConfiguration) throws {
        try configuration.validate()
        guard subspace.hiddenSize == model.hiddenSize else {
            throw TrainingError.checkpointMismatch("the subspace makes prompts of width \(subspace.hiddenSize), the model's is \(model.hiddenSize)")
        }
        _ = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: subspace.promptLength,
                                maximumInputLength: configuration.maximumInputLength, targetFormat: configuration.targetFormat, tasks: [task])
        try requireTrainingData(task)
        self.configuration = configuration
        self.task = task
        self.subspace = subspace
        subspaceLabel = label
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        var inputs = ["examples": RunInputs.examples([task])]
        // A subspace file can be replaced (found again) under an unfinished run; a random one is its seed.
        if configuration.subspace.kind == .file, let module = subspace as? Module {
            inputs["subspace"] = RunInputs.tensors(module.namedParameters().map { ($0.key, $0.parameter.value) })
        }
        self.inputs = inputs
        var generator = RandomGenerator(seed: configuration.optimization.seed).derived("intrinsic vector")
        z = Parameter(Tensor.randomNormal([subspace.dimension], standardDeviation: configuration.initialStandardDeviation,
                                          generator: &generator))
    }

    /// ``RunConfiguration/inputs``, computed once.
    let inputs: [String: String]

    var runConfiguration: RunConfiguration<SubspaceTuningConfiguration> {
        RunConfiguration(procedure: .subspaceTuning, tasks: [task.name], dataSeed: task.task.sample.seed,
                         baseModel: identity, configuration: configuration, inputs: inputs)
    }

    /// The prompt of the current z.
    public var prompt: Tensor { withoutGradients { subspace.prompt(for: z.value) } }

    public func run(in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        if let finished = try directory?.begin(runConfiguration, result: ProcedureResult.self) { return finished }
        let started = Date()
        model.freeze()
        let run = SingleTaskRun(
            model: model, task: task,
            encoder: try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: subspace.promptLength,
                                         maximumInputLength: configuration.maximumInputLength,
                                         targetFormat: configuration.targetFormat, tasks: [task]),
            settings: configuration.optimization, evaluation: configuration.evaluation,
            labelSmoothing: configuration.labelSmoothing, lossReduction: configuration.lossReduction,
            parameters: [("z", z)],
            conditioning: { [subspace, z] _ in Conditioning(prompt: .shared(subspace.prompt(for: z.tensor))) },
            saveArtifact: { [self] directory, step in
                try Artifact.write([("z", z.value)], metadata: metadata(step: step), to: directory.path("intrinsic_vector.safetensors"))
            })
        let outcome = try run.run(in: directory, fingerprint: runConfiguration.fingerprint, progress: progress)
        return try run.result(outcome, procedure: .subspaceTuning, subspace: subspaceLabel, dimension: subspace.dimension,
                              trainableParameters: z.value.count, intrinsicVector: z.value.scalars, identity: identity,
                              started: started, directory: directory)
    }

    func metadata(step: Int) -> ArtifactMetadata {
        ArtifactMetadata(kind: "intrinsic-vector", procedure: ProcedureKind.subspaceTuning.rawValue, configuration: runConfiguration.json,
                                baseModel: identity, step: step, seed: configuration.optimization.seed)
    }
}
