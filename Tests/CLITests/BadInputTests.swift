import Foundation
import IPTCore
import IPTTestSupport
import Testing

/// A scratch folder for one bad-input case: copies of inputs to spoil, and the output folder.
final class Scratch {
    let directory: TemporaryDirectory
    let world: ToyWorld.Built

    init() throws {
        directory = try TemporaryDirectory()
        world = try ToyWorld.get()
    }

    var url: URL { directory.url }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    /// Where the failing command is told to write.
    var output: String { path("out") }

    /// A copy of a folder (a model, the data, a run) to spoil.
    func copy(_ source: URL, as name: String) throws -> String {
        try FileManager.default.copyItem(at: source, to: url.appendingPathComponent(name))
        return path(name)
    }

    func model() throws -> String { try copy(world.model, as: "model") }
    func data() throws -> String { try copy(world.data, as: "data") }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try directory.write(name, text).path }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String { try directory.write(name, bytes: bytes).path }

    /// prompt-tune of the toy task with a 4-vector prompt and 4 steps.
    func promptTune(model: String? = nil, data: String? = nil, output: String? = nil, _ extra: [String] = []) -> [String] {
        ["prompt-tune", "--model", model ?? world.model.path, "--data", data ?? world.data.path, "--task", "toy",
         "--prompt-length", "4", "--total-steps", "4", "--eval-period", "2", "--output", output ?? self.output]
            + ToyWorld.quick + extra
    }

    /// tune-subspace of the toy task in a random 2-dimensional subspace of 4-vector prompts.
    func tuneRandomSubspace(model: String? = nil, output: String? = nil, _ extra: [String] = []) -> [String] {
        ["tune-subspace", "--model", model ?? world.model.path, "--data", world.data.path, "--task", "toy", "--random-subspace",
         "--prompt-length", "4", "--total-steps", "4", "--eval-period", "2", "--output", output ?? self.output]
            + ToyWorld.quick + extra
    }
}

/// Rewrites the JSON header of a safetensors file, keeping its data bytes.
func editSafeTensorsHeader(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    var header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
    edit(&header)
    var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
    while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
    let prefix = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) }
    try Data(prefix + json + bytes[(8 + length)...]).write(to: URL(fileURLWithPath: path))
}

/// Edits a JSON object file.
func editJSON(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
    var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    edit(&object)
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
}

/// Unfinished runs to continue with the wrong inputs: prompt tuning and random-subspace tuning on
/// the toy model, and prompt tuning on the other model (for its checkpoint). Their results.json
/// files are removed, so that `--resume` continues them.
enum UnfinishedRuns {
    struct Built {
        let promptTuning: URL
        let otherModelPromptTuning: URL
        let subspaceTuning: URL
        /// The prompt-tuning run's results.json before it was removed.
        let promptTuningResults: Data
    }

    private static let built: Result<Built, Error> = Result {
        let world = try ToyWorld.get()
        let runs = world.root.appendingPathComponent("unfinished")
        let scratch = try Scratch()
        let (promptTuning, otherModel, subspaceTuning) = (runs.appendingPathComponent("pt"), runs.appendingPathComponent("pt-other"),
                                                          runs.appendingPathComponent("ist"))
        for arguments in [scratch.promptTune(output: promptTuning.path),
                          scratch.promptTune(model: world.otherModel.path, output: otherModel.path),
                          scratch.tuneRandomSubspace(output: subspaceTuning.path, ["--dim", "2"])] {
            let result = try CLI.run(arguments)
            guard result.status == 0 else { throw CLIError(message: "setting up \(arguments): \(result.stderr)") }
        }
        let folders = Built(promptTuning: promptTuning, otherModelPromptTuning: otherModel, subspaceTuning: subspaceTuning,
                            promptTuningResults: try Data(contentsOf: promptTuning.appendingPathComponent("results.json")))
        for folder in [folders.promptTuning, folders.otherModelPromptTuning, folders.subspaceTuning] {
            for results in ["results.json", "lr_0.3_bsz_4/results.json"] {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(results))
            }
        }
        return folders
    }

    static func get() throws -> Built { try built.get() }

    struct CLIError: Error { let message: String }
}

/// One bad input given to a command: what is wrong (the row of Docs/reliability.md's table), and
/// how to make it in a scratch folder: the command line and what the one-line message must name.
struct BadInputCase: Sendable, CustomTestStringConvertible {
    let input: String
    let make: @Sendable (Scratch) throws -> (arguments: [String], mentions: [String])

    init(_ input: String, _ make: @escaping @Sendable (Scratch) throws -> (arguments: [String], mentions: [String])) {
        self.input = input
        self.make = make
    }

    var testDescription: String { input }
}

/// Every bad input through the CLI: exit status 1, nothing on stdout, one line on stderr naming
/// the file (and line or key, or the flag) and the problem, and the scratch folder (inputs and
/// output folder) exactly as before the command. The toy model and data need no ../shared.
@Suite("Bad input never crashes a command or leaves partial output")
struct BadInputTests {
    static let cases: [BadInputCase] = modelCases + dataCases + configurationCases + flagCases + resumeCases
        + artifactCases + otherCommandCases + outputCases

    @Test(arguments: cases)
    func badInputFailsCleanly(_ badInput: BadInputCase) throws {
        let scratch = try Scratch()
        let (arguments, mentions) = try badInput.make(scratch)
        let before = try #require(FolderSnapshot.of(scratch.url))
        let result = try CLI.run(arguments)
        print("CASE\t\(badInput.input)\t\(result.status)\t\(result.stderr.replacingOccurrences(of: scratch.url.path, with: "S").replacingOccurrences(of: scratch.world.root.path, with: "W"))", terminator: "")
        #expect(result.status == 1, "status \(result.status): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        #expect(result.stderr.hasPrefix("ipt-cli: error: "), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        for text in mentions { #expect(result.stderr.contains(text), "'\(result.stderr)' should mention '\(text)'") }
        let after = FolderSnapshot.of(scratch.url)
        #expect(after == before, "changed: \(Set((after ?? [:]).keys).symmetricDifference((before).keys).sorted()) \(before.keys.filter { after?[$0] != before[$0] }.sorted())")
    }

    /// CRLF line ends are not malformed: CrossFit strips each line, so the run is the same as with LF.
    @Test func crlfLineEndsGiveTheSameRunAsLF() throws {
        let scratch = try Scratch()
        let data = try scratch.data()
        for task in ["toy", "toy2"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(data)/\(task)") {
                let file = URL(fileURLWithPath: "\(data)/\(task)/\(name)")
                let text = try String(contentsOf: file, encoding: .utf8)
                try Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8).write(to: file)
            }
        }
        for (folder, dataFolder) in [("lf", scratch.world.data.path), ("crlf", data)] {
            let result = try CLI.run(scratch.promptTune(data: dataFolder, output: scratch.path(folder)))
            #expect(result.status == 0, "\(result.stderr)")
        }
        let lf = try RunFolder.outcome(URL(fileURLWithPath: scratch.path("lf")))
        let crlf = try RunFolder.outcome(URL(fileURLWithPath: scratch.path("crlf")))
        #expect(crlf.results == lf.results && crlf.prompt == lf.prompt && crlf.predictions == lf.predictions)
    }

    @Test func atLeastFortyCases() {
        #expect(Self.cases.count >= 40)
        #expect(Set(Self.cases.map(\.input)).count == Self.cases.count, "each case is named once")
    }

    // MARK: The model folder

    static let modelCases: [BadInputCase] = [
        BadInputCase("--model folder missing") { s in
            (s.promptTune(model: s.path("no-model")), [s.path("no-model"), "model folder not found"])
        },
        BadInputCase("config.json not JSON") { s in
            let model = try s.model()
            try s.write("model/config.json", "{\"d_model\": 16,")
            return (s.promptTune(model: model), ["\(model)/config.json: not valid JSON"])
        },
        BadInputCase("config.json: a value of the wrong type") { s in
            let model = try s.model()
            try editJSON(model + "/config.json") { $0["d_model"] = "sixteen" }
            return (s.promptTune(model: model), ["\(model)/config.json: key d_model: expected an integer"])
        },
        BadInputCase("config.json: heads do not divide the width") { s in
            let model = try s.model()
            try editJSON(model + "/config.json") { $0["encoder_attention_heads"] = 3 }
            return (s.promptTune(model: model), ["config.json", "encoder_attention_heads", "not divisible"])
        },
        BadInputCase("model.safetensors empty") { s in
            let model = try s.model()
            try s.write("model/model.safetensors", bytes: [])
            return (s.promptTune(model: model), ["\(model)/model.safetensors", "too short"])
        },
        BadInputCase("model.safetensors truncated") { s in
            let model = try s.model()
            let file = model + "/model.safetensors"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
            return (s.promptTune(model: model), [file, "truncated file?"])
        },
        BadInputCase("model.safetensors: huge header length") { s in
            let model = try s.model()
            let file = model + "/model.safetensors"
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            bytes.replaceSubrange(0..<8, with: [0, 0, 0, 0, 0, 0, 0, 1])  // 2^56
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            return (s.promptTune(model: model), [file, "exceeds the limit"])
        },
        BadInputCase("model.safetensors: header not JSON") { s in
            let model = try s.model()
            let file = model + "/model.safetensors"
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            bytes.replaceSubrange(8..<16, with: Array("garbage!".utf8))
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            return (s.promptTune(model: model), [file, "header is not valid JSON"])
        },
        BadInputCase("model.safetensors: offsets beyond the data") { s in
            let model = try s.model()
            let file = model + "/model.safetensors"
            try editSafeTensorsHeader(file) { header in
                var entry = header["encoder.layernorm_embedding.bias"] as? [String: Any] ?? [:]
                entry["data_offsets"] = [10_000_000, 10_000_064]
                header["encoder.layernorm_embedding.bias"] = entry
            }
            return (s.promptTune(model: model), [file, "encoder.layernorm_embedding.bias", "beyond the"])
        },
        BadInputCase("model.safetensors: shape does not match the bytes") { s in
            let model = try s.model()
            let file = model + "/model.safetensors"
            try editSafeTensorsHeader(file) { header in
                var entry = header["encoder.layernorm_embedding.bias"] as? [String: Any] ?? [:]
                entry["shape"] = [17]
                header["encoder.layernorm_embedding.bias"] = entry
            }
            return (s.promptTune(model: model), [file, "encoder.layernorm_embedding.bias", "for shape [17]"])
        },
        BadInputCase("model.safetensors: dtype that is not a float") { s in
            let model = try s.model()
            let file = model + "/model.safetensors"
            try editSafeTensorsHeader(file) { header in
                var entry = header["encoder.layernorm_embedding.bias"] as? [String: Any] ?? [:]
                entry["dtype"] = "I32"
                header["encoder.layernorm_embedding.bias"] = entry
            }
            return (s.promptTune(model: model), [file, "unsupported dtype I32"])
        },
        BadInputCase("model.safetensors: a weight missing") { s in
            let model = try s.model()
            let file = model + "/model.safetensors"
            try editSafeTensorsHeader(file) { $0["encoder.layernorm_embedding.bias"] = nil }
            return (s.promptTune(model: model), [file, "missing 1 key(s): encoder.layernorm_embedding.bias"])
        },
        BadInputCase("model.safetensors: weights of another shape than config.json") { s in
            let model = try s.model()
            try editJSON(model + "/config.json") { $0["encoder_ffn_dim"] = 48 }
            return (s.promptTune(model: model), ["\(model)/model.safetensors: shape mismatch for encoder.layers.0.fc1.weight: expected [48, 16], found [32, 16]"])
        },
        BadInputCase("vocab.json not JSON") { s in
            let model = try s.model()
            try s.write("model/vocab.json", "{\"<s>\": 0, ")
            return (s.promptTune(model: model), ["\(model)/vocab.json: line 1: not valid JSON"])
        },
        BadInputCase("merges.txt: a line that is not a pair") { s in
            let model = try s.model()
            try s.write("model/merges.txt", "#version: 0.2\nĠt\nh e\n")
            return (s.promptTune(model: model), ["\(model)/merges.txt: line 2: expected two symbols"])
        },
        BadInputCase("tokenizer with more tokens than the model's vocabulary") { s in
            let model = try s.model()
            try editJSON(model + "/vocab.json") { $0["zz"] = 262; $0["zzz"] = 263 }
            return (s.promptTune(model: model), ["\(model): the tokenizer has 264 tokens but the model's vocab_size is 262"])
        },
        BadInputCase("tokenizer files missing") { s in
            let model = try s.model()
            try FileManager.default.removeItem(atPath: model + "/vocab.json")
            try FileManager.default.removeItem(atPath: model + "/merges.txt")
            return (s.promptTune(model: model), ["\(model)/vocab.json: file not found"])
        },
    ]

    // MARK: The data folder

    static let dataCases: [BadInputCase] = [
        BadInputCase("--data folder missing") { s in
            (s.promptTune(data: s.path("no-data")), [s.path("no-data"), "not a readable folder"])
        },
        BadInputCase("unknown task") { s in
            (s.promptTune() + ["--task", "no-such-task"], ["\(s.world.data.path): unknown task 'no-such-task'"])
        },
        BadInputCase("TSV: empty file") { s in
            let data = try s.data()
            try s.write("data/toy/toy_16_100_train.tsv", "")
            return (s.promptTune(data: data), ["\(data)/toy/toy_16_100_train.tsv", "no examples"])
        },
        BadInputCase("TSV: a line without a tab") { s in
            let data = try s.data()
            try s.write("data/toy/toy_16_100_train.tsv", "a good film\tpositive\na bad film negative\n")
            return (s.promptTune(data: data), ["\(data)/toy/toy_16_100_train.tsv:2: no tab"])
        },
        BadInputCase("TSV: an empty answer") { s in
            let data = try s.data()
            try s.write("data/toy/toy_16_100_dev.tsv", "a good film\tpositive\na bad film\t\tnegative\n")
            return (s.promptTune(data: data), ["\(data)/toy/toy_16_100_dev.tsv:2: empty answer"])
        },
        BadInputCase("TSV: invalid UTF-8") { s in
            let data = try s.data()
            try s.write("data/toy/toy_16_100_train.tsv", bytes: Array("a good film\tpositive\na b".utf8) + [0xC3, 0x28] + Array("d film\tnegative\n".utf8))
            return (s.promptTune(data: data), ["toy_16_100_train.tsv:2: not valid UTF-8"])
        },
        BadInputCase("TSV: a NUL byte") { s in
            let data = try s.data()
            try s.write("data/toy/toy_16_100_test.tsv", bytes: Array("a good film\tpositive\na bad\u{0} film\tnegative\n".utf8))
            return (s.promptTune(data: data), ["toy_16_100_test.tsv:2: NUL byte"])
        },
        BadInputCase("TSV: a blank line") { s in
            let data = try s.data()
            try s.write("data/toy/toy_16_100_train.tsv", "a good film\tpositive\n\na bad film\tnegative\n")
            return (s.promptTune(data: data), ["toy_16_100_train.tsv:2: blank line"])
        },
        BadInputCase("dev file missing") { s in
            let data = try s.data()
            try FileManager.default.removeItem(atPath: data + "/toy/toy_16_100_dev.tsv")
            return (s.promptTune(data: data), ["\(data)/toy/toy_16_100_dev.tsv: no such file"])
        },
        BadInputCase("tasks.json not JSON") { s in
            let data = try s.data()
            try s.write("data/tasks.json", "{\"toy\": ")
            return (s.promptTune(data: data), ["\(data)/tasks.json: not valid JSON"])
        },
        BadInputCase("tasks.json: unknown metric") { s in
            let data = try s.data()
            try editJSON(data + "/tasks.json") { $0["toy"] = ["kind": "classification", "metric": "Accuracy", "options": ["positive", "negative"]] }
            return (s.promptTune(data: data), ["\(data)/tasks.json: key 'toy.metric': unknown metric 'Accuracy'"])
        },
        BadInputCase("split file not JSON") { s in
            let split = try s.write("split.json", "{\"train\": [\"toy\"")
            return (splitCommand(s, split), [split, "not valid JSON"])
        },
        BadInputCase("split file names tasks the data lacks") { s in
            let split = try s.write("split.json", "{\"train\": [\"toy\", \"no-such-task\"], \"dev\": [], \"test\": []}")
            return (splitCommand(s, split), ["\(split): 1 task(s) absent from the data folder: no-such-task"])
        },
        BadInputCase("split file: a list of the wrong type") { s in
            let split = try s.write("split.json", "{\"train\": \"toy\", \"dev\": [], \"test\": []}")
            return (splitCommand(s, split), ["\(split): key 'train': expected a list of strings"])
        },
        BadInputCase("split file missing") { s in
            (splitCommand(s, s.path("no-split.json")), [s.path("no-split.json") + ": no such file"])
        },
    ]

    /// prompt-tune over a split's training tasks.
    static func splitCommand(_ s: Scratch, _ split: String) -> [String] {
        var arguments = s.promptTune()
        let task = arguments.firstIndex(of: "--task")!
        arguments.replaceSubrange(task...(task + 1), with: ["--split", split])
        return arguments
    }

    // MARK: Configuration files

    static let configurationCases: [BadInputCase] = [
        BadInputCase("--config not JSON") { s in
            let config = try s.write("config.json", "{\"optimization\": ")
            return (s.promptTune(["--config", config]), [config, "not valid JSON"])
        },
        BadInputCase("--config: a value of the wrong type") { s in
            let config = try s.write("config.json", "{\"optimization\": {\"total_steps\": \"many\"}}")
            return (s.promptTune(["--config", config]), [config, "optimization.total_steps", "wrong type"])
        },
        BadInputCase("--config: an unknown key") { s in
            let config = try s.write("config.json", "{\"optimisation\": {\"total_steps\": 3}}")
            return (s.promptTune(["--config", config]), [config, "unknown key optimisation"])
        },
        BadInputCase("--config: not an object") { s in
            let config = try s.write("config.json", "[1, 2]")
            return (s.promptTune(["--config", config]), [config, "must be a JSON object"])
        },
        BadInputCase("--config: a value out of range") { s in
            let config = try s.write("config.json", "{\"label_smoothing\": 1.5}")
            return (s.promptTune(["--config", config]), ["\(config): invalid configuration: label_smoothing must be in [0, 1)"])
        },
    ]

    // MARK: Flag values that parse but are out of range (exit 1, naming the flag)

    static let flagCases: [BadInputCase] = [
        BadInputCase("--prompt-length 0") { s in (s.promptTune(["--prompt-length", "0"]), ["--prompt-length must be at least 1, got 0"]) },
        BadInputCase("--prompt-length longer than the model's positions") { s in
            (s.promptTune(["--prompt-length", "64"]), ["--prompt-length 64 leaves no room for text in the 64 positions", "max_position_embeddings"])
        },
        BadInputCase("--learning-rate 0") { s in (s.promptTune(["--learning-rate", "0"]), ["--learning-rate must be a positive number, got 0.0"]) },
        BadInputCase("--learning-rate negative") { s in (s.promptTune(["--learning-rate=-0.5"]), ["--learning-rate must be a positive number, got -0.5"]) },
        BadInputCase("--learning-rates with nan") { s in
            (s.promptTune().filter { $0 != "--learning-rate" && $0 != "0.3" } + ["--learning-rates", "0.1", "nan"], ["--learning-rates must be a positive number, got nan"])
        },
        BadInputCase("--batch-size 0") { s in (s.promptTune(["--batch-size", "0"]), ["--batch-size must be at least 1, got 0"]) },
        BadInputCase("--total-steps 0") { s in (s.promptTune(["--total-steps", "0"]), ["--total-steps must be at least 1, got 0"]) },
        BadInputCase("--eval-period 0") { s in (s.promptTune(["--eval-period", "0"]), ["--eval-period must be at least 1, got 0"]) },
        BadInputCase("--dim 0") { s in (s.tuneRandomSubspace(["--dim", "0"]), ["--dim must be at least 1, got 0"]) },
        BadInputCase("--dim negative") { s in
            (["find-subspace", "--model", s.world.model.path, "--data", s.world.data.path, "--split", s.path("split.json"),
              "--prompts", s.path("prompts"), "--dim=-3", "--output", s.output], ["--dim must be at least 1, got -3"])
        },
        BadInputCase("--num-beams 0") { s in
            (["evaluate", "--model", s.world.model.path, "--file", s.world.data.path + "/toy/toy_16_100_dev.tsv", "--num-beams", "0"],
             ["--num-beams must be at least 1, got 0"])
        },
        BadInputCase("--shard past the shard count") { s in (s.promptTune(["--shard", "2/2"]), ["--shard must be i/n with 0 <= i < n, got 2/2"]) },
        BadInputCase("--batch-size beyond any batch") { s in
            (s.promptTune(["--batch-size", "9223372036854775807"]), ["--batch-size must be at most 1048576, got 9223372036854775807"])
        },
        BadInputCase("--dim beyond any subspace") { s in
            (s.tuneRandomSubspace(["--dim", "10000000000000000"]), ["--dim must be at most 16777216, got 10000000000000000"])
        },
        BadInputCase("--num-beams beyond 1024") { s in
            (["evaluate", "--model", s.world.model.path, "--file", s.world.data.path + "/toy/toy_16_100_dev.tsv", "--num-beams", "5000"],
             ["--num-beams must be at most 1024, got 5000"])
        },
    ]

    // MARK: Continuing a run with other inputs

    static let resumeCases: [BadInputCase] = [
        BadInputCase("--resume with another prompt length") { s in
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "out")
            return (s.promptTune(output: run, ["--resume", "--prompt-length", "5"]),
                    ["\(run)/config.json", "configuration.point.prompt_length is 4 in the unfinished run, 5 now", "--overwrite"])
        },
        BadInputCase("--resume with another base model") { s in
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "out")
            return (s.promptTune(model: s.world.otherModel.path, output: run, ["--resume"]),
                    ["\(run)/config.json", "base model \"tiny-bart\"", "this command gives \"other-bart\""])
        },
        BadInputCase("--resume with another subspace dimension") { s in
            let run = try s.copy(try UnfinishedRuns.get().subspaceTuning, as: "out")
            return (s.tuneRandomSubspace(output: run, ["--resume", "--dim", "3"]), ["\(run)/config.json", "dim is 2 in the unfinished run, 3 now"])
        },
        BadInputCase("checkpoint from another base model") { s in
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "out")
            let checkpoint = run + "/lr_0.3_bsz_4/checkpoint.safetensors"
            try FileManager.default.removeItem(atPath: checkpoint)
            try FileManager.default.copyItem(atPath: try UnfinishedRuns.get().otherModelPromptTuning.path + "/lr_0.3_bsz_4/checkpoint.safetensors",
                                             toPath: checkpoint)
            return (s.promptTune(output: run, ["--resume"]), [checkpoint, "different configuration or model"])
        },
        BadInputCase("checkpoint truncated") { s in
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "out")
            let checkpoint = run + "/lr_0.3_bsz_4/checkpoint.safetensors"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
            try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: checkpoint))
            return (s.promptTune(output: run, ["--resume"]), [checkpoint, "truncated file?"])
        },
        BadInputCase("checkpoint that is not a training checkpoint") { s in
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "out")
            let point = run + "/lr_0.3_bsz_4"
            try FileManager.default.removeItem(atPath: point + "/checkpoint.safetensors")
            try FileManager.default.copyItem(atPath: point + "/prompt.safetensors", toPath: point + "/checkpoint.safetensors")
            return (s.promptTune(output: run, ["--resume"]), [point + "/checkpoint.safetensors", "not a training checkpoint"])
        },
    ]

    // MARK: Prompts, subspaces and other artifacts

    /// An IPT-shaped prompt file of the given values.
    static func promptFile(_ s: Scratch, _ name: String, rows: Int, values: (Int) -> Float) throws -> String {
        let path = s.path(name)
        try SafeTensors.write([("prompt", Tensor((0..<(rows * 16)).map(values), shape: [rows, 16]))], to: path)
        return path
    }

    static let artifactCases: [BadInputCase] = [
        BadInputCase("--initialization file of the wrong shape") { s in
            let file = try promptFile(s, "prompt.safetensors", rows: 5) { _ in 0.01 }
            return (s.promptTune(["--initialization", "file", "--initialization-file", file]), [file, "shape [5, 16], expected [4, 16]"])
        },
        BadInputCase("--initialization file with a NaN") { s in
            let file = try promptFile(s, "prompt.safetensors", rows: 4) { $0 == 21 ? .nan : 0.01 }
            return (s.promptTune(["--initialization", "file", "--initialization-file", file]), [file, "tensor prompt holds nan at element 21"])
        },
        BadInputCase("evaluate --prompt with an infinity") { s in
            let file = try promptFile(s, "prompt.safetensors", rows: 4) { $0 == 3 ? -.infinity : 0.01 }
            return (["evaluate", "--model", s.world.model.path, "--file", s.world.data.path + "/toy/toy_16_100_dev.tsv", "--prompt", file],
                    [file, "holds -inf at element 3"])
        },
        BadInputCase("evaluate --prompt of another width") { s in
            let path = s.path("wide.safetensors")
            try SafeTensors.write([("prompt", Tensor.zeros([4, 8]))], to: path)
            return (["evaluate", "--model", s.world.model.path, "--file", s.world.data.path + "/toy/toy_16_100_dev.tsv", "--prompt", path],
                    [path, "shape [4, 8], expected [n, 16]"])
        },
        BadInputCase("--subspace folder without a subspace") { s in
            (["tune-subspace", "--model", s.world.model.path, "--data", s.world.data.path, "--task", "toy", "--subspace", s.path("nothing"),
              "--output", s.output], [s.path("nothing") + "/subspace.safetensors", "missing"])
        },
        BadInputCase("--prompts folder without a task's prompt") { s in
            let split = try s.write("split.json", "{\"train\": [\"toy\", \"toy2\"], \"dev\": [], \"test\": []}")
            try FileManager.default.createDirectory(atPath: s.path("prompts/toy"), withIntermediateDirectories: true)
            return (["find-subspace", "--model", s.world.model.path, "--data", s.world.data.path, "--split", split, "--prompts", s.path("prompts"),
                     "--dim", "2", "--output", s.output], [s.path("prompts") + "/toy/prompt.safetensors: missing; run prompt tuning for task toy"])
        },
        BadInputCase("--from folder that is not a tune-subspace run") { s in
            let from = try s.copy(try UnfinishedRuns.get().promptTuning, as: "from")
            return (["stage-two", "--model", s.world.model.path, "--data", s.world.data.path, "--task", "toy", "--from", from,
                     "--output", s.output], ["\(from)/config.json", "not the configuration of a subspace-tuning run"])
        },
        BadInputCase("PEFT adapter_config.json not JSON") { s in
            try s.write("adapter/adapter_config.json", "{\"peft_type\": ")
            return (["import-peft", "--peft", s.path("adapter"), "--output", s.path("imported.safetensors")],
                    [s.path("adapter") + "/adapter_config.json: not a JSON object"])
        },
        BadInputCase("PEFT num_virtual_tokens beyond any model") { s in
            try s.write("adapter/adapter_config.json", #"{"peft_type": "PROMPT_TUNING", "task_type": "SEQ_2_SEQ_LM", "num_virtual_tokens": 4611686018427387904, "token_dim": 16}"#)
            return (["import-peft", "--peft", s.path("adapter"), "--output", s.path("imported.safetensors")],
                    [s.path("adapter") + "/adapter_config.json: num_virtual_tokens must be at most 16777216"])
        },
        BadInputCase("export-peft of a file that is not a prompt") { s in
            (["export-peft", "--prompt", s.world.model.path + "/model.safetensors", "--model", s.world.model.path, "--output", s.path("peft")],
             [s.world.model.path + "/model.safetensors", "not an IPT artifact"])
        },
    ]

    // MARK: The other commands

    static let otherCommandCases: [BadInputCase] = [
        BadInputCase("score: fewer predictions than references") { s in
            let predictions = try s.write("predictions.txt", "positive\n")
            return (["score", "--metric", "ACC", "--predictions", predictions, "--references", s.world.data.path + "/toy/toy_16_100_dev.tsv"],
                    [predictions, "1 prediction line(s)", "16 example(s)"])
        },
        BadInputCase("tokenize --file with invalid UTF-8") { s in
            let file = try s.write("text.txt", bytes: Array("fine\n".utf8) + [0xFF, 0x0A])
            return (["tokenize", "--tokenizer", s.world.model.path, "--file", file], [file, "line 2: not valid UTF-8"])
        },
        BadInputCase("inspect a file that is not safetensors") { s in
            let file = try s.write("notes.safetensors", "just some text, not a header")
            return (["inspect", file], [file, "header length"])
        },
        BadInputCase("report over a corrupt results.json") { s in
            try s.write("runs/a/results.json", "{\"procedure\": ")
            return (["report", s.path("runs")], [s.path("runs") + "/a/results.json: not a results file of ipt-cli (not valid JSON)"])
        },
        BadInputCase("pretrain with a corpus file missing") { s in
            (["pretrain", "--corpus", s.path("corpus.txt"), "--tokenizer", s.world.model.path, "--output", s.output],
             [s.path("corpus.txt") + ": cannot read the corpus file"])
        },
        BadInputCase("pretrain --sequence-length beyond the model's positions") { s in
            let corpus = try s.write("corpus.txt", "a good film\na bad song\n")
            return (["pretrain", "--corpus", corpus, "--tokenizer", s.world.model.path, "--sequence-length", "1000", "--output", s.output],
                    ["sequence_length must be in 3...256 (the model's positions), got 1000"])
        },
        BadInputCase("pretrain --max-positions beyond any model") { s in
            let corpus = try s.write("corpus.txt", "a good film\na bad song\n")
            return (["pretrain", "--corpus", corpus, "--tokenizer", s.world.model.path, "--max-positions", "9223372036854775807",
                     "--output", s.output], ["max_position_embeddings: must be at most 16777216, found 9223372036854775807"])
        },
        BadInputCase("pretrain of a model larger than memory, for 2e18 steps") { s in
            let corpus = try s.write("corpus.txt", "a good film\na bad song\n")
            return (["pretrain", "--corpus", corpus, "--tokenizer", s.world.model.path, "--layers", "16000000", "--steps", "2000000000000000000",
                     "--output", s.output], ["parameters need more than this machine's"])
        },
        BadInputCase("pretrain --model-output holding another model") { s in
            let corpus = try s.write("corpus.txt", (0..<40).map { "line \($0): the quick brown fox jumps over the lazy dog \($0)\n" }.joined())
            let model = try s.model()
            let tokenizer = SharedData.repositoryRoot.appendingPathComponent("Resources/model").path  // the embedded model's, with <mask>
            return (["pretrain", "--corpus", corpus, "--tokenizer", tokenizer, "--model-output", model, "--output", s.output]
                        + ["--layers", "1", "--width", "16", "--heads", "2", "--ffn", "32", "--max-positions", "32", "--sequence-length", "24",
                           "--batch-size", "4", "--steps", "6", "--eval-period", "3", "--validation-sequences", "2"],
                    ["\(model): holds files; pass --overwrite to replace the model folder"])
        },
        BadInputCase("demo with a --tasks folder missing") { s in
            (["demo", "--tasks", s.path("no-tasks"), "--output", s.output], [s.path("no-tasks")])
        },
        BadInputCase("demo --workers 0") { s in (["demo", "--workers", "0", "--output", s.output], ["--workers must be at least 1, got 0"]) },
        BadInputCase("train-tokenizer with a corpus file missing") { s in
            (["train-tokenizer", "--corpus", s.path("corpus.txt"), "--vocab-size", "300", "--output", s.output],
             [s.path("corpus.txt") + ": file not found or unreadable"])
        },
    ]

    // MARK: Output folders

    static let outputCases: [BadInputCase] = [
        BadInputCase("--output is a file") { s in
            let file = try s.write("out", "a file")
            return (s.promptTune(output: file), [file, "exists and is not a folder"])
        },
        BadInputCase("--output under a file") { s in
            try s.write("file", "a file")
            return (s.promptTune(output: s.path("file/out")), [s.path("file/out"), "cannot create the output folder"])
        },
        BadInputCase("evaluate --output in a missing folder") { s in
            (["evaluate", "--model", s.world.model.path, "--file", s.world.data.path + "/toy/toy_16_100_dev.tsv",
              "--output", s.path("missing/predictions.jsonl")], [s.path("missing/predictions.jsonl"), "cannot write"])
        },
        BadInputCase("report --output under a file") { s in
            try s.write("file", "a file")
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "run")
            try s.write("run/results.json", bytes: [UInt8](try UnfinishedRuns.get().promptTuningResults))
            return (["report", run, "--output", s.path("file/report")], [s.path("file/report"), "cannot create the output folder"])
        },
        BadInputCase("a finished run in --output") { s in
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "out")
            try s.write("out/results.json", "{}")
            return (s.promptTune(output: run), [run, "holds a finished run (results.json); pass --overwrite"])
        },
        BadInputCase("an unfinished run in --output without --resume") { s in
            let run = try s.copy(try UnfinishedRuns.get().promptTuning, as: "out")
            return (s.promptTune(output: run), [run, "holds an unfinished run; pass --resume"])
        },
    ]
}
