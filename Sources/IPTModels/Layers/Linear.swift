import IPTCore

/// `y = x W^T + b`, with PyTorch's layout (`weight`: `(out, in)`) and default initialisation
/// (weight and bias uniform in ±1/sqrt(in)).
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    /// - Parameters:
    ///   - inputSize, outputSize: feature counts.
    ///   - bias: whether to add a bias; default `true`.
    ///   - generator: source of the initial values (PyTorch's default init: U(±1/sqrt(in))).
    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        let bound = 1 / Float(inputSize).squareRoot()
        weight = Parameter(Tensor.randomUniform([outputSize, inputSize], low: -bound, high: bound, generator: &generator))
        self.bias = bias ? Parameter(Tensor.randomUniform([outputSize], low: -bound, high: bound, generator: &generator)) : nil
    }

    /// Wraps given values.
    public init(weight: Tensor, bias: Tensor?) {
        self.weight = Parameter(weight)
        self.bias = bias.map { Parameter($0) }
    }

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    /// - Parameter x: `(..., in)`. - Returns: `(..., out)`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight.tensor, bias: bias?.tensor)
    }
}
