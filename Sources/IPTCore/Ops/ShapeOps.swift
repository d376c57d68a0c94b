// Reshape, permute, concatenate, split and slice: forward and backward side by side.

extension Tensor {
    /// The same elements with another shape (no copy). One extent may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let unknown = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != unknown }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            target[unknown] = count / known
        }
        precondition(Tensor.elementCount(target) == count, "cannot reshape \(shape) to \(newShape)")
        // Backward closures here capture the node and shape only, never the input's values.
        let node = self.node, inputShape = shape
        return Tensor(shape: target, storage: storage).recorded(from: [self]) { g in
            node?.accumulate(g.reshaped(inputShape))
        }
    }

    /// Axes reordered: result axis i is input axis `axes[i]` (copies).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permutation \(axes) does not fit rank \(rank)")
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let permutedStrides = axes.map { inStrides[$0] }
        let out = Tensor.uninitialized(outShape)
        withUnsafeBufferPointer { src in
            stridedCopy(from: src.baseAddress!, strides: permutedStrides, shape: outShape, to: out.storage.pointer)
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        let node = self.node
        return out.recorded(from: [self]) { g in node?.accumulate(g.permuted(inverse)) }
    }

    /// Swaps two axes (copies).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(normalizedAxis(a), normalizedAxis(b))
        return permuted(axes)
    }

    /// An axis given from the back (-1 = last) as a forward index.
    public func normalizedAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "axis \(axis) out of range for rank \(rank)")
        return a
    }

    /// Elements `range` along `axis` (copies).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = normalizedAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax], "slice \(range) out of \(shape[ax])")
        let outer = shape[..<ax].reduce(1, *)
        let inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        outShape[ax] = range.count
        let out = Tensor.uninitialized(outShape)
        let rowIn = shape[ax] * inner, rowOut = range.count * inner
        withUnsafeBufferPointer { src in
            let s = src.baseAddress!, d = out.storage.pointer
            for o in 0..<outer {
                (d + o * rowOut).update(from: s + o * rowIn + range.lowerBound * inner, count: rowOut)
            }
        }
        let node = self.node, inputShape = shape
        return out.recorded(from: [self]) { g in
            guard let node else { return }
            var full = Tensor.zeros(inputShape)
            g.withUnsafeBufferPointer { gs in
                full.withUnsafeMutableBufferPointer { fd in
                    for o in 0..<outer {
                        (fd.baseAddress! + o * rowIn + range.lowerBound * inner)
                            .update(from: gs.baseAddress! + o * rowOut, count: rowOut)
                    }
                }
            }
            node.accumulate(full)
        }
    }

    /// Concatenates `tensors` along `axis` (all other extents equal).
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let ax = first.normalizedAxis(axis)
        for t in tensors {
            precondition(t.rank == first.rank && t.shape.enumerated().allSatisfy { $0.offset == ax || $0.element == first.shape[$0.offset] },
                         "cannot concatenate \(t.shape) with \(first.shape) along axis \(ax)")
        }
        let outer = first.shape[..<ax].reduce(1, *)
        let inner = first.shape[(ax + 1)...].reduce(1, *)
        let extents = tensors.map { $0.shape[ax] }
        var outShape = first.shape
        outShape[ax] = extents.reduce(0, +)
        let out = Tensor.uninitialized(outShape)
        let rowOut = outShape[ax] * inner
        var offset = 0
        for t in tensors {
            let rowIn = t.shape[ax] * inner
            t.withUnsafeBufferPointer { s in
                guard let source = s.baseAddress, rowIn > 0 else { return }
                let destination = out.storage.pointer + offset
                Parallel.forEachChunk(outer, minimumChunk: Swift.max(1, 65_536 / Swift.max(rowIn, 1))) { range in
                    for o in range { (destination + o * rowOut).update(from: source + o * rowIn, count: rowIn) }
                }
            }
            offset += rowIn
        }
        let nodes = tensors.map(\.node)
        return out.recorded(from: tensors) { g in
            var start = 0
            for (node, e) in zip(nodes, extents) {
                if let node { node.accumulate(g.detached().slice(axis: ax, start..<(start + e))) }
                start += e
            }
        }
    }

    /// Splits along `axis` into pieces of the given sizes (which sum to the extent).
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        let ax = normalizedAxis(axis)
        precondition(sizes.reduce(0, +) == shape[ax], "split sizes \(sizes) do not sum to \(shape[ax])")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: ax, start..<(start + size))
        }
    }

    /// Inserts an axis of extent 1 (no copy).
    public func unsqueezed(_ axis: Int) -> Tensor {
        var s = shape
        s.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshaped(s)
    }

    /// This tensor repeated to `newShape` by broadcasting (extents 1 stretched; new leading axes).
    public func broadcast(to newShape: [Int]) -> Tensor {
        if newShape == shape { return self }
        return Tensor.zeros(newShape) + self
    }
}

/// Copies a strided view of `src` (element strides per output axis) into contiguous `dst`.
func stridedCopy(from src: UnsafePointer<Float>, strides: [Int], shape: [Int], to dst: UnsafeMutablePointer<Float>) {
    let rank = shape.count
    if rank == 0 { dst[0] = src[0]; return }
    let total = shape.reduce(1, *)
    if total == 0 { return }
    let innerExtent = shape[rank - 1], innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var out = 0
    var base = 0
    while out < total {
        if innerStride == 1 {
            (dst + out).update(from: src + base, count: innerExtent)
        } else {
            var p = base
            for j in 0..<innerExtent { dst[out + j] = src[p]; p += innerStride }
        }
        out += innerExtent
        // Advance the outer index (odometer).
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            base += strides[axis]
            if index[axis] < shape[axis] { break }
            base -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
        if axis < 0 { break }
    }
}
