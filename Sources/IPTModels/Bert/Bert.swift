// BERT encoder: a port of transformers' `BertModel` (transformers/models/bert/modeling_bert.py,
// v5.24) without the pooler: absolute learned positions, token type 0 everywhere, post-LayerNorm
// layers. Added for the IPT paper: soft prompts right after [CLS], bottleneck adapters at BART's two
// sites, and classification by the similarity of sentence embeddings (mean pooling, as
// sentence-transformers computes them) to the embeddings of the task's options.
//
// Swift names are readable; `@Key` maps them to the checkpoint's keys, so parameters are named by
// their BertModel path (`encoder.layer.0.attention.self.query.weight`).

import IPTCore

/// One encoder layer (`BertLayer`: `BertAttention`, `BertIntermediate`, `BertOutput`).
public final class BertLayer: Module {
    @Key("attention.self.query") var queryProjection: Linear
    @Key("attention.self.key") var keyProjection: Linear
    @Key("attention.self.value") var valueProjection: Linear
    @Key("attention.output.dense") var attentionOutput: Linear
    @Key("attention.output.LayerNorm") var attentionNorm: LayerNorm
    @Key("intermediate.dense") var feedForwardIn: Linear
    @Key("output.dense") var feedForwardOut: Linear
    @Key("output.LayerNorm") var outputNorm: LayerNorm
    let configuration: BertConfiguration

    init(_ configuration: BertConfiguration, initializer: inout WeightInitializer) {
        self.configuration = configuration
        super.init()
        let c = configuration.hiddenSize, epsilon = configuration.layerNormEpsilon
        queryProjection = initializer.linear(c, c)
        keyProjection = initializer.linear(c, c)
        valueProjection = initializer.linear(c, c)
        attentionOutput = initializer.linear(c, c)
        attentionNorm = LayerNorm(c, epsilon: epsilon)
        feedForwardIn = initializer.linear(c, configuration.intermediateSize)
        feedForwardOut = initializer.linear(configuration.intermediateSize, c)
        outputNorm = LayerNorm(c, epsilon: epsilon)
    }

    /// `LayerNorm(x + dropout(adapter(dense(attention(x)))))`, then
    /// `LayerNorm(h + adapter(dropout(dense(act(dense(h))))))`: the adapters sit where BART's do,
    /// on the attention output before dropout and on the feed-forward output after it.
    func callAsFunction(_ x: Tensor, mask: AttentionMask, adapters: LayerAdapters?, context: ForwardContext) -> Tensor {
        let attended = Tensor.attention(query: queryProjection(x), key: keyProjection(x), value: valueProjection(x),
                                        heads: configuration.heads, mask: mask,
                                        dropout: context.training ? configuration.attentionDropout : 0,
                                        randomSource: context.randomSource)
        var h = attentionOutput(attended)
        if let adapter = adapters?.attention { h = adapter(h) }
        let afterAttention = attentionNorm(x + context.dropout(h, configuration.hiddenDropout))
        var f = context.dropout(feedForwardOut(configuration.activation(feedForwardIn(afterAttention))),
                                configuration.hiddenDropout)
        if let adapter = adapters?.feedForward { f = adapter(f) }
        return outputNorm(afterAttention + f)
    }
}

/// A BERT encoder (`BertModel` without its pooler), frozen or trainable, with soft prompts and
/// adapters, used for sentence embeddings and for classification by option similarity.
///
/// ```swift
/// let model = try BertEncoder.load(from: URL(fileURLWithPath: "all-MiniLM-L6-v2"))
/// let embeddings = try model.embed(TokenBatch(rows, paddingID: 0))     // (B, C), unit rows
/// ```
///
/// **Classification.** An example's prediction is the option whose sentence embedding is closest
/// (cosine) to the embedding of prompt + input. The training loss is the (label-smoothed) cross
/// entropy over the example's options of `cosine / optionTemperature`; the options come with the
/// batch (``TaskBatch/options``). Options are embedded without the prompt and without dropout
/// (the anchors evaluation uses), but through the adapters and current weights, so adapter and
/// Fastfood tuning move them too. The temperature is fixed (default 0.05, sentence-transformers'
/// scale of 20), not learned: only the prompt, z or adapters train.
///
/// **Prompts** go right after the first token (`[CLS]`): positions `1 ..< 1 + n`. They get
/// position and token-type embeddings and the embedding LayerNorm like word embeddings, are
/// attended and are part of the mean pooling (the sentence embedding is that of prompt + input).
///
/// Parameters are named by their BertModel checkpoint path (`embeddings.word_embeddings.weight`,
/// `encoder.layer.0.attention.self.query.weight`, ...).
public final class BertEncoder: Module {
    /// The architecture.
    public let configuration: BertConfiguration
    @Key("embeddings.word_embeddings") var wordEmbedding: Embedding
    @Key("embeddings.position_embeddings") var positionEmbedding: Embedding
    @Key("embeddings.token_type_embeddings") var tokenTypeEmbedding: Embedding
    @Key("embeddings.LayerNorm") var embeddingNorm: LayerNorm
    /// The layers, in order.
    @Key("encoder.layer") public private(set) var layers: [BertLayer]
    /// The source of dropout masks in training mode; reseed it for reproducible runs.
    public let randomSource: RandomSource
    /// Divides cosine similarities into the logits of the option cross entropy; fixed.
    public let optionTemperature: Float
    /// Unused defaults: an encoder generates nothing (``supportsGeneration`` is false).
    public let generationConfiguration = GenerationConfiguration()

    /// A randomly initialised model (transformers' `_init_weights`: weights N(0,
    /// `initializer_range`), the pad row of the word embedding zero, biases zero, LayerNorms one/zero).
    ///
    /// - Parameters:
    ///   - configuration: the architecture.
    ///   - generator: source of the initial weights.
    ///   - dropoutSeed: seed of ``randomSource``; default 0.
    ///   - optionTemperature: see ``optionTemperature``; default 0.05.
    public convenience init(configuration: BertConfiguration, generator: inout RandomGenerator, dropoutSeed: UInt64 = 0,
                            optionTemperature: Float = 0.05) {
        var initializer = WeightInitializer(generator: generator, isRandom: true,
                                            standardDeviation: configuration.initializerRange)
        self.init(configuration: configuration, initializer: &initializer, dropoutSeed: dropoutSeed,
                  optionTemperature: optionTemperature)
        generator = initializer.generator
    }

    /// A model with zero weights (LayerNorms at one), to be filled by ``load(checkpoint:source:)``.
    ///
    /// - Parameters:
    ///   - configuration: the architecture.
    ///   - dropoutSeed: seed of ``randomSource``; default 0.
    ///   - optionTemperature: see ``optionTemperature``; default 0.05.
    public convenience init(configuration: BertConfiguration, dropoutSeed: UInt64 = 0, optionTemperature: Float = 0.05) {
        var initializer = WeightInitializer(generator: RandomGenerator(seed: 0), isRandom: false, standardDeviation: 0)
        self.init(configuration: configuration, initializer: &initializer, dropoutSeed: dropoutSeed,
                  optionTemperature: optionTemperature)
    }

    init(configuration: BertConfiguration, initializer: inout WeightInitializer, dropoutSeed: UInt64, optionTemperature: Float) {
        precondition(optionTemperature > 0, "the option temperature must be positive")
        self.configuration = configuration
        self.optionTemperature = optionTemperature
        randomSource = RandomSource(seed: dropoutSeed)
        super.init()
        let c = configuration.hiddenSize
        var words = initializer.normal([configuration.vocabularySize, c])
        words.withUnsafeMutableBufferPointer { table in
            let row = Int(configuration.padTokenID) * c
            for j in 0..<c { table[row + j] = 0 }
        }
        wordEmbedding = Embedding(weight: words)
        positionEmbedding = Embedding(weight: initializer.normal([configuration.maximumPositions, c]))
        tokenTypeEmbedding = Embedding(weight: initializer.normal([configuration.typeVocabularySize, c]))
        embeddingNorm = LayerNorm(c, epsilon: configuration.layerNormEpsilon)
        var layers: [BertLayer] = []
        for _ in 0..<configuration.layers { layers.append(BertLayer(configuration, initializer: &initializer)) }
        self.layers = layers
    }

    /// Dropout on in training mode.
    var context: ForwardContext { ForwardContext(training: isTraining, randomSource: randomSource) }
    /// No dropout, whatever the mode (scoring, option anchors).
    var inferenceContext: ForwardContext { ForwardContext(training: false, randomSource: randomSource) }

    /// Width of the hidden states.
    public var hiddenSize: Int { configuration.hiddenSize }

    /// Positions available to prompt plus input text.
    public var maximumInputLength: Int { configuration.maximumPositions }

    /// Rows of the word embedding.
    public var vocabularySize: Int { configuration.vocabularySize }

    /// An encoder generates no text: predictions come from option scoring.
    public var supportsGeneration: Bool { false }

    /// The layout of the adapter subspace: two adapters in each of the encoder's layers.
    ///
    /// - Parameter bottleneckSize: r; default 16 (the paper's).
    public func adapterLayout(bottleneckSize: Int = 16) -> AdapterLayout {
        AdapterLayout(encoderLayers: configuration.layers, decoderLayers: 0, hiddenSize: configuration.hiddenSize,
                      bottleneckSize: bottleneckSize)
    }

    /// Rows of the word embedding, `(ids.count, C)` (prompt initialisation).
    public func embeddingRows(_ ids: [Int32]) -> Tensor {
        withoutGradients { wordEmbedding(ids, shape: [ids.count]) }
    }

    /// The last hidden states.
    ///
    /// - Parameters:
    ///   - inputs: ids (`[CLS] ... [SEP]`), padded.
    ///   - prompt: soft prompt vectors placed after the first token; default none.
    ///   - adapters: adapter weights for every layer (``adapterLayout(bottleneckSize:)``); default none.
    /// - Returns: hidden states `(B, n + T, C)` and the mask of attended positions (prompt included).
    /// - Throws: ``ModelInputError`` for ids outside the vocabulary, a prompt or adapters of the
    ///   wrong shape, or prompt + text longer than the position table.
    public func encode(_ inputs: TokenBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil) throws -> EncoderOutput {
        try encode(inputs, prompt: prompt, adapters: adapters, context: context)
    }

    func encode(_ inputs: TokenBatch, prompt: PromptInput?, adapters: AdapterWeights?, context: ForwardContext) throws -> EncoderOutput {
        let (b, t, c) = (inputs.batchSize, inputs.length, configuration.hiddenSize)
        let n = prompt?.length ?? 0
        try prompt?.validate(hiddenSize: c, batchSize: b)
        try adapters?.validate(encoderLayers: configuration.layers, decoderLayers: 0, hiddenSize: c)
        try checkInputLength(promptLength: n, textLength: t)
        let ids = try inputs.checkedIDs(vocabularySize: configuration.vocabularySize, paddingID: configuration.padTokenID)
        var x = wordEmbedding(ids, shape: [b, t])
        var mask = inputs.maskRows
        if let prompt {
            let head = min(1, t)
            x = Tensor.concatenate([x.slice(axis: 1, 0..<head), prompt.perExampleTensor(batchSize: b),
                                    x.slice(axis: 1, head..<t)], axis: 1)
            mask = mask.map { Array($0.prefix(head)) + Array(repeating: true, count: n) + $0.dropFirst(head) }
        }
        // transformers' order: (inputs_embeds + token_type) + positions, then LayerNorm.
        let tokenType = tokenTypeEmbedding.weight.tensor.slice(axis: 0, 0..<1)
        let positions = positionEmbedding.weight.tensor.slice(axis: 0, 0..<(n + t))
        x = context.dropout(embeddingNorm(x + tokenType + positions), configuration.hiddenDropout)
        let attentionMask = AttentionMask(keyPadding: mask)
        for (i, layer) in layers.enumerated() {
            x = layer(x, mask: attentionMask, adapters: adapters?.encoder[i], context: context)
        }
        return EncoderOutput(hiddenStates: x, mask: mask)
    }

    /// Sentence embeddings: the mean of the last hidden states over attended positions (prompt
    /// included), scaled to unit length; sentence-transformers' mean pooling + Normalize.
    ///
    /// - Parameters: as in ``encode(_:prompt:adapters:)``.
    /// - Returns: `(B, C)`; differentiable.
    public func embed(_ inputs: TokenBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil) throws -> Tensor {
        try embed(inputs, prompt: prompt, adapters: adapters, context: context)
    }

    func embed(_ inputs: TokenBatch, prompt: PromptInput?, adapters: AdapterWeights?, context: ForwardContext) throws -> Tensor {
        let encoded = try encode(inputs, prompt: prompt, adapters: adapters, context: context)
        let (b, s) = (encoded.batchSize, encoded.hiddenStates.shape[1])
        let weights = Tensor(encoded.mask.flatMap { row in row.map { $0 ? Float(1) : 0 } }, shape: [b, s, 1])
        let counts = encoded.mask.map { row in Float(max(1, row.lazy.filter { $0 }.count)) }
        let pooled = (encoded.hiddenStates * weights).sum(axes: [1]) / Tensor(counts, shape: [b, 1])
        // F.normalize's max(norm, 1e-12), without a square root of zero in the backward.
        let norms = (pooled.squared().sum(axes: [1], keepingDimensions: true) + 1e-24).squareRoot()
        return pooled / norms
    }
}
