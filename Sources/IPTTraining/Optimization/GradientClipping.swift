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
        let factor = Double(maximumNorm) / (norm + 1e-6)
        if factor < 1 {
            for p in parameters { p.scaleGradient(by: Float(factor)) }
        }
        return norm
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
