// Softmax and log-softmax over the last axis (max-subtracted): forward and backward.

/// In-place softmax of each `width`-long row of `data`.
func softmaxRows(_ data: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for r in range { softmaxRow(data + r * width, width) }
    }
}

/// Softmax backward for rows: dx = y * (g - sum(g * y)), written into `out`.
func softmaxBackwardRows(y: UnsafePointer<Float>, g: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                         rows: Int, width: Int) {
    Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for r in range { softmaxBackwardRow(y: y + r * width, g: g + r * width, out: out + r * width, width) }
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
                    let m = rowMaximum(row, width)
                    let logZ = m + Foundation.log(exponentiateShifted(row, o, width, shift: m))
                    var j = 0
                    while j + 16 <= width { store16(load16(row + j) - logZ, o + j); j += 16 }
                    while j < width { o[j] = row[j] - logZ; j += 1 }
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
                    let (o, gp, d) = (po.baseAddress!, pg.baseAddress!, dx.storage.pointer)
                    Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
                        for r in range {
                            let or = o + r * width, gr = gp + r * width, dr = d + r * width
                            let total = rowSum(gr, width)
                            var j = 0
                            while j + 16 <= width {
                                store16(load16(gr + j) - vexp(load16(or + j)) * total, dr + j)
                                j += 16
                            }
                            if j < width {
                                mapVectorized(or + j, dr + j, width - j, vexp)
                                while j < width { dr[j] = gr[j] - dr[j] * total; j += 1 }
                            }
                        }
                    }
                }
            }
            node.accumulate(dx)
        }
    }
}

import Foundation
