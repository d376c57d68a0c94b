import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTTraining

/// `ipt-cli stage-two`: prompt tuning started from the intrinsic-subspace solution (IST_stage_two.sh).
struct StageTwoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage-two",
        abstract: "Prompt tuning started from a tune-subspace run's best intrinsic vector, decoded to a prompt.",
        discussion: """
        Reports the best-on-dev prompt's test score (the original reported the last one). Defaults: prompt tuning's \
        (learning rate 1e-5, batch 4, 100,000 steps, 6% warm-up, dev every 1,000), the k-shot sample of seed 21.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var tasks: TaskSelectionOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .long, help: "A tune-subspace output folder (per task: <from>/<task> when several tasks are selected).")
    var from: String
    @Option(name: .long, help: "Learning rate (default 1e-5).") var learningRate: Float?
    @Option(name: .long, help: "Batch size (default 4).") var batchSize: Int?
    @Option(name: .long, help: "k-shot sample seed (default 21).") var seed: Int = 21

    func resolvedConfiguration() throws -> PromptTuningConfiguration {
        try FlagValue.positive(learningRate, "--learning-rate")
        try FlagValue.batchSize(batchSize, "--batch-size")
        var defaults = PromptTuningConfiguration.paper(learningRate: 1e-5, batchSize: 4)
        defaults.optimization.warmupSteps = 6_000
        defaults.targetFormat = .leadingSpace
        var c = try runOptions.resolve(defaults)
        try optimization.apply(to: &c.optimization)
        try evaluation.apply(to: &c.evaluation)
        if let learningRate { c.optimization.learningRate = learningRate }
        if let batchSize { c.optimization.batchSize = batchSize }
        if optimization.warmupSteps == nil && optimization.totalSteps != nil {
            c.optimization.warmupSteps = Int(Double(c.optimization.totalSteps) * 0.06)
        }
        return c  // validated per task, once the prompt length is --from's
    }

    func run() throws {
        let configuration = try resolvedConfiguration()
        let names = try tasks.tasks()
        let setups = try names.map { try TaskSetup.load(dataDirectory: tasks.dataURL, task: $0, seed: seed) }
        let (model, tokenizer, identity) = try modelOptions.load()
        for setup in setups {
            let source = URL(fileURLWithPath: tasks.folder(from, for: setup.name))
            let path = tasks.folder(runOptions.output, for: setup.name)
            // Validates --from before writing; the prompt length is its prompt's, not a default's.
            let (initial, digest) = try StageTwo.decode(from: source, model: identity)
            var checked = configuration
            checked.promptLength = initial.shape[0]
            try runOptions.validate(checked.validate)
            try runProcedure(in: path, mode: runOptions.mode, label: setup.name) { folder, progress in
                try StageTwo.run(model: model, tokenizer: tokenizer, identity: identity, task: setup, initialPrompt: initial,
                                 initialPromptDigest: digest, configuration: checked, in: folder, progress: progress)
            }
        }
    }
}
