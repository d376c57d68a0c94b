import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTestSupport
import IPTTraining
import Testing

/// Every procedure on a tiny random BART with bart-base's vocabulary and real CrossFit tasks.
@Suite(SharedData.required, .serialized)
struct ProcedureTests {
    func settings(steps: Int, lr: Float = 0.3, batch: Int = 4, eval: Int = 5) -> OptimizationSettings {
        OptimizationSettings(learningRate: lr, batchSize: batch, totalSteps: steps, warmupSteps: 0, evaluationPeriod: eval,
                             maximumGradientNorm: 1)
    }

    func promptConfiguration(steps: Int) -> PromptTuningConfiguration {
        PromptTuningConfiguration(promptLength: 4, optimization: settings(steps: steps), evaluation: TinyBackbone.evaluation,
                                  maximumInputLength: 64)
    }

    /// Mean of the first and last few losses reported.
    func lossTrend(_ losses: [Double], window: Int = 5) -> (first: Double, last: Double) {
        let first = losses.prefix(window).reduce(0, +) / Double(min(window, losses.count))
        let last = losses.suffix(window).reduce(0, +) / Double(min(window, losses.count))
        return (first, last)
    }

    @Test func promptTuningLossFallsAndTheBestPromptRoundTrips() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let task = try TinyBackbone.task("glue-sst2")
        let path = TinyBackbone.temporaryFolder("pt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(path: path, mode: .fresh)
        var losses: [Double] = []
        let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                      configuration: promptConfiguration(steps: 40))
        let result = try tuning.run(in: directory) { event in
            if case .step(let r) = event { losses.append(r.loss) }
            return .proceed
        }
        let (first, last) = lossTrend(losses)
        #expect(last < first, "loss did not fall: \(first) -> \(last)")
        #expect(result.tasks[0].test != nil)
        #expect(result.evaluations.count == 8)
        let saved = try PromptTuning.readPrompt(directory.path("prompt.safetensors"), length: 4, hiddenSize: 16)
        #expect(saved.scalars == tuning.prompt.value.scalars, "the saved prompt is the best one, restored at the end")
        let decoded = try directory.readJSON(ProcedureResult.self, from: RunDirectory.resultsName)
        #expect(decoded == result)
        #expect(model.trainableParameterCount == 0, "the backbone stays frozen")
    }

    @Test func resumedPromptTuningEqualsUninterrupted() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let task = try TinyBackbone.task("glue-sst2")
        let reference = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                         configuration: promptConfiguration(steps: 20))
        let expected = try reference.run()

        let path = TinyBackbone.temporaryFolder("pt-resume")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for stop in [7, 13] {
            let directory = try RunDirectory(path: path, mode: .resume)
            let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                          configuration: promptConfiguration(steps: 20))
            let partial = try tuning.run(in: directory) { event in
                if case .step(let r) = event, r.step == stop { return .stop }
                return .proceed
            }
            #expect(partial.interrupted)
        }
        let directory = try RunDirectory(path: path, mode: .resume)
        #expect(directory.status == .unfinished)
        let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                      configuration: promptConfiguration(steps: 20))
        let resumed = try tuning.run(in: directory)
        #expect(tuning.prompt.value.scalars.map(\.bitPattern) == reference.prompt.value.scalars.map(\.bitPattern))
        #expect(resumed.tasks == expected.tasks)
        #expect(resumed.evaluations == expected.evaluations)
    }

    @Test func gridRunsEveryPointAndKeepsTheBest() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let task = try TinyBackbone.task("glue-sst2")
        let path = TinyBackbone.temporaryFolder("grid")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(path: path, mode: .fresh)
        let grid = PromptTuningGrid(learningRates: [0.01, 0.3], batchSizes: [2, 4])
        let result = try grid.run(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                  configuration: promptConfiguration(steps: 10), directory: directory, resume: false)
        let points = try #require(result.grid)
        #expect(points.count == 4)
        for p in points {
            #expect(FileManager.default.fileExists(atPath: directory.path(p.folder + "/results.json")))
        }
        let best = points.max { $0.dev < $1.dev }!
        #expect(result.tasks[0].dev == best.dev)
        let top = try SafeTensors.read(directory.path("prompt.safetensors")).tensors["prompt"]
        let chosen = try SafeTensors.read(directory.path(best.folder + "/prompt.safetensors")).tensors["prompt"]
        #expect(top?.scalars == chosen?.scalars)
    }
}
