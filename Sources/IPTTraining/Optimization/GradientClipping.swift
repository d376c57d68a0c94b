import IPTCore

/// Global-norm gradient clipping, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// Scales the gradients of `parameters` so that their joint Euclidean norm is at most
    /// `maximumNorm` (factor `maximumNorm / (norm + 1e-6)` when the norm exceeds it).
    ///
    /// - Returns: the norm before clipping (`inf`/`nan` when a gradient is not finite; then nothing
    ///   is scaled and the caller must reject the step).
    @discardableResult
    public static func clip(_ parameters: [Parameter], maximumNorm: Float) -> Double {
        let norm = globalNorm(parameters)
        guard norm.isFinite else { return norm }
        let factor = scale(norm: norm, maximumNorm: maximumNorm)
        if factor < 1 {
            for p in parameters { p.scaleGradient(by: factor) }
        }
        return norm
    }

    /// The factor ``clip(_:maximumNorm:)`` multiplies the gradients by at global norm `norm`
    /// (`maximumNorm / (norm + 1e-6)` when below 1, else exactly 1), for an optimiser that applies
    /// it while it reads them (``AdamW/step(learningRateFactor:gradientScale:)``).
    public static func scale(norm: Double, maximumNorm: Float) -> Float {
        let factor = Double(maximumNorm) / (norm + 1e-6)
        return factor < 1 ? Float(factor) : 1
    }

    /// The joint Euclidean norm of the gradients of `parameters` (those without one count 0).
    public static func globalNorm(_ parameters: [Parameter]) -> Double {
        var sum = 0.0
        for p in parameters {
            guard let g = p.gradient else { continue }
            let n = g.norm
            sum += n * n
        }
        return sum.squareRoot()
    }
}
