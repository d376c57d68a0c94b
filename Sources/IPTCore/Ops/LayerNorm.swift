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
                                let xr = s + row * width
                                var mean: Float = 0
                                for j in 0..<width { mean += xr[j] }
                                mean /= Float(width)
                                var variance: Float = 0
                                for j in 0..<width { let d = xr[j] - mean; variance += d * d }
                                variance /= Float(width)
                                let inv = 1 / (variance + epsilon).squareRoot()
                                r[row] = inv
                                let nr = n + row * width, orow = o + row * width
                                for j in 0..<width {
                                    let h = (xr[j] - mean) * inv
                                    nr[j] = h
                                    orow[j] = h * w[j] + b[j]
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
                    if let wNode {
                        let dw = Tensor.zeros([width])
                        for row in 0..<rows {
                            let gr = gp + row * width, nr = np + row * width
                            for j in 0..<width { dw.storage.pointer[j] += gr[j] * nr[j] }
                        }
                        wNode.accumulate(dw)
                    }
                    if let bNode {
                        bNode.accumulate(g.reshaped([rows, width]).sum(axes: [0]))
                    }
                    if let xNode {
                        // dx = inv/C * (C*gw - sum(gw) - xhat * sum(gw * xhat)),  gw = g * weight
                        let dx = Tensor.uninitialized(xShape)
                        w.withUnsafeBufferPointer { pw in
                            let wp = pw.baseAddress!, d = dx.storage.pointer
                            Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
                                for row in range {
                                    let gr = gp + row * width, nr = np + row * width, dr = d + row * width
                                    var sumG: Float = 0, sumGX: Float = 0
                                    for j in 0..<width {
                                        let gw = gr[j] * wp[j]
                                        sumG += gw
                                        sumGX += gw * nr[j]
                                    }
                                    let inv = inverseStd[row]
                                    let scale = inv / Float(width)
                                    for j in 0..<width {
                                        dr[j] = scale * (Float(width) * gr[j] * wp[j] - sumG - nr[j] * sumGX)
                                    }
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
