import IPTCore
import IPTModels

/// The paper's adapter subspace (ipt-reference.md §4.4): a linear hypernetwork from an intrinsic
/// vector z (d) to the weights of every adapter, `theta_adapters = H^T z`.
///
/// The original gives each adapter its own `hyper_adapter_A`, `hyper_adapter_B` (d x 12,288,
/// N(0, 0.02)); stacked they are one matrix H (d x P), P = the layout's parameter count, in the
/// layout's order (see ``AdapterLayout``). Key: `projection`.
public final class AdapterHypernetwork: Module {
    /// H, (d, P).
    public let projection: Parameter
    public let layout: AdapterLayout

    /// - Parameters:
    ///   - layout: where the adapters go and their bottleneck width.
    ///   - dimension: d.
    ///   - standardDeviation: of H's normal initialisation; default 0.02.
    public init(layout: AdapterLayout, dimension: Int, standardDeviation: Float = 0.02, generator: inout RandomGenerator) {
        self.layout = layout
        projection = Parameter(Tensor.randomNormal([dimension, layout.parameterCount], standardDeviation: standardDeviation,
                                                   generator: &generator))
    }

    /// Wraps a given H.
    public init(layout: AdapterLayout, projection: Tensor) {
        precondition(projection.rank == 2 && projection.shape[1] == layout.parameterCount,
                     "hypernetwork projection \(projection.shape) does not fit \(layout.parameterCount) adapter parameters")
        self.layout = layout
        self.projection = Parameter(projection)
    }

    public var dimension: Int { projection.shape[0] }

    /// The adapter weights of z (d), differentiable with respect to z and H.
    public func weights(for z: Tensor) -> AdapterWeights {
        let flat = Tensor.matmul(z.reshaped([1, dimension]), projection.tensor).reshaped([layout.parameterCount])
        return layout.weights(from: flat)
    }
}
