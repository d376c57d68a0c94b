import Foundation
import IPTTestSupport

/// Runs the built `ipt-cli` and captures its exit status and output.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum CLI {
    /// The ipt-cli executable next to the test bundle (same build configuration).
    static var executable: URL {
        var dir = Bundle.main.bundleURL
        // swift-testing runs from the build folder (.build/<triple>/<config>/); find ipt-cli there.
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("ipt-cli")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL.appendingPathComponent("ipt-cli")
    }

    /// Runs `ipt-cli arguments...` with optional extra environment.
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }
}
