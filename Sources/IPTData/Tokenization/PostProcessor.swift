/// Adds special tokens around an encoded text: BART and RoBERTa's `<s> ... </s>`
/// (`RobertaProcessing`), BERT's `[CLS] ... [SEP]`, or nothing (GPT-2).
public struct PostProcessor: Sendable, Equatable {
    /// Ids put before the text's ids.
    public var prefix: [Int32]
    /// Ids put after the text's ids.
    public var suffix: [Int32]

    /// - Parameters:
    ///   - prefix: ids before the text (default none).
    ///   - suffix: ids after the text (default none).
    public init(prefix: [Int32] = [], suffix: [Int32] = []) {
        self.prefix = prefix
        self.suffix = suffix
    }

    /// BART's and RoBERTa's processing: `bos ids eos`.
    public static func bart(bosID: Int32, eosID: Int32) -> PostProcessor {
        PostProcessor(prefix: [bosID], suffix: [eosID])
    }

    /// How many ids `apply` adds.
    public var addedCount: Int { prefix.count + suffix.count }

    /// `ids` with the prefix and suffix around them.
    public func apply(to ids: [Int32]) -> [Int32] {
        if addedCount == 0 { return ids }
        return prefix + ids + suffix
    }
}
