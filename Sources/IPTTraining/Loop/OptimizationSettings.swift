/// Which gradients the global-norm clipping looks at.
public enum ClippingScope: String, Codable, Sendable, CaseIterable {
    /// Only the trained parameters (correct; the default).
    case trainable
    /// The trained parameters and every weight of the frozen model, as the original prompt
    /// tuning and adapter runs did by accident (they did not pass `--freeze_embeds`). Costs the
    /// weight-gradient GEMMs; offered only to reproduce the original's numbers.
    case allModelParameters
}

/// Optimisation settings shared by every procedure (the paper's flags, with dashes in the CLI).
public struct OptimizationSettings: Codable, Sendable, Equatable {
    /// Peak learning rate (`--learning-rate`).
    public var learningRate: Float
    /// Examples per step (`--batch-size`).
    public var batchSize: Int
    /// Optimisation steps (`--total-steps`).
    public var totalSteps: Int
    /// Linear warm-up steps (`--warmup-steps`).
    public var warmupSteps: Int
    /// Steps between dev evaluations (`--eval-period`).
    public var evaluationPeriod: Int
    /// Evaluations without improvement before stopping early (`--wait-steps`); `nil`: never.
    public var patience: Int?
    /// Global gradient-norm bound; default 0.1 (the paper's `max_grad_norm`).
    public var maximumGradientNorm: Float
    /// What the clipping norm covers; default ``ClippingScope/trainable``.
    public var clipping: ClippingScope
    /// Decoupled weight decay of the trained parameters; default 0 (the paper's prompt groups).
    public var weightDecay: Float
    /// Steps between checkpoints; `nil`: at every evaluation.
    public var checkpointPeriod: Int?
    /// Seed of the training randomness (batch order, answer choice, dropout); default 42 (the
    /// paper's `--seed`). Different from the k-shot sample's seed.
    public var seed: UInt64

    public init(learningRate: Float, batchSize: Int, totalSteps: Int, warmupSteps: Int, evaluationPeriod: Int,
                patience: Int? = nil, maximumGradientNorm: Float = 0.1, clipping: ClippingScope = .trainable,
                weightDecay: Float = 0, checkpointPeriod: Int? = nil, seed: UInt64 = 42) {
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.totalSteps = totalSteps
        self.warmupSteps = warmupSteps
        self.evaluationPeriod = evaluationPeriod
        self.patience = patience
        self.maximumGradientNorm = maximumGradientNorm
        self.clipping = clipping
        self.weightDecay = weightDecay
        self.checkpointPeriod = checkpointPeriod
        self.seed = seed
    }

    /// The largest batch accepted: far beyond any few-shot task (a batch is built in memory at once).
    public static let maximumBatchSize = 1 << 20

    /// Throws ``TrainingError/invalidConfiguration(_:)`` naming the first bad key.
    public func validate() throws {
        func bad(_ s: String) -> TrainingError { .invalidConfiguration(s) }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learning_rate must be positive, got \(learningRate)") }
        guard batchSize >= 1, batchSize <= OptimizationSettings.maximumBatchSize else {
            throw bad("batch_size must be in 1...\(OptimizationSettings.maximumBatchSize), got \(batchSize)")
        }
        guard totalSteps >= 1 else { throw bad("total_steps must be at least 1, got \(totalSteps)") }
        guard warmupSteps >= 0, warmupSteps <= totalSteps else { throw bad("warmup_steps must be in 0...total_steps, got \(warmupSteps)") }
        guard evaluationPeriod >= 1 else { throw bad("eval_period must be at least 1, got \(evaluationPeriod)") }
        if let patience { guard patience >= 1 else { throw bad("wait_steps must be at least 1, got \(patience)") } }
        guard maximumGradientNorm > 0 else { throw bad("max_grad_norm must be positive, got \(maximumGradientNorm)") }
        guard weightDecay >= 0 else { throw bad("weight_decay must not be negative, got \(weightDecay)") }
        if let checkpointPeriod { guard checkpointPeriod >= 1 else { throw bad("checkpoint_period must be at least 1") } }
    }

    enum CodingKeys: String, CodingKey {
        case learningRate = "learning_rate", batchSize = "batch_size", totalSteps = "total_steps"
        case warmupSteps = "warmup_steps", evaluationPeriod = "eval_period", patience = "wait_steps"
        case maximumGradientNorm = "max_grad_norm", clipping, weightDecay = "weight_decay"
        case checkpointPeriod = "checkpoint_period", seed
    }
}
