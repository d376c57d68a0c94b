import Foundation
import IPTCore
import IPTTestSupport
import Testing

@Suite("ipt-cli embed")
struct EmbedCommandTests {
    /// The bert-tiny fixture of IPTModelsTests with a 120-token character vocabulary.
    static func tinyBertFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fixture = SharedData.repositoryRoot.appendingPathComponent("Tests/IPTModelsTests/Fixtures/bert-tiny")
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let letters = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
        var vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + letters + letters.map { "##" + $0 }
        vocabulary += (vocabulary.count..<120).map { "[unused\($0)]" }
        try (vocabulary.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        return folder
    }

    func vectors(_ stdout: String) throws -> [[Double]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Double])
        }
    }

    @Test func oneUnitVectorPerInputAndBatchingChangesNothing() throws {
        let folder = try Self.tinyBertFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let texts = ["hello world.", "a much longer input, with more words than the first one", "x"]
        let together = try CLI.run(["embed", "--model", folder.path] + texts)
        #expect(together.status == 0, "\(together.stderr)")
        let rows = try vectors(together.stdout)
        #expect(rows.count == 3 && rows.allSatisfy { $0.count == 32 })
        for row in rows { #expect(abs(row.reduce(0) { $0 + $1 * $1 }.squareRoot() - 1) < 1e-5) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-embed-\(UUID().uuidString).txt")
        try (texts.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let oneByOne = try CLI.run(["embed", "--model", folder.path, "--file", file.path, "--batch-size", "1"])
        #expect(oneByOne.status == 0, "\(oneByOne.stderr)")
        for (a, b) in zip(rows, try vectors(oneByOne.stdout)) {
            #expect(zip(a, b).map { abs($0 - $1) }.max()! < 1e-6, "padding in a batch changes an embedding")
        }
        let truncated = try CLI.run(["embed", "--model", folder.path, "--max-length", "3", texts[1], "a"])
        let pair = try vectors(truncated.stdout)
        #expect(zip(pair[0], pair[1]).map { abs($0 - $1) }.max()! < 1e-6, "[CLS] a [SEP] either way")
    }

    @Test func usageAndModelErrors() throws {
        let both = try CLI.run(["embed", "--model", "/nonexistent", "--file", "/x", "text"])
        #expect(both.status == 2)
        let missing = try CLI.run(["embed", "--model", "/nonexistent/model", "text"])
        #expect(missing.status == 1 && missing.stderr == "ipt-cli: error: /nonexistent/model: model folder not found\n")

        // A BART folder cannot embed.
        let bart = try ToyWorld.get().model
        let wrongModel = try CLI.run(["embed", "--model", bart.path, "text"])
        #expect(wrongModel.status == 1)
        #expect(wrongModel.stderr.contains("embed needs an encoder model (model_type bert)"), "\(wrongModel.stderr)")
    }

    /// The real all-MiniLM-L6-v2 against transformers + mean pooling (IPTModelsTests' fixture).
    @Test(MiniLM.required) func miniLMMatchesTransformers() throws {
        struct Row: Decodable { let text: String; let embedding: [Double] }
        struct File: Decodable { let texts: [Row] }
        let fixture = SharedData.repositoryRoot.appendingPathComponent("Tests/IPTModelsTests/Fixtures/minilm-embeddings.json")
        let rows = try JSONDecoder().decode(File.self, from: Data(contentsOf: fixture)).texts.filter { !$0.text.isEmpty }
        let result = try CLI.run(["embed", "--model", MiniLM.folder.path] + rows.map(\.text))
        #expect(result.status == 0, "\(result.stderr)")
        let worst = zip(try vectors(result.stdout), rows).map { zip($0, $1.embedding).map { abs($0 - $1) }.max()! }.max()!
        #expect(worst < 1e-5, "max |ipt-cli embed - transformers| = \(worst)")
    }
}
