import Foundation

/// What to do with tasks that a split names but the data folder lacks.
public enum MissingTaskPolicy: String, Sendable {
    /// Throw ``DataError/missingTasks(path:tasks:)`` listing them.
    case fail
    /// Keep only the present tasks and list the absent ones in ``TaskSplit/missingTasks``. The
    /// paper's splits name tasks that a partial copy of the data (such as crossfit16) lacks.
    case skip
}

/// A task split of the paper (`dataloader/custom_tasks_splits/*.json`):
/// `{"train": [...], "dev": [...], "test": [...]}`, checked against a data folder.
///
/// `train` holds the tasks whose prompts train the subspace, `dev` those that select it, `test`
/// the unseen tasks (empty in some splits). Other keys (such as `"all"`) are ignored. Task
/// order is the file's (the original's multi-task loader sorts the training tasks; sort to
/// mirror it).
public struct TaskSplit: Hashable, Sendable {
    /// The split's training tasks present in the data folder.
    public let train: [String]
    /// The split's dev tasks present in the data folder.
    public let dev: [String]
    /// The split's test tasks present in the data folder.
    public let test: [String]
    /// Tasks named in any list but absent from the data folder, sorted; empty under `.fail`.
    public let missingTasks: [String]

    /// The tasks of `part`.
    public func tasks(_ part: DataPart) -> [String] {
        switch part {
        case .train: return train
        case .dev: return dev
        case .test: return test
        }
    }

    /// Reads a split file and checks its tasks against the tasks of a data folder.
    ///
    /// - Parameters:
    ///   - url: the split's JSON file.
    ///   - availableTasks: the tasks of the data folder (``CrossFitDirectory/tasks``).
    ///   - missingTasks: what to do with absent tasks; no default, so that every caller decides.
    /// - Throws: ``DataError``: a missing or malformed file (naming the key), or under `.fail`
    ///   the list of absent tasks.
    public static func load(_ url: URL, availableTasks: [String], missingTasks policy: MissingTaskPolicy) throws -> TaskSplit {
        let object = try JSONFile.object(at: url)
        let lists = try DataPart.allCases.map { part in
            try JSONFile.strings(object, part.rawValue, keyPath: part.rawValue, path: url.path)
        }
        let available = Set(availableTasks)
        let missing = Set(lists.joined().filter { !available.contains($0) }).sorted()
        if policy == .fail && !missing.isEmpty {
            throw DataError.missingTasks(path: url.path, tasks: missing)
        }
        let present = lists.map { $0.filter(available.contains) }
        return TaskSplit(train: present[0], dev: present[1], test: present[2], missingTasks: missing)
    }

    /// Reads a split file and checks its tasks against `directory`.
    ///
    /// - Parameters:
    ///   - url: the split's JSON file.
    ///   - directory: the data folder.
    ///   - missingTasks: what to do with tasks absent from `directory`.
    public static func load(_ url: URL, directory: CrossFitDirectory, missingTasks policy: MissingTaskPolicy) throws -> TaskSplit {
        try load(url, availableTasks: directory.tasks, missingTasks: policy)
    }
}
