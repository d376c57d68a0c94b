import IPTCore

/// A lookup table of `count` vectors of width `width`.
public final class Embedding: Module {
    public let weight: Parameter

    /// - Parameters:
    ///   - count, width: table shape.
    ///   - standardDeviation: of the normal initialisation; default 0.02 (BART's `init_std`).
    public init(_ count: Int, _ width: Int, standardDeviation: Float = 0.02, generator: inout RandomGenerator) {
        weight = Parameter(Tensor.randomNormal([count, width], standardDeviation: standardDeviation, generator: &generator))
    }

    /// Wraps a given table `(count, width)`.
    public init(weight: Tensor) {
        precondition(weight.rank == 2, "embedding table must be (count, width), got \(weight.shape)")
        self.weight = Parameter(weight)
    }

    public var count: Int { weight.shape[0] }
    public var width: Int { weight.shape[1] }

    /// - Parameters:
    ///   - indices: row numbers, `shape.product` of them.
    ///   - shape: shape of `indices`; the result is `shape + [width]`.
    public func callAsFunction(_ indices: [Int32], shape: [Int]) -> Tensor {
        Tensor.embedding(weight.tensor, indices: indices, indexShape: shape)
    }
}
