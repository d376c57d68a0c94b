import Foundation
import IPTCore

/// A set of generated tasks with its split, as the files of a CrossFit-style data folder:
///
///     <task>/<task>_16_<seed>_{train,dev,test}.tsv   lines `input<TAB>answer`
///     tasks.json                                     {task: {"kind", "metric", "options"}}
///     splits/default.json                            {"train", "dev" (= train), "test", "all"}
///     README.md                                      what each task is, sizes, majority baselines
///
/// The bytes depend only on the tasks (no dates, no machine names), so regenerating gives
/// identical files.
public struct TaskSetFiles: Sendable {
    /// The tasks, sorted by name.
    public let tasks: [GeneratedTask]
    /// Tasks whose prompts train the subspace (the split's `train`, also its `dev`).
    public let trainTasks: [String]
    /// Unseen tasks (the split's `test`).
    public let testTasks: [String]
    /// The README's title and opening paragraphs (Markdown): where the tasks come from and how to
    /// regenerate them.
    public let introduction: String

    /// - Parameters:
    ///   - tasks: in any order.
    ///   - trainTasks: seen tasks; with `testTasks`, each task exactly once.
    ///   - testTasks: unseen tasks.
    ///   - introduction: the README's opening (default: a title only).
    public init(tasks: [GeneratedTask], trainTasks: [String], testTasks: [String],
                introduction: String = "# Few-shot tasks\n") {
        precondition(Set(trainTasks).union(testTasks) == Set(tasks.map(\.description.name))
                     && trainTasks.count + testTasks.count == tasks.count,
                     "the split must name every task exactly once")
        self.tasks = tasks.sorted { $0.description.name.utf8.lexicographicallyPrecedes($1.description.name.utf8) }
        self.trainTasks = trainTasks
        self.testTasks = testTasks
        self.introduction = introduction
    }

    /// Every file, as a path relative to the task folder and its UTF-8 contents, in a fixed order.
    public func files() -> [(path: String, contents: String)] {
        var files: [(path: String, contents: String)] = []
        for task in tasks {
            let name = task.description.name
            for draw in task.draws {
                let prefix = "\(name)/\(name)_\(FewShotSampling.shots)_\(draw.seed)"
                files.append(("\(prefix)_train.tsv", Self.tsv(draw.train)))
                files.append(("\(prefix)_dev.tsv", Self.tsv(draw.dev)))
                files.append(("\(prefix)_test.tsv", Self.tsv(task.test)))
            }
        }
        files.append(("tasks.json", tasksJSON()))
        files.append(("splits/default.json", splitJSON()))
        files.append(("README.md", readme()))
        return files
    }

    /// Writes the files into `directory`, replacing it as a whole: they are written to a sibling
    /// folder that then takes the place of `directory` (whose old contents are removed), so no
    /// stale task survives and an interrupted run leaves the old folder intact. The files are not
    /// synced one by one (hundreds of `fsync` calls take seconds); after a power loss the folder
    /// is regenerated, not repaired.
    ///
    /// - Parameter directory: the task folder; if it exists it must be empty or hold a
    ///   `tasks.json` (a previous task set), so that a mistyped path cannot delete other files.
    /// - Throws: `FileWriteError` naming the path.
    public func write(to directory: URL) throws {
        let manager = FileManager.default
        let target = directory.standardizedFileURL
        var isDirectory: ObjCBool = false
        let exists = manager.fileExists(atPath: target.path, isDirectory: &isDirectory)
        if exists {
            let contents = (try? manager.contentsOfDirectory(atPath: target.path)) ?? []
            guard isDirectory.boolValue, contents.isEmpty || contents.contains("tasks.json") else {
                throw FileWriteError(path: target.path, problem: "exists and is not a task folder (no tasks.json); not replacing it")
            }
        }
        try AtomicFile.writeFolder(target) { staging in
            for file in files() {
                let url = staging.appendingPathComponent(file.path)
                do {
                    try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                } catch {
                    throw FileWriteError(path: url.deletingLastPathComponent().path, problem: "cannot create the folder: \((error as NSError).localizedDescription)")
                }
                do {
                    try Data(file.contents.utf8).write(to: url)
                } catch {
                    throw FileWriteError(path: url.path, problem: "cannot write: \((error as NSError).localizedDescription)")
                }
            }
        }
    }

    private static func tsv(_ lines: [TaskLine]) -> String {
        lines.map { $0.tsv + "\n" }.joined()
    }

    /// `tasks.json`, laid out as Python's `json.dump(..., indent=1, sort_keys=True)` (the layout of
    /// CrossFit16's copy).
    func tasksJSON() -> String {
        var out = "{\n"
        for (position, task) in tasks.enumerated() {
            let description = task.description
            out += " \(Self.jsonString(description.name)): {\n"
            out += "  \"kind\": \(Self.jsonString(description.kind.rawValue)),\n"
            out += "  \"metric\": \(Self.jsonString(description.metric)),\n"
            if description.options.isEmpty {
                out += "  \"options\": []\n"
            } else {
                out += "  \"options\": [\n"
                out += description.options.map { "   \(Self.jsonString($0))" }.joined(separator: ",\n")
                out += "\n  ]\n"
            }
            out += position == tasks.count - 1 ? " }\n" : " },\n"
        }
        return out + "}\n"
    }

    /// `splits/default.json`: train, dev (= train, as in the paper), test, all.
    func splitJSON() -> String {
        func list(_ names: [String]) -> String { "[" + names.map(Self.jsonString).joined(separator: ", ") + "]" }
        let all = tasks.map(\.description.name)
        return """
            {
                "train": \(list(trainTasks)),
                "dev": \(list(trainTasks)),
                "test": \(list(testTasks)),
                "all": \(list(all))
            }

            """
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The score of always predicting the most frequent test answer, in the task's metric, or nil
    /// for Rouge-L (partial credit of a constant answer is not a majority baseline).
    ///
    /// ACC and EM: the share of the most frequent answer. Classification-F1 (macro F1 over the
    /// classes present, as CrossFit computes it with scikit-learn): that class has F1 `2p/(p+1)`,
    /// every other class 0.
    public static func majorityBaseline(of task: GeneratedTask) -> Double? {
        var counts: [String: Int] = [:]
        for line in task.test { counts[line.answer, default: 0] += 1 }
        guard let top = counts.values.max(), !task.test.isEmpty else { return nil }
        let share = Double(top) / Double(task.test.count)
        switch task.description.metric {
        case "Classification-F1": return 2 * share / (share + 1) / Double(counts.count)
        case "Rouge-L": return nil
        default: return share
        }
    }

    /// The task folder's README: the tasks, their sources, sizes, majority baselines and the split.
    func readme() -> String {
        var out = introduction + """

            Layout as CrossFit's: `<task>/<task>_16_<seed>_{train,dev,test}.tsv` for the seeds
            \(FewShotSampling.seeds.map(String.init).joined(separator: ", ")), lines `input<TAB>answer`.
            Train and dev hold \(FewShotSampling.shots) examples each in total (classification: balanced
            over the classes); the test set is the same file for every seed and shares no input with any
            seed's train or dev. Test sets of classification tasks are balanced. `tasks.json` gives each
            task's kind, metric and label words; `splits/default.json` the seen (`train`, = `dev`) and
            unseen (`test`) tasks.

            Majority baseline: the test score of always giving the most frequent test answer (for
            Classification-F1, macro F1 over the classes; none for Rouge-L).

            | task | kind | metric | labels | test | majority | split |
            | --- | --- | --- | --- | ---: | ---: | --- |

            """
        let unseen = Set(testTasks)
        for task in tasks {
            let description = task.description
            let labels = description.options.isEmpty ? "—" : description.options.joined(separator: ", ")
            let baseline = Self.majorityBaseline(of: task).map { String(format: "%.3f", $0) } ?? "—"
            out += "| \(description.name) | \(description.kind.rawValue) | \(description.metric) | \(labels) | "
                + "\(task.test.count) | \(baseline) | \(unseen.contains(description.name) ? "unseen" : "seen") |\n"
        }
        out += "\n## Tasks\n"
        for task in tasks {
            let description = task.description
            out += "\n- **\(description.name)**: \(description.summary) Input: `\(description.inputFormat)`.\n"
        }
        return out
    }
}
