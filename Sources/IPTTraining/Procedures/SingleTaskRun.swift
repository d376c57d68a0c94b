import Foundation
import IPTCore
import IPTData
import IPTModels

/// What a single-task procedure feeds the frozen model besides the text.
struct Conditioning {
    var prompt: PromptInput?
    var adapters: AdapterWeights?
}

/// The part every single-task procedure shares (prompt tuning, subspace tuning, Fastfood,
/// adapter-subspace tuning): seeded batches of the task's training examples, the model's loss with
/// the procedure's conditioning, dev evaluation, the shared loop, and the test score of the best
/// state. The procedures differ only in what they train and how it conditions the model.
struct SingleTaskRun {
    let model: any Backbone
    let task: TaskSetup
    let encoder: TaskTextEncoder
    let settings: OptimizationSettings
    let evaluation: EvaluationSettings
    let labelSmoothing: Float
    let lossReduction: LossReduction
    /// The trained parameters.
    let parameters: [(key: String, parameter: Parameter)]
    /// The conditioning for a forward; `recording` is true in training steps (gradients wanted).
    let conditioning: (_ recording: Bool) -> Conditioning
    var clippingOnlyParameters: [Parameter] = []
    var groups: [AdamW.Group]? = nil
    var afterBackward: (() throws -> Void)? = nil
    var valuesDidChange: (() throws -> Void)? = nil
    /// Writes the procedure's artifact for the current (best) state.
    let saveArtifact: (_ directory: RunDirectory, _ step: Int) throws -> Void

    struct Outcome {
        var loop: TrainingLoop.Outcome
        var test: Double?
        var testPredictions: [String]?
        /// The best dev score, `nil` when no evaluation ran.
        var dev: Double? { loop.evaluations.isEmpty ? nil : loop.bestScore }
    }

    func run(in directory: RunDirectory?, fingerprint: String, progress: ProgressHandler) throws -> Outcome {
        let evaluator = TaskEvaluator(model: model, encoder: encoder, settings: evaluation)
        let pool = ExamplePool(task.task.train)
        let devExamples = capped(task.task.dev, evaluation.maximumDevExamples)
        func evaluationConditioning() -> Conditioning { withoutGradients { conditioning(false) } }
        let hooks = TrainingLoop.Hooks(
            loss: { step in
                let batch = try trainingBatch(pool: pool, batchSize: settings.batchSize, seed: settings.seed, step: step)
                reseedDropout(model, seed: settings.seed, step: step)
                model.train(true)
                let c = conditioning(true)
                return try model.loss(batch: try encoder.batch(batch.examples, answers: batch.answers),
                                      prompt: c.prompt, adapters: c.adapters, epsilon: labelSmoothing, reduction: lossReduction)
            },
            evaluate: {
                let c = evaluationConditioning()
                return try evaluator.score(devExamples, metric: task.metric, prompt: c.prompt, adapters: c.adapters,
                                           options: task.options).score
            },
            afterBackward: afterBackward,
            valuesDidChange: valuesDidChange,
            saveBest: { step, _ in
                if let directory { try saveArtifact(directory, step) }
            })
        let loop = TrainingLoop(parameters: parameters, settings: settings, clippingOnlyParameters: clippingOnlyParameters,
                                groups: groups)
        let outcome = try loop.run(hooks: hooks, checkpointPath: directory?.checkpointPath,
                                   resume: directory?.status == .unfinished, fingerprint: fingerprint, progress: progress)
        var result = Outcome(loop: outcome, test: nil, testPredictions: nil)
        if !outcome.interrupted, let test = task.task.test {
            let c = evaluationConditioning()
            let (score, predictions) = try evaluator.score(capped(test, evaluation.maximumTestExamples), metric: task.metric,
                                                           prompt: c.prompt, adapters: c.adapters, options: task.options)
            result.test = score
            result.testPredictions = predictions
        }
        return result
    }

    /// The result of a single-task run (written to `results.json` unless interrupted).
    func result(_ outcome: Outcome, procedure: ProcedureKind, subspace: String?, dimension: Int?, trainableParameters: Int,
                intrinsicVector: [Float]?, identity: ModelIdentity, started: Date, directory: RunDirectory?) throws -> ProcedureResult {
        var result = ProcedureResult(
            procedure: procedure, subspace: subspace, dimension: dimension, trainableParameters: trainableParameters,
            tasks: [TaskScore(task: task.name, metric: task.metric.rawValue, dev: outcome.dev, test: outcome.test)],
            dataSeed: task.task.sample.seed, bestStep: outcome.loop.bestStep, lastStep: outcome.loop.lastStep,
            stoppedEarly: outcome.loop.stoppedEarly, interrupted: outcome.loop.interrupted,
            evaluations: outcome.loop.evaluations, seconds: Date().timeIntervalSince(started), baseModel: identity)
        result.intrinsicVectors = intrinsicVector.map { [task.name: $0] }
        if let directory, !outcome.loop.interrupted {
            try directory.writeJSON(result, to: RunDirectory.resultsName)
        }
        return result
    }
}

extension RunConfiguration {
    /// The configuration as JSON, for artifact metadata.
    var json: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Checks that a task's k-shot sample can train and be evaluated.
func requireTrainingData(_ task: TaskSetup) throws {
    guard !task.task.train.isEmpty, !task.task.dev.isEmpty else {
        throw TrainingError.data("task \(task.name): the k-shot sample has no training or no dev examples")
    }
}
