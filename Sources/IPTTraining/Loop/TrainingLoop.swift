import Foundation
import IPTCore

/// The optimisation loop every procedure shares: loss, backward, clipping, AdamW with the linear
/// schedule, dev evaluation every period with the best state kept, early stopping, checkpoints
/// that resume bit for bit, and progress events that can stop the run.
///
/// The loop owns no model: a procedure supplies closures. `loss(step)` must be a pure function of
/// the step (the batch and the dropout masks are derived from the seed and the step), so that a
/// run resumed from a checkpoint takes exactly the steps the uninterrupted run would have taken.
public final class TrainingLoop {
    /// What a procedure plugs into the loop.
    public struct Hooks {
        /// The scalar loss of `step` (1-based), with its graph recorded.
        public var loss: (_ step: Int) throws -> Tensor
        /// Runs after `backward()` and before clipping, for gradients computed outside the tape.
        public var afterBackward: (() throws -> Void)?
        /// Called after the trained values changed (an optimiser step, a restore), for state derived
        /// from them (SAID recomputes the model's weights from z).
        public var valuesDidChange: (() throws -> Void)?
        /// The dev score of the current values; higher is better.
        public var evaluate: () throws -> Double
        /// Persists the current (best) values as the procedure's artifact; called on every improvement.
        public var saveBest: ((_ step: Int, _ score: Double) throws -> Void)?

        public init(loss: @escaping (_ step: Int) throws -> Tensor, evaluate: @escaping () throws -> Double,
                    afterBackward: (() throws -> Void)? = nil, valuesDidChange: (() throws -> Void)? = nil,
                    saveBest: ((_ step: Int, _ score: Double) throws -> Void)? = nil) {
            self.loss = loss
            self.evaluate = evaluate
            self.afterBackward = afterBackward
            self.valuesDidChange = valuesDidChange
            self.saveBest = saveBest
        }
    }

    /// How a run ended.
    public struct Outcome: Sendable, Codable, Equatable {
        public var bestScore: Double
        public var bestStep: Int
        public var lastStep: Int
        /// The patience ran out.
        public var stoppedEarly: Bool
        /// The progress handler asked to stop.
        public var interrupted: Bool
        public var evaluations: [EvaluationReport]
        public var finalLoss: Double
        /// The training losses of the last `evaluationPeriod` steps (fewer when the run took
        /// fewer), oldest first; kept in the checkpoint, so a resumed run reports the same.
        public var recentLosses: [Double]
    }

    /// Checkpointed loop state (stored as JSON in the checkpoint's metadata).
    struct State: Codable {
        var step: Int
        var optimizerStep: Int
        var bestScore: Double
        var bestStep: Int
        var evaluationsWithoutImprovement: Int
        var evaluations: [EvaluationReport]
        var lastLoss: Double
        /// See ``Outcome/recentLosses``; absent in checkpoints written before it was kept.
        var recentLosses: [Double]?
        var fingerprint: String
    }

    public let settings: OptimizationSettings
    public let parameters: [(key: String, parameter: Parameter)]
    /// Extra parameters whose gradients enter the clipping norm but are not optimised
    /// (``ClippingScope/allModelParameters``); their gradients are cleared every step.
    public let clippingOnlyParameters: [Parameter]
    public let optimizer: AdamW
    public let schedule: LinearWarmupSchedule

    /// - Parameters:
    ///   - parameters: the trained parameters.
    ///   - settings: learning rate, steps, evaluation period, clipping, ...
    ///   - clippingOnlyParameters: see ``clippingOnlyParameters``.
    ///   - groups: custom optimiser groups (e.g. the adapter hypernetwork's two learning rates);
    ///     default: one group with `settings.learningRate` and `settings.weightDecay`.
    public init(parameters: [(key: String, parameter: Parameter)], settings: OptimizationSettings,
                clippingOnlyParameters: [Parameter] = [], groups: [AdamW.Group]? = nil) {
        self.settings = settings
        self.parameters = parameters
        self.clippingOnlyParameters = clippingOnlyParameters
        optimizer = AdamW(groups: groups ?? [AdamW.Group(parameters: parameters, learningRate: settings.learningRate,
                                                          weightDecay: settings.weightDecay)])
        schedule = LinearWarmupSchedule(warmupSteps: settings.warmupSteps, totalSteps: settings.totalSteps)
    }

    /// Runs from step 1, or from the checkpoint at `checkpointPath` when it exists and `resume`.
    ///
    /// - Parameters:
    ///   - hooks: the procedure's closures.
    ///   - checkpointPath: where checkpoints are written (atomically); `nil`: no checkpoints.
    ///   - resume: continue from an existing checkpoint at `checkpointPath`.
    ///   - fingerprint: identifies the configuration; a checkpoint with another one is refused.
    ///   - progress: receives events; may stop the run.
    /// - Returns: how the run ended. The trained parameters hold the best values (by dev score)
    ///   when the run ends.
    public func run(hooks: Hooks, checkpointPath: String?, resume: Bool, fingerprint: String,
                    progress: ProgressHandler) throws -> Outcome {
        var state = State(step: 0, optimizerStep: 0, bestScore: -.infinity, bestStep: 0, evaluationsWithoutImprovement: 0,
                          evaluations: [], lastLoss: .nan, recentLosses: [], fingerprint: fingerprint)
        var best: [String: Tensor] = Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0.parameter.value) })
        if resume, let checkpointPath, FileManager.default.fileExists(atPath: checkpointPath) {
            (state, best) = try restore(from: checkpointPath, fingerprint: fingerprint)
            try hooks.valuesDidChange?()
        }
        let all = parameters.map(\.parameter) + clippingOnlyParameters
        // The largest magnitude of each parameter after the last update: only the optimiser
        // changes the values inside this loop, so it tells whether the next update is bounded.
        var largestMagnitudes: [String: Float] = [:]
        var interrupted = false
        // A run whose patience ran out may have been killed after its last checkpoint and before
        // its results were written: resumed, it ends where it stopped instead of training on.
        var stoppedEarly = settings.patience.map { state.evaluationsWithoutImprovement >= $0 } ?? false
        var recent: [Double] = []  // step durations for the rate estimate
        while state.step < settings.totalSteps && !stoppedEarly {
            let step = state.step + 1
            let started = DispatchTime.now().uptimeNanoseconds
            for p in all { p.zeroGradient() }
            let loss = try hooks.loss(step)
            let lossValue = Double(loss.item)
            guard lossValue.isFinite else {
                throw TrainingError.nonFiniteLoss(step: step, detail: "loss is \(lossValue)")
            }
            loss.backward()
            try hooks.afterBackward?()
            let norm = GradientClipping.globalNorm(all)
            guard norm.isFinite else {
                throw TrainingError.nonFiniteLoss(step: step, detail: "gradient norm is \(norm)")
            }
            for p in clippingOnlyParameters { p.zeroGradient() }
            let factor = schedule.factor(at: step - 1)
            // A finite gradient can still carry a parameter past Float's range (a huge learning
            // rate): such a step is undone and the run stops, so no artifact holds infinities. A
            // copy to undo it is kept only when the step is not provably bounded (the first step,
            // huge weights or learning rates).
            let bounded = optimizer.updateIsBounded(largestMagnitudes: largestMagnitudes, learningRateFactor: factor)
            let valuesBefore = bounded ? [] : parameters.map(\.parameter.value)
            // Clipping is applied by the optimiser as it reads the gradients (one pass, not two).
            largestMagnitudes = optimizer.step(learningRateFactor: factor,
                                               gradientScale: GradientClipping.scale(norm: norm, maximumNorm: settings.maximumGradientNorm))
            if let bad = parameters.first(where: { !(largestMagnitudes[$0.key]?.isFinite ?? $0.parameter.value.isFinite) }) {
                for (p, value) in zip(parameters, valuesBefore) { p.parameter.value = value }
                throw TrainingError.nonFiniteLoss(step: step, detail: "the update made \(bad.key) non-finite")
            }
            for p in all { p.zeroGradient() }
            try hooks.valuesDidChange?()
            state.step = step
            state.optimizerStep = optimizer.stepCount
            state.lastLoss = lossValue
            if state.recentLosses == nil { state.recentLosses = [] }
            state.recentLosses?.append(lossValue)
            if let count = state.recentLosses?.count, count > settings.evaluationPeriod {
                state.recentLosses?.removeFirst(count - settings.evaluationPeriod)
            }

            recent.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            if recent.count > 20 { recent.removeFirst() }
            let secondsPerStep = recent.reduce(0, +) / Double(recent.count)
            let report = StepReport(step: step, totalSteps: settings.totalSteps, loss: lossValue,
                                    learningRate: Double(settings.learningRate * factor), gradientNorm: norm,
                                    stepsPerSecond: 1 / max(secondsPerStep, 1e-9),
                                    secondsRemaining: secondsPerStep * Double(settings.totalSteps - step))
            if progress(.step(report)) == .stop { interrupted = true }

            let evaluateNow = step % settings.evaluationPeriod == 0 || step == settings.totalSteps
            if evaluateNow {  // even when interrupted: the evaluation belongs to the step, and a resumed run must not miss it
                let score = try hooks.evaluate()
                let improved = score > state.bestScore || state.evaluations.isEmpty
                if improved {
                    state.bestScore = score
                    state.bestStep = step
                    state.evaluationsWithoutImprovement = 0
                    best = Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0.parameter.value) })
                    try hooks.saveBest?(step, score)
                } else {
                    state.evaluationsWithoutImprovement += 1
                }
                let evaluation = EvaluationReport(step: step, score: score, bestScore: state.bestScore,
                                                  bestStep: state.bestStep, isBest: improved)
                state.evaluations.append(evaluation)
                if progress(.evaluation(evaluation)) == .stop { interrupted = true }
                if let patience = settings.patience, state.evaluationsWithoutImprovement >= patience {
                    stoppedEarly = true
                }
            }
            let checkpointNow = interrupted || stoppedEarly || step == settings.totalSteps
                || (settings.checkpointPeriod.map { step % $0 == 0 } ?? evaluateNow)
            if checkpointNow, let checkpointPath {
                try save(state: state, best: best, to: checkpointPath)
                if progress(.checkpoint(step: step, path: checkpointPath)) == .stop { interrupted = true }
            }
            if interrupted || stoppedEarly { break }
        }
        // End on the best values.
        if !interrupted && !state.evaluations.isEmpty {
            for (key, p) in parameters { if let v = best[key] { p.value = v } }
            try hooks.valuesDidChange?()
        }
        return Outcome(bestScore: state.bestScore, bestStep: state.bestStep, lastStep: state.step,
                       stoppedEarly: stoppedEarly, interrupted: interrupted, evaluations: state.evaluations,
                       finalLoss: state.lastLoss, recentLosses: state.recentLosses ?? [])
    }

    /// Scores are -inf before the first evaluation and NaN after a NaN score (a constant Pearson
    /// input); JSON has no infinities or NaNs, so they are written as strings.
    static let nonFinite = (encoding: JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
                                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"),
                            decoding: JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(
                                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"))

    static var stateDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = nonFinite.decoding
        return decoder
    }

    private func save(state: State, best: [String: Tensor], to path: String) throws {
        var tensors: [(String, Tensor)] = []
        for (key, p) in parameters {
            tensors.append(("value.\(key)", p.value))
            if let b = best[key] { tensors.append(("best.\(key)", b)) }
        }
        let optimizerState = optimizer.state()
        tensors += optimizerState.tensors.map { ("adam.\($0.0)", $0.1) }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = TrainingLoop.nonFinite.encoding
        let json = String(decoding: try encoder.encode(state), as: UTF8.self)
        try SafeTensors.write(tensors, metadata: ["format": "ipt-checkpoint", "loop_state": json,
                                                   "library_version": IPTVersion.string], to: path)
    }

    private func restore(from path: String, fingerprint: String) throws -> (State, [String: Tensor]) {
        let file = try SafeTensors.read(path)
        guard let json = file.metadata["loop_state"],
              let state = try? TrainingLoop.stateDecoder.decode(State.self, from: Data(json.utf8)) else {
            throw TrainingError.checkpointMismatch("\(path): not a training checkpoint (no loop_state metadata)")
        }
        guard state.fingerprint == fingerprint else {
            throw TrainingError.checkpointMismatch("\(path) was written by a run with a different configuration or model; use --overwrite to start again")
        }
        // The loop takes one optimiser step per step; other counts (a damaged file) would make the
        // step counters overflow or index nothing.
        guard state.step >= 0, state.optimizerStep == state.step else {
            throw TrainingError.checkpointMismatch("\(path): loop_state has step \(state.step) and optimizer step \(state.optimizerStep) (they must be equal and non-negative)")
        }
        // Evaluations without improvement are counted among the evaluations kept.
        guard (0...state.evaluations.count).contains(state.evaluationsWithoutImprovement) else {
            throw TrainingError.checkpointMismatch("\(path): loop_state counts \(state.evaluationsWithoutImprovement) evaluations without improvement among \(state.evaluations.count)")
        }
        var best: [String: Tensor] = [:]
        for (key, p) in parameters {
            guard let v = file.tensors["value.\(key)"], v.shape == p.shape else {
                throw TrainingError.checkpointMismatch("\(path): value of \(key) missing or of the wrong shape")
            }
            p.value = v
            if let b = file.tensors["best.\(key)"], b.shape == p.shape { best[key] = b } else { best[key] = v }
        }
        var adam: [String: Tensor] = [:]
        for (name, t) in file.tensors where name.hasPrefix("adam.") { adam[String(name.dropFirst(5))] = t }
        try optimizer.restore(tensors: adam, step: state.optimizerStep)
        return (state, best)
    }
}
