import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTTraining

/// `ipt-cli prompt-tune`: vanilla prompt tuning (promptTune.sh), over a learning-rate x batch-size grid.
struct PromptTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prompt-tune",
        abstract: "Tune a soft prompt of a frozen model on each selected task (grid over learning rates x batch sizes).",
        discussion: """
        Defaults are the paper's (promptTune.sh): prompt length 100, N(0, 0.02) initialisation, learning rates \
        1e-5,2e-5,5e-5,1e-4 x batch sizes 2,4,8, 100,000 steps, 10,000 warm-up, dev every 1,000 steps, clipping 0.1, \
        label smoothing 0.1, the k-shot sample of seed 100. One task (--task NAME) writes into --output; several, or a --shard of several, write --output/<task>.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var tasks: TaskSelectionOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .long, help: "k-shot sample seed (default 100).") var seed: Int = 100
    @Option(name: .long, parsing: .upToNextOption, help: "Learning rates of the grid (default: 1e-5 2e-5 5e-5 1e-4).")
    var learningRates: [Float] = []
    @Option(name: .long, help: "A single learning rate (instead of --learning-rates).") var learningRate: Float?
    @Option(name: .long, parsing: .upToNextOption, help: "Batch sizes of the grid (default: 2 4 8).") var batchSizes: [Int] = []
    @Option(name: .long, help: "A single batch size (instead of --batch-sizes).") var batchSize: Int?
    @Option(name: .long, help: "Prompt vectors n (default 100).") var promptLength: Int?
    @Option(name: .long, help: "Initialisation: random (default), vocabulary, text, file.") var initialization: String?
    @Option(name: .long, help: "Text for --initialization text.") var initializationText: String?
    @Option(name: .long, help: "Prompt file for --initialization file (IPT prompt or PEFT adapter_model.safetensors).")
    var initializationFile: String?

    func resolvedConfiguration() throws -> PromptTuningConfiguration {
        var c = try runOptions.resolve(PromptTuningConfiguration.paper())
        try optimization.apply(to: &c.optimization)
        try evaluation.apply(to: &c.evaluation)
        try FlagValue.atLeast(1, promptLength, "--prompt-length")
        if let promptLength { c.promptLength = promptLength }
        if let initialization {
            guard let kind = PromptInitialization.Kind(rawValue: initialization) else {
                throw ValidationError("--initialization must be random, vocabulary, text or file")
            }
            c.initialization.kind = kind
        }
        if let initializationText { c.initialization.text = initializationText }
        if let initializationFile { c.initialization.file = initializationFile }
        try runOptions.validate(c.validate)
        return c
    }

    func grid() throws -> PromptTuningGrid {
        var rates = learningRates, sizes = batchSizes
        if let learningRate { rates = [learningRate] }
        if let batchSize { sizes = [batchSize] }
        if rates.isEmpty { rates = PromptTuningGrid.paper.learningRates }
        if sizes.isEmpty { sizes = PromptTuningGrid.paper.batchSizes }
        for rate in rates { try FlagValue.positive(rate, learningRate == nil ? "--learning-rates" : "--learning-rate") }
        for size in sizes { try FlagValue.batchSize(size, batchSize == nil ? "--batch-sizes" : "--batch-size") }
        return PromptTuningGrid(learningRates: rates, batchSizes: sizes)
    }

    func run() throws {
        let configuration = try resolvedConfiguration()
        let grid = try grid()
        let names = try tasks.tasks()
        let setups = try names.map { try TaskSetup.load(dataDirectory: tasks.dataURL, task: $0, seed: seed) }
        let (model, tokenizer, identity) = try modelOptions.load()
        try ModelOptions.check(promptLength: configuration.promptLength, model: model, folder: modelOptions.model)
        for setup in setups {
            let path = tasks.folder(runOptions.output, for: setup.name)
            // Validates the initialisation (e.g. a prompt file) before anything is written.
            _ = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: setup, configuration: configuration)
            try runProcedure(in: path, mode: runOptions.mode, label: setup.name) { folder, progress in
                try grid.run(model: model, tokenizer: tokenizer, identity: identity, task: setup, configuration: configuration,
                             directory: folder, resume: runOptions.resume, progress: progress)
            }
        }
    }
}
