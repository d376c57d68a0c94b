import Foundation
import IPTData
import IPTTestSupport
import Testing

/// Our tokenizer against Hugging Face's on the real BART and GPT-2 vocabularies: the README check
/// vectors, a few thousand CrossFit lines, synthetic edge cases, decoding and batches. Expected
/// values come from scripts/make_tokenizer_fixtures.py.
@Suite("Byte-level BPE parity with Hugging Face", SharedData.required)
struct TokenizerParityTests {
    typealias Support = TokenizerTestSupport

    @Test func readmeCheckVectors() throws {
        let bart = try Support.bart.get(), gpt2 = try Support.gpt2.get()
        #expect(bart.encode("A long paragraph for summarization.") == [0, 250, 251, 17818, 13, 39186, 1938, 4, 2])
        #expect(bart.encode(" positive") == [0, 1313, 2])
        #expect(gpt2.encode("Hello world") == [15496, 995])
        #expect(bart.vocabularySize == 50265 && gpt2.vocabularySize == 50257)
        #expect([bart.bosTokenID, bart.padTokenID, bart.eosTokenID, bart.unkTokenID, bart.maskTokenID] == [0, 1, 2, 3, 50264])
        #expect(gpt2.padTokenID == nil && gpt2.eosTokenID == 50256 && gpt2.postProcessor.addedCount == 0)
    }

    @Test func crossfitLinesEncodeAndDecodeLikeTransformers() throws {
        let bart = try Support.bart.get()
        let fixture = try #require(try Support.json("crossfit.json") as? [String: Any])
        let files = try #require(fixture["files"] as? [String])
        let rows = try #require(fixture["bart"] as? [[Any]])
        var linesByFile: [Int: Support.CrossfitLines] = [:]
        func text(_ row: [Any]) throws -> String {
            let file = try #require(row[0] as? Int), line = try #require(row[1] as? Int)
            if linesByFile[file] == nil { linesByFile[file] = try Support.CrossfitLines(files[file]) }
            return linesByFile[file]!.line(line)
        }

        var idsCompared = 0, encodeMismatches: [String] = [], decodeMismatches: [String] = []
        for row in rows {
            let ids = bart.encode(try text(row))
            idsCompared += ids.count
            let reference = "\(files[row[0] as! Int]):\(row[1])"
            if ids.count != row[2] as? Int || Support.digest(ids: ids) != row[3] as? String { encodeMismatches.append(reference) }
            if Support.decodingsDigest(bart, ids) != row[4] as? String { decodeMismatches.append(reference) }
        }
        print("BART parity: \(rows.count) CrossFit lines, \(idsCompared) ids; encode mismatches \(encodeMismatches.count), decode mismatches \(decodeMismatches.count)")
        #expect(rows.count > 3000)
        #expect(encodeMismatches.count == 0, "first mismatching lines: \(encodeMismatches.prefix(5))")
        #expect(decodeMismatches.count == 0, "first mismatching lines: \(decodeMismatches.prefix(5))")

        // Full ids of short lines, so that a difference is visible.
        for row in try #require(fixture["bart_ids"] as? [[Any]]) {
            #expect(bart.encode(try text(row)) == Support.ids(row[2]), "\(files[row[0] as! Int]):\(row[1])")
        }
    }

    @Test(arguments: ["gpt2", "tokenizer_json"])
    func crossfitLinesWithOtherTokenizers(_ name: String) throws {
        let tokenizer: ByteLevelBPETokenizer = name == "gpt2"
            ? try Support.gpt2.get()
            : try ByteLevelBPETokenizer.load(folder: try Support.tokenizerJSONFolder(template: "bart_tokenizer_template.json",
                                                                                     legacyMerges: false))
        let fixture = try #require(try Support.json("crossfit.json") as? [String: Any])
        let files = try #require(fixture["files"] as? [String])
        let rows = try #require(fixture[name] as? [[Any]])
        var mismatches: [String] = [], linesByFile: [String: Support.CrossfitLines] = [:]
        for row in rows {
            let file = files[row[0] as! Int], line = row[1] as! Int
            if linesByFile[file] == nil { linesByFile[file] = try Support.CrossfitLines(file) }
            let ids = tokenizer.encode(linesByFile[file]!.line(line))
            if ids.count != row[2] as? Int || Support.digest(ids: ids) != row[3] as? String { mismatches.append("\(file):\(line)") }
        }
        #expect(rows.count >= 500)
        #expect(mismatches.count == 0, "first mismatching lines: \(mismatches.prefix(5))")
    }

    /// Every synthetic edge case under every tokenizer: BART's files with and without special tokens,
    /// GPT-2's, the Hub-style tokenizer.json (`<mask>` with lstrip, both merge formats) and its
    /// add_prefix_space variant.
    @Test func syntheticEdgeCases() throws {
        let bart = try Support.bart.get(), gpt2 = try Support.gpt2.get()
        let hub = try ByteLevelBPETokenizer.load(folder: Support.tokenizerJSONFolder(template: "bart_tokenizer_template.json",
                                                                                      legacyMerges: false))
        let hubLegacy = try ByteLevelBPETokenizer.load(folder: Support.tokenizerJSONFolder(
            template: "bart_tokenizer_template.json", legacyMerges: true))
        let prefixSpace = try ByteLevelBPETokenizer.load(folder: Support.tokenizerJSONFolder(
            template: "bart_tokenizer_prefix_space_template.json", legacyMerges: false))
        let cases = try Support.decoded([Support.SyntheticCase].self, "synthetic.json")
        #expect(cases.count > 80)
        for entry in cases {
            let text = entry.text
            let label = text.count > 40 ? "\(text.prefix(40).debugDescription)... (\(text.count) characters)" : text.debugDescription
            if let preTokens = entry.pre_tokens {
                let ours = ByteLevelPreTokenizer().preTokenize(text).map { ByteEncoder.encode($0.utf8) }
                #expect(ours == preTokens, "pre-tokens \(label)")
            }
            let ids = bart.encode(text)
            #expect(entry.bart.matches(ids), "bart \(label): \(ids)")
            #expect(entry.bart_no_special.matches(bart.encode(text, addSpecialTokens: false)), "bart without specials \(label)")
            #expect(entry.gpt2.matches(gpt2.encode(text)), "gpt2 \(label): \(gpt2.encode(text))")
            #expect(entry.tokenizer_json.matches(hub.encode(text)), "tokenizer.json \(label): \(hub.encode(text))")
            #expect(entry.tokenizer_json.matches(hubLegacy.encode(text)), "tokenizer.json, legacy merges \(label)")
            #expect(entry.prefix_space.matches(prefixSpace.encode(text)), "add_prefix_space \(label): \(prefixSpace.encode(text))")
            switch entry.decode {
            case .strings(let decoded): #expect(Support.decodings(bart, ids) == decoded, "decode \(label)")
            case .digest(let digest): #expect(Support.decodingsDigest(bart, ids) == digest, "decode \(label)")
            }
        }
    }

    @Test func decodingHandMadeIDLists() throws {
        let bart = try Support.bart.get()
        for entry in try #require(try Support.json("decode.json") as? [[String: Any]]) {
            let ids = try #require(Support.ids(entry["ids"]))
            #expect(Support.decodings(bart, ids) == entry["decode"] as? [String], "\(ids)")
        }
    }

    @Test func batchesWithTruncationAndPadding() throws {
        let bart = try Support.bart.get()
        for entry in try #require(try Support.json("batches.json") as? [[String: Any]]) {
            let texts = try #require(entry["texts"] as? [String])
            let maxLength = entry["max_length"] as? Int
            let padding: Padding = entry["padding"] as? String == "max_length" ? .toMaxLength : .longest
            let batch = try bart.encode(batch: texts, maxLength: maxLength, padding: padding)
            let expectedIDs = (entry["input_ids"] as? [Any])?.compactMap(Support.ids)
            let expectedMask = (entry["attention_mask"] as? [Any])?.compactMap(Support.ids)
            #expect(batch.inputIDs == expectedIDs, "max_length \(String(describing: maxLength)) \(padding)")
            #expect(batch.attentionMask == expectedMask, "max_length \(String(describing: maxLength)) \(padding)")
        }
    }

    /// The word cache is shared between threads; encodings must not depend on interleaving.
    @Test func concurrentEncodingGivesTheSameIDs() throws {
        let bart = try Support.bart.get()
        let fresh = try ByteLevelBPETokenizer.load(folder: SharedData.tokenizer("bart-base"))
        let texts = (0..<200).map { "line \($0): naïve café \($0 * 7919) don't 中文\($0 % 13) 👍🏽" }
        let expected = texts.map { bart.encode($0) }
        let results = UnsafeMutableBufferPointer<[Int32]>.allocate(capacity: texts.count)
        defer { results.deallocate() }
        _ = results.initialize(from: repeatElement([], count: texts.count))
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in results[i] = fresh.encode(texts[texts.count - 1 - i]) }
        #expect(Array(results.reversed()) == expected)
    }
}
