// Dropout and masked fill: forward and backward side by side.

extension Tensor {
    /// Inverted dropout: zeroes each element with probability `probability` and scales the rest by
    /// 1 / (1 - probability). The mask comes from `generator`, so a run is reproducible.
    ///
    /// - Returns: `self` unchanged when `probability` is 0.
    public func dropout(probability: Float, generator: inout RandomGenerator) -> Tensor {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        if probability == 0 { return self }
        let keepScale = 1 / (1 - probability)
        // Threshold on 24 random bits per element; the mask stores the scale (0 or 1/(1-p)).
        let threshold = UInt32(Double(probability) * Double(1 << 24))
        let mask = Tensor(shape: shape) { m in
            var i = 0
            while i < m.count {
                let bits = generator.next()
                m[i] = UInt32(truncatingIfNeeded: bits) & 0xFF_FFFF < threshold ? 0 : keepScale
                if i + 1 < m.count { m[i + 1] = UInt32(truncatingIfNeeded: bits >> 32) & 0xFF_FFFF < threshold ? 0 : keepScale }
                i += 2
            }
        }
        let out = self.detached().zipped(mask) { $0 * $1 }
        let node = self.node
        return out.recorded(from: [self]) { g in node?.accumulate(g.zipped(mask) { $0 * $1 }) }
    }

    /// Elements where `mask` (broadcastable to this shape) is nonzero replaced by `value`.
    /// Backward: the gradient is zero at replaced elements.
    public func maskedFill(_ mask: Tensor, value: Float) -> Tensor {
        precondition(broadcastShape(shape, mask.shape) == shape, "mask \(mask.shape) does not broadcast to \(shape)")
        let m = mask.detached().broadcast(to: shape)
        var out = self.detached()
        out.withUnsafeMutableBufferPointer { r in
            m.withUnsafeBufferPointer { mm in for i in r.indices where mm[i] != 0 { r[i] = value } }
        }
        let node = self.node
        return out.recorded(from: [self]) { g in
            node?.accumulate(g.zipped(m) { g, m in g.replacing(with: 0, where: m .!= 0) })
        }
    }
}
