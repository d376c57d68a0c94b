import Foundation
import IPTCore
import IPTData
import IPTModels

/// Settings of the Fastfood (DID/SAID) baseline (ipt-reference.md §5, Tune_said.sh).
public struct FastfoodTuningConfiguration: Codable, Sendable, Equatable {
    /// d.
    public var dimension: Int
    /// Add trainable per-tensor scalars (SAID proper); default `false` (the paper ran DID).
    public var structureAware: Bool
    /// The original's 1/L_i gradient scaling (reproduction only); default `false`.
    public var legacyGradientScaling: Bool
    /// Seed of the random projections (saved; regenerates them bit for bit).
    public var projectionSeed: UInt64
    /// Key prefixes of the moved tensors; `nil` or empty: every parameter of the model.
    public var tensors: [String]?
    public var optimization: OptimizationSettings
    public var evaluation: EvaluationSettings
    public var labelSmoothing: Float
    public var lossReduction: LossReduction
    /// Single-task runs take answers as written.
    public var targetFormat: TargetFormat
    public var maximumInputLength: Int

    public init(dimension: Int, structureAware: Bool = false, legacyGradientScaling: Bool = false, projectionSeed: UInt64 = 0,
                tensors: [String]? = nil, optimization: OptimizationSettings, evaluation: EvaluationSettings = EvaluationSettings(),
                labelSmoothing: Float = 0.1, lossReduction: LossReduction = .sum, targetFormat: TargetFormat = .answerAsIs,
                maximumInputLength: Int = 512) {
        self.dimension = dimension
        self.structureAware = structureAware
        self.legacyGradientScaling = legacyGradientScaling
        self.projectionSeed = projectionSeed
        self.tensors = tensors
        self.optimization = optimization
        self.evaluation = evaluation
        self.labelSmoothing = labelSmoothing
        self.lossReduction = lossReduction
        self.targetFormat = targetFormat
        self.maximumInputLength = maximumInputLength
    }

    /// The paper's settings (Tune_said.sh): learning rate 1e-5, batch 4, 30k steps, 3k warm-up, dev
    /// every 1,000 steps.
    public static func paper(dimension: Int = 100) -> FastfoodTuningConfiguration {
        FastfoodTuningConfiguration(dimension: dimension, optimization: OptimizationSettings(
            learningRate: 1e-5, batchSize: 4, totalSteps: 30_000, warmupSteps: 3_000, evaluationPeriod: 1_000))
    }

    public func validate() throws {
        guard dimension >= 1 else { throw TrainingError.invalidConfiguration("dim must be at least 1, got \(dimension)") }
        guard MemoryBudget.fits([dimension], bytesPerValue: 16) else {
            throw TrainingError.invalidConfiguration("dim \(dimension) does not fit in this machine's \(MemoryBudget.physicalGigabytes) GB (16 bytes a trained value)")
        }
        try optimization.validate()
        try evaluation.validate()
    }

    enum CodingKeys: String, CodingKey {
        case dimension = "dim", structureAware = "structure_aware", legacyGradientScaling = "legacy_gradient_scaling"
        case projectionSeed = "projection_seed", tensors, optimization, evaluation, labelSmoothing = "label_smoothing"
        case lossReduction = "loss_reduction", targetFormat = "target_format", maximumInputLength = "max_input_length"
    }
}

/// Tunes a frozen model's weights inside a random Fastfood subspace of dimension d: every moved
/// tensor is theta0 + Fastfood(z) (optionally scaled per tensor), only z (and the scalars) trained,
/// with the exact gradient. The model's weights are restored when the run ends.
/// Writes `fastfood.safetensors` (kind "fastfood": `z`, `scalars`; the projection is regenerated
/// from the seed and tensor names in the configuration) and `results.json`.
public final class FastfoodTuning {
    public let configuration: FastfoodTuningConfiguration
    public let task: TaskSetup
    let model: any Backbone
    let tokenizer: any Tokenizer
    let identity: ModelIdentity

    public init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                configuration: FastfoodTuningConfiguration) throws {
        try configuration.validate()
        _ = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 0,
                                maximumInputLength: configuration.maximumInputLength, targetFormat: configuration.targetFormat, tasks: [task])
        guard !FastfoodTuning.selected(model, configuration.tensors).isEmpty else {
            throw TrainingError.invalidConfiguration("tensors \(configuration.tensors ?? []) match no parameter of the model")
        }
        try requireTrainingData(task)
        self.configuration = configuration
        self.task = task
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        inputs = ["examples": RunInputs.examples([task])]
    }

    /// ``RunConfiguration/inputs``, computed once.
    let inputs: [String: String]

    static func selected(_ model: any Backbone, _ prefixes: [String]?) -> [(key: String, parameter: Parameter)] {
        let all = model.namedParameters()
        guard let prefixes, !prefixes.isEmpty else { return all }
        return all.filter { p in prefixes.contains { p.key.hasPrefix($0) } }
    }

    var runConfiguration: RunConfiguration<FastfoodTuningConfiguration> {
        RunConfiguration(procedure: .fastfoodTuning, tasks: [task.name], dataSeed: task.task.sample.seed,
                         baseModel: identity, configuration: configuration, inputs: inputs)
    }

    public func run(in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        if let finished = try directory?.begin(runConfiguration, result: ProcedureResult.self) { return finished }
        let started = Date()
        model.freeze()
        let reparameterization = FastfoodReparameterization(
            parameters: FastfoodTuning.selected(model, configuration.tensors), dimension: configuration.dimension,
            seed: configuration.projectionSeed, structureAware: configuration.structureAware,
            legacyGradientScaling: configuration.legacyGradientScaling)
        defer { reparameterization.restore() }
        var run = SingleTaskRun(
            model: model, task: task,
            encoder: try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 0,
                                         maximumInputLength: configuration.maximumInputLength,
                                         targetFormat: configuration.targetFormat, tasks: [task]),
            settings: configuration.optimization, evaluation: configuration.evaluation,
            labelSmoothing: configuration.labelSmoothing, lossReduction: configuration.lossReduction,
            parameters: reparameterization.trainableParameters,
            conditioning: { _ in Conditioning() },
            saveArtifact: { [self] directory, step in
                try Artifact.write(reparameterization.trainableParameters.map { ($0.key, $0.parameter.value) },
                                   metadata: metadata(step: step), to: directory.path("fastfood.safetensors"))
            })
        run.afterBackward = { reparameterization.accumulateGradients() }
        run.valuesDidChange = { reparameterization.apply() }
        let outcome = try run.run(in: directory, fingerprint: runConfiguration.fingerprint, progress: progress)
        return try run.result(outcome, procedure: .fastfoodTuning, subspace: "fastfood", dimension: configuration.dimension,
                              trainableParameters: reparameterization.trainableParameters.reduce(0) { $0 + $1.parameter.value.count },
                              intrinsicVector: reparameterization.z.value.scalars, identity: identity, started: started,
                              directory: directory)
    }

    func metadata(step: Int) -> ArtifactMetadata {
        ArtifactMetadata(kind: "fastfood", procedure: ProcedureKind.fastfoodTuning.rawValue, configuration: runConfiguration.json,
                                baseModel: identity, step: step, seed: configuration.projectionSeed)
    }
}
