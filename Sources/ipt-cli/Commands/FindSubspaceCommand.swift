import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `ipt-cli find-subspace`: multi-task subspace finding (MSF_prompt.sh), or the PCA baseline.
struct FindSubspaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-subspace",
        abstract: "Find a d-dimensional prompt subspace from the training tasks' tuned prompts (autoencoder or PCA).",
        discussion: """
        Defaults are the paper's (MSF_prompt.sh): d 250, decoder width 768, alpha 200, batch 64, learning rate 3e-5, \
        100,000 steps, 6% warm-up, dev every 5,000 steps, the k-shot sample of seed 100. Training tasks are the split's \
        train part; the split's test tasks that have tuned prompts in --prompts are evaluated as unseen (T_test(MSF)).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .long, help: "CrossFit data folder.") var data: String
    @Option(name: .long, help: "Task-split JSON file: train tasks define the subspace, test tasks are unseen.") var split: String
    @Option(name: .long, help: "Folder of prompt-tune outputs, one per task (<prompts>/<task>/prompt.safetensors).")
    var prompts: String
    @Option(name: .long, help: "Intrinsic dimension d (default 250).") var dim: Int?
    @Option(name: .long, help: "autoencoder (default) or pca.") var method: String?
    @Option(name: .long, help: "Weight of the reconstruction MSE (default 200).") var alpha: Float?
    @Option(name: .long, help: "Learning rate (default 3e-5).") var learningRate: Float?
    @Option(name: .long, help: "Batch size (default 64).") var batchSize: Int?
    @Option(name: .long, help: "Width of the decoder's tanh layer (default 768).") var decoderWidth: Int?
    @Option(name: .long, help: "k-shot sample seed (default 100).") var seed: Int = 100
    @Flag(name: .long, help: "Skip unseen tasks that have no tuned prompt instead of failing.") var skipMissingPrompts = false

    func resolvedConfiguration() throws -> SubspaceFindingConfiguration {
        try FlagValue.inRange(1...ModelFolder.maximumSize, dim, "--dim")
        try FlagValue.notNegative(alpha, "--alpha")
        try FlagValue.positive(learningRate, "--learning-rate")
        try FlagValue.batchSize(batchSize, "--batch-size")
        try FlagValue.inRange(1...ModelFolder.maximumSize, decoderWidth, "--decoder-width")
        var c = try runOptions.resolve(SubspaceFindingConfiguration.paper())
        try optimization.apply(to: &c.optimization)
        try evaluation.apply(to: &c.evaluation)
        if let dim { c.dimension = dim }
        if let method {
            guard ["autoencoder", "pca"].contains(method) else { throw ValidationError("--method must be autoencoder or pca, got \(method)") }
            c.method = method
        }
        if let alpha { c.alpha = alpha }
        if let learningRate { c.optimization.learningRate = learningRate }
        if let batchSize { c.optimization.batchSize = batchSize }
        if let decoderWidth { c.decoderWidth = decoderWidth }
        if optimization.warmupSteps == nil && optimization.totalSteps != nil {
            c.optimization.warmupSteps = Int(Double(c.optimization.totalSteps) * 0.06)
        }
        try runOptions.validate(c.validate)
        return c
    }

    func run() throws {
        let configuration = try resolvedConfiguration()
        let dataURL = URL(fileURLWithPath: data)
        let directory = try CrossFitDirectory(dataURL)
        let taskSplit = try TaskSplit.load(URL(fileURLWithPath: split), directory: directory, missingTasks: .fail)
        let (model, tokenizer, identity) = try modelOptions.load()
        let promptsURL = URL(fileURLWithPath: prompts)
        let trainNames = taskSplit.train
        let trainPrompts = try TunedPrompts.load(directory: promptsURL, tasks: trainNames, model: identity)
        var unseenNames = taskSplit.test.filter { !trainNames.contains($0) }
        if skipMissingPrompts {
            unseenNames = unseenNames.filter {
                FileManager.default.fileExists(atPath: promptsURL.appendingPathComponent("\($0)/prompt.safetensors").path)
            }
        }
        let unseenPrompts = try TunedPrompts.load(directory: promptsURL, tasks: unseenNames, model: identity)
        let trainTasks = try trainNames.map { try TaskSetup.load(dataDirectory: dataURL, task: $0, seed: seed) }
        let unseenTasks = try unseenNames.map { try TaskSetup.load(dataDirectory: dataURL, task: $0, seed: seed) }
        let finding = try SubspaceFinding(model: model, tokenizer: tokenizer, identity: identity, tasks: trainTasks,
                                          prompts: trainPrompts, unseenTasks: unseenTasks, unseenPrompts: unseenPrompts,
                                          configuration: configuration)
        try runProcedure(in: runOptions.output, mode: runOptions.mode, label: "find-subspace") { folder, progress in
            try finding.run(in: folder, progress: progress)
        }
    }
}
