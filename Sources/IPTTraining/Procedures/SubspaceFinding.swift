import Foundation
import IPTCore
import IPTData
import IPTModels

/// Settings of multi-task subspace finding (ipt-reference.md §3).
public struct SubspaceFindingConfiguration: Codable, Sendable, Equatable {
    /// "autoencoder" (the paper) or "pca" (the linear baseline: top-d principal directions of the
    /// training tasks' prompts, no training).
    public var method: String
    /// d, the intrinsic dimension.
    public var dimension: Int
    /// Width of the decoder's tanh layer; default 768.
    public var decoderWidth: Int
    /// alpha, the weight of the reconstruction MSE; default 200.
    public var alpha: Float
    /// Weight of the task loss (`Distil_loss`); default 1. 0 trains the autoencoder on
    /// reconstruction only (no model forward).
    public var taskLossWeight: Float
    /// Weight of alpha * MSE (`AE_loss`); default 1.
    public var reconstructionWeight: Float
    public var optimization: OptimizationSettings
    public var evaluation: EvaluationSettings
    public var labelSmoothing: Float
    public var lossReduction: LossReduction
    /// The multi-task loaders prepend a space to answers.
    public var targetFormat: TargetFormat
    public var maximumInputLength: Int

    public init(method: String = "autoencoder", dimension: Int, decoderWidth: Int = 768, alpha: Float = 200,
                taskLossWeight: Float = 1, reconstructionWeight: Float = 1, optimization: OptimizationSettings,
                evaluation: EvaluationSettings = EvaluationSettings(), labelSmoothing: Float = 0.1,
                lossReduction: LossReduction = .sum, targetFormat: TargetFormat = .leadingSpace, maximumInputLength: Int = 512) {
        self.method = method
        self.dimension = dimension
        self.decoderWidth = decoderWidth
        self.alpha = alpha
        self.taskLossWeight = taskLossWeight
        self.reconstructionWeight = reconstructionWeight
        self.optimization = optimization
        self.evaluation = evaluation
        self.labelSmoothing = labelSmoothing
        self.lossReduction = lossReduction
        self.targetFormat = targetFormat
        self.maximumInputLength = maximumInputLength
    }

    /// The paper's settings (MSF_prompt.sh): batch 64, learning rate 3e-5, 100k steps, 6 % warm-up,
    /// dev every 5,000 steps.
    public static func paper(dimension: Int = 250) -> SubspaceFindingConfiguration {
        SubspaceFindingConfiguration(dimension: dimension, optimization: OptimizationSettings(
            learningRate: 3e-5, batchSize: 64, totalSteps: 100_000, warmupSteps: 6_000, evaluationPeriod: 5_000))
    }

    public func validate() throws {
        guard ["autoencoder", "pca"].contains(method) else {
            throw TrainingError.invalidConfiguration("method must be autoencoder or pca, got \(method)")
        }
        guard dimension >= 1 else { throw TrainingError.invalidConfiguration("dim must be at least 1, got \(dimension)") }
        guard decoderWidth >= 1 else { throw TrainingError.invalidConfiguration("decoder_width must be at least 1") }
        guard alpha >= 0, taskLossWeight >= 0, reconstructionWeight >= 0, taskLossWeight + reconstructionWeight > 0 else {
            throw TrainingError.invalidConfiguration("alpha and the loss weights must not be negative, and one weight must be positive")
        }
        try optimization.validate()
        try evaluation.validate()
    }

    enum CodingKeys: String, CodingKey {
        case method, dimension = "dim", decoderWidth = "decoder_width", alpha
        case taskLossWeight = "task_loss_weight", reconstructionWeight = "reconstruction_weight", optimization, evaluation
        case labelSmoothing = "label_smoothing", lossReduction = "loss_reduction", targetFormat = "target_format"
        case maximumInputLength = "max_input_length"
    }
}

/// Tuned prompts of tasks, read from prompt-tuning run folders.
public enum TunedPrompts {
    /// `directory/<task>/prompt.safetensors` for every task. A task without one is an error (the
    /// original silently used a random prompt).
    public static func load(directory: URL, tasks: [String], model: ModelIdentity) throws -> [String: Tensor] {
        var prompts: [String: Tensor] = [:]
        var shape: [Int]? = nil
        for task in tasks {
            let path = directory.appendingPathComponent(task).appendingPathComponent("prompt.safetensors").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw TrainingError.data("\(path): missing; run prompt tuning for task \(task) first (ipt-cli prompt-tune --task \(task) --output \(directory.appendingPathComponent(task).path))")
            }
            let (tensors, _) = try Artifact.read(path, kind: "prompt", model: model)
            let prompt = try Artifact.tensor("prompt", in: tensors, path: path)
            guard prompt.rank == 2, prompt.shape[1] == model.hiddenSize, shape == nil || shape == prompt.shape else {
                throw TrainingError.checkpointMismatch("\(path): prompt of shape \(prompt.shape) does not match the others \(shape ?? [])")
            }
            shape = prompt.shape
            prompts[task] = prompt
        }
        return prompts
    }
}

/// Multi-task subspace finding: an autoencoder over the training tasks' tuned prompts, trained with
/// the frozen model's task loss on the reconstructed prompts plus alpha x the reconstruction MSE
/// (pooled multi-task batches; every example carries its task's prompt). Or, with method "pca", the
/// top-d principal directions of the prompts.
///
/// Dev: the unweighted mean over the tasks of their dev metric with reconstructed prompts. Test:
/// each training task's test set with its reconstructed prompt (T_train(MSF)), and, when given,
/// unseen tasks with their reconstructed tuned prompts (T_test(MSF)).
/// Writes `subspace.safetensors`, `results.json` (with every task's intrinsic vector).
public final class SubspaceFinding {
    public let configuration: SubspaceFindingConfiguration
    public let tasks: [TaskSetup]
    public let prompts: [String: Tensor]
    /// Unseen tasks and their tuned prompts, for T_test(MSF).
    public let unseenTasks: [TaskSetup]
    public let unseenPrompts: [String: Tensor]
    /// The autoencoder (method "autoencoder").
    public let autoencoder: PromptAutoencoder?
    let model: any Backbone
    let tokenizer: any Tokenizer
    let identity: ModelIdentity
    let promptLength: Int

    public init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, tasks: [TaskSetup],
                prompts: [String: Tensor], unseenTasks: [TaskSetup] = [], unseenPrompts: [String: Tensor] = [:],
                configuration: SubspaceFindingConfiguration) throws {
        try configuration.validate()
        guard !tasks.isEmpty else { throw TrainingError.data("subspace finding needs at least one training task") }
        for t in tasks + unseenTasks {
            let p = (prompts[t.name] ?? unseenPrompts[t.name])
            guard let p else { throw TrainingError.data("no tuned prompt for task \(t.name)") }
            guard p.rank == 2, p.shape[1] == model.hiddenSize else {
                throw TrainingError.checkpointMismatch("prompt of task \(t.name) has shape \(p.shape); the model's width is \(model.hiddenSize)")
            }
        }
        let n = prompts[tasks[0].name]!.shape[0]
        promptLength = n
        guard (Array(prompts.values) + Array(unseenPrompts.values)).allSatisfy({ $0.shape[0] == n }) else {
            throw TrainingError.checkpointMismatch("tuned prompts have different lengths")
        }
        if configuration.method == "pca" && configuration.dimension > tasks.count {
            throw TrainingError.invalidConfiguration("dim \(configuration.dimension) exceeds the \(tasks.count) training prompts PCA can span")
        }
        _ = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: promptLength,
                                maximumInputLength: configuration.maximumInputLength, targetFormat: configuration.targetFormat, tasks: tasks + unseenTasks)
        self.configuration = configuration
        self.tasks = tasks
        self.prompts = prompts
        self.unseenTasks = unseenTasks
        self.unseenPrompts = unseenPrompts
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        // The prompts are read from other runs' folders, which can be tuned again under an unfinished run.
        let allPrompts = prompts.merging(unseenPrompts) { seen, _ in seen }
        inputs = ["examples": RunInputs.examples(tasks + unseenTasks),
                  "prompts": RunInputs.tensors(allPrompts.keys.sorted().map { ($0, allPrompts[$0]!) })]
        if configuration.method == "autoencoder" {
            guard let count = PromptAutoencoder.parameterCount(dimension: configuration.dimension, promptLength: promptLength,
                                                               hiddenSize: model.hiddenSize, decoderWidth: configuration.decoderWidth),
                  MemoryBudget.fits([count], bytesPerValue: 16) else {
                throw TrainingError.invalidConfiguration("dim \(configuration.dimension) and decoder_width \(configuration.decoderWidth) make an autoencoder larger than this machine's \(MemoryBudget.physicalGigabytes) GB")
            }
            var generator = RandomGenerator(seed: configuration.optimization.seed).derived("autoencoder")
            autoencoder = PromptAutoencoder(dimension: configuration.dimension, promptLength: promptLength,
                                            hiddenSize: model.hiddenSize, decoderWidth: configuration.decoderWidth,
                                            generator: &generator)
        } else {
            autoencoder = nil
        }
    }

    /// ``RunConfiguration/inputs``, computed once.
    let inputs: [String: String]

    var runConfiguration: RunConfiguration<SubspaceFindingConfiguration> {
        RunConfiguration(procedure: .subspaceFinding, tasks: tasks.map(\.name), dataSeed: tasks[0].task.sample.seed,
                         baseModel: identity, configuration: configuration, inputs: inputs)
    }

    func metadata(step: Int?) -> ArtifactMetadata {
        ArtifactMetadata(kind: "prompt-subspace", procedure: ProcedureKind.subspaceFinding.rawValue,
                                configuration: runConfiguration.json, baseModel: identity, step: step, seed: configuration.optimization.seed)
    }

    /// Trains (or fits) the subspace, then evaluates reconstructions.
    public func run(in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        if let finished = try directory?.begin(runConfiguration, result: ProcedureResult.self) { return finished }
        let started = Date()
        let encoder = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: promptLength,
                                          maximumInputLength: configuration.maximumInputLength,
                                          targetFormat: configuration.targetFormat, tasks: tasks + unseenTasks)
        let evaluator = TaskEvaluator(model: model, encoder: encoder, settings: configuration.evaluation)
        model.freeze()

        // Reconstruction of a task's prompt by the current subspace.
        let linear: LinearPromptSubspace?
        if configuration.method == "pca" {
            linear = try PrincipalSubspace.fit(tasks.map { prompts[$0.name]! }, dimension: configuration.dimension)
        } else {
            linear = nil
        }
        func reconstruct(_ prompt: Tensor) -> Tensor {
            withoutGradients {
                let batch = prompt.unsqueezed(0)
                if let autoencoder { return autoencoder(batch).reshaped(prompt.shape) }
                let subspace = linear!
                return subspace.prompts(for: subspace.coordinates(of: batch)).reshaped(prompt.shape)
            }
        }
        func intrinsicVector(_ prompt: Tensor) -> [Float] {
            withoutGradients {
                if let autoencoder { return autoencoder.encode(prompt.unsqueezed(0)).scalars }
                return linear!.coordinates(of: prompt.unsqueezed(0)).scalars
            }
        }
        func devScores() throws -> [String: Double] {
            var scores: [String: Double] = [:]
            for t in tasks {
                let examples = capped(t.task.dev, configuration.evaluation.maximumDevExamples)
                scores[t.name] = try evaluator.score(examples, metric: t.metric, prompt: .shared(reconstruct(prompts[t.name]!)),
                                                     adapters: nil, options: t.options).score
            }
            return scores
        }

        var outcome = TrainingLoop.Outcome(bestScore: .nan, bestStep: 0, lastStep: 0, stoppedEarly: false, interrupted: false,
                                           evaluations: [], finalLoss: .nan, recentLosses: [])
        if let autoencoder {
            let settings = configuration.optimization
            let pool = ExamplePool(tasks.map(\.task), part: .train)
            let taskPrompts = pool.tasks.map { prompts[$0]! }
            let hooks = TrainingLoop.Hooks(
                loss: { [self] step in
                    let batch = try trainingBatch(pool: pool, batchSize: settings.batchSize, seed: settings.seed, step: step)
                    let original = Tensor.concatenate(batch.taskIndices.map { taskPrompts[$0].unsqueezed(0) }, axis: 0)
                    let reconstructed = autoencoder(original)
                    var loss = Tensor.meanSquaredError(reconstructed, original)
                        * (configuration.alpha * configuration.reconstructionWeight)
                    if configuration.taskLossWeight > 0 {
                        reseedDropout(model, seed: settings.seed, step: step)
                        model.train(true)
                        let taskLoss = try model.loss(batch: try encoder.batch(batch.examples, answers: batch.answers),
                                                      prompt: .perExample(reconstructed), adapters: nil,
                                                      epsilon: configuration.labelSmoothing, reduction: configuration.lossReduction)
                        loss = loss + taskLoss * configuration.taskLossWeight
                    }
                    return loss
                },
                evaluate: {
                    let scores = try devScores()
                    return scores.values.reduce(0, +) / Double(max(scores.count, 1))
                },
                saveBest: { [self] step, _ in
                    guard let directory else { return }
                    try SubspaceArtifact.write(autoencoder, metadata: metadata(step: step), to: directory.path("subspace.safetensors"))
                })
            let loop = TrainingLoop(parameters: autoencoder.trainableParameters(), settings: settings)
            outcome = try loop.run(hooks: hooks, checkpointPath: directory?.checkpointPath,
                                   resume: directory?.status == .unfinished, fingerprint: runConfiguration.fingerprint,
                                   progress: progress)
        } else if let linear, let directory {
            try SubspaceArtifact.write(linear, metadata: metadata(step: nil), to: directory.path("subspace.safetensors"))
        }
        if outcome.interrupted {
            return result(outcome: outcome, tasks: [], vectors: [:], started: started)
        }
        // Evaluate the final (best) subspace.
        let dev = try devScores()
        if linear != nil {
            let mean = dev.values.reduce(0, +) / Double(max(dev.count, 1))
            outcome.bestScore = mean
            outcome.evaluations = [EvaluationReport(step: 0, score: mean, bestScore: mean, bestStep: 0, isBest: true)]
        }
        var scores: [TaskScore] = []
        var vectors: [String: [Float]] = [:]
        for (t, isSeen) in tasks.map({ ($0, true) }) + unseenTasks.map({ ($0, false) }) {
            let prompt = isSeen ? prompts[t.name]! : unseenPrompts[t.name]!
            var test: Double? = nil
            if let examples = t.task.test {
                test = try evaluator.score(capped(examples, configuration.evaluation.maximumTestExamples), metric: t.metric,
                                           prompt: .shared(reconstruct(prompt)), adapters: nil, options: t.options).score
            }
            let devScore: Double?
            if isSeen {
                devScore = dev[t.name]
            } else {
                devScore = try evaluator.score(capped(t.task.dev, configuration.evaluation.maximumDevExamples), metric: t.metric,
                                               prompt: .shared(reconstruct(prompt)), adapters: nil, options: t.options).score
            }
            scores.append(TaskScore(task: t.name, metric: t.metric.rawValue, dev: devScore, test: test, seen: isSeen))
            vectors[t.name] = intrinsicVector(prompt)
        }
        let final = result(outcome: outcome, tasks: scores, vectors: vectors, started: started)
        if let directory { try directory.writeJSON(final, to: RunDirectory.resultsName) }
        return final
    }

    private func result(outcome: TrainingLoop.Outcome, tasks scores: [TaskScore], vectors: [String: [Float]],
                        started: Date) -> ProcedureResult {
        var r = ProcedureResult(
            procedure: .subspaceFinding, subspace: configuration.method == "pca" ? "pca" : "learned",
            dimension: configuration.dimension,
            trainableParameters: autoencoder?.trainableParameterCount ?? 0, tasks: scores,
            dataSeed: tasks[0].task.sample.seed, bestStep: outcome.bestStep, lastStep: outcome.lastStep,
            stoppedEarly: outcome.stoppedEarly, interrupted: outcome.interrupted, evaluations: outcome.evaluations,
            seconds: Date().timeIntervalSince(started), baseModel: identity)
        r.intrinsicVectors = vectors.isEmpty ? nil : vectors
        return r
    }
}
