import Foundation
import Testing

@Suite("ipt-cli info and usage errors")
struct InfoCommandTests {
    @Test func infoPrintsBLASAndCPUAsJSON() throws {
        let result = try CLI.run(["info"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let blas = try #require(json["blas"] as? [String: Any])
        #expect((blas["verified"] as? Bool) == true)
        #expect((blas["threads"] as? Int ?? 0) >= 1)
        let cpu = try #require(json["cpu"] as? [String: Any])
        let extensions = try #require(cpu["vectorExtensions"] as? [String])
        // On a CPU with AVX-512, IPTCore must not leave OpenBLAS on its SSE3 "Prescott" kernels.
        if extensions.contains("avx512f") && extensions.contains("avx512bw") {
            #expect((blas["coreName"] as? String)?.lowercased() != "prescott")
        }
    }

    @Test func unknownSubcommandIsAUsageError() throws {
        let result = try CLI.run(["no-such-command"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no-such-command"))
    }

    @Test(arguments: [["--help"], ["help"], ["pretrain", "--help"], ["help", "prompt-tune"]])
    func helpPrintsUsageAndSucceeds(arguments: [String]) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 0, "status \(result.status), stderr: \(result.stderr)")
        #expect((result.stdout + result.stderr).contains("USAGE:"), "\(result.stdout)\(result.stderr)")
        #expect(!result.stderr.contains("CommandError"))
    }
}

@Suite("IPT_BLAS_LIBRARY: another CBLAS library for the GEMMs")
struct BLASLibraryChoiceTests {
    private func blas(_ result: CLIResult) throws -> [String: Any] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(json["blas"] as? [String: Any])
    }

    @Test func aLoadableCBLASLibraryIsUsedAndChecked() throws {
        let path = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipped: \(path) absent (install libopenblas-dev)")
            return
        }
        let result = try CLI.run(["info"], environment: ["IPT_BLAS_LIBRARY": path])
        #expect(result.status == 0, "\(result.stderr)")
        let blas = try blas(result)
        #expect(blas["coreSource"] as? String == "IPT_BLAS_LIBRARY=\(path)")
        #expect(blas["coreName"] as? String == "libopenblas.so.0")
        #expect((blas["verified"] as? Bool) == true)
        #expect(blas["warning"] == nil)
    }

    @Test(arguments: [("/nonexistent/libcblas.so", "cannot be loaded"), ("libm.so.6", "has no cblas_sgemm")])
    func anUnusableLibraryFallsBackToOpenBLASAndSaysWhy(path: String, reason: String) throws {
        let result = try CLI.run(["info"], environment: ["IPT_BLAS_LIBRARY": path])
        #expect(result.status == 0, "\(result.stderr)")
        let blas = try blas(result)
        let warning = try #require(blas["warning"] as? String)
        #expect(warning.hasPrefix("IPT_BLAS_LIBRARY=\(path): \(reason)"), "\(warning)")
        #expect((blas["verified"] as? Bool) == true)
        #expect(blas["coreSource"] as? String != "IPT_BLAS_LIBRARY=\(path)")
    }

    @Test func otherCommandsStopWithOneLineNamingTheVariable() throws {
        let result = try CLI.run(["report", "/nonexistent/run"], environment: ["IPT_BLAS_LIBRARY": "/nonexistent/libcblas.so"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ipt-cli: error: IPT_BLAS_LIBRARY=/nonexistent/libcblas.so: cannot be loaded ("), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
    }
}

@Suite("IPT_NUM_THREADS and IPT_BUFFER_CACHE_MB out of range")
struct EnvironmentRangeTests {
    @Test(arguments: [("IPT_NUM_THREADS", "4611686018427387904", "1...1024"), ("IPT_NUM_THREADS", "two", "1...1024"),
                      ("IPT_NUM_THREADS", "0", "1...1024"), ("IPT_BUFFER_CACHE_MB", "9223372036854775807", "0...1073741824"),
                      ("IPT_BUFFER_CACHE_MB", "-1", "0...1073741824")])
    func aCommandStopsNamingTheVariableAndInfoShowsIt(name: String, value: String, range: String) throws {
        let result = try CLI.run(["report", "/nonexistent/run"], environment: [name: value])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ipt-cli: error: \(name)=\(value): must be an integer in \(range); using "), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        let info = try CLI.run(["info"], environment: [name: value])
        #expect(info.status == 0, "\(info.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let problems = try #require(json["environmentProblems"] as? [String])
        #expect(problems.count == 1 && problems[0].hasPrefix("\(name)=\(value): "), "\(problems)")
        if name == "IPT_NUM_THREADS" {
            #expect(json["workers"] as? Int == ProcessInfo.processInfo.activeProcessorCount, "the fallback is used")
        }
    }

    @Test func aValueWithALineBreakIsQuotedOnOneLineAndAnEmptyOneIsUnset() throws {
        let result = try CLI.run(["report", "/nonexistent/run"], environment: ["IPT_NUM_THREADS": "x\ny"])
        #expect(result.stderr == "ipt-cli: error: IPT_NUM_THREADS=\"x\\ny\": must be an integer in 1...1024; using the \(ProcessInfo.processInfo.activeProcessorCount) online processors\n")
        let empty = try CLI.run(["info"], environment: ["IPT_NUM_THREADS": "", "IPT_BUFFER_CACHE_MB": " 16\n"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(empty.stdout.utf8)) as? [String: Any])
        #expect((json["environmentProblems"] as? [String])?.isEmpty == true, "\(empty.stdout)")
    }

    @Test func anAcceptedValueIsUsed() throws {
        let info = try CLI.run(["info"], environment: ["IPT_NUM_THREADS": "3", "IPT_BUFFER_CACHE_MB": "0"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(json["workers"] as? Int == 3)
        #expect((json["environmentProblems"] as? [String])?.isEmpty == true)
    }
}
