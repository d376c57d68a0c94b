import IPTCore
import IPTModels

/// A d-dimensional family of soft prompts: intrinsic vectors z map to prompts (n x h).
///
/// Intrinsic subspace tuning trains only z; the subspace is fixed. Implementations: the learned
/// nonlinear decoder of subspace finding (``PromptDecoder``), the same architecture with random
/// weights (the paper's random prompt subspace), and a linear subspace spanned by principal
/// directions (``LinearPromptSubspace``). An experimenter can plug in their own (a deeper decoder,
/// another linear map) by conforming to this protocol.
public protocol PromptSubspace: AnyObject {
    /// d.
    var dimension: Int { get }
    /// n, prompt tokens.
    var promptLength: Int { get }
    /// h, the model's hidden size.
    var hiddenSize: Int { get }
    /// Prompts for a batch of intrinsic vectors.
    ///
    /// - Parameter z: `(B, d)`.
    /// - Returns: `(B, n, h)`, differentiable with respect to `z`.
    func prompts(for z: Tensor) -> Tensor
}

extension PromptSubspace {
    /// The prompt of one intrinsic vector: `(d)` -> `(n, h)`.
    public func prompt(for z: Tensor) -> Tensor {
        prompts(for: z.reshaped([1, dimension])).reshaped([promptLength, hiddenSize])
    }
}

/// The decoder of the paper's prompt autoencoder (ipt-reference.md §3.1, `AE_type` 1):
/// `P* = W3 tanh(W2 z + b2) + b3`, reshaped to (n, h).
///
/// Keys: `hidden.weight` (W2, (hidden, d)), `hidden.bias`, `output.weight` (W3, (n h, hidden)),
/// `output.bias`. With fresh (untrained) weights it is the paper's random prompt subspace.
public final class PromptDecoder: Module, PromptSubspace {
    public let hidden: Linear
    public let output: Linear
    public let promptLength: Int
    public let hiddenSize: Int

    /// - Parameters:
    ///   - dimension: d.
    ///   - promptLength: n.
    ///   - hiddenSize: h (the model's width).
    ///   - decoderWidth: the tanh layer's width; default 768 (hard-coded in the original).
    ///   - generator: PyTorch's default initialisation, U(±1/sqrt(fan_in)).
    public init(dimension: Int, promptLength: Int, hiddenSize: Int, decoderWidth: Int = 768,
                generator: inout RandomGenerator) {
        hidden = Linear(dimension, decoderWidth, generator: &generator)
        output = Linear(decoderWidth, promptLength * hiddenSize, generator: &generator)
        self.promptLength = promptLength
        self.hiddenSize = hiddenSize
    }

    public var dimension: Int { hidden.inputSize }
    public var decoderWidth: Int { hidden.outputSize }

    public func prompts(for z: Tensor) -> Tensor {
        let batch = z.shape[0]
        return output(hidden(z).tanh()).reshaped([batch, promptLength, hiddenSize])
    }
}

/// The paper's prompt autoencoder: `z = W1 vec(P) + b1` (no activation), then ``PromptDecoder``.
/// Keys: `encoder.weight` (W1, (d, n h)), `encoder.bias`, `decoder.*`.
public final class PromptAutoencoder: Module {
    public let encoder: Linear
    public let decoder: PromptDecoder

    /// - Parameters: as ``PromptDecoder``; the encoder is Linear(n h -> d) with PyTorch's default init.
    public init(dimension: Int, promptLength: Int, hiddenSize: Int, decoderWidth: Int = 768,
                generator: inout RandomGenerator) {
        encoder = Linear(promptLength * hiddenSize, dimension, generator: &generator)
        decoder = PromptDecoder(dimension: dimension, promptLength: promptLength, hiddenSize: hiddenSize,
                                decoderWidth: decoderWidth, generator: &generator)
    }

    public var dimension: Int { decoder.dimension }

    /// The parameter values of an autoencoder of these sizes — encoder (n h + 1) d, decoder
    /// (d + 1) width + (width + 1) n h — or nil when the count does not fit in an `Int`; for
    /// checking sizes from outside before one is built.
    public static func parameterCount(dimension d: Int, promptLength n: Int, hiddenSize h: Int, decoderWidth width: Int) -> Int? {
        var count = ElementCount()  // (no `+ 1` on a size: they come from outside)
        for factors in [[n, h, d], [d], [d, width], [width], [width, n, h], [n, h]] { count.add(factors) }
        return count.total
    }

    /// Intrinsic vectors of prompts: `(B, n, h)` -> `(B, d)`.
    public func encode(_ prompts: Tensor) -> Tensor {
        encoder(prompts.reshaped([prompts.shape[0], decoder.promptLength * decoder.hiddenSize]))
    }

    /// Reconstructions: `(B, n, h)` -> `(B, n, h)`.
    public func callAsFunction(_ prompts: Tensor) -> Tensor {
        decoder.prompts(for: encode(prompts))
    }
}

/// An affine subspace `P = mean + reshape(V z)` with orthonormal directions V (n h x d): the
/// top-d principal directions of a set of prompts (the linear baseline the paper lacks), or any
/// basis the caller gives. Keys: `mean` ((n h)), `basis` ((n h, d)).
public final class LinearPromptSubspace: Module, PromptSubspace {
    public let mean: Parameter
    public let basis: Parameter
    public let promptLength: Int
    public let hiddenSize: Int

    /// - Parameters:
    ///   - mean: `(n h)` offset.
    ///   - basis: `(n h, d)` directions.
    public init(mean: Tensor, basis: Tensor, promptLength: Int, hiddenSize: Int) {
        precondition(mean.shape == [promptLength * hiddenSize] && basis.rank == 2 && basis.shape[0] == promptLength * hiddenSize,
                     "LinearPromptSubspace: mean \(mean.shape), basis \(basis.shape) for n=\(promptLength), h=\(hiddenSize)")
        self.mean = Parameter(mean, isTrainable: false)
        self.basis = Parameter(basis, isTrainable: false)
        self.promptLength = promptLength
        self.hiddenSize = hiddenSize
    }

    public var dimension: Int { basis.shape[1] }

    public func prompts(for z: Tensor) -> Tensor {
        let batch = z.shape[0]
        let flat = Tensor.matmul(z, basis.tensor, transposeB: true) + mean.tensor  // (B, n h)
        return flat.reshaped([batch, promptLength, hiddenSize])
    }

    /// Coordinates of prompts in the subspace (least squares, V orthonormal): `(B, n, h)` -> `(B, d)`.
    public func coordinates(of prompts: Tensor) -> Tensor {
        let flat = prompts.reshaped([prompts.shape[0], promptLength * hiddenSize]) - mean.tensor
        return Tensor.matmul(flat, basis.tensor)
    }
}
