import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `ipt-cli tune-subspace`: intrinsic subspace tuning (IST_prompt.sh), in a found or a random subspace.
struct TuneSubspaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune-subspace",
        abstract: "Tune only a d-dimensional intrinsic vector per task, in a found prompt subspace or a random one.",
        discussion: """
        Defaults are the paper's (IST_prompt.sh): learning rate 1e-5, batch 4, 100,000 steps, 6,000 warm-up, dev every \
        1,000 steps, z ~ N(0, 0.02), the k-shot sample of seed 21 (for seen tasks this is "different training data" \
        than the seed-100 sample the subspace was found with). --random-subspace --dim D is the paper's random prompt \
        subspace (IST_prompt.sh --AE_recover_random).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var tasks: TaskSelectionOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .long, help: "A find-subspace output folder (its subspace.safetensors).") var subspace: String?
    @Flag(name: .long, help: "Use an untrained random decoder as the subspace (needs --dim).") var randomSubspace = false
    @Option(name: .long, help: "d of the random subspace.") var dim: Int?
    @Option(name: .long, help: "Prompt length of the random subspace (default 100).") var promptLength: Int?
    @Option(name: .long, help: "Seed of the random subspace's weights (default 0).") var subspaceSeed: UInt64?
    @Option(name: .long, help: "Learning rate (default 1e-5).") var learningRate: Float?
    @Option(name: .long, help: "Batch size (default 4).") var batchSize: Int?
    @Option(name: .long, help: "k-shot sample seed (default 21).") var seed: Int = 21

    func validate() throws {
        if randomSubspace == (subspace != nil) { throw ValidationError("give --subspace DIR or --random-subspace --dim D") }
        if randomSubspace && dim == nil { throw ValidationError("--random-subspace needs --dim") }
    }

    func resolvedConfiguration() throws -> SubspaceTuningConfiguration {
        try FlagValue.inRange(1...ModelFolder.maximumSize, dim, "--dim")
        try FlagValue.atLeast(1, promptLength, "--prompt-length")
        try FlagValue.positive(learningRate, "--learning-rate")
        try FlagValue.batchSize(batchSize, "--batch-size")
        let source: SubspaceSource = randomSubspace
            ? .random(dimension: dim ?? 1, promptLength: promptLength ?? 100, seed: subspaceSeed ?? 0)
            : .file(URL(fileURLWithPath: subspace ?? "").appendingPathComponent("subspace.safetensors").path)
        var c = try runOptions.resolve(SubspaceTuningConfiguration.paper(subspace: source))
        try optimization.apply(to: &c.optimization)
        try evaluation.apply(to: &c.evaluation)
        if let learningRate { c.optimization.learningRate = learningRate }
        if let batchSize { c.optimization.batchSize = batchSize }
        if optimization.warmupSteps == nil && optimization.totalSteps != nil {
            c.optimization.warmupSteps = Int(Double(c.optimization.totalSteps) * 0.06)
        }
        try runOptions.validate(c.validate)
        return c
    }

    func run() throws {
        let configuration = try resolvedConfiguration()
        if configuration.subspace.kind == .file, let path = configuration.subspace.path,
           !FileManager.default.fileExists(atPath: path) {
            throw CLIError("\(path): missing; --subspace must be a find-subspace output folder")
        }
        let names = try tasks.tasks()
        let setups = try names.map { try TaskSetup.load(dataDirectory: tasks.dataURL, task: $0, seed: seed) }
        let (model, tokenizer, identity) = try modelOptions.load()
        if randomSubspace { try ModelOptions.check(promptLength: promptLength ?? 100, model: model, folder: modelOptions.model) }
        for setup in setups {
            let tuning = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: setup,
                                            configuration: configuration)
            let path = tasks.folder(runOptions.output, for: setup.name)
            try runProcedure(in: path, mode: runOptions.mode, label: setup.name) { folder, progress in
                try tuning.run(in: folder, progress: progress)
            }
        }
    }
}
