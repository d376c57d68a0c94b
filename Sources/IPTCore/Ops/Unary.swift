// Element-wise activations: forward and backward side by side. Each forward caches exactly what
// its backward needs (the input or the output).

extension Tensor {
    /// Applies a vectorised function to every element (not recorded).
    func mapped(_ f: (Vec16) -> Vec16) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let d = out.storage.pointer
        withUnsafeBufferPointer { s in
            let p = s.baseAddress!
            Parallel.forEachChunk(count) { r in
                mapVectorized(p + r.lowerBound, d + r.lowerBound, r.count, f)
            }
        }
        return out
    }

    /// Combines this tensor with `other` (same shape) by a vectorised function (not recorded).
    func zipped(_ other: Tensor, _ f: (Vec16, Vec16) -> Vec16) -> Tensor {
        precondition(shape == other.shape, "\(shape) vs \(other.shape)")
        let out = Tensor.uninitialized(shape)
        let d = out.storage.pointer
        withUnsafeBufferPointer { s in
            other.withUnsafeBufferPointer { t in
                let p = s.baseAddress!, q = t.baseAddress!
                Parallel.forEachChunk(count) { r in
                    var i = r.lowerBound
                    while i + 16 <= r.upperBound {
                        store16(f(load16(p + i), load16(q + i)), d + i)
                        i += 16
                    }
                    if i < r.upperBound {
                        var a = Vec16(repeating: 0), b = Vec16(repeating: 0)
                        for j in 0..<(r.upperBound - i) { a[j] = p[i + j]; b[j] = q[i + j] }
                        let c = f(a, b)
                        for j in 0..<(r.upperBound - i) { d[i + j] = c[j] }
                    }
                }
            }
        }
        return out
    }

    /// tanh, elementwise. Backward: g * (1 - y^2).
    public func tanh() -> Tensor {
        let y = mapped(vtanh)
        let node = self.node
        return y.recorded(from: [self]) { g in
            node?.accumulate(g.zipped(y) { g, y in g * (1 - y * y) })
        }
    }

    /// The logistic sigmoid, elementwise. Backward: g * y * (1 - y).
    public func sigmoid() -> Tensor {
        let y = mapped(vsigmoid)
        let node = self.node
        return y.recorded(from: [self]) { g in
            node?.accumulate(g.zipped(y) { g, y in g * y * (1 - y) })
        }
    }

    /// Swish (SiLU): x * sigmoid(x). Backward: g * (s + x s (1 - s)).
    public func swish() -> Tensor {
        let x = self.detached()
        let y = mapped { $0 * vsigmoid($0) }
        let node = self.node
        return y.recorded(from: [self]) { g in
            node?.accumulate(g.zipped(x) { g, x in
                let s = vsigmoid(x)
                return g * (s + x * s * (1 - s))
            })
        }
    }

    /// GELU in its exact form, x * Phi(x) = x/2 * (1 + erf(x / sqrt 2)), as BART uses it.
    /// Backward: g * (Phi(x) + x * phi(x)). When a graph is recorded, the forward computes that
    /// derivative alongside the value (one erf serves both) and keeps it instead of x.
    public func gelu() -> Tensor {
        let recording = GradientRecording.isEnabled && node != nil
        let y = Tensor.uninitialized(shape), slope = recording ? Tensor.uninitialized(shape) : nil
        let (d, dd) = (y.storage.pointer, slope?.storage.pointer)
        withUnsafeBufferPointer { s in
            let p = s.baseAddress!
            Parallel.forEachChunk(count) { r in
                geluKernel(p + r.lowerBound, d + r.lowerBound, dd.map { $0 + r.lowerBound }, r.count)
            }
        }
        guard let slope, let node else { return y }
        return y.recorded(from: [self]) { g in node.accumulate(g.zipped(slope) { $0 * $1 }) }
    }

    /// e^x, elementwise.
    public func exp() -> Tensor {
        let y = mapped(vexp)
        let node = self.node
        return y.recorded(from: [self]) { g in node?.accumulate(g.zipped(y) { $0 * $1 }) }
    }

    /// Natural logarithm, elementwise (scalar libm; not on hot paths).
    public func log() -> Tensor {
        let x = self.detached()
        let y = Tensor(shape: shape) { d in
            x.withUnsafeBufferPointer { s in for i in s.indices { d[i] = Foundation.log(s[i]) } }
        }
        let node = self.node
        return y.recorded(from: [self]) { g in node?.accumulate(g.zipped(x) { $0 / $1 }) }
    }

    /// x^2, elementwise. Backward: 2 g x.
    public func squared() -> Tensor {
        let x = self.detached()
        let y = mapped { $0 * $0 }
        let node = self.node
        return y.recorded(from: [self]) { g in node?.accumulate(g.zipped(x) { 2 * $0 * $1 }) }
    }

    /// Square root, elementwise. Backward: g / (2 y).
    public func squareRoot() -> Tensor {
        let y = mapped { $0.squareRoot() }
        let node = self.node
        return y.recorded(from: [self]) { g in node?.accumulate(g.zipped(y) { $0 / (2 * $1) }) }
    }

    /// Swift.max(x, 0), elementwise. Backward: g where x > 0.
    public func relu() -> Tensor {
        let x = self.detached()
        let y = mapped { $0.replacing(with: 0, where: $0 .< 0) }
        let node = self.node
        return y.recorded(from: [self]) { g in
            node?.accumulate(g.zipped(x) { g, x in g.replacing(with: 0, where: x .<= 0) })
        }
    }
}

import Foundation
