import Testing
@testable import IPTCore

/// `Tensor.sourceAttention` at sizes where the work is split (heads across workers for one item,
/// dE by column blocks) against projecting the source and calling `Tensor.attention` (both are
/// PyTorch-parity tested on small cases in TorchParityTests).
@Suite("Attention through the source's projections")
struct SourceAttentionTests {
    struct Inputs {
        let q, e, wk, bk, wv, bv: Tensor
        let mask: AttentionMask

        init(items: Int, queries: Int, sourceLength: Int, width: Int, seed: UInt64) {
            var g = RandomGenerator(seed: seed)
            q = Tensor.randomNormal([items, queries, width], generator: &g).requiringGradient()
            e = Tensor.randomNormal([items, sourceLength, width], generator: &g).requiringGradient()
            let bound = 1 / Float(width).squareRoot()
            wk = Tensor.randomNormal([width, width], standardDeviation: bound, generator: &g).requiringGradient()
            bk = Tensor.randomNormal([width], generator: &g).requiringGradient()
            wv = Tensor.randomNormal([width, width], standardDeviation: bound, generator: &g).requiringGradient()
            bv = Tensor.randomNormal([width], generator: &g).requiringGradient()
            // Item i has its last i keys padded; the last item (with more than one) has none left.
            mask = AttentionMask(keyPadding: (0..<items).map { i in
                let padded = items > 1 && i == items - 1 ? sourceLength : i
                return (0..<sourceLength).map { $0 < sourceLength - padded }
            })
        }

        var all: [Tensor] { [q, e, wk, bk, wv, bv] }
    }

    /// Output and the gradients of one call (of q, e, wk, bk, wv, bv; without `biases`, of q, e,
    /// wk, wv), seeded with a fixed upstream gradient; with `dropout`, the mask is drawn from a
    /// source seeded 11.
    static func run(_ x: Inputs, heads: Int, folded: Bool, dropout: Float = 0, biases: Bool = true) -> [Tensor] {
        let source = RandomSource(seed: 11)
        let (bk, bv) = biases ? (x.bk, x.bv) : (nil, nil)
        let y = folded
            ? Tensor.sourceAttention(query: x.q, source: x.e, keyWeight: x.wk, keyBias: bk, valueWeight: x.wv,
                                     valueBias: bv, heads: heads, mask: x.mask, dropout: dropout, randomSource: source)
            : Tensor.attention(query: x.q, key: Tensor.linear(x.e, weight: x.wk, bias: bk),
                               value: Tensor.linear(x.e, weight: x.wv, bias: bv), heads: heads, mask: x.mask,
                               dropout: dropout, randomSource: source)
        var g = RandomGenerator(seed: 99)
        y.backward(seed: Tensor.randomNormal(y.shape, generator: &g))
        let differentiated = biases ? x.all : [x.q, x.e, x.wk, x.wv]
        return [y.detached()] + differentiated.map { $0.gradient! }
    }

    /// With and without dropout on the attention weights (the same mask both ways).
    @Test(arguments: [(1, 3, 40, 128, 4, 0), (3, 5, 33, 128, 8, 0), (9, 2, 17, 64, 2, 0),
                      (1, 3, 40, 128, 4, 0.3), (3, 5, 33, 128, 8, 0.25)] as [(Int, Int, Int, Int, Int, Float)])
    func matchesProjectingTheSource(items: Int, queries: Int, sourceLength: Int, width: Int, heads: Int, dropout: Float) {
        let folded = Self.run(Inputs(items: items, queries: queries, sourceLength: sourceLength, width: width, seed: 7),
                              heads: heads, folded: true, dropout: dropout)
        let projected = Self.run(Inputs(items: items, queries: queries, sourceLength: sourceLength, width: width, seed: 7),
                                 heads: heads, folded: false, dropout: dropout)
        // Dropout changed the output (the mask was applied at all).
        if dropout > 0 {
            let plain = Self.run(Inputs(items: items, queries: queries, sourceLength: sourceLength, width: width, seed: 7),
                                 heads: heads, folded: true)
            #expect(plain[0].maxAbsDifference(folded[0]) > 1e-3)
        }
        for (name, (a, b)) in zip(["y", "dq", "de", "dwk", "dbk", "dwv", "dbv"], zip(folded, projected)) {
            let scale = b.scalars.map(abs).max() ?? 0
            // dbk is zero in exact arithmetic: the projected side is rounding noise around it.
            let tolerance: Float = name == "dbk" ? 1e-3 : 2e-5 * Swift.max(scale, 1)
            #expect(a.maxAbsDifference(b) <= tolerance, "\(name): \(a.maxAbsDifference(b)) (largest \(scale))")
        }
        #expect(folded[4].scalars.allSatisfy { $0 == 0 })
    }

    /// Without biases (and with dropout): the same as projecting without biases.
    @Test func withoutBiases() {
        let x = Inputs(items: 3, queries: 4, sourceLength: 11, width: 32, seed: 5)
        let folded = Self.run(x, heads: 4, folded: true, dropout: 0.2, biases: false)
        let projected = Self.run(Inputs(items: 3, queries: 4, sourceLength: 11, width: 32, seed: 5), heads: 4,
                                 folded: false, dropout: 0.2, biases: false)
        #expect(folded.count == 5)
        for (a, b) in zip(folded, projected) {
            let scale = b.scalars.map(abs).max() ?? 0
            #expect(a.maxAbsDifference(b) <= 2e-5 * Swift.max(scale, 1))
        }
    }

    /// Without a recorded graph the values are the same.
    @Test func inferenceGivesTheSameValues() {
        let x = Inputs(items: 2, queries: 4, sourceLength: 9, width: 32, seed: 3)
        let recorded = Tensor.sourceAttention(query: x.q, source: x.e, keyWeight: x.wk, keyBias: x.bk, valueWeight: x.wv,
                                              valueBias: x.bv, heads: 4, mask: x.mask)
        let plain = withoutGradients {
            Tensor.sourceAttention(query: x.q, source: x.e, keyWeight: x.wk, keyBias: x.bk, valueWeight: x.wv,
                                   valueBias: x.bv, heads: 4, mask: x.mask)
        }
        #expect(plain.node == nil)
        #expect(plain.maxAbsDifference(recorded) == 0)
    }

    /// The cost rule: at the paper's shapes (bart-base, 8 target tokens, 228 encoder positions)
    /// folding needs about a sixth of the multiply-adds; at as many queries as a head has
    /// dimensions it no longer pays (with the backward, from about 39).
    @Test func savesWorkForFewQueriesOnly() {
        #expect(Tensor.sourceAttentionSavesWork(queries: 8, sourceLength: 228, width: 768, heads: 12))
        #expect(!Tensor.sourceAttentionSavesWork(queries: 64, sourceLength: 228, width: 768, heads: 12))
        #expect(!Tensor.sourceAttentionSavesWork(queries: 8, sourceLength: 2, width: 768, heads: 12))
        // The backward weighs the per-head products more: 48 queries pay for a forward pass only.
        #expect(Tensor.sourceAttentionSavesWork(queries: 48, sourceLength: 228, width: 768, heads: 12))
        #expect(!Tensor.sourceAttentionSavesWork(queries: 48, sourceLength: 228, width: 768, heads: 12, backward: true))
        #expect(Tensor.sourceAttentionSavesWork(queries: 8, sourceLength: 228, width: 768, heads: 12, backward: true))
    }
}
