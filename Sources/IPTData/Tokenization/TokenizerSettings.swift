import Foundation

/// What `tokenizer_config.json` and `special_tokens_map.json` say about a tokenizer: the tokens
/// of the special roles, extra added tokens, the tokenizer class and `add_prefix_space`. Keys of
/// `special_tokens_map.json` win over `tokenizer_config.json`, as in transformers.
struct TokenizerSettings {
    enum Role: String, CaseIterable {
        case bos = "bos_token", eos = "eos_token", unk = "unk_token", pad = "pad_token", mask = "mask_token"
        case cls = "cls_token", sep = "sep_token"
    }

    /// A role's token: its text and the added-token flags the file gives (absent flags stay default).
    struct TokenSpec {
        var content: String
        var stripsLeft: Bool?
        var stripsRight: Bool?
        var isSingleWord: Bool?
        var isNormalized: Bool?

        func apply(to token: inout AddedToken) {
            if let stripsLeft { token.stripsLeft = stripsLeft }
            if let stripsRight { token.stripsRight = stripsRight }
            if let isSingleWord { token.isSingleWord = isSingleWord }
            if let isNormalized { token.isNormalized = isNormalized }
        }
    }

    /// Roles the files name; a nil value is an explicit null (the role has no token).
    private(set) var roles: [Role: TokenSpec?] = [:]
    private(set) var additionalSpecialTokens: [String] = []
    /// `added_tokens_decoder` of tokenizer_config.json.
    private(set) var addedTokensDecoder: [AddedToken] = []
    private(set) var tokenizerClass: String?
    private(set) var addPrefixSpace: Bool?
    /// BERT's `do_lower_case`, `strip_accents` (null: follow lower-casing), `tokenize_chinese_chars`
    /// and `do_basic_tokenize`; nil when the file does not give them.
    private(set) var lowercases: Bool?
    private(set) var stripsAccents: Bool?
    private(set) var separatesChineseCharacters: Bool?
    private(set) var doesBasicTokenization: Bool?
    /// BERT's `never_split` words (absent or null: none).
    private(set) var neverSplit: [String] = []
    /// The file each key was last read from, for error messages.
    private var sourceFiles: [String: String] = [:]

    /// Reads the folder's `tokenizer_config.json` and `special_tokens_map.json`; either may be absent.
    init(folder: URL) throws {
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            try read(JSONField.read(url), isConfig: name == "tokenizer_config.json")
        }
    }

    /// A problem with the value of `key`, naming the file it came from.
    func failure(at key: String, _ problem: String) -> TokenizerError {
        .malformedFile(path: sourceFiles[key.components(separatedBy: ".")[0]] ?? "tokenizer_config.json",
                       location: "key \(key)", problem: problem)
    }

    private mutating func read(_ root: JSONField, isConfig: Bool) throws {
        let keys = Set(try root.members().map(\.memberName))
        for key in keys { sourceFiles[key] = root.file }
        for role in Role.allCases where keys.contains(role.rawValue) {
            let field = root.child(role.rawValue)
            roles[role] = field.isAbsentOrNull ? .some(nil) : try tokenSpec(field)
        }
        let additional = root.child("additional_special_tokens")
        if !additional.isAbsentOrNull {
            additionalSpecialTokens = try additional.array().map { try tokenSpec($0).content }
        }
        guard isConfig else { return }
        tokenizerClass = try root.child("tokenizer_class").optionalString()
        if keys.contains("add_prefix_space") { addPrefixSpace = try root.child("add_prefix_space").optionalBool(default: false) }
        func optionalFlag(_ key: String) throws -> Bool? {
            let field = root.child(key)
            return field.isAbsentOrNull ? nil : try field.bool()
        }
        lowercases = try optionalFlag("do_lower_case")
        stripsAccents = try optionalFlag("strip_accents")
        separatesChineseCharacters = try optionalFlag("tokenize_chinese_chars")
        doesBasicTokenization = try optionalFlag("do_basic_tokenize")
        let neverSplitField = root.child("never_split")
        if !neverSplitField.isAbsentOrNull { neverSplit = try neverSplitField.array().map { try $0.string() } }
        let decoder = root.child("added_tokens_decoder")
        if !decoder.isAbsentOrNull {
            for entry in try decoder.members() {
                guard let id = Int32(entry.memberName), id >= 0 else { throw entry.failure("expected an id as the key") }
                let spec = try tokenSpec(entry)
                var token = AddedToken(content: spec.content, id: id,
                                       isSpecial: try entry.child("special").optionalBool(default: false))
                spec.apply(to: &token)
                if spec.isNormalized == nil { token.isNormalized = !token.isSpecial }
                addedTokensDecoder.append(token)
            }
        }
    }

    /// Checks `added_tokens_decoder` against the vocabulary read from `vocabularyFile`: ids below
    /// ``tokenIDLimit(tokenCount:)``, and a token the vocabulary also has must have the same id there.
    func checkAddedTokensDecoder(vocabulary: [String: Int32], vocabularyFile: String) throws {
        let limit = tokenIDLimit(tokenCount: vocabulary.count + addedTokensDecoder.count)
        for token in addedTokensDecoder {
            if token.id >= limit {
                throw failure(at: "added_tokens_decoder.\(token.id)", tokenIDLimitProblem(token.id, limit: limit))
            }
            if let vocabularyID = vocabulary[token.content], vocabularyID != token.id {
                throw failure(at: "added_tokens_decoder.\(token.id)",
                              "'\(token.content)' has id \(vocabularyID) in \(vocabularyFile)")
            }
        }
    }

    /// A token given as a string or as an AddedToken object (`{"content": ..., "lstrip": ...}`).
    private func tokenSpec(_ field: JSONField) throws -> TokenSpec {
        if case .string(let content)? = field.value { return TokenSpec(content: content) }
        guard case .object? = field.value else { throw field.failure("expected a token string or object, found \(field.kind)") }
        func flag(_ key: String) throws -> Bool? {
            let flag = field.child(key)
            return flag.isAbsentOrNull ? nil : try flag.bool()
        }
        return TokenSpec(content: try field.child("content").string(), stripsLeft: try flag("lstrip"),
                         stripsRight: try flag("rstrip"), isSingleWord: try flag("single_word"),
                         isNormalized: try flag("normalized"))
    }
}
