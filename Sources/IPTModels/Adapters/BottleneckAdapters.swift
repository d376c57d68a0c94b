import IPTCore

/// One trainable bottleneck adapter: `x + swish(x down) up`, no biases.
public final class BottleneckAdapter: Module {
    /// `(C, r)`.
    public let down: Parameter
    /// `(r, C)`.
    public let up: Parameter

    init(hiddenSize: Int, bottleneckSize: Int, standardDeviation: Float, generator: inout RandomGenerator) {
        down = Parameter(Tensor.randomNormal([hiddenSize, bottleneckSize], standardDeviation: standardDeviation,
                                             generator: &generator))
        up = Parameter(Tensor.zeros([bottleneckSize, hiddenSize]))
    }

    var matrices: AdapterMatrices { AdapterMatrices(down: down.tensor, up: up.tensor) }
}

/// The two adapters of one layer (attention site, feed-forward site).
public final class LayerBottleneckAdapters: Module {
    /// On the self-attention output.
    @Key("attention") public var attention: BottleneckAdapter
    /// On the feed-forward output.
    @Key("feed_forward") public var feedForward: BottleneckAdapter

    init(_ layout: AdapterLayout, standardDeviation: Float, generator: inout RandomGenerator) {
        super.init()
        attention = BottleneckAdapter(hiddenSize: layout.hiddenSize, bottleneckSize: layout.bottleneckSize,
                                      standardDeviation: standardDeviation, generator: &generator)
        feedForward = BottleneckAdapter(hiddenSize: layout.hiddenSize, bottleneckSize: layout.bottleneckSize,
                                        standardDeviation: standardDeviation, generator: &generator)
    }
}

/// Ordinary trainable Houlsby-placed bottleneck adapters (after self-attention and after the
/// feed-forward block of every layer, swish, no biases), feeding the same forward path as the
/// paper's hypernetwork-generated adapters.
///
/// Initialisation: `down` ~ N(0, `standardDeviation`) and `up` = 0 (AdapterHub's "mam" choice of a
/// zero up-projection), so every adapter starts as the identity and the model starts at the
/// pretrained function. Parameter keys: `encoder.<i>.attention.down`, `…feed_forward.up`, etc.
public final class BottleneckAdapters: Module {
    /// Adapters of the encoder layers.
    public let encoder: [LayerBottleneckAdapters]
    /// Adapters of the decoder layers.
    public let decoder: [LayerBottleneckAdapters]
    /// The shapes.
    public let layout: AdapterLayout

    /// - Parameters:
    ///   - layout: layer counts, width and bottleneck size (see ``BartForConditionalGeneration/adapterLayout(bottleneckSize:)``).
    ///   - standardDeviation: of the `down` initialisation; default 0.02.
    ///   - generator: source of the initial values.
    public init(layout: AdapterLayout, standardDeviation: Float = 0.02, generator: inout RandomGenerator) {
        self.layout = layout
        var encoder: [LayerBottleneckAdapters] = []
        for _ in 0..<layout.encoderLayers {
            encoder.append(LayerBottleneckAdapters(layout, standardDeviation: standardDeviation, generator: &generator))
        }
        var decoder: [LayerBottleneckAdapters] = []
        for _ in 0..<layout.decoderLayers {
            decoder.append(LayerBottleneckAdapters(layout, standardDeviation: standardDeviation, generator: &generator))
        }
        self.encoder = encoder
        self.decoder = decoder
    }

    /// The weights for a forward pass (with gradient leaves for trainable parameters).
    public var weights: AdapterWeights {
        func layer(_ a: LayerBottleneckAdapters) -> LayerAdapters {
            LayerAdapters(attention: a.attention.matrices, feedForward: a.feedForward.matrices)
        }
        return AdapterWeights(encoder: encoder.map(layer), decoder: decoder.map(layer))
    }
}
