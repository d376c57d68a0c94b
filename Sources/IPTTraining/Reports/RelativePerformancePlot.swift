import Foundation

/// The paper's plot of relative performance against the intrinsic dimension: per method family
/// (IST, IST (random), SAID, MSF, ...) one line through its dimensions for the mean over seen
/// tasks (solid, filled markers) and one for unseen tasks (dashed, open markers); a family whose
/// tasks are neither (no subspace-finding run in the report) gets one dotted line over all tasks.
/// Prompt tuning is the 100 % reference line. The x axis is logarithmic when the dimensions span a
/// factor of ten or more.
public struct RelativePerformancePlot: Sendable {
    /// Which tasks a series averages.
    public enum Group: String, Sendable { case seen, unseen, all }

    /// One line: a family's mean relative performance (a fraction, 1 = prompt tuning) per dimension.
    public struct Series: Sendable, Equatable {
        public var family: String
        public var group: Group
        /// (d, mean relative performance), by increasing d.
        public var points: [Point]
    }

    public struct Point: Sendable, Equatable {
        public var dimension: Int
        public var relative: Double
    }

    public var series: [Series]

    public init(report: ResultsReport) {
        var families: [String] = []
        var values: [String: [Group: [Point]]] = [:]
        for m in report.methods {
            guard let d = m.method.dimension else { continue }
            let family = m.method.family
            if values[family] == nil { families.append(family) }
            let decided = m.seen.tasks + m.unseen.tasks > 0
            for (group, means) in decided ? [(Group.seen, m.seen), (.unseen, m.unseen)] : [(.all, m.all)] {
                if let relative = means.relative { values[family, default: [:]][group, default: []].append(Point(dimension: d, relative: relative)) }
            }
        }
        series = families.flatMap { family in
            [Group.seen, .unseen, .all].compactMap { group in
                values[family]?[group].map { Series(family: family, group: group, points: $0.sorted { $0.dimension < $1.dimension }) }
            }
        }
    }

    /// The plot as an SVG document.
    public func svg() -> String {
        let left = 72.0, right = 230.0, top = 48.0, bottom = 64.0
        // Tall enough for the legend (one line per series) beside the plot.
        let width = 820.0, height = max(500.0, top + 16 + 20 * Double(series.count) + bottom)
        var doc = SVGDocument(width: width, height: height)
        doc.text("Relative performance vs. intrinsic dimension", x: left, y: 26, size: 16, bold: true)

        let allPoints: [Point] = series.flatMap(\.points)
        let dimensions: [Int] = Set(allPoints.map(\.dimension)).sorted()
        let values: [Double] = allPoints.map(\.relative) + [1]
        let plotRight = width - right, plotBottom = height - bottom
        let yMinimum = min(0, (values.min() ?? 0) * 100), yMaximum = max(110, (values.max() ?? 1) * 105)
        let y = ChartAxis(minimum: yMinimum, maximum: yMaximum, logarithmic: false, start: plotBottom, end: top)
        let x: ChartAxis
        if let low = dimensions.first, let high = dimensions.last {
            let logarithmic = Double(high) / Double(max(low, 1)) >= 10 && low >= 1
            x = logarithmic
                ? ChartAxis(minimum: Double(low) / 1.5, maximum: Double(high) * 1.5, logarithmic: true, start: left, end: plotRight)
                : ChartAxis(minimum: Double(low) - max(1, (Double(high) - Double(low)) * 0.08),
                            maximum: Double(high) + max(1, (Double(high) - Double(low)) * 0.08),
                            logarithmic: false, start: left, end: plotRight)  // in Double: dimensions come from results files
        } else {
            x = ChartAxis(minimum: 0, maximum: 1, logarithmic: false, start: left, end: plotRight)
        }

        // Grid, axes and ticks.
        for tick in ChartAxis.niceTicks(yMinimum, yMaximum) {
            let py = y.position(tick)
            doc.line(left, py, plotRight, py, stroke: "#e6e6e6")
            doc.text(ChartAxis.label(tick) + "%", x: left - 8, y: py + 4, size: 11, anchor: .end)
        }
        var lastLabel = -Double.infinity
        for d in dimensions {
            let px = x.position(Double(d))
            doc.line(px, top, px, plotBottom, stroke: "#f0f0f0")
            doc.line(px, plotBottom, px, plotBottom + 5, stroke: "#444444")
            let label = String(d)
            if px - lastLabel >= SVGDocument.textWidth(label, size: 11) + 6 {
                doc.text(label, x: px, y: plotBottom + 19, size: 11, anchor: .middle)
                lastLabel = px
            }
        }
        doc.line(left, plotBottom, plotRight, plotBottom, stroke: "#444444")
        doc.line(left, top, left, plotBottom, stroke: "#444444")
        doc.text("intrinsic dimension d" + (x.logarithmic ? " (log scale)" : ""), x: (left + plotRight) / 2, y: height - 18,
                 size: 13, anchor: .middle)
        doc.text("test score / prompt-tuning test score (mean over tasks)", x: 20, y: (top + plotBottom) / 2, size: 13,
                 anchor: .middle, rotation: -90)

        // Prompt tuning's reference line.
        let reference = y.position(100)
        doc.line(left, reference, plotRight, reference, stroke: "#555555", width: 1.5, dash: "2 4")
        doc.text("prompt tuning (100%)", x: plotRight - 4, y: reference - 6, size: 11, anchor: .end, color: "#555555")

        if series.isEmpty {
            doc.text("No results with an intrinsic dimension in these runs.", x: (left + plotRight) / 2, y: (top + plotBottom) / 2,
                     size: 14, anchor: .middle, color: "#777777")
        }

        // Lines, markers and the legend.
        var families: [String] = []
        for s in series where !families.contains(s.family) { families.append(s.family) }
        var legendY = top + 8
        for s in series {
            let color = chartPalette[(families.firstIndex(of: s.family) ?? 0) % chartPalette.count]
            let dash: String? = s.group == .unseen ? "7 4" : s.group == .all ? "2 3" : nil
            let points = s.points.map { (x.position(Double($0.dimension)), y.position($0.relative * 100)) }
            if points.count > 1 { doc.polyline(points, stroke: color, width: 2, dash: dash) }
            for (point, value) in zip(points, s.points) {
                doc.circle(point.0, point.1, radius: 4, fill: s.group == .unseen ? "#ffffff" : color, stroke: color,
                           title: "\(s.family), \(s.group.rawValue) tasks, d=\(value.dimension): \(String(format: "%.1f%%", value.relative * 100))")
            }
            let legendX = plotRight + 20
            doc.line(legendX, legendY, legendX + 28, legendY, stroke: color, width: 2, dash: dash)
            doc.circle(legendX + 14, legendY, radius: 4, fill: s.group == .unseen ? "#ffffff" : color, stroke: color)
            doc.text("\(s.family), \(s.group.rawValue) tasks", x: legendX + 36, y: legendY + 4, size: 12)
            legendY += 20
        }
        return doc.rendered
    }
}
