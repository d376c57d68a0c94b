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

    /// A tokenizer.json made from a committed template (saved by `tokenizers`) and the real BART
    /// vocabulary and merges, with merges as `[a, b]` pairs or as legacy `"a b"` strings.
    static func tokenizerJSONFolder(template: String, legacyMerges: Bool) throws -> URL {
        var root = try #require(try json(template) as? [String: Any])
        var model = try #require(root["model"] as? [String: Any])
        let folder = SharedData.tokenizer("bart-base")
        model["vocab"] = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("vocab.json")))
        let lines = try String(contentsOf: folder.appendingPathComponent("merges.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#version") }
        model["merges"] = legacyMerges ? lines.map(String.init) : lines.map { $0.split(separator: " ").map(String.init) }
        root["model"] = model
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("ipt-tokenizer-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: root).write(to: output.appendingPathComponent("tokenizer.json"))
        return output
    }

    /// Lines of a CrossFit file, split at "\n" only, as the fixture script does.
    static func crossfitLines(_ relativePath: String) throws -> [String] {
        let data = try Data(contentsOf: SharedData.crossfit.appendingPathComponent(relativePath))
        return data.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
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
