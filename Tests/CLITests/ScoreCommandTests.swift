import Foundation
import IPTTestSupport
import Testing

@Suite("ipt-cli score")
struct ScoreCommandTests {
    /// Runs `ipt-cli score` on files written from `predictions` and `references` bytes.
    func score(predictions: [UInt8], references: [UInt8], _ flags: [String]) throws -> (CLIResult, TemporaryDirectory) {
        let dir = try TemporaryDirectory()
        let p = try dir.write("predictions.txt", bytes: predictions)
        let r = try dir.write("references.tsv", bytes: references)
        return (try CLI.run(["score", "--predictions", p.path, "--references", r.path] + flags), dir)
    }

    func json(_ result: CLIResult) throws -> [String: Any] {
        #expect(result.stdout.split(separator: "\n").count == 1)
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func printsOneJSONLine() throws {
        // Classes a, b, c: F1 2/3, 1/2, 0 (scikit-learn: 0.38888888888888884). CRLF and spaces are stripped.
        let (result, _) = try score(predictions: Array("a\r\n b\nb \nc\n".utf8),
                                    references: Array("1\ta\n2\ta\r\n3\tb\n4\tb\tz\n".utf8),
                                    ["--metric", "Classification-F1"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try json(result)
        #expect(output["metric"] as? String == "Classification-F1")
        #expect(output["n"] as? Int == 4)
        #expect(abs((output["score"] as? Double ?? .nan) - 0.38888888888888884) < 1e-12)
    }

    @Test func takesTheMetricFromTheTaskTable() throws {
        // glue-cola is scored by Matthews correlation: all-correct gives 1.
        let (result, _) = try score(predictions: Array("acceptable\nunacceptable\n".utf8),
                                    references: Array("x\tacceptable\ny\tunacceptable\n".utf8), ["--task", "glue-cola"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try json(result)
        #expect(output["metric"] as? String == "Matthew-Correlation")
        #expect(output["score"] as? Double == 1)
    }

    @Test func nanScoreIsNull() throws {
        let (result, _) = try score(predictions: Array("3\n3\n".utf8), references: Array("x\t1\ny\t2\n".utf8),
                                    ["--metric", "Pearson-Correlation"])
        #expect(result.status == 0)
        #expect(try json(result)["score"] is NSNull)
    }

    @Test(SharedData.required) func scoresARealDevFile() throws {
        let references = SharedData.crossfit.appendingPathComponent("glue-rte/glue-rte_16_100_dev.tsv")
        let lines = try String(contentsOf: references, encoding: .utf8).split(separator: "\n")
        let entailed = lines.filter { $0.hasSuffix("\tentailment") }.count
        let dir = try TemporaryDirectory()
        let predictions = try dir.write("p.txt", String(repeating: "entailment\n", count: lines.count))
        let result = try CLI.run(["score", "--task", "glue-rte", "--predictions", predictions.path, "--references", references.path])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try json(result)
        #expect(output["metric"] as? String == "ACC")
        #expect(output["n"] as? Int == lines.count)
        #expect(output["score"] as? Double == Double(entailed) / Double(lines.count))
    }

    @Test func badInputIsOneLineAndExitOne() throws {
        let good = Array("x\ta\ny\tb\n".utf8)
        let cases: [(predictions: [UInt8], references: [UInt8], flags: [String], mentions: String)] = [
            (Array("a\n".utf8), good, ["--metric", "EM"], "1 prediction line(s), but"),
            (Array("a\nb\nc\n".utf8), good, ["--metric", "EM"], "has 2 example(s)"),
            (Array("a\nb\n".utf8), Array("x\ta\nno tab\n".utf8), ["--metric", "EM"], "references.tsv:2: no tab"),
            (Array("a\nb\n".utf8), Array("x\ta\ny\t\tb\n".utf8), ["--metric", "EM"], "references.tsv:2: empty answer"),
            (Array("a\nb\n".utf8), [], ["--metric", "EM"], "references.tsv: no examples"),
            (Array("a\n".utf8) + [0xFF, 0x0A], good, ["--metric", "EM"], "predictions.txt:2: not valid UTF-8"),
            (Array("a\nb".utf8) + [0, 0x0A], good, ["--metric", "EM"], "predictions.txt:2: NUL byte"),
            (Array("a\nb\n".utf8), Array("x\ta\n".utf8) + [0xC3, 0x09, 0x62, 0x0A], ["--metric", "EM"], "references.tsv:2: not valid UTF-8"),
            (Array("a\nb\n".utf8), good, ["--metric", "F1"], "unknown metric 'F1'"),
            (Array("a\nb\n".utf8), good, ["--task", "no-such-task"], "unknown task 'no-such-task'"),
        ]
        for c in cases {
            let (result, _) = try score(predictions: c.predictions, references: c.references, c.flags)
            #expect(result.status == 1, "\(c.mentions): status \(result.status)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("ipt-cli: error: "), "\(result.stderr)")
            #expect(result.stderr.contains(c.mentions), "'\(result.stderr)' should mention '\(c.mentions)'")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func missingFilesAndUsageErrors() throws {
        let dir = try TemporaryDirectory()
        let r = try dir.write("r.tsv", "x\ta\n")
        let absent = dir.url.appendingPathComponent("absent.txt").path
        let missing = try CLI.run(["score", "--metric", "EM", "--predictions", absent, "--references", r.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(absent): no such file"))
        for flags in [[String](), ["--metric", "EM", "--task", "glue-rte"]] {
            let usage = try CLI.run(["score", "--predictions", r.path, "--references", r.path] + flags)
            #expect(usage.status == 2)
            #expect(usage.stderr.contains("exactly one of --metric and --task"))
        }
    }
}
