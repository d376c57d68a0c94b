import Foundation

/// A problem with data read from outside: a CrossFit TSV file, `tasks.json`, a task-split file, a
/// predictions file, or a name that is not known.
///
/// Every description is one line that names the file (and the line or key) and the problem, for
/// example `glue-rte/glue-rte_16_100_dev.tsv:7: no tab between input and answer`.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file or folder could not be read (absent, a folder where a file is expected, no permission).
    case unreadable(path: String, reason: String)
    /// A line of a text file is not valid UTF-8.
    case invalidUTF8(path: String, line: Int)
    /// A line of a text file holds a NUL byte.
    case nulByte(path: String, line: Int)
    /// A TSV line is not `input<TAB>answer[<TAB>answer...]`.
    case malformedLine(path: String, line: Int, problem: String)
    /// A file that must hold examples holds none.
    case emptyFile(path: String)
    /// A JSON file does not parse or does not have the expected structure (`key` is a dotted path).
    case malformedJSON(path: String, key: String?, problem: String)
    /// No few-shot sample of `task` with this seed (and number of shots) in the data folder.
    case missingSample(task: String, shots: Int?, seed: Int, directory: String, available: [String])
    /// The task has samples of several sizes with this seed; the number of shots must be given.
    case ambiguousSample(task: String, seed: Int, shots: [Int], directory: String)
    /// An expected file is absent (e.g. the dev file of a sample, a split file).
    case missingFile(path: String)
    /// A task name that the data folder, catalog or metric table does not know.
    case unknownTask(String, source: String)
    /// A metric name that is not one of CrossFit's.
    case unknownMetric(String, source: String)
    /// A task split names tasks that are absent from the data folder.
    case missingTasks(path: String, tasks: [String])
    /// Predictions and references do not pair up.
    case countMismatch(predictionsPath: String, predictions: Int, referencesPath: String, references: Int)
    /// A saved batch cursor does not fit the batch schedule it is resumed with.
    case invalidCursor(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .invalidUTF8(path, line):
            return "\(path):\(line): not valid UTF-8"
        case let .nulByte(path, line):
            return "\(path):\(line): NUL byte in text"
        case let .malformedLine(path, line, problem):
            return "\(path):\(line): \(problem)"
        case let .emptyFile(path):
            return "\(path): no examples (empty file)"
        case let .malformedJSON(path, key, problem):
            if let key { return "\(path): key '\(key)': \(problem)" }
            return "\(path): \(problem)"
        case let .missingSample(task, shots, seed, directory, available):
            let sample = shots.map { "\(task)_\($0)_\(seed)" } ?? "\(task) with seed \(seed)"
            let known = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(directory): no few-shot sample \(sample) (samples present: \(known))"
        case let .ambiguousSample(task, seed, shots, directory):
            let sizes = shots.map(String.init).joined(separator: ", ")
            return "\(directory): task \(task) has samples of several sizes with seed \(seed) (k = \(sizes)); give the number of shots"
        case let .missingFile(path):
            return "\(path): no such file"
        case let .unknownTask(name, source):
            return "\(source): unknown task '\(name)'"
        case let .unknownMetric(name, source):
            let known = Metric.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(source): unknown metric '\(name)' (known: \(known))"
        case let .missingTasks(path, tasks):
            return "\(path): \(tasks.count) task(s) absent from the data folder: \(tasks.joined(separator: ", "))"
        case let .countMismatch(predictionsPath, predictions, referencesPath, references):
            return "\(predictionsPath): \(predictions) prediction line(s), but \(referencesPath) has \(references) example(s)"
        case let .invalidCursor(problem):
            return "batch cursor: \(problem)"
        }
    }
}
