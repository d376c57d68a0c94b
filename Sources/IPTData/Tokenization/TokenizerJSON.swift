import Foundation

// Parts of a Hugging Face `tokenizer.json` (and `vocab.json`) that every tokenizer model shares:
// the vocabulary object, the added tokens and the post-processor.

/// A tokenizer.json's root and its `model` object (both checked to be objects).
func readTokenizerJSON(_ url: URL) throws -> (root: JSONField, model: JSONField) {
    let root = try JSONField.read(url)
    _ = try root.members()
    let model = root.child("model")
    if model.isAbsentOrNull { throw model.failure("missing: a tokenizer.json needs a model") }
    _ = try model.members()
    return (root, model)
}

/// The bound on ids for a tokenizer of `tokenCount` tokens (vocabulary and added tokens).
///
/// Tokenizers keep tables indexed by id, one entry per id up to the largest, so one huge id in a
/// small file must not make them allocate gigabytes. Gaps between ids are allowed: as many unused
/// ids as there are tokens, plus 1,024.
func tokenIDLimit(tokenCount: Int) -> Int32 { Int32(clamping: 2 * tokenCount + 1024) }

/// The error text for an id at or above ``tokenIDLimit(tokenCount:)``.
func tokenIDLimitProblem(_ id: Int32, limit: Int32) -> String {
    "id \(id) is too large for a tokenizer of this size (ids must be below \(limit))"
}

/// A vocabulary object of token -> id (`vocab.json`, `model.vocab`); tokens and ids must be
/// unique and below ``tokenIDLimit(tokenCount:)``.
func readVocabularyObject(_ field: JSONField) throws -> [String: Int32] {
    let entries = try field.members()
    var vocabulary: [String: Int32] = [:]
    vocabulary.reserveCapacity(entries.count)
    var tokenOfID: [Int32: String] = [:]
    tokenOfID.reserveCapacity(entries.count)
    let limit = tokenIDLimit(tokenCount: entries.count)
    for entry in entries {
        let token = entry.memberName, id = try entry.id()
        if id >= limit { throw entry.failure(tokenIDLimitProblem(id, limit: limit)) }
        if vocabulary.updateValue(id, forKey: token) != nil { throw entry.failure("the token is listed twice") }
        if let other = tokenOfID.updateValue(token, forKey: id) { throw entry.failure("id \(id) is also the id of '\(other)'") }
    }
    return vocabulary
}

/// `added_tokens` of a tokenizer.json (absent or null: none); ids must be below
/// ``tokenIDLimit(tokenCount:)`` and a token that is also in the vocabulary must have the same id
/// there. A later entry with the same content replaces an earlier.
func readAddedTokens(_ field: JSONField, vocabulary: [String: Int32]) throws -> [AddedToken] {
    var addedTokens: [AddedToken] = []
    if field.isAbsentOrNull { return addedTokens }
    let entries = try field.array()
    let limit = tokenIDLimit(tokenCount: vocabulary.count + entries.count)
    for entry in entries {
        _ = try entry.members()
        let token = AddedToken(content: try entry.child("content").string(), id: try entry.child("id").id(),
                               isSpecial: try entry.child("special").optionalBool(default: false),
                               stripsLeft: try entry.child("lstrip").optionalBool(default: false),
                               stripsRight: try entry.child("rstrip").optionalBool(default: false),
                               isSingleWord: try entry.child("single_word").optionalBool(default: false),
                               isNormalized: try entry.child("normalized").optionalBool(default: true))
        if token.id >= limit { throw entry.child("id").failure(tokenIDLimitProblem(token.id, limit: limit)) }
        if let vocabularyID = vocabulary[token.content], vocabularyID != token.id {
            throw entry.failure("'\(token.content)' has id \(vocabularyID) in model.vocab, not \(token.id)")
        }
        addedTokens.removeAll { $0.content == token.content }
        addedTokens.append(token)
    }
    return addedTokens
}

extension PostProcessor {
    /// A tokenizer.json `post_processor`: RobertaProcessing, BertProcessing, TemplateProcessing
    /// (single sequence), ByteLevel (ids unchanged), a Sequence of these, or null.
    init(tokenizerJSON field: JSONField) throws {
        if field.isAbsentOrNull {
            self.init()
            return
        }
        let typeField = field.child("type")
        switch try typeField.string() {
        case "ByteLevel":
            self.init()
        case "RobertaProcessing", "BertProcessing":
            func specialID(_ key: String) throws -> Int32 {
                let pair = try field.child(key).array()
                guard pair.count == 2 else { throw field.child(key).failure("expected [token, id]") }
                _ = try pair[0].string()
                return try pair[1].id()
            }
            self.init(prefix: [try specialID("cls")], suffix: [try specialID("sep")])
        case "TemplateProcessing":
            var ids: [String: [Int32]] = [:]
            let specialTokens = field.child("special_tokens")
            for token in try specialTokens.members() {
                ids[token.memberName] = try token.child("ids").array().map { try $0.id() }
            }
            var prefix: [Int32] = [], suffix: [Int32] = [], seenSequence = false
            for item in try field.child("single").array() {
                if !item.child("Sequence").isAbsentOrNull {
                    if seenSequence { throw item.unsupported("a template with two sequences") }
                    seenSequence = true
                    continue
                }
                let name = try item.child("SpecialToken").child("id").string()
                guard let tokenIDs = ids[name] else { throw item.failure("special token '\(name)' is not in special_tokens") }
                if seenSequence { suffix += tokenIDs } else { prefix += tokenIDs }
            }
            guard seenSequence else { throw field.child("single").failure("the template has no Sequence") }
            self.init(prefix: prefix, suffix: suffix)
        case "Sequence":
            var combined = PostProcessor()
            for processor in try field.child("processors").array() {
                let next = try PostProcessor(tokenizerJSON: processor)
                combined = PostProcessor(prefix: next.prefix + combined.prefix, suffix: combined.suffix + next.suffix)
            }
            self = combined
        case let other:
            throw typeField.unsupported("post-processor '\(other)'")
        }
    }
}
