/// `scipy.stats.pearsonr(x, y)[0]` as SciPy 1.17 computes it.
enum Correlation {
    /// Pearson's r of `x` and `y` (equal lengths).
    ///
    /// NaN when SciPy returns NaN (a constant input, any NaN or infinite value) and, where SciPy
    /// raises, for fewer than two values. For two values r is rounded to -1 or 1, as SciPy does.
    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "pearson: \(x.count) vs \(y.count) values")
        let n = x.count
        guard n >= 2 else { return .nan }
        if x.allSatisfy({ $0 == x[0] }) || y.allSatisfy({ $0 == y[0] }) { return .nan }
        func centredUnit(_ v: [Double]) -> [Double] {
            let mean = v.reduce(0, +) / Double(n)
            let centred = v.map { $0 - mean }
            // Scale by the largest magnitude before squaring, as SciPy does against overflow.
            let largest = centred.reduce(0) { max($0, abs($1)) }
            let norm = largest * centred.reduce(0) { $0 + ($1 / largest) * ($1 / largest) }.squareRoot()
            return centred.map { $0 / norm }
        }
        let (u, v) = (centredUnit(x), centredUnit(y))
        var r = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
        guard !r.isNaN else { return .nan }
        r = min(max(r, -1), 1)
        return n == 2 ? r.rounded() : r
    }
}
