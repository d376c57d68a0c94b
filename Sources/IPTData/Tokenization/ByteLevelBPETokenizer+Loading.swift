import Foundation

extension ByteLevelBPETokenizer {
    /// Loads a tokenizer from a Hugging Face tokenizer folder.
    ///
    /// Reads `tokenizer.json` when the folder has one, else `vocab.json` + `merges.txt`; and
    /// `tokenizer_config.json` and `special_tokens_map.json` when present (the second wins) for the
    /// special-token roles (`bos_token`... `mask_token`, `additional_special_tokens`; tokens they
    /// name become special added tokens, as in transformers). Without a `tokenizer.json` they also
    /// give `added_tokens_decoder` (flags such as `lstrip`), `tokenizer_class` and `add_prefix_space`;
    /// with one, its own added tokens, pre-tokenizer and post-processor are used.
    ///
    /// Without a `tokenizer.json`, defaults follow transformers 5: a vocabulary with `<s>` gets
    /// RoBERTa/BART roles (`<s>` `</s>` `<unk>` `<pad>` `<mask>`, those it has) and `<s> ... </s>`
    /// around every text; one with `<|endoftext|>` gets GPT-2's (that token as bos, eos and unk,
    /// no post-processing). A `tokenizer_class` naming GPT-2 turns the post-processing off, one
    /// naming BART or RoBERTa turns it on. Special tokens match their exact text, without taking
    /// surrounding spaces, unless `tokenizer_config.json` says otherwise (transformers 5 loads
    /// BART's `<mask>` from these two files with `lstrip` off; the Hub's `tokenizer.json` has it on).
    ///
    /// - Parameters:
    ///   - folder: the tokenizer folder.
    ///   - cacheCapacity: how many distinct words the encoding cache keeps before it starts over
    ///     (default 65,536; Hugging Face keeps 10,000).
    /// - Throws: `TokenizerError` naming the file and line or key of the first problem.
    public static func load(folder: URL, cacheCapacity: Int = 65_536) throws -> ByteLevelBPETokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TokenizerError.missingFile(path: folder.path)
        }
        guard cacheCapacity > 0 else { throw TokenizerError.invalidArgument("the cache capacity must be positive, not \(cacheCapacity)") }
        let settings = try TokenizerSettings(folder: folder)
        let tokenizerJSON = folder.appendingPathComponent("tokenizer.json")
        let configuration = FileManager.default.fileExists(atPath: tokenizerJSON.path)
            ? try configurationFromTokenizerJSON(tokenizerJSON, settings: settings)
            : try configurationFromVocabularyFiles(folder: folder, settings: settings)
        return ByteLevelBPETokenizer(configuration, cacheCapacity: cacheCapacity)
    }

    // MARK: - vocab.json + merges.txt

    private static func configurationFromVocabularyFiles(folder: URL, settings: TokenizerSettings) throws -> Configuration {
        let vocabulary = try readVocabularyObject(JSONField.read(folder.appendingPathComponent("vocab.json")))
        let mergesURL = folder.appendingPathComponent("merges.txt")
        let merges = try readMergesFile(mergesURL, vocabulary: vocabulary)

        // Roles: the settings, else the conventions of the vocabulary's family.
        var contents = conventionalRoles { vocabulary[$0] != nil }
        for (role, token) in settings.roles {
            contents[role] = token?.content
        }

        try settings.checkAddedTokensDecoder(vocabulary: vocabulary, vocabularyFile: "vocab.json")
        var addedTokens = settings.addedTokensDecoder
        let roleOrder: [TokenizerSettings.Role] = [.bos, .pad, .eos, .unk, .cls, .sep, .mask]
        let extraTokens = roleOrder.compactMap { role in contents[role].map { (role.rawValue, $0, role) } }
            + settings.additionalSpecialTokens.map { ("additional_special_tokens", $0, nil) }
        for (source, content, role) in extraTokens where !addedTokens.contains(where: { $0.content == content }) {
            guard let id = vocabulary[content] else {
                throw settings.failure(at: source, "'\(content)' is not in the vocabulary")
            }
            var token = AddedToken(content: content, id: id)
            if let role, let flags = settings.roles[role] ?? nil { flags.apply(to: &token) }
            addedTokens.append(token)
        }

        func id(_ role: TokenizerSettings.Role) -> Int32? { contents[role].flatMap { vocabulary[$0] } }
        var configuration = Configuration(vocabulary: vocabulary, merges: merges, addedTokens: addedTokens)
        configuration.preTokenizer = ByteLevelPreTokenizer(addPrefixSpace: settings.addPrefixSpace ?? false)
        configuration.roles = SpecialTokenRoles(bos: id(.bos), eos: id(.eos), pad: id(.pad), unk: id(.unk), mask: id(.mask))

        let clsID = id(.cls) ?? id(.bos), sepID = id(.sep) ?? id(.eos)
        let wantsTemplate: Bool
        if let tokenizerClass = settings.tokenizerClass {
            wantsTemplate = tokenizerClass.lowercased().contains("bart") || tokenizerClass.lowercased().contains("roberta")
            if wantsTemplate && (clsID == nil || sepID == nil) {
                throw settings.failure(at: "tokenizer_class", "\(tokenizerClass) needs <s> and </s> tokens, and the vocabulary has none")
            }
        } else {
            wantsTemplate = vocabulary["<s>"] != nil && vocabulary["</s>"] != nil
        }
        if wantsTemplate, let clsID, let sepID {
            configuration.postProcessor = .bart(bosID: clsID, eosID: sepID)
        }
        return configuration
    }

    /// merges.txt: one merge per line, two symbols separated by one space, rank = order; lines
    /// starting with `#version` are skipped wherever they are.
    private static func readMergesFile(_ url: URL, vocabulary: [String: Int32]) throws -> [BytePairEncoder.Merge] {
        let data = try readFile(url)
        guard String(data: data, encoding: .utf8) != nil else {
            throw TokenizerError.malformedFile(path: url.path, location: nil, problem: "not valid UTF-8")
        }
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the newline that ends the last line
        var merges: [BytePairEncoder.Merge] = []
        merges.reserveCapacity(lines.count)
        for (index, lineBytes) in lines.enumerated() {
            var line = String(decoding: lineBytes, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.hasPrefix("#version") { continue }
            let location = "line \(index + 1)"
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.malformedFile(path: url.path, location: location,
                                                   problem: "expected two symbols separated by one space, found '\(line)'")
            }
            merges.append(try resolveMerge(String(parts[0]), String(parts[1]), vocabulary: vocabulary) { problem in
                TokenizerError.malformedFile(path: url.path, location: location, problem: problem)
            })
        }
        return merges
    }

    /// A merge's ids; its two parts and their concatenation must all be in the vocabulary.
    private static func resolveMerge(_ left: String, _ right: String, vocabulary: [String: Int32],
                                     failure: (String) -> TokenizerError) throws -> BytePairEncoder.Merge {
        guard let leftID = vocabulary[left] else { throw failure("'\(left)' is not in the vocabulary") }
        guard let rightID = vocabulary[right] else { throw failure("'\(right)' is not in the vocabulary") }
        guard let resultID = vocabulary[left + right] else {
            throw failure("'\(left + right)' (the merge of '\(left)' and '\(right)') is not in the vocabulary")
        }
        return BytePairEncoder.Merge(left: leftID, right: rightID, result: resultID)
    }

    // MARK: - tokenizer.json

    private static func configurationFromTokenizerJSON(_ url: URL, settings: TokenizerSettings) throws -> Configuration {
        let (root, model) = try readTokenizerJSON(url)
        let typeField = model.child("type")
        if let type = try typeField.optionalString(), type != "BPE" {
            throw typeField.unsupported("model type '\(type)' (only BPE)")
        }
        let vocabulary = try readVocabularyObject(model.child("vocab"))
        let merges = try model.child("merges").array().map { entry -> BytePairEncoder.Merge in
            let (left, right) = try mergePair(entry)
            return try resolveMerge(left, right, vocabulary: vocabulary, failure: entry.failure)
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            let field = model.child(key)
            if let value = try field.optionalString(), !value.isEmpty { throw field.unsupported("'\(value)' (only empty)") }
        }
        let dropout = model.child("dropout")
        if !dropout.isAbsentOrNull, try dropout.number() != 0 {
            throw dropout.unsupported("BPE dropout (encoding would be random)")
        }
        let byteFallback = model.child("byte_fallback")
        if try byteFallback.optionalBool(default: false) { throw byteFallback.unsupported("byte fallback (byte-level BPE needs none)") }
        let unknown = model.child("unk_token")
        var modelUnknownID: Int32?
        if let content = try unknown.optionalString() {
            guard let id = vocabulary[content] else { throw unknown.failure("'\(content)' is not in the vocabulary") }
            modelUnknownID = id
        }

        let addedTokens = try readAddedTokens(root.child("added_tokens"), vocabulary: vocabulary)

        let normalizer = root.child("normalizer")
        if !normalizer.isAbsentOrNull { throw normalizer.unsupported("normalizers (byte-level BPE uses none)") }

        let preTokenizerField = root.child("pre_tokenizer")
        if preTokenizerField.isAbsentOrNull { throw preTokenizerField.unsupported("no pre-tokenizer (only ByteLevel)") }
        let preTokenizerType = try preTokenizerField.child("type").string()
        guard preTokenizerType == "ByteLevel" else {
            throw preTokenizerField.child("type").unsupported("pre-tokenizer '\(preTokenizerType)' (only ByteLevel)")
        }
        let preTokenizer = ByteLevelPreTokenizer(
            addPrefixSpace: try preTokenizerField.child("add_prefix_space").optionalBool(default: true),
            usesGPT2Pattern: try preTokenizerField.child("use_regex").optionalBool(default: true))

        let decoderField = root.child("decoder")
        let decoderType = decoderField.isAbsentOrNull ? "none" : try decoderField.child("type").string()
        guard decoderType == "ByteLevel" else { throw decoderField.unsupported("decoder '\(decoderType)' (only ByteLevel)") }

        var configuration = Configuration(vocabulary: vocabulary, merges: merges, addedTokens: addedTokens)
        configuration.preTokenizer = preTokenizer
        configuration.postProcessor = try PostProcessor(tokenizerJSON: root.child("post_processor"))
        configuration.modelUnknownID = modelUnknownID
        configuration.fusesUnknown = try model.child("fuse_unk").optionalBool(default: false)
        configuration.ignoresMerges = try model.child("ignore_merges").optionalBool(default: false)
        try assignRoles(&configuration, settings: settings, modelUnknownID: modelUnknownID)
        return configuration
    }

    /// The roles a tokenizer family gives its special tokens, for the tokens that `has` knows:
    /// RoBERTa/BART's `<s>` `</s>` `<unk>` `<pad>` `<mask>` (cls = `<s>`, sep = `</s>`) when there is
    /// an `<s>`, else GPT-2's `<|endoftext|>` as bos, eos and unk.
    private static func conventionalRoles(has: (String) -> Bool) -> [TokenizerSettings.Role: String] {
        if has("<s>") {
            let roberta: [TokenizerSettings.Role: String] = [.bos: "<s>", .eos: "</s>", .unk: "<unk>", .pad: "<pad>",
                                                             .mask: "<mask>", .cls: "<s>", .sep: "</s>"]
            return roberta.filter { has($0.value) }
        }
        if has("<|endoftext|>") { return [.bos: "<|endoftext|>", .eos: "<|endoftext|>", .unk: "<|endoftext|>"] }
        return [:]
    }

    /// A merge written as `"a b"` (tokenizers before 0.20) or as `["a", "b"]`.
    private static func mergePair(_ entry: JSONField) throws -> (String, String) {
        switch entry.value {
        case .string(let text)?:
            let parts = text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw entry.failure("expected two symbols separated by one space, found '\(text)'")
            }
            return (String(parts[0]), String(parts[1]))
        case .array(let pair)? where pair.count == 2:
            guard case .string(let left) = pair[0], case .string(let right) = pair[1], !left.isEmpty, !right.isEmpty else { fallthrough }
            return (left, right)
        default:
            throw entry.failure("expected \"a b\" or [\"a\", \"b\"], found \(entry.kind)")
        }
    }

    /// Roles for a tokenizer.json: the settings' tokens (added as special tokens when they are not
    /// yet, as transformers does), else the conventional names among the added tokens.
    private static func assignRoles(_ configuration: inout Configuration, settings: TokenizerSettings,
                                    modelUnknownID: Int32?) throws {
        let added = Set(configuration.addedTokens.map(\.content))
        var contents = conventionalRoles(has: added.contains)
        for (role, token) in settings.roles { contents[role] = token?.content }
        let extra = contents.map { ($0.key.rawValue, $0.value) }
            + settings.additionalSpecialTokens.map { ("additional_special_tokens", $0) }
        for (source, content) in extra.sorted(by: { $0.1 < $1.1 }) where !configuration.addedTokens.contains(where: { $0.content == content }) {
            guard let id = configuration.vocabulary[content] else {
                throw settings.failure(at: source, "'\(content)' is not in the vocabulary")
            }
            configuration.addedTokens.append(AddedToken(content: content, id: id))
        }
        func id(_ role: TokenizerSettings.Role) -> Int32? {
            guard let content = contents[role] else { return nil }
            return configuration.addedTokens.first { $0.content == content }?.id
        }
        configuration.roles = SpecialTokenRoles(bos: id(.bos), eos: id(.eos), pad: id(.pad), unk: id(.unk) ?? modelUnknownID,
                                                mask: id(.mask))
    }
}
