import Foundation
import IPTCore
import Testing

/// RandomGenerator against an independent Python implementation of the same algorithms
/// (Fixtures/random.json, scripts/make_core_fixtures.py): the sequences are fixed across runs,
/// machines and Swift versions.
@Suite("RandomGenerator determinism")
struct RandomGeneratorTests {
    struct Reference: Decodable {
        struct Seed: Decodable {
            let seed: String
            let next: [String]
            let uniform: [String]
            let normal: [String]
            let int_below: [String: [String]]
            let permutation10: [Int]
            let permutation_after: String
            let derived_weight: String
            let derived_index3: [String]
            let derived_twice: String
            let random_normal_f32: [String]
            let random_uniform_f32: [String]
        }
        struct Dropout: Decodable { let seed: UInt64; let probability: Float; let mask: [Float] }
        let seeds: [Seed]
        let dropout: Dropout
    }

    static func reference() throws -> Reference { try Fixtures.json("random.json") }

    @Test func matchesTheReferenceImplementation() throws {
        let reference = try Self.reference()
        #expect(reference.seeds.count == 4)
        for entry in reference.seeds {
            let seed = try #require(UInt64(entry.seed))
            var g = RandomGenerator(seed: seed)
            #expect((0..<8).map { _ in g.next() } == entry.next.compactMap(UInt64.init), "seed \(seed): next")
            g = RandomGenerator(seed: seed)
            #expect((0..<4).map { _ in g.nextUniform() } == entry.uniform.compactMap(Double.init), "seed \(seed): uniform")
            g = RandomGenerator(seed: seed)
            for expected in entry.normal.compactMap(Double.init) {
                // Box-Muller goes through libm's log and cos: allow their last-bit differences.
                let value = g.nextNormal()
                #expect(abs(value - expected) <= 4 * expected.ulp, "seed \(seed): normal \(value) vs \(expected)")
            }
            for (bound, expected) in entry.int_below {
                g = RandomGenerator(seed: seed)
                let upper = try #require(Int(bound))
                #expect((0..<8).map { _ in g.nextInt(below: upper) } == expected.compactMap(Int.init), "seed \(seed): below \(bound)")
            }
            g = RandomGenerator(seed: seed)
            #expect(g.permutation(10) == entry.permutation10, "seed \(seed): permutation")
            #expect(String(g.next()) == entry.permutation_after, "seed \(seed): stream after the shuffle")
            g = RandomGenerator(seed: seed)
            var weight = g.derived("encoder.weight"), index = g.derived(3), twice = g.derived("a").derived("b")
            #expect(String(weight.next()) == entry.derived_weight)
            #expect([String(index.next()), String(index.next())] == entry.derived_index3)
            #expect(String(twice.next()) == entry.derived_twice)
            g = RandomGenerator(seed: seed)
            let normals = Tensor.randomNormal([5], mean: 0.5, standardDeviation: 2, generator: &g).scalars
            for (value, expected) in zip(normals, entry.random_normal_f32.compactMap(Float.init)) {
                #expect(abs(value - expected) <= expected.ulp, "seed \(seed): randomNormal")
            }
            g = RandomGenerator(seed: seed)
            let uniforms = Tensor.randomUniform([5], low: -1, high: 3, generator: &g).scalars
            #expect(uniforms == entry.random_uniform_f32.compactMap(Float.init), "seed \(seed): randomUniform")
        }
        var g = RandomGenerator(seed: reference.dropout.seed)
        let mask = Tensor.ones([reference.dropout.mask.count]).dropout(probability: reference.dropout.probability, generator: &g)
        #expect(mask.scalars == reference.dropout.mask)
    }

    @Test func derivedStreamsAreReproducibleIndependentAndLeaveTheParentAlone() {
        let parent = RandomGenerator(seed: 1234)
        var a1 = parent.derived("layer.0"), a2 = RandomGenerator(seed: 1234).derived("layer.0")
        #expect((0..<100).map { _ in a1.next() } == (0..<100).map { _ in a2.next() })
        #expect(parent.derived("layer.0").seed != parent.derived("layer.1").seed)
        #expect(parent.derived("x").seed != RandomGenerator(seed: 1235).derived("x").seed)
        // Deriving does not consume the parent's stream.
        var used = RandomGenerator(seed: 99), fresh = RandomGenerator(seed: 99)
        _ = used.derived("anything")
        #expect(used.next() == fresh.next())
        // Neighbouring derived streams are uncorrelated.
        var x = parent.derived(0), y = parent.derived(1)
        let n = 20_000
        let xs = (0..<n).map { _ in x.nextUniform() - 0.5 }, ys = (0..<n).map { _ in y.nextUniform() - 0.5 }
        let cross: Double = zip(xs, ys).map { $0 * $1 }.reduce(0, +)
        let squaresX: Double = xs.map { $0 * $0 }.reduce(0, +), squaresY: Double = ys.map { $0 * $0 }.reduce(0, +)
        let correlation = cross / (squaresX * squaresY).squareRoot()
        #expect(abs(correlation) < 0.03)  // ~4 standard deviations
    }

    @Test func distributionsHaveTheRightMoments() {
        var g = RandomGenerator(seed: 5)
        let n = 60_000
        let normals = (0..<n).map { _ in g.nextNormal() }
        let mean = normals.reduce(0, +) / Double(n)
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        #expect(abs(mean) < 0.02 && abs(variance - 1) < 0.03)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[g.nextInt(below: 7)] += 1 }
        let chiSquare = counts.map { Double(($0 - 10_000) * ($0 - 10_000)) / 10_000 }.reduce(0, +)
        #expect(chiSquare < 22.5)  // 6 degrees of freedom, p = 0.001
        #expect(Set(g.permutation(50)) == Set(0..<50))
        #expect(g.permutation(0).isEmpty && g.permutation(1) == [0])
    }
}
