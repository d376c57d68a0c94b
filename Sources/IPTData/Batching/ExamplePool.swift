/// The examples of one or several tasks pooled into one dataset, each remembering its task, as
/// the original's multi-task loader pools the training examples of every task of a split (tasks
/// are then drawn in proportion to their number of examples).
public struct ExamplePool: Sendable {
    /// The pooled examples, task by task in the given order.
    public let examples: [Example]
    /// The distinct task names, in order of first appearance.
    public let tasks: [String]
    /// Per example the index of its task in ``tasks`` (to look up that task's prompt).
    public let taskIndices: [Int]

    /// Pools `examples` (of any tasks).
    public init(_ examples: [Example]) {
        var tasks: [String] = []
        var index: [String: Int] = [:]
        taskIndices = examples.map { example in
            if let i = index[example.task] { return i }
            index[example.task] = tasks.count
            tasks.append(example.task)
            return tasks.count - 1
        }
        self.examples = examples
        self.tasks = tasks
    }

    /// Pools one part of several tasks, e.g. the training examples of every task of a split.
    ///
    /// - Parameters:
    ///   - tasks: the loaded tasks.
    ///   - part: which part of each; an absent test set contributes nothing.
    public init(_ tasks: [FewShotTask], part: DataPart) {
        self.init(tasks.flatMap { $0.examples(part) })
    }

    public var count: Int { examples.count }
}
