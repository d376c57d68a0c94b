/// A text tokenizer: text to token ids and back, with the special-token ids a model needs.
///
/// Model-agnostic on purpose (byte-level BPE today, WordPiece later): a conforming type supplies
/// plain encoding, its special-token template and decoding; truncation, padding and batches come
/// from the extension, the same for every tokenizer.
public protocol Tokenizer: Sendable {
    /// The number of rows an embedding table needs: one more than the largest id.
    var vocabularySize: Int { get }
    /// The beginning-of-sequence id (`<s>` for BART), if the vocabulary has one.
    var bosTokenID: Int32? { get }
    /// The end-of-sequence id (`</s>` for BART), if the vocabulary has one.
    var eosTokenID: Int32? { get }
    /// The padding id (`<pad>` for BART, none for GPT-2).
    var padTokenID: Int32? { get }
    /// The unknown-token id, if any.
    var unkTokenID: Int32? { get }
    /// The special tokens that `encode(_:addSpecialTokens: true)` puts around a text.
    var postProcessor: PostProcessor { get }

    /// The id of a vocabulary or added token, or nil.
    func id(forToken token: String) -> Int32?
    /// The vocabulary or added token of an id, or nil for an unused id.
    func token(forID id: Int32) -> String?
    /// The ids of `text`, without special tokens around it (special tokens written in the text,
    /// such as `"a<mask>b"`, are still recognised).
    func encodeWithoutSpecialTokens(_ text: String) -> [Int32]
    /// The text of `ids`.
    ///
    /// - Parameters:
    ///   - ids: token ids; ids without a token (negative, out of range) are left out.
    ///   - skipSpecialTokens: leave out special tokens such as `<s>` and `<pad>`.
    ///   - cleanUpTokenizationSpaces: apply transformers' `clean_up_tokenization` (see
    ///     `cleanUpTokenization(_:)`).
    func decode(_ ids: [Int32], skipSpecialTokens: Bool, cleanUpTokenizationSpaces: Bool) -> String
}

/// How `encode(batch:)` pads rows.
public enum Padding: Sendable, Equatable {
    /// Rows keep their own lengths.
    case none
    /// Rows are padded to the longest row of the batch.
    case longest
    /// Rows are padded to `maxLength` (transformers' `padding="max_length"`).
    case toMaxLength
}

/// Token ids of a batch of texts, with their attention masks (1 = token, 0 = padding).
public struct TokenizedBatch: Sendable, Equatable {
    /// One row of ids per text.
    public var inputIDs: [[Int32]]
    /// One row per text, as long as its ids row: 1 for a token, 0 for padding.
    public var attentionMask: [[Int32]]

    public init(inputIDs: [[Int32]], attentionMask: [[Int32]]) {
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask
    }
}

extension Tokenizer {
    /// The ids of `text`, by default with the special tokens of `postProcessor` around them.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        let ids = encodeWithoutSpecialTokens(text)
        return addSpecialTokens ? postProcessor.apply(to: ids) : ids
    }

    /// The ids of `text`, cut to at most `maxLength` ids. As in transformers, the text's own ids
    /// are cut from the right first, so the special tokens stay (`<s> ... </s>`).
    ///
    /// - Parameters:
    ///   - text: the text.
    ///   - addSpecialTokens: put the special tokens of `postProcessor` around the ids (default true).
    ///   - maxLength: the largest number of ids, special tokens included; nil for no limit.
    /// - Throws: `TokenizerError.invalidArgument` when `maxLength` cannot even hold the special tokens.
    public func encode(_ text: String, addSpecialTokens: Bool = true, maxLength: Int?) throws -> [Int32] {
        var ids = encodeWithoutSpecialTokens(text)
        if let maxLength {
            let reserved = addSpecialTokens ? postProcessor.addedCount : 0
            guard maxLength >= reserved else {
                throw TokenizerError.invalidArgument(
                    "maximum length \(maxLength) is shorter than the \(reserved) special tokens")
            }
            if ids.count > maxLength - reserved { ids.removeLast(ids.count - (maxLength - reserved)) }
        }
        return addSpecialTokens ? postProcessor.apply(to: ids) : ids
    }

    /// The ids of several texts, truncated and padded on the right with `padTokenID`.
    ///
    /// - Parameters:
    ///   - texts: the texts, one row each.
    ///   - addSpecialTokens: put the special tokens around each text (default true).
    ///   - maxLength: the largest number of ids per row, special tokens included (default nil: no limit).
    ///   - padding: how rows are padded (default `.longest`).
    /// - Throws: `TokenizerError.invalidArgument` when padding is asked for and there is no pad
    ///   token, when `.toMaxLength` has no `maxLength`, or when `maxLength` is too short.
    public func encode(batch texts: [String], addSpecialTokens: Bool = true, maxLength: Int? = nil,
                       padding: Padding = .longest) throws -> TokenizedBatch {
        var rows = try texts.map { try encode($0, addSpecialTokens: addSpecialTokens, maxLength: maxLength) }
        var masks = rows.map { [Int32](repeating: 1, count: $0.count) }
        let width: Int
        switch padding {
        case .none: return TokenizedBatch(inputIDs: rows, attentionMask: masks)
        case .longest: width = rows.map(\.count).max() ?? 0
        case .toMaxLength:
            guard let maxLength else { throw TokenizerError.invalidArgument("padding to the maximum length needs a maximum length") }
            width = maxLength
        }
        guard let pad = padTokenID else {
            throw TokenizerError.invalidArgument("padding needs a pad token, and this tokenizer has none")
        }
        for i in rows.indices where rows[i].count < width {
            let missing = width - rows[i].count
            rows[i].append(contentsOf: repeatElement(pad, count: missing))
            masks[i].append(contentsOf: repeatElement(0, count: missing))
        }
        return TokenizedBatch(inputIDs: rows, attentionMask: masks)
    }

    /// The text of `ids`, by default keeping special tokens and spaces as they are (transformers'
    /// `decode` defaults).
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        decode(ids, skipSpecialTokens: skipSpecialTokens, cleanUpTokenizationSpaces: false)
    }
}
