import Foundation
import IPTCore
@testable import IPTModels
import Testing

/// Swift BART against transformers on the two fixture checkpoints: logits, losses, prompt and
/// adapter gradients, option scores, greedy and beam-search outputs.
@Suite("BART matches transformers")
struct BartParityTests {
    static let fixtureNames = ["bart-tiny", "bart-tiny-scaled"]
    /// Teacher-forced decoding reads the encoder output both ways: keys and values, and through
    /// the projections (Tensor.sourceAttention).
    static let policies: [CrossAttentionPolicy] = [.keysAndValues, .throughProjections]

    @Test(arguments: fixtureNames, policies)
    func logitsAndLosses(_ name: String, _ policy: CrossAttentionPolicy) throws {
        let f = try ParityFixture(name, crossAttention: policy)
        let logits = try f.model.logits(batch: f.batch)
        #expect(logits.maxAbsDifference(f.tensor("logits")) < 1e-4)

        let loss = try f.model.loss(batch: f.batch)
        #expect(abs(loss.item - f.values.loss_sum) < 1e-4 * abs(f.values.loss_sum))
        let mean = try f.model.loss(batch: f.batch, reduction: .mean)
        #expect(abs(mean.item - f.values.loss_mean) < 1e-4)

        let nll = try f.model.targetNLL(batch: f.batch)
        for (a, b) in zip(nll, f.values.example_nll) { #expect(abs(a - b) < 1e-4) }
        // Token NLL: the unsmoothed cross entropy of the same logits, zero on padding.
        let targets = f.batch.targets
        let perToken = Tensor.labelSmoothedCrossEntropy(
            logits: logits, targets: zip(targets.ids, targets.mask).map { $1 ? $0 : -100 }, reduction: .none)
        #expect(perToken.reshaped([targets.batchSize, targets.length]).maxAbsDifference(f.tensor("token_nll")) < 1e-4)
    }

    @Test(arguments: fixtureNames, policies)
    func sharedPromptLossAndGradient(_ name: String, _ policy: CrossAttentionPolicy) throws {
        let f = try ParityFixture(name, crossAttention: policy)
        let prompt = f.tensor("prompt").requiringGradient()
        let loss = try f.model.loss(batch: f.batch, prompt: .shared(prompt))
        #expect(abs(loss.item - f.values.prompt_loss_sum) < 1e-4 * abs(f.values.prompt_loss_sum))
        loss.backward()
        #expect(relativeError(prompt.gradient!, f.tensor("prompt_gradient")) < 1e-3)
        // The frozen model collected nothing.
        #expect(f.model.parameters().allSatisfy { $0.gradient == nil })
    }

    @Test(arguments: fixtureNames, policies)
    func perExamplePromptLossAndGradient(_ name: String, _ policy: CrossAttentionPolicy) throws {
        let f = try ParityFixture(name, crossAttention: policy)
        let prompt = f.tensor("per_example_prompt").requiringGradient()
        let loss = try f.model.loss(batch: f.batch, prompt: .perExample(prompt))
        #expect(abs(loss.item - f.values.per_example_prompt_loss_sum) < 1e-4 * abs(f.values.per_example_prompt_loss_sum))
        loss.backward()
        #expect(relativeError(prompt.gradient!, f.tensor("per_example_prompt_gradient")) < 1e-3)
    }

    @Test(arguments: fixtureNames, policies)
    func adapterLossAndGradient(_ name: String, _ policy: CrossAttentionPolicy) throws {
        let f = try ParityFixture(name, crossAttention: policy)
        let flat = f.tensor("adapters").requiringGradient()
        let layout = f.model.adapterLayout(bottleneckSize: 4)
        let loss = try f.model.loss(batch: f.batch, adapters: layout.weights(from: flat))
        #expect(abs(loss.item - f.values.adapter_loss_sum) < 1e-4 * abs(f.values.adapter_loss_sum))
        loss.backward()
        #expect(relativeError(flat.gradient!, f.tensor("adapter_gradient")) < 1e-3)
    }

    /// Every weight's gradient (what pretraining trains): scripts/make_bart_weight_gradient_fixtures.py.
    @Test(arguments: policies)
    func everyWeightGradientMatches(_ policy: CrossAttentionPolicy) throws {
        let f = try ParityFixture("bart-tiny-scaled", crossAttention: policy)
        let expected = try SafeTensors.read(Fixtures.url("bart-tiny-scaled-weight-gradients.safetensors").path).tensors
        f.model.unfreeze()
        let loss = try f.model.loss(batch: f.batch)
        #expect(abs(loss.item - f.values.loss_sum) < 1e-4 * abs(f.values.loss_sum))
        loss.backward()
        let named = Dictionary(uniqueKeysWithValues: f.model.namedParameters().map { ($0.key, $0.parameter) })
        for (key, reference) in expected {
            let parameter = try #require(named[key], "no parameter \(key)")
            let gradient = try #require(parameter.gradient, "no gradient for \(key)")
            // Relative to the largest entry, with an absolute floor: the key projections' biases have
            // zero gradient in exact arithmetic (softmax is shift-invariant), so both sides are rounding noise.
            let scale = reference.scalars.map(abs).max() ?? 0
            let difference = gradient.maxAbsDifference(reference)
            #expect(difference <= 1e-3 * scale + 1e-5, "\(key): max difference \(difference), largest entry \(scale)")
        }
        // Every weight was checked (final_logits_bias is a buffer in both, never trained).
        #expect(Set(named.keys) == Set(expected.keys))
    }

    @Test(arguments: fixtureNames, policies)
    func optionScores(_ name: String, _ policy: CrossAttentionPolicy) throws {
        let f = try ParityFixture(name, crossAttention: policy)
        let scores = try f.model.scoreOptions(f.batch.inputs, options: f.values.options)
        #expect(scores.map(\.count) == f.values.option_scores.map(\.count))
        for (row, expected) in zip(scores, f.values.option_scores) {
            for (a, b) in zip(row, expected) { #expect(abs(a - b) < 1e-4) }
        }
    }

    @Test(arguments: fixtureNames)
    func generationOutputsAreIdentical(_ name: String) throws {
        let f = try ParityFixture(name)
        let inputs = TokenBatch(f.values.generation_inputs, paddingID: 1)
        for run in f.values.generation {
            let prompt = run.with == "prompt" ? PromptInput.shared(f.tensor("generation_prompt")) : nil
            let adapters = run.with == "adapters"
                ? f.model.adapterLayout(bottleneckSize: 4).weights(from: f.tensor("generation_adapters")) : nil
            let output = try f.model.generate(inputs, prompt: prompt, adapters: adapters, configuration: f.settings(run))
            #expect(output == run.output, "\(name) \(String(describing: run.settings)) with \(run.with ?? "-")")
        }
    }

    /// A per-example prompt in one batch gives what each example gives alone with its prompt.
    @Test func perExamplePromptGenerationMatchesSingleExamples() throws {
        let f = try ParityFixture("bart-tiny")
        let rows = Array(f.values.generation_inputs.prefix(3))
        var generator = RandomGenerator(seed: 3)
        let prompts = Tensor.randomNormal([3, 2, 32], standardDeviation: 0.5, generator: &generator)
        let settings = GenerationConfiguration(maxLength: 10, minLength: 3, numBeams: 3, decoderStartTokenID: 2, eosTokenIDs: [2])
        let batched = try f.model.generate(TokenBatch(rows, paddingID: 1), prompt: .perExample(prompts), configuration: settings)
        for (i, row) in rows.enumerated() {
            let single = try f.model.generate(TokenBatch([row], paddingID: 1),
                                              prompt: .shared(prompts.slice(axis: 0, i..<(i + 1)).reshaped([2, 32])),
                                              configuration: settings)
            #expect(single[0] == batched[i])
        }
    }
}
