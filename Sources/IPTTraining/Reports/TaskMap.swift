import Foundation
import IPTCore

/// A 2-D map of the tasks' intrinsic vectors (the paper's picture of task similarity): the vectors
/// of one method, centred, projected on their first two principal components (PCA through
/// LAPACK's SVD: coordinates = U_k S_k of the centred task x d matrix), each task a point labelled
/// by its name and coloured seen / unseen.
public struct TaskMap: Sendable {
    public struct Point: Sendable, Equatable {
        public var task: String
        public var seen: Bool?
        public var x: Double
        public var y: Double
    }

    /// The method whose vectors are mapped.
    public var method: ReportMethod
    public var points: [Point]
    /// The fraction of the variance along each of the two components.
    public var explainedVariance: [Double]

    /// The methods tried when none is named, in order: the tuned vectors of IST in a learned
    /// subspace, then the encoded prompts of MSF, then the other subspaces.
    static let preference: [(ProcedureKind, String?)] = [
        (.subspaceTuning, "learned"), (.subspaceFinding, "learned"), (.subspaceTuning, "pca"), (.subspaceFinding, "pca"),
        (.adapterSubspaceTuning, "adapter"), (.subspaceTuning, "random"), (.fastfoodTuning, "fastfood"),
    ]

    /// The map of `method` (a method name of the report, e.g. "IST d=250"), or by default of the
    /// preferred family's dimension with the most tasks (ties: the larger d).
    ///
    /// - Returns: `nil` when no method has intrinsic vectors of two or more tasks.
    /// - Throws: ``TrainingError/data(_:)`` when `method` names no method of the report or one
    ///   without vectors of two tasks; ``LAPACKError`` when LAPACK is unavailable.
    public init?(report: ResultsReport, method name: String? = nil) throws {
        let candidates = report.methods.filter { $0.intrinsicVectors.count >= 2 }
        let chosen: ResultsReport.MethodResults
        if let name {
            guard let match = report.methods.first(where: { $0.method.name == name }) else {
                let names = report.methods.map(\.method.name).joined(separator: ", ")
                throw TrainingError.data("no method \(name) in the report (it has: \(names))")
            }
            guard match.intrinsicVectors.count >= 2 else {
                throw TrainingError.data("\(name) has intrinsic vectors of \(match.intrinsicVectors.count) task(s); the map needs two")
            }
            chosen = match
        } else {
            var best: ResultsReport.MethodResults? = nil
            for (procedure, subspace) in TaskMap.preference {
                let family = candidates.filter { $0.method.procedure == procedure && $0.method.subspace == subspace }
                best = family.max { ($0.intrinsicVectors.count, $0.method.dimension ?? 0) < ($1.intrinsicVectors.count, $1.method.dimension ?? 0) }
                if best != nil { break }
            }
            guard let best else { return nil }
            chosen = best
        }
        method = chosen.method
        let tasks = chosen.intrinsicVectors.keys.sorted()
        let vectors = tasks.map { chosen.intrinsicVectors[$0]! }
        let seen = Dictionary(chosen.entries.map { ($0.task, $0.seen) }, uniquingKeysWith: { a, _ in a })
        let (coordinates, explained) = try TaskMap.principalCoordinates(vectors)
        points = zip(tasks, coordinates).map { Point(task: $0, seen: seen[$0] ?? nil, x: $1.0, y: $1.1) }
        explainedVariance = explained
    }

    /// The first two principal coordinates of `vectors` (rows; all of one length) and the fraction of
    /// the variance along each; a missing component is 0.
    static func principalCoordinates(_ vectors: [[Float]]) throws -> (coordinates: [(Double, Double)], explained: [Double]) {
        let m = vectors.count, d = vectors.first?.count ?? 0
        guard m >= 2, d >= 1, vectors.allSatisfy({ $0.count == d }) else {
            throw TrainingError.data("the task map needs two or more intrinsic vectors of one length")
        }
        var centred = [Float](repeating: 0, count: m * d)
        for j in 0..<d {
            let mean = vectors.reduce(0.0) { $0 + Double($1[j]) } / Double(m)
            for i in 0..<m { centred[i * d + j] = Float(Double(vectors[i][j]) - mean) }
        }
        let (u, s, _) = try LAPACK.singularValueDecomposition(Tensor(centred, shape: [m, d]))
        let k = s.count
        let singular = s.scalars.map(Double.init)
        let total = singular.reduce(0) { $0 + $1 * $1 }
        let us = u.scalars
        let coordinates = (0..<m).map { i in
            (k > 0 ? Double(us[i * k]) * singular[0] : 0, k > 1 ? Double(us[i * k + 1]) * singular[1] : 0)
        }
        let explained = (0..<2).map { c in c < k && total > 0 ? singular[c] * singular[c] / total : 0 }
        return (coordinates, explained)
    }

    /// The map as an SVG document: equal scales on both axes (distances are comparable), points
    /// labelled by task, seen tasks blue, unseen orange, undecided grey.
    public func svg() -> String {
        let width = 820.0, height = 640.0
        let left = 64.0, right = 40.0, top = 70.0, bottom = 60.0
        var doc = SVGDocument(width: width, height: height)
        doc.text("Task map: intrinsic vectors of \(method.name), first two principal components", x: left, y: 26, size: 16, bold: true)

        let xs = points.map(\.x), ys = points.map(\.y)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        // Equal scale on both axes; room on the right for labels.
        let spanX = max((xs.max() ?? 1) - (xs.min() ?? 0), 1e-9), spanY = max((ys.max() ?? 1) - (ys.min() ?? 0), 1e-9)
        let scale = min(plotWidth * 0.8 / spanX, plotHeight * 0.9 / spanY)
        let centreX = ((xs.max() ?? 0) + (xs.min() ?? 0)) / 2, centreY = ((ys.max() ?? 0) + (ys.min() ?? 0)) / 2
        let xAxis = ChartAxis(minimum: centreX - plotWidth / 2 / scale, maximum: centreX + plotWidth / 2 / scale,
                              logarithmic: false, start: left, end: left + plotWidth)
        let yAxis = ChartAxis(minimum: centreY - plotHeight / 2 / scale, maximum: centreY + plotHeight / 2 / scale,
                              logarithmic: false, start: top + plotHeight, end: top)

        doc.rectangle(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#ffffff", stroke: "#444444")
        for tick in ChartAxis.niceTicks(xAxis.minimum, xAxis.maximum, count: 8) {
            let px = xAxis.position(tick)
            doc.line(px, top, px, top + plotHeight, stroke: "#eeeeee")
            doc.text(ChartAxis.label(tick), x: px, y: top + plotHeight + 16, size: 10, anchor: .middle, color: "#555555")
        }
        for tick in ChartAxis.niceTicks(yAxis.minimum, yAxis.maximum, count: 6) {
            let py = yAxis.position(tick)
            doc.line(left, py, left + plotWidth, py, stroke: "#eeeeee")
            doc.text(ChartAxis.label(tick), x: left - 6, y: py + 3, size: 10, anchor: .end, color: "#555555")
        }
        doc.text(String(format: "PC1 (%.0f%% of the variance)", explainedVariance[0] * 100), x: left + plotWidth / 2,
                 y: height - 20, size: 13, anchor: .middle)
        doc.text(String(format: "PC2 (%.0f%% of the variance)", explainedVariance[1] * 100), x: 20, y: top + plotHeight / 2,
                 size: 13, anchor: .middle, rotation: -90)

        // Legend above the plot.
        var legendX = left
        let groups: [(Bool?, String, String)] = [(true, "seen task (subspace found on it)", "#1f77b4"), (false, "unseen task", "#ff7f0e"),
                                                 (nil, "seen/unseen unknown", "#999999")]
        for (group, label, fill) in groups where points.contains(where: { $0.seen == group }) {
            doc.circle(legendX + 6, 50, radius: 5, fill: fill, stroke: "#ffffff", strokeWidth: 1)
            doc.text(label, x: legendX + 16, y: 54, size: 12)
            legendX += 36 + SVGDocument.textWidth(label, size: 12)
        }

        for p in points {
            let px = xAxis.position(p.x), py = yAxis.position(p.y)
            let fill = p.seen == true ? "#1f77b4" : p.seen == false ? "#ff7f0e" : "#999999"
            doc.circle(px, py, radius: 5, fill: fill, stroke: "#ffffff", strokeWidth: 1,
                       title: "\(p.task) (\(p.seen == true ? "seen" : p.seen == false ? "unseen" : "unknown"))")
            doc.text(p.task, x: px + 7, y: py - 6, size: 11, color: "#333333")
        }
        return doc.rendered
    }

    /// The SVG written when no method has vectors of two tasks.
    public static func emptySVG() -> String {
        var doc = SVGDocument(width: 820, height: 200)
        doc.text("Task map", x: 64, y: 26, size: 16, bold: true)
        doc.text("No method in these runs has intrinsic vectors of two or more tasks (run find-subspace or tune-subspace).",
                 x: 64, y: 100, size: 13, color: "#777777")
        return doc.rendered
    }
}
