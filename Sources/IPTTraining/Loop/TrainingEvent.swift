/// What a running procedure reports. The library prints nothing; callers (the CLI, an
/// experimenter's dashboard) receive these through a ``ProgressHandler``.
public enum TrainingEvent: Sendable, Codable {
    /// An optimisation step finished.
    case step(StepReport)
    /// A dev-set evaluation finished.
    case evaluation(EvaluationReport)
    /// A checkpoint was written.
    case checkpoint(step: Int, path: String)
    /// A phase of a multi-part procedure began (a grid point, a task, stage two).
    case phase(String)
}

/// One optimisation step.
public struct StepReport: Sendable, Codable, Equatable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var learningRate: Double
    /// Gradient norm before clipping.
    public var gradientNorm: Double
    /// Recent throughput.
    public var stepsPerSecond: Double
    /// Estimated seconds until `totalSteps`.
    public var secondsRemaining: Double
}

/// One dev-set evaluation.
public struct EvaluationReport: Sendable, Codable, Equatable {
    public var step: Int
    public var score: Double
    public var bestScore: Double
    public var bestStep: Int
    public var isBest: Bool
}

/// What the caller wants after an event.
public enum TrainingControl: Sendable {
    /// Go on.
    case proceed
    /// Write a checkpoint and stop; the procedure returns its result so far, marked interrupted.
    case stop
}

/// Receives progress events; returning ``TrainingControl/stop`` ends the run early (after a checkpoint).
public typealias ProgressHandler = (TrainingEvent) -> TrainingControl
