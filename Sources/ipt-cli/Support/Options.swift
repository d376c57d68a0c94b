import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `--model DIR`: a Hugging Face model folder (config.json, model.safetensors, tokenizer files).
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model folder (Hugging Face layout: config.json with model_type bart or bert, model.safetensors, and tokenizer.json, vocab.json + merges.txt (BART) or vocab.txt (BERT)).")
    var model: String

    /// The model (frozen; BART or BERT, as config.json's model_type says), its tokenizer (byte-level
    /// BPE for BART, WordPiece for BERT) and identity.
    func load() throws -> (model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity) {
        try ModelOptions.load(model)
    }

    /// The model in the folder `model` (frozen), its tokenizer and identity.
    static func load(_ model: String) throws -> (model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity) {
        let url = URL(fileURLWithPath: model)
        let folder = ModelFolder(url)
        let backbone = try folder.loadModel()
        backbone.freeze()
        // The model's family decides the tokenizer's, so that a missing file is named.
        let tokenizer: any Tokenizer
        switch try folder.architecture() {
        case .bart: tokenizer = try ByteLevelBPETokenizer.load(folder: url)
        case .bert: tokenizer = try WordPieceTokenizer.load(folder: url)
        }
        guard tokenizer.vocabularySize <= backbone.vocabularySize else {
            throw CLIError("\(model): the tokenizer has \(tokenizer.vocabularySize) tokens but the model's vocab_size is \(backbone.vocabularySize)")
        }
        let identity = ModelIdentity(of: backbone, name: url.lastPathComponent, hiddenSize: backbone.hiddenSize)
        return (backbone, tokenizer, identity)
    }

    /// Checks a `--prompt-length` against the model's positions (text needs at least one).
    static func check(promptLength: Int?, model: any PromptTunableModel, folder: String) throws {
        guard let promptLength, promptLength >= model.maximumInputLength else { return }
        throw CLIError("--prompt-length \(promptLength) leaves no room for text in the \(model.maximumInputLength) positions of \(folder) (config.json max_position_embeddings)")
    }
}

/// Which tasks a command runs on: one, a list, or a split file's part; optionally one shard.
struct TaskSelectionOptions: ParsableArguments {
    @Option(name: .long, help: "CrossFit data folder (<task>/<task>_<k>_<seed>_{train,dev,test}.tsv, tasks.json).")
    var data: String

    @Option(name: .long, help: "A task, or several separated by commas.")
    var task: String?

    @Option(name: .long, help: "A task-split JSON file ({\"train\": [...], \"dev\": [...], \"test\": [...]}).")
    var split: String?

    @Option(name: .long, help: "Which part of --split to run: train or test (default: train).")
    var splitPart: String = "train"

    @Option(name: .long, help: "Run every n-th task: i/n (0-based), for one job of a job array.")
    var shard: String?

    /// The selected task names (after sharding).
    func tasks() throws -> [String] {
        var names: [String]
        if let task {
            guard split == nil else { throw ValidationError("give --task or --split, not both") }
            names = task.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else if let split {
            guard let part = DataPart(rawValue: splitPart) else {
                throw ValidationError("--split-part must be train, dev or test, got \(splitPart)")
            }
            let directory = try CrossFitDirectory(URL(fileURLWithPath: data))
            names = try TaskSplit.load(URL(fileURLWithPath: split), directory: directory, missingTasks: .fail).tasks(part)
        } else {
            throw ValidationError("give --task or --split")
        }
        guard !names.isEmpty else { throw ValidationError("no tasks selected") }
        return try shardOf(names)
    }

    func shardOf(_ names: [String]) throws -> [String] {
        guard let shard else { return names }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ValidationError("--shard must be i/n, got \(shard)")
        }
        guard n >= 1, i >= 0, i < n else { throw CLIError("--shard must be i/n with 0 <= i < n, got \(shard)") }
        return names.enumerated().filter { $0.offset % n == i }.map(\.element)
    }

    var dataURL: URL { URL(fileURLWithPath: data) }

    /// Where a task's run goes: `base` itself when one task is named (`--task NAME`), else
    /// `base/<task>` (several tasks, a split, or a shard of them: each job of a job array then
    /// writes its own task folders).
    func folder(_ base: String, for name: String) -> String {
        let named = task?.split(separator: ",").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return named?.count == 1 ? base : base + "/" + name
    }
}

/// The paper's optimisation flags; each overrides the procedure's default only when given.
struct OptimizationOptions: ParsableArguments {
    @Option(name: .long, help: "Optimisation steps.") var totalSteps: Int?
    @Option(name: .long, help: "Linear warm-up steps.") var warmupSteps: Int?
    @Option(name: .long, help: "Steps between dev evaluations.") var evalPeriod: Int?
    @Option(name: .long, help: "Evaluations without improvement before stopping early (default: never).") var waitSteps: Int?
    @Option(name: .long, help: "Global gradient-norm bound (default 0.1).") var maxGradNorm: Float?
    @Option(name: .long, help: "What the clipping norm covers: trainable (default) or all-model (the original's accident).")
    var clipping: String?
    @Option(name: .long, help: "Seed of the training randomness: batch order, answer choice, dropout (default 42).")
    var trainingSeed: UInt64?
    @Option(name: .long, help: "Steps between checkpoints (default: at every evaluation).") var checkpointPeriod: Int?

    func apply(to settings: inout OptimizationSettings) throws {
        try FlagValue.atLeast(1, totalSteps, "--total-steps")
        try FlagValue.atLeast(0, warmupSteps, "--warmup-steps")
        try FlagValue.atLeast(1, evalPeriod, "--eval-period")
        try FlagValue.atLeast(1, waitSteps, "--wait-steps")
        try FlagValue.positive(maxGradNorm, "--max-grad-norm")
        try FlagValue.atLeast(1, checkpointPeriod, "--checkpoint-period")
        if let totalSteps { settings.totalSteps = totalSteps }
        if let warmupSteps { settings.warmupSteps = warmupSteps } else if let totalSteps, settings.warmupSteps > totalSteps {
            settings.warmupSteps = totalSteps / 10
        }
        if let evalPeriod { settings.evaluationPeriod = evalPeriod }
        if let waitSteps { settings.patience = waitSteps }
        if let maxGradNorm { settings.maximumGradientNorm = maxGradNorm }
        if let clipping {
            switch clipping {
            case "trainable": settings.clipping = .trainable
            case "all-model": settings.clipping = .allModelParameters
            default: throw ValidationError("--clipping must be trainable or all-model, got \(clipping)")
            }
        }
        if let trainingSeed { settings.seed = trainingSeed }
        if let checkpointPeriod { settings.checkpointPeriod = checkpointPeriod }
    }
}

/// Evaluation flags.
struct EvaluationOptions: ParsableArguments {
    @Option(name: .long, help: "How predictions are made: generation (the paper: beam search) or option-scoring (classification tasks).")
    var prediction: String?
    @Option(name: .long, help: "Examples per evaluation forward (default 32).") var predictBatchSize: Int?
    @Option(name: .long, help: "Beams (default 4).") var numBeams: Int?
    @Option(name: .long, help: "Longest generated answer in tokens (default 64).") var maxOutputLength: Int?
    @Option(name: .long, help: "Evaluate on at most this many dev examples.") var maxDevExamples: Int?
    @Option(name: .long, help: "Evaluate on at most this many test examples.") var maxTestExamples: Int?

    func apply(to settings: inout EvaluationSettings) throws {
        try FlagValue.batchSize(predictBatchSize, "--predict-batch-size")
        try FlagValue.inRange(1...1024, numBeams, "--num-beams")
        try FlagValue.atLeast(2, maxOutputLength, "--max-output-length")
        try FlagValue.atLeast(1, maxDevExamples, "--max-dev-examples")
        try FlagValue.atLeast(1, maxTestExamples, "--max-test-examples")
        if let prediction {
            guard let mode = PredictionMode(rawValue: prediction) else {
                throw ValidationError("--prediction must be generation or option-scoring, got \(prediction)")
            }
            settings.mode = mode
        }
        if let predictBatchSize { settings.batchSize = predictBatchSize }
        if let numBeams { settings.numBeams = numBeams }
        if let maxOutputLength { settings.maximumLength = maxOutputLength }
        if let maxDevExamples { settings.maximumDevExamples = maxDevExamples }
        if let maxTestExamples { settings.maximumTestExamples = maxTestExamples }
    }
}

/// Output folder, resume/overwrite and a configuration file.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: "Output folder.") var output: String
    @Flag(name: .long, help: "Continue an unfinished run from its checkpoint (a finished run is reported, not rerun).")
    var resume = false
    @Flag(name: .long, help: "Replace a run already in the output folder.") var overwrite = false
    @Option(name: .long, help: "A JSON file with settings (the keys of the config.json a run writes); flags override it.")
    var config: String?

    func validate() throws {
        if resume && overwrite { throw ValidationError("give --resume or --overwrite, not both") }
    }

    var mode: RunDirectory.Mode { resume ? .resume : overwrite ? .overwrite : .fresh }

    /// `defaults` with the `--config` file's keys laid over it (unknown keys are errors).
    func resolve<C: Codable>(_ defaults: C) throws -> C {
        guard let config else { return defaults }
        return try ConfigurationFile.overlay(defaults, with: config)
    }

    /// Runs a configuration's `validate`. The flags are checked before they are applied, so a
    /// value out of range comes from the `--config` file (or a combination): name the file.
    func validate(_ check: () throws -> Void) throws {
        do {
            try check()
        } catch let error as TrainingError {
            guard let config, case .invalidConfiguration = error else { throw error }
            throw CLIError("\(config): \(error)")
        }
    }
}

/// A one-line error of the command line (exit status 1).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Range checks of flag values. A value that parses but is out of range is bad input (exit 1, one
/// line naming the flag), like a bad file; exit 2 is kept for command lines that do not parse
/// (unknown flags, missing or unparsable values, values not among a flag's choices, flags that
/// conflict or are missing).
enum FlagValue {
    /// `value`, when given, is at least `minimum`.
    static func atLeast(_ minimum: Int, _ value: Int?, _ flag: String) throws {
        if let value, value < minimum { throw CLIError("\(flag) must be at least \(minimum), got \(value)") }
    }

    /// `value`, when given, is in `range`.
    static func inRange(_ range: ClosedRange<Int>, _ value: Int?, _ flag: String) throws {
        try atLeast(range.lowerBound, value, flag)
        if let value, value > range.upperBound { throw CLIError("\(flag) must be at most \(range.upperBound), got \(value)") }
    }

    /// `value`, when given, is a batch size: at least 1, at most ``OptimizationSettings/maximumBatchSize``.
    static func batchSize(_ value: Int?, _ flag: String) throws {
        try inRange(1...OptimizationSettings.maximumBatchSize, value, flag)
    }

    /// `value`, when given, is a positive finite number.
    static func positive(_ value: Float?, _ flag: String) throws {
        if let value, !(value > 0 && value.isFinite) { throw CLIError("\(flag) must be a positive number, got \(value)") }
    }

    /// `value`, when given, is a finite number that is not negative.
    static func notNegative(_ value: Float?, _ flag: String) throws {
        if let value, !(value >= 0 && value.isFinite) { throw CLIError("\(flag) must be a number of at least 0, got \(value)") }
    }
}

/// Partial JSON configuration files laid over defaults.
enum ConfigurationFile {
    static func overlay<C: Codable>(_ defaults: C, with path: String) throws -> C {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CLIError("\(path): cannot read the configuration file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw CLIError("\(path): not valid JSON")
        }
        guard var base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any] else {
            throw CLIError("\(path): cannot merge the configuration")
        }
        // A run's config.json wraps the settings in "configuration"; accept both forms.
        var overrides = object as? [String: Any] ?? [:]
        if let inner = overrides["configuration"] as? [String: Any], overrides["procedure"] != nil { overrides = inner }
        // prompt-tune's config.json holds a grid: its settings per point are under "point" (the grid
        // itself comes from --learning-rates/--batch-sizes).
        if let point = overrides["point"] as? [String: Any], base["point"] == nil { overrides = point }
        guard object is [String: Any] else { throw CLIError("\(path): the configuration must be a JSON object") }
        try merge(&base, overrides, path: path, prefix: "")
        do {
            return try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: base))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw CLIError("\(path): key \(key) has the wrong type")
        } catch {
            throw CLIError("\(path): invalid configuration (\(error))")
        }
    }

    private static func merge(_ base: inout [String: Any], _ overrides: [String: Any], path: String, prefix: String) throws {
        for (key, value) in overrides {
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let nested = value as? [String: Any], var inner = base[key] as? [String: Any] {
                try merge(&inner, nested, path: path, prefix: name)
                base[key] = inner
            } else if base.keys.contains(key) || isOptionalKey(key) {
                base[key] = value
            } else {
                throw CLIError("\(path): unknown key \(name)")
            }
        }
    }

    /// Keys of optional settings, absent from the encoded defaults when unset.
    private static func isOptionalKey(_ key: String) -> Bool {
        ["wait_steps", "checkpoint_period", "max_dev_examples", "max_test_examples", "tensors", "text", "file",
         "path", "dim", "prompt_length", "decoder_width", "seed"].contains(key)
    }
}
