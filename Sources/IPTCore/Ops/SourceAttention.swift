// Attention over a source's key and value projections without computing them: forward and
// backward side by side.
//
// Cross-attention with few queries per source (a teacher-forced decoder reads 8 target tokens
// against 228 encoder positions in the paper's setting) spends most of its time projecting the
// source: K = E Wk^T + bk and V = E Wv^T + bv cost 2 S C^2 multiply-adds per item, the attention
// itself only 2 T S C. Per head h the projections fold into the queries instead:
//     scores_h = Q_h K_h^T = (Q_h Wk_h) E^T + Q_h bk_h   (the last term is the same for every key
//                                                          of a query: softmax drops it)
//     out_h    = P_h V_h   = (P_h E) Wv_h^T + bv_h       (each row of P sums to 1)
// which costs 2 T C^2 + 2 H T S C: fewer when H T < C roughly, i.e. fewer queries than the head
// width. The backward is 2 T C^2 + 4 H T S C against 2 S C^2 + 4 T S C (input gradients).
// `sourceAttentionSavesWork` is that comparison. The result is the same function up to
// float rounding, and so are the gradients (bk's is exactly zero). With dropout on the attention
// weights W = P * M (M the scaled keep mask) a row of W no longer sums to 1: out_h = (W_h E) Wv_h^T
// + r bv_h with r the row sums of W. The mask comes from `attentionDropoutMask`, as `attention`'s
// does, so both ways give the same result for the same random stream.
//
// Per item the H heads' folded queries are one (H T, C) matrix, so the scores and P E are one
// product each against the item's E (or one per group of heads, when there are fewer items than
// workers); only the (T, D) <-> (T, C) steps are per head.

extension Tensor {
    /// Whether ``sourceAttention(query:source:keyWeight:keyBias:valueWeight:valueBias:heads:mask:dropout:randomSource:)``
    /// needs fewer multiply-adds than projecting the source and calling
    /// ``attention(query:key:value:heads:mask:dropout:randomSource:causalOffset:)``.
    ///
    /// - Parameters:
    ///   - queries: query rows per item (T); `sourceLength`: source rows per item (S);
    ///     `width`: C; `heads`: H.
    ///   - backward: whether the input gradients will be computed too (they weigh the per-head
    ///     products more); default false, the forward pass alone.
    public static func sourceAttentionSavesWork(queries: Int, sourceLength: Int, width: Int, heads: Int,
                                                backward: Bool = false) -> Bool {
        let (t, s, c, h) = (queries, sourceLength, width, heads)
        // Multiply-adds / 2: forward T C^2 + H T S C against S C^2 + T S C; with the backward
        // 2 T C^2 + 3 H T S C against 2 S C^2 + 3 T S C.
        let products = backward ? 3 : 1, projections = backward ? 2 : 1
        let folded = projections * t * c * c + products * h * t * c * s
        let projected = projections * s * c * c + products * t * s * c
        return folded < projected
    }

    /// `attention(query, linear(source, Wk, bk), linear(source, Wv, bv))` without forming the keys
    /// and values: the projections are folded into the queries and the attended source (see the
    /// file comment). No causal mask (cross-attention).
    ///
    /// - Parameters:
    ///   - query: `(B, T, C)`, projected queries (unscaled; 1/sqrt(D) is applied here).
    ///   - source: `(B, S, C)`, the rows keys and values are projected from.
    ///   - keyWeight, valueWeight: `(C, C)`, PyTorch layout `(out, in)`.
    ///   - keyBias: `(C)` or nil. It does not change the result (softmax is shift-invariant); a
    ///     trainable one receives its exact gradient, zero.
    ///   - valueBias: `(C)` or nil.
    ///   - heads: number of heads; C must be a multiple.
    ///   - mask: key padding (`causal` must be false).
    ///   - dropout: probability for dropout on the attention weights (training only); default 0.
    ///     The mask is the one ``attention(query:key:value:heads:mask:dropout:randomSource:causalOffset:)``
    ///     would draw from the same source.
    ///   - randomSource: source of the dropout mask; required when `dropout > 0`.
    /// - Returns: `(B, T, C)`, the heads concatenated.
    public static func sourceAttention(query: Tensor, source: Tensor, keyWeight: Tensor, keyBias: Tensor?,
                                       valueWeight: Tensor, valueBias: Tensor?, heads: Int,
                                       mask: AttentionMask = AttentionMask(), dropout: Float = 0,
                                       randomSource: RandomSource? = nil) -> Tensor {
        precondition(query.rank == 3 && source.rank == 3 && source.shape[0] == query.shape[0]
                     && source.shape[2] == query.shape[2], "sourceAttention: query \(query.shape), source \(source.shape)")
        let (b, t, c) = (query.shape[0], query.shape[1], query.shape[2])
        let s = source.shape[1]
        precondition(keyWeight.shape == [c, c] && valueWeight.shape == [c, c] && heads > 0 && c % heads == 0,
                     "sourceAttention: weights \(keyWeight.shape) / \(valueWeight.shape) for width \(c), \(heads) heads")
        precondition(keyBias.map { $0.shape == [c] } ?? true && valueBias.map { $0.shape == [c] } ?? true,
                     "sourceAttention: bias shapes")
        precondition(!mask.causal, "sourceAttention: no causal mask")
        if let padding = mask.keyPadding {
            precondition(padding.count == b && padding.allSatisfy { $0.count == s }, "sourceAttention: key mask shape")
        }
        let d = c / heads, hq = heads * t
        let scale = 1 / Float(d).squareRoot()
        let layout = AttentionLayout(b: b, t: hq, s: s, c: c, heads: heads, mask: mask, causalOffset: 0)
        let units = SourceAttentionUnits(items: b, parts: heads)
        let dropMask = attentionDropoutMask(batch: b, heads: heads, queries: t, keys: s, probability: dropout,
                                            randomSource: randomSource)
        // Per item: the folded queries Q~ (H T, C), the probabilities P (H T, S) and W E (H T, C),
        // with dropout also the weights W = P * M (H T, S) and their row sums r.
        let folded = Tensor.uninitialized([b, hq, c]), probabilities = Tensor.uninitialized([b, hq, s])
        let attendedSource = Tensor.uninitialized([b, hq, c])
        let weights = dropMask != nil ? Tensor.uninitialized([b, hq, s]) : probabilities
        let rowSums = dropMask != nil ? Tensor.uninitialized([b, hq]) : Tensor.zeros([0])
        let out = Tensor.uninitialized([b, t, c])
        let biasRow = valueBias.map { $0.scalars } ?? [Float](repeating: 0, count: c)
        query.withUnsafeBufferPointer { pq in
            source.withUnsafeBufferPointer { pe in
                keyWeight.withUnsafeBufferPointer { pwk in
                    valueWeight.withUnsafeBufferPointer { pwv in
                        let q = pq.baseAddress!, e = pe.baseAddress!, wk = pwk.baseAddress!, wv = pwv.baseAddress!
                        let qf = folded.storage.pointer, p = probabilities.storage.pointer
                        let pes = attendedSource.storage.pointer, o = out.storage.pointer
                        let w = weights.storage.pointer, r = rowSums.storage.pointer
                        let dropped = dropMask?.storage.pointer
                        Parallel.forEachItem(units.count) { next in
                            while let unit = next() {
                                let (bi, hs) = units[unit]
                                let rows = hs.count * t, first = hs.lowerBound * t
                                let eb = e + bi * s * c
                                let qfu = qf + (bi * hq + first) * c, pu = p + (bi * hq + first) * s
                                let peu = pes + (bi * hq + first) * c
                                for h in hs {
                                    // Q~_h (T, C) = Q_h Wk_h
                                    BLAS.serialSgemm(transposeA: false, transposeB: false, m: t, n: c, k: d, alpha: 1,
                                                     a: q + bi * t * c + h * d, lda: c, b: wk + h * d * c, ldb: c,
                                                     beta: 0, c: qf + (bi * hq + h * t) * c, ldc: c)
                                }
                                // scores (rows, S) = scale Q~ E^T, then the masked softmax per row
                                BLAS.serialSgemm(transposeA: false, transposeB: true, m: rows, n: s, k: c, alpha: scale,
                                                 a: qfu, lda: c, b: eb, ldb: c, beta: 0, c: pu, ldc: s)
                                layout.maskedSoftmax(pu, rows: rows, batchRow: bi)
                                let wu = w + (bi * hq + first) * s
                                if let dropped {
                                    // W = P * M and its row sums
                                    let mu = dropped + (bi * hq + first) * s, ru = r + bi * hq + first
                                    for i in 0..<rows {
                                        var sum: Float = 0
                                        for j in 0..<s { wu[i * s + j] = pu[i * s + j] * mu[i * s + j]; sum += wu[i * s + j] }
                                        ru[i] = sum
                                    }
                                }
                                // W E (rows, C)
                                BLAS.serialSgemm(transposeA: false, transposeB: false, m: rows, n: c, k: s, alpha: 1,
                                                 a: wu, lda: s, b: eb, ldb: c, beta: 0, c: peu, ldc: c)
                                for h in hs {
                                    // out_h (T, D) = (W E)_h Wv_h^T + r bv_h (r = 1 without dropout)
                                    let oh = o + bi * t * c + h * d
                                    for i in 0..<t {
                                        let ri: Float = dropped == nil ? 1 : r[bi * hq + h * t + i]
                                        for j in 0..<d { oh[i * c + j] = ri * biasRow[h * d + j] }
                                    }
                                    BLAS.serialSgemm(transposeA: false, transposeB: true, m: t, n: d, k: c, alpha: 1,
                                                     a: pes + (bi * hq + h * t) * c, lda: c, b: wv + h * d * c, ldb: c,
                                                     beta: 1, c: oh, ldc: c)
                                }
                            }
                        }
                    }
                }
            }
        }
        let inputs = [query, source, keyWeight, valueWeight] + [keyBias, valueBias].compactMap { $0 }
        guard GradientRecording.isEnabled, inputs.contains(where: { $0.node != nil }) else { return out }
        let qNode = query.node, eNode = source.node, wkNode = keyWeight.node, wvNode = valueWeight.node
        let bkNode = keyBias?.node, bvNode = valueBias?.node
        let (querySaved, sourceSaved) = (query.detached(), source.detached())
        let (wkSaved, wvSaved) = (keyWeight.detached(), valueWeight.detached())
        let biasSaved = valueBias?.detached()
        return out.recorded(from: inputs) { g in
            // The scores' gradient dS (rows, S), d(W E) and dQ~ (rows, C) of every item.
            let ds = Tensor.uninitialized([b, hq, s]), dpe = Tensor.uninitialized([b, hq, c])
            let dqf = Tensor.uninitialized([b, hq, c])
            let dq = qNode != nil ? Tensor.uninitialized([b, t, c]) : nil
            let de = eNode != nil ? Tensor.uninitialized([b, s, c]) : nil
            g.withUnsafeBufferPointer { pg in
                querySaved.withUnsafeBufferPointer { pq in
                    sourceSaved.withUnsafeBufferPointer { pe in
                        wkSaved.withUnsafeBufferPointer { pwk in
                            wvSaved.withUnsafeBufferPointer { pwv in
                                let go = pg.baseAddress!, q = pq.baseAddress!, e = pe.baseAddress!
                                let wk = pwk.baseAddress!, wv = pwv.baseAddress!
                                let qf = folded.storage.pointer, p = probabilities.storage.pointer
                                let pes = attendedSource.storage.pointer, w = weights.storage.pointer
                                let dropped = dropMask?.storage.pointer
                                let dsp = ds.storage.pointer, dpep = dpe.storage.pointer, dqfp = dqf.storage.pointer
                                Parallel.forEachItem(units.count) { next in
                                    while let unit = next() {
                                        let (bi, hs) = units[unit]
                                        let rows = hs.count * t, first = bi * hq + hs.lowerBound * t
                                        let eb = e + bi * s * c
                                        for h in hs {
                                            // d(W E)_h (T, C) = dO_h Wv_h
                                            BLAS.serialSgemm(transposeA: false, transposeB: false, m: t, n: c, k: d, alpha: 1,
                                                             a: go + bi * t * c + h * d, lda: c, b: wv + h * d * c, ldb: c,
                                                             beta: 0, c: dpep + (bi * hq + h * t) * c, ldc: c)
                                        }
                                        // dW (rows, S) = d(W E) E^T
                                        BLAS.serialSgemm(transposeA: false, transposeB: true, m: rows, n: s, k: c, alpha: 1,
                                                         a: dpep + first * c, lda: c, b: eb, ldb: c,
                                                         beta: 0, c: dsp + first * s, ldc: s)
                                        if let dropped {
                                            // With dropout: + dr (from r bv, dr = dO_h . bv_h) in every
                                            // column, then dP = dW * M.
                                            for h in hs {
                                                for i in 0..<t {
                                                    let row = bi * hq + h * t + i, dO = go + (bi * t + i) * c + h * d
                                                    var dr: Float = 0
                                                    if let bias = biasSaved?.storage.pointer {
                                                        for j in 0..<d { dr += dO[j] * bias[h * d + j] }
                                                    }
                                                    let dw = dsp + row * s, m = dropped + row * s
                                                    for j in 0..<s { dw[j] = (dw[j] + dr) * m[j] }
                                                }
                                            }
                                        }
                                        // dS through the masked softmax
                                        layout.maskedSoftmaxBackward(probabilities: p + first * s, gradient: dsp + first * s,
                                                                     rows: rows, batchRow: bi)
                                        // dQ~ (rows, C) = scale dS E
                                        BLAS.serialSgemm(transposeA: false, transposeB: false, m: rows, n: c, k: s, alpha: scale,
                                                         a: dsp + first * s, lda: s, b: eb, ldb: c,
                                                         beta: 0, c: dqfp + first * c, ldc: c)
                                        if let dq {
                                            for h in hs {
                                                // dQ_h (T, D) = dQ~_h Wk_h^T
                                                BLAS.serialSgemm(transposeA: false, transposeB: true, m: t, n: d, k: c, alpha: 1,
                                                                 a: dqfp + (bi * hq + h * t) * c, lda: c, b: wk + h * d * c,
                                                                 ldb: c, beta: 0, c: dq.storage.pointer + bi * t * c + h * d,
                                                                 ldc: c)
                                            }
                                        }
                                    }
                                }
                                if let de {
                                    // dE (S, C) = W^T d(W E) + scale dS^T Q~ per item, split by column
                                    // blocks so one item still keeps both workers busy.
                                    let blocks = SourceAttentionUnits(items: b, parts: Swift.max(1, c / 64))
                                    Parallel.forEachItem(blocks.count) { next in
                                        while let unit = next() {
                                            let (bi, part) = blocks[unit]
                                            let columns = (part.lowerBound * c / blocks.parts)..<(part.upperBound * c / blocks.parts)
                                            let rowBase = bi * hq, out = de.storage.pointer + bi * s * c + columns.lowerBound
                                            BLAS.serialSgemm(transposeA: true, transposeB: false, m: s, n: columns.count, k: hq,
                                                             alpha: 1, a: w + rowBase * s, lda: s,
                                                             b: dpep + rowBase * c + columns.lowerBound, ldb: c,
                                                             beta: 0, c: out, ldc: c)
                                            BLAS.serialSgemm(transposeA: true, transposeB: false, m: s, n: columns.count, k: hq,
                                                             alpha: scale, a: dsp + rowBase * s, lda: s,
                                                             b: qf + rowBase * c + columns.lowerBound, ldb: c,
                                                             beta: 1, c: out, ldc: c)
                                        }
                                    }
                                }
                                if wkNode != nil || wvNode != nil {
                                    // Zeros: with no items the loop below writes nothing.
                                    let dwk = wkNode != nil ? Tensor.zeros([c, c]) : nil
                                    let dwv = wvNode != nil ? Tensor.zeros([c, c]) : nil
                                    Parallel.forEachItem(heads) { next in
                                        while let h = next() {
                                            for bi in 0..<b {
                                                if let dwk {
                                                    // dWk_h (D, C) += Q_h^T dQ~_h
                                                    BLAS.serialSgemm(transposeA: true, transposeB: false, m: d, n: c, k: t,
                                                                     alpha: 1, a: q + bi * t * c + h * d, lda: c,
                                                                     b: dqfp + (bi * hq + h * t) * c, ldb: c,
                                                                     beta: 1, c: dwk.storage.pointer + h * d * c, ldc: c)
                                                }
                                                if let dwv {
                                                    // dWv_h (D, C) += dO_h^T (W E)_h
                                                    BLAS.serialSgemm(transposeA: true, transposeB: false, m: d, n: c, k: t,
                                                                     alpha: 1, a: go + bi * t * c + h * d, lda: c,
                                                                     b: pes + (bi * hq + h * t) * c, ldb: c,
                                                                     beta: 1, c: dwv.storage.pointer + h * d * c, ldc: c)
                                                }
                                            }
                                        }
                                    }
                                    if let dwk { wkNode?.accumulate(dwk) }
                                    if let dwv { wvNode?.accumulate(dwv) }
                                }
                            }
                        }
                    }
                }
            }
            if let dq { qNode?.accumulate(dq) }
            if let de { eNode?.accumulate(de) }
            bkNode?.accumulate(Tensor.zeros([c]))
            if let bvNode {
                if dropMask != nil {
                    // dbv_h = sum over rows of r dO_h
                    var dbv = [Float](repeating: 0, count: c)
                    let go = g.scalars, r = rowSums.scalars
                    for bi in 0..<b { for h in 0..<heads { for i in 0..<t {
                        let ri = r[bi * hq + h * t + i], row = (bi * t + i) * c + h * d
                        for j in 0..<d { dbv[h * d + j] += ri * go[row + j] }
                    } } }
                    bvNode.accumulate(Tensor(dbv))
                } else {
                    bvNode.accumulate(g.reshaped([b * t, c]).sum(axes: [0]))
                }
            }
        }
    }
}

/// Work units of ``Tensor/sourceAttention(query:source:keyWeight:keyBias:valueWeight:valueBias:heads:mask:dropout:randomSource:)``:
/// each item's `parts` (heads, or column blocks of dE) in contiguous groups, one group per item
/// unless there are too few items to keep every worker busy (a group of heads shares one pass
/// over its item's source rows).
struct SourceAttentionUnits {
    let items, parts, groups: Int

    init(items: Int, parts: Int) {
        self.items = items
        self.parts = parts
        let wanted = 2 * Parallel.workers
        groups = items >= wanted ? 1 : Swift.min(parts, (wanted + Swift.max(items, 1) - 1) / Swift.max(items, 1))
    }

    var count: Int { items * groups }

    /// The item and the range of its parts in unit `i`.
    subscript(i: Int) -> (item: Int, parts: Range<Int>) {
        let (item, group) = (i / groups, i % groups)
        return (item, (group * parts / groups)..<((group + 1) * parts / groups))
    }
}
