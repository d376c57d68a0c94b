import Foundation
import IPTData
import IPTTestSupport
import Testing

/// Agreement with CrossFit's metrics as computed in Python (numpy, scikit-learn, SciPy, rouge
/// 1.0.0) by scripts/make_metric_fixtures.py.
@Suite("Metrics against the Python reference")
struct MetricFixtureTests {
    static let tolerance = 1e-6

    struct SyntheticCase: Decodable {
        let metric: String
        let predictions: [String]
        let references: [[String]]
        let score: Double?
    }

    struct CrossFitCase: Decodable {
        let metric: String
        let file: String
        let first: Int
        let count: Int
        let ops: String
        let score: Double?
    }

    /// Checks `actual` against `expected` (nil = NaN) and returns |difference| (0 for matching NaN).
    static func difference(_ actual: Double, _ expected: Double?, _ label: @autoclosure () -> String) -> Double {
        guard let expected else {
            #expect(actual.isNaN, "\(label()): expected NaN, got \(actual)")
            return actual.isNaN ? 0 : .infinity
        }
        let difference = abs(actual - expected)
        #expect(difference <= tolerance, "\(label()): expected \(expected), got \(actual)")
        return difference.isNaN ? .infinity : difference
    }

    static func report(_ name: String, _ differences: [Metric: [Double]]) {
        for metric in Metric.allCases {
            guard let values = differences[metric] else { continue }
            print("\(name) \(metric.rawValue): \(values.count) cases, max |difference| \(values.max() ?? 0)")
        }
    }

    @Test func syntheticCasesMatchPython() throws {
        struct File: Decodable { let cases: [SyntheticCase] }
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: Fixtures.url("metrics_synthetic.json"))).cases
        var differences: [Metric: [Double]] = [:]
        for (i, c) in cases.enumerated() {
            let metric = try Metric(named: c.metric, source: "fixture")
            let score = metric.score(predictions: c.predictions, references: c.references)
            differences[metric, default: []].append(Self.difference(score, c.score, "case \(i) \(c.metric) \(c.predictions) vs \(c.references)"))
        }
        // Every metric is covered by several hundred cases.
        #expect(Set(differences.keys) == Set(Metric.allCases))
        #expect(differences.values.allSatisfy { $0.count >= 200 })
        Self.report("synthetic", differences)
    }

    @Test(SharedData.required) func realAnswersOfCrossFit16MatchPython() throws {
        struct File: Decodable { let cases: [CrossFitCase] }
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: Fixtures.url("metrics_crossfit16.json"))).cases
        let catalog = try TaskCatalog.load(dataDirectory: SharedData.crossfit)
        var files: [String: [Example]] = [:]
        var differences: [Metric: [Double]] = [:]
        for c in cases {
            let task = String(c.file.split(separator: "/")[0])
            if files[c.file] == nil {
                files[c.file] = try CrossFitTSV.read(SharedData.crossfit.appendingPathComponent(c.file), task: task)
            }
            let window = Array(files[c.file]![(c.first - 1)..<(c.first - 1 + c.count)])
            let options = try catalog.options(for: task)
            let predictions = zip(window.indices, c.ops.unicodeScalars).map { i, op in
                Perturbation.apply(op, to: window[i].answers[0], options: options,
                                   nextAnswer: window[(i + 1) % window.count].answers[0])
            }
            let metric = try Metric(named: c.metric, source: "fixture")
            let score = metric.score(predictions: predictions, references: window.map(\.answers))
            differences[metric, default: []].append(Self.difference(score, c.score, "\(c.metric) \(c.file):\(c.first)+\(c.count) \(c.ops)"))
        }
        #expect(differences.values.reduce(0) { $0 + $1.count } == cases.count)
        #expect(cases.count > 1000)
        Self.report("crossfit16", differences)
    }
}

/// The perturbation codes of scripts/make_metric_fixtures.py (OPS): how a prediction is made
/// from a real answer.
enum Perturbation {
    static func apply(_ op: Unicode.Scalar, to answer: String, options: [String], nextAnswer: String) -> String {
        switch op {
        case "k": return answer
        case "u": return answer.uppercased()
        case "l": return answer.lowercased()
        case "p": return answer + "."
        case "a": return "the " + answer
        case "x": return answer + " indeed"
        case "e": return ""
        case "s": return "  " + answer + " \t"
        case "d":
            // " ".join(answer.split(" ")[:-1]) on code points.
            var words = answer.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
            words.removeLast()
            return words.map { String(String.UnicodeScalarView($0)) }.joined(separator: " ")
        case "o":
            guard !options.isEmpty else { return nextAnswer }
            let key = Array(answer.unicodeScalars)
            guard let i = options.firstIndex(where: { Array($0.unicodeScalars) == key }) else { return options[0] }
            return options[(i + 1) % options.count]
        case "i": return "maybe"
        default:
            Issue.record("unknown perturbation code \(op)")
            return answer
        }
    }
}
