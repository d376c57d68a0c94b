/// Tokens by id: the vocabulary with the added tokens over it (an added token's text wins), and
/// which ids are special added tokens. One entry per id up to the largest, which the loaders bound
/// (``tokenIDLimit(tokenCount:)``).
struct TokenTable: Sendable {
    /// Indexed by id; nil for an id no token has.
    let tokens: [String?]
    private let isSpecialID: [Bool]

    init(vocabulary: [String: Int32], addedTokens: [AddedToken]) {
        let largestID = max(vocabulary.values.max() ?? -1, addedTokens.map(\.id).max() ?? -1)
        var tokens = [String?](repeating: nil, count: Int(largestID) + 1)
        for (token, id) in vocabulary { tokens[Int(id)] = token }
        var isSpecialID = [Bool](repeating: false, count: tokens.count)
        for token in addedTokens {
            tokens[Int(token.id)] = token.content
            isSpecialID[Int(token.id)] = token.isSpecial
        }
        self.tokens = tokens
        self.isSpecialID = isSpecialID
    }

    /// The token of `id`; nil for an id outside the table or one no token has.
    func token(forID id: Int32) -> String? {
        guard id >= 0, Int(id) < tokens.count else { return nil }
        return tokens[Int(id)]
    }

    /// Whether `id` is a special added token (false outside the table).
    func isSpecial(_ id: Int32) -> Bool {
        id >= 0 && Int(id) < isSpecialID.count && isSpecialID[Int(id)]
    }
}
