import Foundation
import IPTCore

/// Learns a byte-level BPE vocabulary from text, the way Hugging Face's `BpeTrainer` does, and
/// writes it in Hugging Face's format (vocab.json, merges.txt, tokenizer_config.json) so that
/// `ByteLevelBPETokenizer`, transformers and `tokenizers` all load it and give the same ids.
///
/// The text is split at the special tokens and pre-tokenized with the GPT-2 pattern; every
/// distinct pre-token becomes a word of byte symbols, counted. Then, repeatedly, the adjacent
/// symbol pair with the highest count (summed over words, weighted by word counts) is merged into
/// a new symbol, until the vocabulary is full or the best count falls below the minimum frequency.
/// Ties go to the pair with the smallest (left id, right id), so training is deterministic.
/// Counts are updated incrementally: a merge only revisits the words that contain its pair.
///
/// Ids: the special tokens first (`<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3, as in BART), then the
/// 256 byte symbols in byte order (all of them, always), then merged symbols in merge order, and
/// the mask token last.
public struct BPETrainer: Sendable {
    /// The special tokens of the trained vocabulary (BART's by default).
    public struct SpecialTokens: Sendable, Equatable {
        public var bos: String
        public var pad: String
        public var eos: String
        public var unk: String
        /// Gets the last id.
        public var mask: String

        /// - Parameters: the tokens' texts; the defaults are BART's `<s>`, `<pad>`, `</s>`, `<unk>`, `<mask>`.
        public init(bos: String = "<s>", pad: String = "<pad>", eos: String = "</s>", unk: String = "<unk>",
                    mask: String = "<mask>") {
            self.bos = bos
            self.pad = pad
            self.eos = eos
            self.unk = unk
            self.mask = mask
        }

        /// The four tokens that get ids 0...3, in order.
        var leading: [String] { [bos, pad, eos, unk] }
    }

    /// The number of ids of the trained vocabulary, special tokens included (at least 261: five
    /// special tokens and 256 bytes). Training may stop earlier when no pair is frequent enough.
    public var vocabularySize: Int
    /// A pair is merged only if it occurs at least this often (default 2, as transformers'
    /// `train_new_from_iterator` and `tokenizers`' ByteLevelBPETokenizer).
    public var minimumFrequency: Int
    public var specialTokens: SpecialTokens

    /// - Parameters:
    ///   - vocabularySize: the number of ids to reach, special tokens included.
    ///   - minimumFrequency: the smallest pair count that is still merged (default 2).
    ///   - specialTokens: the special tokens (default BART's).
    public init(vocabularySize: Int, minimumFrequency: Int = 2, specialTokens: SpecialTokens = SpecialTokens()) {
        self.vocabularySize = vocabularySize
        self.minimumFrequency = minimumFrequency
        self.specialTokens = specialTokens
    }

    /// Learns the merges from `lines`.
    ///
    /// - Throws: `TokenizerError.invalidArgument` when the vocabulary size cannot hold the special
    ///   tokens and the 256 bytes, or the special tokens are not five distinct non-empty texts.
    public func train<Lines: Sequence>(lines: Lines) throws -> TrainedBPE where Lines.Element == String {
        let specials = specialTokens.leading + [specialTokens.mask]
        guard Set(specials).count == 5, !specials.contains(where: \.isEmpty) else {
            throw TokenizerError.invalidArgument("the five special tokens must be distinct and non-empty: \(specials)")
        }
        guard vocabularySize >= 261 else {
            throw TokenizerError.invalidArgument("a vocabulary size of \(vocabularySize) cannot hold the 5 special tokens and 256 bytes")
        }
        guard minimumFrequency >= 1 else {
            throw TokenizerError.invalidArgument("the minimum frequency must be at least 1, not \(minimumFrequency)")
        }
        var state = MergeState(words: countWords(lines), firstSymbolID: Int32(specialTokens.leading.count))
        let merges = state.learnMerges(maximumTokens: vocabularySize - specials.count, minimumFrequency: minimumFrequency)
        return TrainedBPE(tokens: specialTokens.leading + state.tokens.map { ByteEncoder.encode($0) } + [specialTokens.mask],
                          merges: merges.map { MergeRule(left: ByteEncoder.encode(state.bytes(of: $0.left)),
                                                         right: ByteEncoder.encode(state.bytes(of: $0.right))) },
                          specialTokens: specialTokens)
    }

    /// Distinct pre-tokens and how often each occurs.
    private func countWords<Lines: Sequence>(_ lines: Lines) -> [(bytes: [UInt8], count: Int)] where Lines.Element == String {
        let splitter = AddedTokenSplitter(tokens: (specialTokens.leading + [specialTokens.mask]).enumerated().map {
            AddedToken(content: $0.element, id: Int32($0.offset))
        })
        let preTokenizer = ByteLevelPreTokenizer()
        var counts: [String: Int] = [:]
        for var line in lines {
            line.withUTF8 { utf8 in
                for piece in splitter.split(utf8) {
                    guard case .text(let range) = piece else { continue }
                    let text = UnsafeBufferPointer(rebasing: utf8[range])
                    preTokenizer.forEachPreToken(in: text) { word in
                        counts[String(decoding: UnsafeBufferPointer(rebasing: text[word]), as: UTF8.self), default: 0] += 1
                    }
                }
            }
        }
        return counts.map { (Array($0.key.utf8), $0.value) }
    }
}

/// The merge loop over counted words, with incremental pair counts.
private struct MergeState {
    /// A pair of symbol ids packed as left << 32 | right.
    typealias Pair = UInt64

    /// Heap order: the highest count first, then the smallest pair.
    struct Candidate: Comparable {
        let count: Int
        let pair: Pair
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.count != b.count ? a.count > b.count : a.pair < b.pair
        }
    }

    /// The bytes of every symbol, by id minus `firstSymbolID` (the 256 bytes, then merged symbols).
    private(set) var tokens: [[UInt8]]
    private var idsOfTokens: [[UInt8]: Int32] = [:]
    private let firstSymbolID: Int32
    private var words: [[Int32]]
    private let wordCounts: [Int]
    private var pairCounts: [Pair: Int] = [:]
    /// The words in which a pair may occur (a superset: entries are not removed when a pair goes away).
    private var wordsWithPair: [Pair: [Int32]] = [:]

    init(words counted: [(bytes: [UInt8], count: Int)], firstSymbolID: Int32) {
        self.firstSymbolID = firstSymbolID
        tokens = (0..<256).map { [UInt8($0)] }
        for (index, token) in tokens.enumerated() { idsOfTokens[token] = firstSymbolID + Int32(index) }
        words = counted.map { $0.bytes.map { firstSymbolID + Int32($0) } }
        wordCounts = counted.map(\.count)
        for (index, word) in words.enumerated() where word.count > 1 {
            for i in 0..<(word.count - 1) {
                let pair = Self.pair(word[i], word[i + 1])
                pairCounts[pair, default: 0] += wordCounts[index]
                if wordsWithPair[pair]?.last != Int32(index) { wordsWithPair[pair, default: []].append(Int32(index)) }
            }
        }
    }

    /// Merges until there are `maximumTokens` symbols (special tokens excluded) or the best pair
    /// occurs fewer than `minimumFrequency` times; returns the merges as (left id, right id).
    mutating func learnMerges(maximumTokens: Int, minimumFrequency: Int) -> [(left: Int32, right: Int32)] {
        var heap = BinaryHeap<Candidate>()
        for (pair, count) in pairCounts { heap.push(Candidate(count: count, pair: pair)) }
        var merges: [(left: Int32, right: Int32)] = []
        var lastVisit = [Int](repeating: -1, count: words.count)
        while tokens.count < maximumTokens, let candidate = heap.pop() {
            let count = pairCounts[candidate.pair] ?? 0
            if count != candidate.count {
                // A stale entry: the pair's count went down since it was pushed.
                if count > 0 { heap.push(Candidate(count: count, pair: candidate.pair)) }
                continue
            }
            if count < minimumFrequency { break }
            let left = Int32(truncatingIfNeeded: candidate.pair >> 32), right = Int32(truncatingIfNeeded: candidate.pair)
            let merged = bytes(of: left) + bytes(of: right)
            let mergedID: Int32
            if let existing = idsOfTokens[merged] {
                mergedID = existing  // the same bytes were already made from another pair
            } else {
                mergedID = firstSymbolID + Int32(tokens.count)
                tokens.append(merged)
                idsOfTokens[merged] = mergedID
            }
            merges.append((left, right))

            var deltas: [Pair: Int] = [:]
            for index in wordsWithPair.removeValue(forKey: candidate.pair) ?? [] where lastVisit[Int(index)] != merges.count {
                lastVisit[Int(index)] = merges.count
                let word = Int(index)
                guard let mergedWord = Self.merge(words[word], left, right, into: mergedID) else { continue }
                let weight = wordCounts[word]
                for (pair, sign) in Self.pairs(of: words[word]).map({ ($0, -1) }) + Self.pairs(of: mergedWord).map({ ($0, 1) }) {
                    deltas[pair, default: 0] += sign * weight
                }
                for pair in Self.pairs(of: mergedWord) where Self.contains(pair, mergedID) && wordsWithPair[pair]?.last != index {
                    wordsWithPair[pair, default: []].append(index)
                }
                words[word] = mergedWord
            }
            for (pair, delta) in deltas where delta != 0 {
                let updated = (pairCounts[pair] ?? 0) + delta
                pairCounts[pair] = updated > 0 ? updated : nil
                if delta > 0 { heap.push(Candidate(count: updated, pair: pair)) }
            }
        }
        return merges
    }

    /// The bytes a symbol id stands for.
    func bytes(of id: Int32) -> [UInt8] { tokens[Int(id - firstSymbolID)] }

    private static func pair(_ left: Int32, _ right: Int32) -> Pair {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    private static func contains(_ pair: Pair, _ id: Int32) -> Bool {
        Int32(truncatingIfNeeded: pair >> 32) == id || Int32(truncatingIfNeeded: pair) == id
    }

    private static func pairs(of word: [Int32]) -> [Pair] {
        word.count < 2 ? [] : (0..<(word.count - 1)).map { pair(word[$0], word[$0 + 1]) }
    }

    /// `word` with every occurrence of (left, right) replaced by `merged`, left to right without
    /// overlaps (`a a a` with (a, a) gives `aa a`); nil when the pair does not occur.
    private static func merge(_ word: [Int32], _ left: Int32, _ right: Int32, into merged: Int32) -> [Int32]? {
        var result: [Int32] = []
        result.reserveCapacity(word.count)
        var i = 0, found = false
        while i < word.count {
            if i + 1 < word.count && word[i] == left && word[i + 1] == right {
                result.append(merged)
                i += 2
                found = true
            } else {
                result.append(word[i])
                i += 1
            }
        }
        return found ? result : nil
    }
}

/// One merge rule: two symbols (as vocabulary files spell them) that become one.
public struct MergeRule: Sendable, Equatable, Hashable {
    public var left: String
    public var right: String

    public init(left: String, right: String) {
        self.left = left
        self.right = right
    }
}

/// A trained byte-level BPE vocabulary: tokens by id and merges by rank.
public struct TrainedBPE: Sendable, Equatable {
    /// Every token, indexed by id, spelled as in vocab.json (bytes through GPT-2's byte table).
    public let tokens: [String]
    /// The merges in rank order.
    public let merges: [MergeRule]
    public let specialTokens: BPETrainer.SpecialTokens

    /// Writes vocab.json, merges.txt and tokenizer_config.json (BART's tokenizer class and special
    /// tokens, `<mask>` taking the whitespace before it as in BART's Hub tokenizer) into `folder`.
    ///
    /// The files are written into a staging folder next to `folder`, which then replaces it, so a
    /// reader never sees a half-written vocabulary.
    ///
    /// - Parameters:
    ///   - folder: the output folder; created if missing.
    ///   - overwrite: replace a folder that already has files (default false: that is an error).
    /// - Throws: `TokenizerError.invalidArgument` for a non-empty folder without `overwrite`;
    ///   IPTCore's `FileWriteError` naming what could not be written (the old folder is then intact).
    public func write(to folder: URL, overwrite: Bool = false) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = manager.fileExists(atPath: folder.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw TokenizerError.invalidArgument("\(folder.path): exists and is not a folder")
        }
        if exists, !overwrite, !((try? manager.contentsOfDirectory(atPath: folder.path))?.isEmpty ?? true) {
            throw TokenizerError.invalidArgument("\(folder.path): the folder is not empty (pass overwrite to replace it)")
        }
        try AtomicFile.writeFolder(folder) { staging in
            try AtomicFile.write(vocabularyJSON(), to: staging.appendingPathComponent("vocab.json").path)
            try AtomicFile.write("#version: 0.2\n" + merges.map { "\($0.left) \($0.right)\n" }.joined(),
                                 to: staging.appendingPathComponent("merges.txt").path)
            try AtomicFile.write(try tokenizerConfigJSON(), to: staging.appendingPathComponent("tokenizer_config.json").path)
        }
    }

    /// vocab.json with keys in id order, as `tokenizers` writes it.
    private func vocabularyJSON() -> String {
        "{" + tokens.enumerated().map { "\(jsonString($0.element)):\($0.offset)" }.joined(separator: ",") + "}\n"
    }

    private func tokenizerConfigJSON() throws -> Data {
        let roles: [(String, String)] = [("bos_token", specialTokens.bos), ("pad_token", specialTokens.pad),
                                          ("eos_token", specialTokens.eos), ("unk_token", specialTokens.unk),
                                          ("mask_token", specialTokens.mask), ("cls_token", specialTokens.bos),
                                          ("sep_token", specialTokens.eos)]
        var config: [String: Any] = Dictionary(uniqueKeysWithValues: roles)
        var decoder: [String: Any] = [:]
        for content in specialTokens.leading + [specialTokens.mask] {
            guard let id = tokens.firstIndex(of: content) else { continue }
            decoder[String(id)] = ["content": content, "lstrip": content == specialTokens.mask, "normalized": false,
                                   "rstrip": false, "single_word": false, "special": true]
        }
        config["added_tokens_decoder"] = decoder
        config["tokenizer_class"] = "BartTokenizer"
        config["add_prefix_space"] = false
        config["clean_up_tokenization_spaces"] = false
        return try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped, the rest as is.
private func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
