import Foundation
import IPTData
import IPTTestSupport
import Testing

/// Shared pieces of the tokenizer tests: the real tokenizers, fixture JSON, digests, CrossFit lines.
enum TokenizerTestSupport {
    /// FNV-1a 64 of the UTF-8 of `text`, as 16 hex digits (scripts/make_tokenizer_fixtures.py).
    static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The digest of an id list: its decimal ids joined by ",".
    static func digest(ids: [Int32]) -> String { digest(ids.map(String.init).joined(separator: ",")) }

    /// The digest of the three decodings the fixtures record.
    static func decodingsDigest(_ tokenizer: some Tokenizer, _ ids: [Int32]) -> String {
        digest(decodings(tokenizer, ids).joined(separator: "\u{0}"))
    }

    /// Keep specials; skip specials; skip specials and clean up spaces.
    static func decodings(_ tokenizer: some Tokenizer, _ ids: [Int32]) -> [String] {
        [tokenizer.decode(ids, skipSpecialTokens: false),
         tokenizer.decode(ids, skipSpecialTokens: true),
         tokenizer.decode(ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: true)]
    }

    /// Ids as a fixture records them: the full list, or count + digest for long lists.
    enum ExpectedIDs: Decodable {
        case list([Int32])
        case digest(count: Int, digest: String)

        private enum Keys: String, CodingKey { case count, digest }

        init(from decoder: Decoder) throws {
            if let list = try? decoder.singleValueContainer().decode([Int32].self) {
                self = .list(list)
            } else {
                let keyed = try decoder.container(keyedBy: Keys.self)
                self = .digest(count: try keyed.decode(Int.self, forKey: .count), digest: try keyed.decode(String.self, forKey: .digest))
            }
        }

        func matches(_ ids: [Int32]) -> Bool {
            switch self {
            case .list(let list): return list == ids
            case .digest(let count, let digest): return count == ids.count && digest == TokenizerTestSupport.digest(ids: ids)
            }
        }
    }

    /// Decodings as a fixture records them: the three strings, or their digest for long texts.
    enum ExpectedDecodings: Decodable {
        case strings([String])
        case digest(String)

        private enum Keys: String, CodingKey { case digest }

        init(from decoder: Decoder) throws {
            if let strings = try? decoder.singleValueContainer().decode([String].self) {
                self = .strings(strings)
            } else {
                self = .digest(try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .digest))
            }
        }
    }

    /// One entry of synthetic.json.
    struct SyntheticCase: Decodable {
        let text: String
        let bart, bart_no_special, gpt2, tokenizer_json, prefix_space: ExpectedIDs
        /// The ByteLevel pre-tokenizer's pieces, spelled through the byte table (texts up to 200 characters).
        let pre_tokens: [String]?
        let decode: ExpectedDecodings
    }

    /// A fixture decoded with JSONDecoder: JSONSerialization drops a string's leading U+FEFF.
    static func decoded<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: Fixtures.url("tokenizer/\(name)")))
    }

    static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("tokenizer/\(name)")))
    }

    static func ids(_ value: Any?) -> [Int32]? { (value as? [NSNumber])?.map { $0.int32Value } }

    static let bart = Result { try ByteLevelBPETokenizer.load(folder: SharedData.tokenizer("bart-base")) }
    static let gpt2 = Result { try ByteLevelBPETokenizer.load(folder: SharedData.tokenizer("gpt2")) }

    /// A tokenizer.json made from a committed template (saved by `tokenizers`, vocab and merges
    /// emptied) and the real BART vocabulary and merges, with merges as `[a, b]` pairs or as legacy
    /// `"a b"` strings. Built as text: the vocabulary goes in verbatim.
    static func tokenizerJSONFolder(template: String, legacyMerges: Bool) throws -> URL {
        let folder = SharedData.tokenizer("bart-base")
        let vocabulary = try String(contentsOf: folder.appendingPathComponent("vocab.json"), encoding: .utf8)
        func quoted(_ text: Substring) -> String {
            guard text.contains(where: { $0 == "\"" || $0 == "\\" }) else { return "\"\(text)\"" }
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let merges = try String(contentsOf: folder.appendingPathComponent("merges.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#version") }
            .map { line in legacyMerges ? quoted(line) : "[" + line.split(separator: " ").map(quoted).joined(separator: ",") + "]" }
        var text = try String(contentsOf: Fixtures.url("tokenizer/\(template)"), encoding: .utf8)
        for (empty, filled) in [("\"vocab\":{}", "\"vocab\":" + vocabulary), ("\"merges\":[]", "\"merges\":[" + merges.joined(separator: ",") + "]")] {
            let range = try #require(text.range(of: empty), "the template has \(empty)")
            text.replaceSubrange(range, with: filled)
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-tokenizer-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: output.appendingPathComponent("tokenizer.json"))
        return output
    }

    /// Lines of a CrossFit file, split at "\n" only, as the fixture script does; decoded on access
    /// (the test files are large and only a few lines of each are used).
    struct CrossfitLines {
        private let bytes: [UInt8]
        private var starts: [Int] = [0]  // line i spans starts[i] ..< starts[i + 1] - 1

        init(_ relativePath: String) throws {
            bytes = try [UInt8](Data(contentsOf: SharedData.crossfit.appendingPathComponent(relativePath)))
            bytes.withUnsafeBufferPointer { buffer in
                for (offset, byte) in buffer.enumerated() where byte == 0x0A { starts.append(offset + 1) }
            }
            starts.append(bytes.count + 1)
        }

        /// Line `number`, counted from 1.
        func line(_ number: Int) -> String {
            String(decoding: bytes[starts[number - 1]..<(starts[number] - 1)], as: UTF8.self)
        }
    }
}

/// A folder of small tokenizer files in the temporary directory, removed by `remove()`.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ content: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(content.utf8).write(to: file)
        return file
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
