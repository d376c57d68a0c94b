// Sum, mean and max over axes: forward and backward side by side.

extension Tensor {
    /// Sum of all elements (a scalar).
    public func sum() -> Tensor {
        var total = 0.0
        withUnsafeBufferPointer { b in
            // Accumulate in Double per block of 4096 for accuracy on long vectors.
            var i = 0
            while i < b.count {
                let end = Swift.min(b.count, i + 4096)
                var partial: Float = 0
                for j in i..<end { partial += b[j] }
                total += Double(partial)
                i = end
            }
        }
        // The backward needs the node and shape only, not the values.
        let node = self.node, inputShape = shape
        return Tensor(scalar: Float(total)).recorded(from: [self]) { g in
            node?.accumulate(Tensor.full(inputShape, g.item))
        }
    }

    /// Mean of all elements (a scalar).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sums over `axes`.
    ///
    /// - Parameters:
    ///   - axes: axes to reduce (negative counts from the back).
    ///   - keepingDimensions: keep reduced axes with extent 1; default `false`.
    public func sum(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let reduce = Set(axes.map(normalizedAxis))
        var result = self.detached()
        // Reduce the highest axis first so that lower axis indices stay valid.
        for ax in reduce.sorted(by: >) { result = result.sumKeepingAxis(ax) }
        let keptShape = shape.enumerated().map { reduce.contains($0.offset) ? 1 : $0.element }
        let finalShape = keepingDimensions ? keptShape : shape.enumerated().filter { !reduce.contains($0.offset) }.map(\.element)
        let out = Tensor(shape: finalShape, storage: result.storage)
        let node = self.node, inputShape = shape
        return out.recorded(from: [self]) { g in
            node?.accumulate(g.detached().reshaped(keptShape).broadcast(to: inputShape))
        }
    }

    /// Sums over one axis keeping it with extent 1 (not recorded).
    func sumKeepingAxis(_ ax: Int) -> Tensor {
        let outer = shape[..<ax].reduce(1, *)
        let n = shape[ax]
        let inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        outShape[ax] = 1
        let out = Tensor.zeros(outShape)
        withUnsafeBufferPointer { src in
            let s = src.baseAddress!, d = out.storage.pointer
            if inner == 1 {
                for o in 0..<outer {
                    var acc: Float = 0
                    let row = s + o * n
                    for r in 0..<n { acc += row[r] }
                    d[o] = acc
                }
            } else {
                for o in 0..<outer {
                    let dst = d + o * inner
                    for r in 0..<n {
                        let row = s + (o * n + r) * inner
                        for i in 0..<inner { dst[i] += row[i] }
                    }
                }
            }
        }
        return out
    }

    /// Means over `axes`.
    public func mean(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let n = Set(axes.map(normalizedAxis)).map { shape[$0] }.reduce(1, *)
        return sum(axes: axes, keepingDimensions: keepingDimensions) * (1 / Float(Swift.max(n, 1)))
    }

    /// Maximum over one axis; the gradient goes to the first maximal element.
    public func max(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let ax = normalizedAxis(axis)
        let outer = shape[..<ax].reduce(1, *)
        let n = shape[ax]
        let inner = shape[(ax + 1)...].reduce(1, *)
        precondition(n > 0, "max over an empty axis")
        var keptShape = shape
        keptShape[ax] = 1
        let out = Tensor.uninitialized(keptShape)
        var argmax = [Int](repeating: 0, count: outer * inner)
        withUnsafeBufferPointer { src in
            let s = src.baseAddress!, d = out.storage.pointer
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = s[o * n * inner + i], bestIndex = 0
                    for r in 1..<n {
                        let v = s[(o * n + r) * inner + i]
                        if v > best || (best.isNaN == false && v.isNaN) { best = v; bestIndex = r }
                    }
                    d[o * inner + i] = best
                    argmax[o * inner + i] = bestIndex
                }
            }
        }
        let finalShape = keepingDimensions ? keptShape : shape.enumerated().filter { $0.offset != ax }.map(\.element)
        let node = self.node, inputShape = shape
        return Tensor(shape: finalShape, storage: out.storage).recorded(from: [self]) { g in
            guard let node else { return }
            let grad = Tensor.zeros(inputShape)
            g.withUnsafeBufferPointer { gs in
                let d = grad.storage.pointer
                for o in 0..<outer {
                    for i in 0..<inner {
                        d[(o * n + argmax[o * inner + i]) * inner + i] += gs[o * inner + i]
                    }
                }
            }
            node.accumulate(grad)
        }
    }

    /// This tensor summed down to `target` (the inverse of broadcasting `target` to this shape).
    public func summed(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "cannot reduce \(shape) to \(target)")
        var axes = Array(0..<lead)
        for (i, extent) in target.enumerated() where extent == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepingDimensions: true).reshaped(target)
    }
}
