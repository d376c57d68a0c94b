import ArgumentParser
import Foundation
import IPTCore

/// `ipt-cli info`: the BLAS library, its kernels and threads, the CPU's vector extensions and what
/// is wrong with the `IPT_` environment variables (the one command that runs despite it), as JSON.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the BLAS library, its CPU kernels and threads, and the CPU's vector extensions (JSON).")

    func run() throws {
        struct Report: Encodable {
            let version: String
            let blas: BLAS.Info
            let cpu: CPUFeatures
            let workers: Int
            let environmentProblems: [String]
        }
        let report = Report(version: IPTVersion.string, blas: BLAS.info, cpu: CPUFeatures.current, workers: Parallel.workers,
                            environmentProblems: IPTEnvironment.problems)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
