import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import IPTCore
import IPTTestSupport
import IPTTraining
import Testing

/// Run folders written by hand (results.json, config.json, a subspace file's metadata) and the
/// report built from them. Needs no shared data.
@Suite("Reports")
struct ReportTests {
    static let identity = ModelIdentity(name: "m", fingerprint: "f", parameterCount: 10, hiddenSize: 4)

    static func result(_ procedure: ProcedureKind, subspace: String? = nil, dimension: Int? = nil, seed: Int = 100,
                       parameters: Int = 8, _ tasks: [(String, Double?, Bool?)], vectors: [String: [Float]]? = nil,
                       interrupted: Bool = false) -> ProcedureResult {
        var r = ProcedureResult(procedure: procedure, subspace: subspace, dimension: dimension, trainableParameters: parameters,
                                tasks: tasks.map { TaskScore(task: $0.0, metric: "ACC", dev: 0.5, test: $0.1, seen: $0.2) },
                                dataSeed: seed, bestStep: 1, lastStep: 2, stoppedEarly: false, interrupted: interrupted,
                                evaluations: [], seconds: 1, baseModel: identity)
        r.intrinsicVectors = vectors
        return r
    }

    /// Writes `results.json` (and `config.json` from `configuration`) into `folder` under `root`.
    static func write(_ result: ProcedureResult, configuration: [String: Any]? = nil, to folder: String, in root: TemporaryDirectory) throws {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try root.write(folder + "/results.json", bytes: Array(try encoder.encode(result)))
        if let configuration {
            try root.write(folder + "/config.json", bytes: Array(try JSONSerialization.data(withJSONObject: configuration)))
        }
    }

    /// PT on A B C D (D scores 0), MSF (found on A, B; C unseen), IST in that subspace per task
    /// (folder per task, the subspace file naming its training tasks), IST in a random subspace.
    static func experiment() throws -> TemporaryDirectory {
        let root = try TemporaryDirectory()
        for (task, score) in [("A", 0.8), ("B", 0.5), ("C", 0.4), ("D", 0.0)] {
            try write(result(.promptTuning, [(task, score, nil)]), to: "pt/\(task)", in: root)
            // A grid point below the grid's folder: the grid's result already is its best point.
            try write(result(.promptTuning, [(task, 0.99, nil)]), to: "pt/\(task)/lr_0.3_bsz_4", in: root)
        }
        try write(result(.subspaceFinding, subspace: "learned", dimension: 2, parameters: 100,
                         [("A", 0.6, true), ("B", 0.5, true), ("C", 0.1, false)],
                         vectors: ["A": [1, 0], "B": [0, 1], "C": [1, 1]]),
                  configuration: ["procedure": "subspace-finding", "tasks": ["A", "B"]], to: "msf", in: root)
        // The subspace file: its metadata records the finding run's configuration.
        let subspacePath = root.url.appendingPathComponent("msf/subspace.safetensors").path
        try Artifact.write([("mean", Tensor.zeros([4]))],
                           metadata: ArtifactMetadata(kind: "prompt-subspace", procedure: "subspace-finding",
                                                      configuration: "{\"procedure\":\"subspace-finding\",\"tasks\":[\"A\",\"B\"]}",
                                                      baseModel: identity, step: 1, seed: 1),
                           to: subspacePath)
        let vectors: [String: [Float]] = ["A": [1, 2], "B": [2, 1], "C": [0, 0], "D": [3, 3]]
        for (task, score) in [("A", 0.4), ("B", 0.5), ("C", 0.2), ("D", 0.3)] {
            try write(result(.subspaceTuning, subspace: "learned", dimension: 2, seed: 21, parameters: 2, [(task, score, nil)],
                             vectors: [task: vectors[task]!]),
                      configuration: ["procedure": "subspace-tuning", "tasks": [task],
                                      "configuration": ["subspace": ["kind": "file", "path": subspacePath]]],
                      to: "ist/\(task)", in: root)
        }
        for (task, score) in [("A", 0.2), ("C", 0.1)] {
            try write(result(.subspaceTuning, subspace: "random", dimension: 2, seed: 21, parameters: 2, [(task, score, nil)]),
                      configuration: ["procedure": "subspace-tuning", "configuration": ["subspace": ["kind": "random", "dim": 2]]],
                      to: "random/\(task)", in: root)
        }
        // An interrupted run is not reported.
        try write(result(.fastfoodTuning, subspace: "fastfood", dimension: 7, [("A", 0.9, nil)], interrupted: true),
                  to: "said/A", in: root)
        return root
    }

    func method(_ report: ResultsReport, _ name: String) throws -> ResultsReport.MethodResults {
        try #require(report.methods.first { $0.method.name == name }, "no \(name) in \(report.methods.map(\.method.name))")
    }

    func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-12 } ?? false }

    @Test func relativePerformanceAndTheSeenRule() throws {
        let root = try Self.experiment()
        let report = try ResultsReport.load(paths: [root.url.path])
        #expect(report.methods.map(\.method.name) == ["PT", "MSF d=2", "IST d=2", "IST (random) d=2"])
        #expect(report.subspaceTrainingTasks == ["A", "B"])

        let pt = try method(report, "PT")
        #expect(pt.entries.map(\.test) == [0.8, 0.5, 0.4, 0.0], "the grids' results, not their points'")
        #expect(pt.entries.map(\.relative) == [1, 1, 1, nil], "no ratio to a zero PT score")

        // IST: seen from the subspace file's training tasks. Ratios A 0.5, B 1, C 0.5, D undefined.
        let ist = try method(report, "IST d=2")
        #expect(ist.entries.map(\.seen) == [true, true, false, false])
        #expect(ist.entries.map(\.relative) == [0.5, 1.0, 0.5, nil])
        #expect(ist.seen.tasks == 2 && ist.unseen.tasks == 2 && ist.all.tasks == 4)
        #expect(close(ist.seen.relative, 0.75))
        #expect(close(ist.unseen.relative, 0.5))
        #expect(close(ist.all.relative, 2.0 / 3.0))
        #expect(close(ist.seen.test, 0.45))
        #expect(close(ist.unseen.test, 0.25))
        #expect(ist.trainableParameters == 2...2)

        // MSF: the results' own seen flags.
        let msf = try method(report, "MSF d=2")
        #expect(close(msf.seen.relative, (0.75 + 1.0) / 2))
        #expect(close(msf.unseen.relative, 0.25))

        // The random subspace has no training tasks of its own: the report's found subspaces decide.
        let random = try method(report, "IST (random) d=2")
        #expect(random.entries.map(\.seen) == [true, false])
        #expect(close(random.seen.relative, 0.25))
        #expect(close(random.unseen.relative, 0.25))
    }

    @Test func markdownAndCSV() throws {
        let root = try Self.experiment()
        let report = try ResultsReport.load(paths: [root.url.appendingPathComponent("pt").path,
                                                    root.url.appendingPathComponent("ist").path,
                                                    root.url.appendingPathComponent("msf/results.json").path])
        let markdown = report.markdown()
        #expect(markdown.contains("| IST | 2 | 2 | 4 (2/2) | 0.4500 | 0.2500 | 75.0% | 50.0% | 66.7% |"), "\(markdown)")
        #expect(markdown.contains("| A | seen | ACC | 0.8000 | 0.6000 (75.0%) | 0.4000 (50.0%) |"), "\(markdown)")

        let lines = report.csv().split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(lines[0].count == 13)
        #expect(lines.count == 1 + 4 + 3 + 4)
        #expect(lines.allSatisfy { $0.count == 13 })
        let istA = try #require(lines.first { $0[0] == "IST d=2" && $0[5] == "A" })
        #expect(istA[6] == "true" && Double(istA[9]) == 0.4 && Double(istA[10]) == 0.8 && Double(istA[11]) == 0.5)
        let istD = try #require(lines.first { $0[0] == "IST d=2" && $0[5] == "D" })
        #expect(istD[11] == "", "an undefined ratio is an empty field")

        let summary = report.summaryCSV().split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(summary.count == 1 + 3)
        let istSummary = try #require(summary.first { $0[0] == "IST d=2" })
        #expect(Double(istSummary[12]) == 0.75 && Double(istSummary[13]) == 0.5)
    }

    @Test func promptTuningIsCountedAgainstTheMajorityBaselines() throws {
        let root = try Self.experiment()
        var report = try ResultsReport.load(paths: [root.url.path])
        #expect(report.promptTuningAboveMajority == nil, "no baselines, no count")
        // PT: A 0.8, B 0.5, C 0.4, D 0.0; A and B seen. Equal to the baseline is not above it.
        report.majorityBaselines = ["A": 0.5, "B": 0.5, "C": 0.3, "D": 0.0]
        let count = try #require(report.promptTuningAboveMajority)
        #expect(count.all == (2, 4) && count.seen == (1, 2) && count.unseen == (1, 2))
        #expect(report.markdown().contains("Prompt tuning scores above the majority class on 2 of 4 tasks (seen 1 of 2, unseen 1 of 2)."))
    }

    @Test func csvQuotesFieldsWithCommas() throws {
        let report = try ResultsReport(runs: [RunRecord(folder: URL(fileURLWithPath: "/runs/a,b"),
                                                        result: Self.result(.promptTuning, [("x \"y\"", 0.5, nil)]))])
        let row = report.csv().split(separator: "\n")[1]
        #expect(row.hasPrefix("PT,prompt-tuning,,,,\"x \"\"y\"\"\","))
        #expect(row.hasSuffix(",\"/runs/a,b\""))
    }

    @Test func samplesAreToldApartAndDuplicatesRefused() throws {
        let a = RunRecord(folder: URL(fileURLWithPath: "/r/a"), result: Self.result(.subspaceTuning, subspace: "learned", dimension: 5,
                                                                                    seed: 21, [("A", 0.5, nil)]))
        var b = a
        b.folder = URL(fileURLWithPath: "/r/b")
        b.result.dataSeed = 100
        let report = try ResultsReport(runs: [a, b])
        #expect(report.methods.map(\.method.name) == ["IST seed 21 d=5", "IST seed 100 d=5"])
        var c = a
        c.folder = URL(fileURLWithPath: "/r/c")
        expectError("two results of IST d=5 for task A: /r/a and /r/c; report them separately") { _ = try ResultsReport(runs: [a, c]) }
    }

    @Test func badInputNamesTheFile() throws {
        let root = try TemporaryDirectory()
        try root.write("broken/results.json", "{\"procedure\": \"prompt-tuning\"}")
        expectError("broken/results.json: not a results file of ipt-cli (missing key") { _ = try ResultsReport.load(paths: [root.url.path]) }
        let missing = root.url.appendingPathComponent("absent").path
        expectError("\(missing): no such file or folder") { _ = try ResultsReport.load(paths: [missing]) }
        let empty = try TemporaryDirectory()
        expectError("no finished runs") { _ = try ResultsReport.load(paths: [empty.url.path]) }
    }

    @Test func plotSeriesAndWellFormedSVG() throws {
        let root = try Self.experiment()
        let report = try ResultsReport.load(paths: [root.url.path])
        let plot = RelativePerformancePlot(report: report)
        #expect(plot.series.map { "\($0.family) \($0.group.rawValue)" }
                == ["MSF seen", "MSF unseen", "IST seen", "IST unseen", "IST (random) seen", "IST (random) unseen"])
        let istUnseen = try #require(plot.series.first { $0.family == "IST" && $0.group == .unseen })
        #expect(istUnseen.points.map { "\($0.dimension) \($0.relative)" } == ["2 0.5"])
        let svg = plot.svg()
        try expectWellFormed(svg)
        // One marker per point and one per legend entry.
        #expect(svg.components(separatedBy: "<circle").count - 1 == 6 + 6)
        #expect(svg.contains("IST (random), unseen tasks"))
    }

    @Test func taskMapPreservesDistancesOfPlanarVectors() throws {
        let root = try Self.experiment()
        let report = try ResultsReport.load(paths: [root.url.path])
        let map = try #require(try TaskMap(report: report))
        #expect(map.method.name == "IST d=2", "IST in a learned subspace is preferred")
        // d = 2: the two principal coordinates are a rotation (and reflection) of the centred
        // vectors, so every pairwise distance is kept.
        let vectors: [String: [Double]] = ["A": [1, 2], "B": [2, 1], "C": [0, 0], "D": [3, 3]]
        #expect(map.points.map(\.task) == ["A", "B", "C", "D"])
        #expect(map.points.map(\.seen) == [true, true, false, false])
        for p in map.points {
            for q in map.points {
                let original = hypot(vectors[p.task]![0] - vectors[q.task]![0], vectors[p.task]![1] - vectors[q.task]![1])
                #expect(abs(hypot(p.x - q.x, p.y - q.y) - original) < 1e-5)
            }
        }
        #expect(abs(map.explainedVariance.reduce(0, +) - 1) < 1e-6)
        #expect(map.explainedVariance[0] >= map.explainedVariance[1])
        #expect(abs(map.points.map(\.x).reduce(0, +)) < 1e-5, "centred")
        try expectWellFormed(map.svg())
        #expect(map.svg().contains(">D</text>"))

        let msf = try #require(try TaskMap(report: report, method: "MSF d=2"))
        #expect(msf.points.map(\.task) == ["A", "B", "C"])
        expectError("no method IST d=9 in the report") { _ = try TaskMap(report: report, method: "IST d=9") }
        expectError("the map needs two") { _ = try TaskMap(report: report, method: "PT") }
    }

    @Test func collinearVectorsHaveOneComponent() throws {
        let runs = ["A": [Float(0), 0, 0], "B": [1, 2, 3], "C": [2, 4, 6]].map { task, vector in
            RunRecord(folder: URL(fileURLWithPath: "/r/\(task)"),
                      result: Self.result(.subspaceTuning, subspace: "learned", dimension: 3, [(task, 0.5, nil)], vectors: [task: vector]))
        }
        let map = try #require(try TaskMap(report: ResultsReport(runs: runs)))
        #expect(map.points.allSatisfy { abs($0.y) < 1e-5 })
        #expect(abs(map.explainedVariance[0] - 1) < 1e-6)
        #expect(abs(abs(map.points[2].x - map.points[0].x) - 2 * Double(14).squareRoot()) < 1e-5)
    }

    /// Dimensions come from results files: the extremes of Int still draw (the axis is computed in
    /// Double; `high - low` in Int overflowed).
    @Test func extremeDimensionsStillDraw() throws {
        let runs = [
            RunRecord(folder: URL(fileURLWithPath: "/r/pt"), result: Self.result(.promptTuning, [("A", 0.5, nil)])),
            RunRecord(folder: URL(fileURLWithPath: "/r/low"),
                      result: Self.result(.subspaceTuning, subspace: "learned", dimension: -1, [("A", 0.25, nil)])),
            RunRecord(folder: URL(fileURLWithPath: "/r/high"),
                      result: Self.result(.subspaceTuning, subspace: "learned", dimension: Int.max, [("A", 0.4, nil)])),
        ]
        let plot = RelativePerformancePlot(report: try ResultsReport(runs: runs))
        #expect(plot.series.flatMap(\.points).map(\.dimension).sorted() == [-1, Int.max])
        try expectWellFormed(plot.svg())
    }

    @Test func emptyReportsStillDrawValidSVG() throws {
        let report = try ResultsReport(runs: [RunRecord(folder: URL(fileURLWithPath: "/r"),
                                                        result: Self.result(.promptTuning, [("A & <B>", 0.5, nil)]))])
        #expect(try TaskMap(report: report) == nil)
        try expectWellFormed(RelativePerformancePlot(report: report).svg())
        try expectWellFormed(TaskMap.emptySVG())
        #expect(report.markdown().contains("| A & <B> | ? | ACC | 0.5000 |"))
    }

    /// Expects `body` to throw an error whose one-line description contains `text`.
    func expectError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error; expected one saying \(text)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(text), "\(error)", sourceLocation: sourceLocation)
            #expect(!"\(error)".contains("\n"), sourceLocation: sourceLocation)
        }
    }

    /// Parses `svg` as XML; records the parser's error.
    func expectWellFormed(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let parser = XMLParser(data: Data(svg.utf8))
        let parsed = parser.parse()
        #expect(parsed, "not well-formed XML: \(String(describing: parser.parserError))", sourceLocation: sourceLocation)
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""),
                sourceLocation: sourceLocation)
    }
}
