import Foundation
import IPTCore
import IPTTraining
import Testing

/// The shared loop on a toy least-squares problem: it must converge, keep the best state, stop
/// early, stop on request, reject a diverging step, and resume bit for bit.
@Suite("Training loop")
struct TrainingLoopTests {
    /// y = X w* with noise; minibatches derived from (seed, step) only.
    final class Toy {
        let x: Tensor, y: Tensor
        let w = Parameter(Tensor.zeros([4, 1]))
        var poisonStep: Int? = nil

        init() {
            var g = RandomGenerator(seed: 1)
            x = Tensor.randomNormal([64, 4], generator: &g)
            let truth = Tensor([1, -2, 0.5, 3], shape: [4, 1])
            y = Tensor.matmul(x, truth) + Tensor.randomNormal([64, 1], standardDeviation: 0.01, generator: &g)
        }

        func loss(step: Int) -> Tensor {
            var g = RandomGenerator(seed: 9).derived(step)
            let rows = (0..<8).map { _ in g.nextInt(below: 64) }
            let xb = Tensor.concatenate(rows.map { x.slice(axis: 0, $0..<($0 + 1)) }, axis: 0)
            let yb = Tensor.concatenate(rows.map { y.slice(axis: 0, $0..<($0 + 1)) }, axis: 0)
            let l = Tensor.meanSquaredError(Tensor.matmul(xb, w.tensor), yb)
            if step == poisonStep { return l * Float.nan }
            return l
        }

        func score() -> Double { -Double(Tensor.meanSquaredError(Tensor.matmul(x, w.value), y).item) }

        func hooks() -> TrainingLoop.Hooks {
            TrainingLoop.Hooks(loss: { self.loss(step: $0) }, evaluate: { self.score() })
        }
    }

    func settings(steps: Int = 200, patience: Int? = nil) -> OptimizationSettings {
        OptimizationSettings(learningRate: 0.05, batchSize: 8, totalSteps: steps, warmupSteps: 10, evaluationPeriod: 10,
                             patience: patience, maximumGradientNorm: 5)
    }

    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ipt-loop-\(UUID().uuidString).safetensors").path
    }

    @Test func convergesAndEndsOnTheBestValues() throws {
        let toy = Toy()
        let loop = TrainingLoop(parameters: [("w", toy.w)], settings: settings())
        let outcome = try loop.run(hooks: toy.hooks(), checkpointPath: nil, resume: false, fingerprint: "t") { _ in .proceed }
        #expect(outcome.bestScore > -0.01)
        #expect(outcome.evaluations.count == 20)
        #expect(abs(toy.score() - outcome.bestScore) < 1e-9)
        #expect(outcome.evaluations.map(\.score).max() == outcome.bestScore)
    }

    @Test func resumedRunEqualsUninterruptedRun() throws {
        let reference = Toy()
        _ = try TrainingLoop(parameters: [("w", reference.w)], settings: settings())
            .run(hooks: reference.hooks(), checkpointPath: nil, resume: false, fingerprint: "t") { _ in .proceed }

        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        for stopAt in [37, 80, 140] {
            let toy = Toy()
            let loop = TrainingLoop(parameters: [("w", toy.w)], settings: settings())
            let outcome = try loop.run(hooks: toy.hooks(), checkpointPath: path, resume: true, fingerprint: "t") { event in
                if case .step(let r) = event, r.step == stopAt { return .stop }
                return .proceed
            }
            #expect(outcome.interrupted)
            #expect(outcome.lastStep == stopAt)
        }
        let toy = Toy()
        let outcome = try TrainingLoop(parameters: [("w", toy.w)], settings: settings())
            .run(hooks: toy.hooks(), checkpointPath: path, resume: true, fingerprint: "t") { _ in .proceed }
        #expect(!outcome.interrupted)
        #expect(toy.w.value.scalars.map(\.bitPattern) == reference.w.value.scalars.map(\.bitPattern))
        #expect(outcome.evaluations.count == 20)
    }

    @Test func checkpointBeforeTheFirstEvaluationResumes() throws {
        // A checkpoint period shorter than the evaluation period saves a best score of -inf.
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var s = settings(steps: 30)
        s.checkpointPeriod = 3
        let toy = Toy()
        let first = try TrainingLoop(parameters: [("w", toy.w)], settings: s)
            .run(hooks: toy.hooks(), checkpointPath: path, resume: false, fingerprint: "t") { event in
                if case .step(let r) = event, r.step == 4 { return .stop }
                return .proceed
            }
        #expect(first.interrupted && first.evaluations.isEmpty)
        let resumed = try TrainingLoop(parameters: [("w", Toy().w)], settings: s)
            .run(hooks: toy.hooks(), checkpointPath: path, resume: true, fingerprint: "t") { _ in .proceed }
        #expect(resumed.lastStep == 30 && resumed.evaluations.count == 3)
    }

    @Test func checkpointOfAnotherConfigurationIsRefused() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let toy = Toy()
        _ = try TrainingLoop(parameters: [("w", toy.w)], settings: settings(steps: 20))
            .run(hooks: toy.hooks(), checkpointPath: path, resume: false, fingerprint: "a") { _ in .proceed }
        #expect(throws: TrainingError.self) {
            try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 20))
                .run(hooks: Toy().hooks(), checkpointPath: path, resume: true, fingerprint: "b") { _ in .proceed }
        }
    }

    /// Interrupted before the first evaluation, the checkpoint holds bestScore = -inf (once a
    /// JSON encoding error that failed the run); damaged loop counters are refused, not trapped on.
    @Test func damagedLoopStateIsRefused() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let interrupted = try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 20))
            .run(hooks: Toy().hooks(), checkpointPath: path, resume: false, fingerprint: "t") { event in
                if case .step(let r) = event, r.step == 5 { return .stop }
                return .proceed
            }
        #expect(interrupted.interrupted && interrupted.lastStep == 5)
        // Counters that the next step would overflow, or that disagree: an error, not a trap.
        let file = try SafeTensors.read(path)
        let state = try #require(file.metadata["loop_state"])
        for damaged in ["\"optimizerStep\":\(Int.max)", "\"optimizerStep\":3", "\"step\":-5", "\"evaluationsWithoutImprovement\":\(Int.max)"] {
            let key = damaged.prefix { $0 != ":" }
            let edited = state.replacingOccurrences(of: #"\#(key):\d+"#, with: damaged, options: .regularExpression)
            #expect(edited != state)
            var metadata = file.metadata
            metadata["loop_state"] = edited
            try SafeTensors.write(file.names.map { ($0, file.tensors[$0]!) }, metadata: metadata, to: path)
            #expect(throws: TrainingError.self) {
                try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 20))
                    .run(hooks: Toy().hooks(), checkpointPath: path, resume: true, fingerprint: "t") { _ in .proceed }
            }
        }
        try SafeTensors.write(file.names.map { ($0, file.tensors[$0]!) }, metadata: file.metadata, to: path)
        let resumed = try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 20))
            .run(hooks: Toy().hooks(), checkpointPath: path, resume: true, fingerprint: "t") { _ in .proceed }
        #expect(resumed.lastStep == 20 && resumed.evaluations.count == 2)
    }

    @Test func earlyStoppingAfterPatienceEvaluations() throws {
        let toy = Toy()
        // A constant score never improves after the first evaluation.
        var hooks = toy.hooks()
        hooks.evaluate = { 0.5 }
        let outcome = try TrainingLoop(parameters: [("w", toy.w)], settings: settings(patience: 3))
            .run(hooks: hooks, checkpointPath: nil, resume: false, fingerprint: "t") { _ in .proceed }
        #expect(outcome.stoppedEarly)
        #expect(outcome.lastStep == 40)
        #expect(outcome.bestStep == 10)
    }

    /// A run killed after the checkpoint of its early stop and before its results were written
    /// ends where it stopped when resumed: no further steps or evaluations.
    @Test func resumingAnEarlyStoppedRunDoesNotTrainOn() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        func run(resume: Bool) throws -> (TrainingLoop.Outcome, Toy, Int) {
            let toy = Toy()
            var hooks = toy.hooks()
            hooks.evaluate = { 0.5 }
            var steps = 0
            let outcome = try TrainingLoop(parameters: [("w", toy.w)], settings: settings(patience: 3))
                .run(hooks: hooks, checkpointPath: path, resume: resume, fingerprint: "t") { event in
                    if case .step = event { steps += 1 }
                    return .proceed
                }
            return (outcome, toy, steps)
        }
        let (stopped, first, firstSteps) = try run(resume: false)
        #expect(stopped.stoppedEarly && stopped.lastStep == 40 && firstSteps == 40)
        let (resumed, second, resumedSteps) = try run(resume: true)
        #expect(resumedSteps == 0)
        #expect(resumed == stopped)
        #expect(second.w.value.scalars == first.w.value.scalars, "ends on the same best values")
    }

    /// The losses of the last evaluation period come back with a resumed run (pretraining reports
    /// their mean), also when it resumes after its last step.
    @Test func recentLossesSurviveAResume() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reference = try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 25))
            .run(hooks: Toy().hooks(), checkpointPath: nil, resume: false, fingerprint: "t") { _ in .proceed }
        #expect(reference.recentLosses.count == 10)
        #expect(reference.recentLosses.last == reference.finalLoss)
        // Interrupted at step 23 (checkpointed there), resumed: steps 24 and 25 run again.
        _ = try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 25))
            .run(hooks: Toy().hooks(), checkpointPath: path, resume: false, fingerprint: "t") { event in
                if case .step(let r) = event, r.step == 23 { return .stop }
                return .proceed
            }
        let resumed = try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 25))
            .run(hooks: Toy().hooks(), checkpointPath: path, resume: true, fingerprint: "t") { _ in .proceed }
        #expect(resumed.recentLosses == reference.recentLosses)
        // Resumed once more after the last step (killed before its results were written).
        let after = try TrainingLoop(parameters: [("w", Toy().w)], settings: settings(steps: 25))
            .run(hooks: Toy().hooks(), checkpointPath: path, resume: true, fingerprint: "t") { _ in .proceed }
        #expect(after.recentLosses == reference.recentLosses)
        #expect(after.lastStep == 25)
    }

    @Test func aNonFiniteGradientWithAFiniteLossIsRejectedNamingTheStep() throws {
        let toy = Toy()
        var hooks = toy.hooks()
        var backwardPasses = 0
        var valuesBeforeTheBadStep: [Float] = []
        hooks.afterBackward = {
            backwardPasses += 1
            if backwardPasses == 17 {
                valuesBeforeTheBadStep = toy.w.value.scalars
                toy.w.accumulateGradient(Tensor([0, .infinity, 0, 0], shape: [4, 1]))
            }
        }
        var saved: [Int] = []
        hooks.saveBest = { step, _ in saved.append(step) }
        let error = #expect(throws: TrainingError.self) {
            _ = try TrainingLoop(parameters: [("w", toy.w)], settings: self.settings())
                .run(hooks: hooks, checkpointPath: nil, resume: false, fingerprint: "t") { _ in .proceed }
        }
        guard case .nonFiniteLoss(let step, let detail)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(step == 17 && detail.hasPrefix("gradient norm is "), "\(detail)")
        #expect(saved == [10])
        #expect(toy.w.value.scalars == valuesBeforeTheBadStep, "the optimiser did not move")
    }

    @Test func divergingStepIsRejectedNamingTheStep() throws {
        let toy = Toy()
        toy.poisonStep = 23
        var saved: [Int] = []
        var hooks = toy.hooks()
        hooks.saveBest = { step, _ in saved.append(step) }
        let before = toy.w.value
        #expect(throws: TrainingError.nonFiniteLoss(step: 23, detail: "loss is nan")) {
            _ = try TrainingLoop(parameters: [("w", toy.w)], settings: self.settings())
                .run(hooks: hooks, checkpointPath: nil, resume: false, fingerprint: "t") { _ in .proceed }
        }
        #expect(saved == [10, 20])
        #expect(toy.w.value.scalars != before.scalars)
        #expect(toy.w.value.isFinite)
    }
}

/// AdamW's bound on one step, which lets the training loop skip its undo copy.
@Suite("AdamW step bound")
struct AdamWBoundTests {
    @Test func theBoundHoldsOnAdversarialGradientsAndDecidesTheCopy() {
        let count = 64
        let w = Parameter(Tensor.zeros([count]))
        let lr: Float = 0.01
        let optimizer = AdamW(parameters: [("w", w)], learningRate: lr)
        let (beta1, beta2): (Double, Double) = (0.9, 0.999)
        let product: Double = (1 - beta2) * (1 - beta1 * beta1 / beta2)
        let bound = Float(1 / product.squareRoot())
        #expect(!optimizer.updateIsBounded(largestMagnitudes: [:], learningRateFactor: 1), "unknown magnitudes")
        var generator = RandomGenerator(seed: 5)
        var magnitudes: [String: Float] = [:]
        var largestStep: Float = 0
        for t in 0..<300 {
            // Gradients growing by β2/β1 per step (the Cauchy-Schwarz worst case), a switch of sign
            // and scale after 150 steps, and random ones in half the entries.
            let growth: Double = pow(0.999 / 0.9, Double(t % 150))
            let grown = Float(growth * (t < 150 ? 1e-3 : -1e2))
            let noiseScale: Float = t % 7 == 0 ? 1e4 : 1e-4
            var g = [Float](repeating: grown, count: count)
            for i in stride(from: 1, to: count, by: 2) { g[i] = Float(generator.nextNormal()) * noiseScale }
            w.accumulateGradient(Tensor(g, shape: [count]))
            let before = w.value.scalars
            magnitudes = optimizer.step(learningRateFactor: 1)
            w.zeroGradient()
            let moved = zip(before, w.value.scalars).map { abs($0 - $1) }.max()!
            largestStep = max(largestStep, moved)
            #expect(magnitudes["w"] == w.value.scalars.map(abs).max()!)
        }
        #expect(largestStep <= lr * bound, "moved \(largestStep) > \(lr * bound)")
        #expect(largestStep > lr, "the adversarial gradients should move a weight by more than lr: \(largestStep)")
        #expect(optimizer.updateIsBounded(largestMagnitudes: magnitudes, learningRateFactor: 1))
        #expect(!optimizer.updateIsBounded(largestMagnitudes: ["w": .greatestFiniteMagnitude / 2], learningRateFactor: 1))
        #expect(!optimizer.updateIsBounded(largestMagnitudes: magnitudes, learningRateFactor: 1e38))
        #expect(!optimizer.updateIsBounded(largestMagnitudes: ["w": .infinity], learningRateFactor: 1))
        let tinyEpsilon = AdamW(parameters: [("w", w)], learningRate: lr, weightDecay: 0)
        #expect(tinyEpsilon.updateIsBounded(largestMagnitudes: ["w": 1], learningRateFactor: 1))
        #expect(!AdamW(groups: tinyEpsilon.groups, epsilon: 1e-30).updateIsBounded(largestMagnitudes: ["w": 1], learningRateFactor: 1))
        #expect(!AdamW(groups: tinyEpsilon.groups, beta1: 0.99, beta2: 0.9).updateIsBounded(largestMagnitudes: ["w": 1], learningRateFactor: 1))
    }

    @Test func anUnboundedStepThatOverflowsIsUndone() throws {
        // Loss w, gradient 1, weight decay 1 at learning rate 1e37: the first step takes w to about
        // -2e37 (finite; kept with a copy, nothing being known yet), the second multiplies it by
        // 1 - lr past Float's range; it is not provably bounded, so its copy undoes it.
        let w = Parameter(Tensor([1], shape: [1]))
        let hooks = TrainingLoop.Hooks(loss: { _ in w.tensor.sum() }, evaluate: { 0 })
        let settings = OptimizationSettings(learningRate: 1e37, batchSize: 1, totalSteps: 5, warmupSteps: 0,
                                            evaluationPeriod: 5, maximumGradientNorm: 1, weightDecay: 1)
        #expect(throws: TrainingError.nonFiniteLoss(step: 2, detail: "the update made w non-finite")) {
            _ = try TrainingLoop(parameters: [("w", w)], settings: settings)
                .run(hooks: hooks, checkpointPath: nil, resume: false, fingerprint: "t") { _ in .proceed }
        }
        #expect(w.value.isFinite && w.value.scalars[0] < -1e36, "step 1 kept, step 2 undone: \(w.value.scalars)")
    }
}

@Suite("Training events as JSON")
struct TrainingEventTests {
    @Test func eventsAreFlatObjectsThatRoundTrip() throws {
        let events: [TrainingEvent] = [
            .step(StepReport(step: 3, totalSteps: 10, loss: 1.5, learningRate: 0.1, gradientNorm: 2, stepsPerSecond: 4,
                             secondsRemaining: 1.75)),
            .evaluation(EvaluationReport(step: 5, score: 0.5, bestScore: 0.5, bestStep: 5, isBest: true)),
            .checkpoint(step: 5, path: "/tmp/x"),
            .phase("grid point"),
        ]
        for event in events {
            let data = try JSONEncoder().encode(event)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["event"] is String)
            #expect(!String(decoding: data, as: UTF8.self).contains("_0"))
            let decoded = try JSONDecoder().decode(TrainingEvent.self, from: data)
            // Key order is not fixed, so the objects are compared, not the text.
            let again = try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded)) as? NSDictionary
            #expect(again == (object as NSDictionary))
        }
    }
}

/// `GradientClipping.clip`, the `torch.nn.utils.clip_grad_norm_` of users' own loops.
@Suite("Gradient clipping")
struct GradientClippingTests {
    /// Two parameters with gradients of joint norm 13 (3, 4 and 12): clipped to 1 they are scaled
    /// by 1 / (13 + 1e-6) together; below the limit they are left exactly as they were; a
    /// parameter without a gradient counts 0; a non-finite norm scales nothing.
    @Test func scalesJointlyToTheMaximumNorm() throws {
        func parameters() -> [Parameter] {
            let a = Parameter(Tensor([1, 1])), b = Parameter(Tensor([1])), unused = Parameter(Tensor([5]))
            a.accumulateGradient(Tensor([3, 4]))
            b.accumulateGradient(Tensor([12]))
            return [a, b, unused]
        }
        let clipped = parameters()
        #expect(GradientClipping.clip(clipped, maximumNorm: 1) == 13)
        let factor = Float(1 / (13 + 1e-6))
        #expect(try #require(clipped[0].gradient).scalars == [3 * factor, 4 * factor])
        #expect(try #require(clipped[1].gradient).scalars == [12 * factor])
        #expect(clipped[2].gradient == nil)
        #expect(abs(GradientClipping.globalNorm(clipped) - 1) < 1e-6)

        let kept = parameters()
        #expect(GradientClipping.clip(kept, maximumNorm: 20) == 13)
        #expect(try #require(kept[0].gradient).scalars == [3, 4])
        #expect(try #require(kept[1].gradient).scalars == [12])

        let broken = parameters()
        broken[1].zeroGradient()
        broken[1].accumulateGradient(Tensor([.infinity]))
        #expect(!GradientClipping.clip(broken, maximumNorm: 1).isFinite)
        #expect(try #require(broken[0].gradient).scalars == [3, 4])
    }
}
