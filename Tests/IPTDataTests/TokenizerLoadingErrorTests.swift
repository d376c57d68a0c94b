import Foundation
import IPTData
import Testing

/// Bad tokenizer files give a one-line `TokenizerError` that names the file and the line or key,
/// never a crash.
@Suite("Tokenizer files: errors")
struct TokenizerLoadingErrorTests {
    static let vocabulary = #"{"a": 0, "b": 1, "ab": 2, "<s>": 3, "</s>": 4}"#
    static let merges = "#version: 0.2\na b\n"

    /// A minimal valid tokenizer.json, as a JSON object to break in one place.
    static func tokenizerJSON() -> [String: Any] {
        ["model": ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2], "merges": [["a", "b"]]] as [String: Any],
         "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false] as [String: Any],
         "decoder": ["type": "ByteLevel"], "added_tokens": [] as [Any]]
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Writes `files` into a fresh folder, loads it and returns the error's description.
    func loadingError(_ files: [String: String]) throws -> String {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (name, content) in files { try folder.write(name, content) }
        do {
            _ = try ByteLevelBPETokenizer.load(folder: folder.url)
        } catch let error as TokenizerError {
            #expect(!error.description.contains("\n"), "one line: \(error.description)")
            return error.description
        }
        Issue.record("\(files.keys.sorted()) loaded without an error")
        return ""
    }

    @Test func validFilesLoad() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("vocab.json", Self.vocabulary)
        try folder.write("merges.txt", "#version: 0.2\r\na b\r\n")  // a header and CRLF line ends are fine
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder.url)
        #expect(tokenizer.encode("ab") == [3, 2, 4])
        try folder.write("tokenizer.json", Self.json(Self.tokenizerJSON()))
        #expect(try ByteLevelBPETokenizer.load(folder: folder.url).encode("abab") == [2, 2])
    }

    @Test func idsMayLeaveGaps() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("vocab.json", #"{"a": 0, "b": 1, "ab": 1029}"#)
        try folder.write("merges.txt", Self.merges)
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder.url)
        #expect(tokenizer.vocabularySize == 1030)
        #expect(tokenizer.encode("ab") == [1029])
        #expect(tokenizer.decode([1029, 500, 0]) == "aba")
    }

    @Test func missingFiles() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-no-such-folder-\(UUID().uuidString)")
        #expect(throws: TokenizerError.missingFile(path: missing.path)) { try ByteLevelBPETokenizer.load(folder: missing) }
        #expect(try loadingError([:]).hasSuffix("vocab.json: file not found"))
        #expect(try loadingError(["vocab.json": Self.vocabulary]).hasSuffix("merges.txt: file not found"))
    }

    @Test(arguments: [
        ("{\"a\": 0,\n \"b\": }", ["vocab.json: line 2: not valid JSON"]),
        ("[1, 2]", ["vocab.json: expected an object, found an array"]),
        (#"{"a": "zero"}"#, ["vocab.json: key a: expected an integer id, found a string"]),
        (#"{"a": true}"#, ["vocab.json: key a: expected an integer id, found a boolean"]),
        (#"{"a": -1}"#, ["vocab.json: key a: expected a non-negative integer id"]),
        (#"{"a": 1.5}"#, ["vocab.json: key a: expected a non-negative integer id"]),
        (#"{"a": 0, "b": 0}"#, ["vocab.json: key b: id 0 is also the id of 'a'"]),
        // Found by FuzzTokenizerFiles: one huge id made the tokenizer allocate a 32 GB id table.
        (#"{"a": 0, "b": 1, "ab": 2147483647}"#,
         ["vocab.json: key ab: id 2147483647 is too large for a tokenizer of this size (ids must be below 1030)"]),
    ])
    func malformedVocabulary(_ content: String, _ expected: [String]) throws {
        let description = try loadingError(["vocab.json": content, "merges.txt": Self.merges])
        for part in expected { #expect(description.contains(part), "\(description)") }
    }

    /// The JSON reader: escapes, surrogate pairs and a leading U+FEFF (which Foundation's
    /// JSONSerialization drops) survive; strictness errors name the line.
    @Test func jsonEscapesAndByteOrderMarks() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("tokenizer.json", #"""
            {"model": {"type": "BPE", "vocab": {"\u0061": 0, "b": 1, "a\u0062": 2}, "merges": [["a", "b"]]},
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}, "decoder": {"type": "ByteLevel"},
             "added_tokens": [{"id": 3, "content": "\ufeff", "special": true}, {"id": 4, "content": "\ud83d\ude00", "special": true}]}
            """#)
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder.url)
        #expect(tokenizer.encode("ab\u{FEFF}b😀a") == [2, 3, 1, 4, 0])
    }

    @Test(arguments: [
        (#"{"a": 0, "a": 1}"#, "vocab.json: key a: the token is listed twice"),
        (#"{"a": 0} x"#, "vocab.json: line 1: not valid JSON: unexpected text after the JSON value (column 10)"),
        (#"{"a\ud800": 0}"#, "vocab.json: line 1: not valid JSON: unpaired surrogate"),
        ("{\"a\n\": 0}", "vocab.json: line 1: not valid JSON: control character in a string"),
        (#"{"a": 01}"#, "vocab.json: line 1: not valid JSON: a number has a leading zero"),
        (String(repeating: "[", count: 1000), "vocab.json: line 1: not valid JSON: nested more than 512 levels deep"),
        ("{\n\"a\": 0,\n\"b\": tru}", "vocab.json: line 3: not valid JSON: unexpected character, expected a value (column 6)"),
    ])
    func strictJSON(_ content: String, _ expected: String) throws {
        let description = try loadingError(["vocab.json": content, "merges.txt": Self.merges])
        #expect(description.contains(expected), "\(description)")
    }

    @Test(arguments: [
        ("a b\na b c\n", "merges.txt: line 2: expected two symbols separated by one space, found 'a b c'"),
        ("#version: 0.2\nab\n", "merges.txt: line 2: expected two symbols"),
        ("a b\n\nb a\n", "merges.txt: line 2: expected two symbols"),
        ("a  b\n", "merges.txt: line 1: expected two symbols"),
        ("a z\n", "merges.txt: line 1: 'z' is not in the vocabulary"),
        ("a b\nb a\n", "merges.txt: line 2: 'ba' (the merge of 'b' and 'a') is not in the vocabulary"),
    ])
    func malformedMerges(_ content: String, _ expected: String) throws {
        let description = try loadingError(["vocab.json": Self.vocabulary, "merges.txt": content])
        #expect(description.contains(expected), "\(description)")
    }

    @Test func mergesThatAreNotUTF8() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("vocab.json", Self.vocabulary)
        try Data([0x61, 0x20, 0x62, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: folder.url.appendingPathComponent("merges.txt"))
        #expect(throws: TokenizerError.malformedFile(path: folder.url.appendingPathComponent("merges.txt").path,
                                                     location: nil, problem: "not valid UTF-8")) {
            try ByteLevelBPETokenizer.load(folder: folder.url)
        }
    }

    @Test(arguments: [
        ("not json", "tokenizer.json: line 1: not valid JSON"),
        ("{}", "tokenizer.json: key model: missing: a tokenizer.json needs a model"),
        ("model.type=\"WordPiece\"", "tokenizer.json: key model.type: unsupported: model type 'WordPiece' (only BPE)"),
        ("model.vocab=[]", "tokenizer.json: key model.vocab: expected an object, found an array"),
        ("model.merges=[42]", "tokenizer.json: key model.merges[0]: expected \"a b\" or [\"a\", \"b\"], found a number"),
        ("model.merges=[\"a b c\"]", "tokenizer.json: key model.merges[0]: expected two symbols"),
        ("model.merges=[[\"b\", \"a\"]]", "tokenizer.json: key model.merges[0]: 'ba' (the merge of 'b' and 'a') is not in the vocabulary"),
        ("model.dropout=0.1", "tokenizer.json: key model.dropout: unsupported: BPE dropout"),
        ("added_tokens=[{\"id\": 5, \"content\": \"<x>\", \"lstrip\": \"yes\"}]",
         "tokenizer.json: key added_tokens[0].lstrip: expected true or false, found a string"),
        ("added_tokens=[{\"content\": \"<x>\"}]", "tokenizer.json: key added_tokens[0].id: expected an integer id, found nothing"),
        ("added_tokens=[{\"id\": 2147483647, \"content\": \"<x>\"}]",
         "tokenizer.json: key added_tokens[0].id: id 2147483647 is too large for a tokenizer of this size (ids must be below 1032)"),
        ("normalizer={\"type\": \"NFC\"}", "tokenizer.json: key normalizer: unsupported: normalizers"),
        ("pre_tokenizer={\"type\": \"Whitespace\"}", "tokenizer.json: key pre_tokenizer.type: unsupported: pre-tokenizer 'Whitespace'"),
        ("pre_tokenizer=null", "tokenizer.json: key pre_tokenizer: unsupported: no pre-tokenizer"),
        ("decoder={\"type\": \"WordPiece\"}", "tokenizer.json: key decoder: unsupported: decoder 'WordPiece'"),
        ("post_processor={\"type\": \"RobertaProcessing\", \"cls\": [\"<s>\", \"zero\"], \"sep\": [\"</s>\", 2]}",
         "tokenizer.json: key post_processor.cls[1]: expected an integer id, found a string"),
        ("post_processor={\"type\": \"Magic\"}", "tokenizer.json: key post_processor.type: unsupported: post-processor 'Magic'"),
    ])
    func malformedTokenizerJSON(_ change: String, _ expected: String) throws {
        var content = change
        if let equals = change.firstIndex(of: "="), !change.hasPrefix("{") {
            // "a.b=<json>": replace one value of the valid tokenizer.json.
            let path = change[..<equals].split(separator: ".").map(String.init)
            let value = try JSONSerialization.jsonObject(with: Data(change[change.index(after: equals)...].utf8), options: .fragmentsAllowed)
            var root = Self.tokenizerJSON()
            if path.count == 1 {
                root[path[0]] = value
            } else {
                var inner = root[path[0]] as! [String: Any]
                inner[path[1]] = value
                root[path[0]] = inner
            }
            content = Self.json(root)
        }
        let description = try loadingError(["tokenizer.json": content])
        #expect(description.contains(expected), "\(description)")
    }

    @Test(arguments: [
        ("tokenizer_config.json", #"{"bos_token": "<x>"}"#, "tokenizer_config.json: key bos_token: '<x>' is not in the vocabulary"),
        ("tokenizer_config.json", "{\"bos_token\": ", "tokenizer_config.json: line 1: not valid JSON"),
        ("tokenizer_config.json", #"{"add_prefix_space": "no"}"#, "tokenizer_config.json: key add_prefix_space: expected true or false"),
        ("tokenizer_config.json", #"{"added_tokens_decoder": {"2000000000": {"content": "<x>"}}}"#,
         "tokenizer_config.json: key added_tokens_decoder.2000000000: id 2000000000 is too large for a tokenizer of this size"),
        ("tokenizer_config.json", #"{"tokenizer_class": "BartTokenizer", "bos_token": null}"#, "needs <s> and </s> tokens"),
        ("special_tokens_map.json", #"{"mask_token": 5}"#, "special_tokens_map.json: key mask_token: expected a token string or object, found a number"),
        ("special_tokens_map.json", #"{"additional_special_tokens": ["<y>"]}"#,
         "special_tokens_map.json: key additional_special_tokens: '<y>' is not in the vocabulary"),
    ])
    func malformedSettings(_ name: String, _ content: String, _ expected: String) throws {
        let description = try loadingError(["vocab.json": #"{"a": 0, "b": 1, "ab": 2}"#, "merges.txt": Self.merges, name: content])
        #expect(description.contains(expected), "\(description)")
    }
}
