// The AdamW update of one block of parameters, element by element: an AVX-512 C kernel
// (CIPTKernels' ipt_adamw) when the CPU has it, else the portable Swift definition below; the
// two agree bit for bit (Tests/IPTCoreTests/NativeKernelTests.swift).

import CIPTKernels

/// One AdamW step's constants, applied to blocks of weights, moments and gradients.
///
/// For each element: `g = gradient · gradientScale` (global-norm clipping folded in),
/// `m = β1 m + (1 - β1) g`, `v = β2 v + (1 - β2) g²`,
/// `w = w · decay - stepSize · m / (√v / rootCorrection2 + ε)` (decoupled weight decay, bias
/// corrections folded into `stepSize` and `rootCorrection2`, as PyTorch's AdamW).
public struct AdamWUpdate: Sendable {
    public var beta1, beta2, epsilon: Float
    /// `1 - learningRate · weightDecay`.
    public var decay: Float
    /// `learningRate / (1 - β1^t)`.
    public var stepSize: Float
    /// `√(1 - β2^t)`.
    public var rootCorrection2: Float
    /// Multiplies each gradient before use (the clipping factor; 1 leaves it exact).
    public var gradientScale: Float

    public init(beta1: Float, beta2: Float, epsilon: Float, decay: Float, stepSize: Float, rootCorrection2: Float,
                gradientScale: Float = 1) {
        (self.beta1, self.beta2, self.epsilon) = (beta1, beta2, epsilon)
        (self.decay, self.stepSize, self.rootCorrection2, self.gradientScale) = (decay, stepSize, rootCorrection2, gradientScale)
    }

    /// Updates `count` weights and their moments in place from their gradients.
    ///
    /// - Returns: the largest magnitude of the weights written, or `+inf` when one is not finite.
    @discardableResult
    public func apply(weights: UnsafeMutablePointer<Float>, firstMoments: UnsafeMutablePointer<Float>,
                      secondMoments: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int) -> Float {
        var largest: Float = 0
        if ipt_adamw(weights, firstMoments, secondMoments, gradient, Int64(count), gradientScale, beta1, beta2, epsilon,
                     decay, stepSize, rootCorrection2, &largest) == 1 { return largest }
        return applyPortable(weights: weights, firstMoments: firstMoments, secondMoments: secondMoments,
                             gradient: gradient, count: count)
    }

    /// ``apply(weights:firstMoments:secondMoments:gradient:count:)`` in portable Swift.
    func applyPortable(weights w: UnsafeMutablePointer<Float>, firstMoments m: UnsafeMutablePointer<Float>,
                       secondMoments v: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int) -> Float {
        let (b1, b2, eps, decay, stepSize, rootCorrection2) = (beta1, beta2, epsilon, decay, stepSize, rootCorrection2)
        let scale = gradientScale
        var largest: Float = 0, finite = true
        var i = 0
        while i + 16 <= count {
            let gi = load16(g + i) * scale
            let mi = b1 * load16(m + i) + (1 - b1) * gi
            let vi = b2 * load16(v + i) + (1 - b2) * gi * gi
            store16(mi, m + i)
            store16(vi, v + i)
            let wi = load16(w + i) * decay - stepSize * mi / (vi.squareRoot() / rootCorrection2 + eps)
            store16(wi, w + i)
            for lane in 0..<16 {
                let magnitude = abs(wi[lane])
                finite = finite && magnitude <= .greatestFiniteMagnitude
                largest = max(largest, magnitude)
            }
            i += 16
        }
        while i < count {
            let gi = g[i] * scale
            w[i] *= decay
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            w[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
            let magnitude = abs(w[i])
            finite = finite && magnitude <= .greatestFiniteMagnitude
            largest = max(largest, magnitude)
            i += 1
        }
        return finite ? largest : .infinity
    }
}
