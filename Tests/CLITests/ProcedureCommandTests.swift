import Foundation
import IPTCore
import IPTModels
import IPTTestSupport
import IPTTraining
import Testing

/// A tiny random BART with bart-base's vocabulary (from ../shared), saved as a model folder once
/// per test process, so that the commands run on real CrossFit text in seconds.
enum TinyModel {
    private static let built: Result<URL, Error> = Result {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-tiny-bart-\(ProcessInfo.processInfo.processIdentifier)")
        try save(to: url, vocabularySize: 50265, maximumPositions: 96, seed: 7, tokenizer: SharedData.tokenizer("bart-base"))
        return url
    }

    static func folder() throws -> String { try built.get().path }

    /// Saves a random BART of width 16 with one layer on each side, and the `vocab.json` and
    /// `merges.txt` of the folder `tokenizer`, as a model folder at `url`.
    static func save(to url: URL, vocabularySize: Int, maximumPositions: Int, seed: UInt64, tokenizer: URL) throws {
        var generator = RandomGenerator(seed: seed)
        let configuration = try BartConfiguration(vocabularySize: vocabularySize, maximumPositions: maximumPositions, hiddenSize: 16,
                                                  encoderLayers: 1, encoderHeads: 2, encoderFeedForwardSize: 32,
                                                  decoderLayers: 1, decoderHeads: 2, decoderFeedForwardSize: 32, dropout: 0.1)
        try BartForConditionalGeneration(configuration: configuration, generator: &generator).save(to: url)
        for name in ["vocab.json", "merges.txt"] {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
            try FileManager.default.copyItem(at: tokenizer.appendingPathComponent(name), to: url.appendingPathComponent(name))
        }
    }
}

/// Flags that keep every run to seconds: few steps, small evaluations, option scoring.
let quick = ["--total-steps", "6", "--eval-period", "3", "--warmup-steps", "0", "--prediction", "option-scoring",
             "--max-dev-examples", "4", "--max-test-examples", "8", "--predict-batch-size", "8"]

/// Every procedure command end to end on the tiny model and real tasks, then report, inspect and
/// the PEFT round trip over their outputs.
@Suite("ipt-cli procedures on a tiny model", SharedData.required, .serialized)
struct ProcedureCommandTests {
    let data = SharedData.crossfit.path

    func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        let result = try CLI.run(arguments)
        Check.succeeds(result, sourceLocation: sourceLocation)
        return result
    }

    func results(_ folder: URL) throws -> ProcedureResult {
        try JSONDecoder().decode(ProcedureResult.self, from: Data(contentsOf: folder.appendingPathComponent("results.json")))
    }

    @Test func theProceduresChainIntoAReport() throws {
        let model = try TinyModel.folder()
        let root = try TemporaryDirectory()
        func path(_ name: String) -> String { root.url.appendingPathComponent(name).path }
        let split = try root.write("split.json", "{\"train\": [\"glue-sst2\", \"glue-rte\"], \"dev\": [\"glue-sst2\", \"glue-rte\"], \"test\": [\"superglue-rte\"]}").path
        let common = ["--model", model, "--data", data]

        // Prompt tuning: a 2 x 1 grid per task, the three tasks as two shards of a job array.
        let shards = try ["0/2", "1/2"].map { shard in
            try run(["prompt-tune"] + common + ["--task", "glue-sst2,glue-rte,superglue-rte", "--shard", shard,
                     "--learning-rates", "0.3", "0.1", "--batch-size", "4", "--prompt-length", "4", "--output", path("pt")] + quick)
        }
        #expect(shards.map { $0.stdout.split(separator: "\n").count } == [2, 1], "shard 0/2 runs tasks 0 and 2")
        #expect(shards[1].stdout.hasPrefix("prompt-tuning task=glue-rte dev="))
        for task in ["glue-sst2", "glue-rte", "superglue-rte"] {
            let grid = try results(root.url.appendingPathComponent("pt/\(task)"))
            #expect(grid.grid?.map(\.folder) == ["lr_0.3_bsz_4", "lr_0.1_bsz_4"])
            #expect(grid.tasks.first?.test != nil)
            #expect(FileManager.default.fileExists(atPath: path("pt/\(task)/prompt.safetensors")))
        }

        // A run's own config.json as --config gives the same settings (the grid comes from the flags).
        let elsewhere = try TemporaryDirectory()  // outside the folder the report reads
        let again = elsewhere.url.appendingPathComponent("pt-again")
        _ = try run(["prompt-tune"] + common + ["--task", "glue-rte", "--config", path("pt/glue-rte/config.json"),
                                                "--learning-rate", "0.3", "--batch-size", "4", "--output", again.path])
        let settings = { (folder: URL) throws -> NSDictionary? in
            ((try Check.jsonFile(folder.appendingPathComponent("config.json")))["configuration"] as? [String: Any])?["point"] as? NSDictionary
        }
        let tuned = try settings(root.url.appendingPathComponent("pt/glue-rte")), repeated = try settings(again)
        #expect(tuned != nil && tuned == repeated)

        // Subspace finding (autoencoder and PCA) on the split's two training tasks; the third is unseen.
        let subspaceFlags = ["--split", split, "--prompts", path("pt"), "--batch-size", "4"] + quick
        let msfLine = try run(["find-subspace"] + common + subspaceFlags + ["--dim", "2", "--decoder-width", "8",
                                                                             "--learning-rate", "0.01", "--output", path("msf")]).stdout
        #expect(msfLine.hasPrefix("subspace-finding subspace=learned d=2 tasks=3 mean_test="))
        let msf = try results(root.url.appendingPathComponent("msf"))
        #expect(msf.tasks.map(\.seen) == [true, true, false])
        #expect(msf.intrinsicVectors?.keys.sorted() == ["glue-rte", "glue-sst2", "superglue-rte"])
        _ = try run(["find-subspace"] + common + subspaceFlags + ["--method", "pca", "--dim", "1", "--output", path("msf-pca")])

        // Intrinsic subspace tuning: in the found subspace (seen and unseen tasks) and in a random one.
        _ = try run(["tune-subspace"] + common + ["--subspace", path("msf"), "--task", "glue-sst2,glue-rte,superglue-rte",
                                                  "--learning-rate", "0.1", "--batch-size", "4", "--output", path("ist")] + quick)
        _ = try run(["tune-subspace"] + common + ["--random-subspace", "--dim", "2", "--prompt-length", "4",
                                                  "--task", "glue-sst2,superglue-rte", "--batch-size", "4", "--output", path("ist-random")] + quick)
        // The Fastfood baseline, the adapter subspace, stage two.
        _ = try run(["tune-said"] + common + ["--task", "glue-sst2", "--dim", "4", "--batch-size", "4", "--output", path("said")] + quick)
        _ = try run(["find-adapter-subspace"] + common + ["--split", split, "--dim", "2", "--bottleneck-size", "2",
                                                          "--batch-size", "4", "--output", path("msf-adapter")] + quick)
        _ = try run(["tune-adapter-subspace"] + common + ["--subspace", path("msf-adapter"), "--task", "glue-sst2,superglue-rte",
                                                          "--batch-size", "4", "--output", path("ist-adapter")] + quick)
        _ = try run(["stage-two"] + common + ["--from", path("ist"), "--task", "glue-sst2,superglue-rte", "--learning-rate", "0.1",
                                              "--batch-size", "4", "--output", path("stage-two")] + quick)
        #expect(try results(root.url.appendingPathComponent("stage-two/glue-sst2")).procedure == .stageTwo)
        // The prompt length is --from's (4 here): an input limit below the default length (100) is fine.
        let shortInputs = elsewhere.url.appendingPathComponent("short-inputs.json")
        let shortRun = elsewhere.url.appendingPathComponent("stage-two-short")
        try Data(#"{"max_input_length": 40}"#.utf8).write(to: shortInputs)
        _ = try run(["stage-two"] + common + ["--from", path("ist/glue-sst2"), "--task", "glue-sst2", "--config", shortInputs.path,
                                              "--batch-size", "4", "--output", shortRun.path] + quick)
        #expect(try results(shortRun).procedure == .stageTwo)

        // Evaluate a tuned prompt on a dev file.
        let dev = SharedData.crossfit.appendingPathComponent("glue-sst2/glue-sst2_16_100_dev.tsv").path
        let evaluate = ["evaluate", "--model", model, "--file", dev, "--task-prefix", "glue-sst2", "--num-beams", "1", "--max-length", "4"]
        let evaluation = try Check.json(try run(evaluate + ["--prompt", path("pt/glue-sst2/prompt.safetensors")]))
        #expect(evaluation["n"] as? Int == 16 && evaluation["metric"] as? String == "ACC")
        #expect((evaluation["score"] as? Double).map { (0...1).contains($0) } == true)

        // The report over everything.
        let report = try run(["report", root.url.path, "--output", path("report")])
        #expect(report.stdout.contains("| IST | 2 |"))
        let rows = try Check.csv(root.url.appendingPathComponent("report/report.csv"))
        #expect(Set(rows.compactMap { $0["method"] }) == ["PT", "MSF d=2", "MSF (pca) d=1", "IST d=2", "IST (random) d=2", "DID d=4",
                                                        "MSF (adapter) d=2", "IST (adapter) d=2", "stage two"])
        for task in ["glue-sst2", "glue-rte", "superglue-rte"] {
            let row = try #require(rows.first { $0["method"] == "IST d=2" && $0["task"] == task })
            let test = try #require(try results(root.url.appendingPathComponent("ist/\(task)")).tasks.first?.test)
            let reference = try #require(try results(root.url.appendingPathComponent("pt/\(task)")).tasks.first?.test)
            #expect(row["seen"] == (task == "superglue-rte" ? "false" : "true"), "from the subspace file's training tasks")
            #expect(Double(row["test"] ?? "") == test && Double(row["prompt_tuning_test"] ?? "") == reference)
            if reference > 0 { #expect(abs((Double(row["relative"] ?? "") ?? .nan) - test / reference) < 1e-12) }
        }
        for name in ["relative-performance.svg", "task-map.svg"] { try Check.wellFormedSVG(root.url.appendingPathComponent("report/\(name)")) }
        #expect(try String(contentsOfFile: path("report/task-map.svg"), encoding: .utf8).contains(">superglue-rte</text>"))

        // Inspect what the runs wrote.
        let subspace = try Check.json(try run(["inspect", path("msf/subspace.safetensors")]))
        #expect(subspace["kind"] as? String == "prompt-subspace" && subspace["procedure"] as? String == "subspace-finding")
        #expect((subspace["configuration"] as? [String: Any])?["tasks"] as? [String] == ["glue-sst2", "glue-rte"])
        #expect((subspace["base_model"] as? [String: Any])?["name"] as? String == URL(fileURLWithPath: model).lastPathComponent)
        for (file, kind, procedure) in [("pt/glue-sst2/prompt.safetensors", "prompt", "prompt-tuning"),
                                        ("ist/glue-sst2/intrinsic_vector.safetensors", "intrinsic-vector", "subspace-tuning"),
                                        ("said/fastfood.safetensors", "fastfood", "fastfood-tuning"),
                                        ("msf-adapter/adapter_subspace.safetensors", "adapter-subspace", "adapter-subspace-finding"),
                                        ("stage-two/glue-sst2/prompt.safetensors", "prompt", "stage-two")] {
            let artifact = try Check.json(try run(["inspect", path(file)]))
            #expect(artifact["kind"] as? String == kind && artifact["procedure"] as? String == procedure, "\(file)")
            #expect(artifact["step"] is Int && artifact["seed"] is Int && artifact["library_version"] is String, "\(file)")
        }
        let checkpoint = try Check.json(try run(["inspect", path("ist/glue-sst2/checkpoint.safetensors")]))
        #expect(checkpoint["kind"] as? String == "checkpoint" && checkpoint["step"] as? Int == 6)
        #expect(checkpoint["trained_parameters"] as? Int == 2 && checkpoint["procedure"] as? String == "subspace-tuning")
        let weights = try Check.json(try run(["inspect", model + "/model.safetensors"]))
        #expect(weights["format"] as? String == "safetensors")
        let tensors = try #require(weights["tensors"] as? [[String: Any]])
        #expect(weights["parameters"] as? Int == tensors.reduce(0) { $0 + ($1["parameters"] as? Int ?? 0) })

        // A tuned prompt through PEFT's format and back scores the same.
        _ = try run(["export-peft", "--prompt", path("pt/glue-sst2"), "--model", model, "--output", path("peft")])
        _ = try run(["import-peft", "--peft", path("peft"), "--output", path("imported.safetensors"), "--model", model])
        let original = try SafeTensors.read(path("pt/glue-sst2/prompt.safetensors")).tensors["prompt"]
        #expect(try SafeTensors.read(path("imported.safetensors")).tensors["prompt"]?.scalars == original?.scalars)
        #expect(try run(evaluate + ["--prompt", path("imported.safetensors")]).stdout
                == (try run(evaluate + ["--prompt", path("pt/glue-sst2/prompt.safetensors")]).stdout))
    }

    @Test func finishedRunsResumeOverwriteAndConfigurationFiles() throws {
        let model = try TinyModel.folder()
        let root = try TemporaryDirectory()
        let output = root.url.appendingPathComponent("one").path
        let arguments = ["prompt-tune", "--model", model, "--data", data, "--task", "glue-sst2", "--learning-rate", "0.3",
                         "--batch-size", "4", "--prompt-length", "4", "--output", output] + quick
        let first = try run(arguments)
        #expect(first.stdout.hasPrefix("prompt-tuning task=glue-sst2 dev=") && first.stdout.hasSuffix("output=\(output)\n"))
        let results = try Data(contentsOf: URL(fileURLWithPath: output + "/results.json"))

        // --resume of a finished run reports it and leaves it as it is.
        let resumed = try run(arguments + ["--resume"])
        #expect(resumed.stdout == first.stdout)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/results.json")) == results)
        // --resume with other settings is refused: the stored result is not theirs.
        let other = arguments.map { $0 == "0.3" ? "0.2" : $0 } + ["--resume"]
        let otherSettings = try CLI.run(other)
        Check.fails(otherSettings, status: 1, mentioning: "\(output)/config.json: configuration.")
        #expect(otherSettings.stderr.contains("in the finished run"), "\(otherSettings.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/results.json")) == results)
        // A second run into the finished folder is refused, --overwrite replaces it.
        Check.fails(try CLI.run(arguments), status: 1, mentioning: "\(output): holds a finished run (results.json); pass --overwrite")
        _ = try run(arguments + ["--overwrite"])

        // A partial configuration file under the flags; an unknown key is an error naming it.
        let random = ["tune-subspace", "--model", model, "--data", data, "--task", "glue-sst2", "--random-subspace", "--dim", "2",
                      "--prompt-length", "4", "--prediction", "option-scoring", "--max-dev-examples", "4", "--max-test-examples", "4"]
        let partial = try root.write("partial.json", "{\"optimization\": {\"total_steps\": 3, \"eval_period\": 3, \"warmup_steps\": 0}}").path
        _ = try run(random + ["--config", partial, "--output", root.url.appendingPathComponent("configured").path])
        let configured = try Check.jsonFile(root.url.appendingPathComponent("configured/results.json"))
        #expect(configured["lastStep"] as? Int == 3)
        let unknown = try root.write("unknown.json", "{\"optimization\": {\"total_steps\": 3, \"no_such_key\": 1}}").path
        let refused = root.url.appendingPathComponent("refused").path
        Check.fails(try CLI.run(random + ["--config", unknown, "--output", refused]), status: 1,
                    mentioning: "\(unknown): unknown key optimization.no_such_key")
        #expect(!FileManager.default.fileExists(atPath: refused), "nothing written for a refused configuration")
    }
}

/// Command lines of the procedure commands that do not parse: exit status 2, one line, nothing
/// written (no model or data needed: the flags are checked first). Values that parse but are out
/// of range are bad input (exit 1): BadInputTests.
@Suite("ipt-cli procedure usage errors")
struct ProcedureUsageTests {
    @Test func badFlagValuesAreUsageErrors() throws {
        let root = try TemporaryDirectory()
        let output = root.url.appendingPathComponent("out").path
        let base = ["--model", root.url.path, "--data", root.url.path, "--task", "glue-sst2", "--output", output]
        let cases: [([String], String)] = [
            (["prompt-tune"] + base + ["--total-steps", "many"], "The value 'many' is invalid for '--total-steps"),
            (["prompt-tune"] + base + ["--prediction", "psychic"], "--prediction must be generation or option-scoring, got psychic"),
            (["prompt-tune"] + base + ["--clipping", "none"], "--clipping must be trainable or all-model, got none"),
            (["prompt-tune"] + base + ["--initialization", "magic"], "--initialization must be random, vocabulary, text or file"),
            (["prompt-tune"] + base + ["--shard", "3"], "--shard must be i/n, got 3"),
            (["find-subspace", "--model", "m", "--data", "d", "--split", "s", "--prompts", "p", "--output", output, "--method", "svd"],
             "--method must be autoencoder or pca, got svd"),
            (["prompt-tune"] + base + ["--resume", "--overwrite"], "give --resume or --overwrite, not both"),
            (["prompt-tune", "--model", "m", "--data", "d", "--output", output], "give --task or --split"),
            (["tune-subspace"] + base + ["--random-subspace"], "--random-subspace needs --dim"),
            (["tune-subspace"] + base, "give --subspace DIR or --random-subspace --dim D"),
            (["find-subspace", "--model", "m", "--data", "d", "--split", "s", "--prompts", "p", "--output", output, "--dim", "x"],
             "The value 'x' is invalid for '--dim"),
        ]
        for (arguments, message) in cases {
            let result = try CLI.run(arguments)
            Check.fails(result, status: 2, mentioning: message)
            #expect(result.stderr.contains("--help"), "points at the help: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "\(arguments)")
        }
    }
}
