import Foundation
import IPTTestSupport
import Testing

/// `ipt-cli report` on results.json files written by the test (no shared data needed).
@Suite("ipt-cli report")
struct ReportCommandTests {
    /// Writes a minimal results.json of `procedure` with `(task, test, seen)` scores.
    func write(_ folder: String, in root: TemporaryDirectory, procedure: String, subspace: String? = nil, dimension: Int? = nil,
               tasks: [(String, Double, Bool?)], vectors: [String: [Double]]? = nil) throws {
        var result: [String: Any] = [
            "procedure": procedure, "trainableParameters": dimension ?? 400, "dataSeed": 100, "bestStep": 1, "lastStep": 1,
            "stoppedEarly": false, "interrupted": false, "evaluations": [], "seconds": 1.0,
            "baseModel": ["name": "m", "fingerprint": "f", "parameterCount": 1, "hiddenSize": 4],
            "tasks": tasks.map { t -> [String: Any] in
                var score: [String: Any] = ["task": t.0, "metric": "ACC", "dev": 0.5, "test": t.1]
                if let seen = t.2 { score["seen"] = seen }
                return score
            },
        ]
        result["subspace"] = subspace
        result["dimension"] = dimension
        result["intrinsicVectors"] = vectors
        try root.write(folder + "/results.json", bytes: Array(try JSONSerialization.data(withJSONObject: result)))
    }

    @Test func writesTablesAndPlots() throws {
        let root = try TemporaryDirectory()
        for (task, score) in [("a", 0.8), ("b", 0.4), ("c", 0.5)] {
            try write("runs/pt/\(task)", in: root, procedure: "prompt-tuning", tasks: [(task, score, nil)])
        }
        try write("runs/msf", in: root, procedure: "subspace-finding", subspace: "learned", dimension: 3,
                  tasks: [("a", 0.6, true), ("b", 0.4, true), ("c", 0.1, false)],
                  vectors: ["a": [1, 0, 0], "b": [0, 1, 0], "c": [0, 0, 1]])
        let output = root.url.appendingPathComponent("report")
        let result = try CLI.run(["report", root.url.appendingPathComponent("runs").path, "--output", output.path])
        Check.succeeds(result)
        #expect(result.stdout.contains("| MSF | 3 | 3 | 3 (2/1) | 0.5000 | 0.1000 | 87.5% | 20.0% | 65.0% |"), "\(result.stdout)")
        #expect(result.stdout == (try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)))
        let rows = try Check.csv(output.appendingPathComponent("report.csv"))
        #expect(rows.count == 6)
        let c = try #require(rows.first { $0["method"] == "MSF d=3" && $0["task"] == "c" })
        #expect(c["seen"] == "false" && Double(c["relative"] ?? "") == 0.2 && Double(c["prompt_tuning_test"] ?? "") == 0.5)
        let summary = try Check.csv(output.appendingPathComponent("summary.csv"))
        #expect(summary.map { $0["method"] } == ["PT", "MSF d=3"])
        for name in ["relative-performance.svg", "task-map.svg"] { try Check.wellFormedSVG(output.appendingPathComponent(name)) }
        let map = try String(contentsOf: output.appendingPathComponent("task-map.svg"), encoding: .utf8)
        #expect(map.contains("intrinsic vectors of MSF d=3") && map.contains(">c</text>"))

        // Another map method, and one the report lacks.
        Check.fails(try CLI.run(["report", root.url.path, "--map", "IST d=7"]), status: 1, mentioning: "no method IST d=7")
    }

    @Test func badInput() throws {
        let root = try TemporaryDirectory()
        Check.fails(try CLI.run(["report", root.url.path]), status: 1, mentioning: "no finished runs")
        let missing = root.url.appendingPathComponent("absent").path
        Check.fails(try CLI.run(["report", missing]), status: 1, mentioning: "\(missing): no such file or folder")
        try root.write("bad/results.json", "[1, 2]")
        Check.fails(try CLI.run(["report", root.url.path]), status: 1, mentioning: "bad/results.json: not a results file")
        Check.fails(try CLI.run(["report"]), status: 2, mentioning: "give one or more run folders")
        Check.fails(try CLI.run(["report", root.url.path, "--outputs", "x"]), status: 2, mentioning: "--outputs")
    }
}
