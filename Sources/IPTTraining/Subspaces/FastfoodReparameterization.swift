import IPTCore

/// Moves chosen weights of a model inside a random d-dimensional subspace: every tensor i becomes
/// `theta_i = theta0_i + lambda_i * Fastfood_i(z)` (ipt-reference.md §5; Aghajanyan et al.'s DID,
/// and with trainable per-tensor scalars `lambda` their structure-aware SAID).
///
/// The model's own parameters hold theta; theta0 is kept by reference to the values the model had
/// (so a checkpoint read by memory-mapping stays in the page cache, not in a second copy). The
/// gradient of z is exact: the weights' gradients from an ordinary backward are pulled back through
/// each tensor's transpose (``FastfoodTransform/applyTransposed(_:addingTo:factor:workspace:)``).
/// The original's autograd gave each tensor's contribution 1/L_i of its true size; that behaviour
/// is available as `legacyGradientScaling` only to reproduce old numbers.
public final class FastfoodReparameterization {
    public let projection: FastfoodProjection
    /// The intrinsic vector z (d), initialised to zero: training starts at the pretrained weights.
    public let z: Parameter
    /// Per-tensor scalars lambda (initialised to one) when structure-aware; `nil` otherwise.
    public let scalars: Parameter?
    /// Scale each tensor's gradient contribution by 1/L_i, as the original code did by accident.
    public let legacyGradientScaling: Bool
    private let targets: [(key: String, parameter: Parameter, initial: Tensor)]
    private let workspace = FastfoodWorkspace()

    /// - Parameters:
    ///   - parameters: the tensors to move (keys and parameters of the model).
    ///   - dimension: d.
    ///   - seed: selects the random projections (saved with the artifact).
    ///   - structureAware: add trainable per-tensor scalars (SAID); default `false` (what the paper ran).
    ///   - legacyGradientScaling: see the type's documentation; default `false`.
    public init(parameters: [(key: String, parameter: Parameter)], dimension: Int, seed: UInt64,
                structureAware: Bool = false, legacyGradientScaling: Bool = false) {
        precondition(!parameters.isEmpty && dimension >= 1, "Fastfood needs tensors and d >= 1")
        projection = FastfoodProjection(dimension: dimension, tensors: parameters.map { ($0.key, $0.parameter.value.count) }, seed: seed)
        targets = parameters.map { ($0.key, $0.parameter, $0.parameter.value) }
        z = Parameter(Tensor.zeros([dimension]))
        scalars = structureAware ? Parameter(Tensor.ones([parameters.count])) : nil
        self.legacyGradientScaling = legacyGradientScaling
        for t in targets { t.parameter.isTrainable = true }  // their gradients feed z's
    }

    /// The trained parameters: z, and lambda when structure-aware.
    public var trainableParameters: [(key: String, parameter: Parameter)] {
        [("z", z)] + (scalars.map { [("scalars", $0)] } ?? [])
    }

    /// Keys of the moved tensors, in projection order.
    public var keys: [String] { targets.map(\.key) }

    /// Writes `theta0 + lambda * Fastfood(z)` into every moved tensor.
    public func apply() {
        let lambdas = scalars?.value.scalars
        z.value.withUnsafeBufferPointer { zp in
            for (index, target) in targets.enumerated() {
                let transform = projection.transforms[index].transform
                var theta = target.parameter.value
                target.parameter.value = target.initial  // drop the parameter's reference: theta is unique
                target.initial.withUnsafeBufferPointer { initial in
                    theta.withUnsafeMutableBufferPointer { out in
                        // theta shares storage with theta0 only before the first apply; the write
                        // above made a private copy, which is reused from then on.
                        out.baseAddress!.update(from: initial.baseAddress!, count: out.count)
                        transform.apply(zp.baseAddress!, addingTo: out.baseAddress!, factor: lambdas?[index] ?? 1,
                                        workspace: workspace)
                    }
                }
                target.parameter.value = theta
            }
        }
    }

    /// Puts theta0 back into every moved tensor and freezes them again (the model is as before).
    public func restore() {
        for target in targets {
            target.parameter.value = target.initial
            target.parameter.zeroGradient()
            target.parameter.isTrainable = false
        }
    }

    /// Pulls the moved tensors' gradients back to z (and lambda), then clears them.
    public func accumulateGradients() {
        let d = projection.dimension
        var gradientZ = [Float](repeating: 0, count: d)
        var gradientScalars = [Float](repeating: 0, count: targets.count)
        let lambdas = scalars?.value.scalars
        let zValues = z.value
        for (index, target) in targets.enumerated() {
            guard let g = target.parameter.gradient else { continue }
            let transform = projection.transforms[index].transform
            var factor = lambdas?[index] ?? 1
            if legacyGradientScaling { factor /= Float(transform.length) }
            g.withUnsafeBufferPointer { gp in
                gradientZ.withUnsafeMutableBufferPointer { out in
                    transform.applyTransposed(gp.baseAddress!, addingTo: out.baseAddress!, factor: factor, workspace: workspace)
                }
            }
            if scalars != nil {
                // d loss / d lambda_i = <g_i, Fastfood_i(z)>
                var delta = [Float](repeating: 0, count: transform.count)
                zValues.withUnsafeBufferPointer { zp in
                    delta.withUnsafeMutableBufferPointer { transform.apply(zp.baseAddress!, addingTo: $0.baseAddress!, workspace: workspace) }
                }
                var dot = 0.0
                g.withUnsafeBufferPointer { gp in for i in 0..<delta.count { dot += Double(gp[i]) * Double(delta[i]) } }
                gradientScalars[index] = Float(dot)
            }
            target.parameter.zeroGradient()
        }
        z.accumulateGradient(Tensor(gradientZ))
        scalars?.accumulateGradient(Tensor(gradientScalars))
    }
}
