import Foundation

/// A minimal SVG 1.1 writer for the report's charts: shapes and text appended in drawing order,
/// coordinates in pixels, text escaped. No dependencies; the output opens in browsers and
/// converts with rsvg-convert or Inkscape.
struct SVGDocument {
    let width: Double
    let height: Double
    private var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
        rectangle(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1,
                       dash: String? = nil) {
        elements.append("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\"\(dashAttribute(dash))/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        let list = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\" stroke-linejoin=\"round\"\(dashAttribute(dash))/>")
    }

    mutating func circle(_ x: Double, _ y: Double, radius: Double, fill: String, stroke: String, strokeWidth: Double = 1.5,
                         title: String? = nil) {
        let open = "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(radius))\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(n(strokeWidth))\""
        if let title {
            elements.append(open + "><title>\(SVGDocument.escaped(title))</title></circle>")
        } else {
            elements.append(open + "/>")
        }
    }

    mutating func rectangle(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) {
        let strokeAttribute = stroke.map { " stroke=\"\($0)\"" } ?? ""
        elements.append("<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"\(fill)\"\(strokeAttribute)/>")
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ string: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       color: String = "#222222", bold: Bool = false, rotation: Double? = nil) {
        let transform = rotation.map { " transform=\"rotate(\(n($0)) \(n(x)) \(n(y)))\"" } ?? ""
        let weight = bold ? " font-weight=\"bold\"" : ""
        elements.append("<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(color)\"\(weight)\(transform)>\(SVGDocument.escaped(string))</text>")
    }

    /// The document.
    var rendered: String {
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">"]
        lines += elements.map { "  " + $0 }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// An approximate text width (average glyph width of sans-serif fonts), for layout.
    static func textWidth(_ string: String, size: Double) -> Double { Double(string.count) * size * 0.6 }

    static func escaped(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // Characters XML 1.0 forbids (controls other than tab and line breaks) are dropped.
            case _ where scalar.value < 0x20 && ![0x09, 0x0A, 0x0D].contains(scalar.value): continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private func dashAttribute(_ dash: String?) -> String { dash.map { " stroke-dasharray=\"\($0)\"" } ?? "" }

    /// Pixel coordinates with two decimals at most.
    private func n(_ x: Double) -> String {
        let rounded = (x * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
    }
}

/// A numeric axis: maps data values to pixels between `start` and `end`, linear or logarithmic,
/// with "nice" tick values.
struct ChartAxis {
    var minimum: Double
    var maximum: Double
    var logarithmic: Bool
    /// Pixel positions of `minimum` and `maximum`.
    var start: Double
    var end: Double

    func position(_ value: Double) -> Double {
        let (a, b, v) = logarithmic ? (log10(minimum), log10(maximum), log10(value)) : (minimum, maximum, value)
        return b == a ? (start + end) / 2 : start + (v - a) / (b - a) * (end - start)
    }

    /// Ticks at 1, 2, 2.5 or 5 times a power of ten, about `count` of them, inside the range.
    static func niceTicks(_ minimum: Double, _ maximum: Double, count: Int = 6) -> [Double] {
        let span = maximum - minimum
        guard span > 0, span.isFinite else { return [minimum] }
        let raw = span / Double(max(count, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = ([1, 2, 2.5, 5, 10].first { $0 * magnitude >= raw } ?? 10) * magnitude
        var ticks: [Double] = []
        var value = (minimum / step).rounded(.up) * step
        while value <= maximum + step * 1e-9 {
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return ticks
    }

    /// A tick label without trailing zeros ("0.5", "100", "2.5").
    static func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        var s = String(format: "%.4f", value)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}

/// Colours of the charts' series (Tableau 10: distinct, and readable by most colour-blind readers).
let chartPalette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                    "#bcbd22", "#17becf"]
