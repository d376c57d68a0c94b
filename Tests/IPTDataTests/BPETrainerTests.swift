import Foundation
import IPTData
import Testing

/// The BPE trainer against an independent naive Python trainer, and its files against
/// transformers and `tokenizers` (scripts/make_trainer_fixtures.py).
@Suite("BPE trainer")
struct BPETrainerTests {
    struct Reference: Decodable {
        let vocab_size: Int
        let min_frequency: Int
        let tokens: [String]
        let merges: [String]
    }

    static func corpus() throws -> [String] {
        var lines = try String(contentsOf: Fixtures.url("trainer/corpus.txt"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func references() throws -> [Reference] {
        try JSONDecoder().decode([Reference].self, from: Data(contentsOf: Fixtures.url("trainer/reference.json")))
    }

    /// Incremental pair counts must learn exactly what recounting everything before each merge
    /// learns, including where the minimum frequency stops training early.
    @Test func learnsWhatANaiveTrainerLearns() throws {
        let lines = try Self.corpus()
        for reference in try Self.references() {
            let trained = try BPETrainer(vocabularySize: reference.vocab_size, minimumFrequency: reference.min_frequency)
                .train(lines: lines)
            #expect(trained.tokens == reference.tokens, "vocabulary size \(reference.vocab_size)")
            #expect(trained.merges.map { "\($0.left) \($0.right)" } == reference.merges, "vocabulary size \(reference.vocab_size)")
        }
        #expect(try Self.references().map(\.tokens.count) == [500, 624])  // the second one stops at its minimum frequency
    }

    /// The committed output of `ipt-cli train-tokenizer`: our tokenizer gives the ids that
    /// transformers' BartTokenizer and `tokenizers` give when they load the same files.
    @Test func trainedFilesGiveTheIDsOfTransformers() throws {
        struct Case: Decodable { let text: String; let ids: [Int32]; let decoded: String }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Fixtures.url("trainer/trained_ids.json")))
        let tokenizer = try ByteLevelBPETokenizer.load(folder: Fixtures.url("trainer/trained"))
        #expect([tokenizer.bosTokenID, tokenizer.padTokenID, tokenizer.eosTokenID, tokenizer.unkTokenID, tokenizer.maskTokenID]
                == [0, 1, 2, 3, 499])
        #expect(cases.count > 300)
        for entry in cases {
            #expect(tokenizer.encode(entry.text) == entry.ids, "\(entry.text.debugDescription)")
            #expect(tokenizer.decode(entry.ids, skipSpecialTokens: true) == entry.decoded, "\(entry.text.debugDescription)")
        }
    }

    @Test func writesHuggingFaceFilesAndRefusesToOverwrite() throws {
        let reference = try #require(try Self.references().first)
        let trained = try BPETrainer(vocabularySize: reference.vocab_size, minimumFrequency: reference.min_frequency)
            .train(lines: Self.corpus())
        let parent = try TemporaryFolder()
        defer { parent.remove() }
        let output = parent.url.appendingPathComponent("tokenizer")
        try trained.write(to: output)

        let vocabulary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("vocab.json"))) as? [String: Int])
        #expect(vocabulary.sorted { $0.value < $1.value }.map(\.key) == reference.tokens)
        let merges = try String(contentsOf: output.appendingPathComponent("merges.txt"), encoding: .utf8)
        #expect(merges == (["#version: 0.2"] + reference.merges).joined(separator: "\n") + "\n")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("tokenizer_config.json"))) as? [String: Any])
        #expect(config["tokenizer_class"] as? String == "BartTokenizer" && config["mask_token"] as? String == "<mask>")

        #expect(throws: TokenizerError.self) { try trained.write(to: output) }  // not empty, no overwrite
        try trained.write(to: output, overwrite: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.url.path) == ["tokenizer"])  // no staging left
        let reloaded = try ByteLevelBPETokenizer.load(folder: output)
        #expect(reloaded.vocabularySize == reference.vocab_size)
    }

    @Test func argumentsAreChecked() {
        #expect(throws: TokenizerError.self) { try BPETrainer(vocabularySize: 260).train(lines: ["a b"]) }
        #expect(throws: TokenizerError.self) { try BPETrainer(vocabularySize: 300, minimumFrequency: 0).train(lines: ["a b"]) }
        #expect(throws: TokenizerError.self) {
            try BPETrainer(vocabularySize: 300, specialTokens: .init(pad: "<s>")).train(lines: ["a b"])
        }
    }

    /// Special tokens in the text are not learned from: they split the text like in encoding.
    @Test func specialTokensInTheCorpusAreNotMerged() throws {
        let trained = try BPETrainer(vocabularySize: 300, minimumFrequency: 1).train(lines: Array(repeating: "<mask><mask>", count: 50))
        #expect(trained.merges.isEmpty)
        #expect(trained.tokens.count == 261)
    }
}
