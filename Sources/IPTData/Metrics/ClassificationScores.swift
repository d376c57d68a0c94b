/// The corpus-level classification metrics of CrossFit, as scikit-learn computes them.
enum ClassificationScores {
    /// `sklearn.metrics.f1_score(gold, predictions, average="macro")`: the mean over the classes
    /// (every string that occurs as a gold label or a prediction) of 2·TP / (2·TP + FP + FN);
    /// a class that is never predicted correctly scores 0. NaN for no examples (scikit-learn raises).
    static func macroF1(gold: [String], predictions: [String]) -> Double {
        guard !gold.isEmpty else { return .nan }
        var counts: [CodePoints: (truePositives: Int, falsePositives: Int, falseNegatives: Int)] = [:]
        for (goldLabel, predicted) in zip(gold, predictions) {
            let g = Array(goldLabel.unicodeScalars), p = Array(predicted.unicodeScalars)
            if g == p {
                counts[g, default: (0, 0, 0)].truePositives += 1
            } else {
                counts[g, default: (0, 0, 0)].falseNegatives += 1
                counts[p, default: (0, 0, 0)].falsePositives += 1
            }
        }
        // Summed in code point order of the labels, the order scikit-learn's classes have, so
        // that the result does not depend on dictionary order.
        var total = 0.0
        for (_, c) in counts.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) { $0.value < $1.value } }) {
            total += Double(2 * c.truePositives) / Double(2 * c.truePositives + c.falsePositives + c.falseNegatives)
        }
        return total / Double(counts.count)
    }

    /// CrossFit's `get_matthews_corr`: label 1 iff the text is exactly `acceptable` (the
    /// prediction stripped, the gold answer as is), then `sklearn.metrics.matthews_corrcoef`,
    /// which is 0 when either side is constant. NaN for no examples (scikit-learn raises).
    static func matthewsCorrelation(gold: [String], predictions: [String]) -> Double {
        guard !gold.isEmpty else { return .nan }
        let acceptable = Array("acceptable".unicodeScalars)
        // confusion[t][p]: gold class t, predicted class p.
        var confusion = [[0.0, 0.0], [0.0, 0.0]]
        for (goldLabel, predicted) in zip(gold, predictions) {
            let t = Array(goldLabel.unicodeScalars) == acceptable ? 1 : 0
            let p = Array(PythonText.strip(predicted.unicodeScalars)) == acceptable ? 1 : 0
            confusion[t][p] += 1
        }
        let trueSums = [confusion[0][0] + confusion[0][1], confusion[1][0] + confusion[1][1]]
        let predictedSums = [confusion[0][0] + confusion[1][0], confusion[0][1] + confusion[1][1]]
        let correct = confusion[0][0] + confusion[1][1]
        let samples = predictedSums[0] + predictedSums[1]
        let covTruePredicted = correct * samples - (trueSums[0] * predictedSums[0] + trueSums[1] * predictedSums[1])
        let covPredicted = samples * samples - (predictedSums[0] * predictedSums[0] + predictedSums[1] * predictedSums[1])
        let covTrue = samples * samples - (trueSums[0] * trueSums[0] + trueSums[1] * trueSums[1])
        let denominator = covPredicted * covTrue
        return denominator == 0 ? 0 : covTruePredicted / denominator.squareRoot()
    }
}
