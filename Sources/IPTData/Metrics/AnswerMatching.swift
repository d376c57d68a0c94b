/// The per-example metrics of CrossFit that compare a prediction with each gold answer and keep
/// the best: exact match (EM), accuracy (ACC) and SQuAD token F1 (QA-F1). An example without gold
/// answers scores 0 (`if len(groundtruth)==0: return 0`).
enum AnswerMatching {
    /// EM: `normalize_answer(prediction) == normalize_answer(answer)` for some answer.
    static func exactMatch(_ prediction: String, _ answers: [String]) -> Double {
        let predicted = AnswerNormalization.words(prediction)
        return answers.contains { AnswerNormalization.words($0) == predicted } ? 1 : 0
    }

    /// ACC: `prediction.lower() == answer.lower()` for some answer.
    static func accuracy(_ prediction: String, _ answers: [String]) -> Double {
        let predicted = PythonText.lower(prediction.unicodeScalars)
        return answers.contains { PythonText.lower($0.unicodeScalars) == predicted } ? 1 : 0
    }

    /// QA-F1: the best SQuAD F1 over answers of the normalised words (multiset overlap).
    static func tokenF1(_ prediction: String, _ answers: [String]) -> Double {
        let predicted = AnswerNormalization.words(prediction)
        var predictedCounts: [CodePoints: Int] = [:]
        for word in predicted { predictedCounts[word, default: 0] += 1 }
        var best = 0.0
        for answer in answers {
            let gold = AnswerNormalization.words(answer)
            var remaining = predictedCounts
            var same = 0
            for word in gold {
                if let count = remaining[word], count > 0 {
                    remaining[word] = count - 1
                    same += 1
                }
            }
            guard same > 0 else { continue }
            let precision = Double(same) / Double(predicted.count)
            let recall = Double(same) / Double(gold.count)
            best = max(best, 2 * precision * recall / (precision + recall))
        }
        return best
    }
}
