import Foundation
import IPTCore
import IPTData
import IPTModels

/// Settings of adapter-subspace finding (MSF_adapter.sh, ipt-reference.md §4.4).
public struct AdapterSubspaceFindingConfiguration: Codable, Sendable, Equatable {
    /// d; default 10 (MSF_adapter.sh).
    public var dimension: Int
    /// Adapter bottleneck width r; default 16.
    public var bottleneckSize: Int
    /// One intrinsic vector per task instead of the paper's single vector shared by all tasks.
    public var perTaskVectors: Bool
    /// Learning rate of the hypernetwork H; default 3e-4 (hard-coded in the original).
    public var hypernetworkLearningRate: Float
    /// Learning rate of z; default 1e-4 (hard-coded in the original).
    public var vectorLearningRate: Float
    /// Standard deviation of the normal initialisation of z and H; default 0.02.
    public var initialStandardDeviation: Float
    /// Batch size, steps, warm-up, evaluation period, clipping (its learning rate is not used).
    public var optimization: OptimizationSettings
    public var evaluation: EvaluationSettings
    public var labelSmoothing: Float
    public var lossReduction: LossReduction
    public var targetFormat: TargetFormat
    public var maximumInputLength: Int

    public init(dimension: Int = 10, bottleneckSize: Int = 16, perTaskVectors: Bool = false,
                hypernetworkLearningRate: Float = 3e-4, vectorLearningRate: Float = 1e-4, initialStandardDeviation: Float = 0.02,
                optimization: OptimizationSettings, evaluation: EvaluationSettings = EvaluationSettings(),
                labelSmoothing: Float = 0.1, lossReduction: LossReduction = .sum, targetFormat: TargetFormat = .leadingSpace,
                maximumInputLength: Int = 512) {
        self.dimension = dimension
        self.bottleneckSize = bottleneckSize
        self.perTaskVectors = perTaskVectors
        self.hypernetworkLearningRate = hypernetworkLearningRate
        self.vectorLearningRate = vectorLearningRate
        self.initialStandardDeviation = initialStandardDeviation
        self.optimization = optimization
        self.evaluation = evaluation
        self.labelSmoothing = labelSmoothing
        self.lossReduction = lossReduction
        self.targetFormat = targetFormat
        self.maximumInputLength = maximumInputLength
    }

    /// The paper's settings: batch 256, 200k steps, 12k warm-up, dev every 5,000 steps.
    public static func paper(dimension: Int = 10) -> AdapterSubspaceFindingConfiguration {
        AdapterSubspaceFindingConfiguration(dimension: dimension, optimization: OptimizationSettings(
            learningRate: 1e-4, batchSize: 256, totalSteps: 200_000, warmupSteps: 12_000, evaluationPeriod: 5_000))
    }

    public func validate() throws {
        guard dimension >= 1 else { throw TrainingError.invalidConfiguration("dim must be at least 1, got \(dimension)") }
        guard bottleneckSize >= 1 else { throw TrainingError.invalidConfiguration("bottleneck_size must be at least 1") }
        guard hypernetworkLearningRate > 0, vectorLearningRate > 0 else {
            throw TrainingError.invalidConfiguration("hypernetwork_learning_rate and vector_learning_rate must be positive")
        }
        guard initialStandardDeviation >= 0 else { throw TrainingError.invalidConfiguration("init_std must not be negative") }
        try optimization.validate()
        try evaluation.validate()
    }

    enum CodingKeys: String, CodingKey {
        case dimension = "dim", bottleneckSize = "bottleneck_size", perTaskVectors = "per_task_vectors"
        case hypernetworkLearningRate = "hypernetwork_learning_rate", vectorLearningRate = "vector_learning_rate"
        case initialStandardDeviation = "init_std", optimization, evaluation, labelSmoothing = "label_smoothing"
        case lossReduction = "loss_reduction", targetFormat = "target_format", maximumInputLength = "max_input_length"
    }
}

/// The saved adapter subspace (`adapter_subspace.safetensors`, kind "adapter-subspace"): `projection`
/// (H) and `z` (the shared vector) or `z.<task>` per task; the layout in metadata key `adapter_layout`.
public enum AdapterSubspaceArtifact {
    struct Layout: Codable {
        var encoderLayers, decoderLayers, hiddenSize, bottleneckSize: Int
    }

    public static func write(_ hypernetwork: AdapterHypernetwork, vectors: [String: Tensor], metadata: ArtifactMetadata,
                             to path: String) throws {
        let l = hypernetwork.layout
        var strings = metadata.strings
        strings["adapter_layout"] = String(decoding: try JSONEncoder().encode(
            Layout(encoderLayers: l.encoderLayers, decoderLayers: l.decoderLayers, hiddenSize: l.hiddenSize,
                   bottleneckSize: l.bottleneckSize)), as: UTF8.self)
        let tensors = [("projection", hypernetwork.projection.value)] + vectors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        try SafeTensors.write(tensors, metadata: strings, to: path)
    }

    /// The hypernetwork (frozen) and the saved vectors; checks the layout against the model's.
    public static func read(_ path: String, model: any Backbone, identity: ModelIdentity) throws
        -> (hypernetwork: AdapterHypernetwork, vectors: [String: Tensor]) {
        let (tensors, _) = try Artifact.read(path, kind: "adapter-subspace", model: identity)
        let strings = try SafeTensors.readMetadata(path)
        guard let json = strings["adapter_layout"],
              let saved = try? JSONDecoder().decode(Layout.self, from: Data(json.utf8)) else {
            throw TrainingError.checkpointMismatch("\(path): missing or malformed adapter_layout metadata")
        }
        guard saved.bottleneckSize >= 1, MemoryBudget.fits([saved.bottleneckSize, saved.hiddenSize], bytesPerValue: 4) else {
            throw TrainingError.checkpointMismatch("\(path): adapter_layout has bottleneck size \(saved.bottleneckSize) (must be positive and fit in memory)")
        }
        let layout = model.adapterLayout(bottleneckSize: saved.bottleneckSize)
        guard layout.encoderLayers == saved.encoderLayers, layout.decoderLayers == saved.decoderLayers,
              layout.hiddenSize == saved.hiddenSize else {
            throw TrainingError.checkpointMismatch("\(path): adapters for \(saved.encoderLayers)+\(saved.decoderLayers) layers of width \(saved.hiddenSize) do not fit the model")
        }
        let projection = try Artifact.tensor("projection", in: tensors, path: path)
        guard projection.rank == 2, projection.shape[1] == layout.parameterCount, projection.shape[0] >= 1 else {
            throw TrainingError.checkpointMismatch("\(path): projection of shape \(projection.shape) does not fit \(layout.parameterCount) adapter parameters")
        }
        let hypernetwork = AdapterHypernetwork(layout: layout, projection: projection)
        hypernetwork.freeze()
        var vectors: [String: Tensor] = [:]
        for (name, t) in tensors where name == "z" || name.hasPrefix("z.") {
            guard t.shape == [hypernetwork.dimension] else {
                throw TrainingError.checkpointMismatch("\(path): vector \(name) has shape \(t.shape), expected [\(hypernetwork.dimension)]")
            }
            vectors[name] = t
        }
        return (hypernetwork, vectors)
    }
}

/// Adapter-subspace finding: multi-task training of the hypernetwork H and of the intrinsic vector
/// z (one shared by all tasks, as the paper; or one per task) with the task loss of the frozen
/// model carrying the generated adapters. Dev: the mean over tasks of their dev metric.
public final class AdapterSubspaceFinding {
    public let configuration: AdapterSubspaceFindingConfiguration
    public let tasks: [TaskSetup]
    public let hypernetwork: AdapterHypernetwork
    /// "z" (shared) or "z.<task>" -> vector.
    public let vectors: [String: Parameter]
    let model: any Backbone
    let tokenizer: any Tokenizer
    let identity: ModelIdentity

    public init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, tasks: [TaskSetup],
                configuration: AdapterSubspaceFindingConfiguration) throws {
        try configuration.validate()
        guard !tasks.isEmpty else { throw TrainingError.data("adapter-subspace finding needs at least one training task") }
        _ = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 0,
                                maximumInputLength: configuration.maximumInputLength, targetFormat: configuration.targetFormat, tasks: tasks)
        self.configuration = configuration
        self.tasks = tasks
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        let layout = model.adapterLayout(bottleneckSize: configuration.bottleneckSize)
        guard MemoryBudget.fits([configuration.bottleneckSize, model.hiddenSize], bytesPerValue: 4),
              MemoryBudget.fits([configuration.dimension, layout.parameterCount], bytesPerValue: 16) else {
            throw TrainingError.invalidConfiguration("dim \(configuration.dimension) and bottleneck_size \(configuration.bottleneckSize) make a hypernetwork larger than this machine's \(MemoryBudget.physicalGigabytes) GB")
        }
        var generator = RandomGenerator(seed: configuration.optimization.seed).derived("adapter hypernetwork")
        hypernetwork = AdapterHypernetwork(layout: layout,
                                           dimension: configuration.dimension,
                                           standardDeviation: configuration.initialStandardDeviation, generator: &generator)
        var vectorGenerator = RandomGenerator(seed: configuration.optimization.seed).derived("adapter intrinsic vectors")
        let names = configuration.perTaskVectors ? tasks.map { "z.\($0.name)" } : ["z"]
        var vectors: [String: Parameter] = [:]
        for name in names {
            vectors[name] = Parameter(Tensor.randomNormal([configuration.dimension],
                                                          standardDeviation: configuration.initialStandardDeviation,
                                                          generator: &vectorGenerator))
        }
        self.vectors = vectors
        inputs = ["examples": RunInputs.examples(tasks)]
    }

    func vectorName(_ task: String) -> String { configuration.perTaskVectors ? "z.\(task)" : "z" }

    /// ``RunConfiguration/inputs``, computed once.
    let inputs: [String: String]

    var runConfiguration: RunConfiguration<AdapterSubspaceFindingConfiguration> {
        RunConfiguration(procedure: .adapterSubspaceFinding, tasks: tasks.map(\.name), dataSeed: tasks[0].task.sample.seed,
                         baseModel: identity, configuration: configuration, inputs: inputs)
    }

    func metadata(step: Int?) -> ArtifactMetadata {
        ArtifactMetadata(kind: "adapter-subspace", procedure: ProcedureKind.adapterSubspaceFinding.rawValue,
                                configuration: runConfiguration.json, baseModel: identity, step: step, seed: configuration.optimization.seed)
    }

    public func run(in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        if let finished = try directory?.begin(runConfiguration, result: ProcedureResult.self) { return finished }
        let started = Date()
        let settings = configuration.optimization
        let encoder = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 0,
                                          maximumInputLength: configuration.maximumInputLength,
                                          targetFormat: configuration.targetFormat, tasks: tasks)
        let evaluator = TaskEvaluator(model: model, encoder: encoder, settings: configuration.evaluation)
        let pool = ExamplePool(tasks.map(\.task), part: .train)
        model.freeze()
        var clippingOnly: [Parameter] = []
        if settings.clipping == .allModelParameters {
            model.unfreeze()
            clippingOnly = model.parameters()
        }
        defer { model.freeze() }

        func adapters(_ task: String) -> AdapterWeights {
            hypernetwork.weights(for: vectors[vectorName(task)]!.tensor)
        }
        func devScore() throws -> Double {
            var total = 0.0
            for t in tasks {
                let weights = withoutGradients { adapters(t.name) }
                total += try evaluator.score(capped(t.task.dev, configuration.evaluation.maximumDevExamples), metric: t.metric,
                                            prompt: nil, adapters: weights, options: t.options).score
            }
            return total / Double(tasks.count)
        }
        let hooks = TrainingLoop.Hooks(
            loss: { [self] step in
                let batch = try trainingBatch(pool: pool, batchSize: settings.batchSize, seed: settings.seed, step: step)
                reseedDropout(model, seed: settings.seed, step: step)
                model.train(true)
                // One forward per intrinsic vector in the batch (a single one for the shared z).
                var groups: [String: [Int]] = [:]
                for (i, task) in batch.tasks.enumerated() { groups[vectorName(task), default: []].append(i) }
                var total: Tensor? = nil
                for name in groups.keys.sorted() {
                    let rows = groups[name]!
                    let taskName = batch.tasks[rows[0]]
                    let loss = try model.loss(batch: try encoder.batch(rows.map { batch.examples[$0] }, answers: rows.map { batch.answers[$0] }),
                                              prompt: nil, adapters: adapters(taskName),
                                              epsilon: configuration.labelSmoothing, reduction: configuration.lossReduction)
                    total = total.map { $0 + loss } ?? loss
                }
                return total!
            },
            evaluate: devScore,
            saveBest: { [self] step, _ in
                guard let directory else { return }
                try AdapterSubspaceArtifact.write(hypernetwork, vectors: vectors.mapValues(\.value), metadata: metadata(step: step),
                                                  to: directory.path("adapter_subspace.safetensors"))
            })
        let vectorParameters = vectors.sorted { $0.key < $1.key }.map { (key: $0.key, parameter: $0.value) }
        let groups = [AdamW.Group(parameters: [("projection", hypernetwork.projection)],
                                  learningRate: configuration.hypernetworkLearningRate, weightDecay: settings.weightDecay),
                      AdamW.Group(parameters: vectorParameters, learningRate: configuration.vectorLearningRate,
                                  weightDecay: settings.weightDecay)]
        let loop = TrainingLoop(parameters: [("projection", hypernetwork.projection)] + vectorParameters, settings: settings,
                                clippingOnlyParameters: clippingOnly, groups: groups)
        let outcome = try loop.run(hooks: hooks, checkpointPath: directory?.checkpointPath,
                                   resume: directory?.status == .unfinished, fingerprint: runConfiguration.fingerprint,
                                   progress: progress)
        var scores: [TaskScore] = []
        if !outcome.interrupted {
            for t in tasks {
                let weights = withoutGradients { adapters(t.name) }
                let dev = try evaluator.score(capped(t.task.dev, configuration.evaluation.maximumDevExamples), metric: t.metric,
                                              prompt: nil, adapters: weights, options: t.options).score
                var test: Double? = nil
                if let examples = t.task.test {
                    test = try evaluator.score(capped(examples, configuration.evaluation.maximumTestExamples), metric: t.metric,
                                               prompt: nil, adapters: weights, options: t.options).score
                }
                scores.append(TaskScore(task: t.name, metric: t.metric.rawValue, dev: dev, test: test, seen: true))
            }
        }
        var result = ProcedureResult(
            procedure: .adapterSubspaceFinding, subspace: "adapter", dimension: configuration.dimension,
            trainableParameters: hypernetwork.projection.value.count + vectors.values.reduce(0) { $0 + $1.value.count },
            tasks: scores, dataSeed: tasks[0].task.sample.seed, bestStep: outcome.bestStep, lastStep: outcome.lastStep,
            stoppedEarly: outcome.stoppedEarly, interrupted: outcome.interrupted, evaluations: outcome.evaluations,
            seconds: Date().timeIntervalSince(started), baseModel: identity)
        result.intrinsicVectors = Dictionary(uniqueKeysWithValues: vectors.map { ($0.key, $0.value.value.scalars) })
        if let directory, !outcome.interrupted { try directory.writeJSON(result, to: RunDirectory.resultsName) }
        return result
    }
}

/// Settings of adapter-subspace tuning (IST_adapter.sh).
public struct AdapterSubspaceTuningConfiguration: Codable, Sendable, Equatable {
    /// The `adapter_subspace.safetensors` of adapter-subspace finding.
    public var subspace: String
    /// Start from the multi-task vector (`true`, what the original effectively did) or from
    /// N(0, 0.02) (`false`).
    public var startFromSharedVector: Bool
    public var initialStandardDeviation: Float
    /// Learning rate 1e-4 (hard-coded in the original), batch 4, 100k steps, dev every 1,000.
    public var optimization: OptimizationSettings
    public var evaluation: EvaluationSettings
    public var labelSmoothing: Float
    public var lossReduction: LossReduction
    public var targetFormat: TargetFormat
    public var maximumInputLength: Int

    public init(subspace: String, startFromSharedVector: Bool = true, initialStandardDeviation: Float = 0.02,
                optimization: OptimizationSettings, evaluation: EvaluationSettings = EvaluationSettings(),
                labelSmoothing: Float = 0.1, lossReduction: LossReduction = .sum, targetFormat: TargetFormat = .leadingSpace,
                maximumInputLength: Int = 512) {
        self.subspace = subspace
        self.startFromSharedVector = startFromSharedVector
        self.initialStandardDeviation = initialStandardDeviation
        self.optimization = optimization
        self.evaluation = evaluation
        self.labelSmoothing = labelSmoothing
        self.lossReduction = lossReduction
        self.targetFormat = targetFormat
        self.maximumInputLength = maximumInputLength
    }

    public static func paper(subspace: String) -> AdapterSubspaceTuningConfiguration {
        AdapterSubspaceTuningConfiguration(subspace: subspace, optimization: OptimizationSettings(
            learningRate: 1e-4, batchSize: 4, totalSteps: 100_000, warmupSteps: 6_000, evaluationPeriod: 1_000))
    }

    public func validate() throws {
        guard initialStandardDeviation >= 0 else { throw TrainingError.invalidConfiguration("z_init_std must not be negative") }
        try optimization.validate()
        try evaluation.validate()
    }

    enum CodingKeys: String, CodingKey {
        case subspace, startFromSharedVector = "start_from_shared_vector", initialStandardDeviation = "z_init_std"
        case optimization, evaluation, labelSmoothing = "label_smoothing", lossReduction = "loss_reduction"
        case targetFormat = "target_format", maximumInputLength = "max_input_length"
    }
}

/// Adapter-subspace tuning: only z trains; the frozen hypernetwork turns it into adapter weights.
public final class AdapterSubspaceTuning {
    public let configuration: AdapterSubspaceTuningConfiguration
    public let task: TaskSetup
    public let hypernetwork: AdapterHypernetwork
    public let z: Parameter
    let model: any Backbone
    let tokenizer: any Tokenizer
    let identity: ModelIdentity

    public init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                configuration: AdapterSubspaceTuningConfiguration) throws {
        try configuration.validate()
        let (hypernetwork, vectors) = try AdapterSubspaceArtifact.read(configuration.subspace, model: model, identity: identity)
        _ = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 0,
                                maximumInputLength: configuration.maximumInputLength, targetFormat: configuration.targetFormat, tasks: [task])
        try requireTrainingData(task)
        self.configuration = configuration
        self.task = task
        self.hypernetwork = hypernetwork
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        if configuration.startFromSharedVector, let shared = vectors["z"] ?? vectors["z.\(task.name)"] {
            z = Parameter(shared)
        } else {
            var generator = RandomGenerator(seed: configuration.optimization.seed).derived("intrinsic vector")
            z = Parameter(Tensor.randomNormal([hypernetwork.dimension], standardDeviation: configuration.initialStandardDeviation,
                                              generator: &generator))
        }
        inputs = ["examples": RunInputs.examples([task]),
                  "adapter_subspace": RunInputs.tensors([("projection", hypernetwork.projection.value)]
                                                        + vectors.keys.sorted().map { ($0, vectors[$0]!) })]
    }

    /// ``RunConfiguration/inputs``, computed once.
    let inputs: [String: String]

    var runConfiguration: RunConfiguration<AdapterSubspaceTuningConfiguration> {
        RunConfiguration(procedure: .adapterSubspaceTuning, tasks: [task.name], dataSeed: task.task.sample.seed,
                         baseModel: identity, configuration: configuration, inputs: inputs)
    }

    public func run(in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        if let finished = try directory?.begin(runConfiguration, result: ProcedureResult.self) { return finished }
        let started = Date()
        model.freeze()
        let run = SingleTaskRun(
            model: model, task: task,
            encoder: try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 0,
                                         maximumInputLength: configuration.maximumInputLength,
                                         targetFormat: configuration.targetFormat, tasks: [task]),
            settings: configuration.optimization, evaluation: configuration.evaluation,
            labelSmoothing: configuration.labelSmoothing, lossReduction: configuration.lossReduction,
            parameters: [("z", z)],
            conditioning: { [hypernetwork, z] _ in Conditioning(adapters: hypernetwork.weights(for: z.tensor)) },
            saveArtifact: { [self] directory, step in
                try Artifact.write([("z", z.value)], metadata: ArtifactMetadata(
                    kind: "intrinsic-vector", procedure: ProcedureKind.adapterSubspaceTuning.rawValue,
                    configuration: runConfiguration.json, baseModel: identity, step: step, seed: configuration.optimization.seed),
                    to: directory.path("intrinsic_vector.safetensors"))
            })
        let outcome = try run.run(in: directory, fingerprint: runConfiguration.fingerprint, progress: progress)
        return try run.result(outcome, procedure: .adapterSubspaceTuning, subspace: "adapter", dimension: hypernetwork.dimension,
                              trainableParameters: z.value.count, intrinsicVector: z.value.scalars, identity: identity,
                              started: started, directory: directory)
    }
}
