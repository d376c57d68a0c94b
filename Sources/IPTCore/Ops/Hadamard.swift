// The fast Walsh-Hadamard transform, in place, O(L log L).

/// Transforms `data` (length a power of two) in place by the unnormalised Walsh-Hadamard matrix
/// H (entries ±1, H H = L I). The butterflies are done in a cache-friendly order: small strides
/// within 16-element blocks first, then wider strides, each pass splitting across the cores.
public func fastWalshHadamardTransform(_ data: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count > 0 && count & (count - 1) == 0, "FWHT length \(count) is not a power of two")
    if count == 1 { return }
    // Strides 1..8 inside blocks of 16.
    let small = min(count, 16)
    Parallel.forEachChunk(count / small, minimumChunk: 4096) { blocks in
        for block in blocks {
            let base = data + block * small
            var h = 1
            while h < small {
                var i = 0
                while i < small {
                    for j in i..<(i + h) {
                        let x = base[j], y = base[j + h]
                        base[j] = x + y
                        base[j + h] = x - y
                    }
                    i += 2 * h
                }
                h *= 2
            }
        }
    }
    // Strides 16 and up: contiguous vector butterflies.
    var h = 16
    while h < count {
        let pairs = count / (2 * h)
        let span = h
        Parallel.forEachChunk(pairs * (span / 16), minimumChunk: 4096) { range in
            for t in range {
                let pair = t / (span / 16), offset = (t % (span / 16)) * 16
                let a = data + pair * 2 * span + offset, b = a + span
                let x = load16(a), y = load16(b)
                store16(x + y, a)
                store16(x - y, b)
            }
        }
        h *= 2
    }
}

extension Tensor {
    /// The unnormalised Walsh-Hadamard transform of a 1-D tensor whose length is a power of two.
    /// Backward: H is symmetric, so the gradient is H g (exact; no 1/sqrt(L) factor).
    public func hadamardTransform() -> Tensor {
        precondition(rank == 1, "hadamardTransform needs a 1-D tensor, got \(shape)")
        var y = self.detached()
        y.withUnsafeMutableBufferPointer { fastWalshHadamardTransform($0.baseAddress!, count: $0.count) }
        let node = self.node
        return y.recorded(from: [self]) { g in
            guard let node else { return }
            var dx = g.detached()
            dx.withUnsafeMutableBufferPointer { fastWalshHadamardTransform($0.baseAddress!, count: $0.count) }
            node.accumulate(dx)
        }
    }
}
