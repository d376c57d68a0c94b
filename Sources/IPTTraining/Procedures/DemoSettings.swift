import IPTCore

extension PipelineConfiguration {
    /// Settings for the embedded demo model (a small BART pretrained here) and the built-in tasks:
    /// the paper's pipeline at a scale that converges in minutes on two cores.
    ///
    /// The paper's learning rates (1e-5 over 100,000 steps) are far too slow for a demo: prompt
    /// tuning here uses a short prompt (20 vectors), Adam at learning rate 0.03 and 100 steps (a
    /// sweep over 0.3, 0.03 and 0.003 on four binary tasks put 0.03 first; see
    /// Docs/embedded-model.md); the intrinsic dimension is the paper's headline d = 5.
    /// Classification tasks are scored by option likelihood, generation tasks by greedy decoding.
    ///
    /// - Parameters:
    ///   - quick: a shorter run (about 2 minutes on two cores): fewer steps and test examples, no Fastfood.
    ///   - seenTuning: also tune in the learned subspace on the seen tasks with another k-shot
    ///     sample (seed 21), the paper's "seen tasks, different data" (default off: it doubles the
    ///     intrinsic-tuning time).
    public static func demo(quick: Bool = false, seenTuning: Bool = false) -> PipelineConfiguration {
        let evaluation = EvaluationSettings(mode: .optionScoring, batchSize: 32, numBeams: 1, maximumLength: 16,
                                            maximumDevExamples: nil, maximumTestExamples: quick ? 48 : 200)
        func settings(_ lr: Float, steps: Int, batch: Int = 8, eval: Int) -> OptimizationSettings {
            OptimizationSettings(learningRate: lr, batchSize: batch, totalSteps: steps, warmupSteps: steps / 10,
                                 evaluationPeriod: eval, maximumGradientNorm: 1, seed: 42)
        }
        let promptSteps = quick ? 60 : 100
        let prompt = PromptTuningConfiguration(
            promptLength: 20, optimization: settings(0.03, steps: promptSteps, eval: promptSteps / 4),
            evaluation: evaluation, labelSmoothing: 0.1, lossReduction: .mean, targetFormat: .leadingSpace,
            maximumInputLength: 256)
        let finding = SubspaceFindingConfiguration(
            dimension: 5, decoderWidth: 256, alpha: 200, optimization: settings(1e-3, steps: quick ? 100 : 200, batch: 16,
                                                                                 eval: 100),
            evaluation: EvaluationSettings(mode: .optionScoring, batchSize: 32, numBeams: 1, maximumLength: 16,
                                           maximumDevExamples: 16, maximumTestExamples: quick ? 48 : 200),
            labelSmoothing: 0.1, lossReduction: .mean, targetFormat: .leadingSpace, maximumInputLength: 256)
        let istSteps = 40
        let tuning = SubspaceTuningConfiguration(
            subspace: .random(dimension: 5), optimization: settings(0.1, steps: istSteps, eval: istSteps / 2),
            evaluation: evaluation, labelSmoothing: 0.1, lossReduction: .mean, targetFormat: .leadingSpace,
            maximumInputLength: 256)
        let fastfood = FastfoodTuningConfiguration(
            dimension: 5, optimization: settings(0.05, steps: istSteps, eval: istSteps / 2), evaluation: evaluation,
            labelSmoothing: 0.1, lossReduction: .mean, targetFormat: .leadingSpace, maximumInputLength: 256)
        var stageTwo = prompt
        stageTwo.optimization = settings(0.01, steps: 30, eval: 15)
        return PipelineConfiguration(promptTuning: prompt, subspaceFinding: finding, subspaceTuning: tuning,
                                     fastfood: quick ? nil : fastfood, stageTwo: stageTwo, randomSubspace: true,
                                     dataSeed: 100, seenTuningSeed: seenTuning ? 21 : nil)
    }
}
