import Foundation
@testable import IPTData
import IPTTestSupport
import Testing

/// WordPiece against transformers / tokenizers (scripts/make_bert_fixtures.py): a tiny vocabulary in
/// its three folder forms (always), and the real all-MiniLM-L6-v2 vocabulary (when installed).
@Suite("WordPiece parity with Hugging Face")
struct WordPieceTests {
    struct TinyCase: Decodable {
        let text: String
        let uncasedVocab: [Int32]
        let casedVocab: [Int32]
        let uncasedJSON: [Int32]
        let decode: [String]

        enum CodingKeys: String, CodingKey {
            case text, decode, uncasedVocab = "uncased-vocab", casedVocab = "cased-vocab", uncasedJSON = "uncased-json"
        }
    }

    static func tinyCases() throws -> [TinyCase] {
        struct File: Decodable { let cases: [TinyCase] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: Fixtures.url("wordpiece/tiny.json"))).cases
    }

    static func folder(_ name: String) -> URL { Fixtures.url("wordpiece/\(name)") }

    @Test(arguments: ["uncased-vocab", "cased-vocab", "uncased-json"])
    func tinyVocabularyIDs(_ name: String) throws {
        let tokenizer = try WordPieceTokenizer.load(folder: Self.folder(name))
        let cases = try Self.tinyCases()
        #expect(cases.count > 40)
        for c in cases {
            let expected = name == "uncased-vocab" ? c.uncasedVocab : name == "cased-vocab" ? c.casedVocab : c.uncasedJSON
            #expect(tokenizer.encode(c.text) == expected, "\(name): \(c.text.debugDescription)")
        }
    }

    @Test func tinyVocabularyDecodings() throws {
        let tokenizer = try WordPieceTokenizer.load(folder: Self.folder("uncased-vocab"))
        for c in try Self.tinyCases() {
            let decoded = [tokenizer.decode(c.uncasedVocab, skipSpecialTokens: false),
                           tokenizer.decode(c.uncasedVocab, skipSpecialTokens: true),
                           tokenizer.decode(c.uncasedVocab, skipSpecialTokens: true, cleanUpTokenizationSpaces: true)]
            #expect(decoded == c.decode, "\(c.text.debugDescription)")
        }
    }

    @Test func specialTokensAndTruncationKeepClsAndSep() throws {
        let tokenizer = try WordPieceTokenizer.load(folder: Self.folder("uncased-json"))
        #expect([tokenizer.padTokenID, tokenizer.unkTokenID, tokenizer.classificationTokenID, tokenizer.separatorTokenID,
                 tokenizer.maskTokenID] == [0, 1, 2, 3, 4])
        #expect(tokenizer.bosTokenID == nil && tokenizer.eosTokenID == nil)
        #expect(tokenizer.postProcessor == PostProcessor(prefix: [2], suffix: [3]))
        #expect(tokenizer.id(forToken: "hello") == 127 && tokenizer.token(forID: 127) == "hello")
        #expect(tokenizer.vocabularySize == 148)
        // transformers' truncation: the text's ids are cut, [CLS] and [SEP] stay.
        #expect(try tokenizer.encode("hello world the", maxLength: 4) == [2, 127, 128, 3])
    }

    @Test func loadTokenizerChoosesTheKindFromTheFiles() throws {
        #expect(try loadTokenizer(folder: Self.folder("uncased-json")) is WordPieceTokenizer)
        #expect(try loadTokenizer(folder: Self.folder("cased-vocab")) is WordPieceTokenizer)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("vocab.json", #"{"a": 0, "b": 1, "ab": 2, "<s>": 3, "</s>": 4, "<pad>": 5}"#)
        try folder.write("merges.txt", "a b\n")
        #expect(try loadTokenizer(folder: folder.url) is ByteLevelBPETokenizer)
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("vocab.json"))
        #expect(throws: TokenizerError.self) { try loadTokenizer(folder: folder.url) }
    }

    /// Every code point is cleaned, spaced, stripped and split as tokenizers does (the tables of
    /// Unicode 8.0 the reference uses, see ``ReferenceUnicode``).
    @Test func everyCodePointIsClassifiedLikeTokenizers() throws {
        var expected = [String](repeating: "", count: 0x110000)
        for line in try String(contentsOf: Fixtures.url("wordpiece/scalar_classes.txt"), encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ")
            for value in Int(fields[0], radix: 16)!...Int(fields[1], radix: 16)! { expected[value] = String(fields[2]) }
        }
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            var flags = ""
            if value == 0 || value == 0xFFFD || BertNormalizer.isOther(scalar) { flags += "O" } else if BertNormalizer.isWhitespace(scalar) { flags += "W" }
            if ReferenceUnicode.category(scalar) == .nonspacingMark { flags += "M" }
            if BertNormalizer.isChineseCharacter(scalar) { flags += "C" }
            if scalar.properties.isWhitespace { flags += "S" } else if BertPreTokenizer.isPunctuation(scalar) { flags += "P" }
            if flags != expected[Int(value)] { mismatches.append("U+\(String(value, radix: 16)): \(flags) vs \(expected[Int(value)])") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) code points differ, e.g. \(mismatches.prefix(5))")
    }

    /// Lower-casing and NFD of every character the reference changes, and of no other.
    @Test func everyCodePointIsLowercasedAndDecomposedLikeTokenizers() throws {
        var lowercased: [UInt32: [UInt32]] = [:], decomposed: [UInt32: [UInt32]] = [:]
        for line in try String(contentsOf: Fixtures.url("wordpiece/unicode_maps.txt"), encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ")
            let value = UInt32(fields[1], radix: 16)!, mapped = fields[2...].map { UInt32($0, radix: 16)! }
            if fields[0] == "L" { lowercased[value] = mapped } else { decomposed[value] = mapped }
        }
        #expect(lowercased.count > 1000 && decomposed.count > 2000)
        let lowercaser = BertNormalizer(cleansText: false, separatesChineseCharacters: false, stripsAccents: false, lowercases: true)
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 {
            guard let scalar = Unicode.Scalar(value), scalar.properties.age != nil else { continue }
            let text = String(scalar)
            let lower = lowercaser.normalize(text[...]).unicodeScalars.map(\.value)
            if lower != lowercased[value] ?? [value] { mismatches.append("lower U+\(String(value, radix: 16))") }
            if (0xAC00...0xD7A3).contains(value) { continue }
            let nfd = ReferenceUnicode.decomposed(text.unicodeScalars).map(\.value)
            if nfd != decomposed[value] ?? [value] { mismatches.append("NFD U+\(String(value, radix: 16))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) differ, e.g. \(mismatches.prefix(5))")
    }

    /// Writes `files` into a fresh folder, loads it and returns the error's description.
    func loadingError(_ files: [String: String]) throws -> String {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (name, content) in files { try folder.write(name, content) }
        do {
            _ = try WordPieceTokenizer.load(folder: folder.url)
        } catch let error as TokenizerError {
            #expect(!error.description.contains("\n"), "one line: \(error.description)")
            return error.description
        }
        Issue.record("\(files.keys.sorted()) loaded without an error")
        return ""
    }

    @Test func badFilesGiveOneLineErrorsNamingTheFile() throws {
        let vocabulary = "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n"
        let base = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.folder("uncased-json").appendingPathComponent("tokenizer.json"))) as? [String: Any])
        /// The fixture's tokenizer.json with one key of one section changed.
        func tokenizerJSON(_ section: String, _ key: String, _ value: Any) throws -> String {
            var root = base
            var part = try #require(root[section] as? [String: Any])
            part[key] = value
            root[section] = part
            return String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
        }
        let cases: [([String: String], String)] = [
            ([:], "vocab.txt: file not found"),
            (["vocab.txt": "[UNK]\na\na\n"], "vocab.txt: line 3: 'a' repeats line 2"),
            (["vocab.txt": "[PAD]\na\n"], "tokenizer_config.json: key unk_token: '[UNK]' is not in the vocabulary"),
            (["vocab.txt": vocabulary, "tokenizer_config.json": #"{"do_basic_tokenize": false}"#],
             "tokenizer_config.json: key do_basic_tokenize: unsupported"),
            (["vocab.txt": vocabulary, "tokenizer_config.json": #"{"do_lower_case": "yes"}"#],
             "tokenizer_config.json: key do_lower_case: expected true or false, found a string"),
            (["vocab.txt": vocabulary, "tokenizer_config.json": #"{"cls_token": "<s>"}"#],
             "tokenizer_config.json: key cls_token: '<s>' is not in the vocabulary"),
            (["tokenizer.json": try tokenizerJSON("pre_tokenizer", "type", "Whitespace")],
             "tokenizer.json: key pre_tokenizer: unsupported: pre-tokenizer 'Whitespace'"),
            (["tokenizer.json": try tokenizerJSON("normalizer", "type", "NFC")],
             "tokenizer.json: key normalizer.type: unsupported: normalizer 'NFC'"),
            (["tokenizer.json": try tokenizerJSON("model", "unk_token", "<unk>")],
             "tokenizer.json: key model.unk_token: '<unk>' is not in the vocabulary"),
            (["tokenizer.json": try tokenizerJSON("model", "type", "BPE")],
             "tokenizer.json: key model.type: unsupported: model type 'BPE' (only WordPiece)"),
        ]
        for (files, expected) in cases {
            let message = try loadingError(files)
            #expect(message.contains(expected), "\(message)")
        }
    }
}

/// The real all-MiniLM-L6-v2 vocabulary (bert-base-uncased's): synthetic texts, a probe of every
/// sampled code point, and (with ../shared) a sample of CrossFit lines.
@Suite("WordPiece parity on all-MiniLM-L6-v2", MiniLM.required)
struct MiniLMTokenizerTests {
    static let fixture: [String: Any] = {
        (try? JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("wordpiece/minilm.json")))) as? [String: Any] ?? [:]
    }()

    static func ids(_ value: Any?) -> [Int32] { (value as? [NSNumber])?.map(\.int32Value) ?? [-1] }

    @Test func syntheticTextsAndTheirDecodings() throws {
        let tokenizer = try loadTokenizer(folder: MiniLM.folder)
        #expect(tokenizer is WordPieceTokenizer && tokenizer.vocabularySize == 30522)
        // JSONDecoder keeps strings exactly (JSONSerialization would drop a leading U+FEFF).
        struct Case: Decodable { let text: String; let ids: [Int32]; let decode: [String] }
        struct File: Decodable { let synthetic: [Case] }
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: Fixtures.url("wordpiece/minilm.json"))).synthetic
        for c in cases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            #expect(TokenizerTestSupport.decodings(tokenizer, c.ids) == c.decode, "\(c.text.debugDescription)")
        }
    }

    @Test func everyProbedCodePoint() throws {
        let tokenizer = try loadTokenizer(folder: MiniLM.folder)
        let probes = try #require(Self.fixture["probes"] as? [[Any]])
        #expect(probes.count > 3000)
        var mismatches: [String] = []
        for probe in probes {
            let text = try #require(probe[0] as? String)
            if tokenizer.encode(text) != Self.ids(probe[1]) {
                mismatches.append(text.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " "))
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) code points differ, e.g. \(mismatches.prefix(5))")
    }

    @Test(SharedData.required) func crossfitLines() throws {
        let tokenizer = try loadTokenizer(folder: MiniLM.folder)
        let crossfit = try #require(Self.fixture["crossfit"] as? [String: Any])
        let files = try #require(crossfit["files"] as? [String])
        let rows = try #require(crossfit["lines"] as? [[Any]])
        #expect(rows.count > 500)
        var mismatches: [String] = []
        var linesByFile: [Int: TokenizerTestSupport.CrossfitLines] = [:]
        for row in rows {
            let file = try #require(row[0] as? Int), line = try #require(row[1] as? Int)
            if linesByFile[file] == nil { linesByFile[file] = try TokenizerTestSupport.CrossfitLines(files[file]) }
            let ids = tokenizer.encode(linesByFile[file]!.line(line))
            if ids.count != row[2] as? Int || TokenizerTestSupport.digest(ids: ids) != row[3] as? String
                || TokenizerTestSupport.decodingsDigest(tokenizer, ids) != row[4] as? String {
                mismatches.append("\(files[file]):\(line)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) lines differ, e.g. \(mismatches.prefix(5))")
    }
}
