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
