/// A token recognised in raw text before pre-tokenization: Hugging Face's `AddedToken`. Special
/// tokens such as `<s>` and `<mask>` are added tokens with `isSpecial` set.
public struct AddedToken: Sendable, Equatable, Hashable {
    /// The text that stands for the token (matched byte for byte).
    public var content: String
    /// The token's id.
    public var id: Int32
    /// Whether decoding with `skipSpecialTokens` drops it.
    public var isSpecial: Bool
    /// Whether a match also takes the whitespace before it (`lstrip`; BART's Hub tokenizer sets it
    /// for `<mask>`, so `"a <mask>"` encodes as `a`, `<mask>`).
    public var stripsLeft: Bool
    /// Whether a match also takes the whitespace after it (`rstrip`).
    public var stripsRight: Bool
    /// Whether it only matches where it is not part of a longer word (`single_word`).
    public var isSingleWord: Bool
    /// Whether it is matched after the non-normalized tokens, in what they left (`normalized`;
    /// byte-level BPE has no normalizer, so only this order differs).
    public var isNormalized: Bool

    /// - Parameters:
    ///   - content: the text of the token.
    ///   - id: its id.
    ///   - isSpecial: skipped by decoding with `skipSpecialTokens` (default true).
    ///   - stripsLeft: takes the whitespace before a match (default false).
    ///   - stripsRight: takes the whitespace after a match (default false).
    ///   - isSingleWord: only matches as a whole word (default false).
    ///   - isNormalized: matched in a second pass (default false, as for special tokens).
    public init(content: String, id: Int32, isSpecial: Bool = true, stripsLeft: Bool = false, stripsRight: Bool = false,
                isSingleWord: Bool = false, isNormalized: Bool = false) {
        self.content = content
        self.id = id
        self.isSpecial = isSpecial
        self.stripsLeft = stripsLeft
        self.stripsRight = stripsRight
        self.isSingleWord = isSingleWord
        self.isNormalized = isNormalized
    }
}

/// Splits text at added tokens, as Hugging Face's `AddedVocabulary` does: first at the
/// non-normalized tokens, then at the normalized ones inside the remaining text. At each position
/// the longest token that starts there wins (leftmost-longest); a rejected `isSingleWord` match is
/// skipped over whole, as the Aho-Corasick iterator does.
struct AddedTokenSplitter: Sendable {
    /// A stretch of the text: plain text (a byte range) or an added token.
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    private struct Pattern: Sendable {
        let bytes: [UInt8]
        let token: AddedToken
    }

    /// Per pass (non-normalized, normalized): patterns by first byte, longest first.
    private let passes: [[[Pattern]]]

    init(tokens: [AddedToken]) {
        passes = [false, true].map { normalized in
            var byFirstByte = [[Pattern]](repeating: [], count: 256)
            for token in tokens where token.isNormalized == normalized && !token.content.isEmpty {
                let bytes = Array(token.content.utf8)
                byFirstByte[Int(bytes[0])].append(Pattern(bytes: bytes, token: token))
            }
            return byFirstByte.map { $0.sorted { $0.bytes.count > $1.bytes.count } }
        }.filter { pass in pass.contains { !$0.isEmpty } }
    }

    /// Whether there are no added tokens (the whole text is one piece).
    var isEmpty: Bool { passes.isEmpty }

    /// The pieces of `text` (valid UTF-8), without empty text pieces.
    func split(_ text: UnsafeBufferPointer<UInt8>) -> [Piece] {
        var pieces: [Piece] = text.isEmpty ? [] : [.text(0..<text.count)]
        for pass in passes {
            var refined: [Piece] = []
            for piece in pieces {
                guard case .text(let range) = piece else { refined.append(piece); continue }
                split(text, range, pass, into: &refined)
            }
            pieces = refined
        }
        return pieces
    }

    private func split(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ patterns: [[Pattern]],
                       into pieces: inout [Piece]) {
        var pieceStart = range.lowerBound  // start of the text not yet emitted
        var position = range.lowerBound
        while position < range.upperBound {
            guard let pattern = longestMatch(in: text, at: position, before: range.upperBound, patterns) else {
                position += 1
                continue
            }
            var start = position, stop = position + pattern.bytes.count
            position = stop
            let token = pattern.token
            if token.isSingleWord {
                let wordBefore = start > range.lowerBound && isWordCharacter(lastScalar(text, before: start))
                let wordAfter = stop < range.upperBound && isWordCharacter(firstScalar(text, at: stop))
                if wordBefore || wordAfter { continue }
            }
            if token.stripsLeft {
                start = max(startOfTrailingWhitespace(text, from: range.lowerBound, to: start), pieceStart)
            }
            if token.stripsRight {
                stop = endOfLeadingWhitespace(text, from: stop, to: range.upperBound)
                position = stop
            }
            if pieceStart < start { pieces.append(.text(pieceStart..<start)) }
            pieces.append(.token(token.id))
            pieceStart = stop
        }
        if pieceStart < range.upperBound { pieces.append(.text(pieceStart..<range.upperBound)) }
    }

    @inline(__always)
    private func longestMatch(in text: UnsafeBufferPointer<UInt8>, at position: Int, before end: Int,
                              _ patterns: [[Pattern]]) -> Pattern? {
        let candidates = patterns[Int(text[position])]
        for pattern in candidates where pattern.bytes.count <= end - position {
            var matches = true
            for (offset, byte) in pattern.bytes.enumerated() where text[position + offset] != byte {
                matches = false
                break
            }
            if matches { return pattern }
        }
        return nil
    }
}

// MARK: - Scalars around a match (the text is valid UTF-8)

private func scalar(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int) {
    let lead = text[i]
    if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
    let (value, length) = decodeMultiByte(text, at: i, lead: lead)
    return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
}

private func firstScalar(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> Unicode.Scalar {
    scalar(text, at: i).0
}

/// The start of the scalar that ends at `end`.
private func startOfScalar(_ text: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
    var i = end - 1
    while i > 0 && text[i] & 0xC0 == 0x80 { i -= 1 }
    return i
}

private func lastScalar(_ text: UnsafeBufferPointer<UInt8>, before end: Int) -> Unicode.Scalar {
    scalar(text, at: startOfScalar(text, before: end)).0
}

/// Where the whitespace run that ends at `end` starts (no earlier than `lowerBound`): Rust's
/// `\s*$`, Unicode White_Space.
private func startOfTrailingWhitespace(_ text: UnsafeBufferPointer<UInt8>, from lowerBound: Int, to end: Int) -> Int {
    var start = end
    while start > lowerBound {
        let previous = startOfScalar(text, before: start)
        guard scalar(text, at: previous).0.properties.isWhitespace else { break }
        start = previous
    }
    return start
}

/// Where the whitespace run that starts at `start` ends (no later than `upperBound`).
private func endOfLeadingWhitespace(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to upperBound: Int) -> Int {
    var end = start
    while end < upperBound {
        let (next, length) = scalar(text, at: end)
        guard next.properties.isWhitespace else { break }
        end += length
    }
    return end
}

/// Rust regex's Unicode `\w`: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
private func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
    let properties = scalar.properties
    if properties.isAlphabetic || properties.isJoinControl { return true }
    switch properties.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
    default: return false
    }
}
