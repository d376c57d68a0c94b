import Foundation
import IPTCore
import IPTTraining
import Testing

@Suite("Fastfood projection")
struct FastfoodTests {
    func applied(_ t: FastfoodTransform, _ z: [Float], workspace: FastfoodWorkspace = FastfoodWorkspace()) -> [Float] {
        var out = [Float](repeating: 0, count: t.count)
        z.withUnsafeBufferPointer { zp in
            out.withUnsafeMutableBufferPointer { t.apply(zp.baseAddress!, addingTo: $0.baseAddress!, workspace: workspace) }
        }
        return out
    }

    func transposed(_ t: FastfoodTransform, _ g: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: t.dimension)
        g.withUnsafeBufferPointer { gp in
            out.withUnsafeMutableBufferPointer {
                t.applyTransposed(gp.baseAddress!, addingTo: $0.baseAddress!, workspace: FastfoodWorkspace())
            }
        }
        return out
    }

    /// The explicit formula of ipt-reference.md §5, in Double with a dense Hadamard matrix and the
    /// transform's own draws, against the fast in-place implementation.
    @Test(arguments: [(5, 37), (3, 64), (40, 20), (1, 1)])
    func matchesTheDenseDefinition(d: Int, n: Int) {
        let t = FastfoodTransform(dimension: d, count: n, key: UInt64(17 * d + n))
        let l = t.length
        #expect(l >= max(d, n) && l & (l - 1) == 0 && (l == 1 || l / 2 < max(d, n)))
        let (signs, permutation, gaussian) = t.draws()
        #expect(Set(permutation).count == l)
        func hadamard(_ i: Int, _ j: Int) -> Double { (i & j).nonzeroBitCount % 2 == 0 ? 1 : -1 }
        var generator = RandomGenerator(seed: UInt64(n))
        let z = (0..<d).map { _ in Float(generator.nextNormal()) }
        var v = (0..<l).map { $0 < d ? Double(z[$0]) * Double(signs[$0]) : 0 }
        v = (0..<l).map { i in (0..<l).reduce(0.0) { $0 + hadamard(i, $1) * v[$1] } }
        v = (0..<l).map { v[permutation[$0]] * Double(gaussian[$0]) }
        v = (0..<l).map { i in (0..<l).reduce(0.0) { $0 + hadamard(i, $1) * v[$1] } }
        let sumG2 = gaussian.reduce(0.0) { $0 + Double($1) * Double($1) }
        let divisor = (Double(l) * sumG2).squareRoot() * (Double(n) / Double(l)).squareRoot()
        let expected = (0..<n).map { v[$0] / divisor }
        let actual = applied(t, z)
        for i in 0..<n {
            #expect(abs(Double(actual[i]) - expected[i]) <= 1e-5 * max(1, abs(expected[i])), "element \(i)")
        }
    }

    @Test func keepsTheNormOfZOnAverage() {
        let t = FastfoodTransform(dimension: 5, count: 1000, key: 11)
        var generator = RandomGenerator(seed: 3)
        var ratio = 0.0
        for _ in 0..<100 {
            let z = (0..<5).map { _ in Float(generator.nextNormal()) }
            let y = applied(t, z)
            ratio += Double(y.map { $0 * $0 }.reduce(0, +)) / Double(z.map { $0 * $0 }.reduce(0, +))
        }
        ratio /= 100
        #expect(ratio > 0.7 && ratio < 1.4, "mean |delta|^2/|z|^2 = \(ratio)")
    }

    @Test func transposeIsTheExactAdjoint() {
        for (d, n) in [(5, 37), (3, 1000), (200, 50), (16, 16), (1, 1), (7, 3)] {
            let t = FastfoodTransform(dimension: d, count: n, key: UInt64(d * 1000 + n))
            var generator = RandomGenerator(seed: UInt64(n))
            let z = (0..<d).map { _ in Float(generator.nextNormal()) }
            let g = (0..<n).map { _ in Float(generator.nextNormal()) }
            let left = zip(applied(t, z), g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let right = zip(z, transposed(t, g)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(left - right) <= 1e-4 * max(1, abs(left)), "d=\(d) D=\(n): <Jz,g>=\(left) <z,J^T g>=\(right)")
        }
    }

    @Test func largeDimensionIsNotCroppedForSmallTensors() {
        // d > D: L covers d, so every coordinate of z influences the output.
        let t = FastfoodTransform(dimension: 300, count: 10, key: 5)
        #expect(t.length == 512)
        var z = [Float](repeating: 0, count: 300)
        z[299] = 1
        #expect(applied(t, z).contains { $0 != 0 })
    }

    @Test func regeneratedFromTheSeedIsBitIdentical() {
        let tensors = [("a.weight", 1000), ("b.bias", 17), ("c", 4096)]
        let p1 = FastfoodProjection(dimension: 9, tensors: tensors, seed: 42)
        let p2 = FastfoodProjection(dimension: 9, tensors: tensors.reversed(), seed: 42)
        let p3 = FastfoodProjection(dimension: 9, tensors: tensors, seed: 43)
        let z: [Float] = (0..<9).map { Float($0) - 4 }
        for (key, t1) in p1.transforms {
            let t2 = p2.transforms.first { $0.key == key }!.transform
            let t3 = p3.transforms.first { $0.key == key }!.transform
            let y1 = applied(t1, z), y2 = applied(t2, z), y3 = applied(t3, z)
            #expect(y1.map(\.bitPattern) == y2.map(\.bitPattern), "\(key) regenerated differently")
            #expect(y1 != y3, "\(key): another seed gave the same projection")
        }
    }

    @Test func permutationIsABijection() {
        for bits in [0, 1, 2, 5, 12] {
            let p = BijectivePermutation(bits: bits, key: UInt64(bits) + 7)
            let images = Set((0..<(1 << bits)).map { p($0) })
            #expect(images.count == 1 << bits)
            #expect(images.allSatisfy { $0 >= 0 && $0 < 1 << bits })
        }
    }

    /// The vectorised draws (the four-lane Swift code and the AVX-512 kernel behind
    /// `fillNormals`) are the lane-by-lane definition, bit for bit: saved projections are
    /// regenerated from their seed, so the values must never change. 2^18 draws per key include
    /// the edge cases of the folds (u2 at and around 1/2 and 1/4).
    @Test func counterGaussianMatchesLaneByLaneDefinitionExactly() {
        let count = 1 << 18
        var filled = [Float](repeating: 0, count: count)
        for key: UInt64 in [0, 99, 0xDEAD_BEEF_1234_5678] {
            let r = CounterRandom(key: key)
            var mismatches = 0
            for block in stride(from: 0, to: count, by: 16) {
                let v = r.normal16(block)
                for j in 0..<16 where v[j].bitPattern != r.referenceNormal(block + j).bitPattern { mismatches += 1 }
            }
            // An odd start and a length that is not a multiple of 16 exercise the kernel's tail.
            let start = 7
            filled.withUnsafeMutableBufferPointer { r.fillNormals(start: start, count: count - 5, into: $0.baseAddress!) }
            for i in 0..<(count - 5) where filled[i].bitPattern != r.referenceNormal(start + i).bitPattern { mismatches += 1 }
            #expect(mismatches == 0, "key \(key)")
        }
    }

    @Test func permutationImagesMatchPointwiseDefinition() {
        for bits in [12, 20, 26] {
            let p = BijectivePermutation(bits: bits, key: UInt64(bits) * 31 + 5)
            let (start, count, binMask) = (13, 10_003, UInt32(127))
            var images = [UInt32](repeating: 0, count: count)
            images.withUnsafeMutableBufferPointer { p.fillImages(start: start, count: count, binMask: binMask, into: $0.baseAddress!) }
            let mismatches = (0..<count).filter { images[$0] != UInt32(p(start + $0) & Int(binMask)) }.count
            #expect(mismatches == 0, "bits \(bits)")
        }
    }

    @Test func counterGaussianHasUnitMoments() {
        let r = CounterRandom(key: 99)
        var sum = 0.0, sumSquares = 0.0, sumFourth = 0.0
        let blocks = 20_000
        for b in 0..<blocks {
            let v = r.normal16(b * 16)
            for j in 0..<16 {
                let x = Double(v[j])
                sum += x; sumSquares += x * x; sumFourth += x * x * x * x
            }
        }
        let n = Double(blocks * 16)
        #expect(abs(sum / n) < 0.01)
        #expect(abs(sumSquares / n - 1) < 0.01)
        #expect(abs(sumFourth / n - 3) < 0.06)  // Gaussian kurtosis
    }
}
