import Foundation
import IPTTestSupport
import Testing

@Suite("ipt-cli pretrain")
struct PretrainCommandTests {
    /// The committed embedded model's tokenizer files.
    static let tokenizer = SharedData.repositoryRoot.appendingPathComponent("Resources/model").path

    /// A tiny model on a tiny corpus: arguments after the corpus, tokenizer and output.
    static let tinyFlags = ["--layers", "1", "--width", "16", "--heads", "2", "--ffn", "32", "--max-positions", "32",
                            "--sequence-length", "24", "--batch-size", "4", "--steps", "6", "--eval-period", "3",
                            "--validation-sequences", "2", "--weights", "f32"]

    static func corpus(in directory: TemporaryDirectory) throws -> String {
        let lines = (0..<40).map { "line \($0): the quick brown fox jumps over the lazy dog number \($0)" }
        return try directory.write("corpus.txt", lines.joined(separator: "\n") + "\n").path
    }

    @Test func writesAModelFolderThatCommandsTakeAndResumesAFinishedRun() throws {
        let directory = try TemporaryDirectory()
        let output = directory.url.appendingPathComponent("run").path
        let arguments = ["pretrain", "--corpus", try Self.corpus(in: directory), "--tokenizer", Self.tokenizer,
                         "--output", output] + Self.tinyFlags
        let result = try CLI.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("pretraining steps=6 "))
        let model = output + "/model"
        for name in ["config.json", "generation_config.json", "model.safetensors", "vocab.json", "merges.txt"] {
            #expect(FileManager.default.fileExists(atPath: model + "/" + name), "\(name)")
        }
        // The folder is a model for the --model commands.
        let tasks = SharedData.repositoryRoot.appendingPathComponent("Resources/tasks").path
        let tuned = try CLI.run(["prompt-tune", "--model", model, "--data", tasks, "--task", "wn-lex-animal-plant",
                                 "--prompt-length", "2", "--learning-rate", "0.3", "--batch-size", "2", "--total-steps", "2",
                                 "--eval-period", "2", "--prediction", "option-scoring", "--max-dev-examples", "2",
                                 "--max-test-examples", "2", "--output", directory.url.appendingPathComponent("tuned").path])
        #expect(tuned.status == 0, "\(tuned.stderr)")
        // A finished run is reported, not rerun; a fresh start into it is refused.
        let again = try CLI.run(arguments + ["--resume"])
        #expect(again.status == 0 && again.stdout == result.stdout)
        let refused = try CLI.run(arguments)
        #expect(refused.status == 1 && refused.stderr.contains("--overwrite"))
    }

    @Test func badInputGivesOneLineErrorsNamingTheProblem() throws {
        let directory = try TemporaryDirectory()
        let output = directory.url.appendingPathComponent("run").path
        let missing = try CLI.run(["pretrain", "--corpus", "/nonexistent/corpus.txt", "--tokenizer", Self.tokenizer,
                                   "--output", output] + Self.tinyFlags)
        #expect(missing.status == 1)
        #expect(missing.stderr == "ipt-cli: error: /nonexistent/corpus.txt: cannot read the corpus file\n")
        #expect(!FileManager.default.fileExists(atPath: output), "nothing is left behind")
        let heads = try CLI.run(["pretrain", "--corpus", try Self.corpus(in: directory), "--tokenizer", Self.tokenizer,
                                 "--output", output] + Self.tinyFlags + ["--heads", "3"])
        #expect(heads.status != 0 && heads.stderr.contains("heads"))
        let weights = try CLI.run(["pretrain", "--corpus", try Self.corpus(in: directory), "--tokenizer", Self.tokenizer,
                                   "--output", output] + Self.tinyFlags + ["--weights", "f8"])
        #expect(weights.status != 0 && weights.stderr.contains("--weights"))
    }
}
