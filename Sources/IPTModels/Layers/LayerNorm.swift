import IPTCore

/// Layer normalisation over the last axis with learned scale (`weight`) and shift (`bias`).
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let epsilon: Float

    /// - Parameters:
    ///   - size: the normalised width.
    ///   - epsilon: added to the variance; default 1e-5 (BART).
    public init(_ size: Int, epsilon: Float = 1e-5) {
        weight = Parameter(Tensor.ones([size]))
        bias = Parameter(Tensor.zeros([size]))
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.layerNorm(x, weight: weight.tensor, bias: bias.tensor, epsilon: epsilon)
    }
}
