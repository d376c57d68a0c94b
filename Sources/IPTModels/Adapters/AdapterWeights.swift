import IPTCore

/// The two matrices of one bottleneck adapter, `adapter(x) = x + swish(x down) up` (no biases), as
/// in the IPT paper's adapter subspace.
public struct AdapterMatrices {
    /// `(C, r)`.
    public var down: Tensor
    /// `(r, C)`.
    public var up: Tensor

    public init(down: Tensor, up: Tensor) {
        self.down = down
        self.up = up
    }

    /// `x + swish(x down) up` over the last axis of `x`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        x + Tensor.matmul(Tensor.matmul(x, down).swish(), up)
    }
}

/// The adapters of one encoder or decoder layer.
public struct LayerAdapters {
    /// On the self-attention output, before dropout and the residual add.
    public var attention: AdapterMatrices
    /// On the feed-forward output, after fc2 and dropout, before the residual add.
    public var feedForward: AdapterMatrices

    public init(attention: AdapterMatrices, feedForward: AdapterMatrices) {
        self.attention = attention
        self.feedForward = feedForward
    }
}

/// Adapter weights for every encoder and decoder layer, passed to a forward pass.
///
/// The tensors may be outputs of a differentiable computation (a hypernetwork of an intrinsic
/// vector z): gradients flow through them. Cross-attention has no adapter (the paper's placement).
public struct AdapterWeights {
    /// One entry per encoder layer.
    public var encoder: [LayerAdapters]
    /// One entry per decoder layer.
    public var decoder: [LayerAdapters]

    public init(encoder: [LayerAdapters], decoder: [LayerAdapters]) {
        self.encoder = encoder
        self.decoder = decoder
    }

    /// Checks the layer counts and shapes against a model's (any bottleneck size).
    func validate(encoderLayers: Int, decoderLayers: Int, hiddenSize c: Int) throws {
        guard encoder.count == encoderLayers, decoder.count == decoderLayers else {
            throw ModelInputError.adapterShape(problem: "\(encoder.count) encoder and \(decoder.count) decoder layers given, "
                + "the model has \(encoderLayers) and \(decoderLayers)")
        }
        for layer in encoder + decoder {
            for m in [layer.attention, layer.feedForward] {
                let r = m.down.shape.last ?? 0
                guard m.down.rank == 2, m.down.shape[0] == c, m.up.shape == [r, c] else {
                    throw ModelInputError.adapterShape(problem: "down \(m.down.shape) and up \(m.up.shape) do not fit width \(c)")
                }
            }
        }
    }
}

/// How a flat adapter vector maps onto ``AdapterWeights``, the layout of the IPT paper's adapter
/// subspace (θ = Hᵀz, 24 adapters x 2 x 768·16 = 589,824 numbers for bart-base).
///
/// Order of the flat vector: encoder layers 0..<L, then decoder layers 0..<L'; within a layer the
/// attention-site adapter, then the feed-forward-site adapter; within an adapter `down` (C x r,
/// row-major), then `up` (r x C, row-major). Each matrix is the `.view(C, r)` / `.view(r, C)` of
/// its slice, as the paper's `hyper_adapter_A` / `hyper_adapter_B` products are.
public struct AdapterLayout: Equatable, Sendable {
    /// Encoder layer count.
    public let encoderLayers: Int
    /// Decoder layer count.
    public let decoderLayers: Int
    /// Model width C.
    public let hiddenSize: Int
    /// Bottleneck width r (the paper uses 16).
    public let bottleneckSize: Int

    public init(encoderLayers: Int, decoderLayers: Int, hiddenSize: Int, bottleneckSize: Int) {
        precondition(encoderLayers >= 0 && decoderLayers >= 0 && hiddenSize > 0 && bottleneckSize > 0,
                     "invalid adapter layout")
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        self.hiddenSize = hiddenSize
        self.bottleneckSize = bottleneckSize
    }

    /// Number of adapters: two per layer.
    public var adapterCount: Int { 2 * (encoderLayers + decoderLayers) }

    /// Numbers in one matrix, C·r.
    public var matrixSize: Int { hiddenSize * bottleneckSize }

    /// Length of the flat vector: adapters x 2 matrices x C·r.
    public var parameterCount: Int { adapterCount * 2 * matrixSize }

    /// Lays out a flat vector (length ``parameterCount``) as adapter weights. Differentiable: the
    /// gradient of anything computed from the result flows back into `flat`.
    public func weights(from flat: Tensor) -> AdapterWeights {
        precondition(flat.shape == [parameterCount], "flat adapter vector has shape \(flat.shape), expected [\(parameterCount)]")
        let c = hiddenSize, r = bottleneckSize
        let pieces = flat.split(axis: 0, sizes: Array(repeating: matrixSize, count: adapterCount * 2))
        var adapters: [AdapterMatrices] = []
        for a in 0..<adapterCount {
            adapters.append(AdapterMatrices(down: pieces[2 * a].reshaped([c, r]), up: pieces[2 * a + 1].reshaped([r, c])))
        }
        let layers = (0..<(encoderLayers + decoderLayers)).map {
            LayerAdapters(attention: adapters[2 * $0], feedForward: adapters[2 * $0 + 1])
        }
        return AdapterWeights(encoder: Array(layers.prefix(encoderLayers)), decoder: Array(layers.dropFirst(encoderLayers)))
    }

    /// The flat vector of `weights` (the inverse of ``weights(from:)``).
    public func flatten(_ weights: AdapterWeights) -> Tensor {
        var pieces: [Tensor] = []
        for layer in weights.encoder + weights.decoder {
            for m in [layer.attention, layer.feedForward] {
                pieces.append(m.down.reshaped([-1]))
                pieces.append(m.up.reshaped([-1]))
            }
        }
        let flat = Tensor.concatenate(pieces, axis: 0)
        precondition(flat.shape == [parameterCount], "adapter weights do not fit the layout")
        return flat
    }
}
