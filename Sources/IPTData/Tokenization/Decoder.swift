/// Turns byte-level token ids back into text, as Hugging Face's `ByteLevel` decoder does: the
/// tokens' bytes are concatenated and read as UTF-8, each invalid sequence becoming U+FFFD.
struct ByteLevelDecoder: Sendable {
    /// The bytes of every id, back to back; id `i` owns `bytes[starts[i]..<starts[i + 1]]`.
    private let bytes: [UInt8]
    private let starts: [Int]

    /// - Parameter tokens: the token of each id (nil for unused ids). A token whose characters are
    ///   all in GPT-2's byte table stands for those bytes; any other token (an added token with a
    ///   plain space, say) stands for its own UTF-8, as in Hugging Face.
    init(tokens: [String?]) {
        var bytes: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(tokens.count + 1)
        for token in tokens {
            if let token { bytes.append(contentsOf: ByteEncoder.decode(token) ?? Array(token.utf8)) }
            starts.append(bytes.count)
        }
        self.bytes = bytes
        self.starts = starts
    }

    /// The text of `ids`, leaving out ids for which `isSkipped` is true and ids that have no token
    /// (negative or out of range), as Hugging Face leaves out unknown ids.
    func decode(_ ids: [Int32], isSkipped: (Int32) -> Bool) -> String {
        var text: [UInt8] = []
        for id in ids {
            let index = Int(id)
            guard index >= 0, index + 1 < starts.count, !isSkipped(id) else { continue }
            text.append(contentsOf: bytes[starts[index]..<starts[index + 1]])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// transformers' `clean_up_tokenization`: removes the spaces that word-level tokenizers put before
/// punctuation and English contractions (`" ."`→`"."`, `" n't"`→`"n't"`, ...), replacement by
/// replacement in transformers' order. It works on code points, like Python's `str.replace`, not on
/// Swift's grapheme clusters (`" .\u{301}"` still loses its space).
public func cleanUpTokenization(_ text: String) -> String {
    var bytes = Array(text.utf8)
    for (pattern, replacement) in tokenizationCleanups {
        bytes = replacingAll(pattern, with: replacement, in: bytes)
    }
    return String(decoding: bytes, as: UTF8.self)
}

private let tokenizationCleanups: [([UInt8], [UInt8])] = [
    (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
    (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
].map { (Array($0.0.utf8), Array($0.1.utf8)) }

/// Left-to-right, non-overlapping replacement (Python's `str.replace`). The patterns are ASCII, so
/// working on UTF-8 bytes never splits a character.
private func replacingAll(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
    var result: [UInt8] = []
    result.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
        if bytes[i] == pattern[0], i + pattern.count <= bytes.count,
           bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
            result.append(contentsOf: replacement)
            i += pattern.count
        } else {
            result.append(bytes[i])
            i += 1
        }
    }
    return result
}
