import Foundation

/// The evaluation metrics of CrossFit (`dataloader/metrics.py`), with CrossFit's names as raw values.
///
/// `score(predictions:references:)` reproduces what the original computes for one task: each
/// prediction is first stripped of surrounding whitespace (Python's `str.strip()`, as the
/// original's data loaders do before scoring), then scored against the example's gold answers.
/// Scores are in native scale (0...1; correlations -1...1). Strings are compared code point by
/// code point, as Python compares them.
public enum Metric: String, CaseIterable, Codable, Sendable {
    /// Exact match after answer normalisation (``AnswerNormalization``), best over gold answers.
    case exactMatch = "EM"
    /// Case-insensitive string equality (no other normalisation), best over gold answers.
    case accuracy = "ACC"
    /// SQuAD token F1 of the normalised words, best over gold answers.
    case qaF1 = "QA-F1"
    /// scikit-learn's macro F1 against the first gold answer; the classes are the union of gold
    /// answers and predictions, so an invalid prediction adds a class with F1 = 0.
    case classificationF1 = "Classification-F1"
    /// scikit-learn's Matthews correlation of "is `acceptable`" (CrossFit uses it for glue-cola only).
    case matthewsCorrelation = "Matthew-Correlation"
    /// SciPy's Pearson correlation of the predictions and first gold answers read as numbers.
    case pearsonCorrelation = "Pearson-Correlation"
    /// ROUGE-L F of the `rouge` 1.0.0 package (``RougeL``), best over gold answers.
    case rougeL = "Rouge-L"

    /// The metric named `name` (CrossFit's spelling, e.g. `"Classification-F1"`).
    ///
    /// - Parameters:
    ///   - name: the metric's CrossFit name.
    ///   - source: where the name came from (a file and key, a flag), for the error message.
    /// - Throws: ``DataError/unknownMetric(_:source:)``.
    public init(named name: String, source: String) throws {
        guard let metric = Metric(rawValue: name) else { throw DataError.unknownMetric(name, source: source) }
        self = metric
    }

    /// The task's score: one value for all examples.
    ///
    /// - Parameters:
    ///   - predictions: one generated answer per example (stripped here).
    ///   - references: per example its gold answers (TSV columns 1...). Metrics that take the
    ///     first gold answer (Classification-F1, Matthew-Correlation, Pearson-Correlation) need at
    ///     least one; the others score an example without gold answers 0, as CrossFit does.
    /// - Returns: the score; NaN when there are no examples (NumPy's mean of nothing), and for
    ///   Pearson-Correlation whenever SciPy returns or raises for NaN (see ``pearsonCorrelation``).
    public func score(predictions: [String], references: [[String]]) -> Double {
        precondition(predictions.count == references.count,
                     "\(predictions.count) predictions for \(references.count) references")
        let stripped = predictions.map(PythonText.strip)
        switch self {
        case .exactMatch, .accuracy, .qaF1, .rougeL:
            guard !stripped.isEmpty else { return .nan }
            var total = 0.0
            for (prediction, answers) in zip(stripped, references) {
                total += exampleScore(prediction: prediction, answers: answers)
            }
            return total / Double(stripped.count)
        case .classificationF1:
            return ClassificationScores.macroF1(gold: firstAnswers(references), predictions: stripped)
        case .matthewsCorrelation:
            return ClassificationScores.matthewsCorrelation(gold: firstAnswers(references), predictions: stripped)
        case .pearsonCorrelation:
            return Correlation.pearson(firstAnswers(references).map { PythonText.parseFloat($0) ?? .nan },
                                       stripped.map { PythonText.parseFloat($0) ?? .nan })
        }
    }

    /// The score of one example for the metrics that average per-example scores (EM, ACC, QA-F1,
    /// Rouge-L); nil for the others, whose score is not a mean over examples.
    ///
    /// - Parameters:
    ///   - prediction: the generated answer (stripped here).
    ///   - answers: the example's gold answers.
    public func score(prediction: String, answers: [String]) -> Double? {
        switch self {
        case .exactMatch, .accuracy, .qaF1, .rougeL:
            return exampleScore(prediction: PythonText.strip(prediction), answers: answers)
        case .classificationF1, .matthewsCorrelation, .pearsonCorrelation:
            return nil
        }
    }

    private func exampleScore(prediction: String, answers: [String]) -> Double {
        switch self {
        case .exactMatch: return AnswerMatching.exactMatch(prediction, answers)
        case .accuracy: return AnswerMatching.accuracy(prediction, answers)
        case .qaF1: return AnswerMatching.tokenF1(prediction, answers)
        case .rougeL: return RougeL.bestF(prediction: prediction, answers: answers)
        case .classificationF1, .matthewsCorrelation, .pearsonCorrelation:
            preconditionFailure("\(rawValue) is not a mean of per-example scores")
        }
    }

    private func firstAnswers(_ references: [[String]]) -> [String] {
        references.map { answers in
            precondition(!answers.isEmpty, "\(rawValue) needs at least one gold answer per example")
            return answers[0]
        }
    }

    /// The metric CrossFit uses for `task` (its METRICS table of 160 tasks), or nil.
    public static func forCrossFitTask(_ task: String) -> Metric? {
        crossFitTable[task]
    }

    /// The unweighted mean of per-task scores, as the original's multi-task evaluation reports it.
    ///
    /// - Parameter scores: task name -> that task's score.
    /// - Returns: the mean; NaN for no tasks or when any score is NaN.
    public static func meanOverTasks(_ scores: [String: Double]) -> Double {
        guard !scores.isEmpty else { return .nan }
        // Sum in task-name order so that the result does not depend on dictionary order.
        return scores.sorted { $0.key < $1.key }.reduce(0.0) { $0 + $1.value } / Double(scores.count)
    }
}
