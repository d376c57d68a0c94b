import Foundation

extension WordPieceTokenizer {
    /// Loads a WordPiece tokenizer from a Hugging Face tokenizer folder.
    ///
    /// Reads `tokenizer.json` when the folder has one (model `WordPiece`, normalizer
    /// `BertNormalizer` or none, pre-tokenizer `BertPreTokenizer`, decoder `WordPiece`; its
    /// truncation and padding settings are ignored: callers choose them per call), else `vocab.txt`
    /// (one token per line, the line number is the id) with `tokenizer_config.json`'s
    /// `do_lower_case` (default true), `strip_accents` (default: as `do_lower_case`) and
    /// `tokenize_chinese_chars` (default true), as transformers' `BertTokenizer` builds it.
    /// `tokenizer_config.json` and `special_tokens_map.json` name the special tokens (defaults
    /// `[UNK]` `[SEP]` `[PAD]` `[CLS]` `[MASK]`); without a tokenizer.json every text gets
    /// `[CLS] ... [SEP]` when the vocabulary has both.
    ///
    /// - Parameter folder: the tokenizer folder.
    /// - Throws: `TokenizerError` naming the file and line or key of the first problem.
    public static func load(folder: URL) throws -> WordPieceTokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TokenizerError.missingFile(path: folder.path)
        }
        let settings = try TokenizerSettings(folder: folder)
        let tokenizerJSON = folder.appendingPathComponent("tokenizer.json")
        let configuration = FileManager.default.fileExists(atPath: tokenizerJSON.path)
            ? try configurationFromTokenizerJSON(tokenizerJSON, settings: settings)
            : try configurationFromVocabularyFile(folder: folder, settings: settings)
        return WordPieceTokenizer(configuration)
    }

    // MARK: - vocab.txt

    private static func configurationFromVocabularyFile(folder: URL, settings: TokenizerSettings) throws -> Configuration {
        let vocabulary = try readVocabularyFile(folder.appendingPathComponent("vocab.txt"))
        if settings.doesBasicTokenization == false {
            throw settings.failure(at: "do_basic_tokenize", "unsupported: false (only BERT's basic tokenization)")
        }
        if !settings.neverSplit.isEmpty {
            throw settings.failure(at: "never_split", "unsupported: a list of words (the fast tokenizer has none)")
        }
        let lowercases = settings.lowercases ?? true
        // The settings' unk_token is also the model's (transformers passes it to WordPiece).
        let unknownToken = (settings.roles[.unk] ?? nil)?.content ?? "[UNK]"
        var configuration = Configuration(vocabulary: vocabulary, unknownToken: unknownToken)
        configuration.normalizer = BertNormalizer(separatesChineseCharacters: settings.separatesChineseCharacters ?? true,
                                                  stripsAccents: settings.stripsAccents ?? lowercases, lowercases: lowercases)
        try settings.checkAddedTokensDecoder(vocabulary: vocabulary, vocabularyFile: "vocab.txt")
        configuration.addedTokens = settings.addedTokensDecoder
        try assignRoles(&configuration, settings: settings)
        guard vocabulary[configuration.unknownToken] != nil else {
            throw settings.failure(at: "unk_token", "'\(configuration.unknownToken)' is not in the vocabulary")
        }
        if let cls = configuration.roles.cls, let sep = configuration.roles.sep {
            configuration.postProcessor = PostProcessor(prefix: [cls], suffix: [sep])
        }
        return configuration
    }

    /// vocab.txt: one token per line (without its newline), ids from 0; a token may appear once.
    private static func readVocabularyFile(_ url: URL) throws -> [String: Int32] {
        let data = try readFile(url)
        guard String(data: data, encoding: .utf8) != nil else {
            throw TokenizerError.malformedFile(path: url.path, location: nil, problem: "not valid UTF-8")
        }
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the newline that ends the last line
        guard !lines.isEmpty else { throw TokenizerError.malformedFile(path: url.path, location: nil, problem: "no tokens") }
        guard lines.count <= Int(Int32.max) else {
            throw TokenizerError.malformedFile(path: url.path, location: nil, problem: "more than 2^31 tokens")
        }
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            let token = String(decoding: line, as: UTF8.self)
            if let earlier = vocabulary.updateValue(Int32(index), forKey: token) {
                throw TokenizerError.malformedFile(path: url.path, location: "line \(index + 1)",
                                                   problem: "'\(token)' repeats line \(earlier + 1)")
            }
        }
        return vocabulary
    }

    // MARK: - tokenizer.json

    private static func configurationFromTokenizerJSON(_ url: URL, settings: TokenizerSettings) throws -> Configuration {
        let (root, model) = try readTokenizerJSON(url)
        let typeField = model.child("type")
        let type = try typeField.string()
        guard type == "WordPiece" else { throw typeField.unsupported("model type '\(type)' (only WordPiece)") }
        let vocabulary = try readVocabularyObject(model.child("vocab"))
        let unknown = model.child("unk_token")
        var configuration = Configuration(vocabulary: vocabulary, unknownToken: try unknown.optionalString() ?? "[UNK]")
        guard vocabulary[configuration.unknownToken] != nil else {
            throw unknown.failure("'\(configuration.unknownToken)' is not in the vocabulary")
        }
        configuration.continuingSubwordPrefix = try model.child("continuing_subword_prefix").optionalString() ?? "##"
        let maximumField = model.child("max_input_chars_per_word")
        if !maximumField.isAbsentOrNull {
            guard case .number(let number)? = maximumField.value, let maximum = Int(exactly: number), maximum >= 0 else {
                throw maximumField.failure("expected a non-negative integer, found \(maximumField.kind)")
            }
            configuration.maximumCharactersPerWord = maximum
        }
        configuration.addedTokens = try readAddedTokens(root.child("added_tokens"), vocabulary: vocabulary)

        let normalizer = root.child("normalizer")
        if normalizer.isAbsentOrNull {
            configuration.normalizer = nil
        } else {
            let normalizerType = try normalizer.child("type").string()
            guard normalizerType == "BertNormalizer" else {
                throw normalizer.child("type").unsupported("normalizer '\(normalizerType)' (only BertNormalizer)")
            }
            let lowercases = try normalizer.child("lowercase").optionalBool(default: true)
            let stripAccents = normalizer.child("strip_accents")
            configuration.normalizer = BertNormalizer(
                cleansText: try normalizer.child("clean_text").optionalBool(default: true),
                separatesChineseCharacters: try normalizer.child("handle_chinese_chars").optionalBool(default: true),
                stripsAccents: stripAccents.isAbsentOrNull ? lowercases : try stripAccents.bool(), lowercases: lowercases)
        }

        let preTokenizer = root.child("pre_tokenizer")
        let preTokenizerType = preTokenizer.isAbsentOrNull ? "none" : try preTokenizer.child("type").string()
        guard preTokenizerType == "BertPreTokenizer" else {
            throw preTokenizer.unsupported("pre-tokenizer '\(preTokenizerType)' (only BertPreTokenizer)")
        }

        let decoder = root.child("decoder")
        let decoderType = decoder.isAbsentOrNull ? "none" : try decoder.child("type").string()
        guard decoderType == "WordPiece" else { throw decoder.unsupported("decoder '\(decoderType)' (only WordPiece)") }
        let decoderPrefix = try decoder.child("prefix").optionalString() ?? "##"
        guard decoderPrefix == configuration.continuingSubwordPrefix else {
            throw decoder.child("prefix").unsupported("'\(decoderPrefix)', unlike the model's '\(configuration.continuingSubwordPrefix)'")
        }
        configuration.decoderCleansUp = try decoder.child("cleanup").optionalBool(default: true)

        configuration.postProcessor = try PostProcessor(tokenizerJSON: root.child("post_processor"))
        try assignRoles(&configuration, settings: settings)
        return configuration
    }

    // MARK: - Special tokens

    /// Roles from the settings, else BERT's names (those the vocabulary or added tokens have). A
    /// role token not yet among the added tokens is added as a special token, as transformers does.
    private static func assignRoles(_ configuration: inout Configuration, settings: TokenizerSettings) throws {
        var contents: [TokenizerSettings.Role: String] = [.unk: configuration.unknownToken, .sep: "[SEP]", .pad: "[PAD]",
                                                          .cls: "[CLS]", .mask: "[MASK]"]
        func known(_ content: String) -> Bool {
            configuration.vocabulary[content] != nil || configuration.addedTokens.contains { $0.content == content }
        }
        contents = contents.filter { known($0.value) }
        for (role, token) in settings.roles { contents[role] = token?.content }
        let roleOrder: [TokenizerSettings.Role] = [.bos, .pad, .eos, .unk, .cls, .sep, .mask]
        let extraTokens = roleOrder.compactMap { role in contents[role].map { (role.rawValue, $0, role) } }
            + settings.additionalSpecialTokens.map { ("additional_special_tokens", $0, nil) }
        for (source, content, role) in extraTokens where !configuration.addedTokens.contains(where: { $0.content == content }) {
            guard let id = configuration.vocabulary[content] else {
                throw settings.failure(at: source, "'\(content)' is not in the vocabulary")
            }
            var token = AddedToken(content: content, id: id)
            if let role, let flags = settings.roles[role] ?? nil { flags.apply(to: &token) }
            configuration.addedTokens.append(token)
        }
        func id(_ role: TokenizerSettings.Role) -> Int32? {
            guard let content = contents[role] else { return nil }
            return configuration.addedTokens.last { $0.content == content }?.id
        }
        configuration.roles = Roles(pad: id(.pad), unk: id(.unk), cls: id(.cls), sep: id(.sep), mask: id(.mask))
    }
}
