@testable import IPTCore
import Testing

@Suite("Matmul: batched products into one C")
struct MatmulTests {
    /// An empty batch summed into one C (the gradient of a broadcast operand when the other has no
    /// entries) sets C = beta C: zeros for beta 0 even where C held NaN (C is not read then).
    @Test func emptyBatchSumIntoOneC() {
        let (m, n, ldc) = (3, 4, 6)
        let a = [Float](repeating: 1, count: 1), b = [Float](repeating: 1, count: 1)
        for beta: Float in [0, 1, 2] {
            var c = [Float](repeating: beta == 0 ? .nan : 1.5, count: m * ldc)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        gemmBatched(batch: 0, transposeA: false, transposeB: false, m: m, n: n, k: 2,
                                    a: pa.baseAddress!, strideA: 0, lda: 2, b: pb.baseAddress!, strideB: 8, ldb: n,
                                    c: pc.baseAddress!, strideC: 0, ldc: ldc, beta: beta)
                    }
                }
            }
            for i in 0..<m {
                for j in 0..<ldc {
                    let expected: Float = j < n ? (beta == 0 ? 0 : 1.5 * beta) : (beta == 0 ? .nan : 1.5)
                    let value = c[i * ldc + j]
                    #expect(value == expected || (value.isNaN && expected.isNaN), "beta \(beta), C[\(i), \(j)] = \(value)")
                }
            }
        }
    }

    /// End to end: dA of a product with an empty batch of B is zero, not the contents of a reused
    /// buffer (the product writes into uninitialised memory with beta 0).
    @Test func emptyBatchGivesZeroGradient() throws {
        let a = randomTensor([256, 256], seed: 26).requiringGradient()
        let product = Tensor.matmul(a, Tensor.zeros([0, 256, 4]))  // (0, 256, 4)
        // A freed buffer of NaN of the gradient's size class, which its allocation takes next.
        do { _ = Tensor.full([256, 256], .nan).scalars.count }
        product.backward(seed: Tensor.zeros([0, 256, 4]))
        #expect(try #require(a.gradient).scalars.allSatisfy { $0 == 0 })
    }
}

@Suite("Linear with zero input features")
struct LinearEdgeTests {
    /// x W^T + b with no input features is b in every row (zeros without a bias), not the contents
    /// of an uninitialised buffer; the bias gradient is the sum of the rows' gradients.
    @Test func zeroInputFeaturesGiveTheBias() throws {
        let bias = Tensor([1, -2, 3]).requiringGradient()
        let x = Tensor.zeros([2, 0]), weight = Tensor.zeros([3, 0])
        let y = Tensor.linear(x, weight: weight, bias: bias)
        #expect(y.shape == [2, 3])
        #expect(y.scalars == [1, -2, 3, 1, -2, 3])
        #expect(Tensor.linear(x, weight: weight, bias: nil).scalars == [0, 0, 0, 0, 0, 0])
        y.backward(seed: Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]))
        #expect(try #require(bias.gradient).scalars == [5, 7, 9])
    }
}
