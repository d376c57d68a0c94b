import Foundation
@testable import IPTData
import Testing

/// Tokenizer behaviour that needs no ../shared: the GPT-2 pattern's character classes over all of
/// Unicode, the byte table, a tiny trained BPE (merge order, unknown bytes), the word cache and
/// the batch API. Expected values come from scripts/make_tokenizer_fixtures.py.
@Suite("Byte-level BPE tokenizer")
struct TokenizerTests {
    /// Every Unicode scalar gets the class Oniguruma gives it inside `tokenizers`' GPT-2 pattern.
    @Test func scalarClassesMatchTokenizersForAllOfUnicode() throws {
        let text = try String(contentsOf: Fixtures.url("tokenizer/scalar_classes.txt"), encoding: .utf8)
        var runs: [(start: UInt32, kind: ScalarClass)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            let kind: ScalarClass = ["L": .letter, "N": .number, "S": .space, "O": .other][String(parts[1])]!
            runs.append((UInt32(parts[0], radix: 16)!, kind))
        }
        #expect(runs.count > 1000)
        var mismatches: [String] = []
        for (index, run) in runs.enumerated() {
            let end = index + 1 < runs.count ? runs[index + 1].start : 0x110000
            for value in run.start..<end where !(0xD800...0xDFFF).contains(value) {
                let ours = value < 0x10000 ? ScalarClass.basicPlaneTable[Int(value)] : ScalarClass(value)
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

    /// The cache starts over when full; words encoded after that must not change.
    @Test func wordCacheStartsOverWhenFull() {
        let cache = WordCache(capacity: 3, maximumWordLength: 8)
        let words = ["a", "bb", "ccc", "dddd", "a"].map { Array($0.utf8) }
        cache.withLock { cache in
            for (index, word) in words.prefix(4).enumerated() {
                word.withUnsafeBufferPointer { cache.insert($0, ids: [Int32(index), Int32(index)][...]) }
            }
            var ids: [Int32] = []
            #expect(words[0].withUnsafeBufferPointer { cache.appendIDs(of: $0, to: &ids) } == false)  // dropped on overflow
            #expect(words[3].withUnsafeBufferPointer { cache.appendIDs(of: $0, to: &ids) } == true)
            #expect(ids == [3, 3])
            let long = Array("123456789".utf8)
            long.withUnsafeBufferPointer { cache.insert($0, ids: [9][...]) }
            #expect(long.withUnsafeBufferPointer { cache.appendIDs(of: $0, to: &ids) } == false)  // too long to cache
        }
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
