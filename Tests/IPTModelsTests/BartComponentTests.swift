import Foundation
import IPTCore
@testable import IPTModels
import Testing

@Suite("BART components: adapters, dropout, freezing, input checks")
struct BartComponentTests {
    let model: BartForConditionalGeneration
    let batch: TaskBatch

    init() throws {
        model = try BartForConditionalGeneration.load(from: Fixtures.url("bart-tiny"))
        batch = TaskBatch(inputs: TokenBatch([[0, 5, 6, 7, 2], [0, 8, 2]], paddingID: 1),
                          targets: TokenBatch([[0, 9, 10, 2], [0, 11, 2]], paddingID: 1))
    }

    /// The documented flat order: encoder layers, then decoder layers; attention then feed-forward
    /// adapter; down (C x r) then up (r x C), row-major.
    @Test func adapterLayoutOrder() {
        let layout = AdapterLayout(encoderLayers: 2, decoderLayers: 2, hiddenSize: 32, bottleneckSize: 4)
        #expect(layout.parameterCount == 8 * 2 * 128)
        let flat = Tensor.arange(layout.parameterCount)
        let weights = layout.weights(from: flat)
        #expect(weights.encoder[0].attention.down.shape == [32, 4] && weights.encoder[0].attention.up.shape == [4, 32])
        #expect(weights.encoder[0].attention.down[0, 1] == 1 && weights.encoder[0].attention.down[1, 0] == 4)
        #expect(weights.encoder[0].attention.up[0, 0] == 128 && weights.encoder[0].attention.up[0, 1] == 129)
        #expect(weights.encoder[0].feedForward.down[0, 0] == 256)
        #expect(weights.encoder[1].attention.down[0, 0] == 512)
        #expect(weights.decoder[0].attention.down[0, 0] == 1024)
        #expect(weights.decoder[1].feedForward.up[3, 31] == Float(layout.parameterCount - 1))
        #expect(layout.flatten(weights).maxAbsDifference(flat) == 0)
    }

    /// Zero up-projections: the adapted model is exactly the pretrained one, and training starts
    /// from there (the up-projections get a gradient).
    @Test func bottleneckAdaptersStartAtThePretrainedFunction() throws {
        var generator = RandomGenerator(seed: 1)
        let adapters = BottleneckAdapters(layout: model.adapterLayout(bottleneckSize: 8), generator: &generator)
        #expect(adapters.namedParameters().prefix(4).map(\.key) == [
            "encoder.0.attention.down", "encoder.0.attention.up", "encoder.0.feed_forward.down", "encoder.0.feed_forward.up",
        ])
        #expect(adapters.parameterCount == model.adapterLayout(bottleneckSize: 8).parameterCount)
        let plain = try model.loss(batch: batch)
        let adapted = try model.loss(batch: batch, adapters: adapters.weights)
        #expect(adapted.item == plain.item)
        adapted.backward()
        let up = try #require(adapters.encoder[0].feedForward.up.gradient)
        #expect(up.norm > 0)
    }

    /// Gradients reach an intrinsic vector z through a linear hypernetwork of the adapters.
    @Test func gradientsFlowThroughGeneratedAdapters() throws {
        let layout = model.adapterLayout(bottleneckSize: 4)
        var generator = RandomGenerator(seed: 2)
        let hypernetwork = Tensor.randomNormal([3, layout.parameterCount], standardDeviation: 0.02, generator: &generator)
        let z = Tensor.randomNormal([1, 3], standardDeviation: 0.5, generator: &generator).requiringGradient()
        let flat = Tensor.matmul(z, hypernetwork).reshaped([layout.parameterCount])
        try model.loss(batch: batch, adapters: layout.weights(from: flat)).backward()
        #expect((z.gradient?.norm ?? 0) > 0)
        #expect(model.parameters().allSatisfy { $0.gradient == nil })
    }

    /// The automatic policy reads the encoder output through the projections for a few decoder
    /// positions per example and computes keys and values for many (and always for generation).
    @Test func crossAttentionChoosesByCost() throws {
        let encoded = try model.encode(batch.inputs)
        #expect(model.decoder.crossAttentionState(encoded, queriesPerItem: 1).source != nil)
        let many = model.decoder.crossAttentionState(encoded, queriesPerItem: 200)
        #expect(many.source == nil && many.keys.count == model.configuration.decoderLayers)
        #expect(model.decoder.crossAttentionState(encoded).source == nil)
    }

    /// In training, with dropout on the attention weights, cross-attention through the projections
    /// draws the same masks as with keys and values: the same loss and prompt gradient from the
    /// same seed.
    @Test func crossAttentionBothWaysAgreeWithDropout() throws {
        var losses: [Float] = [], gradients: [Tensor] = []
        for policy in [CrossAttentionPolicy.keysAndValues, .throughProjections] {
            let f = try ParityFixture("bart-tiny", crossAttention: policy)
            #expect(f.model.configuration.attentionDropout > 0)
            f.model.train()
            f.model.randomSource.generator = RandomGenerator(seed: 9)
            let prompt = f.tensor("prompt").requiringGradient()
            let loss = try f.model.loss(batch: f.batch, prompt: .shared(prompt))
            loss.backward()
            losses.append(loss.item)
            gradients.append(prompt.gradient!)
        }
        #expect(abs(losses[0] - losses[1]) < 1e-4 * abs(losses[0]))
        #expect(relativeError(gradients[1], gradients[0]) < 1e-4)
    }

    /// The first encoder layer projects the prompt rows apart from the text rows (a shared prompt
    /// once for the batch when no dropout applies): the same loss, prompt gradient and weight
    /// gradients as embedding and projecting the concatenation — for a shared and a per-example
    /// prompt, in evaluation, in training with dropout from the same seed, and with every weight
    /// trained (the text rows then carry gradients to the embeddings and the first layer).
    @Test func promptRowsProjectedApartAgree() throws {
        let f = try ParityFixture("bart-tiny")
        #expect(f.model.configuration.dropout > 0)
        for (training, allWeights) in [(false, false), (true, false), (false, true), (true, true)] {
            for perExample in [false, true] {
                var losses: [Float] = [], promptGradients: [Tensor] = [], weightGradients: [[String: Tensor]] = []
                var operations: [Int] = []
                for apart in [false, true] {
                    f.model.encoder.projectsPromptApart = apart
                    f.model.train(training)
                    if allWeights { f.model.unfreeze() } else { f.model.freeze() }
                    f.model.zeroGradients()
                    f.model.randomSource.generator = RandomGenerator(seed: 3)
                    let prompt = f.tensor(perExample ? "per_example_prompt" : "prompt").requiringGradient()
                    let loss = try f.model.loss(batch: f.batch, prompt: perExample ? .perExample(prompt) : .shared(prompt))
                    operations.append(BLAS.counting { loss.backward() }.statistics.floatingPointOperations)
                    losses.append(loss.item)
                    promptGradients.append(prompt.gradient!)
                    weightGradients.append(Dictionary(uniqueKeysWithValues: f.model.namedParameters().compactMap { key, p in
                        p.gradient.map { (key, $0) }
                    }))
                }
                let label = "training \(training), all weights \(allWeights), per example \(perExample)"
                // The split path ran: with frozen weights the text rows' q/k/v input gradients are
                // skipped in every case.
                if !allWeights { #expect(operations[1] < operations[0], "\(label)") }
                #expect(abs(losses[0] - losses[1]) < 1e-5 * abs(losses[0]), "\(label)")
                #expect(relativeError(promptGradients[1], promptGradients[0]) < 1e-4, "\(label)")
                #expect(weightGradients[0].count == (allWeights ? f.model.parameters().count : 0), "\(label)")
                #expect(weightGradients[1].count == weightGradients[0].count, "\(label)")
                let largest = weightGradients[0].values.map { $0.scalars.map(abs).max() ?? 0 }.max() ?? 0
                for (key, a) in weightGradients[0] {
                    guard let b = weightGradients[1][key] else { Issue.record("\(label): \(key) missing"); continue }
                    if key.hasSuffix("k_proj.bias") {
                        // Zero in exact arithmetic (softmax ignores a constant per query): rounding
                        // noise both ways, compared against the largest gradient instead.
                        #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) < 1e-5 * largest }, "\(label): \(key)")
                    } else {
                        #expect(relativeError(b, a) < 1e-4, "\(label): \(key)")
                    }
                }
            }
        }
        f.model.freeze()
        f.model.train(false)
    }

    /// What projecting the prompt apart saves, counted: for a frozen model and a shared prompt in
    /// evaluation mode the first layer's q/k/v products of the prompt rows run for one example
    /// instead of B (forward and input gradient), and the text rows get no input gradient.
    @Test func promptProjectedOnceTextRowsWithoutGradient() throws {
        let f = try ParityFixture("bart-tiny")
        func operations(apart: Bool) throws -> Int {
            f.model.encoder.projectsPromptApart = apart
            let prompt = f.tensor("prompt").requiringGradient()
            return try BLAS.counting {
                try f.model.loss(batch: f.batch, prompt: .shared(prompt)).backward()
            }.statistics.floatingPointOperations
        }
        let (b, t, n) = (f.batch.inputs.batchSize, f.batch.inputs.length, f.tensor("prompt").shape[0])
        let c = f.model.configuration.hiddenSize
        let saved = 3 * 2 * c * c * (2 * (b - 1) * n + b * t)
        #expect(try operations(apart: false) - operations(apart: true) == saved)
    }

    @Test func dropoutOnlyInTrainingAndReproducible() throws {
        let evaluation = try model.loss(batch: batch).item
        model.train()
        defer { model.train(false) }
        model.randomSource.generator = RandomGenerator(seed: 5)
        let first = try model.loss(batch: batch).item
        model.randomSource.generator = RandomGenerator(seed: 5)
        let repeated = try model.loss(batch: batch).item
        let next = try model.loss(batch: batch).item
        #expect(first != evaluation && first == repeated && next != first)
        // Generation and scoring never use dropout.
        let settings = GenerationConfiguration(maxLength: 8, decoderStartTokenID: 2, eosTokenIDs: [2])
        let trainingOutput = try model.generate(batch.inputs, configuration: settings)
        model.train(false)
        #expect(try model.generate(batch.inputs, configuration: settings) == trainingOutput)
        #expect(try model.loss(batch: batch).item == evaluation)
    }

    @Test func freezingAndUnfreezingByName() throws {
        #expect(model.trainableParameterCount == 0)
        model.unfreeze { $0.hasPrefix("decoder.layers.1.fc") }
        defer { model.freeze() }
        let expected = 2 * (32 * 64) + 64 + 32
        #expect(model.trainableParameterCount == expected)
        try model.loss(batch: batch).backward()
        for (key, p) in model.namedParameters() {
            #expect((p.gradient != nil) == key.hasPrefix("decoder.layers.1.fc"), "\(key)")
        }
        model.zeroGradients()
    }

    @Test func shiftRightIsTransformersShiftTokensRight() {
        let targets = TokenBatch([[0, 5, 6, 2], [0, 7, 2]], paddingID: -100)
        let shifted = model.shiftedRight(targets)
        #expect(shifted.ids == [2, 0, 5, 6, 2, 0, 7, 2])
        #expect(shifted.mask.allSatisfy { $0 })
        #expect(TokenBatch([[0, 5, 2], [0, 2]], paddingID: 1).ids == [0, 5, 2, 0, 2, 1])
    }

    @Test func invalidInputsThrowOneLineErrors() throws {
        #expect(throws: ModelInputError.sequenceTooLong(promptLength: 100, textLength: 30, maximum: 128)) {
            try model.checkInputLength(promptLength: 100, textLength: 30)
        }
        let long = TokenBatch([Array(repeating: 5, count: 125)], paddingID: 1)
        #expect(throws: ModelInputError.sequenceTooLong(promptLength: 4, textLength: 125, maximum: 128)) {
            try model.encode(long, prompt: .shared(Tensor.zeros([4, 32])))
        }
        #expect(throws: ModelInputError.tokenOutOfRange(id: 200, vocabularySize: 200)) {
            try model.encode(TokenBatch([[0, 200, 2]], paddingID: 1))
        }
        #expect(throws: ModelInputError.promptShape(found: [4, 16], expected: "(n, 32)")) {
            try model.encode(batch.inputs, prompt: .shared(Tensor.zeros([4, 16])))
        }
        #expect(throws: ModelInputError.promptShape(found: [3, 4, 32], expected: "(2, n, 32)")) {
            try model.encode(batch.inputs, prompt: .perExample(Tensor.zeros([3, 4, 32])))
        }
        let wrongLayers = AdapterLayout(encoderLayers: 1, decoderLayers: 2, hiddenSize: 32, bottleneckSize: 4)
        #expect(throws: ModelInputError.self) {
            try model.loss(batch: batch, adapters: wrongLayers.weights(from: Tensor.zeros([wrongLayers.parameterCount])))
        }
        #expect(throws: ModelInputError.invalidGeneration(problem: "max_length 200 exceeds the model's 128 positions")) {
            try model.generate(batch.inputs, configuration: GenerationConfiguration(maxLength: 200, decoderStartTokenID: 2))
        }
        // Counts near Int.max from a generation_config.json are errors (or harmless), not overflow traps.
        #expect(throws: ModelInputError.invalidGeneration(problem: "max_new_tokens \(Int.max) exceeds the model's 128 positions")) {
            try model.generate(batch.inputs, configuration: GenerationConfiguration(maxNewTokens: .max, decoderStartTokenID: 2))
        }
        #expect(throws: ModelInputError.invalidGeneration(problem: "num_beams \(Int.max) exceeds the vocabulary size 200")) {
            try model.generate(batch.inputs, configuration: GenerationConfiguration(numBeams: .max, decoderStartTokenID: 2))
        }
        let endless = GenerationConfiguration(maxLength: 4, minNewTokens: .max, decoderStartTokenID: 2, eosTokenIDs: [2])
        #expect(try model.generate(batch.inputs, configuration: endless).map(\.count) == [3, 3])  // EOS banned to the end
        #expect(throws: ModelInputError.invalidOptions(problem: "example 1 has an empty option")) {
            try model.scoreOptions(batch.inputs, options: [[[0, 2]], [[0, 2], []]])
        }
    }

    @Test func optionScoringWithManyOptionsMatchesOneAtATime() throws {
        let options: [[Int32]] = (3..<12).map { [0, Int32($0), 2] }
        let together = try model.scoreOptions(batch.inputs, options: [options, Array(options.prefix(2))])
        for (i, option) in options.prefix(2).enumerated() {
            let alone = try model.scoreOptions(batch.inputs, options: [[option], [option]])
            #expect(abs(alone[0][0] - together[0][i]) < 1e-5 && abs(alone[1][0] - together[1][i]) < 1e-5)
        }
        // Each score is minus the summed token NLL of that target.
        let single = TaskBatch(inputs: TokenBatch([[0, 5, 6, 7, 2]], paddingID: 1), targets: TokenBatch([options[4]], paddingID: 1))
        let nll = try model.targetNLL(batch: single)[0] * 3
        #expect(abs(together[0][4] + nll) < 1e-4)
    }

    @Test func bartBaseConfigurationRoundTrips() throws {
        let base = BartConfiguration.bartBase
        #expect(base.hiddenSize == 768 && base.encoderHeads == 12 && base.vocabularySize == 50265)
        let decoded = try JSONDecoder().decode(BartConfiguration.self, from: JSONEncoder().encode(base))
        #expect(decoded == base)
    }
}
