import Foundation
import IPTData
import Testing

/// Tokenizer behaviour that needs no ../shared: the GPT-2 pattern's character classes over all of
/// Unicode, the byte table, a tiny trained BPE (merge order, unknown bytes), the word cache and
/// the batch API. Expected values come from scripts/make_tokenizer_fixtures.py.
@Suite("Byte-level BPE tokenizer")
struct TokenizerTests {
    /// Every Unicode scalar gets the class Oniguruma gives it inside `tokenizers`' GPT-2 pattern.
    @Test func characterClassesMatchTokenizersForAllOfUnicode() throws {
        typealias Class = ByteLevelPreTokenizer.CharacterClass
        let text = try String(contentsOf: Fixtures.url("tokenizer/scalar_classes.txt"), encoding: .utf8)
        var runs: [(start: UInt32, kind: Class)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            let kind: Class = ["L": .letter, "N": .number, "S": .whitespace, "O": .other][String(parts[1])]!
            runs.append((UInt32(parts[0], radix: 16)!, kind))
        }
        #expect(runs.count > 1000)
        var mismatches: [String] = []
        for (index, run) in runs.enumerated() {
            let end = index + 1 < runs.count ? runs[index + 1].start : 0x110000
            for value in run.start..<end {
                guard let scalar = Unicode.Scalar(value) else { continue }
                let ours = ByteLevelPreTokenizer.characterClass(of: scalar)
                if ours != run.kind { mismatches.append(String(format: "U+%04X is %@ here, %@ in tokenizers", value, "\(ours)", "\(run.kind)")) }
            }
        }
        #expect(mismatches.count == 0, "first mismatches: \(mismatches.prefix(10))")
    }

    /// GPT-2's table: dense, reversible, and the well-known `Ġ` for space and `Ċ` for newline.
    @Test func byteTableIsABijection() {
        let characters = ByteEncoder.characters
        #expect(Set(characters).count == 256)
        #expect(characters[0x20] == "\u{120}" && characters[0x0A] == "\u{10A}" && characters[0x41] == "A")
        for byte in 0..<256 { #expect(ByteEncoder.byte(for: characters[byte]) == UInt8(byte)) }
        let bytes = Array("é中 \n\t😀".utf8)
        #expect(ByteEncoder.decode(ByteEncoder.encode(bytes)) == bytes)
        #expect(ByteEncoder.decode("a b") == nil)  // a plain space is not a table character
    }

    /// A tiny BPE trained by `tokenizers`, as tokenizer.json and as vocab.json + merges.txt; and
    /// two variants whose vocabulary lacks the bytes of x, y, z and q (unk_token, fused or not).
    @Test(arguments: ["tokenizer", "merges", "unk", "unk_fused"])
    func tinyTrainedBPEMatchesTokenizers(_ variant: String) throws {
        struct Case: Decodable { let text: String; let tokenizer, unk, unk_fused: [Int32] }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Fixtures.url("tokenizer/tiny/cases.json")))
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let tiny = Fixtures.url("tokenizer/tiny")
        if variant == "merges" {
            for name in ["vocab.json", "merges.txt"] {
                try FileManager.default.copyItem(at: tiny.appendingPathComponent(name), to: folder.url.appendingPathComponent(name))
            }
        } else {
            try FileManager.default.copyItem(at: tiny.appendingPathComponent("\(variant).json"),
                                             to: folder.url.appendingPathComponent("tokenizer.json"))
        }
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder.url)
        #expect(cases.count > 300)
        for entry in cases {
            let expected = variant == "unk" ? entry.unk : variant == "unk_fused" ? entry.unk_fused : entry.tokenizer
            #expect(tokenizer.encode(entry.text) == expected, "\(entry.text.debugDescription)")
        }
    }

    /// A cache of two words starts over all the time; the ids must not change.
    @Test func tinyCacheGivesTheSameIDs() throws {
        struct Case: Decodable { let text: String; let tokenizer: [Int32] }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Fixtures.url("tokenizer/tiny/cases.json")))
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try FileManager.default.copyItem(at: Fixtures.url("tokenizer/tiny/tokenizer.json"), to: folder.url.appendingPathComponent("tokenizer.json"))
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder.url, cacheCapacity: 2)
        for _ in 0..<2 {
            for entry in cases { #expect(tokenizer.encode(entry.text) == entry.tokenizer, "\(entry.text.debugDescription)") }
        }
        #expect(throws: TokenizerError.self) { try ByteLevelBPETokenizer.load(folder: folder.url, cacheCapacity: 0) }
    }

    /// An added token with an id past the vocabulary (as tokenizers appends them): it splits the
    /// text, extends the id range, and, not being special, survives `skipSpecialTokens`.
    @Test func addedTokenBeyondTheVocabulary() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("tokenizer.json", """
            {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}, "decoder": {"type": "ByteLevel"},
             "added_tokens": [{"id": 3, "content": "<extra>", "special": false, "normalized": false}]}
            """)
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder.url)
        #expect(tokenizer.vocabularySize == 4)
        #expect(tokenizer.encode("ab<extra>ba") == [2, 3, 1, 0])
        #expect(tokenizer.token(forID: 3) == "<extra>" && tokenizer.id(forToken: "<extra>") == 3)
        #expect(tokenizer.decode([2, 3, 7, -1], skipSpecialTokens: true) == "ab<extra>")
    }

    @Test func cleanUpWorksOnCodePointsInTransformersOrder() {
        #expect(cleanUpTokenization("Hello , world . I do n't know ! Is it ? ' quote ' it 's") ==
                "Hello, world. I don't know! Is it?'quote'it's")
        #expect(cleanUpTokenization("a .\u{301}") == "a.\u{301}")  // a combining mark does not protect " ."
    }

    @Test func batchArgumentsAreChecked() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let tiny = Fixtures.url("tokenizer/tiny/tokenizer.json")
        try FileManager.default.copyItem(at: tiny, to: folder.url.appendingPathComponent("tokenizer.json"))
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder.url)  // no special tokens at all
        #expect(tokenizer.padTokenID == nil && tokenizer.postProcessor.addedCount == 0)
        let unpadded = try tokenizer.encode(batch: ["ab", "abc abc abc"], padding: .none)
        #expect(unpadded.inputIDs.map(\.count) == unpadded.attentionMask.map(\.count))
        #expect(unpadded.attentionMask.allSatisfy { $0.allSatisfy { $0 == 1 } })
        #expect(throws: TokenizerError.self) { try tokenizer.encode(batch: ["ab", "abc abc"], padding: .longest) }
        #expect(throws: TokenizerError.self) { try tokenizer.encode(batch: ["ab"], padding: .toMaxLength) }
        let truncated = try tokenizer.encode("abc abc abc abc", maxLength: 2)
        #expect(truncated == Array(tokenizer.encode("abc abc abc abc").prefix(2)))
    }
}
