import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `ipt-cli find-adapter-subspace`: multi-task training of the adapter hypernetwork (MSF_adapter.sh).
struct FindAdapterSubspaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-adapter-subspace",
        abstract: "Train a linear hypernetwork from a d-dimensional vector to all adapters, over the split's training tasks.",
        discussion: """
        Defaults are the paper's (MSF_adapter.sh): d 10, bottleneck 16, one vector shared by all tasks, learning rates \
        3e-4 (hypernetwork) and 1e-4 (vector), batch 256, 200,000 steps, 12,000 warm-up, dev every 5,000 steps, seed 100.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .long, help: "CrossFit data folder.") var data: String
    @Option(name: .long, help: "Task-split JSON file (its train part is used).") var split: String
    @Option(name: .long, help: "Intrinsic dimension d (default 10).") var dim: Int?
    @Option(name: .long, help: "Adapter bottleneck width (default 16).") var bottleneckSize: Int?
    @Flag(name: .long, help: "One intrinsic vector per task instead of one shared vector.") var perTaskVectors = false
    @Option(name: .long, help: "Learning rate of the hypernetwork (default 3e-4).") var hypernetworkLearningRate: Float?
    @Option(name: .long, help: "Learning rate of the vector (default 1e-4).") var vectorLearningRate: Float?
    @Option(name: .long, help: "Batch size (default 256).") var batchSize: Int?
    @Option(name: .long, help: "k-shot sample seed (default 100).") var seed: Int = 100

    func run() throws {
        try FlagValue.inRange(1...ModelFolder.maximumSize, dim, "--dim")
        try FlagValue.inRange(1...ModelFolder.maximumSize, bottleneckSize, "--bottleneck-size")
        try FlagValue.positive(hypernetworkLearningRate, "--hypernetwork-learning-rate")
        try FlagValue.positive(vectorLearningRate, "--vector-learning-rate")
        try FlagValue.batchSize(batchSize, "--batch-size")
        var c = try runOptions.resolve(AdapterSubspaceFindingConfiguration.paper())
        try optimization.apply(to: &c.optimization)
        try evaluation.apply(to: &c.evaluation)
        if let dim { c.dimension = dim }
        if let bottleneckSize { c.bottleneckSize = bottleneckSize }
        if perTaskVectors { c.perTaskVectors = true }
        if let hypernetworkLearningRate { c.hypernetworkLearningRate = hypernetworkLearningRate }
        if let vectorLearningRate { c.vectorLearningRate = vectorLearningRate }
        if let batchSize { c.optimization.batchSize = batchSize }
        if optimization.warmupSteps == nil && optimization.totalSteps != nil {
            c.optimization.warmupSteps = Int(Double(c.optimization.totalSteps) * 0.06)
        }
        try runOptions.validate(c.validate)
        let dataURL = URL(fileURLWithPath: data)
        let directory = try CrossFitDirectory(dataURL)
        let taskSplit = try TaskSplit.load(URL(fileURLWithPath: split), directory: directory, missingTasks: .fail)
        let setups = try taskSplit.train.map { try TaskSetup.load(dataDirectory: dataURL, task: $0, seed: seed) }
        let (model, tokenizer, identity) = try modelOptions.load()
        let finding = try AdapterSubspaceFinding(model: model, tokenizer: tokenizer, identity: identity, tasks: setups,
                                                 configuration: c)
        try runProcedure(in: runOptions.output, mode: runOptions.mode, label: "find-adapter-subspace") { folder, progress in
            try finding.run(in: folder, progress: progress)
        }
    }
}

/// `ipt-cli tune-adapter-subspace`: only the intrinsic vector of the adapter subspace trains (IST_adapter.sh).
struct TuneAdapterSubspaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune-adapter-subspace",
        abstract: "Tune only the d-dimensional vector of a found adapter subspace, per task.",
        discussion: """
        Defaults are the paper's (IST_adapter.sh): learning rate 1e-4, batch 4, 100,000 steps, dev every 1,000 steps, \
        the k-shot sample of seed 100, starting from the multi-task vector (what the original effectively did; \
        --random-start starts from N(0, 0.02)).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var tasks: TaskSelectionOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var optimization: OptimizationOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .long, help: "A find-adapter-subspace output folder.") var subspace: String
    @Flag(name: .long, help: "Start z from N(0, 0.02) instead of the multi-task vector.") var randomStart = false
    @Option(name: .long, help: "Learning rate (default 1e-4).") var learningRate: Float?
    @Option(name: .long, help: "Batch size (default 4).") var batchSize: Int?
    @Option(name: .long, help: "k-shot sample seed (default 100).") var seed: Int = 100

    func run() throws {
        try FlagValue.positive(learningRate, "--learning-rate")
        try FlagValue.batchSize(batchSize, "--batch-size")
        let path = URL(fileURLWithPath: subspace).appendingPathComponent("adapter_subspace.safetensors").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("\(path): missing; --subspace must be a find-adapter-subspace output folder")
        }
        var c = try runOptions.resolve(AdapterSubspaceTuningConfiguration.paper(subspace: path))
        try optimization.apply(to: &c.optimization)
        try evaluation.apply(to: &c.evaluation)
        if randomStart { c.startFromSharedVector = false }
        if let learningRate { c.optimization.learningRate = learningRate }
        if let batchSize { c.optimization.batchSize = batchSize }
        try runOptions.validate(c.validate)
        let names = try tasks.tasks()
        let setups = try names.map { try TaskSetup.load(dataDirectory: tasks.dataURL, task: $0, seed: seed) }
        let (model, tokenizer, identity) = try modelOptions.load()
        for setup in setups {
            let tuning = try AdapterSubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: setup,
                                                   configuration: c)
            let output = tasks.folder(runOptions.output, for: setup.name)
            try runProcedure(in: output, mode: runOptions.mode, label: setup.name) { folder, progress in
                try tuning.run(in: folder, progress: progress)
            }
        }
    }
}
