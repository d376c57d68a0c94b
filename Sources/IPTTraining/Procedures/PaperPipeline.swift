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

/// Progress of a pipeline: the stage's run folder (relative to the pipeline's, e.g.
/// `prompts/wn-pos`) and one of its events. With more than one model the pipeline calls it from
/// its worker threads, so it must be thread-safe; `.stop` from any call stops every worker after
/// its current stage's checkpoint.
public typealias PipelineProgressHandler = (_ folder: String, _ event: TrainingEvent) -> TrainingControl

/// The paper's pipeline over one split, each stage in its own run folder under the output
/// (`prompts/<task>`, `subspace`, `learned/<task>`, `random/<task>`, `fastfood/<task>`,
/// `learned-seen/<task>`, `stage-two/<task>`), so that `ipt-cli report` reads it like runs made
/// one command at a time, and a stopped pipeline resumes stage by stage.
///
/// The per-task stages (prompt tuning, the unseen tasks' subspace tuning, Fastfood and stage two,
/// the seen tasks' subspace tuning) run on as many tasks at once as there are models: each task
/// gets a model to itself (a procedure sets its model's training mode and random source), and
/// every run is seeded by its own settings, so the results are the same for any number of models.
public final class PaperPipeline {
    public let configuration: PipelineConfiguration
    public let trainTasks: [String]
    public let unseenTasks: [String]
    let models: [any Backbone]
    let tokenizer: any Tokenizer
    let identity: ModelIdentity
    let dataDirectory: URL

    /// - Parameters:
    ///   - models: copies of the same frozen backbone (loaded from the same folder), one per task
    ///     run at the same time; one model runs the tasks one after another. On a machine with c
    ///     cores, c models with one thread each (``Parallel/setWorkerCount(_:)``) keep the cores
    ///     busier than one model with c threads, because the demo's matrices are small.
    ///   - tokenizer: the backbone's tokenizer.
    ///   - identity: the backbone's identity, recorded in every artifact.
    ///   - dataDirectory: the CrossFit data folder.
    ///   - trainTasks: the tasks whose prompts define the subspace (the paper's seen tasks).
    ///   - unseenTasks: the tasks tuned in the subspace without their prompts being used.
    ///   - configuration: every stage's settings.
    public init(models: [any Backbone], tokenizer: any Tokenizer, identity: ModelIdentity, dataDirectory: URL,
                trainTasks: [String], unseenTasks: [String], configuration: PipelineConfiguration) throws {
        guard let first = models.first else { throw TrainingError.invalidConfiguration("the pipeline needs a model") }
        guard models.allSatisfy({ $0.parameterCount == first.parameterCount }) else {
            throw TrainingError.invalidConfiguration("the pipeline's models must be copies of one backbone")
        }
        guard !trainTasks.isEmpty else { throw TrainingError.data("the pipeline needs training tasks") }
        try configuration.promptTuning.validate()
        try configuration.subspaceFinding.validate()
        try configuration.subspaceTuning.validate()
        try configuration.fastfood?.validate()
        try configuration.stageTwo?.validate()
        self.configuration = configuration
        self.trainTasks = trainTasks
        self.unseenTasks = unseenTasks
        self.models = models
        self.tokenizer = tokenizer
        self.identity = identity
        self.dataDirectory = dataDirectory
    }

    /// Runs every stage not yet finished in `output`.
    ///
    /// - Parameters:
    ///   - output: the pipeline's folder.
    ///   - resume: continue unfinished stages (finished ones are always kept).
    ///   - progress: events of every stage with the stage's folder (a `.phase` names each stage
    ///     and task); `.stop` ends the pipeline after the running stages' checkpoints.
    /// - Returns: the stages run, in pipeline order (task order within a stage); a stage stopped
    ///   before its end is marked interrupted, and the pipeline then returns.
    public func run(output: URL, resume: Bool, progress: @escaping PipelineProgressHandler = { _, _ in .proceed })
        throws -> [PipelineStageResult] {
        let lock = NSLock()
        var results: [(order: Int, result: PipelineStageResult)] = []
        func finished() -> [PipelineStageResult] { results.sorted { $0.order < $1.order }.map(\.result) }
        let mode: RunDirectory.Mode = resume ? .resume : .fresh
        /// Runs one stage in its folder; false when it was stopped.
        func stage(_ order: Int, _ name: String, _ folder: String,
                   _ body: (RunDirectory, @escaping ProgressHandler) throws -> ProcedureResult) throws -> Bool {
            if progress(folder, .phase("\(name): \(folder)")) == .stop { return false }
            let directory = try RunDirectory(path: output.appendingPathComponent(folder).path, mode: mode)
            defer { directory.release() }
            // Each stage's events also go to its own events.jsonl, as a command would write them.
            let result = try body(directory) { event in
                directory.append(event: event)
                return progress(folder, event)
            }
            lock.withLock { results.append((order, PipelineStageResult(stage: name, folder: folder, result: result))) }
            return !result.interrupted
        }
        let seed = configuration.dataSeed
        let allTasks = trainTasks + unseenTasks.filter { !trainTasks.contains($0) }
        var setups: [String: TaskSetup] = [:]
        for task in allTasks { setups[task] = try TaskSetup.load(dataDirectory: dataDirectory, task: task, seed: seed) }
        func setup(_ task: String) -> TaskSetup { setups[task]! }  // every task was loaded above

        // A pipeline resumed with other prompt-tuning settings is refused before any training,
        // not after the tasks whose folders were still empty have trained for minutes.
        for task in allTasks {
            let folder = output.appendingPathComponent("prompts/\(task)")
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(RunDirectory.configurationName).path) else { continue }
            let tuning = try PromptTuning(model: models[0], tokenizer: tokenizer, identity: identity, task: setup(task),
                                          configuration: configuration.promptTuning)
            let directory = try RunDirectory(path: folder.path, mode: mode)
            defer { directory.release() }
            try directory.writeConfiguration(tuning.runConfiguration)
        }

        // 1. Prompt tuning on every task.
        let tuned = try forEachTask(allTasks) { index, task, model in
            let tuning = try PromptTuning(model: model, tokenizer: self.tokenizer, identity: self.identity,
                                          task: setup(task), configuration: self.configuration.promptTuning)
            return try stage(100_000 + index, "prompt-tuning", "prompts/\(task)") { try tuning.run(in: $0, progress: $1) }
        }
        guard tuned else { return finished() }

        // 2. Subspace finding over the training tasks' prompts (unseen prompts reconstructed too).
        let promptsURL = output.appendingPathComponent("prompts")
        let trainPrompts = try TunedPrompts.load(directory: promptsURL, tasks: trainTasks, model: identity)
        let unseenOnly = unseenTasks.filter { !trainTasks.contains($0) }
        let unseenPrompts = try TunedPrompts.load(directory: promptsURL, tasks: unseenOnly, model: identity)
        let finding = try SubspaceFinding(model: models[0], tokenizer: tokenizer, identity: identity,
                                          tasks: trainTasks.map(setup), prompts: trainPrompts,
                                          unseenTasks: unseenOnly.map(setup), unseenPrompts: unseenPrompts,
                                          configuration: configuration.subspaceFinding)
        guard try stage(200_000, "subspace-finding", "subspace", { try finding.run(in: $0, progress: $1) }) else {
            return finished()
        }
        let subspacePath = output.appendingPathComponent("subspace/subspace.safetensors").path

        // 3. Intrinsic subspace tuning on the unseen tasks: learned, random, Fastfood; then stage two.
        let dimension = configuration.subspaceFinding.dimension
        let n = configuration.promptTuning.promptLength
        var methods: [(String, SubspaceSource)] = [("learned", .file(subspacePath))]
        if configuration.randomSubspace {
            methods.append(("random", .random(dimension: dimension, promptLength: n,
                                               decoderWidth: configuration.subspaceFinding.decoderWidth, seed: 0)))
        }
        let unseenDone = try forEachTask(unseenOnly) { index, task, model in
            let order = 300_000 + index * 10
            for (m, (label, source)) in methods.enumerated() {
                var c = self.configuration.subspaceTuning
                c.subspace = source
                let tuning = try SubspaceTuning(model: model, tokenizer: self.tokenizer, identity: self.identity,
                                                task: setup(task), configuration: c)
                guard try stage(order + m, label, "\(label)/\(task)", { try tuning.run(in: $0, progress: $1) }) else {
                    return false
                }
            }
            if var fastfood = self.configuration.fastfood {
                fastfood.dimension = dimension
                let tuning = try FastfoodTuning(model: model, tokenizer: self.tokenizer, identity: self.identity,
                                                task: setup(task), configuration: fastfood)
                guard try stage(order + 5, "fastfood", "fastfood/\(task)", { try tuning.run(in: $0, progress: $1) }) else {
                    return false
                }
            }
            if let stageTwo = self.configuration.stageTwo {
                let source = output.appendingPathComponent("learned/\(task)")
                return try stage(order + 6, "stage-two", "stage-two/\(task)") {
                    try StageTwo.run(model: model, tokenizer: self.tokenizer, identity: self.identity, task: setup(task),
                                     from: source, configuration: stageTwo, in: $0, progress: $1)
                }
            }
            return true
        }
        guard unseenDone else { return finished() }

        // 4. Seen tasks with different training data, in the learned subspace.
        if let seenSeed = configuration.seenTuningSeed {
            _ = try forEachTask(trainTasks) { index, task, model in
                var c = self.configuration.subspaceTuning
                c.subspace = .file(subspacePath)
                let setup = try TaskSetup.load(dataDirectory: self.dataDirectory, task: task, seed: seenSeed)
                let tuning = try SubspaceTuning(model: model, tokenizer: self.tokenizer, identity: self.identity,
                                                task: setup, configuration: c)
                return try stage(400_000 + index, "learned-seen", "learned-seen/\(task)") { try tuning.run(in: $0, progress: $1) }
            }
        }
        return finished()
    }

    /// Calls `body(index, task, model)` for every task, as many at once as there are models, each
    /// call with a model no other call is using. Returns false when a call returned false (it was
    /// stopped): no new task starts, the running ones finish. The first error is rethrown after
    /// the running calls end.
    private func forEachTask(_ tasks: [String], _ body: (Int, String, any Backbone) throws -> Bool) throws -> Bool {
        let lock = NSLock()
        var next = 0
        var stopped = false
        var failure: Error?
        // With one worker this runs on the calling thread.
        DispatchQueue.concurrentPerform(iterations: min(models.count, tasks.count)) { worker in
            while true {
                let index: Int? = lock.withLock {
                    guard !stopped, failure == nil, next < tasks.count else { return nil }
                    next += 1
                    return next - 1
                }
                guard let index else { return }
                do {
                    if try !body(index, tasks[index], models[worker]) { lock.withLock { stopped = true } }
                } catch {
                    lock.withLock { if failure == nil { failure = error } }
                }
            }
        }
        if let failure { throw failure }
        return !stopped
    }
}
