import ArgumentParser
import Foundation
import IPTTraining

/// The one-line summary a command prints to stdout for a finished run.
enum Summary {
    static func print(_ result: ProcedureResult, folder: String) throws {
        var parts = ["\(result.procedure.rawValue)"]
        if let subspace = result.subspace { parts.append("subspace=\(subspace)") }
        if let d = result.dimension { parts.append("d=\(d)") }
        if result.tasks.count == 1, let t = result.tasks.first {
            parts.append("task=\(t.task)")
            parts.append("dev=\(format(t.dev))")
            parts.append("test=\(format(t.test))")
        } else {
            parts.append("tasks=\(result.tasks.count)")
            parts.append("mean_test=\(format(result.meanTest))")
        }
        if result.interrupted { parts.append("interrupted at step \(result.lastStep) (resume with --resume)") }
        parts.append("output=\(folder)")
        Swift.print(parts.joined(separator: " "))
    }

    static func format(_ x: Double?) -> String {
        guard let x else { return "n/a" }
        return String(format: "%.4f", x)
    }
}

/// Runs a procedure in its output folder with progress shown and events logged; prints the
/// summary line; exits 130/143 when interrupted (also when the signal came before this run, for
/// instance while an earlier task of the command was being tested); on failure removes what an
/// unstarted run wrote.
func runProcedure(in path: String, mode: RunDirectory.Mode, label: String,
                  _ body: (RunDirectory, @escaping ProgressHandler) throws -> ProcedureResult) throws {
    Interruption.install()
    if Interruption.signal != nil { throw ExitCode(Interruption.exitCode) }
    let folder = try RunDirectory(path: path, mode: mode)
    let reporter = ProgressReporter(run: folder, label: label)
    let result: ProcedureResult
    do {
        result = try body(folder, reporter.handler)
    } catch {
        reporter.finish()
        folder.discardIfUnstarted()
        throw error
    }
    reporter.finish()
    try Summary.print(result, folder: path)
    if result.interrupted { throw ExitCode(Interruption.exitCode) }
}
