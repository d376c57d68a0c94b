import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `ipt-cli demo`: the paper's pipeline on the embedded model and the built-in tasks.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the paper's pipeline on the embedded model and the built-in tasks, and print its table.",
        discussion: """
        Prompt tuning on every built-in task, a 5-dimensional subspace found from the seen tasks' prompts, intrinsic \
        subspace tuning on the unseen tasks (learned subspace, random subspace, Fastfood), stage two; then the \
        paper's table (absolute scores, majority baselines, performance relative to prompt tuning, seen and unseen) \
        and an SVG plot. About 10 minutes on two cores; --quick (8 seen and 4 unseen classification tasks, fewer \
        steps) about 2 minutes; --seen-tuning adds tuning in the learned subspace on the seen tasks with another \
        k-shot sample. \
        The embedded model is small and pretrained here: see Docs/embedded-model.md.
        """)

    @Option(name: .long, help: "Output folder (default runs/demo).") var output: String = "runs/demo"
    @Flag(name: .long, help: "A shorter run on 8 seen and 4 unseen classification tasks (about 2 minutes).") var quick = false
    @Option(name: .long, help: "Model folder (default: Resources/model of this repository).") var model: String?
    @Option(name: .long, help: "Task folder with tasks.json and splits/default.json (default: Resources/tasks).") var tasks: String?
    @Option(name: .long, help: "Tasks tuned at once, each on its own copy of the model and one thread (default: the number of cores, at most 4).")
    var workers: Int?
    @Flag(name: .long, help: "Also tune in the learned subspace on the seen tasks with another k-shot sample (seed 21).")
    var seenTuning = false
    @Flag(name: .long, help: "Continue a stopped demo.") var resume = false
    @Flag(name: .long, help: "Replace an earlier demo in the output folder.") var overwrite = false

    func validate() throws {
        if resume && overwrite { throw ValidationError("give --resume or --overwrite, not both") }
    }

    func run() throws {
        try FlagValue.atLeast(1, workers, "--workers")
        let modelFolder = try model ?? EmbeddedDefault.locate("Resources/model", marker: "config.json")
        let taskFolder = try tasks ?? EmbeddedDefault.locate("Resources/tasks", marker: "tasks.json")
        let outputURL = URL(fileURLWithPath: output)
        let dataURL = URL(fileURLWithPath: taskFolder)
        let split = try TaskSplit.load(dataURL.appendingPathComponent("splits/default.json"),
                                       directory: try CrossFitDirectory(dataURL), missingTasks: .fail)
        var seenTasks = split.train
        var unseenTasks = split.test
        if quick {
            // The quick run: the first 8 seen and 4 unseen classification tasks (option scoring is fast).
            let catalog = try TaskCatalog.load(dataDirectory: dataURL)
            func classification(_ tasks: [String], _ count: Int) throws -> [String] {
                Array(try tasks.filter { try catalog.entry(for: $0).kind == .classification }.prefix(count))
            }
            seenTasks = try classification(seenTasks, 8)
            unseenTasks = try classification(unseenTasks, 4)
        }
        let (backbone, tokenizer, identity) = try ModelOptions.load(modelFolder)
        let workerCount = workers ?? min(4, ProcessInfo.processInfo.activeProcessorCount)
        var models: [any Backbone] = [backbone]
        while models.count < workerCount { models.append(try ModelOptions.load(modelFolder).model) }
        // The demo's matrices are small: one thread per task keeps the cores busier than several
        // threads on one task (an explicit IPT_NUM_THREADS is respected).
        if workerCount > 1 && ProcessInfo.processInfo.environment["IPT_NUM_THREADS"] == nil {
            Parallel.setWorkerCount(1)
        }
        let configuration = PipelineConfiguration.demo(quick: quick, seenTuning: seenTuning)
        let pipeline = try PaperPipeline(models: models, tokenizer: tokenizer, identity: identity, dataDirectory: dataURL,
                                         trainTasks: seenTasks, unseenTasks: unseenTasks, configuration: configuration)
        // Taken once the inputs are read, held until the demo ends: a second demo into the same
        // folder (or its --overwrite) is refused while this one writes there.
        let lock = try RunDirectory(path: output, mode: .resume)
        defer { lock.release() }
        do {
            try prepare(outputURL)
        } catch {
            lock.discardIfUnstarted()
            throw error
        }
        let started = Date()
        let reporter = ProgressReporter(run: nil, label: "demo")
        FileHandle.standardError.write(Data("""
            demo: \(seenTasks.count) seen and \(unseenTasks.count) unseen tasks, model \(modelFolder) \
            (\(identity.parameterCount) parameters), \(workerCount) at a time, output \(output)\n
            """.utf8))
        let stages = try pipeline.run(output: outputURL, resume: resume, progress: reporter.pipelineHandler)
        reporter.finish()
        if stages.contains(where: \.result.interrupted) || Interruption.signal != nil {
            FileHandle.standardError.write(Data("demo: stopped; continue with --resume\n".utf8))
            throw ExitCode(Interruption.exitCode)
        }
        var report = try ResultsReport.load(paths: [output])
        for task in seenTasks + unseenTasks {
            let setup = try TaskSetup.load(dataDirectory: dataURL, task: task, seed: configuration.dataSeed)
            if let test = setup.task.test {
                report.majorityBaselines[task] = setup.metric.majorityBaseline(references: test.map(\.answers))
            }
        }
        let markdown = report.markdown()
        try AtomicFile.write(markdown, to: outputURL.appendingPathComponent("report.md").path)
        try AtomicFile.write(report.csv(), to: outputURL.appendingPathComponent("report.csv").path)
        try AtomicFile.write(RelativePerformancePlot(report: report).svg(),
                             to: outputURL.appendingPathComponent("relative-performance.svg").path)
        print(markdown)
        let minutes = Date().timeIntervalSince(started) / 60
        print(String(format: "demo finished in %.1f minutes; report in %@/report.md", minutes, output))
    }

    /// Refuses to mix a new demo into an earlier one unless asked.
    private func prepare(_ url: URL) throws {
        let fm = FileManager.default
        let existing = ((try? fm.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0 != RunDirectory.lockName }
        guard !existing.isEmpty else { return }
        if overwrite {
            for stage in ["prompts", "subspace", "learned", "random", "fastfood", "stage-two", "learned-seen",
                          "report.md", "report.csv", "relative-performance.svg"] {
                let entry = url.appendingPathComponent(stage)
                guard fm.fileExists(atPath: entry.path) else { continue }
                do { try fm.removeItem(at: entry) } catch {
                    throw CLIError("\(entry.path): cannot remove for --overwrite (\((error as NSError).localizedDescription))")
                }
            }
        } else if !resume {
            throw CLIError("\(url.path): holds an earlier demo; pass --resume to continue it or --overwrite to start again")
        }
    }
}

/// Finds the embedded default's files: in the current folder or above it, or next to the
/// executable (`.build/<configuration>/ipt-cli` lives three levels below the repository).
enum EmbeddedDefault {
    static func locate(_ relative: String, marker: String) throws -> String {
        let fm = FileManager.default
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: fm.currentDirectoryPath)
        for _ in 0..<4 { candidates.append(dir); dir = dir.deletingLastPathComponent() }
        var exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 { candidates.append(exe); exe = exe.deletingLastPathComponent() }
        for base in candidates {
            let folder = base.appendingPathComponent(relative)
            if fm.fileExists(atPath: folder.appendingPathComponent(marker).path) { return folder.path }
        }
        throw CLIError("cannot find \(relative) (run from the repository, or give its path)")
    }
}
