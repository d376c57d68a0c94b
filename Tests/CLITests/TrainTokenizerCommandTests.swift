import Foundation
import Testing

@Suite("ipt-cli train-tokenizer")
struct TrainTokenizerCommandTests {
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func trainsAVocabularyThatTokenizeLoads() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let corpus = folder.appendingPathComponent("corpus.txt")
        try Data(String(repeating: "the cat sat on the mat. the dog sat on the log.\n", count: 40).utf8).write(to: corpus)
        let output = folder.appendingPathComponent("tokenizer")
        let result = try CLI.run(["train-tokenizer", "--corpus", corpus.path, "--vocab-size", "280", "--output", output.path])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        // Every word of this tiny corpus is whole before the 280 ids are reached: training stops early.
        let size = try #require(summary["vocabularySize"] as? Int), merges = try #require(summary["merges"] as? Int)
        #expect(size == 261 + merges && size <= 280 && summary["lines"] as? Int == 40)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output.path)) == ["vocab.json", "merges.txt", "tokenizer_config.json"])

        let tokenized = try CLI.run(["tokenize", "--tokenizer", output.path, "the cat"])
        #expect(tokenized.status == 0, "\(tokenized.stderr)")
        let ids = try #require(try JSONSerialization.jsonObject(with: Data(tokenized.stdout.utf8)) as? [Int])
        #expect(ids.count == 4 && ids.first == 0 && ids.last == 2)  // <s> the Ġcat </s>: both words were learned whole

        let again = try CLI.run(["train-tokenizer", "--corpus", corpus.path, "--vocab-size", "280", "--output", output.path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("the folder is not empty (pass --overwrite to replace it)"), "\(again.stderr)")
        let overwritten = try CLI.run(["train-tokenizer", "--corpus", corpus.path, "--vocab-size", "270", "--output", output.path, "--overwrite"])
        #expect(overwritten.status == 0, "\(overwritten.stderr)")
    }

    @Test func badInput() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("out").path
        let tooSmall = try CLI.run(["train-tokenizer", "--corpus", "x.txt", "--vocab-size", "100", "--output", output])
        #expect(tooSmall.status == 1, "a value out of range is bad input, not bad usage")
        #expect(tooSmall.stderr.contains("--vocab-size must be at least 261"))
        let missing = try CLI.run(["train-tokenizer", "--corpus", "/nonexistent/corpus.txt", "--vocab-size", "300", "--output", output])
        #expect(missing.status == 1)
        #expect(missing.stderr == "ipt-cli: error: /nonexistent/corpus.txt: file not found or unreadable\n")
        let invalid = folder.appendingPathComponent("invalid.txt")
        try Data([0x61, 0x0A, 0x62, 0x0A, 0xFF, 0x0A]).write(to: invalid)
        let notUTF8 = try CLI.run(["train-tokenizer", "--corpus", invalid.path, "--vocab-size", "300", "--output", output])
        #expect(notUTF8.status == 1)
        #expect(notUTF8.stderr.contains("invalid.txt: line 3: not valid UTF-8"), "\(notUTF8.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
