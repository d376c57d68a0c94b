// Multi-head scaled dot-product attention, fused: forward and backward side by side.
//
// Heads are read in place from the (B, T, C) projections by giving BLAS a leading dimension of C,
// so no (B, H, T, D) permuted copies are made in either direction.

/// Which key positions a query may attend to.
public struct AttentionMask: Sendable {
    /// Per batch row and key position: `true` = attend, `false` = padding. `nil`: attend to all.
    public var keyPadding: [[Bool]]?
    /// Whether query t may attend only to keys 0...t (decoder self-attention).
    public var causal: Bool

    public init(keyPadding: [[Bool]]? = nil, causal: Bool = false) {
        self.keyPadding = keyPadding
        self.causal = causal
    }
}

extension Tensor {
    /// `softmax(Q K^T / sqrt(D) + mask) V` for every batch row and head.
    ///
    /// - Parameters:
    ///   - query: `(B, T, C)`; `key`, `value`: `(B, S, C)`, with C = heads * D.
    ///   - heads: number of heads.
    ///   - mask: padding and causal masking. Masked scores are set to the most negative float, as
    ///     transformers does, so that a fully masked row is uniform rather than NaN.
    ///   - dropout: probability for dropout on the attention weights (training only); default 0.
    ///   - randomSource: source of the dropout mask; required when `dropout > 0`.
    ///   - causalOffset: index of the first query among the keys, for incremental decoding (the
    ///     query at row t is at key position `causalOffset + t`); default 0.
    /// - Returns: `(B, T, C)`, the heads concatenated.
    public static func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int,
                                 mask: AttentionMask = AttentionMask(), dropout: Float = 0,
                                 randomSource: RandomSource? = nil,
                                 causalOffset: Int = 0) -> Tensor {
        precondition(query.rank == 3 && key.rank == 3 && value.shape == key.shape,
                     "attention: query \(query.shape), key \(key.shape), value \(value.shape)")
        let (b, t, c) = (query.shape[0], query.shape[1], query.shape[2])
        let s = key.shape[1]
        precondition(key.shape[0] == b && key.shape[2] == c && c % heads == 0,
                     "attention: shapes \(query.shape) / \(key.shape) do not fit \(heads) heads")
        if let padding = mask.keyPadding {
            precondition(padding.count == b && padding.allSatisfy { $0.count == s }, "attention: key mask shape")
        }
        let d = c / heads
        let scale = 1 / Float(d).squareRoot()
        let probabilities = Tensor.uninitialized([b, heads, t, s])  // P, after softmax, before dropout
        var dropMask: Tensor? = nil
        if dropout > 0 {
            guard let randomSource else { preconditionFailure("attention dropout needs a random source") }
            dropMask = Tensor.ones([b, heads, t, s]).dropout(probability: dropout, generator: &randomSource.generator)
        }
        let out = Tensor.uninitialized([b, t, c])
        let negative = -Float.greatestFiniteMagnitude
        query.withUnsafeBufferPointer { pq in
            key.withUnsafeBufferPointer { pk in
                value.withUnsafeBufferPointer { pv in
                    let q = pq.baseAddress!, k = pk.baseAddress!, v = pv.baseAddress!
                    let p = probabilities.storage.pointer
                    for bi in 0..<b {
                        for h in 0..<heads {
                            let ph = p + (bi * heads + h) * t * s
                            // scores (T, S) = scale * Q_h K_h^T
                            BLAS.sgemm(transposeA: false, transposeB: true, m: t, n: s, k: d, alpha: scale,
                                       a: q + bi * t * c + h * d, lda: c, b: k + bi * s * c + h * d, ldb: c,
                                       beta: 0, c: ph, ldc: s)
                            applyMask(ph, t: t, s: s, padding: mask.keyPadding?[bi], causal: mask.causal,
                                      offset: causalOffset, negative: negative)
                        }
                    }
                    softmaxRows(p, rows: b * heads * t, width: s)
                    var weights = probabilities
                    if let dropMask { weights = probabilities.zipped(dropMask) { $0 * $1 } }
                    weights.withUnsafeBufferPointer { pw in
                        for bi in 0..<b {
                            for h in 0..<heads {
                                // out_h (T, D) = P_h V_h
                                BLAS.sgemm(transposeA: false, transposeB: false, m: t, n: d, k: s, alpha: 1,
                                           a: pw.baseAddress! + (bi * heads + h) * t * s, lda: s,
                                           b: v + bi * s * c + h * d, ldb: c,
                                           beta: 0, c: out.storage.pointer + bi * t * c + h * d, ldc: c)
                            }
                        }
                    }
                }
            }
        }
        let qNode = query.node, kNode = key.node, vNode = value.node
        // Keep only the inputs the backward reads: K for dQ, Q for dK, V for both (dP = dO V^T).
        let empty = Tensor.zeros([0])
        let kv = qNode != nil ? key.detached() : empty
        let qv = kNode != nil ? query.detached() : empty
        let vv = qNode != nil || kNode != nil ? value.detached() : empty
        return out.recorded(from: [query, key, value]) { g in
            let dq = qNode != nil ? Tensor.zeros([b, t, c]) : nil
            let dk = kNode != nil ? Tensor.zeros([b, s, c]) : nil
            let dv = vNode != nil ? Tensor.zeros([b, s, c]) : nil
            let weights = dropMask.map { probabilities.zipped($0) { $0 * $1 } } ?? probabilities
            let dScores = Tensor.uninitialized([t, s])
            let dWeights = Tensor.uninitialized([t, s])
            g.withUnsafeBufferPointer { pg in
                qv.withUnsafeBufferPointer { pq in
                    kv.withUnsafeBufferPointer { pk in
                        vv.withUnsafeBufferPointer { pv in
                            weights.withUnsafeBufferPointer { pw in
                                let go = pg.baseAddress!, q = pq.baseAddress!, k = pk.baseAddress!, v = pv.baseAddress!
                                let ds = dScores.storage.pointer, dw = dWeights.storage.pointer
                                for bi in 0..<b {
                                    for h in 0..<heads {
                                        let offQ = bi * t * c + h * d, offK = bi * s * c + h * d
                                        let ph = probabilities.storage.pointer + (bi * heads + h) * t * s
                                        let wh = pw.baseAddress! + (bi * heads + h) * t * s
                                        if let dv {
                                            // dV_h (S, D) = W_h^T dO_h
                                            BLAS.sgemm(transposeA: true, transposeB: false, m: s, n: d, k: t, alpha: 1,
                                                       a: wh, lda: s, b: go + offQ, ldb: c,
                                                       beta: 0, c: dv.storage.pointer + offK, ldc: c)
                                        }
                                        if dq == nil && dk == nil { continue }
                                        // dW_h (T, S) = dO_h V_h^T
                                        BLAS.sgemm(transposeA: false, transposeB: true, m: t, n: s, k: d, alpha: 1,
                                                   a: go + offQ, lda: c, b: v + offK, ldb: c, beta: 0, c: dw, ldc: s)
                                        if let dropMask {
                                            dropMask.withUnsafeBufferPointer { pm in
                                                let mh = pm.baseAddress! + (bi * heads + h) * t * s
                                                for i in 0..<(t * s) { dw[i] *= mh[i] }
                                            }
                                        }
                                        softmaxBackwardRows(y: ph, g: dw, out: ds, rows: t, width: s)
                                        // Masked scores are constants (masked_fill): no gradient flows
                                        // to them. Only matters for a fully masked row, whose uniform
                                        // probabilities would otherwise pass one back.
                                        applyMask(ds, t: t, s: s, padding: mask.keyPadding?[bi], causal: mask.causal,
                                                  offset: causalOffset, negative: 0)
                                        if let dq {
                                            // dQ_h (T, D) = scale dS K_h
                                            BLAS.sgemm(transposeA: false, transposeB: false, m: t, n: d, k: s, alpha: scale,
                                                       a: ds, lda: s, b: k + offK, ldb: c,
                                                       beta: 0, c: dq.storage.pointer + offQ, ldc: c)
                                        }
                                        if let dk {
                                            // dK_h (S, D) = scale dS^T Q_h
                                            BLAS.sgemm(transposeA: true, transposeB: false, m: s, n: d, k: t, alpha: scale,
                                                       a: ds, lda: s, b: q + offQ, ldb: c,
                                                       beta: 0, c: dk.storage.pointer + offK, ldc: c)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if let dq { qNode?.accumulate(dq) }
            if let dk { kNode?.accumulate(dk) }
            if let dv { vNode?.accumulate(dv) }
        }
    }
}

/// Sets masked scores of one (T, S) block to `negative` (0 when masking their gradients).
func applyMask(_ scores: UnsafeMutablePointer<Float>, t: Int, s: Int, padding: [Bool]?, causal: Bool,
               offset: Int, negative: Float) {
    if let padding {
        for j in 0..<s where !padding[j] {
            for i in 0..<t { scores[i * s + j] = negative }
        }
    }
    if causal {
        for i in 0..<t {
            let firstMasked = offset + i + 1
            if firstMasked < s { for j in firstMasked..<s { scores[i * s + j] = negative } }
        }
    }
}
