// Broadcasting add, subtract, multiply, divide: forward and backward side by side.
//
// Broadcasting follows NumPy: shapes align at the back, an extent of 1 stretches.

@usableFromInline protocol BinaryKernel { static func apply(_ a: Float, _ b: Float) -> Float }
@usableFromInline enum AddKernel: BinaryKernel { @inline(__always) @usableFromInline static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
@usableFromInline enum SubKernel: BinaryKernel { @inline(__always) @usableFromInline static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
@usableFromInline enum MulKernel: BinaryKernel { @inline(__always) @usableFromInline static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
@usableFromInline enum DivKernel: BinaryKernel { @inline(__always) @usableFromInline static func apply(_ a: Float, _ b: Float) -> Float { a / b } }

/// The broadcast result shape of `a` and `b`, or `nil` if they do not broadcast.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
    }
    return out
}

/// Element strides of `shape` seen inside `outShape` (0 on broadcast axes).
func broadcastStrides(_ shape: [Int], in outShape: [Int]) -> [Int] {
    let rank = outShape.count
    var strides = [Int](repeating: 0, count: rank)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let o = i + rank - shape.count
        strides[o] = shape[i] == 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

func binaryKernel<K: BinaryKernel>(_: K.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
    guard let outShape = broadcastShape(a.shape, b.shape) else {
        preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    let out = Tensor.uninitialized(outShape)
    let total = out.count
    if total == 0 { return out }
    let d = out.storage.pointer
    a.withUnsafeBufferPointer { ab in
        b.withUnsafeBufferPointer { bb in
            let pa = ab.baseAddress!, pb = bb.baseAddress!
            if a.shape == b.shape {
                Parallel.forEachChunk(total) { r in for i in r { d[i] = K.apply(pa[i], pb[i]) } }
                return
            }
            if b.count == 1 {
                let v = pb[0]
                Parallel.forEachChunk(total) { r in for i in r { d[i] = K.apply(pa[i], v) } }
                return
            }
            if a.count == 1 {
                let v = pa[0]
                Parallel.forEachChunk(total) { r in for i in r { d[i] = K.apply(v, pb[i]) } }
                return
            }
            // Collapse axes that are contiguous for both operands, then loop rows.
            var shape = outShape
            var sa = broadcastStrides(a.shape, in: outShape)
            var sb = broadcastStrides(b.shape, in: outShape)
            var i = shape.count - 1
            while i > 0 {
                if sa[i - 1] == sa[i] * shape[i] && sb[i - 1] == sb[i] * shape[i] {
                    shape[i - 1] *= shape[i]; sa[i - 1] = sa[i]; sb[i - 1] = sb[i]
                    shape.remove(at: i); sa.remove(at: i); sb.remove(at: i)
                }
                i -= 1
            }
            let rank = shape.count
            let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
            let rows = total / inner
            Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / max(inner, 1))) { rowRange in
                // Starting offsets of the first row of this range (odometer over outer axes).
                var index = [Int](repeating: 0, count: rank)
                var rem = rowRange.lowerBound
                var offA = 0, offB = 0
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    index[axis] = rem % shape[axis]
                    rem /= shape[axis]
                    offA += index[axis] * sa[axis]
                    offB += index[axis] * sb[axis]
                }
                for row in rowRange {
                    let o = d + row * inner
                    let x = pa + offA, y = pb + offB
                    if ia == 1 && ib == 1 {
                        for j in 0..<inner { o[j] = K.apply(x[j], y[j]) }
                    } else if ia == 1 && ib == 0 {
                        let v = y[0]
                        for j in 0..<inner { o[j] = K.apply(x[j], v) }
                    } else if ia == 0 && ib == 1 {
                        let v = x[0]
                        for j in 0..<inner { o[j] = K.apply(v, y[j]) }
                    } else {
                        for j in 0..<inner { o[j] = K.apply(x[j * ia], y[j * ib]) }
                    }
                    var axis = rank - 2
                    while axis >= 0 {
                        index[axis] += 1
                        offA += sa[axis]; offB += sb[axis]
                        if index[axis] < shape[axis] { break }
                        offA -= sa[axis] * shape[axis]; offB -= sb[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }
    return out
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        // The backward needs only the shapes and nodes, not the values: capture just those.
        let (na, sa, nb, sb) = (a.node, a.shape, b.node, b.shape)
        return binaryKernel(AddKernel.self, a, b).recorded(from: [a, b]) { g in
            na?.accumulate(g.summed(toShape: sa))
            nb?.accumulate(g.summed(toShape: sb))
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (na, sa, nb, sb) = (a.node, a.shape, b.node, b.shape)
        return binaryKernel(SubKernel.self, a, b).recorded(from: [a, b]) { g in
            na?.accumulate(g.summed(toShape: sa))
            nb?.accumulate(g.summed(toShape: sb) * -1)
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        // da needs b's values and db needs a's: keep each only if the other side needs a gradient.
        let (na, sa, nb, sb) = (a.node, a.shape, b.node, b.shape)
        let bv = na != nil ? b.detached() : nil, av = nb != nil ? a.detached() : nil
        return binaryKernel(MulKernel.self, a, b).recorded(from: [a, b]) { g in
            if let na, let bv { na.accumulate(binaryKernel(MulKernel.self, g, bv).summed(toShape: sa)) }
            if let nb, let av { nb.accumulate(binaryKernel(MulKernel.self, g, av).summed(toShape: sb)) }
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        // da = g / b needs b; db = -g a / b^2 = -(g / b) * y needs b and the output y, not a.
        let (na, sa, nb, sb) = (a.node, a.shape, b.node, b.shape)
        let bv = b.detached()
        let out = binaryKernel(DivKernel.self, a, b)
        let y: Tensor? = nb != nil ? out : nil
        return out.recorded(from: [a, b]) { g in
            let gOverB = binaryKernel(DivKernel.self, g, bv)
            if let na { na.accumulate(gOverB.summed(toShape: sa)) }
            if let nb, let y {
                nb.accumulate((binaryKernel(MulKernel.self, gOverB, y).summed(toShape: sb) * -1).detached())
            }
        }
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

    /// `scale * self + shift`, elementwise.
    public func affine(scale: Float, shift: Float) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let d = out.storage.pointer
        withUnsafeBufferPointer { s in
            let p = s.baseAddress!
            Parallel.forEachChunk(count) { r in for i in r { d[i] = scale * p[i] + shift } }
        }
        let node = self.node
        return out.recorded(from: [self]) { g in node?.accumulate(g.affine(scale: scale, shift: 0)) }
    }
}
