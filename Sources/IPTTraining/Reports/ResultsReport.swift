import Foundation

/// A method of the paper's tables: a procedure in a subspace of a dimension, on one k-shot sample.
public struct ReportMethod: Hashable, Comparable, Sendable {
    public var procedure: ProcedureKind
    /// "learned", "pca", "random", "fastfood", "adapter"; `nil` for prompt tuning and stage two.
    public var subspace: String?
    public var dimension: Int?
    /// The k-shot sample's seed, when runs of the method on several samples are reported (IST on
    /// seen tasks with the sample the subspace was found with, seed 100, or another, seed 21).
    public var dataSeed: Int?
    /// Fastfood runs: SAID (`true`) or DID (`false`).
    public var structureAware: Bool?

    /// The method's name without its dimension: "PT", "MSF", "IST", "IST (random)", "SAID", ...
    /// (with " seed S" when the sample's seed tells methods apart).
    public var family: String {
        dataSeed.map { "\(kind) seed \($0)" } ?? kind
    }

    /// The family without the seed.
    private var kind: String {
        var name: String
        switch procedure {
        case .promptTuning: name = "PT"
        case .stageTwo: name = "stage two"
        case .subspaceFinding: name = "MSF"
        case .subspaceTuning: name = "IST"
        case .adapterSubspaceFinding: name = "MSF"
        case .adapterSubspaceTuning: name = "IST"
        case .fastfoodTuning: name = structureAware == true ? "SAID" : "DID"
        }
        if let subspace, !["learned", "fastfood"].contains(subspace) { name += " (\(subspace))" }
        return name
    }

    /// `family` with the dimension: "IST d=250".
    public var name: String { dimension.map { "\(family) d=\($0)" } ?? family }

    public static func < (a: ReportMethod, b: ReportMethod) -> Bool {
        func order(_ m: ReportMethod) -> (Int, String, Int, Int) {
            (ProcedureKind.allCases.firstIndex(of: m.procedure) ?? 0, m.kind, m.dataSeed ?? 0, m.dimension ?? 0)
        }
        return order(a) < order(b)
    }
}

/// The paper's tables from finished runs: per task the test score of every method and its ratio to
/// the same task's prompt-tuning test score, and per method the unweighted means over seen and
/// unseen tasks.
///
/// **Relative performance** of a task is `test / PT test` (ipt-reference.md §6: the paper's
/// E_rel^PT, per-task ratio averaged over tasks). It is undefined, and left out of the means, when
/// the task has no prompt-tuning run, either score is missing or not finite, or the PT score is not
/// positive (a ratio to a zero or negative correlation means nothing).
///
/// **Seen tasks** are those the subspace was found on, decided in this order: the task score's own
/// `seen` flag (multi-task results: subspace finding); else the training tasks of the run's own
/// subspace (tune-subspace and tune-adapter-subspace runs: read from the subspace file's metadata,
/// which records the find run's configuration); else, for methods without a found subspace (PT,
/// random subspace, SAID/DID, stage two) or whose subspace file is gone, the union of the training
/// tasks of every subspace-finding run in the report, so that all methods are averaged over the
/// same groups. A task is "unknown" when none of these applies (no find run in the report); it then
/// counts only in the mean over all tasks.
public struct ResultsReport: Sendable {
    /// One task's score under one method.
    public struct Entry: Sendable, Equatable {
        public var task: String
        public var seen: Bool?
        public var metric: String
        public var dev: Double?
        public var test: Double?
        /// The task's prompt-tuning test score.
        public var promptTuningTest: Double?
        /// `test / promptTuningTest`, when defined.
        public var relative: Double?
        /// The run folder.
        public var run: String
    }

    /// Unweighted means over a group of tasks.
    public struct Means: Sendable, Equatable {
        /// Tasks in the group.
        public var tasks: Int
        /// Mean test score over the group's tasks that have one.
        public var test: Double?
        /// Mean relative performance over the group's tasks where it is defined.
        public var relative: Double?
    }

    /// A method's rows and means.
    public struct MethodResults: Sendable {
        public var method: ReportMethod
        /// Trainable parameters per run (the range when runs differ).
        public var trainableParameters: ClosedRange<Int>
        public var entries: [Entry]
        public var seen: Means
        public var unseen: Means
        public var all: Means
        /// Intrinsic vectors by task, where the runs recorded them.
        public var intrinsicVectors: [String: [Float]]
    }

    /// Every method, prompt tuning first.
    public var methods: [MethodResults]
    /// Per task, the score of always predicting the most frequent answer (shown when given).
    public var majorityBaselines: [String: Double] = [:]
    /// The tasks the subspaces in the report were found on (the fallback of the seen rule).
    public var subspaceTrainingTasks: Set<String>

    /// Groups `runs` into methods and computes the relative performance.
    ///
    /// - Throws: ``TrainingError/data(_:)`` when two runs give the same method a score for the
    ///   same task (naming both folders): report them in separate calls.
    public init(runs: [RunRecord]) throws {
        var trainingTasks = Set<String>()
        for run in runs where [.subspaceFinding, .adapterSubspaceFinding].contains(run.result.procedure) {
            trainingTasks.formUnion(run.subspaceTrainingTasks ?? [])
        }
        subspaceTrainingTasks = trainingTasks

        // Methods run on several k-shot samples are told apart by the sample's seed.
        func baseMethod(_ run: RunRecord) -> ReportMethod {
            ReportMethod(procedure: run.result.procedure, subspace: run.result.subspace, dimension: run.result.dimension,
                         dataSeed: nil, structureAware: run.structureAware)
        }
        var seeds: [ReportMethod: Set<Int>] = [:]
        for run in runs { seeds[baseMethod(run), default: []].insert(run.result.dataSeed) }

        var grouped: [ReportMethod: [RunRecord]] = [:]
        for run in runs {
            var method = baseMethod(run)
            if (seeds[method]?.count ?? 0) > 1 { method.dataSeed = run.result.dataSeed }
            grouped[method, default: []].append(run)
        }

        // Prompt tuning's test score per task (the reference of every ratio).
        var promptTuning: [String: Double] = [:]
        var promptTuningRun: [String: String] = [:]
        for run in runs where run.result.procedure == .promptTuning {
            for score in run.result.tasks {
                if let other = promptTuningRun[score.task] {
                    throw TrainingError.data("two prompt-tuning results for task \(score.task): \(other) and \(run.folder.path); report them separately")
                }
                promptTuningRun[score.task] = run.folder.path
                if let test = score.test { promptTuning[score.task] = test }
            }
        }

        var methods: [MethodResults] = []
        for (method, methodRuns) in grouped {
            var entries: [Entry] = []
            var runOfTask: [String: String] = [:]
            var vectors: [String: [Float]] = [:]
            for run in methodRuns.sorted(by: { $0.folder.path < $1.folder.path }) {
                for score in run.result.tasks {
                    if let other = runOfTask[score.task] {
                        throw TrainingError.data("two results of \(method.name) for task \(score.task): \(other) and \(run.folder.path); report them separately")
                    }
                    runOfTask[score.task] = run.folder.path
                    let seen = score.seen ?? run.subspaceTrainingTasks.map { $0.contains(score.task) }
                        ?? (trainingTasks.isEmpty ? nil : trainingTasks.contains(score.task))
                    let reference = promptTuning[score.task]
                    entries.append(Entry(task: score.task, seen: seen, metric: score.metric, dev: score.dev, test: score.test,
                                         promptTuningTest: reference,
                                         relative: ResultsReport.ratio(score.test, to: reference), run: run.folder.path))
                    if let vector = run.result.intrinsicVectors?[score.task] { vectors[score.task] = vector }
                }
            }
            entries.sort { $0.task < $1.task }
            let counts = methodRuns.map(\.result.trainableParameters)
            methods.append(MethodResults(
                method: method, trainableParameters: (counts.min() ?? 0)...(counts.max() ?? 0), entries: entries,
                seen: ResultsReport.means(entries.filter { $0.seen == true }),
                unseen: ResultsReport.means(entries.filter { $0.seen == false }),
                all: ResultsReport.means(entries), intrinsicVectors: vectors))
        }
        self.methods = methods.sorted { $0.method < $1.method }
    }

    /// Reads the runs under `paths` (see ``RunRecord/load(paths:)``) and builds the report.
    public static func load(paths: [String]) throws -> ResultsReport {
        let runs = try RunRecord.load(paths: paths)
        guard !runs.isEmpty else {
            throw TrainingError.data("\(paths.joined(separator: ", ")): no finished runs (no \(RunDirectory.resultsName) found)")
        }
        return try ResultsReport(runs: runs)
    }

    static func ratio(_ score: Double?, to reference: Double?) -> Double? {
        guard let score, let reference, score.isFinite, reference.isFinite, reference > 0 else { return nil }
        return score / reference
    }

    static func means(_ entries: [Entry]) -> Means {
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        return Means(tasks: entries.count, test: mean(entries.compactMap(\.test).filter(\.isFinite)),
                     relative: mean(entries.compactMap(\.relative)))
    }

    /// On how many tasks with a majority baseline the (first) prompt-tuning method's test score is
    /// above it, over all, seen and unseen tasks; nil without prompt tuning or baselines.
    public var promptTuningAboveMajority: (all: (above: Int, tasks: Int), seen: (above: Int, tasks: Int),
                                           unseen: (above: Int, tasks: Int))? {
        guard let promptTuning = methods.first(where: { $0.method.procedure == .promptTuning }) else { return nil }
        var all = (above: 0, tasks: 0), seen = (above: 0, tasks: 0), unseen = (above: 0, tasks: 0)
        for entry in promptTuning.entries {
            guard let test = entry.test, test.isFinite, let baseline = majorityBaselines[entry.task], baseline.isFinite else { continue }
            let above = test > baseline ? 1 : 0
            all = (all.above + above, all.tasks + 1)
            if entry.seen == true { seen = (seen.above + above, seen.tasks + 1) }
            if entry.seen == false { unseen = (unseen.above + above, unseen.tasks + 1) }
        }
        return all.tasks == 0 ? nil : (all, seen, unseen)
    }

    /// Every task of the report, sorted, with its seen flag (from the first method that decides it).
    public var tasks: [(task: String, seen: Bool?, metric: String)] {
        var found: [String: (seen: Bool?, metric: String)] = [:]
        for method in methods {
            for e in method.entries {
                if let existing = found[e.task] {
                    if existing.seen == nil, e.seen != nil { found[e.task]?.seen = e.seen }
                } else {
                    found[e.task] = (e.seen, e.metric)
                }
            }
        }
        return found.keys.sorted().map { ($0, found[$0]!.seen, found[$0]!.metric) }
    }
}

// MARK: - Markdown and CSV

extension ResultsReport {
    /// The summary table (one row per method: parameters, tasks, mean test scores and mean relative
    /// performance over seen, unseen and all tasks) and the per-task table (a column per method:
    /// "test (relative %)"), as Markdown.
    public func markdown() -> String {
        var lines = ["## Relative performance (test score / prompt-tuning test score, unweighted mean over tasks)", ""]
        lines.append("| Method | d | Trainable parameters | Tasks (seen/unseen) | Test, seen | Test, unseen | Relative, seen | Relative, unseen | Relative, all |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for m in methods {
            let range = m.trainableParameters
            let parameters = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)–\(range.upperBound)"
            lines.append("| \(markdownEscaped(m.method.family)) | \(m.method.dimension.map(String.init) ?? "–") | \(parameters) | \(m.all.tasks) (\(m.seen.tasks)/\(m.unseen.tasks)) | \(score(m.seen.test)) | \(score(m.unseen.test)) | \(percent(m.seen.relative)) | \(percent(m.unseen.relative)) | \(percent(m.all.relative)) |")
        }
        if !majorityBaselines.isEmpty {
            func mean(_ seen: Bool?) -> Double? {
                let values = tasks.filter { seen == nil || $0.seen == seen }.compactMap { majorityBaselines[$0.task] }.filter(\.isFinite)
                return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
            }
            lines.append("| Majority class (no training) | – | 0 | \(tasks.count) | \(score(mean(true))) | \(score(mean(false))) | | | |")
            if let count = promptTuningAboveMajority {
                lines += ["", "Prompt tuning scores above the majority class on \(count.all.above) of \(count.all.tasks) tasks "
                          + "(seen \(count.seen.above) of \(count.seen.tasks), unseen \(count.unseen.above) of \(count.unseen.tasks))."]
            }
        }
        lines += ["", "## Per task (test score, and in brackets its ratio to prompt tuning)", ""]
        let columns = (majorityBaselines.isEmpty ? [] : ["Majority"]) + methods.map { markdownEscaped($0.method.name) }
        lines.append("| Task | Seen | Metric | " + columns.joined(separator: " | ") + " |")
        lines.append("|---|---|---|" + String(repeating: "---:|", count: columns.count))
        let lookup = methods.map { Dictionary($0.entries.map { ($0.task, $0) }, uniquingKeysWith: { a, _ in a }) }
        for (task, seen, metric) in tasks {
            var cells = [markdownEscaped(task), seen.map { $0 ? "seen" : "unseen" } ?? "?", metric]
            if !majorityBaselines.isEmpty { cells.append(score(majorityBaselines[task])) }
            for (i, m) in methods.enumerated() {
                guard let e = lookup[i][task] else { cells.append(""); continue }
                cells.append(m.method.procedure == .promptTuning || e.relative == nil
                             ? score(e.test) : "\(score(e.test)) (\(percent(e.relative)))")
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per method and task: `method,procedure,subspace,dimension,data_seed,task,seen,metric,
    /// dev,test,prompt_tuning_test,relative,run` (empty fields where a value does not apply).
    public func csv() -> String {
        var rows = [["method", "procedure", "subspace", "dimension", "data_seed", "task", "seen", "metric", "dev", "test",
                     "prompt_tuning_test", "relative", "run"]]
        for m in methods {
            for e in m.entries {
                rows.append([m.method.name, m.method.procedure.rawValue, m.method.subspace ?? "",
                             m.method.dimension.map(String.init) ?? "", m.method.dataSeed.map(String.init) ?? "", e.task,
                             e.seen.map { $0 ? "true" : "false" } ?? "", e.metric, number(e.dev), number(e.test),
                             number(e.promptTuningTest), number(e.relative), e.run])
            }
        }
        return csvText(rows)
    }

    /// One row per method: `method,procedure,subspace,dimension,data_seed,trainable_parameters,tasks,
    /// seen_tasks,unseen_tasks,test_seen,test_unseen,test_all,relative_seen,relative_unseen,relative_all`.
    public func summaryCSV() -> String {
        var rows = [["method", "procedure", "subspace", "dimension", "data_seed", "trainable_parameters", "tasks", "seen_tasks",
                     "unseen_tasks", "test_seen", "test_unseen", "test_all", "relative_seen", "relative_unseen", "relative_all"]]
        for m in methods {
            let parameters = m.trainableParameters.lowerBound == m.trainableParameters.upperBound
                ? "\(m.trainableParameters.lowerBound)" : "\(m.trainableParameters.lowerBound)-\(m.trainableParameters.upperBound)"
            rows.append([m.method.name, m.method.procedure.rawValue, m.method.subspace ?? "", m.method.dimension.map(String.init) ?? "",
                         m.method.dataSeed.map(String.init) ?? "", parameters, "\(m.all.tasks)", "\(m.seen.tasks)",
                         "\(m.unseen.tasks)", number(m.seen.test), number(m.unseen.test), number(m.all.test),
                         number(m.seen.relative), number(m.unseen.relative), number(m.all.relative)])
        }
        return csvText(rows)
    }

    private func score(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "–" }
        return String(format: "%.4f", x)
    }

    private func percent(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "–" }
        return String(format: "%.1f%%", 100 * x)
    }

    /// Full precision (shortest round-tripping form); empty for missing or non-finite values.
    private func number(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "" }
        return "\(x)"
    }

    private func markdownEscaped(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// RFC 4180 quoting (fields with commas, quotes or line breaks are quoted, quotes doubled),
    /// lines ended by LF.
    private func csvText(_ rows: [[String]]) -> String {
        rows.map { row in
            row.map { field in
                field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
            }.joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }
}
