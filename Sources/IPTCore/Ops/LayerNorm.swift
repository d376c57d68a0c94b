// Layer normalisation over the last axis: forward and backward side by side.

extension Tensor {
    /// `(x - mean) / sqrt(var + eps) * weight + bias` over the last axis (biased variance), as
    /// `torch.nn.functional.layer_norm`.
    ///
    /// - Parameters:
    ///   - x: `(..., C)`.
    ///   - weight, bias: `(C)`.
    ///   - epsilon: added to the variance; BART uses 1e-5.
    /// The forward caches the normalised input and 1/std per row, exactly what the backward needs.
    public static func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let width = x.shape.last ?? 1
        precondition(weight.shape == [width] && bias.shape == [width],
                     "layerNorm: weight \(weight.shape) / bias \(bias.shape) for input \(x.shape)")
        let rows = x.count / Swift.max(width, 1)
        let out = Tensor.uninitialized(x.shape)
        let normalized = Tensor.uninitialized(x.shape)  // x-hat, (rows, C)
        var inverseStd = [Float](repeating: 0, count: rows)  // (rows)
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                bias.withUnsafeBufferPointer { pb in
                    inverseStd.withUnsafeMutableBufferPointer { rs in
                        let s = px.baseAddress!, w = pw.baseAddress!, b = pb.baseAddress!
                        let o = out.storage.pointer, n = normalized.storage.pointer, r = rs.baseAddress!
                        Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
                            for row in range {
                                let xr = s + row * width, nr = n + row * width, orow = o + row * width
                                let mean = rowSum(xr, width) / Float(width)
                                // x - mean into x-hat's row first: the variance is its squared norm.
                                var j = 0
                                while j + 16 <= width { store16(load16(xr + j) - mean, nr + j); j += 16 }
                                while j < width { nr[j] = xr[j] - mean; j += 1 }
                                let inv = 1 / (rowDot(nr, nr, width) / Float(width) + epsilon).squareRoot()
                                r[row] = inv
                                j = 0
                                while j + 16 <= width {
                                    let h = load16(nr + j) * inv
                                    store16(h, nr + j)
                                    store16(h * load16(w + j) + load16(b + j), orow + j)
                                    j += 16
                                }
                                while j < width {
                                    let h = nr[j] * inv
                                    nr[j] = h
                                    orow[j] = h * w[j] + b[j]
                                    j += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        let xNode = x.node, wNode = weight.node, bNode = bias.node, xShape = x.shape
        let w = weight.detached()
        return out.recorded(from: [x, weight, bias]) { g in
            g.withUnsafeBufferPointer { pg in
                normalized.withUnsafeBufferPointer { pn in
                    let gp = pg.baseAddress!, np = pn.baseAddress!
                    if wNode != nil || bNode != nil {
                        // dw = sum over rows of g * x-hat, db = sum of g: per-worker partial sums.
                        let (dw, db) = columnSums(rows: rows, width: width, g: gp, xHat: np)
                        wNode?.accumulate(dw)
                        bNode?.accumulate(db)
                    }
                    if let xNode {
                        // dx = inv/C * (C*gw - sum(gw) - xhat * sum(gw * xhat)),  gw = g * weight
                        let dx = Tensor.uninitialized(xShape)
                        w.withUnsafeBufferPointer { pw in
                            let wp = pw.baseAddress!, d = dx.storage.pointer
                            Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
                                for row in range {
                                    let gr = gp + row * width, nr = np + row * width, dr = d + row * width
                                    var sumG = Vec16(repeating: 0), sumGX = Vec16(repeating: 0)
                                    var j = 0
                                    while j + 16 <= width {
                                        let gw = load16(gr + j) * load16(wp + j)
                                        sumG += gw
                                        sumGX += gw * load16(nr + j)
                                        j += 16
                                    }
                                    var totalG = sumG.sum(), totalGX = sumGX.sum()
                                    while j < width { let gw = gr[j] * wp[j]; totalG += gw; totalGX += gw * nr[j]; j += 1 }
                                    let scale = inverseStd[row] / Float(width), n = Float(width)
                                    j = 0
                                    while j + 16 <= width {
                                        let v = (load16(gr + j) * load16(wp + j) * n - totalG - load16(nr + j) * totalGX) * scale
                                        store16(v, dr + j)
                                        j += 16
                                    }
                                    while j < width { dr[j] = scale * (n * gr[j] * wp[j] - totalG - nr[j] * totalGX); j += 1 }
                                }
                            }
                        }
                        xNode.accumulate(dx)
                    }
                }
            }
        }
    }
}

/// Column sums of `g * xHat` and of `g` over `rows` rows of `width`: layer norm's weight and bias
/// gradients, from per-worker partial sums added in a fixed order.
func columnSums(rows: Int, width: Int, g: UnsafePointer<Float>, xHat: UnsafePointer<Float>) -> (Tensor, Tensor) {
    let workers = Swift.max(1, Swift.min(Parallel.workers, rows / 64))
    let perWorker = (rows + workers - 1) / workers
    let partial = Tensor.zeros([workers, 2, width])
    let p = partial.storage.pointer
    Parallel.forEachChunk(workers, minimumChunk: 1) { range in
        for w in range {
            let dw = p + w * 2 * width, db = dw + width
            for row in (w * perWorker)..<Swift.min(rows, (w + 1) * perWorker) {
                let gr = g + row * width, nr = xHat + row * width
                var j = 0
                while j + 16 <= width {
                    let gv = load16(gr + j)
                    store16(load16(dw + j) + gv * load16(nr + j), dw + j)
                    store16(load16(db + j) + gv, db + j)
                    j += 16
                }
                while j < width { dw[j] += gr[j] * nr[j]; db[j] += gr[j]; j += 1 }
            }
        }
    }
    let dw = Tensor.zeros([width]), db = Tensor.zeros([width])
    for w in 0..<workers {
        for j in 0..<width {
            dw.storage.pointer[j] += p[w * 2 * width + j]
            db.storage.pointer[j] += p[w * 2 * width + width + j]
        }
    }
    return (dw, db)
}
