import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `ipt-cli tune-said`: the Fastfood intrinsic-dimension baseline (Tune_said.sh).
struct TuneSAIDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune-said",
        abstract: "Tune every weight of the model inside a random d-dimensional Fastfood subspace (DID, or SAID).",
        discussion: """
        Defaults are the paper's (Tune_said.sh): d 100, learning rate 1e-5, batch 4, 30,000 steps, 3,000 warm-up, dev \
        every 1,000 steps, the k-shot sample of seed 100, no per-tensor scalars (the paper ran DID; --structure-aware \
        adds SAID's scalars). The gradient of z is exact; --legacy-gradient-scaling reproduces the original's 1/L scaling.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var tasks: TaskSelectionOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .long, help: "Intrinsic dimension d (default 100).") var dim: Int?
    @Flag(name: .long, help: "Add trainable per-tensor scalars (SAID).") var structureAware = false
    @Flag(name: .long, help: "Scale each tensor's gradient by 1/L as the original did.") var legacyGradientScaling = false
    @Option(name: .long, help: "Seed of the random projections (default 0).") var projectionSeed: UInt64?
    @Option(name: .long, help: "Comma-separated key prefixes of the moved tensors (default: all).") var tensors: String?
    @Option(name: .long, help: "Learning rate (default 1e-5).") var learningRate: Float?
    @Option(name: .long, help: "Batch size (default 4).") var batchSize: Int?
    @Option(name: .long, help: "k-shot sample seed (default 100).") var seed: Int = 100

    func resolvedConfiguration() throws -> FastfoodTuningConfiguration {
        try FlagValue.inRange(1...ModelFolder.maximumSize, dim, "--dim")
        try FlagValue.positive(learningRate, "--learning-rate")
        try FlagValue.batchSize(batchSize, "--batch-size")
        var c = try runOptions.resolve(FastfoodTuningConfiguration.paper())
        try optimization.apply(to: &c.optimization)
        try evaluation.apply(to: &c.evaluation)
        if let dim { c.dimension = dim }
        if structureAware { c.structureAware = true }
        if legacyGradientScaling { c.legacyGradientScaling = true }
        if let projectionSeed { c.projectionSeed = projectionSeed }
        if let tensors { c.tensors = tensors.split(separator: ",").map { String($0) } }
        if let learningRate { c.optimization.learningRate = learningRate }
        if let batchSize { c.optimization.batchSize = batchSize }
        try runOptions.validate(c.validate)
        return c
    }

    func run() throws {
        let configuration = try resolvedConfiguration()
        let names = try tasks.tasks()
        let setups = try names.map { try TaskSetup.load(dataDirectory: tasks.dataURL, task: $0, seed: seed) }
        let (model, tokenizer, identity) = try modelOptions.load()
        for setup in setups {
            let tuning = try FastfoodTuning(model: model, tokenizer: tokenizer, identity: identity, task: setup,
                                            configuration: configuration)
            let path = tasks.folder(runOptions.output, for: setup.name)
            try runProcedure(in: path, mode: runOptions.mode, label: setup.name) { folder, progress in
                try tuning.run(in: folder, progress: progress)
            }
        }
    }
}
