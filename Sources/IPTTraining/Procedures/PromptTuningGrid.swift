import Foundation
import IPTCore
import IPTData

/// Prompt tuning over a grid of learning rates x batch sizes that runs every point (the
/// original stopped after the first), keeps the best point by dev score (ties: the earlier point)
/// and copies its prompt to the grid's folder as `prompt.safetensors`.
///
/// Each point runs in its own subfolder `lr_<lr>_bsz_<b>` and is resumed or skipped on its own,
/// so a killed grid continues where it stopped.
public struct PromptTuningGrid {
    public var learningRates: [Float]
    public var batchSizes: [Int]
    /// The paper's grid: learning rates 1e-5, 2e-5, 5e-5, 1e-4 x batch sizes 2, 4, 8.
    public static let paper = PromptTuningGrid(learningRates: [1e-5, 2e-5, 5e-5, 1e-4], batchSizes: [2, 4, 8])

    public init(learningRates: [Float], batchSizes: [Int]) {
        self.learningRates = learningRates
        self.batchSizes = batchSizes
    }

    /// Folder name of a point.
    public static func folderName(learningRate: Float, batchSize: Int) -> String {
        "lr_\(learningRate)_bsz_\(batchSize)"
    }

    /// Runs every point, then writes the best prompt and the grid's `results.json`.
    ///
    /// - Parameters:
    ///   - configuration: settings shared by every point (its learning rate and batch size are replaced).
    ///   - directory: the grid's run folder.
    ///   - resume: continue unfinished points (finished ones are always kept when resuming).
    public func run(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                    configuration: PromptTuningConfiguration, directory: RunDirectory, resume: Bool,
                    progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        guard !learningRates.isEmpty, !batchSizes.isEmpty else {
            throw TrainingError.invalidConfiguration("the grid needs at least one learning rate and one batch size")
        }
        let started = Date()
        struct GridConfiguration: Codable, Sendable {
            var learningRates: [Float]
            var batchSizes: [Int]
            var point: PromptTuningConfiguration
        }
        // The inputs every point records (``PromptTuning``): the examples, and a prompt file to start from.
        var inputs = ["examples": RunInputs.examples([task])]
        if configuration.initialization.kind == .file {
            let prompt = try PromptTuning.readPrompt(configuration.initialization.file ?? "", length: configuration.promptLength,
                                                     hiddenSize: model.hiddenSize)
            inputs["initial_prompt"] = RunInputs.tensors([("prompt", prompt)])
        }
        let grid = RunConfiguration(procedure: .promptTuning, tasks: [task.name], dataSeed: task.task.sample.seed, baseModel: identity,
                                    configuration: GridConfiguration(learningRates: learningRates, batchSizes: batchSizes, point: configuration),
                                    inputs: inputs)
        if let finished = try directory.begin(grid, result: ProcedureResult.self) { return finished }
        var points: [(GridPoint, ProcedureResult)] = []
        for learningRate in learningRates {
            for batchSize in batchSizes {
                var pointConfiguration = configuration
                pointConfiguration.optimization.learningRate = learningRate
                pointConfiguration.optimization.batchSize = batchSize
                let name = PromptTuningGrid.folderName(learningRate: learningRate, batchSize: batchSize)
                if learningRates.count * batchSizes.count > 1 {
                    // A stop asked for here is honoured by the point's first step (after a checkpoint).
                    _ = progress(.phase("grid point learning rate \(learningRate), batch size \(batchSize)"))
                }
                let folder = try RunDirectory(path: directory.path(name), mode: resume ? .resume : .fresh)
                let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                              configuration: pointConfiguration)
                let result: ProcedureResult
                do {
                    result = try tuning.run(in: folder, progress: progress)
                } catch {
                    folder.discardIfUnstarted()
                    throw error
                }
                folder.release()
                if result.interrupted {
                    return result
                }
                let score = result.tasks.first
                points.append((GridPoint(learningRate: learningRate, batchSize: batchSize, dev: score?.dev ?? -.infinity,
                                         test: score?.test, folder: name), result))
            }
        }
        var bestIndex = 0
        for (i, p) in points.enumerated() where p.0.dev > points[bestIndex].0.dev { bestIndex = i }
        let (bestPoint, bestResult) = points[bestIndex]
        let source = directory.path(bestPoint.folder + "/prompt.safetensors")
        if FileManager.default.fileExists(atPath: source) {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: source)) } catch {
                throw TrainingError.outputFolder("\(source): cannot read the best point's prompt")
            }
            try AtomicFile.write(data, to: directory.path("prompt.safetensors"))
        }
        var result = bestResult
        result.grid = points.map(\.0)
        result.seconds = Date().timeIntervalSince(started)
        try directory.writeJSON(result, to: RunDirectory.resultsName)
        return result
    }
}
