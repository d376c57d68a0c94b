import Foundation
import IPTCore
import IPTData
import IPTModels

/// Settings of the whole pipeline of the paper on one split: prompt tuning on every task, subspace
/// finding over the training tasks' prompts, intrinsic subspace tuning (learned and random
/// subspaces, Fastfood) on the unseen tasks (and, optionally, on the seen tasks with other data),
/// and stage two.
public struct PipelineConfiguration: Codable, Sendable, Equatable {
    public var promptTuning: PromptTuningConfiguration
    public var subspaceFinding: SubspaceFindingConfiguration
    /// Settings of subspace tuning (its `subspace` is set per method).
    public var subspaceTuning: SubspaceTuningConfiguration
    /// Fastfood baseline; `nil` skips it.
    public var fastfood: FastfoodTuningConfiguration?
    /// Stage two from the learned subspace's solution; `nil` skips it.
    public var stageTwo: PromptTuningConfiguration?
    /// Run the random prompt subspace baseline.
    public var randomSubspace: Bool
    /// k-shot sample of prompt tuning, subspace finding and the unseen tasks; default 100.
    public var dataSeed: Int
    /// Tune the seen tasks in the learned subspace on this other k-shot sample (the paper's
    /// "seen tasks, different data": 21); `nil` skips it.
    public var seenTuningSeed: Int?

    public init(promptTuning: PromptTuningConfiguration, subspaceFinding: SubspaceFindingConfiguration,
                subspaceTuning: SubspaceTuningConfiguration, fastfood: FastfoodTuningConfiguration?,
                stageTwo: PromptTuningConfiguration?, randomSubspace: Bool = true, dataSeed: Int = 100,
                seenTuningSeed: Int? = 21) {
        self.promptTuning = promptTuning
        self.subspaceFinding = subspaceFinding
        self.subspaceTuning = subspaceTuning
        self.fastfood = fastfood
        self.stageTwo = stageTwo
        self.randomSubspace = randomSubspace
        self.dataSeed = dataSeed
        self.seenTuningSeed = seenTuningSeed
    }

    enum CodingKeys: String, CodingKey {
        case promptTuning = "prompt_tuning", subspaceFinding = "subspace_finding", subspaceTuning = "subspace_tuning"
        case fastfood, stageTwo = "stage_two", randomSubspace = "random_subspace", dataSeed = "data_seed"
        case seenTuningSeed = "seen_tuning_seed"
    }
}

/// One finished stage of the pipeline.
public struct PipelineStageResult: Codable, Sendable, Equatable {
    /// "prompt-tuning", "subspace-finding", "learned", "random", "fastfood", "learned-seen", "stage-two".
    public var stage: String
    /// The run folder, relative to the pipeline's.
    public var folder: String
    public var result: ProcedureResult
}

/// The paper's pipeline over one split, each stage in its own run folder under the output
/// (`prompts/<task>`, `subspace`, `learned/<task>`, `random/<task>`, `fastfood/<task>`,
/// `learned-seen/<task>`, `stage-two/<task>`), so that `ipt-cli report` reads it like runs made
/// one command at a time, and a stopped pipeline resumes stage by stage.
public final class PaperPipeline {
    public let configuration: PipelineConfiguration
    public let trainTasks: [String]
    public let unseenTasks: [String]
    let model: any Backbone
    let tokenizer: any Tokenizer
    let identity: ModelIdentity
    let dataDirectory: URL

    public init(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, dataDirectory: URL,
                trainTasks: [String], unseenTasks: [String], configuration: PipelineConfiguration) throws {
        guard !trainTasks.isEmpty else { throw TrainingError.data("the pipeline needs training tasks") }
        try configuration.promptTuning.validate()
        try configuration.subspaceFinding.validate()
        try configuration.subspaceTuning.validate()
        try configuration.fastfood?.validate()
        try configuration.stageTwo?.validate()
        self.configuration = configuration
        self.trainTasks = trainTasks
        self.unseenTasks = unseenTasks
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        self.dataDirectory = dataDirectory
    }

    /// Runs every stage not yet finished in `output`.
    ///
    /// - Parameters:
    ///   - output: the pipeline's folder.
    ///   - resume: continue unfinished stages (finished ones are always kept).
    ///   - progress: events of every stage (a `.phase` names each stage and task); `.stop` ends the
    ///     pipeline after the current stage's checkpoint.
    /// - Returns: the finished stages; the last one is marked interrupted when the run was stopped.
    public func run(output: URL, resume: Bool, progress: ProgressHandler = { _ in .proceed }) throws -> [PipelineStageResult] {
        var results: [PipelineStageResult] = []
        let mode: RunDirectory.Mode = resume ? .resume : .fresh
        func stage(_ name: String, _ folder: String, _ body: (RunDirectory) throws -> ProcedureResult) throws -> ProcedureResult? {
            if progress(.phase("\(name): \(folder)")) == .stop { return nil }
            let directory = try RunDirectory(path: output.appendingPathComponent(folder).path, mode: mode)
            defer { directory.release() }
            let result = try body(directory)
            results.append(PipelineStageResult(stage: name, folder: folder, result: result))
            return result.interrupted ? nil : result
        }
        let seed = configuration.dataSeed
        let allTasks = trainTasks + unseenTasks.filter { !trainTasks.contains($0) }
        let setups = try Dictionary(uniqueKeysWithValues: allTasks.map {
            ($0, try TaskSetup.load(dataDirectory: dataDirectory, task: $0, seed: seed))
        })

        // 1. Prompt tuning on every task.
        for task in allTasks {
            let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: setups[task]!,
                                          configuration: configuration.promptTuning)
            guard try stage("prompt-tuning", "prompts/\(task)", { try tuning.run(in: $0, progress: progress) }) != nil else {
                return results
            }
        }
        // 2. Subspace finding over the training tasks' prompts (unseen prompts reconstructed too).
        let promptsURL = output.appendingPathComponent("prompts")
        let trainPrompts = try TunedPrompts.load(directory: promptsURL, tasks: trainTasks, model: identity)
        let unseenOnly = unseenTasks.filter { !trainTasks.contains($0) }
        let unseenPrompts = try TunedPrompts.load(directory: promptsURL, tasks: unseenOnly, model: identity)
        let finding = try SubspaceFinding(model: model, tokenizer: tokenizer, identity: identity,
                                          tasks: trainTasks.map { setups[$0]! }, prompts: trainPrompts,
                                          unseenTasks: unseenOnly.map { setups[$0]! }, unseenPrompts: unseenPrompts,
                                          configuration: configuration.subspaceFinding)
        guard try stage("subspace-finding", "subspace", { try finding.run(in: $0, progress: progress) }) != nil else {
            return results
        }
        let subspacePath = output.appendingPathComponent("subspace/subspace.safetensors").path

        // 3. Intrinsic subspace tuning on the unseen tasks: learned, random, Fastfood.
        let dimension = configuration.subspaceFinding.dimension
        let n = configuration.promptTuning.promptLength
        var methods: [(String, SubspaceSource)] = [("learned", .file(subspacePath))]
        if configuration.randomSubspace {
            methods.append(("random", .random(dimension: dimension, promptLength: n,
                                               decoderWidth: configuration.subspaceFinding.decoderWidth, seed: 0)))
        }
        for task in unseenOnly {
            for (label, source) in methods {
                var c = configuration.subspaceTuning
                c.subspace = source
                let tuning = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: setups[task]!,
                                                configuration: c)
                guard try stage(label, "\(label)/\(task)", { try tuning.run(in: $0, progress: progress) }) != nil else {
                    return results
                }
            }
            if var fastfood = configuration.fastfood {
                fastfood.dimension = dimension
                let tuning = try FastfoodTuning(model: model, tokenizer: tokenizer, identity: identity, task: setups[task]!,
                                                configuration: fastfood)
                guard try stage("fastfood", "fastfood/\(task)", { try tuning.run(in: $0, progress: progress) }) != nil else {
                    return results
                }
            }
            if let stageTwo = configuration.stageTwo {
                let source = output.appendingPathComponent("learned/\(task)")
                guard try stage("stage-two", "stage-two/\(task)", {
                    try StageTwo.run(model: model, tokenizer: tokenizer, identity: identity, task: setups[task]!, from: source,
                                     configuration: stageTwo, in: $0, progress: progress)
                }) != nil else { return results }
            }
        }
        // 4. Seen tasks with different training data, in the learned subspace.
        if let seenSeed = configuration.seenTuningSeed {
            for task in trainTasks {
                var c = configuration.subspaceTuning
                c.subspace = .file(subspacePath)
                let setup = try TaskSetup.load(dataDirectory: dataDirectory, task: task, seed: seenSeed)
                let tuning = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: setup,
                                                configuration: c)
                guard try stage("learned-seen", "learned-seen/\(task)", { try tuning.run(in: $0, progress: progress) }) != nil else {
                    return results
                }
            }
        }
        return results
    }
}
