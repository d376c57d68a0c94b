// Softmax and log-softmax over the last axis (max-subtracted): forward and backward.

/// In-place softmax of each `width`-long row of `data`.
func softmaxRows(_ data: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for r in range {
            let row = data + r * width
            var m = -Float.infinity
            for j in 0..<width { m = Swift.max(m, row[j]) }
            if m == -Float.infinity { m = 0 }  // an all-masked row becomes uniform over -inf: NaN-free zeros below
            var sum: Float = 0
            mapVectorized(row, row, width) { vexp($0 - m) }
            for j in 0..<width { sum += row[j] }
            let inv = sum > 0 ? 1 / sum : 0
            for j in 0..<width { row[j] *= inv }
        }
    }
}

/// Softmax backward for rows: dx = y * (g - sum(g * y)), written into `out`.
func softmaxBackwardRows(y: UnsafePointer<Float>, g: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                         rows: Int, width: Int) {
    Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for r in range {
            let yr = y + r * width, gr = g + r * width, o = out + r * width
            var dot: Float = 0
            for j in 0..<width { dot += yr[j] * gr[j] }
            for j in 0..<width { o[j] = yr[j] * (gr[j] - dot) }
        }
    }
}

extension Tensor {
    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        let width = shape.last ?? 1
        let rows = count / Swift.max(width, 1)
        var y = self.detached()
        y.withUnsafeMutableBufferPointer { softmaxRows($0.baseAddress!, rows: rows, width: width) }
        let node = self.node
        let saved = y
        return y.recorded(from: [self]) { g in
            guard let node else { return }
            let dx = Tensor.uninitialized(saved.shape)
            saved.withUnsafeBufferPointer { py in
                g.withUnsafeBufferPointer { pg in
                    softmaxBackwardRows(y: py.baseAddress!, g: pg.baseAddress!, out: dx.storage.pointer,
                                        rows: rows, width: width)
                }
            }
            node.accumulate(dx)
        }
    }

    /// Log-softmax over the last axis.
    public func logSoftmax() -> Tensor {
        let width = shape.last ?? 1
        let rows = count / Swift.max(width, 1)
        let out = Tensor.uninitialized(shape)
        withUnsafeBufferPointer { src in
            let s = src.baseAddress!, d = out.storage.pointer
            Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
                for r in range {
                    let row = s + r * width, o = d + r * width
                    var m = -Float.infinity
                    for j in 0..<width { m = Swift.max(m, row[j]) }
                    mapVectorized(row, o, width) { vexp($0 - m) }
                    var sum: Float = 0
                    for j in 0..<width { sum += o[j] }
                    let logZ = m + Foundation.log(sum)
                    for j in 0..<width { o[j] = row[j] - logZ }
                }
            }
        }
        let node = self.node
        return out.recorded(from: [self]) { g in
            guard let node else { return }
            // dx = g - softmax * sum(g)
            let dx = Tensor.uninitialized(out.shape)
            out.withUnsafeBufferPointer { po in
                g.withUnsafeBufferPointer { pg in
                    for r in 0..<rows {
                        let o = po.baseAddress! + r * width, gr = pg.baseAddress! + r * width
                        let d = dx.storage.pointer + r * width
                        var total: Float = 0
                        for j in 0..<width { total += gr[j] }
                        mapVectorized(o, d, width, vexp)
                        for j in 0..<width { d[j] = gr[j] - d[j] * total }
                    }
                }
            }
            node.accumulate(dx)
        }
    }
}

import Foundation
