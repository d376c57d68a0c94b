// Python 3 string semantics that CrossFit's data loading and metrics depend on.
//
// Python strings are sequences of code points compared code point by code point, while Swift's
// String compares by canonical equivalence ("é" == "e\u{301}"). To reproduce CrossFit's numbers
// exactly, text that is compared, hashed or tokenised goes through these helpers, which work on
// `[Unicode.Scalar]` (hashable and compared exactly).

/// A string as Python sees it: its code points.
typealias CodePoints = [Unicode.Scalar]

enum PythonText {
    /// `str.isspace()`: the code points Python's `strip()` and `split()` treat as whitespace
    /// (bidirectional class WS, B or S, or category Zs; the list of CPython 3.11).
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Whether `c` is in `string.punctuation` (ASCII punctuation only).
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    /// A word character of Python's `re` for `str` patterns (`\w`): alphabetic (categories L*),
    /// numeric (any numeric type) or `_`. Combining marks are not word characters.
    static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        if c == "_" { return true }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return c.properties.numericType != nil
        }
    }

    /// `s.strip()`.
    static func strip<C: BidirectionalCollection>(_ s: C) -> C.SubSequence where C.Element == Unicode.Scalar {
        guard let first = s.firstIndex(where: { !isWhitespace($0) }),
              let last = s.lastIndex(where: { !isWhitespace($0) }) else { return s[s.endIndex...] }
        return s[first...last]
    }

    /// `s.strip()` for a String.
    static func strip(_ s: String) -> String {
        String(String.UnicodeScalarView(strip(s.unicodeScalars)))
    }

    /// `s.split()`: runs of whitespace separate words; no empty words.
    static func splitOnWhitespace<C: Collection>(_ s: C) -> [CodePoints] where C.Element == Unicode.Scalar {
        s.split(whereSeparator: isWhitespace).map { Array($0) }
    }

    /// `s.lower()`: full lowercase mappings (one code point may become several, as İ -> i̇) and
    /// the context-dependent final sigma, as CPython implements them.
    static func lower<C: Collection>(_ s: C) -> CodePoints where C.Element == Unicode.Scalar {
        let scalars = Array(s)
        var result: CodePoints = []
        result.reserveCapacity(scalars.count)
        for (i, c) in scalars.enumerated() {
            if c.isASCII {
                result.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
            } else if c == "\u{03A3}" {
                result.append(isFinalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                result.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return result
    }

    /// CPython's Final_Sigma test: a cased letter before (skipping case-ignorable code points) and
    /// no cased letter after (skipping case-ignorable code points).
    private static func isFinalSigma(_ s: CodePoints, at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, s[j].properties.isCased else { return false }
        var k = i + 1
        while k < s.count, s[k].properties.isCaseIgnorable { k += 1 }
        return k == s.count || !s[k].properties.isCased
    }

    /// `float(s)`: Python's float syntax (surrounding whitespace, sign, `inf`/`infinity`/`nan` in
    /// any case, `_` between digits, any Unicode decimal digit), or nil where Python raises.
    static func parseFloat(_ s: String) -> Double? {
        // Unicode decimal digits become ASCII digits, as CPython does before parsing.
        var ascii = ""
        for c in strip(s.unicodeScalars) {
            if c.isASCII {
                ascii.unicodeScalars.append(c)
            } else if c.properties.numericType == .decimal, let value = c.properties.numericValue {
                ascii.unicodeScalars.append(Unicode.Scalar(UInt8(48 + Int(value))))
            } else {
                return nil
            }
        }
        var body = Substring(ascii)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        switch body.lowercased() {
        case "inf", "infinity": return negative ? -.infinity : .infinity
        case "nan": return .nan
        default: break
        }
        guard isDecimalLiteral(body) else { return nil }
        guard let magnitude = Double(body.replacingOccurrences(of: "_", with: "")) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// `digits [. [digits]] [exponent]` or `. digits [exponent]`, where digits may have single `_`
    /// between digits and exponent is `e|E [sign] digits`.
    private static func isDecimalLiteral(_ s: Substring) -> Bool {
        let chars = Array(s.utf8)
        var i = 0
        func digitRun() -> Bool {
            guard i < chars.count, chars[i] >= 48, chars[i] <= 57 else { return false }
            i += 1
            while i < chars.count {
                if chars[i] >= 48 && chars[i] <= 57 {
                    i += 1
                } else if chars[i] == 95, i + 1 < chars.count, chars[i + 1] >= 48, chars[i + 1] <= 57 {
                    i += 2
                } else {
                    break
                }
            }
            return true
        }
        let integerPart = digitRun()
        var fractionPart = false
        if i < chars.count, chars[i] == 46 {  // "."
            i += 1
            fractionPart = digitRun()
        }
        guard integerPart || fractionPart else { return false }
        if i < chars.count, chars[i] == 101 || chars[i] == 69 {  // e, E
            i += 1
            if i < chars.count, chars[i] == 43 || chars[i] == 45 { i += 1 }
            guard digitRun() else { return false }
        }
        return i == chars.count
    }
}
