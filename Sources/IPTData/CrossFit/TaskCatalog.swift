import Foundation

/// What the data folder's `tasks.json` says about each task: its kind, metric and label set.
///
/// `tasks.json` maps task names to `{"kind": "classification" | "text-to-text",
/// "metric": <CrossFit metric name>, "options": [labels]}`; `options` is the fixed label set of a
/// classification task (needed to classify by scoring each option) and empty otherwise.
public struct TaskCatalog: Sendable {
    /// One task's entry.
    public struct Entry: Hashable, Sendable {
        public var kind: Kind
        public var metric: Metric
        /// The label set of a classification task, in the file's order; empty for text-to-text tasks.
        public var options: [String]

        public init(kind: Kind, metric: Metric, options: [String]) {
            self.kind = kind
            self.metric = metric
            self.options = options
        }
    }

    /// How a task's answers are built.
    public enum Kind: String, Hashable, Sendable {
        /// Answers come from a fixed label set.
        case classification
        /// Free-form answers.
        case textToText = "text-to-text"
    }

    /// Task name -> entry.
    public let entries: [String: Entry]
    /// Where the catalog was read from, for error messages.
    public let source: String

    /// The task names, sorted.
    public var tasks: [String] { entries.keys.sorted() }

    /// - Parameters:
    ///   - entries: task name -> entry.
    ///   - source: where the entries come from, named in errors; default `"task catalog"`.
    public init(entries: [String: Entry], source: String = "task catalog") {
        self.entries = entries
        self.source = source
    }

    /// Reads a `tasks.json` file.
    ///
    /// - Throws: ``DataError`` naming the file and key (missing file, invalid JSON, a missing or
    ///   mistyped field, an unknown kind or metric).
    public static func load(_ url: URL) throws -> TaskCatalog {
        let path = url.path
        var entries: [String: Entry] = [:]
        for (task, value) in try JSONFile.object(at: url) {
            guard let fields = value as? [String: Any] else {
                throw DataError.malformedJSON(path: path, key: task, problem: "expected an object")
            }
            let kindName = try JSONFile.string(fields, "kind", keyPath: "\(task).kind", path: path)
            guard let kind = Kind(rawValue: kindName) else {
                throw DataError.malformedJSON(path: path, key: "\(task).kind",
                                              problem: "unknown kind '\(kindName)' (known: classification, text-to-text)")
            }
            let metricName = try JSONFile.string(fields, "metric", keyPath: "\(task).metric", path: path)
            let metric = try Metric(named: metricName, source: "\(path): key '\(task).metric'")
            let options = try JSONFile.strings(fields, "options", keyPath: "\(task).options", path: path)
            entries[task] = Entry(kind: kind, metric: metric, options: options)
        }
        return TaskCatalog(entries: entries, source: path)
    }

    /// Reads `<dataDirectory>/tasks.json`.
    public static func load(dataDirectory: URL) throws -> TaskCatalog {
        try load(dataDirectory.appendingPathComponent("tasks.json"))
    }

    /// The entry of `task`.
    ///
    /// - Throws: ``DataError/unknownTask(_:source:)``.
    public func entry(for task: String) throws -> Entry {
        guard let entry = entries[task] else { throw DataError.unknownTask(task, source: source) }
        return entry
    }

    /// The metric of `task`.
    ///
    /// - Throws: ``DataError/unknownTask(_:source:)``.
    public func metric(for task: String) throws -> Metric { try entry(for: task).metric }

    /// The label set of `task`; empty for a text-to-text task.
    ///
    /// - Throws: ``DataError/unknownTask(_:source:)``.
    public func options(for task: String) throws -> [String] { try entry(for: task).options }
}
