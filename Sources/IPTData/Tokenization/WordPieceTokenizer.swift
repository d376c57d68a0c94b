import Foundation

/// BERT's WordPiece tokenizer, giving the same ids as Hugging Face's `tokenizers` (the tokenizer
/// transformers uses for BERT, MiniLM and their relatives).
///
/// The pipeline: added tokens that are not normalized (`[CLS]`, `[SEP]`, ... as written) split the
/// raw text; each remaining piece is normalized (``BertNormalizer``: clean-up, CJK spacing,
/// accent stripping and lower-casing as the checkpoint says) and split again at normalized added
/// tokens; ``BertPreTokenizer`` cuts it into words at whitespace and punctuation; each word
/// becomes the greedy longest-match WordPiece sequence (`un ##aff ##able`), or the unknown token
/// when some part of it is not in the vocabulary or it is longer than
/// ``maximumCharactersPerWord`` scalars. The post-processor puts `[CLS] ... [SEP]` around the ids.
///
/// Vocabulary lookups compare UTF-8 bytes (as Hugging Face does), not Swift's canonically
/// equivalent strings. Load one with ``load(folder:)`` or `loadTokenizer(folder:)`.
public final class WordPieceTokenizer: Tokenizer {
    public let vocabularySize: Int
    /// BERT has no beginning-of-sequence token (`[CLS]` is ``classificationTokenID``).
    public let bosTokenID: Int32?
    /// BERT has no end-of-sequence token (`[SEP]` is ``separatorTokenID``).
    public let eosTokenID: Int32?
    public let padTokenID: Int32?
    public let unkTokenID: Int32?
    /// `[CLS]`, if the vocabulary has it.
    public let classificationTokenID: Int32?
    /// `[SEP]`, if the vocabulary has it.
    public let separatorTokenID: Int32?
    /// `[MASK]`, if the vocabulary has it.
    public let maskTokenID: Int32?
    public let postProcessor: PostProcessor
    /// Text clean-up before splitting into words; `nil`: none.
    public let normalizer: BertNormalizer?
    /// The tokens recognised in text before normalization or after it, special ones included.
    public let addedTokens: [AddedToken]
    /// The prefix of word pieces that continue a word (`##`).
    public let continuingSubwordPrefix: String
    /// Longer words (in Unicode scalars) become the unknown token whole; default 100.
    public let maximumCharactersPerWord: Int

    private let idsByBytes: [[UInt8]: Int32]
    private let table: TokenTable
    private let unknownModelID: Int32
    private let rawSplitter: AddedTokenSplitter
    private let normalizedSplitter: AddedTokenSplitter
    private let preTokenizer = BertPreTokenizer()
    private let decoderCleansUp: Bool

    /// Everything a WordPiece tokenizer is made of, already checked against the vocabulary.
    struct Configuration {
        var vocabulary: [String: Int32]
        var unknownToken: String
        var continuingSubwordPrefix = "##"
        var maximumCharactersPerWord = 100
        var normalizer: BertNormalizer? = BertNormalizer()
        var addedTokens: [AddedToken] = []
        var postProcessor = PostProcessor()
        var roles = Roles()
        /// Whether the WordPiece decoder cleans up spaces before punctuation (`cleanup`).
        var decoderCleansUp = true
    }

    /// The ids of the special-token roles.
    struct Roles {
        var pad: Int32?
        var unk: Int32?
        var cls: Int32?
        var sep: Int32?
        var mask: Int32?
    }

    init(_ configuration: Configuration) {
        var idsByBytes: [[UInt8]: Int32] = [:]
        idsByBytes.reserveCapacity(configuration.vocabulary.count)
        for (token, id) in configuration.vocabulary { idsByBytes[Array(token.utf8)] = id }
        table = TokenTable(vocabulary: configuration.vocabulary, addedTokens: configuration.addedTokens)
        self.idsByBytes = idsByBytes
        vocabularySize = table.tokens.count
        // The loaders check that the unknown token is in the vocabulary.
        unknownModelID = configuration.vocabulary[configuration.unknownToken] ?? 0
        continuingSubwordPrefix = configuration.continuingSubwordPrefix
        maximumCharactersPerWord = configuration.maximumCharactersPerWord
        normalizer = configuration.normalizer
        addedTokens = configuration.addedTokens
        // Normalized tokens are looked for in the normalized text: one splitter each, one pass each.
        rawSplitter = AddedTokenSplitter(tokens: configuration.addedTokens.filter { !$0.isNormalized })
        normalizedSplitter = AddedTokenSplitter(tokens: configuration.addedTokens.filter(\.isNormalized).map { token in
            var normalized = token
            normalized.content = configuration.normalizer?.normalize(token.content[...]) ?? token.content
            return normalized
        })
        postProcessor = configuration.postProcessor
        decoderCleansUp = configuration.decoderCleansUp
        bosTokenID = nil
        eosTokenID = nil
        padTokenID = configuration.roles.pad
        unkTokenID = configuration.roles.unk ?? unknownModelID
        classificationTokenID = configuration.roles.cls
        separatorTokenID = configuration.roles.sep
        maskTokenID = configuration.roles.mask
    }

    public func id(forToken token: String) -> Int32? {
        addedTokens.last { $0.content == token }?.id ?? idsByBytes[Array(token.utf8)]
    }

    public func token(forID id: Int32) -> String? { table.token(forID: id) }

    public func encodeWithoutSpecialTokens(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        forEachPiece(of: text, splitter: rawSplitter, ids: &ids) { raw, ids in
            let normalized = normalizer?.normalize(raw[...]) ?? raw
            forEachPiece(of: normalized, splitter: normalizedSplitter, ids: &ids) { piece, ids in
                for word in preTokenizer.preTokenize(piece) { encodeWord(word, into: &ids) }
            }
        }
        return ids
    }

    /// Appends the ids of the added tokens `splitter` finds in `text` and hands each text piece
    /// between them to `body`.
    private func forEachPiece(of text: String, splitter: AddedTokenSplitter, ids: inout [Int32],
                              _ body: (String, inout [Int32]) -> Void) {
        if splitter.isEmpty { return body(text, &ids) }
        var text = text
        text.withUTF8 { utf8 in
            for piece in splitter.split(utf8) {
                switch piece {
                case .token(let id): ids.append(id)
                case .text(let range): body(String(decoding: UnsafeBufferPointer(rebasing: utf8[range]), as: UTF8.self), &ids)
                }
            }
        }
    }

    /// Greedy longest-match-first WordPiece of one word.
    private func encodeWord(_ word: Substring, into ids: inout [Int32]) {
        let bytes = Array(word.utf8)
        // Byte offsets of the scalar boundaries: pieces start and end only there.
        var boundaries = [0]
        for scalar in word.unicodeScalars { boundaries.append(boundaries.last! + UTF8.width(scalar)) }
        guard boundaries.count - 1 <= maximumCharactersPerWord else {
            ids.append(unknownModelID)
            return
        }
        let prefix = Array(continuingSubwordPrefix.utf8)
        var pieces: [Int32] = []
        var start = 0  // index into boundaries
        while start < boundaries.count - 1 {
            var end = boundaries.count - 1
            var found: Int32? = nil
            while start < end {
                let piece = bytes[boundaries[start]..<boundaries[end]]
                if let id = idsByBytes[start > 0 ? prefix + piece : Array(piece)] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else {
                ids.append(unknownModelID)
                return
            }
            pieces.append(found)
            start = end
        }
        ids += pieces
    }

    public func decode(_ ids: [Int32], skipSpecialTokens: Bool, cleanUpTokenizationSpaces: Bool) -> String {
        var text = ""
        var isFirst = true
        for id in ids {
            guard let token = token(forID: id), !(skipSpecialTokens && table.isSpecial(id)) else { continue }
            var piece: String
            if isFirst {
                piece = token
            } else if token.utf8.starts(with: continuingSubwordPrefix.utf8) {
                piece = String(decoding: token.utf8.dropFirst(continuingSubwordPrefix.utf8.count), as: UTF8.self)
            } else {
                piece = " " + token
            }
            if decoderCleansUp { piece = applyingReplacements(wordPieceCleanups, to: piece) }
            text += piece
            isFirst = false
        }
        return cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text
    }
}

/// The clean-up of Hugging Face's WordPiece decoder, applied to each token with its leading space.
private let wordPieceCleanups: [([UInt8], [UInt8])] = [
    (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
    (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
].map { (Array($0.0.utf8), Array($0.1.utf8)) }
