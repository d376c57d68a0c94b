/// The names of the procedures, as written into results and artifacts.
public enum ProcedureKind: String, Codable, Sendable, CaseIterable {
    case promptTuning = "prompt-tuning"
    case subspaceFinding = "subspace-finding"
    case subspaceTuning = "subspace-tuning"
    case fastfoodTuning = "fastfood-tuning"
    case adapterSubspaceFinding = "adapter-subspace-finding"
    case adapterSubspaceTuning = "adapter-subspace-tuning"
    case stageTwo = "stage-two"
}

/// One task's scores in a run.
public struct TaskScore: Codable, Sendable, Equatable {
    public var task: String
    public var metric: String
    /// The best dev score (the selection criterion).
    public var dev: Double?
    /// The test score of the state selected on dev; `nil` when the task has no test file.
    public var test: Double?
    /// For multi-task procedures: whether the task was among those the subspace was found on.
    public var seen: Bool?

    public init(task: String, metric: String, dev: Double?, test: Double?, seen: Bool? = nil) {
        self.task = task
        self.metric = metric
        self.dev = dev
        self.test = test
        self.seen = seen
    }
}

/// What every procedure writes to `results.json` (fields that do not apply are absent).
public struct ProcedureResult: Codable, Sendable, Equatable {
    public var procedure: ProcedureKind
    /// What was tuned in the subspace: "learned", "random", "pca" (prompt subspaces), "fastfood",
    /// "adapter"; absent for prompt tuning.
    public var subspace: String?
    /// d, for subspace procedures.
    public var dimension: Int?
    /// Scalars trained.
    public var trainableParameters: Int
    /// Per task: dev and test scores (one entry for single-task procedures).
    public var tasks: [TaskScore]
    /// The k-shot sample's seed.
    public var dataSeed: Int
    public var bestStep: Int
    public var lastStep: Int
    public var stoppedEarly: Bool
    public var interrupted: Bool
    public var evaluations: [EvaluationReport]
    /// Grid points, for prompt tuning over learning rates x batch sizes.
    public var grid: [GridPoint]?
    public var seconds: Double
    public var baseModel: ModelIdentity
    /// Intrinsic vectors per task (subspace finding: the encoder's z of each task's prompt;
    /// subspace tuning: the tuned z), for the task map.
    public var intrinsicVectors: [String: [Float]]?

    public init(procedure: ProcedureKind, subspace: String? = nil, dimension: Int? = nil, trainableParameters: Int,
                tasks: [TaskScore], dataSeed: Int, bestStep: Int, lastStep: Int, stoppedEarly: Bool, interrupted: Bool,
                evaluations: [EvaluationReport], grid: [GridPoint]? = nil, seconds: Double, baseModel: ModelIdentity) {
        self.procedure = procedure
        self.subspace = subspace
        self.dimension = dimension
        self.trainableParameters = trainableParameters
        self.tasks = tasks
        self.dataSeed = dataSeed
        self.bestStep = bestStep
        self.lastStep = lastStep
        self.stoppedEarly = stoppedEarly
        self.interrupted = interrupted
        self.evaluations = evaluations
        self.grid = grid
        self.seconds = seconds
        self.baseModel = baseModel
    }

    /// The unweighted mean of the tasks' test scores (NaN-free tasks only); `nil` when none has one.
    public var meanTest: Double? {
        let scores = tasks.compactMap(\.test).filter { $0.isFinite }
        return scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count)
    }
}

/// One point of a learning-rate x batch-size grid.
public struct GridPoint: Codable, Sendable, Equatable {
    public var learningRate: Float
    public var batchSize: Int
    public var dev: Double
    public var test: Double?
    /// The point's run folder, relative to the grid's.
    public var folder: String
}
