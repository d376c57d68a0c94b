// Matrix products through cblas_sgemm: forward and backward side by side.
//
// Transposes are passed to BLAS as flags, never materialised. A frozen operand (no gradient node)
// gets no gradient GEMM: for prompt tuning of a frozen model this halves the backward cost.

/// `C[i] = alpha op(A[i]) op(B[i]) + beta C[i]` for every batch index i (C not read when beta is
/// 0). A stride of 0 broadcasts an operand; a `strideC` of 0 sums the products of all batch entries
/// into one C (beta applies once, before the first).
func gemmBatched(batch: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, strideA: Int, lda: Int,
                 b: UnsafePointer<Float>, strideB: Int, ldb: Int,
                 c: UnsafeMutablePointer<Float>, strideC: Int, ldc: Int, beta: Float, alpha: Float = 1) {
    if batch == 0 && strideC == 0 {
        // An empty sum into one C: C = beta C (not read when beta is 0).
        for i in 0..<m { BLAS.scaleRow(c + i * ldc, n, beta) }
    }
    for i in 0..<batch {
        let betaI: Float = (strideC == 0 && i > 0) ? 1 : beta
        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                   a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                   beta: betaI, c: c + i * strideC, ldc: ldc)
    }
}

extension Tensor {
    /// Matrix product over the last two axes, with leading (batch) axes either equal or absent on
    /// one side (then broadcast).
    ///
    /// - Parameters:
    ///   - a: `(..., M, K)`, or `(..., K, M)` when `transposeA`.
    ///   - b: `(..., K, N)`, or `(..., N, K)` when `transposeB`.
    ///   - alpha: scales the product; default 1.
    /// - Returns: `(..., M, N)`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
                              alpha: Float = 1) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank >= 2, got \(a.shape) and \(b.shape)")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(batchA == batchB || batchA.isEmpty || batchB.isEmpty,
                     "matmul batch axes \(batchA) and \(batchB) differ")
        let batchShape = batchA.isEmpty ? batchB : batchA
        let batch = batchShape.reduce(1, *)
        let (ra, ca) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (rb, cb) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ca, ra) : (ra, ca)
        let (k2, n) = transposeB ? (cb, rb) : (rb, cb)
        precondition(k == k2, "matmul inner extents differ: \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "")")
        let out = Tensor.uninitialized(batchShape + [m, n])
        let aBatched = !batchA.isEmpty, bBatched = !batchB.isEmpty
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                if !bBatched && !transposeA {
                    // Fold A's batch into its rows: one large GEMM.
                    BLAS.sgemm(transposeA: false, transposeB: transposeB, m: batch * m, n: n, k: k, alpha: alpha,
                               a: pa.baseAddress!, lda: ca, b: pb.baseAddress!, ldb: cb, beta: 0,
                               c: out.storage.pointer, ldc: n)
                } else {
                    gemmBatched(batch: batch, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                a: pa.baseAddress!, strideA: aBatched ? ra * ca : 0, lda: ca,
                                b: pb.baseAddress!, strideB: bBatched ? rb * cb : 0, ldb: cb,
                                c: out.storage.pointer, strideC: m * n, ldc: n, beta: 0, alpha: alpha)
                }
            }
        }
        // dA needs B's values and dB needs A's: keep each only if the other side needs a gradient.
        let aNode = a.node, bNode = b.node
        let empty = Tensor.zeros([0])
        let av = bNode != nil ? a.detached() : empty
        let bv = aNode != nil ? b.detached() : empty
        return out.recorded(from: [a, b]) { g in
            g.withUnsafeBufferPointer { pg in
                if let node = aNode {
                    // d op(A) = alpha dC op(B)^T;  dA = that, or its transpose.
                    bv.withUnsafeBufferPointer { pb in node.accumulate { da, beta in
                        let strideOut = aBatched ? ra * ca : 0
                        if !transposeA {
                            if !bBatched && aBatched {
                                BLAS.sgemm(transposeA: false, transposeB: !transposeB, m: batch * m, n: k, k: n, alpha: alpha,
                                           a: pg.baseAddress!, lda: n, b: pb.baseAddress!, ldb: cb, beta: beta,
                                           c: da, ldc: ca)
                            } else {
                                gemmBatched(batch: batch, transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                                            a: pg.baseAddress!, strideA: m * n, lda: n,
                                            b: pb.baseAddress!, strideB: bBatched ? rb * cb : 0, ldb: cb,
                                            c: da, strideC: strideOut, ldc: ca, beta: beta, alpha: alpha)
                            }
                        } else {
                            // dA (K x M) = op(B) dC^T
                            gemmBatched(batch: batch, transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                                        a: pb.baseAddress!, strideA: bBatched ? rb * cb : 0, lda: cb,
                                        b: pg.baseAddress!, strideB: m * n, ldb: n,
                                        c: da, strideC: strideOut, ldc: ca, beta: beta, alpha: alpha)
                        }
                    } }
                }
                if let node = bNode {
                    // d op(B) = alpha op(A)^T dC;  dB = that, or its transpose.
                    av.withUnsafeBufferPointer { pa in node.accumulate { db, beta in
                        let strideOut = bBatched ? rb * cb : 0
                        if !transposeB {
                            if !bBatched && aBatched && !transposeA {
                                BLAS.sgemm(transposeA: true, transposeB: false, m: k, n: n, k: batch * m, alpha: alpha,
                                           a: pa.baseAddress!, lda: ca, b: pg.baseAddress!, ldb: n, beta: beta,
                                           c: db, ldc: cb)
                            } else {
                                gemmBatched(batch: batch, transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                                            a: pa.baseAddress!, strideA: aBatched ? ra * ca : 0, lda: ca,
                                            b: pg.baseAddress!, strideB: m * n, ldb: n,
                                            c: db, strideC: strideOut, ldc: cb, beta: beta, alpha: alpha)
                            }
                        } else {
                            // dB (N x K) = dC^T op(A)
                            if !bBatched && aBatched && !transposeA {
                                BLAS.sgemm(transposeA: true, transposeB: false, m: n, n: k, k: batch * m, alpha: alpha,
                                           a: pg.baseAddress!, lda: n, b: pa.baseAddress!, ldb: ca, beta: beta,
                                           c: db, ldc: cb)
                            } else {
                                gemmBatched(batch: batch, transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                                            a: pg.baseAddress!, strideA: m * n, lda: n,
                                            b: pa.baseAddress!, strideB: aBatched ? ra * ca : 0, ldb: ca,
                                            c: db, strideC: strideOut, ldc: cb, beta: beta, alpha: alpha)
                            }
                        }
                    } }
                }
            }
        }
    }

    /// `x W^T + b`, as `torch.nn.functional.linear`.
    ///
    /// - Parameters:
    ///   - x: `(..., in)`.
    ///   - weight: `(out, in)`.
    ///   - bias: `(out)` or `nil`.
    /// - Returns: `(..., out)`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(weight.rank == 2 && x.shape.last == weight.shape[1],
                     "linear: input \(x.shape) does not fit weight \(weight.shape)")
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        if let bias { precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape) for weight \(weight.shape)") }
        let rows = x.shape.dropLast().reduce(1, *)  // (not x.count / in, which is 0 when in is 0)
        let out = Tensor.uninitialized(Array(x.shape.dropLast()) + [outFeatures])
        let c = out.storage.pointer
        var beta: Float = 0
        if let bias {
            // C starts as the bias in every row, and the GEMM adds to it (beta 1). The fill is
            // split across the workers: serial, it left one core idle for ~4% of a BART step.
            bias.withUnsafeBufferPointer { pb in
                guard let b = pb.baseAddress else { return }  // no output features
                Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 65_536 / Swift.max(outFeatures, 1))) { range in
                    for r in range { (c + r * outFeatures).update(from: b, count: outFeatures) }
                }
            }
            beta = 1
        }
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                           a: px.baseAddress!, lda: inFeatures, b: pw.baseAddress!, ldb: inFeatures,
                           beta: beta, c: c, ldc: outFeatures)
            }
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let xNode = x.node, wNode = weight.node, bNode = bias?.node
        // Keep only what the backward needs: W for dx, x for dW.
        let xSaved: Tensor? = wNode != nil ? x.detached() : nil
        let wSaved: Tensor? = xNode != nil ? weight.detached() : nil
        return out.recorded(from: inputs) { g in
            g.withUnsafeBufferPointer { pg in
                if let xNode, let wSaved {
                    // dx = g W, added straight into x's gradient when one has arrived (beta 1).
                    wSaved.withUnsafeBufferPointer { pw in
                        xNode.accumulate { dx, beta in
                            BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                                       alpha: 1, a: pg.baseAddress!, lda: outFeatures, b: pw.baseAddress!, ldb: inFeatures,
                                       beta: beta, c: dx, ldc: inFeatures)
                        }
                    }
                }
                if let wNode, let xSaved {
                    // dW = g^T x, added into W's gradient when W has another use (the tied LM head).
                    xSaved.withUnsafeBufferPointer { px in
                        wNode.accumulate { dw, beta in
                            BLAS.sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                                       alpha: 1, a: pg.baseAddress!, lda: outFeatures, b: px.baseAddress!, ldb: inFeatures,
                                       beta: beta, c: dw, ldc: inFeatures)
                        }
                    }
                }
                if let bNode {
                    bNode.accumulate(g.reshaped([rows, outFeatures]).sum(axes: [0]))
                }
            }
        }
    }
}
