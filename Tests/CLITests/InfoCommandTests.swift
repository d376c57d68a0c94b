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
