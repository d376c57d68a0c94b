// BART encoder-decoder: a port of transformers' `BartForConditionalGeneration`
// (transformers/models/bart/modeling_bart.py, v5.24): post-LayerNorm layers, learned positions
// with an offset of 2, an embedding LayerNorm, exact GELU, and an LM head tied to the shared
// embedding plus the `final_logits_bias` buffer. Added for the IPT paper: soft prompts at the
// encoder input and bottleneck adapters on the self-attention and feed-forward outputs.
//
// Swift names are readable; `@Key` maps them to the checkpoint's keys, so parameters are named by
// their BartModel path (`encoder.layers.0.self_attn.q_proj.weight`).

import IPTCore

/// Dropout state of one forward pass: active only in training mode, masks drawn from the model's
/// random source.
struct ForwardContext {
    let training: Bool
    let randomSource: RandomSource

    func dropout(_ x: Tensor, _ probability: Float) -> Tensor {
        guard training, probability > 0 else { return x }
        return x.dropout(probability: probability, generator: &randomSource.generator)
    }

    /// Whether LayerDrop skips a layer this time (training only).
    func skipsLayer(_ probability: Float) -> Bool {
        training && probability > 0 && Float(randomSource.generator.nextUniform()) < probability
    }
}

/// Creates the initial weights: transformers' `_init_weights` (normal weights, zero biases) for a
/// random model, or zeros for a model whose weights will be loaded.
struct WeightInitializer {
    var generator: RandomGenerator
    let isRandom: Bool
    let standardDeviation: Float

    mutating func normal(_ shape: [Int]) -> Tensor {
        isRandom ? Tensor.randomNormal(shape, standardDeviation: standardDeviation, generator: &generator) : Tensor.zeros(shape)
    }

    mutating func linear(_ inputSize: Int, _ outputSize: Int) -> Linear {
        Linear(weight: normal([outputSize, inputSize]), bias: Tensor.zeros([outputSize]))
    }
}

/// Multi-head attention with bias projections (`BartAttention`).
public final class BartAttention: Module {
    @Key("k_proj") var keyProjection: Linear
    @Key("v_proj") var valueProjection: Linear
    @Key("q_proj") var queryProjection: Linear
    @Key("out_proj") var outputProjection: Linear
    /// Number of heads.
    public let heads: Int
    let dropoutProbability: Float

    init(hiddenSize: Int, heads: Int, dropout: Float, initializer: inout WeightInitializer) {
        self.heads = heads
        dropoutProbability = dropout
        super.init()
        keyProjection = initializer.linear(hiddenSize, hiddenSize)
        valueProjection = initializer.linear(hiddenSize, hiddenSize)
        queryProjection = initializer.linear(hiddenSize, hiddenSize)
        outputProjection = initializer.linear(hiddenSize, hiddenSize)
    }

    /// `out_proj(attention(q_proj(x), keys, values))`; the 1/sqrt(head_dim) query scaling happens
    /// inside ``IPTCore/Tensor/attention(query:key:value:heads:mask:dropout:randomSource:causalOffset:)``.
    /// `query`, when given, is `q_proj(x)` already computed.
    func callAsFunction(_ x: Tensor, query: Tensor? = nil, keys: Tensor, values: Tensor, mask: AttentionMask,
                        causalOffset: Int = 0, context: ForwardContext) -> Tensor {
        let attended = Tensor.attention(query: query ?? queryProjection(x), key: keys, value: values, heads: heads, mask: mask,
                                        dropout: context.training ? dropoutProbability : 0,
                                        randomSource: context.randomSource, causalOffset: causalOffset)
        return outputProjection(attended)
    }

    /// The same as `self(x, keys: k_proj(source), values: v_proj(source), mask: mask, context: context)`
    /// (the same dropout mask too), computed with the key and value projections folded into the
    /// queries (``IPTCore/Tensor/sourceAttention(query:source:keyWeight:keyBias:valueWeight:valueBias:heads:mask:dropout:randomSource:)``):
    /// fewer operations when x has fewer rows per item than a head has dimensions.
    func callAsFunction(_ x: Tensor, source: Tensor, mask: AttentionMask, context: ForwardContext) -> Tensor {
        let attended = Tensor.sourceAttention(query: queryProjection(x), source: source,
                                              keyWeight: keyProjection.weight.tensor, keyBias: keyProjection.bias?.tensor,
                                              valueWeight: valueProjection.weight.tensor,
                                              valueBias: valueProjection.bias?.tensor, heads: heads, mask: mask,
                                              dropout: context.training ? dropoutProbability : 0,
                                              randomSource: context.randomSource)
        return outputProjection(attended)
    }
}

/// The sublayers every encoder and decoder layer has, and their post-LayerNorm residual blocks
/// with the IPT paper's adapter sites.
protocol BartLayer: AnyObject {
    var selfAttention: BartAttention { get }
    var selfAttentionNorm: LayerNorm { get }
    var feedForwardIn: Linear { get }
    var feedForwardOut: Linear { get }
    var outputNorm: LayerNorm { get }
    var configuration: BartConfiguration { get }
}

extension BartLayer {
    /// `LayerNorm(x + dropout(adapter(self_attn(x))))`: the adapter sits on the attention output,
    /// before dropout and the residual add. `query`, when given, is `q_proj(x)` already computed.
    func selfAttentionBlock(_ x: Tensor, query: Tensor? = nil, keys: Tensor, values: Tensor, mask: AttentionMask,
                            causalOffset: Int = 0, adapter: AdapterMatrices?, context: ForwardContext) -> Tensor {
        var h = selfAttention(x, query: query, keys: keys, values: values, mask: mask, causalOffset: causalOffset,
                              context: context)
        if let adapter { h = adapter(h) }
        return selfAttentionNorm(x + context.dropout(h, configuration.dropout))
    }

    /// `LayerNorm(x + adapter(dropout(fc2(dropout(activation(fc1(x)))))))`: the adapter sits after
    /// fc2 and its dropout, before the residual add.
    func feedForwardBlock(_ x: Tensor, adapter: AdapterMatrices?, context: ForwardContext) -> Tensor {
        var h = context.dropout(configuration.activation(feedForwardIn(x)), configuration.activationDropout)
        h = context.dropout(feedForwardOut(h), configuration.dropout)
        if let adapter { h = adapter(h) }
        return outputNorm(x + h)
    }
}

/// A self-attention layer's query, key and value projections of its input, each `(B, S, C)`.
struct AttentionProjections {
    let query, key, value: Tensor
}

/// One encoder layer (`BartEncoderLayer`).
public final class BartEncoderLayer: Module, BartLayer {
    @Key("self_attn") var selfAttention: BartAttention
    @Key("self_attn_layer_norm") var selfAttentionNorm: LayerNorm
    @Key("fc1") var feedForwardIn: Linear
    @Key("fc2") var feedForwardOut: Linear
    @Key("final_layer_norm") var outputNorm: LayerNorm
    let configuration: BartConfiguration

    init(_ configuration: BartConfiguration, initializer: inout WeightInitializer) {
        self.configuration = configuration
        super.init()
        let c = configuration.hiddenSize
        selfAttention = BartAttention(hiddenSize: c, heads: configuration.encoderHeads,
                                      dropout: configuration.attentionDropout, initializer: &initializer)
        selfAttentionNorm = LayerNorm(c)
        feedForwardIn = initializer.linear(c, configuration.encoderFeedForwardSize)
        feedForwardOut = initializer.linear(configuration.encoderFeedForwardSize, c)
        outputNorm = LayerNorm(c)
    }

    /// - Parameters:
    ///   - x: `(B, S, C)`.
    ///   - projections: `q_proj(x)`, `k_proj(x)`, `v_proj(x)` when the caller computed them.
    func callAsFunction(_ x: Tensor, projections: AttentionProjections? = nil, mask: AttentionMask,
                        adapters: LayerAdapters?, context: ForwardContext) -> Tensor {
        let attended = selfAttentionBlock(x, query: projections?.query,
                                          keys: projections?.key ?? selfAttention.keyProjection(x),
                                          values: projections?.value ?? selfAttention.valueProjection(x),
                                          mask: mask, adapter: adapters?.attention, context: context)
        return feedForwardBlock(attended, adapter: adapters?.feedForward, context: context)
    }
}

/// One decoder layer (`BartDecoderLayer`): causal self-attention, cross-attention, feed-forward.
public final class BartDecoderLayer: Module, BartLayer {
    @Key("self_attn") var selfAttention: BartAttention
    @Key("self_attn_layer_norm") var selfAttentionNorm: LayerNorm
    @Key("encoder_attn") var crossAttention: BartAttention
    @Key("encoder_attn_layer_norm") var crossAttentionNorm: LayerNorm
    @Key("fc1") var feedForwardIn: Linear
    @Key("fc2") var feedForwardOut: Linear
    @Key("final_layer_norm") var outputNorm: LayerNorm
    let configuration: BartConfiguration

    init(_ configuration: BartConfiguration, initializer: inout WeightInitializer) {
        self.configuration = configuration
        super.init()
        let c = configuration.hiddenSize
        selfAttention = BartAttention(hiddenSize: c, heads: configuration.decoderHeads,
                                      dropout: configuration.attentionDropout, initializer: &initializer)
        selfAttentionNorm = LayerNorm(c)
        crossAttention = BartAttention(hiddenSize: c, heads: configuration.decoderHeads,
                                       dropout: configuration.attentionDropout, initializer: &initializer)
        crossAttentionNorm = LayerNorm(c)
        feedForwardIn = initializer.linear(c, configuration.decoderFeedForwardSize)
        feedForwardOut = initializer.linear(configuration.decoderFeedForwardSize, c)
        outputNorm = LayerNorm(c)
    }

    /// - Parameters:
    ///   - x: `(N, T, C)`, decoder positions `cache.length ..< cache.length + T` (or `0..<T`).
    ///   - cross: what the cross-attention reads of the encoder output (every layer's keys and values
    ///     `(items, S, C)`, or the hidden states themselves); the N rows are `N / items`
    ///     consecutive rows per item (beams or options share their item's encoder output).
    ///   - cache: self-attention keys/values of earlier positions, extended by this call.
    func callAsFunction(_ x: Tensor, cross: CrossAttentionState, layer: Int, cache: KeyValueCache?,
                        adapters: LayerAdapters?, context: ForwardContext) -> Tensor {
        let (n, t, c) = (x.shape[0], x.shape[1], x.shape[2])
        var keys = selfAttention.keyProjection(x), values = selfAttention.valueProjection(x)
        var offset = 0
        if let cache {
            offset = cache.length
            cache.store(layer: layer, keys: keys, values: values)
            (keys, values) = cache.keysAndValues(layer: layer)
        }
        let attended = selfAttentionBlock(x, keys: keys, values: values, mask: AttentionMask(causal: true),
                                          causalOffset: offset, adapter: adapters?.attention, context: context)

        // Rows of one item become one longer query sequence against that item's encoder output.
        let items = cross.items
        let grouped = attended.reshaped([items, n / items * t, c])
        let crossOut: Tensor
        if let source = cross.source {
            crossOut = crossAttention(grouped, source: source, mask: cross.mask, context: context).reshaped([n, t, c])
        } else {
            crossOut = crossAttention(grouped, keys: cross.keys[layer], values: cross.values[layer], mask: cross.mask,
                                      context: context).reshaped([n, t, c])
        }
        let crossed = crossAttentionNorm(attended + context.dropout(crossOut, configuration.dropout))
        return feedForwardBlock(crossed, adapter: adapters?.feedForward, context: context)
    }
}

/// What every decoder layer's cross-attention reads of one encoder output, with the encoder
/// padding mask: either each layer's keys and values, computed once (and reused for every
/// generation step), or the encoder hidden states themselves, read through the projections
/// (``BartAttention/callAsFunction(_:source:mask:context:)``; cheaper for a few decoder rows per item).
struct CrossAttentionState {
    /// Per layer `(items, S, C)`; empty when `source` is set.
    var keys: [Tensor]
    var values: [Tensor]
    /// `(items, S, C)` encoder hidden states when keys and values are not computed.
    var source: Tensor?
    var mask: AttentionMask

    /// Number of encoder rows (examples).
    var items: Int { source?.shape[0] ?? keys[0].shape[0] }

    /// The state of the given items only, in that order (dropping finished items in generation).
    func selecting(items: [Int]) -> CrossAttentionState {
        CrossAttentionState(keys: keys.map { $0.gatheringRows(items) }, values: values.map { $0.gatheringRows(items) },
                            source: source?.gatheringRows(items),
                            mask: AttentionMask(keyPadding: mask.keyPadding.map { rows in items.map { rows[$0] } }))
    }
}

/// How the decoder's cross-attention reads the encoder output (internal: tests force each way).
enum CrossAttentionPolicy {
    /// Through the projections when that needs fewer multiply-adds (forward, and backward when
    /// gradients are recorded), for teacher-forced decoding.
    case automatic
    /// Always the keys and values.
    case keysAndValues
    /// Through the projections whenever the state serves one teacher-forced pass (no cache).
    case throughProjections
}

/// Token embedding (scaled), learned positions from row 2 on, embedding LayerNorm and dropout:
/// the input block of the encoder and the decoder.
struct EmbeddingBlock {
    let tokens: Embedding
    let positions: Embedding
    let norm: LayerNorm
    let scale: Float

    /// `(N, T, C)` word embeddings of `ids` (row-major `N x T`) times the embedding scale.
    func words(_ ids: [Int32], batchSize: Int, length: Int) -> Tensor {
        let embedded = tokens(ids, shape: [batchSize, length])
        return scale == 1 ? embedded : embedded * scale
    }

    /// LayerNorm(x + position rows `start + 2 ..< start + 2 + T`), then dropout.
    func positioned(_ x: Tensor, start: Int, dropout: Float, context: ForwardContext) -> Tensor {
        context.dropout(normalized(x, start: start), dropout)
    }

    /// LayerNorm(x + position rows `start + 2 ..< start + 2 + T`) for `x` `(N, T, C)`.
    func normalized(_ x: Tensor, start: Int) -> Tensor {
        norm(x + positions.weight.tensor.slice(axis: 0, (start + 2)..<(start + 2 + x.shape[1])))
    }
}

/// The encoder (`BartEncoder`).
public final class BartEncoder: Module {
    @Key("embed_tokens") var tokenEmbedding: Embedding
    @Key("embed_positions") var positionEmbedding: Embedding
    /// The layers, in order.
    public let layers: [BartEncoderLayer]
    @Key("layernorm_embedding") var embeddingNorm: LayerNorm
    let configuration: BartConfiguration

    init(_ configuration: BartConfiguration, sharedEmbedding: Embedding, initializer: inout WeightInitializer) {
        self.configuration = configuration
        let positions = Embedding(weight: initializer.normal([configuration.maximumPositions + 2, configuration.hiddenSize]))
        var layers: [BartEncoderLayer] = []
        for _ in 0..<configuration.encoderLayers { layers.append(BartEncoderLayer(configuration, initializer: &initializer)) }
        self.layers = layers
        super.init()
        tokenEmbedding = sharedEmbedding
        positionEmbedding = positions
        embeddingNorm = LayerNorm(configuration.hiddenSize)
    }

    /// `(B, n + T, C)` hidden states; `ids` are already validated and padded with the pad id.
    func callAsFunction(_ ids: [Int32], batchSize: Int, length: Int, mask: AttentionMask, prompt: PromptInput?,
                        adapters: [LayerAdapters]?, context: ForwardContext) -> Tensor {
        let block = EmbeddingBlock(tokens: tokenEmbedding, positions: positionEmbedding, norm: embeddingNorm,
                                   scale: configuration.embeddingScale)
        var x = block.words(ids, batchSize: batchSize, length: length)
        var start = 0
        if let prompt, prompt.length > 0, projectsPromptApart, let first = layers.first,
           !(context.training && configuration.encoderLayerDrop > 0) {
            let (input, projections) = firstLayerInput(words: x, prompt: prompt, block: block, layer: first,
                                                       context: context)
            x = first(input, projections: projections, mask: mask, adapters: adapters?[0], context: context)
            start = 1
        } else {
            if let prompt {
                // The prompt is not scaled: it stands in for an already embedded token.
                x = Tensor.concatenate([prompt.perExampleTensor(batchSize: batchSize), x], axis: 1)
            }
            x = block.positioned(x, start: 0, dropout: configuration.dropout, context: context)
        }
        for (i, layer) in layers.enumerated().dropFirst(start) where !context.skipsLayer(configuration.encoderLayerDrop) {
            x = layer(x, mask: mask, adapters: adapters?[i], context: context)
        }
        return x
    }

    /// Whether the first layer projects the prompt rows apart from the text rows
    /// (``firstLayerInput(words:prompt:block:layer:context:)``); tests turn it off to compare.
    var projectsPromptApart = true

    /// The first layer's input `(B, n + T, C)` and its query/key/value projections, the prompt rows
    /// projected apart from the text rows — the same values as embedding the concatenation and
    /// projecting it, with less work for prompt tuning:
    /// - the text rows (word embeddings of a frozen model) are constants, so their projections record
    ///   no gradient: the first layer's q/k/v input gradients of B T rows, ~1% of a base-size
    ///   prompt-tuning step, are not computed;
    /// - a prompt shared by the batch is embedded and projected once, not B times, when no dropout
    ///   makes its rows differ between examples (inference, or training with `dropout` 0).
    /// With dropout the mask is the one `positioned` draws for the concatenation (same shape, same
    /// order), applied to each part, so the result is the same from the same random state.
    func firstLayerInput(words: Tensor, prompt: PromptInput, block: EmbeddingBlock, layer: BartEncoderLayer,
                         context: ForwardContext) -> (input: Tensor, projections: AttentionProjections) {
        let (b, t, c) = (words.shape[0], words.shape[1], words.shape[2])
        let n = prompt.length
        var text = block.normalized(words, start: n)  // (B, T, C)
        var promptRows: Tensor  // (B, n, C), or (1, n, C) for a shared prompt without dropout
        let dropping = context.training && configuration.dropout > 0
        if !dropping, case .shared(let p) = prompt {
            promptRows = block.normalized(p.unsqueezed(0), start: 0)
        } else {
            promptRows = block.normalized(prompt.perExampleTensor(batchSize: b), start: 0)
        }
        if dropping {
            let keep = context.dropout(Tensor.ones([b, n + t, c]), configuration.dropout)
            promptRows = promptRows * keep.slice(axis: 1, 0..<n)
            text = text * keep.slice(axis: 1, n..<(n + t))
        }
        func joined(_ rows: Tensor, _ rest: Tensor) -> Tensor {
            let perExample = rows.shape[0] == b ? rows : rows.broadcast(to: [b, n, c])
            return Tensor.concatenate([perExample, rest], axis: 1)
        }
        func projected(_ linear: Linear) -> Tensor { joined(linear(promptRows), linear(text)) }
        let attention = layer.selfAttention
        return (joined(promptRows, text),
                AttentionProjections(query: projected(attention.queryProjection), key: projected(attention.keyProjection),
                                     value: projected(attention.valueProjection)))
    }
}

/// The decoder (`BartDecoder`).
public final class BartDecoder: Module {
    @Key("embed_tokens") var tokenEmbedding: Embedding
    @Key("embed_positions") var positionEmbedding: Embedding
    /// The layers, in order.
    public let layers: [BartDecoderLayer]
    @Key("layernorm_embedding") var embeddingNorm: LayerNorm
    let configuration: BartConfiguration

    init(_ configuration: BartConfiguration, sharedEmbedding: Embedding, initializer: inout WeightInitializer) {
        self.configuration = configuration
        let positions = Embedding(weight: initializer.normal([configuration.maximumPositions + 2, configuration.hiddenSize]))
        var layers: [BartDecoderLayer] = []
        for _ in 0..<configuration.decoderLayers { layers.append(BartDecoderLayer(configuration, initializer: &initializer)) }
        self.layers = layers
        super.init()
        tokenEmbedding = sharedEmbedding
        positionEmbedding = positions
        embeddingNorm = LayerNorm(configuration.hiddenSize)
    }

    /// What every layer's cross-attention reads of `encoderOutput`.
    ///
    /// - Parameters:
    ///   - queriesPerItem: decoder rows times positions per encoder row in the one teacher-forced
    ///     pass that will use the state; nil (the default) for a state reused across calls, as in
    ///     generation: then always keys and values.
    ///   - policy: keys and values, or the encoder output read through the projections.
    func crossAttentionState(_ encoderOutput: EncoderOutput, queriesPerItem: Int? = nil,
                             policy: CrossAttentionPolicy = .automatic) -> CrossAttentionState {
        let h = encoderOutput.hiddenStates
        let mask = AttentionMask(keyPadding: encoderOutput.mask)
        if let queriesPerItem {
            let folds = switch policy {
            case .automatic:
                Tensor.sourceAttentionSavesWork(queries: queriesPerItem, sourceLength: h.shape[1],
                                                width: configuration.hiddenSize, heads: configuration.decoderHeads,
                                                backward: GradientRecording.isEnabled)
            case .keysAndValues: false
            case .throughProjections: true
            }
            if folds { return CrossAttentionState(keys: [], values: [], source: h, mask: mask) }
        }
        return CrossAttentionState(keys: layers.map { $0.crossAttention.keyProjection(h) },
                                   values: layers.map { $0.crossAttention.valueProjection(h) },
                                   source: nil, mask: mask)
    }

    /// `(N, T, C)` hidden states for decoder tokens at positions `cache.length ..< +T` (0 without
    /// a cache). LayerDrop is not applied with a cache (generation runs in inference mode).
    func callAsFunction(_ ids: [Int32], batchSize: Int, length: Int, cross: CrossAttentionState, cache: KeyValueCache?,
                        adapters: [LayerAdapters]?, context: ForwardContext) -> Tensor {
        let block = EmbeddingBlock(tokens: tokenEmbedding, positions: positionEmbedding, norm: embeddingNorm,
                                   scale: configuration.embeddingScale)
        var x = block.positioned(block.words(ids, batchSize: batchSize, length: length), start: cache?.length ?? 0,
                                 dropout: configuration.dropout, context: context)
        for (i, layer) in layers.enumerated() where cache != nil || !context.skipsLayer(configuration.decoderLayerDrop) {
            x = layer(x, cross: cross, layer: i, cache: cache, adapters: adapters?[i], context: context)
        }
        cache?.advance(by: length)
        return x
    }
}

/// The encoder's result for a batch: hidden states and the key mask the decoder's
/// cross-attention uses (prompt positions included, as attended).
public struct EncoderOutput {
    /// `(B, S, C)` with S = prompt length + input length.
    public let hiddenStates: Tensor
    /// `B` rows of `S` flags: `true` where the decoder may attend.
    public let mask: [[Bool]]

    /// Number of examples.
    public var batchSize: Int { hiddenStates.shape[0] }
}

/// BART with its language-modelling head (`BartForConditionalGeneration`), frozen or trainable,
/// with soft prompts and adapters.
///
/// ```swift
/// let model = try BartForConditionalGeneration.load(from: URL(fileURLWithPath: "bart-base"))
/// let batch = TaskBatch(inputs: TokenBatch(inputRows, paddingID: 1), targets: TokenBatch(targetRows, paddingID: 1))
/// let loss = try model.loss(batch: batch, prompt: .shared(prompt.tensor))   // label-smoothed, summed
/// loss.backward()                                                          // prompt.gradient is set
/// ```
///
/// Parameters are named by their BartModel checkpoint path (`shared.weight`,
/// `encoder.layers.0.self_attn.q_proj.weight`, ...); the shared embedding is one parameter reached
/// under `shared`, `encoder.embed_tokens` and `decoder.embed_tokens`, counted once.
/// `final_logits_bias` is a buffer, not a parameter (as in transformers).
public final class BartForConditionalGeneration: Module {
    /// The architecture.
    public let configuration: BartConfiguration
    /// Generation defaults, from the folder's `generation_config.json` (else its `config.json`).
    public var generationConfiguration: GenerationConfiguration
    /// The token embedding shared by encoder, decoder and LM head.
    @Key("shared") public private(set) var sharedEmbedding: Embedding
    /// The encoder.
    public let encoder: BartEncoder
    /// The decoder.
    public let decoder: BartDecoder
    /// `(V)`: added to the logits; zeros unless the checkpoint has `final_logits_bias`. A frozen
    /// buffer: no gradient, not among the parameters.
    public internal(set) var finalLogitsBias: Tensor
    /// The source of dropout masks in training mode; reseed it for reproducible runs.
    public let randomSource: RandomSource
    /// How teacher-forced decoding reads the encoder output in cross-attention; tests force each way.
    var crossAttentionPolicy = CrossAttentionPolicy.automatic

    /// A randomly initialised model (transformers' `_init_weights`: weights N(0, `init_std`), the
    /// pad row of the embedding zero, biases zero, LayerNorms one/zero).
    ///
    /// - Parameters:
    ///   - configuration: the architecture.
    ///   - generator: source of the initial weights.
    ///   - dropoutSeed: seed of ``randomSource``; default 0.
    public convenience init(configuration: BartConfiguration, generator: inout RandomGenerator, dropoutSeed: UInt64 = 0) {
        var initializer = WeightInitializer(generator: generator, isRandom: true,
                                            standardDeviation: configuration.initializationStandardDeviation)
        self.init(configuration: configuration, initializer: &initializer, dropoutSeed: dropoutSeed)
        generator = initializer.generator
    }

    /// A model with zero weights (LayerNorms at one), to be filled by
    /// ``load(checkpoint:source:)``; cheap even at full size.
    ///
    /// - Parameters:
    ///   - configuration: the architecture.
    ///   - dropoutSeed: seed of ``randomSource``; default 0.
    public convenience init(configuration: BartConfiguration, dropoutSeed: UInt64 = 0) {
        var initializer = WeightInitializer(generator: RandomGenerator(seed: 0), isRandom: false, standardDeviation: 0)
        self.init(configuration: configuration, initializer: &initializer, dropoutSeed: dropoutSeed)
    }

    init(configuration: BartConfiguration, initializer: inout WeightInitializer, dropoutSeed: UInt64) {
        self.configuration = configuration
        generationConfiguration = GenerationConfiguration(modelConfiguration: configuration)
        var table = initializer.normal([configuration.vocabularySize, configuration.hiddenSize])
        table.withUnsafeMutableBufferPointer { t in
            let row = Int(configuration.padTokenID) * configuration.hiddenSize
            for j in 0..<configuration.hiddenSize { t[row + j] = 0 }
        }
        let shared = Embedding(weight: table)
        encoder = BartEncoder(configuration, sharedEmbedding: shared, initializer: &initializer)
        decoder = BartDecoder(configuration, sharedEmbedding: shared, initializer: &initializer)
        finalLogitsBias = Tensor.zeros([configuration.vocabularySize])
        randomSource = RandomSource(seed: dropoutSeed)
        super.init()
        sharedEmbedding = shared
    }

    /// Dropout on in training mode.
    var context: ForwardContext { ForwardContext(training: isTraining, randomSource: randomSource) }
    /// No dropout, whatever the mode (generation and scoring).
    var inferenceContext: ForwardContext { ForwardContext(training: false, randomSource: randomSource) }

    /// Width of the hidden states (d_model).
    public var hiddenSize: Int { configuration.hiddenSize }

    /// Positions available to prompt plus input text (and to the decoder sequence).
    public var maximumInputLength: Int { configuration.maximumPositions }

    /// The layout of the IPT adapter subspace for this model (two adapters per layer).
    ///
    /// - Parameter bottleneckSize: r; default 16 (the paper's).
    public func adapterLayout(bottleneckSize: Int = 16) -> AdapterLayout {
        AdapterLayout(encoderLayers: configuration.encoderLayers, decoderLayers: configuration.decoderLayers,
                      hiddenSize: configuration.hiddenSize, bottleneckSize: bottleneckSize)
    }

    /// The ids with padded positions set to the pad id, after checking every real id.
    func checkedIDs(_ batch: TokenBatch) throws -> [Int32] {
        try batch.checkedIDs(vocabularySize: configuration.vocabularySize, paddingID: configuration.padTokenID)
    }

    /// Runs the encoder.
    ///
    /// - Parameters:
    ///   - inputs: input ids (with `<s>` … `</s>`), padded.
    ///   - prompt: soft prompt vectors placed ahead of the text; default none.
    ///   - adapters: adapter weights for every layer; default none.
    /// - Throws: ``ModelInputError`` for ids outside the vocabulary, a prompt of the wrong shape or
    ///   prompt + text longer than the position table.
    public func encode(_ inputs: TokenBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil) throws -> EncoderOutput {
        try encode(inputs, prompt: prompt, adapters: adapters, context: context)
    }

    func encode(_ inputs: TokenBatch, prompt: PromptInput?, adapters: AdapterWeights?,
                context: ForwardContext) throws -> EncoderOutput {
        let promptLength = prompt?.length ?? 0
        try prompt?.validate(hiddenSize: hiddenSize, batchSize: inputs.batchSize)
        try adapters?.validate(encoderLayers: configuration.encoderLayers, decoderLayers: configuration.decoderLayers,
                               hiddenSize: hiddenSize)
        try checkInputLength(promptLength: promptLength, textLength: inputs.length)
        let ids = try checkedIDs(inputs)
        let mask = inputs.maskRows.map { Array(repeating: true, count: promptLength) + $0 }
        let hidden = encoder(ids, batchSize: inputs.batchSize, length: inputs.length, mask: AttentionMask(keyPadding: mask),
                             prompt: prompt, adapters: adapters?.encoder, context: context)
        return EncoderOutput(hiddenStates: hidden, mask: mask)
    }

    /// Teacher-forced decoder hidden states `(N, T, C)`.
    ///
    /// - Parameters:
    ///   - decoderInputs: decoder ids (e.g. ``shiftedRight(_:)`` of the targets); N must be a
    ///     multiple of the encoder batch size B: rows `i * N/B ..< (i+1) * N/B` read example i
    ///     (several options per example without repeating the encoder output).
    ///   - encoderOutput: from ``encode(_:prompt:adapters:)``.
    ///   - adapters: adapter weights; default none.
    public func decode(_ decoderInputs: TokenBatch, encoderOutput: EncoderOutput,
                       adapters: AdapterWeights? = nil) throws -> Tensor {
        try decode(decoderInputs, encoderOutput: encoderOutput, adapters: adapters, context: context)
    }

    func decode(_ decoderInputs: TokenBatch, encoderOutput: EncoderOutput, adapters: AdapterWeights?,
                context: ForwardContext) throws -> Tensor {
        guard decoderInputs.batchSize % encoderOutput.batchSize == 0 else {
            throw ModelInputError.invalidGeneration(problem: "\(decoderInputs.batchSize) decoder rows for \(encoderOutput.batchSize) encoder rows")
        }
        if decoderInputs.length > configuration.maximumPositions {
            throw ModelInputError.targetTooLong(length: decoderInputs.length, maximum: configuration.maximumPositions)
        }
        try adapters?.validate(encoderLayers: configuration.encoderLayers, decoderLayers: configuration.decoderLayers,
                               hiddenSize: hiddenSize)
        let ids = try checkedIDs(decoderInputs)
        let perItem = decoderInputs.batchSize / Swift.max(encoderOutput.batchSize, 1) * decoderInputs.length
        let cross = decoder.crossAttentionState(encoderOutput, queriesPerItem: perItem, policy: crossAttentionPolicy)
        return decoder(ids, batchSize: decoderInputs.batchSize, length: decoderInputs.length,
                       cross: cross, cache: nil, adapters: adapters?.decoder, context: context)
    }

    /// LM-head logits `(..., V)`: hidden states times the shared embedding, plus `final_logits_bias`.
    public func logits(_ hidden: Tensor) -> Tensor {
        Tensor.linear(hidden, weight: sharedEmbedding.weight.tensor, bias: finalLogitsBias)
    }

    /// Decoder inputs for teacher forcing, transformers' `shift_tokens_right`: the decoder start
    /// token, then the targets without their last position; padded positions read the pad id.
    public func shiftedRight(_ targets: TokenBatch) -> TokenBatch {
        var ids: [Int32] = []
        ids.reserveCapacity(targets.ids.count)
        for row in 0..<targets.batchSize where targets.length > 0 {
            ids.append(configuration.decoderStartTokenID)
            for t in 0..<(targets.length - 1) {
                let i = row * targets.length + t
                ids.append(targets.mask[i] ? targets.ids[i] : configuration.padTokenID)
            }
        }
        return TokenBatch(ids: ids, batchSize: targets.batchSize, length: targets.length)
    }

    /// Teacher-forced logits `(B, T, V)` of a task batch.
    ///
    /// - Parameters:
    ///   - batch: inputs and targets.
    ///   - prompt, adapters: as in ``encode(_:prompt:adapters:)``.
    public func logits(batch: TaskBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil) throws -> Tensor {
        try logits(batch: batch, prompt: prompt, adapters: adapters, context: context)
    }

    func logits(batch: TaskBatch, prompt: PromptInput?, adapters: AdapterWeights?, context: ForwardContext) throws -> Tensor {
        let encoded = try encode(batch.inputs, prompt: prompt, adapters: adapters, context: context)
        return logits(try decode(shiftedRight(batch.targets), encoderOutput: encoded, adapters: adapters, context: context))
    }

    /// The IPT training loss: label-smoothed cross entropy (fairseq's, ε = 0.1 in the paper) over
    /// the non-padded target tokens.
    ///
    /// - Parameters:
    ///   - batch: inputs and targets.
    ///   - prompt, adapters: as in ``encode(_:prompt:adapters:)``.
    ///   - epsilon: label smoothing; default 0.1.
    ///   - reduction: `.sum` over tokens (the paper, the default) or `.mean`.
    /// - Returns: a scalar; call `backward()` on it.
    public func loss(batch: TaskBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil,
                     epsilon: Float = 0.1, reduction: LossReduction = .sum) throws -> Tensor {
        let targets = try countedTargets(batch.targets)
        let scores = try logits(batch: batch, prompt: prompt, adapters: adapters)
        return Tensor.labelSmoothedCrossEntropy(logits: scores, targets: targets, epsilon: epsilon, reduction: reduction)
    }

    /// Per example, the mean negative log-likelihood of its target tokens (no smoothing, no
    /// dropout): the "nll" of `ipt-cli evaluate` is the mean of these.
    public func targetNLL(batch: TaskBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil) throws -> [Float] {
        try withoutGradients {
            let targets = try countedTargets(batch.targets)
            let scores = try logits(batch: batch, prompt: prompt, adapters: adapters, context: inferenceContext)
            let perToken = Tensor.labelSmoothedCrossEntropy(logits: scores, targets: targets, reduction: .none).scalars
            let t = batch.targets.length
            return (0..<batch.targets.batchSize).map { row in
                let range = (row * t)..<((row + 1) * t)
                let counted = range.filter { batch.targets.mask[$0] }
                return counted.isEmpty ? 0 : counted.reduce(Float(0)) { $0 + perToken[$1] } / Float(counted.count)
            }
        }
    }

    /// Target ids, checked, with -100 (ignored) at padded positions.
    func countedTargets(_ targets: TokenBatch) throws -> [Int32] {
        try zip(checkedIDs(targets), targets.mask).map { $1 ? $0 : -100 }
    }
}
