import IPTCore
import Testing

/// Every differentiable op's tape gradient against central finite differences.
@Suite("Gradients match finite differences")
struct FiniteDifferenceTests {
    let tolerance = 2e-3

    @Test func addBroadcast() {
        let e = gradientError([randomTensor([2, 3, 4], seed: 1), randomTensor([3, 1], seed: 2)]) { $0[0] + $0[1] }
        #expect(e < tolerance)
    }

    @Test func subMulDivBroadcast() {
        let xs = [randomTensor([2, 3], seed: 3), randomTensor([3], seed: 4) + 3]
        #expect(gradientError(xs) { $0[0] - $0[1] } < tolerance)
        #expect(gradientError(xs) { $0[0] * $0[1] } < tolerance)
        #expect(gradientError(xs) { $0[0] / $0[1] } < tolerance)
    }

    @Test func scalarOps() {
        #expect(gradientError([randomTensor([5], seed: 5)]) { 3 - 2 * $0[0] / 4 + 1 } < tolerance)
    }

    @Test func matmulAllTranspositions() {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randomTensor(ta ? [4, 3] : [3, 4], seed: 6)
                let b = randomTensor(tb ? [5, 4] : [4, 5], seed: 7)
                #expect(gradientError([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) } < tolerance)
            }
        }
    }

    @Test func batchedMatmulWithBroadcast() {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randomTensor(ta ? [2, 4, 3] : [2, 3, 4], seed: 8)
                let b = randomTensor(tb ? [5, 4] : [4, 5], seed: 9)
                let bb = randomTensor(tb ? [2, 5, 4] : [2, 4, 5], seed: 10)
                let a2 = randomTensor(ta ? [4, 3] : [3, 4], seed: 11)
                #expect(gradientError([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) } < tolerance)
                #expect(gradientError([a, bb]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) } < tolerance)
                #expect(gradientError([a2, bb]) { Tensor.matmul($0[0], $0[1], transposeA: ta, transposeB: tb) } < tolerance)
            }
        }
    }

    @Test func matmulAlphaAndRank4() {
        #expect(gradientError([randomTensor([3, 4], seed: 40), randomTensor([5, 4], seed: 41)]) {
            Tensor.matmul($0[0], $0[1], transposeB: true, alpha: 0.25)
        } < tolerance)
        #expect(gradientError([randomTensor([2, 2, 3, 4], seed: 42), randomTensor([2, 2, 4, 5], seed: 43)]) {
            Tensor.matmul($0[0], $0[1])
        } < tolerance)
    }

    @Test func linear() {
        let xs = [randomTensor([2, 3, 4], seed: 12), randomTensor([5, 4], seed: 13), randomTensor([5], seed: 14)]
        #expect(gradientError(xs) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) } < tolerance)
        #expect(gradientError(Array(xs.prefix(2))) { Tensor.linear($0[0], weight: $0[1], bias: nil) } < tolerance)
    }

    @Test func reductions() {
        let x = randomTensor([2, 3, 4], seed: 15)
        #expect(gradientError([x]) { $0[0].sum(axes: [1]) } < tolerance)
        #expect(gradientError([x]) { $0[0].sum(axes: [0, 2], keepingDimensions: true) } < tolerance)
        #expect(gradientError([x]) { $0[0].mean(axes: [-1]) } < tolerance)
        #expect(gradientError([x]) { $0[0].max(axis: 1) } < tolerance)
        #expect(gradientError([x]) { $0[0].mean() } < tolerance)
    }

    @Test func shapeOps() {
        let x = randomTensor([2, 3, 4], seed: 16)
        #expect(gradientError([x]) { $0[0].reshaped([6, 4]) } < tolerance)
        #expect(gradientError([x]) { $0[0].permuted([2, 0, 1]) } < tolerance)
        #expect(gradientError([x]) { $0[0].transposed(0, 2) } < tolerance)
        #expect(gradientError([x]) { $0[0].slice(axis: 1, 1..<3) } < tolerance)
        #expect(gradientError([x, randomTensor([2, 2, 4], seed: 17)]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) } < tolerance)
        #expect(gradientError([x]) { Tensor.concatenate($0[0].split(axis: 2, sizes: [1, 3]).reversed(), axis: 2) } < tolerance)
        #expect(gradientError([randomTensor([3, 1], seed: 44)]) { $0[0].broadcast(to: [2, 3, 4]) } < tolerance)
        #expect(gradientError([randomTensor([3, 4], seed: 45)]) { $0[0].unsqueezed(1) } < tolerance)
        #expect(gradientError([x]) { $0[0].max(axis: -1, keepingDimensions: true) } < tolerance)
        #expect(gradientError([x]) { $0[0].mean(axes: [0, -1], keepingDimensions: true) } < tolerance)
    }

    @Test func activations() {
        let x = randomTensor([40], seed: 18, scale: 2)
        #expect(gradientError([x]) { $0[0].tanh() } < tolerance)
        #expect(gradientError([x]) { $0[0].sigmoid() } < tolerance)
        #expect(gradientError([x]) { $0[0].swish() } < tolerance)
        #expect(gradientError([x]) { $0[0].gelu() } < tolerance)
        #expect(gradientError([x]) { $0[0].exp() } < tolerance)
        #expect(gradientError([x]) { $0[0].squared() } < tolerance)
        #expect(gradientError([x * x + 1]) { $0[0].log() } < tolerance)
        #expect(gradientError([x * x + 1]) { $0[0].squareRoot() } < tolerance)
        // relu away from its kink (no element within a step of 0).
        let awayFromZero = Tensor((0..<40).map { i in Float(i % 2 == 0 ? 1 : -1) * (0.1 + Float(i) * 0.05) })
        #expect(gradientError([awayFromZero]) { $0[0].relu() } < tolerance)
        #expect(gradientError([x]) { $0[0].affine(scale: -1.5, shift: 2) } < tolerance)
    }

    @Test func softmaxAndLogSoftmax() {
        let x = randomTensor([3, 7], seed: 19, scale: 2)
        #expect(gradientError([x]) { $0[0].softmax() } < tolerance)
        #expect(gradientError([x]) { $0[0].logSoftmax() } < tolerance)
    }

    @Test func layerNorm() {
        let xs = [randomTensor([3, 8], seed: 20), randomTensor([8], seed: 21), randomTensor([8], seed: 22)]
        #expect(gradientError(xs) { Tensor.layerNorm($0[0], weight: $0[1], bias: $0[2]) } < tolerance)
    }

    @Test func embeddingScatterAdd() {
        let table = randomTensor([6, 3], seed: 23)
        #expect(gradientError([table]) { Tensor.embedding($0[0], indices: [1, 4, 1, 0, 5, 1], indexShape: [2, 3]) } < tolerance)
    }

    @Test func maskedFillAndDropout() {
        let x = randomTensor([4, 5], seed: 24)
        let mask = Tensor([1, 0, 0, 1, 0], shape: [1, 5])
        #expect(gradientError([x]) { $0[0].maskedFill(mask, value: -3) } < tolerance)
        #expect(gradientError([x]) { xs in
            var g = RandomGenerator(seed: 99)  // same mask on every evaluation
            return xs[0].dropout(probability: 0.3, generator: &g)
        } < tolerance)
    }

    @Test func labelSmoothedCrossEntropy() {
        let logits = randomTensor([5, 6], seed: 25, scale: 2)
        let targets: [Int32] = [2, -100, 5, 0, 3]
        for reduction in [LossReduction.sum, .mean, .none] {
            let e = gradientError([logits]) {
                Tensor.labelSmoothedCrossEntropy(logits: $0[0], targets: targets, epsilon: 0.1, reduction: reduction)
            }
            #expect(e < tolerance, "reduction \(reduction)")
        }
    }

    @Test func meanSquaredError() {
        #expect(gradientError([randomTensor([3, 4], seed: 26), randomTensor([3, 4], seed: 27)]) {
            Tensor.meanSquaredError($0[0], $0[1])
        } < tolerance)
    }

    @Test func hadamard() {
        #expect(gradientError([randomTensor([16], seed: 28)]) { $0[0].hadamardTransform() } < tolerance)
        #expect(gradientError([randomTensor([64], seed: 29)]) { $0[0].hadamardTransform() } < tolerance)
    }

    @Test func attention() {
        let (b, t, s, c) = (2, 3, 4, 6)
        let xs = [randomTensor([b, t, c], seed: 30), randomTensor([b, s, c], seed: 31), randomTensor([b, s, c], seed: 32)]
        let padding = [[true, true, false, true], [true, true, true, true]]
        #expect(gradientError(xs) {
            Tensor.attention(query: $0[0], key: $0[1], value: $0[2], heads: 2, mask: AttentionMask(keyPadding: padding))
        } < tolerance)
        let selfXs = [randomTensor([b, s, c], seed: 33), xs[1], xs[2]]
        #expect(gradientError(selfXs) {
            Tensor.attention(query: $0[0], key: $0[1], value: $0[2], heads: 3, mask: AttentionMask(causal: true))
        } < tolerance)
        // Incremental decoding: two queries at key positions 3 and 4 of 5.
        let decoding = [randomTensor([1, 2, c], seed: 34), randomTensor([1, 5, c], seed: 35), randomTensor([1, 5, c], seed: 36)]
        #expect(gradientError(decoding) {
            Tensor.attention(query: $0[0], key: $0[1], value: $0[2], heads: 2, mask: AttentionMask(causal: true), causalOffset: 3)
        } < tolerance)
        // Left padding with a causal mask: query 0 of row 1 sees no key (a uniform row, no gradient).
        let leftPadded = AttentionMask(keyPadding: [[true, true, true, true], [false, true, true, true]], causal: true)
        #expect(gradientError(selfXs) {
            Tensor.attention(query: $0[0], key: $0[1], value: $0[2], heads: 3, mask: leftPadded)
        } < tolerance)
        #expect(gradientError(selfXs) {
            let source = RandomSource(seed: 5)
            return Tensor.attention(query: $0[0], key: $0[1], value: $0[2], heads: 3, dropout: 0.2, randomSource: source)
        } < tolerance)
    }

    /// Attention through the source's projections, with and without dropout on the weights: the
    /// gradients of the query, the source, both weights and both biases.
    @Test func sourceAttention() {
        let (b, t, s, c) = (2, 2, 5, 6)
        let xs = [randomTensor([b, t, c], seed: 40), randomTensor([b, s, c], seed: 41), randomTensor([c, c], seed: 42),
                  randomTensor([c], seed: 43), randomTensor([c, c], seed: 44), randomTensor([c], seed: 45)]
        let padding = AttentionMask(keyPadding: [[true, true, false, true, true], [true, true, true, true, true]])
        #expect(gradientError(xs) {
            Tensor.sourceAttention(query: $0[0], source: $0[1], keyWeight: $0[2], keyBias: $0[3], valueWeight: $0[4],
                                   valueBias: $0[5], heads: 3, mask: padding)
        } < tolerance)
        #expect(gradientError(xs) {
            Tensor.sourceAttention(query: $0[0], source: $0[1], keyWeight: $0[2], keyBias: $0[3], valueWeight: $0[4],
                                   valueBias: $0[5], heads: 2, mask: padding, dropout: 0.3, randomSource: RandomSource(seed: 6))
        } < tolerance)
    }
}
