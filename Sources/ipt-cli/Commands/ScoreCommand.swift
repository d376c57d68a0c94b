import ArgumentParser
import Foundation
import IPTData

/// `ipt-cli score`: one of CrossFit's metrics over a predictions file and a CrossFit TSV, as one
/// JSON line `{"metric", "n", "score"}` (score null when NaN, e.g. a constant Pearson input).
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score predictions against a CrossFit TSV with one of CrossFit's metrics (one JSON line).",
        discussion: """
            Predictions: one per line, stripped of surrounding whitespace before scoring (so CRLF \
            line ends are accepted). References: a CrossFit TSV, `input<TAB>answer[<TAB>more answers]`. \
            Give the metric by name (--metric) or take it from CrossFit's table of 160 tasks (--task).
            """)

    @Option(help: "The metric: \(Metric.allCases.map(\.rawValue).joined(separator: ", ")).")
    var metric: String?

    @Option(help: "Use the metric CrossFit assigns to this task (e.g. glue-rte).")
    var task: String?

    @Option(help: "Predictions file, one prediction per line.")
    var predictions: String

    @Option(help: "References: a CrossFit TSV file.")
    var references: String

    func validate() throws {
        guard (metric == nil) != (task == nil) else {
            throw ValidationError("give exactly one of --metric and --task")
        }
    }

    func run() throws {
        let chosen: Metric
        if let task {
            guard let metric = Metric.forCrossFitTask(task) else {
                throw DataError.unknownTask(task, source: "--task (CrossFit's metric table)")
            }
            chosen = metric
        } else {
            chosen = try Metric(named: metric ?? "", source: "--metric")
        }
        let predictionsURL = URL(fileURLWithPath: predictions)
        let referencesURL = URL(fileURLWithPath: references)
        let examples = try CrossFitTSV.read(referencesURL, task: task ?? "")
        let predicted = try PredictionsFile.read(predictionsURL)
        guard predicted.count == examples.count else {
            throw DataError.countMismatch(predictionsPath: predictionsURL.path, predictions: predicted.count,
                                          referencesPath: referencesURL.path, references: examples.count)
        }
        let score = chosen.score(predictions: predicted, references: examples.map(\.answers))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = try encoder.encode(Report(metric: chosen.rawValue, score: score, n: examples.count))
        print(String(decoding: line, as: UTF8.self))
    }

    private struct Report: Encodable {
        let metric: String
        let score: Double
        let n: Int

        enum CodingKeys: String, CodingKey { case metric, score, n }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(metric, forKey: .metric)
            if score.isFinite { try container.encode(score, forKey: .score) } else { try container.encodeNil(forKey: .score) }
            try container.encode(n, forKey: .n)
        }
    }
}
