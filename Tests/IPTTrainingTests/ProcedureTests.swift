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

    /// What a run starts from besides its settings is part of its configuration: a subspace file
    /// replaced under an unfinished run is refused on resume, other examples (the same task name
    /// and seed from another data folder) when a finished result would be reused.
    @Test func replacedInputsAreNoticedOnResumeAndReuse() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let task = try TinyBackbone.task("glue-sst2")
        let folder = TinyBackbone.temporaryFolder("inputs")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let subspacePath = folder + "/subspace.safetensors"
        let (n, h) = (4, model.hiddenSize)
        func writeSubspace(scale: Float) throws {
            let basis = Tensor((0..<(n * h * 2)).map { Float(($0 * 7) % 11 - 5) * 0.01 * scale }, shape: [n * h, 2])
            try SubspaceArtifact.write(LinearPromptSubspace(mean: Tensor.zeros([n * h]), basis: basis, promptLength: n, hiddenSize: h),
                                       metadata: ArtifactMetadata(kind: "prompt-subspace", procedure: "subspace-finding", configuration: "{}",
                                                                  baseModel: identity, step: 1, seed: 1),
                                       to: subspacePath)
        }
        let configuration = SubspaceTuningConfiguration(subspace: .file(subspacePath), optimization: settings(steps: 4, eval: 2),
                                                        evaluation: TinyBackbone.evaluation, maximumInputLength: 64)
        func tuning(_ task: TaskSetup) throws -> SubspaceTuning {
            try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: task, configuration: configuration)
        }
        let run = folder + "/ist"
        try writeSubspace(scale: 1)
        let stopped = try tuning(task).run(in: RunDirectory(path: run, mode: .fresh)) { event in
            if case .step(let r) = event, r.step == 1 { return .stop }
            return .proceed
        }
        #expect(stopped.interrupted)
        try writeSubspace(scale: 2)
        #expect {
            _ = try tuning(task).run(in: RunDirectory(path: run, mode: .resume))
        } throws: { "\($0)".contains("inputs.subspace is ") && "\($0)".contains("in the unfinished run") }
        try writeSubspace(scale: 1)
        let finished = try tuning(task).run(in: RunDirectory(path: run, mode: .resume))
        #expect(!finished.interrupted && finished.lastStep == 4)
        #expect(try tuning(task).run(in: RunDirectory(path: run, mode: .resume)) == finished, "reused with the same inputs")

        // The same task and seed with one training example changed.
        let data = folder + "/data/glue-sst2"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for part in ["train", "dev", "test"] {
            let name = "glue-sst2_16_100_\(part).tsv"
            var text = try String(contentsOfFile: SharedData.crossfit.appendingPathComponent("glue-sst2/" + name).path, encoding: .utf8)
            if part == "train" { text = "an edited sentence .\tpositive\n" + text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n") }
            try text.write(toFile: data + "/" + name, atomically: true, encoding: .utf8)
        }
        let edited = try TaskSetup.load(dataDirectory: URL(fileURLWithPath: folder + "/data"), task: "glue-sst2", seed: 100)
        #expect(edited.task.train != task.task.train && edited.task.dev == task.task.dev)
        #expect {
            _ = try tuning(edited).run(in: RunDirectory(path: run, mode: .resume))
        } throws: { "\($0)".contains("inputs.examples is ") && "\($0)".contains("in the finished run") }
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

/// Subspace finding, subspace tuning, Fastfood, adapters and stage two on the tiny backbone.
@Suite(SharedData.required, .serialized)
struct SubspaceProcedureTests {
    let tasks = ["glue-sst2", "rotten_tomatoes"]

    func settings(steps: Int, lr: Float = 0.3, batch: Int = 4, eval: Int = 5) -> OptimizationSettings {
        OptimizationSettings(learningRate: lr, batchSize: batch, totalSteps: steps, warmupSteps: 0, evaluationPeriod: eval,
                             maximumGradientNorm: 1)
    }

    /// Tuned prompts of both tasks (short runs), keyed by task.
    func tunedPrompts(_ model: BartForConditionalGeneration, _ tokenizer: any Tokenizer, _ identity: ModelIdentity) throws -> [String: Tensor] {
        var prompts: [String: Tensor] = [:]
        for name in tasks {
            let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: try TinyBackbone.task(name),
                                          configuration: PromptTuningConfiguration(promptLength: 4, optimization: settings(steps: 10),
                                                                                   evaluation: TinyBackbone.evaluation,
                                                                                   maximumInputLength: 64))
            _ = try tuning.run()
            prompts[name] = tuning.prompt.value
        }
        return prompts
    }

    func losses(_ body: (@escaping ProgressHandler) throws -> ProcedureResult) rethrows -> (result: ProcedureResult, losses: [Double]) {
        var losses: [Double] = []
        let result = try body { event in
            if case .step(let r) = event { losses.append(r.loss) }
            return .proceed
        }
        return (result, losses)
    }

    @Test func subspaceFindingTrainsTheAutoencoderAndTheArtifactRoundTrips() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let prompts = try tunedPrompts(model, tokenizer, identity)
        let setups = try tasks.map { try TinyBackbone.task($0) }
        var configuration = SubspaceFindingConfiguration(dimension: 2, decoderWidth: 8, optimization: settings(steps: 30, lr: 0.01, batch: 8),
                                                         evaluation: TinyBackbone.evaluation, maximumInputLength: 64)
        configuration.optimization.evaluationPeriod = 10
        let path = TinyBackbone.temporaryFolder("msf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(path: path, mode: .fresh)
        let finding = try SubspaceFinding(model: model, tokenizer: tokenizer, identity: identity, tasks: [setups[0]],
                                          prompts: [tasks[0]: prompts[tasks[0]]!], unseenTasks: [setups[1]],
                                          unseenPrompts: [tasks[1]: prompts[tasks[1]]!], configuration: configuration)
        let (result, trace) = try losses { try finding.run(in: directory, progress: $0) }
        #expect(trace.suffix(5).reduce(0, +) < trace.prefix(5).reduce(0, +), "MSF loss did not fall")
        #expect(result.tasks.map(\.seen) == [true, false])
        #expect(result.tasks.allSatisfy { $0.test != nil && $0.dev != nil })
        #expect(result.intrinsicVectors?.keys.sorted() == tasks.sorted())
        let loaded = try SubspaceArtifact.read(directory.path("subspace.safetensors"), model: identity)
        #expect(loaded.geometry.method == "autoencoder" && loaded.geometry.dimension == 2)
        let z = Tensor([0.3, -0.7])
        #expect(loaded.subspace.prompt(for: z).maxAbsDifference(finding.autoencoder!.decoder.prompt(for: z)) == 0)
    }

    @Test func pcaSubspaceFindsAndTuningInItWorks() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let prompts = try tunedPrompts(model, tokenizer, identity)
        let setups = try tasks.map { try TinyBackbone.task($0) }
        let path = TinyBackbone.temporaryFolder("pca")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(path: path, mode: .fresh)
        let finding = try SubspaceFinding(model: model, tokenizer: tokenizer, identity: identity, tasks: setups, prompts: prompts,
                                          configuration: SubspaceFindingConfiguration(method: "pca", dimension: 1,
                                                                                      optimization: settings(steps: 1),
                                                                                      evaluation: TinyBackbone.evaluation,
                                                                                      maximumInputLength: 64))
        let result = try finding.run(in: directory)
        #expect(result.subspace == "pca" && result.trainableParameters == 0)
        let tuning = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: setups[0],
                                        configuration: SubspaceTuningConfiguration(subspace: .file(directory.path("subspace.safetensors")),
                                                                                   optimization: settings(steps: 10),
                                                                                   evaluation: TinyBackbone.evaluation,
                                                                                   maximumInputLength: 64))
        #expect(tuning.subspaceLabel == "pca")
        let tuned = try tuning.run()
        #expect(tuned.dimension == 1 && tuned.tasks[0].test != nil)
    }

    /// A linear subspace whose only direction is a tuned prompt: tuning z from near zero along it
    /// reaches a loss at least as low as that prompt's own (the subspace can express it).
    @Test func subspaceTuningRecoversAPromptTheSubspaceCanExpress() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let task = try TinyBackbone.task("glue-sst2")
        let pt = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                  configuration: PromptTuningConfiguration(promptLength: 4, optimization: settings(steps: 40),
                                                                           evaluation: TinyBackbone.evaluation,
                                                                           maximumInputLength: 64))
        _ = try pt.run()
        let target = pt.prompt.value
        let norm = Float(target.norm)
        let direction = (target / norm).reshaped([target.count, 1])
        let subspace = LinearPromptSubspace(mean: Tensor.zeros([target.count]), basis: direction, promptLength: 4, hiddenSize: 16)
        let tuning = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: task, subspace: subspace,
                                        label: "line", configuration: SubspaceTuningConfiguration(
                                            subspace: .file("unused"), optimization: settings(steps: 60, lr: 0.2),
                                            evaluation: TinyBackbone.evaluation, maximumInputLength: 64))
        _ = try tuning.run()
        let encoder = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 4, maximumInputLength: 64,
                                          targetFormat: .leadingSpace)
        let batch = try encoder.batch(task.task.train, answers: task.task.train.map { $0.answers[0] })
        func loss(_ prompt: Tensor) throws -> Float {
            try withoutGradients { try model.loss(batch: batch, prompt: .shared(prompt), adapters: nil, epsilon: 0, reduction: .mean).item }
        }
        let recovered = try loss(tuning.prompt)
        let tuned = try loss(target), zero = try loss(Tensor.zeros([4, 16]))
        #expect(recovered <= tuned + 0.05, "z = \(tuning.z.value.scalars), |P| = \(norm)")
        #expect(recovered < zero)
    }

    @Test func randomSubspaceIsRegeneratedFromItsSeed() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let source = SubspaceSource.random(dimension: 3, promptLength: 4, decoderWidth: 8, seed: 5)
        let a = try source.load(model: identity).subspace, b = try source.load(model: identity).subspace
        let z = Tensor([0.1, 0.2, -0.3])
        #expect(a.prompt(for: z).scalars.map(\.bitPattern) == b.prompt(for: z).scalars.map(\.bitPattern))
        let tuning = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: try TinyBackbone.task("glue-sst2"),
                                        configuration: SubspaceTuningConfiguration(subspace: source, optimization: settings(steps: 5),
                                                                                   evaluation: TinyBackbone.evaluation, maximumInputLength: 64))
        let result = try tuning.run()
        #expect(result.subspace == "random" && result.trainableParameters == 3)
    }

    @Test func fastfoodTuningMovesOnlyZAndRestoresTheModel() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let before = model.stateDictionary()
        let path = TinyBackbone.temporaryFolder("said")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(path: path, mode: .fresh)
        let tuning = try FastfoodTuning(model: model, tokenizer: tokenizer, identity: identity, task: try TinyBackbone.task("glue-sst2"),
                                        configuration: FastfoodTuningConfiguration(dimension: 8, structureAware: true,
                                                                                   optimization: settings(steps: 20, lr: 0.05),
                                                                                   evaluation: TinyBackbone.evaluation,
                                                                                   maximumInputLength: 64))
        let (result, trace) = try losses { try tuning.run(in: directory, progress: $0) }
        #expect(trace.suffix(5).reduce(0, +) < trace.prefix(5).reduce(0, +), "Fastfood loss did not fall")
        #expect(result.trainableParameters == 8 + model.namedParameters().count)
        let saved = try Artifact.read(directory.path("fastfood.safetensors"), kind: "fastfood", model: identity).tensors
        #expect(saved["z"]?.shape == [8] && saved["scalars"] != nil)
        for (key, value) in model.stateDictionary() {
            #expect(value.scalars == before[key]!.scalars, "\(key) was not restored")
        }
        #expect(model.trainableParameterCount == 0)
    }

    @Test func adapterSubspaceFindingThenTuningAndStageTwo() throws {
        let (model, tokenizer, identity) = try TinyBackbone.load()
        let setups = try tasks.map { try TinyBackbone.task($0) }
        let path = TinyBackbone.temporaryFolder("adapters")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let findingFolder = try RunDirectory(path: path + "/find", mode: .fresh)
        var finding = AdapterSubspaceFindingConfiguration(dimension: 3, bottleneckSize: 4, hypernetworkLearningRate: 0.1,
                                                          vectorLearningRate: 0.1, optimization: settings(steps: 30, batch: 8),
                                                          evaluation: TinyBackbone.evaluation, maximumInputLength: 64)
        finding.perTaskVectors = true
        let found = try AdapterSubspaceFinding(model: model, tokenizer: tokenizer, identity: identity, tasks: setups,
                                               configuration: finding)
        let (findingResult, trace) = try losses { try found.run(in: findingFolder, progress: $0) }
        #expect(trace.suffix(5).reduce(0, +) < trace.prefix(5).reduce(0, +), "adapter-subspace loss did not fall")
        #expect(findingResult.intrinsicVectors?.keys.sorted() == tasks.map { "z.\($0)" }.sorted())
        let tuning = try AdapterSubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: setups[0],
                                               configuration: AdapterSubspaceTuningConfiguration(
                                                subspace: findingFolder.path("adapter_subspace.safetensors"),
                                                optimization: settings(steps: 10, lr: 0.05), evaluation: TinyBackbone.evaluation,
                                                maximumInputLength: 64))
        // Starts from the task's vector found in the multi-task run.
        #expect(tuning.z.value.scalars == found.vectors["z.\(tasks[0])"]!.value.scalars)
        let tuned = try tuning.run()
        #expect(tuned.procedure == .adapterSubspaceTuning && tuned.trainableParameters == 3)

        // Stage two from a subspace-tuning run folder.
        let istFolder = try RunDirectory(path: path + "/ist", mode: .fresh)
        let ist = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: setups[0],
                                     configuration: SubspaceTuningConfiguration(
                                        subspace: .random(dimension: 2, promptLength: 4, decoderWidth: 8, seed: 1),
                                        optimization: settings(steps: 10), evaluation: TinyBackbone.evaluation, maximumInputLength: 64))
        _ = try ist.run(in: istFolder)
        let start = try StageTwo.initialPrompt(from: istFolder.url, model: identity)
        #expect(start.maxAbsDifference(ist.prompt) == 0, "stage two starts from the best IST prompt")
        var pt = PromptTuningConfiguration(promptLength: 4, optimization: settings(steps: 10), evaluation: TinyBackbone.evaluation,
                                           maximumInputLength: 64)
        pt.targetFormat = .leadingSpace
        let stageTwoFolder = try RunDirectory(path: path + "/stage-two", mode: .fresh)
        let stageTwo = try StageTwo.run(model: model, tokenizer: tokenizer, identity: identity, task: setups[0], from: istFolder.url,
                                        configuration: pt, in: stageTwoFolder)
        #expect(stageTwo.procedure == .stageTwo && stageTwo.tasks[0].dev != nil)
        // The recorded input is what the prompt is decoded from (z and the subspace), not the
        // decoded prompt, whose rounding depends on the BLAS library.
        let recorded = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stageTwoFolder.path("config.json"))))
                                        as? [String: Any])
        let inputs = try #require(recorded["inputs"] as? [String: String])
        let decoded = try StageTwo.decode(from: istFolder.url, model: identity)
        #expect(inputs["initial_prompt"] == decoded.digest)
        var digest = ContentDigest()
        digest.add("prompt")
        digest.add(decoded.prompt)
        #expect(decoded.digest != digest.hex)
    }
}
