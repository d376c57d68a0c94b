/// GPT-2's pre-tokenizer: splits text into the pieces that byte-level BPE then encodes one by one.
///
/// It is a hand-written scanner with exactly the semantics of the pattern that Hugging Face's
/// `tokenizers` runs through Oniguruma (leftmost-first alternation, greedy runs):
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// - `\p{L}` is general category L* (Lu Ll Lt Lm Lo), `\p{N}` is N* (Nd Nl No).
/// - `\s` is Oniguruma's Unicode whitespace: U+0009...U+000D, U+0085 and categories Zs, Zl, Zp.
///   Unlike Python's `str.isspace`, U+001C...U+001F are *not* whitespace here.
/// - The optional prefix is U+0020 only: `" word"` is one piece, `"\tword"` two.
/// - `\s+(?!\S)` leaves the last whitespace character of a run that is followed by text to that
///   text: `"a   b"` gives `a`, `"  "`, `" b"`; a run at the end of the text stays whole.
/// - The contractions are lowercase U+0027 only (`'S` and `’s` are not contractions).
public struct ByteLevelPreTokenizer: Sendable {
    /// Whether a space is put before every text piece that does not already start with one, so
    /// the first word is encoded like the others (`add_prefix_space`; off for GPT-2 and BART).
    public var addPrefixSpace: Bool
    /// Whether to split with the GPT-2 pattern at all (`use_regex`); when false each text piece is
    /// one pre-token.
    public var usesGPT2Pattern: Bool

    /// - Parameters:
    ///   - addPrefixSpace: put a space before text that does not start with one (default false).
    ///   - usesGPT2Pattern: split with the GPT-2 pattern (default true).
    public init(addPrefixSpace: Bool = false, usesGPT2Pattern: Bool = true) {
        self.addPrefixSpace = addPrefixSpace
        self.usesGPT2Pattern = usesGPT2Pattern
    }

    /// The pre-tokens of `text`, in order (the prefix space, when added, is part of the first).
    public func preTokenize(_ text: String) -> [String] {
        var pieces: [String] = []
        var text = text
        text.withUTF8 { utf8 in
            withPreparedBytes(utf8) { bytes in
                forEachPreToken(in: bytes) { range in
                    pieces.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
                }
            }
        }
        return pieces
    }

    /// Calls `body` with `utf8`, or with a copy that starts with a space when `addPrefixSpace`
    /// asks for one. An empty text stays empty (Hugging Face drops empty pieces before this step).
    @inline(__always)
    func withPreparedBytes<Result>(_ utf8: UnsafeBufferPointer<UInt8>,
                                   _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        guard addPrefixSpace, let first = utf8.first, first != 0x20 else { return try body(utf8) }
        var spaced = [UInt8](repeating: 0x20, count: utf8.count + 1)
        spaced.withUnsafeMutableBufferPointer { _ = $0[1...].initialize(from: utf8) }
        return try spaced.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the byte range of each pre-token of `bytes` (valid UTF-8), in order.
    @inline(__always)
    func forEachPreToken(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        guard !bytes.isEmpty else { return }
        guard usesGPT2Pattern else { return body(0..<bytes.count) }
        let classes = Self.basicPlaneClasses
        let end = bytes.count

        /// The scalar starting at `i`: its class and its length in bytes.
        @inline(__always) func scalar(at i: Int) -> (CharacterClass, Int) {
            let lead = bytes[i]
            if lead < 0x80 { return (classes[Int(lead)], 1) }
            let (value, length) = decodeMultiByte(bytes, at: i, lead: lead)
            return (value < 0x10000 ? classes[Int(value)] : Self.computeClass(value), length)
        }
        /// The end of the run of `kind` scalars starting at `i`.
        @inline(__always) func endOfRun(of kind: CharacterClass, from i: Int) -> Int {
            var j = i
            while j < end {
                let (kindJ, length) = scalar(at: j)
                if kindJ != kind { break }
                j += length
            }
            return j
        }

        var i = 0
        while i < end {
            let lead = bytes[i]
            // 's 't 're 've 'm 'll 'd
            if lead == 0x27, i + 1 < end {
                let b1 = bytes[i + 1]
                if b1 == 0x73 || b1 == 0x74 || b1 == 0x6D || b1 == 0x64 {  // s t m d
                    body(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < end {
                    let b2 = bytes[i + 2]
                    if (b1 == 0x72 && b2 == 0x65) || (b1 == 0x76 && b2 == 0x65) || (b1 == 0x6C && b2 == 0x6C) {  // re ve ll
                        body(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+" with the optional space.
            if lead == 0x20, i + 1 < end {
                let (next, _) = scalar(at: i + 1)
                if next != .whitespace {
                    let j = endOfRun(of: next, from: i + 1)
                    body(i..<j); i = j; continue
                }
            }
            let (kind, length) = scalar(at: i)
            if kind != .whitespace {
                let j = endOfRun(of: kind, from: i + length)
                body(i..<j); i = j; continue
            }
            // "\s+(?!\S)|\s+": a whitespace run followed by text gives its last character to that text.
            var j = i + length, lastStart = i
            while j < end {
                let (kindJ, lengthJ) = scalar(at: j)
                if kindJ != .whitespace { break }
                lastStart = j
                j += lengthJ
            }
            let stop = (j < end && lastStart > i) ? lastStart : j
            body(i..<stop)
            i = stop
        }
    }
}

/// Decodes the multi-byte UTF-8 sequence starting at `i` (the caller guarantees valid UTF-8).
@inline(__always)
func decodeMultiByte(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, lead: UInt8) -> (UInt32, Int) {
    if lead < 0xE0 {
        return (UInt32(lead & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2)
    }
    if lead < 0xF0 {
        return (UInt32(lead & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
    }
    return (UInt32(lead & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
            | UInt32(bytes[i + 3] & 0x3F), 4)
}

extension ByteLevelPreTokenizer {
    /// The four classes of characters the GPT-2 pattern distinguishes.
    public enum CharacterClass: UInt8, Sendable {
        /// `\p{L}`: general category Lu, Ll, Lt, Lm or Lo.
        case letter
        /// `\p{N}`: general category Nd, Nl or No.
        case number
        /// `\s` in Oniguruma: U+0009...U+000D, U+0085, categories Zs, Zl, Zp.
        case whitespace
        /// Everything else, unassigned characters included.
        case other
    }

    /// The Unicode version of the reference's tables (Oniguruma inside `tokenizers` 0.23). Swift
    /// knows newer characters (4,657 letters and numbers of Unicode 17.0); there they are
    /// unassigned, so class `other`, and so they are here.
    public static let referenceUnicodeVersion = (major: 16, minor: 0)

    /// The class the GPT-2 pattern gives `scalar`, as `tokenizers` classes it.
    public static func characterClass(of scalar: Unicode.Scalar) -> CharacterClass {
        scalar.value < 0x10000 ? basicPlaneClasses[Int(scalar.value)] : computeClass(scalar.value)
    }

    /// Classes of U+0000...U+FFFF, computed once: looking up the general category per character
    /// would dominate the scanner's time on non-ASCII text.
    static let basicPlaneClasses: [CharacterClass] = (0..<UInt32(0x10000)).map(computeClass)

    static func computeClass(_ value: UInt32) -> CharacterClass {
        if (0x09...0x0D).contains(value) || value == 0x85 { return .whitespace }
        guard let scalar = Unicode.Scalar(value), let age = scalar.properties.age,
              (age.major, age.minor) <= referenceUnicodeVersion
        else { return .other }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return .whitespace
        default:
            return .other
        }
    }
}
