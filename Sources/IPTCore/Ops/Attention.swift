// Multi-head scaled dot-product attention, fused: forward and backward side by side.
//
// Heads are read in place from the (B, T, C) projections by giving BLAS a leading dimension of C,
// so no (B, H, T, D) permuted copies are made in either direction. The (batch row, head) pairs
// run concurrently on Parallel's workers, each taking the next pair when it is free (on a shared
// machine one core is often slower for a while) and doing its small products on its own thread; the
// mask is folded into the softmax (no pass that writes masked scores), and without a recorded
// graph each worker reuses one (T, S) buffer instead of keeping every head's probabilities.

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
    ///   - mask: padding and causal masking. Masked keys get probability 0; a row whose keys are all
    ///     masked is uniform over all S keys rather than NaN, as with transformers' additive mask
    ///     of the most negative float.
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
        let layout = AttentionLayout(b: b, t: t, s: s, c: c, heads: heads, mask: mask, causalOffset: causalOffset)
        let dropMask = attentionDropoutMask(batch: b, heads: heads, queries: t, keys: s, probability: dropout,
                                            randomSource: randomSource)
        let recording = GradientRecording.isEnabled && (query.node != nil || key.node != nil || value.node != nil)
        // P after softmax, before dropout, for every (row, head) when the backward needs it.
        let probabilities: Tensor? = recording ? Tensor.uninitialized([b, heads, t, s]) : nil
        let out = Tensor.uninitialized([b, t, c])
        query.withUnsafeBufferPointer { pq in
            key.withUnsafeBufferPointer { pk in
                value.withUnsafeBufferPointer { pv in
                    let q = pq.baseAddress!, k = pk.baseAddress!, v = pv.baseAddress!, o = out.storage.pointer
                    let kept = probabilities?.storage.pointer, dropped = dropMask?.storage.pointer
                    Parallel.forEachItem(b * heads) { next in
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: kept == nil || dropped != nil ? t * s : 1)
                        defer { scratch.deallocate() }
                        while let pair = next() {
                            let (bi, h) = (pair / heads, pair % heads)
                            let ph = kept.map { $0 + pair * t * s } ?? scratch
                            // scores (T, S) = scale * Q_h K_h^T, then the masked softmax per row
                            BLAS.serialSgemm(transposeA: false, transposeB: true, m: t, n: s, k: d, alpha: scale,
                                             a: q + bi * t * c + h * d, lda: c, b: k + bi * s * c + h * d, ldb: c,
                                             beta: 0, c: ph, ldc: s)
                            layout.maskedSoftmax(ph, rows: t, batchRow: bi)
                            var weights = UnsafePointer(ph)
                            if let dropped {
                                let mh = dropped + pair * t * s
                                for i in 0..<(t * s) { scratch[i] = ph[i] * mh[i] }
                                weights = UnsafePointer(scratch)
                            }
                            // out_h (T, D) = W_h V_h
                            BLAS.serialSgemm(transposeA: false, transposeB: false, m: t, n: d, k: s, alpha: 1,
                                             a: weights, lda: s, b: v + bi * s * c + h * d, ldb: c,
                                             beta: 0, c: o + bi * t * c + h * d, ldc: c)
                        }
                    }
                }
            }
        }
        guard let probabilities else { return out }
        let qNode = query.node, kNode = key.node, vNode = value.node
        // Keep only the inputs the backward reads: K for dQ, Q for dK, V for both (dP = dO V^T).
        let empty = Tensor.zeros([0])
        let kv = qNode != nil ? key.detached() : empty
        let qv = kNode != nil ? query.detached() : empty
        let vv = qNode != nil || kNode != nil ? value.detached() : empty
        return out.recorded(from: [query, key, value]) { g in
            let dq = qNode != nil ? Tensor.uninitialized([b, t, c]) : nil
            let dk = kNode != nil ? Tensor.uninitialized([b, s, c]) : nil
            let dv = vNode != nil ? Tensor.uninitialized([b, s, c]) : nil
            g.withUnsafeBufferPointer { pg in
                qv.withUnsafeBufferPointer { pq in
                    kv.withUnsafeBufferPointer { pk in
                        vv.withUnsafeBufferPointer { pv in
                            let go = pg.baseAddress!, q = pq.baseAddress!, k = pk.baseAddress!, v = pv.baseAddress!
                            let p = probabilities.storage.pointer, dropped = dropMask?.storage.pointer
                            Parallel.forEachItem(b * heads) { next in
                                // dW (then dS) and, with dropout, the dropped weights of one head.
                                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * t * s)
                                defer { scratch.deallocate() }
                                let ds = scratch, wh = scratch + t * s
                                while let pair = next() {
                                    let (bi, h) = (pair / heads, pair % heads)
                                    let offQ = bi * t * c + h * d, offK = bi * s * c + h * d
                                    let ph = p + pair * t * s
                                    if let dv {
                                        var weights = UnsafePointer(ph)
                                        if let dropped {
                                            let mh = dropped + pair * t * s
                                            for i in 0..<(t * s) { wh[i] = ph[i] * mh[i] }
                                            weights = UnsafePointer(wh)
                                        }
                                        // dV_h (S, D) = W_h^T dO_h
                                        BLAS.serialSgemm(transposeA: true, transposeB: false, m: s, n: d, k: t, alpha: 1,
                                                         a: weights, lda: s, b: go + offQ, ldb: c,
                                                         beta: 0, c: dv.storage.pointer + offK, ldc: c)
                                    }
                                    if dq == nil && dk == nil { continue }
                                    // dW_h (T, S) = dO_h V_h^T
                                    BLAS.serialSgemm(transposeA: false, transposeB: true, m: t, n: s, k: d, alpha: 1,
                                                     a: go + offQ, lda: c, b: v + offK, ldb: c, beta: 0, c: ds, ldc: s)
                                    if let dropped {
                                        let mh = dropped + pair * t * s
                                        for i in 0..<(t * s) { ds[i] *= mh[i] }
                                    }
                                    layout.maskedSoftmaxBackward(probabilities: ph, gradient: ds, rows: t, batchRow: bi)
                                    if let dq {
                                        // dQ_h (T, D) = scale dS K_h
                                        BLAS.serialSgemm(transposeA: false, transposeB: false, m: t, n: d, k: s, alpha: scale,
                                                         a: ds, lda: s, b: k + offK, ldb: c,
                                                         beta: 0, c: dq.storage.pointer + offQ, ldc: c)
                                    }
                                    if let dk {
                                        // dK_h (S, D) = scale dS^T Q_h
                                        BLAS.serialSgemm(transposeA: true, transposeB: false, m: s, n: d, k: t, alpha: scale,
                                                         a: ds, lda: s, b: q + offQ, ldb: c,
                                                         beta: 0, c: dk.storage.pointer + offK, ldc: c)
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

extension Tensor {
    /// The scaled keep mask `(B, H, T, S)` for dropout on attention weights, in (batch row, head,
    /// query, key) order; nil when `probability` is 0. `attention` and `sourceAttention` both draw
    /// it here, so the two give the same result from the same random stream.
    static func attentionDropoutMask(batch b: Int, heads: Int, queries t: Int, keys s: Int, probability: Float,
                                     randomSource: RandomSource?) -> Tensor? {
        guard probability > 0 else { return nil }
        guard let randomSource else { preconditionFailure("attention dropout needs a random source") }
        return Tensor.ones([b, heads, t, s]).dropout(probability: probability, generator: &randomSource.generator)
    }
}

/// The shapes and mask of one attention call, and its row-wise masked softmax.
struct AttentionLayout {
    let b, t, s, c, heads: Int
    let causal: Bool
    let causalOffset: Int
    /// Per batch row, 0 for attended keys and -inf for padded ones; nil without padding.
    let keyBias: [[Float]]?

    init(b: Int, t: Int, s: Int, c: Int, heads: Int, mask: AttentionMask, causalOffset: Int) {
        (self.b, self.t, self.s, self.c, self.heads) = (b, t, s, c, heads)
        causal = mask.causal
        self.causalOffset = causalOffset
        keyBias = mask.keyPadding.map { rows in rows.map { row in row.map { $0 ? 0 : -Float.infinity } } }
    }

    /// Keys `0 ..< limit(i)` are not causally masked for query row i.
    func limit(_ i: Int) -> Int { causal ? Swift.max(0, Swift.min(s, causalOffset + i + 1)) : s }

    /// Replaces the (rows, S) scores of one head (rows = T), or of several heads' queries stacked
    /// without a causal mask, by attention probabilities: softmax over the keys the mask allows, 0
    /// elsewhere, uniform over all S keys for a row without any.
    func maskedSoftmax(_ scores: UnsafeMutablePointer<Float>, rows: Int, batchRow: Int) {
        let bias = keyBias?[batchRow]
        for i in 0..<rows {
            let row = scores + i * s, n = limit(i)
            if let bias {
                bias.withUnsafeBufferPointer { pb in
                    var j = 0
                    while j + 16 <= n { store16(load16(row + j) + load16(pb.baseAddress! + j), row + j); j += 16 }
                    while j < n { row[j] += pb[j]; j += 1 }
                }
            }
            let m = rowMaximum(row, n)
            if m == -.infinity {
                for j in 0..<s { row[j] = 1 / Float(s) }
                continue
            }
            let sum = exponentiateShifted(row, row, n, shift: m)
            scaleRow(row, n, by: 1 / sum)
            for j in n..<s { row[j] = 0 }
        }
    }

    /// Replaces dP of one head's (rows, S) probabilities (rows = T), or of several heads' rows
    /// stacked without a causal mask, by dS (the gradient of the scores), given the probabilities P.
    /// Masked scores are constants (masked_fill): a row without attended keys passes nothing back.
    func maskedSoftmaxBackward(probabilities p: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>,
                               rows: Int, batchRow: Int) {
        // Row i attends to some key iff the first unpadded key is among its first limit(i).
        let firstAttended = keyBias?[batchRow].firstIndex(of: 0) ?? (keyBias == nil ? 0 : s)
        for i in 0..<rows {
            let n = limit(i)
            if firstAttended < n {
                softmaxBackwardRow(y: p + i * s, g: g + i * s, out: g + i * s, n)
                for j in n..<s { g[i * s + j] = 0 }
            } else {
                for j in 0..<s { g[i * s + j] = 0 }
            }
        }
    }
}
