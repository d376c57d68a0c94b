import Foundation

/// Byte-level BPE as GPT-2, RoBERTa and BART use it, giving the same ids as Hugging Face's
/// `tokenizers` for every input.
///
/// The pipeline: added tokens (`<s>`, `<mask>`...) split the text first; each remaining piece is
/// pre-tokenized with the GPT-2 pattern (`ByteLevelPreTokenizer`); each pre-token's bytes go
/// through the ranked merges (`BytePairEncoder`, behind a word cache); the post-processor puts
/// `<s> ... </s>` around the ids. Decoding maps ids back to bytes and reads them as UTF-8.
///
/// Load one with `ByteLevelBPETokenizer.load(folder:)`. It is safe to use from several threads
/// (the word cache takes a lock per call).
public final class ByteLevelBPETokenizer: Tokenizer {
    public let vocabularySize: Int
    public let bosTokenID: Int32?
    public let eosTokenID: Int32?
    public let padTokenID: Int32?
    public let unkTokenID: Int32?
    /// The mask id (`<mask>` for BART), if any.
    public let maskTokenID: Int32?
    public let postProcessor: PostProcessor
    /// The tokens recognised in text before pre-tokenization, special ones included.
    public let addedTokens: [AddedToken]
    /// How text pieces are split into pre-tokens.
    public let preTokenizer: ByteLevelPreTokenizer

    private let model: BytePairEncoder
    private let splitter: AddedTokenSplitter
    private let decoder: ByteLevelDecoder
    private let idsByToken: [String: Int32]
    private let table: TokenTable
    /// With `ignore_merges`, a pre-token that is itself in the vocabulary is one token.
    private let wholeWordIDs: [String: Int32]?
    private let cache: WordCache

    /// Everything a byte-level BPE tokenizer is made of, already checked against the vocabulary.
    struct Configuration {
        var vocabulary: [String: Int32]
        var merges: [BytePairEncoder.Merge]
        var addedTokens: [AddedToken]
        var preTokenizer = ByteLevelPreTokenizer()
        var postProcessor = PostProcessor()
        var roles = SpecialTokenRoles()
        /// The model's `unk_token` id, used for bytes outside the vocabulary.
        var modelUnknownID: Int32?
        var fusesUnknown = false
        var ignoresMerges = false
    }

    /// The ids of the special-token roles a model asks for.
    struct SpecialTokenRoles {
        var bos: Int32?
        var eos: Int32?
        var pad: Int32?
        var unk: Int32?
        var mask: Int32?
    }

    init(_ configuration: Configuration, cacheCapacity: Int) {
        cache = WordCache(capacity: cacheCapacity)
        var byteSymbols = [Int32](repeating: -1, count: 256)
        for (byte, character) in ByteEncoder.characters.enumerated() {
            byteSymbols[byte] = configuration.vocabulary[String(Character(character))] ?? -1
        }
        model = BytePairEncoder(byteSymbols: byteSymbols, merges: configuration.merges,
                                unknownID: configuration.modelUnknownID, fusesUnknown: configuration.fusesUnknown)
        var idsByToken = configuration.vocabulary
        for token in configuration.addedTokens { idsByToken[token.content] = token.id }
        table = TokenTable(vocabulary: configuration.vocabulary, addedTokens: configuration.addedTokens)
        self.idsByToken = idsByToken
        vocabularySize = table.tokens.count
        wholeWordIDs = configuration.ignoresMerges ? configuration.vocabulary : nil
        addedTokens = configuration.addedTokens
        splitter = AddedTokenSplitter(tokens: configuration.addedTokens)
        decoder = ByteLevelDecoder(tokens: table.tokens)
        preTokenizer = configuration.preTokenizer
        postProcessor = configuration.postProcessor
        bosTokenID = configuration.roles.bos
        eosTokenID = configuration.roles.eos
        padTokenID = configuration.roles.pad
        unkTokenID = configuration.roles.unk
        maskTokenID = configuration.roles.mask
    }

    public func id(forToken token: String) -> Int32? { idsByToken[token] }

    public func token(forID id: Int32) -> String? { table.token(forID: id) }

    public func encodeWithoutSpecialTokens(_ text: String) -> [Int32] {
        var text = text
        return text.withUTF8 { utf8 in
            var ids: [Int32] = []
            ids.reserveCapacity(utf8.count / 3 + 4)
            cache.withLock { cache in
                if splitter.isEmpty {
                    encodePiece(utf8, into: &ids, cache: cache)
                    return
                }
                for piece in splitter.split(utf8) {
                    switch piece {
                    case .token(let id): ids.append(id)
                    case .text(let range): encodePiece(UnsafeBufferPointer(rebasing: utf8[range]), into: &ids, cache: cache)
                    }
                }
            }
            return ids
        }
    }

    /// Pre-tokenizes a text piece (no added tokens in it) and encodes each pre-token.
    private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], cache: WordCache) {
        preTokenizer.withPreparedBytes(piece) { bytes in
            preTokenizer.forEachPreToken(in: bytes) { range in
                let word = UnsafeBufferPointer(rebasing: bytes[range])
                if cache.appendIDs(of: word, to: &ids) { return }
                let start = ids.count
                if let wholeWordIDs, let id = wholeWordIDs[ByteEncoder.encode(word)] {
                    ids.append(id)
                } else {
                    model.encode(word, into: &ids)
                }
                cache.insert(word, ids: ids[start...])
            }
        }
    }

    public func decode(_ ids: [Int32], skipSpecialTokens: Bool, cleanUpTokenizationSpaces: Bool) -> String {
        let text = decoder.decode(ids) { id in skipSpecialTokens && table.isSpecial(id) }
        return cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text
    }
}
