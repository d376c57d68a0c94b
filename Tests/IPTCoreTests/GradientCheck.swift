import IPTCore
import Testing

/// Compares the tape's gradient of `f` with central finite differences, in Float64 accumulation.
///
/// `f` maps the inputs to a tensor; the checked scalar is `sum(f(x) * w)` for a fixed random `w`,
/// so every output element's gradient path is exercised. Returns the largest error relative to
/// `max(1, |numeric|)` over all inputs and elements.
func gradientError(_ inputs: [Tensor], step: Float = 1e-2, seed: UInt64 = 7,
                   _ f: ([Tensor]) -> Tensor) -> Double {
    var generator = RandomGenerator(seed: seed)
    let probe = f(inputs.map { $0.detached() })
    let weights = Tensor.randomNormal(probe.shape, generator: &generator)
    func objective(_ xs: [Tensor]) -> Double {
        let y = f(xs)
        var s = 0.0
        y.withUnsafeBufferPointer { yb in
            weights.withUnsafeBufferPointer { wb in
                for i in yb.indices { s += Double(yb[i]) * Double(wb[i]) }
            }
        }
        return s
    }
    let leaves = inputs.map { $0.requiringGradient() }
    (f(leaves) * weights).sum().backward()
    var worst = 0.0
    for (index, leaf) in leaves.enumerated() {
        let analytic = leaf.gradient ?? Tensor.zeros(leaf.shape)
        for element in 0..<leaf.count {
            var plus = inputs.map { $0.detached() }, minus = inputs.map { $0.detached() }
            plus[index].withUnsafeMutableBufferPointer { $0[element] += step }
            minus[index].withUnsafeMutableBufferPointer { $0[element] -= step }
            let numeric = (objective(plus) - objective(minus)) / (2 * Double(step))
            let a = Double(analytic.scalars[element])
            worst = max(worst, abs(a - numeric) / max(1, abs(numeric)))
        }
    }
    return worst
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.randomNormal(shape, standardDeviation: scale, generator: &generator)
}
