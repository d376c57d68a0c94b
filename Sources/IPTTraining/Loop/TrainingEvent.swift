/// What a running procedure reports. The library prints nothing; callers (the CLI, an
/// experimenter's dashboard) receive these through a ``ProgressHandler``.
///
/// As JSON (one line per event in a run's `events.jsonl`) an event is a flat object with an
/// `event` field: `{"event": "step", "step": 10, "loss": ...}`, `{"event": "evaluation", ...}`,
/// `{"event": "checkpoint", "step": 10, "path": ...}`, `{"event": "phase", "name": ...}`.
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

extension TrainingEvent {
    private enum Kind: String, Codable { case step, evaluation, checkpoint, phase }
    private enum Keys: String, CodingKey { case event, step, path, name }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        switch try container.decode(Kind.self, forKey: .event) {
        case .step: self = .step(try StepReport(from: decoder))
        case .evaluation: self = .evaluation(try EvaluationReport(from: decoder))
        case .checkpoint:
            self = .checkpoint(step: try container.decode(Int.self, forKey: .step), path: try container.decode(String.self, forKey: .path))
        case .phase: self = .phase(try container.decode(String.self, forKey: .name))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .step(let r):
            try container.encode(Kind.step, forKey: .event)
            try r.encode(to: encoder)
        case .evaluation(let e):
            try container.encode(Kind.evaluation, forKey: .event)
            try e.encode(to: encoder)
        case .checkpoint(let step, let path):
            try container.encode(Kind.checkpoint, forKey: .event)
            try container.encode(step, forKey: .step)
            try container.encode(path, forKey: .path)
        case .phase(let name):
            try container.encode(Kind.phase, forKey: .event)
            try container.encode(name, forKey: .name)
        }
    }
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

    public init(step: Int, totalSteps: Int, loss: Double, learningRate: Double, gradientNorm: Double,
                stepsPerSecond: Double, secondsRemaining: Double) {
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.stepsPerSecond = stepsPerSecond
        self.secondsRemaining = secondsRemaining
    }
}

/// One dev-set evaluation.
public struct EvaluationReport: Sendable, Codable, Equatable {
    public var step: Int
    public var score: Double
    public var bestScore: Double
    public var bestStep: Int
    public var isBest: Bool

    public init(step: Int, score: Double, bestScore: Double, bestStep: Int, isBest: Bool) {
        self.step = step
        self.score = score
        self.bestScore = bestScore
        self.bestStep = bestStep
        self.isBest = isBest
    }
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
