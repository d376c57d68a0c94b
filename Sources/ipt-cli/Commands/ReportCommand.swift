import ArgumentParser
import Foundation
import IPTCore
import IPTTraining

/// `ipt-cli report`: the paper's tables and plots from finished run folders.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Tables of test scores relative to prompt tuning, a plot against the intrinsic dimension, and a task map.",
        discussion: """
        Reads every finished run (results.json) under the given folders: a folder with results.json is one run (its \
        subfolders are grid points), others are searched recursively. Per task, each method's test score is divided by \
        the task's prompt-tuning test score; the means are unweighted over seen tasks (those the subspace was found on), \
        unseen tasks and all tasks. Prints the Markdown tables; with --output also writes report.md, report.csv (one row \
        per method and task), summary.csv (one row per method), relative-performance.svg and task-map.svg.
        """)

    @Argument(help: "Run folders (searched recursively) or results.json files.") var runs: [String] = []
    @Option(name: .long, help: "Folder for report.md, report.csv, summary.csv and the SVG plots.") var output: String?
    @Option(name: .long, help: "The method whose intrinsic vectors the task map shows, as named in the tables (e.g. \"IST d=250\"); default: IST in a learned subspace, the dimension with the most tasks.")
    var map: String?

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give one or more run folders") }
    }

    func run() throws {
        let report = try ResultsReport.load(paths: runs)
        let taskMap = try TaskMap(report: report, method: map)
        if let output {
            let folder = URL(fileURLWithPath: output)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw CLIError("\(output): cannot create the output folder")
            }
            let files: [(String, String)] = [
                ("report.md", report.markdown()), ("report.csv", report.csv()), ("summary.csv", report.summaryCSV()),
                ("relative-performance.svg", RelativePerformancePlot(report: report).svg()),
                ("task-map.svg", taskMap?.svg() ?? TaskMap.emptySVG()),
            ]
            for (name, text) in files { try AtomicFile.write(text, to: folder.appendingPathComponent(name).path) }
        }
        print(report.markdown(), terminator: "")
    }
}
