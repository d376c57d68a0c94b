import IPTCore
import Testing

@Suite("Autodiff: accumulation, freezing, inference mode, training")
struct AutodiffTests {
    static func random(_ shape: [Int], seed: UInt64) -> Tensor { randomTensor(shape, seed: seed) }

    /// A parameter used twice (a tied embedding and LM head) gets the sum of both uses' gradients.
    @Test func tiedWeightGetsTheSumOfItsUses() throws {
        let p = Parameter(Self.random([3, 2], seed: 1))
        let x = Self.random([4, 2], seed: 2)
        func loss(_ first: Tensor, _ second: Tensor) -> Tensor {
            let hidden = Tensor.linear(x, weight: first, bias: nil)   // (4, 3)
            return Tensor.matmul(hidden, second).tanh().sum()         // (4, 3) x (3, 2)
        }
        loss(p.tensor, p.tensor).backward()
        let first = p.value.requiringGradient(), second = p.value.requiringGradient()
        loss(first, second).backward()
        let expected = try #require(first.gradient) + #require(second.gradient)
        let tied = try #require(p.gradient)
        #expect(tied.maxAbsDifference(expected) < 1e-6)
        #expect(try #require(first.gradient).maxAbsDifference(expected) > 1e-3)  // both uses matter
    }

    /// A layer input feeding two projections and a residual: the projections' input gradients
    /// (g W) are added into the gradient that has already arrived (GEMM with beta 1), and the sum
    /// matches a double-precision reference whatever order the contributions come in.
    @Test func productsAddIntoTheGradientThatArrived() throws {
        let (rows, width, out) = (6, 5, 7)
        let w1 = Self.random([out, width], seed: 20), w2 = Self.random([out, width], seed: 21)
        let r1 = Self.random([rows, out], seed: 22), r2 = Self.random([rows, out], seed: 23)
        let r0 = Self.random([rows, width], seed: 24)
        // d/dx of sum(r1 * x W1^T) + sum(r2 * x W2^T) + sum(r0 * x) = r1 W1 + r2 W2 + r0.
        var expected = [Double](repeating: 0, count: rows * width)
        for i in 0..<rows {
            for j in 0..<width {
                var v = Double(r0[i, j])
                for o in 0..<out { v += Double(r1[i, o]) * Double(w1[o, j]) + Double(r2[i, o]) * Double(w2[o, j]) }
                expected[i * width + j] = v
            }
        }
        for residualFirst in [true, false] {
            let x = Self.random([rows, width], seed: 25).requiringGradient()
            let p1 = (Tensor.linear(x, weight: w1, bias: nil) * r1).sum()
            let p2 = (Tensor.linear(x, weight: w2, bias: nil) * r2).sum()
            let residual = (x * r0).sum()
            (residualFirst ? residual + (p1 + p2) : (p1 + p2) + residual).backward()
            let dx = try #require(x.gradient)
            for i in 0..<(rows * width) {
                #expect(abs(Double(dx.scalars[i]) - expected[i]) < 1e-5, "element \(i), residual first: \(residualFirst)")
            }
        }
    }

    /// Both operands of `matmul` used twice, in every layout (transposes, batched or broadcast
    /// operands, the broadcast one's gradient summed over the batch): the second use's products
    /// are added into the first's gradient (beta 1), and the sums equal the two uses' gradients
    /// computed apart.
    @Test func matmulGradientsAddIntoTheGradientThatArrived() throws {
        let (batch, m, k, n) = (2, 3, 4, 5)
        var seed: UInt64 = 30
        func next() -> UInt64 { seed += 1; return seed }
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                for (aBatched, bBatched) in [(true, true), (true, false), (false, true)] {
                    let aShape: [Int] = (aBatched ? [batch] : []) + (transposeA ? [k, m] : [m, k])
                    let bShape: [Int] = (bBatched ? [batch] : []) + (transposeB ? [n, k] : [k, n])
                    let a = Self.random(aShape, seed: next()), b = Self.random(bShape, seed: next())
                    let r1 = Self.random([batch, m, n], seed: next()), r2 = Self.random([batch, m, n], seed: next())
                    func use(_ x: Tensor, _ y: Tensor, _ r: Tensor) -> Tensor {
                        (Tensor.matmul(x, y, transposeA: transposeA, transposeB: transposeB) * r).sum()
                    }
                    let (x, y) = (a.requiringGradient(), b.requiringGradient())
                    (use(x, y, r1) + use(x, y, r2)).backward()
                    let (x1, y1) = (a.requiringGradient(), b.requiringGradient())
                    use(x1, y1, r1).backward()
                    let (x2, y2) = (a.requiringGradient(), b.requiringGradient())
                    use(x2, y2, r2).backward()
                    let expectedA = try #require(x1.gradient) + #require(x2.gradient)
                    let expectedB = try #require(y1.gradient) + #require(y2.gradient)
                    let layout = "transposeA \(transposeA), transposeB \(transposeB), batched \(aBatched)/\(bBatched)"
                    #expect(try #require(x.gradient).maxAbsDifference(expectedA) < 1e-5, "dA, \(layout)")
                    #expect(try #require(y.gradient).maxAbsDifference(expectedB) < 1e-5, "dB, \(layout)")
                    #expect(try #require(x1.gradient).maxAbsDifference(expectedA) > 1e-3, "both uses matter, \(layout)")
                }
            }
        }
    }

    /// `linear(x, W) + x`: the sum hands the same gradient tensor to x and to the product, so x's
    /// gradient shares storage with the g that dx = g W reads; it is copied before being written.
    @Test func residualGradientSharedWithTheProductIsCopied() throws {
        let w = Self.random([4, 4], seed: 40), r = Self.random([3, 4], seed: 41)
        let x = Self.random([3, 4], seed: 42).requiringGradient()
        ((Tensor.linear(x, weight: w, bias: nil) + x) * r).sum().backward()
        // d/dx = r W + r
        let expected = Tensor.matmul(r, w) + r
        #expect(try #require(x.gradient).maxAbsDifference(expected) < 1e-6)
    }

    /// `accumulate(writing:)` gives beta 0 and fresh memory first, then beta 1 and the gradient
    /// so far; a gradient the caller still holds is copied, never written through.
    @Test func accumulateWritingKeepsHeldGradients() throws {
        let node = GradNode(leafShape: [3])
        node.accumulate { p, beta in
            #expect(beta == 0)
            for i in 0..<3 { p[i] = Float(i + 1) }
        }
        let held = try #require(node.gradient)
        node.accumulate { p, beta in
            #expect(beta == 1)
            for i in 0..<3 { p[i] = 10 + beta * p[i] }
        }
        #expect(held.scalars == [1, 2, 3])
        #expect(try #require(node.gradient).scalars == [11, 12, 13])
    }

    @Test func frozenParametersGetNoGradientAndNoWeightGEMM() throws {
        let x = Self.random([5, 4], seed: 3).requiringGradient()
        let weight = Parameter(Self.random([3, 4], seed: 4)), bias = Parameter(Self.random([3], seed: 5))
        let seed = Tensor.ones([5, 3])

        // Trainable: backward computes dx and dW, two GEMMs.
        let trainable = Tensor.linear(x, weight: weight.tensor, bias: bias.tensor)
        let trainableBackward = BLAS.counting { trainable.backward(seed: seed) }.statistics
        #expect(trainableBackward.gemmCalls == 2)
        #expect(trainableBackward.floatingPointOperations == 2 * (2 * 5 * 3 * 4))
        #expect(weight.gradient != nil && bias.gradient != nil)

        // Frozen: only dx.
        weight.zeroGradient(); bias.zeroGradient()
        weight.isTrainable = false; bias.isTrainable = false
        let x2 = x.detached().requiringGradient()
        let frozen = Tensor.linear(x2, weight: weight.tensor, bias: bias.tensor)
        #expect(BLAS.counting { frozen.backward(seed: seed) }.statistics.gemmCalls == 1)
        #expect(weight.gradient == nil && bias.gradient == nil)
        #expect(try #require(x2.gradient).maxAbsDifference(try #require(x.gradient)) == 0)

        // matmul with a frozen right operand: dA only.
        let a = Self.random([2, 3, 4], seed: 6).requiringGradient()
        let product = Tensor.matmul(a, Self.random([2, 4, 5], seed: 7))
        #expect(BLAS.counting { product.backward(seed: Tensor.ones([2, 3, 5])) }.statistics.gemmCalls == 2)  // one per batch

        // Nothing requires a gradient: nothing is recorded.
        #expect(!Tensor.linear(Self.random([5, 4], seed: 8), weight: weight.tensor, bias: bias.tensor).requiresGradient)
    }

    /// Scoped counts are exact even while other tests run GEMMs concurrently, and nest.
    @Test func countingIsScopedAndNested() {
        let a = Self.random([8, 8], seed: 9)
        var inner = BLAS.Statistics()
        let outer = BLAS.counting {
            inner = BLAS.counting { _ = Tensor.matmul(a, a) }.statistics
            _ = Tensor.matmul(a, a, transposeA: true)
        }.statistics
        #expect(inner == BLAS.Statistics(gemmCalls: 1, floatingPointOperations: 2 * 8 * 8 * 8))
        #expect(outer == BLAS.Statistics(gemmCalls: 2, floatingPointOperations: 2 * 2 * 8 * 8 * 8))
        let before = BLAS.statistics.gemmCalls
        _ = Tensor.matmul(a, a)
        #expect(BLAS.statistics.gemmCalls >= before + 1)
    }

    /// Products that attention hands to `Parallel`'s workers count in the caller's scope, whichever
    /// thread runs them: two per (row, head) pair, every time.
    @Test func countingIncludesWorkerProducts() {
        let (b, t, c, heads) = (3, 5, 16, 4)
        let q = Self.random([b, t, c], seed: 20), k = Self.random([b, t, c], seed: 21), v = Self.random([b, t, c], seed: 22)
        for _ in 0..<3 {
            let counted = BLAS.counting { _ = Tensor.attention(query: q, key: k, value: v, heads: heads) }.statistics
            #expect(counted == BLAS.Statistics(gemmCalls: 2 * b * heads, floatingPointOperations: 2 * b * 2 * t * t * c))
        }
    }

    @Test func inferenceModeRecordsNothing() {
        let x = Self.random([3, 4], seed: 10).requiringGradient()
        let p = Parameter(Self.random([2, 4], seed: 11))
        #expect(GradientRecording.isEnabled)
        let y = withoutGradients { () -> Tensor in
            #expect(!GradientRecording.isEnabled)
            #expect(!p.tensor.requiresGradient)
            return Tensor.linear(x, weight: p.tensor, bias: nil).gelu().sum(axes: [1]) * x.sum()
        }
        #expect(!y.requiresGradient)
        #expect(y.node == nil)
        #expect(GradientRecording.isEnabled)
        // The same computation outside is recorded.
        #expect(Tensor.linear(x, weight: p.tensor, bias: nil).requiresGradient)
    }

    @Test func gradientsAccumulateUntilZeroed() throws {
        let p = Parameter(Self.random([4], seed: 12))
        func step() { (p.tensor * p.tensor).exp().sum().backward() }
        step()
        let once = try #require(p.gradient)
        step()
        #expect(try #require(p.gradient).maxAbsDifference(once * 2) <= 1e-6 * Float(once.norm))
        p.zeroGradient()
        #expect(p.gradient == nil)
        step()
        #expect(try #require(p.gradient).maxAbsDifference(once) == 0)
    }

    @Test func backwardThroughAConsumedGraphStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            let x = Tensor([1, 2, 3]).requiringGradient()
            let loss = (x * x).sum()
            loss.backward()
            loss.backward()
        }
    }

    /// The topological sort is iterative: a chain far deeper than any model does not recurse.
    @Test func deepChainsDifferentiate() throws {
        let x = Tensor([1]).requiringGradient()
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        y.sum().backward()
        let expected = Foundation.pow(1.0001, 20_000.0)
        #expect(abs(Double(try #require(x.gradient).item) - expected) < 1e-3 * expected)
    }

    /// A Linear-tanh-Linear network trained by plain gradient descent fits noisy XOR.
    @Test func tinyMLPLearnsXOR() throws {
        var generator = RandomGenerator(seed: 7)
        let corners: [(Float, Float, Float)] = [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
        var inputs: [Float] = [], targets: [Float] = []
        for i in 0..<32 {
            let (a, b, label) = corners[i % 4]
            inputs += [a + Float(generator.nextNormal()) * 0.1, b + Float(generator.nextNormal()) * 0.1]
            targets.append(label)
        }
        let x = Tensor(inputs, shape: [32, 2]), y = Tensor(targets, shape: [32, 1])
        let w1 = Parameter(Tensor.randomNormal([8, 2], standardDeviation: 1, generator: &generator))
        let b1 = Parameter(Tensor.zeros([8]))
        let w2 = Parameter(Tensor.randomNormal([1, 8], standardDeviation: 0.5, generator: &generator))
        let b2 = Parameter(Tensor.zeros([1]))
        let parameters = [w1, b1, w2, b2]
        func predict() -> Tensor {
            let hidden = Tensor.linear(x, weight: w1.tensor, bias: b1.tensor).tanh()
            return Tensor.linear(hidden, weight: w2.tensor, bias: b2.tensor)
        }
        let initialLoss = Tensor.meanSquaredError(predict(), y).item
        for _ in 0..<600 {
            Tensor.meanSquaredError(predict(), y).backward()
            for p in parameters {
                guard let g = p.gradient else { continue }
                p.value.addInPlace(g, scale: -0.1)
                p.zeroGradient()
            }
        }
        let output = withoutGradients { predict() }
        let finalLoss = Tensor.meanSquaredError(output, y).item
        #expect(initialLoss > 0.2)
        #expect(finalLoss < 0.02, "loss \(initialLoss) -> \(finalLoss)")
        #expect(zip(output.scalars, targets).allSatisfy { ($0 > 0.5) == ($1 > 0.5) })
    }
}

import Foundation
