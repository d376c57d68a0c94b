extension Metric {
    /// The score of always predicting the most frequent first gold answer of `references` (ties:
    /// the answer that sorts first), the baseline a few-shot result must beat.
    ///
    /// - Returns: the score, or NaN when there are no references.
    public func majorityBaseline(references: [[String]]) -> Double {
        var counts: [String: Int] = [:]
        for answers in references { if let first = answers.first { counts[first, default: 0] += 1 } }
        guard let best = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key else { return .nan }
        return score(predictions: Array(repeating: best, count: references.count), references: references)
    }
}
