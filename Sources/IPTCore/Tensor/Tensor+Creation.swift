extension Tensor {
    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: elementCount(shape), repeating: 0))
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// A tensor with every element `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: elementCount(shape), repeating: value))
    }

    /// A tensor with uninitialised elements, for kernels that write every element.
    public static func uninitialized(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(uninitializedCount: elementCount(shape)))
    }

    /// `0, 1, ..., n-1` as floats.
    public static func arange(_ n: Int) -> Tensor {
        Tensor(shape: [n]) { for i in $0.indices { $0[i] = Float(i) } }
    }

    /// Adds `other` (same shape) into this tensor's elements, in place. Not recorded.
    public mutating func addInPlace(_ other: Tensor, scale: Float = 1) {
        precondition(shape == other.shape, "addInPlace: \(shape) vs \(other.shape)")
        let n = count
        other.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                Parallel.forEachChunk(n, minimumChunk: 65_536) { range in
                    var i = range.lowerBound
                    while i + 16 <= range.upperBound { store16(load16(d + i) + scale * load16(s + i), d + i); i += 16 }
                    while i < range.upperBound { d[i] += scale * s[i]; i += 1 }
                }
            }
        }
    }

    /// Multiplies every element by `factor`, in place. Not recorded.
    public mutating func scaleInPlace(_ factor: Float) {
        withUnsafeMutableBufferPointer { d in
            let p = d.baseAddress!
            Parallel.forEachChunk(d.count, minimumChunk: 65_536) { range in
                scaleRow(p + range.lowerBound, range.count, by: factor)
            }
        }
    }

    /// The largest absolute difference from `other` (same shape).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: \(shape) vs \(other.shape)")
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                var m: Float = 0
                for i in a.indices { m = Swift.max(m, Swift.abs(a[i] - b[i])) }
                return m
            }
        }
    }

    /// Whether every element is finite.
    public var isFinite: Bool {
        withUnsafeBufferPointer { b in b.allSatisfy { $0.isFinite } }
    }

    /// The Euclidean norm of all elements: squares summed in Float within blocks of 4,096
    /// elements, the blocks' sums in Double, in a fixed order.
    public var norm: Double {
        withUnsafeBufferPointer { b in
            let block = 4096, blocks = (b.count + block - 1) / block
            var sums = [Double](repeating: 0, count: blocks)
            sums.withUnsafeMutableBufferPointer { out in
                let p = b.baseAddress!, o = out.baseAddress!
                Parallel.forEachChunk(blocks, minimumChunk: 16) { range in
                    for i in range {
                        let start = i * block
                        o[i] = Double(rowDot(p + start, p + start, Swift.min(block, b.count - start)))
                    }
                }
            }
            return sums.reduce(0, +).squareRoot()
        }
    }
}
