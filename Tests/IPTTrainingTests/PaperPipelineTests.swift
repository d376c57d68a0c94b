import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTestSupport
import IPTTraining
import Testing

/// The whole pipeline on the tiny backbone and three of the built-in tasks (Resources/tasks).
@Suite(SharedData.required, .serialized)
struct PaperPipelineTests {
    static let taskFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Resources/tasks")
    let train = ["wn-lex-animal-plant", "wn-pos"]
    let unseen = ["wn-lex-person-location"]

    static func settings(steps: Int, lr: Float) -> OptimizationSettings {
        OptimizationSettings(learningRate: lr, batchSize: 4, totalSteps: steps, warmupSteps: 0, evaluationPeriod: 2,
                             maximumGradientNorm: 1, seed: 7)
    }

    static let configuration: PipelineConfiguration = {
        let evaluation = EvaluationSettings(mode: .optionScoring, batchSize: 16, numBeams: 1, maximumLength: 8,
                                            maximumDevExamples: 4, maximumTestExamples: 8)
        let prompt = PromptTuningConfiguration(promptLength: 4, optimization: settings(steps: 4, lr: 0.3),
                                               evaluation: evaluation, maximumInputLength: 64)
        let finding = SubspaceFindingConfiguration(dimension: 2, decoderWidth: 8, optimization: settings(steps: 4, lr: 1e-3),
                                                   evaluation: evaluation, maximumInputLength: 64)
        let tuning = SubspaceTuningConfiguration(subspace: .random(dimension: 2), optimization: settings(steps: 3, lr: 0.1),
                                                 evaluation: evaluation, maximumInputLength: 64)
        let fastfood = FastfoodTuningConfiguration(dimension: 2, optimization: settings(steps: 2, lr: 0.05),
                                                   evaluation: evaluation, maximumInputLength: 64)
        var stageTwo = prompt
        stageTwo.optimization = settings(steps: 2, lr: 0.1)
        return PipelineConfiguration(promptTuning: prompt, subspaceFinding: finding, subspaceTuning: tuning,
                                     fastfood: fastfood, stageTwo: stageTwo, randomSubspace: true, dataSeed: 100,
                                     seenTuningSeed: 21)
    }()

    func pipeline(models count: Int, configuration: PipelineConfiguration = Self.configuration) throws -> PaperPipeline {
        var models: [any Backbone] = []
        var loaded = try TinyBackbone.load()
        models.append(loaded.model)
        while models.count < count {
            loaded = try TinyBackbone.load()
            models.append(loaded.model)
        }
        return try PaperPipeline(models: models, tokenizer: loaded.tokenizer, identity: loaded.identity,
                                 dataDirectory: Self.taskFolder, trainTasks: train, unseenTasks: unseen,
                                 configuration: configuration)
    }

    /// Folder and scores of each stage, for comparing runs.
    func summary(_ stages: [PipelineStageResult]) -> [String] {
        stages.map { stage in
            let scores = stage.result.tasks.map { "\($0.task) \($0.dev ?? .nan) \($0.test ?? .nan)" }
            return "\(stage.stage) \(stage.folder) \(stage.result.bestStep) \(stage.result.evaluations.map(\.score)) \(scores)"
        }
    }

    @Test func everyStageRunsAndTwoWorkersGiveTheSameResultsAsOne() throws {
        let one = URL(fileURLWithPath: TinyBackbone.temporaryFolder("pipeline-1"))
        let two = URL(fileURLWithPath: TinyBackbone.temporaryFolder("pipeline-2"))
        defer { try? FileManager.default.removeItem(at: one); try? FileManager.default.removeItem(at: two) }
        let sequential = try pipeline(models: 1).run(output: one, resume: false)
        let folders = sequential.map(\.folder)
        #expect(folders == ["prompts/wn-lex-animal-plant", "prompts/wn-pos", "prompts/wn-lex-person-location", "subspace",
                            "learned/wn-lex-person-location", "random/wn-lex-person-location",
                            "fastfood/wn-lex-person-location", "stage-two/wn-lex-person-location",
                            "learned-seen/wn-lex-animal-plant", "learned-seen/wn-pos"])
        for folder in folders {
            #expect(FileManager.default.fileExists(atPath: one.appendingPathComponent("\(folder)/results.json").path), "\(folder)")
        }
        #expect(!sequential.contains { $0.result.interrupted })
        // Concurrent events arrive from two threads: the handler must see every stage's phase.
        let lock = NSLock()
        var phases: Set<String> = []
        let concurrent = try pipeline(models: 2).run(output: two, resume: false) { folder, event in
            if case .phase = event { _ = lock.withLock { phases.insert(folder) } }
            return .proceed
        }
        #expect(phases == Set(folders))
        #expect(summary(concurrent) == summary(sequential))
        let report = try ResultsReport.load(paths: [two.path])
        #expect(report.markdown().contains("wn-lex-person-location"))
    }

    @Test func aStoppedPipelineResumesToTheUninterruptedResult() throws {
        let whole = URL(fileURLWithPath: TinyBackbone.temporaryFolder("pipeline-whole"))
        let stopped = URL(fileURLWithPath: TinyBackbone.temporaryFolder("pipeline-stopped"))
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: stopped) }
        let uninterrupted = try pipeline(models: 2).run(output: whole, resume: false)
        // Stop inside the subspace finding stage, after its first step.
        let partial = try pipeline(models: 2).run(output: stopped, resume: false) { folder, event in
            if folder == "subspace", case .step = event { return .stop }
            return .proceed
        }
        #expect(partial.last?.folder == "subspace")
        #expect(partial.last?.result.interrupted == true)
        #expect(partial.count == 4)
        let resumed = try pipeline(models: 1).run(output: stopped, resume: true)
        // Finished stages are kept (reported again with their results), the rest run.
        #expect(summary(resumed) == summary(uninterrupted))
        // Resumed with other prompt-tuning settings: refused before any step, also when the first
        // task's folder is gone (it would train first), naming the folder that differs.
        try FileManager.default.removeItem(at: stopped.appendingPathComponent("prompts/wn-lex-animal-plant"))
        var other = Self.configuration
        other.promptTuning.optimization.totalSteps = 5
        var steps = 0
        #expect {
            _ = try pipeline(models: 1, configuration: other).run(output: stopped, resume: true) { _, event in
                if case .step = event { steps += 1 }
                return .proceed
            }
        } throws: { "\($0)".contains("prompts/wn-pos/config.json") && "\($0)".contains("in the finished run") }
        #expect(steps == 0)
    }
}
