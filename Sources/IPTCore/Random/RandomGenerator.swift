import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64) that gives the same
/// sequence on every run and machine.
///
/// Every random choice in the suite — initialisations, dropout masks, data shuffles, Fastfood
/// draws — comes from one of these, built from a seed that is saved with the artifact. Derived
/// generators (``derived(_:)``) give independent, reproducible streams per purpose (per tensor,
/// per epoch) without consuming the parent's sequence. The algorithms here (integers in a range,
/// shuffles, normals) are fixed by this file, not by the standard library, so results do not change
/// with the Swift version.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    /// The seed this generator was built from.
    public let seed: UInt64

    /// - Parameter seed: any value; equal seeds give equal sequences.
    public init(seed: UInt64) {
        self.seed = seed
        var sm = seed
        s0 = RandomGenerator.splitMix(&sm)
        s1 = RandomGenerator.splitMix(&sm)
        s2 = RandomGenerator.splitMix(&sm)
        s3 = RandomGenerator.splitMix(&sm)
    }

    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// An independent generator for `purpose` (for example a tensor's name), determined by this
    /// generator's seed and `purpose` only.
    public func derived(_ purpose: String) -> RandomGenerator {
        // FNV-1a over the UTF-8 bytes (no terminator), mixed with the seed.
        var digest = ContentDigest()
        var name = purpose
        name.withUTF8 { digest.add(UnsafeRawBufferPointer($0)) }
        var mix = seed ^ digest.value
        return RandomGenerator(seed: RandomGenerator.splitMix(&mix))
    }

    /// An independent generator for stream number `index`.
    public func derived(_ index: Int) -> RandomGenerator { derived("#\(index)") }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in `0..<upperBound` (Lemire's unbiased multiply-and-reject).
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "upper bound must be positive")
        let bound = UInt64(upperBound)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// Standard normal (Box-Muller; one value per call, the partner is discarded so that each
    /// call consumes a fixed amount of the stream).
    public mutating func nextNormal() -> Double {
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Shuffles `array` in place (Fisher-Yates from the back).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of `0..<n`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}

/// A shared, mutable random stream: layers in training mode draw their dropout masks from the
/// model's source, so one seed fixes every mask of a run.
public final class RandomSource: @unchecked Sendable {
    public var generator: RandomGenerator

    public init(seed: UInt64) { generator = RandomGenerator(seed: seed) }
    public init(_ generator: RandomGenerator) { self.generator = generator }
}

extension Tensor {
    /// Independent normal draws with the given mean and standard deviation.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                                    generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { buffer in
            for i in buffer.indices { buffer[i] = mean + standardDeviation * Float(generator.nextNormal()) }
        }
    }

    /// Independent uniform draws in `[low, high)`.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { buffer in
            let width = Double(high - low)
            for i in buffer.indices { buffer[i] = low + Float(generator.nextUniform() * width) }
        }
    }
}
