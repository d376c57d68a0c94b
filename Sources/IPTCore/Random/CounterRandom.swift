// Counter-based randomness: the value at index i is a pure function of (key, i).
//
// Large random structures (Fastfood's sign, permutation and Gaussian vectors over 2^26 entries)
// are regenerated from a saved key whenever they are needed instead of being stored; any entry
// can be produced independently, so the work splits across cores and the result never depends on
// the order of generation.

/// A keyed stream where element `i` is `hash(key, i)`.
public struct CounterRandom: Sendable {
    public let key: UInt64

    public init(key: UInt64) { self.key = key }

    /// 64 random bits for `index` (SplitMix64's finaliser over key and index).
    @inlinable @inline(__always)
    public func bits(_ index: UInt64) -> UInt64 {
        var z = key &+ (index &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// +1 or -1 for `index`.
    @inlinable @inline(__always)
    public func sign(_ index: Int) -> Float {
        (bits(UInt64(index) >> 6) >> UInt64(index & 63)) & 1 == 0 ? 1 : -1
    }

    /// Standard normal values for indices `start ..< start + 16`, by the Box-Muller transform on
    /// two 24-bit uniforms per index, with vectorised logarithm and cosine.
    @inlinable
    public func normal16(_ start: Int) -> Vec16 {
        var u1 = Vec16(repeating: 0), u2 = Vec16(repeating: 0)
        for j in 0..<16 {
            let b = bits(UInt64(start + j))
            // (k + 0.5) / 2^24 keeps u1 strictly inside (0, 1).
            u1[j] = (Float(UInt32(truncatingIfNeeded: b) >> 8) + 0.5) * 0x1p-24
            u2[j] = Float(UInt32(truncatingIfNeeded: b >> 32) >> 8) * 0x1p-24
        }
        return (-2 * vlog(u1)).squareRoot() * vcosTwoPi(u2)
    }
}

/// Natural logarithm of positive finite inputs (Cephes logf form; relative error ~1e-7).
@inlinable @inline(__always)
public func vlog(_ x: Vec16) -> Vec16 {
    let bitsX = unsafeBitCast(x, to: SIMD16<Int32>.self)
    var exponent = Vec16((bitsX &>> 23) &- 127)
    // Mantissa in [1, 2), then moved to [sqrt(1/2), sqrt(2)).
    var m = unsafeBitCast((bitsX & 0x007F_FFFF) | 0x3F80_0000, to: Vec16.self)
    let large = m .> 1.414_213_56
    m.replace(with: m * 0.5, where: large)
    exponent.replace(with: exponent + 1, where: large)
    let f = m - 1
    let z = f * f
    var p = Vec16(repeating: 7.037_683_629_2e-2)
    p = p * f - 1.151_461_031_0e-1
    p = p * f + 1.167_699_874_0e-1
    p = p * f - 1.242_014_084_6e-1
    p = p * f + 1.424_932_278_7e-1
    p = p * f - 1.666_805_766_4e-1
    p = p * f + 2.000_071_476_5e-1
    p = p * f - 2.499_999_399_3e-1
    p = p * f + 3.333_333_117_4e-1
    var y = p * z * f
    y = y - 0.5 * z
    return f + y + exponent * 0.693_147_180_56
}

/// cos(2 pi u) for u in [0, 1) (even polynomial after folding into [0, 1/4]; error below 1e-6).
@inlinable @inline(__always)
public func vcosTwoPi(_ u: Vec16) -> Vec16 {
    // cos(2 pi u) = cos(2 pi |u - round(u)|); fold t in [0, 1/2] to [0, 1/4] with a sign.
    var t = u - u.rounded(.toNearestOrEven)
    t = t.replacing(with: -t, where: t .< 0)
    let flip = t .> 0.25
    t.replace(with: 0.5 - t, where: flip)
    let x = t * 6.283_185_307_18
    let x2 = x * x
    // Taylor series to x^10 on [0, pi/2]: truncation error below 5e-7.
    var p = Vec16(repeating: -2.755_731_922e-7)
    p = p * x2 + 2.480_158_730e-5
    p = p * x2 - 1.388_888_889e-3
    p = p * x2 + 4.166_666_667e-2
    p = p * x2 - 0.5
    p = p * x2 + 1
    return p.replacing(with: -p, where: flip)
}

/// A keyed pseudo-random permutation of `0 ..< 2^bits`, evaluated pointwise without storage:
/// rounds of multiply-by-odd, add and xorshift, each a bijection on `bits`-bit integers.
public struct BijectivePermutation: Sendable {
    public let bits: Int
    @usableFromInline let mask: UInt64
    @usableFromInline let multipliers: (UInt64, UInt64, UInt64, UInt64)
    @usableFromInline let addends: (UInt64, UInt64, UInt64, UInt64)
    @usableFromInline let shift: UInt64

    /// - Parameters:
    ///   - bits: the permuted range is `0 ..< 2^bits` (`bits` in 0...40).
    ///   - key: selects the permutation.
    public init(bits: Int, key: UInt64) {
        precondition(bits >= 0 && bits <= 40, "permutation size 2^\(bits) out of range")
        self.bits = bits
        mask = bits == 0 ? 0 : (UInt64(1) << UInt64(bits)) - 1
        let r = CounterRandom(key: key)
        multipliers = (r.bits(0) | 1, r.bits(1) | 1, r.bits(2) | 1, r.bits(3) | 1)
        addends = (r.bits(4), r.bits(5), r.bits(6), r.bits(7))
        shift = UInt64(max(1, (bits + 1) / 2))
    }

    /// The image of `i` (in `0 ..< 2^bits`).
    @inlinable @inline(__always)
    public func callAsFunction(_ i: Int) -> Int {
        var x = UInt64(i)
        x = ((x &* multipliers.0) &+ addends.0) & mask; x ^= x >> shift
        x = ((x &* multipliers.1) &+ addends.1) & mask; x ^= x >> shift
        x = ((x &* multipliers.2) &+ addends.2) & mask; x ^= x >> shift
        x = ((x &* multipliers.3) &+ addends.3) & mask; x ^= x >> shift
        return Int(x)
    }
}
