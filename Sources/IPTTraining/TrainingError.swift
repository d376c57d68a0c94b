/// Why a training procedure could not run or continue. Descriptions are one line.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A configuration value is out of range (names the key).
    case invalidConfiguration(String)
    /// A checkpoint, artifact or unfinished run does not fit the model or configuration (the
    /// description names the file and what differs).
    case checkpointMismatch(String)
    /// The loss or a gradient became NaN or infinite at a step.
    case nonFiniteLoss(step: Int, detail: String)
    /// The output folder cannot be used (holds a finished run, locked by another run, ...).
    case outputFolder(String)
    /// Input data is unusable (no examples, unknown task, ...).
    case data(String)
    /// A file is not in the format it should be (a PEFT adapter folder, a results.json, ...); names the file.
    case fileFormat(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let s): return "invalid configuration: \(s)"
        case .checkpointMismatch(let s): return s
        case .nonFiniteLoss(let step, let detail): return "training diverged at step \(step): \(detail); the best artifacts so far are kept"
        case .outputFolder(let s): return s
        case .data(let s): return s
        case .fileFormat(let s): return s
        }
    }
}
