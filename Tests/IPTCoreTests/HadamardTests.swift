import IPTCore
import Testing

@Suite("Cache-blocked Walsh-Hadamard transform")
struct HadamardTests {
    /// The blocked transform does the textbook butterflies in the textbook order, so it must agree
    /// bit for bit, including lengths that need the second (across-blocks) pass with an odd and an
    /// even number of levels.
    @Test(arguments: [1, 2, 8, 16, 32, 1 << 10, 1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 21])
    func matchesTheTextbookTransformBitForBit(count: Int) {
        var generator = RandomGenerator(seed: UInt64(count))
        let input = Tensor.randomNormal([count], generator: &generator).scalars
        var fast = input, reference = input
        fast.withUnsafeMutableBufferPointer { fastWalshHadamardTransform($0.baseAddress!, count: count) }
        reference.withUnsafeMutableBufferPointer { referenceWalshHadamardTransform($0.baseAddress!, count: count) }
        let differing = zip(fast, reference).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(count) elements differ")
    }

    /// H H = L I, and row 0 of H is all ones (the transform of a unit vector at 0 is constant).
    @Test func isItsOwnInverseUpToLength() {
        let count = 1 << 18
        var generator = RandomGenerator(seed: 9)
        let input = Tensor.randomNormal([count], generator: &generator).scalars
        var twice = input
        twice.withUnsafeMutableBufferPointer {
            fastWalshHadamardTransform($0.baseAddress!, count: count)
            fastWalshHadamardTransform($0.baseAddress!, count: count)
        }
        let worst = zip(twice, input).map { abs($0 / Float(count) - $1) }.max() ?? 0
        #expect(worst < 1e-4, "max |H H x / L - x| = \(worst)")
        var unit = [Float](repeating: 0, count: count)
        unit[0] = 1
        unit.withUnsafeMutableBufferPointer { fastWalshHadamardTransform($0.baseAddress!, count: count) }
        #expect(unit.allSatisfy { $0 == 1 })
    }
}
