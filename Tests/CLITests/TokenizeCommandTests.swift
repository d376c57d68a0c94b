import Foundation
import IPTTestSupport
import Testing

@Suite("ipt-cli tokenize")
struct TokenizeCommandTests {
    /// Output lines parsed as JSON arrays of ids.
    func idLines(_ stdout: String) throws -> [[Int]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Int])
        }
    }

    func temporaryFile(_ content: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-tokenize-\(UUID().uuidString).txt")
        try content.write(to: url)
        return url
    }

    /// The check vectors of ../shared/tokenizers/README.md.
    @Test(SharedData.required) func checkVectorsOfBothTokenizers() throws {
        let bart = try CLI.run(["tokenize", "--tokenizer", SharedData.tokenizer("bart-base").path,
                                "A long paragraph for summarization.", " positive"])
        #expect(bart.status == 0, "\(bart.stderr)")
        #expect(try idLines(bart.stdout) == [[0, 250, 251, 17818, 13, 39186, 1938, 4, 2], [0, 1313, 2]])
        let plain = try CLI.run(["tokenize", "--tokenizer", SharedData.tokenizer("bart-base").path, "--no-special-tokens", " positive"])
        #expect(try idLines(plain.stdout) == [[1313]])
        let gpt2 = try CLI.run(["tokenize", "--tokenizer", SharedData.tokenizer("gpt2").path, "Hello world"])
        #expect(gpt2.status == 0, "\(gpt2.stderr)")
        #expect(try idLines(gpt2.stdout) == [[15496, 995]])
    }

    @Test(SharedData.required) func fileGivesOneLinePerInputLine() throws {
        let file = try temporaryFile(Data("A long paragraph for summarization.\n\n positive\n".utf8))
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try CLI.run(["tokenize", "--tokenizer", SharedData.tokenizer("bart-base").path, "--file", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try idLines(result.stdout) == [[0, 250, 251, 17818, 13, 39186, 1938, 4, 2], [0, 2], [0, 1313, 2]])
    }

    @Test func missingTokenizerFolderIsAOneLineError() throws {
        let result = try CLI.run(["tokenize", "--tokenizer", "/nonexistent/tokenizer", "text"])
        #expect(result.status == 1)
        #expect(result.stderr == "ipt-cli: error: /nonexistent/tokenizer: file not found\n")
    }

    @Test func malformedVocabularyNamesFileAndKey() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"a": 0, "b": "one"}"#.utf8).write(to: folder.appendingPathComponent("vocab.json"))
        try Data("a b\n".utf8).write(to: folder.appendingPathComponent("merges.txt"))
        let result = try CLI.run(["tokenize", "--tokenizer", folder.path, "text"])
        #expect(result.status == 1)
        #expect(result.stderr.hasSuffix("vocab.json: key b: expected an integer id, found a string\n"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test(SharedData.required) func badInputFile() throws {
        let bart = SharedData.tokenizer("bart-base").path
        let missing = try CLI.run(["tokenize", "--tokenizer", bart, "--file", "/nonexistent/lines.txt"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent/lines.txt: file not found"))
        let file = try temporaryFile(Data([0x6F, 0x6B, 0x0A, 0xC3, 0x28, 0x0A]))  // line 2 is not UTF-8
        defer { try? FileManager.default.removeItem(at: file) }
        let invalid = try CLI.run(["tokenize", "--tokenizer", bart, "--file", file.path])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("\(file.path): line 2: not valid UTF-8"), "\(invalid.stderr)")
    }

    @Test func usageErrors() throws {
        let neither = try CLI.run(["tokenize", "--tokenizer", "/tmp"])
        #expect(neither.status == 2)
        #expect(neither.stderr.contains("give --file or at least one TEXT argument"))
        let both = try CLI.run(["tokenize", "--tokenizer", "/tmp", "--file", "x.txt", "text"])
        #expect(both.status == 2)
        let noTokenizer = try CLI.run(["tokenize", "text"])
        #expect(noTokenizer.status == 2)
    }
}
