// Counter-based randomness: the value at index i is a pure function of (key, i).
//
// Large random structures (Fastfood's sign, permutation and Gaussian vectors over 2^26 entries)
// are regenerated from a saved key whenever they are needed instead of being stored; any entry
// can be produced independently, so the work splits across cores and the result never depends on
// the order of generation.

import CIPTKernels
#if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
import _Builtin_intrinsics.intel
#endif

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
    /// two 24-bit uniforms per index (the low and high halves of ``bits(_:)``), with polynomial
    /// logarithm and cosine.
    ///
    /// Computed four lanes at a time: with the baseline x86-64 instruction set, 16-lane masks and
    /// square roots compile to per-lane code, which made this 3x slower. The operations per lane
    /// are the same IEEE ones in the same order as ``referenceNormal(_:)``, so the values are
    /// bit-identical to it (tested).
    @inlinable
    public func normal16(_ start: Int) -> Vec16 {
        var out = Vec16(repeating: 0)
        withUnsafeMutableBytes(of: &out) { raw in
            let groups = raw.baseAddress!.assumingMemoryBound(to: SIMD4<Float>.self)
            for g in 0..<4 {
                var low = SIMD4<UInt32>(repeating: 0), high = SIMD4<UInt32>(repeating: 0)
                for j in 0..<4 {
                    let b = bits(UInt64(start + 4 * g + j))
                    low[j] = UInt32(truncatingIfNeeded: b)
                    high[j] = UInt32(truncatingIfNeeded: b >> 32)
                }
                groups[g] = boxMuller4(low: low, high: high)
            }
        }
        return out
    }

    /// `out[0 ..< count]` = the standard normal values for indices `start ..< start + count`, the
    /// values of ``normal16(_:)``; with AVX-512 by a C kernel (`ipt_counter_normals`, about 8x
    /// faster than the four-lane Swift code), otherwise by ``normal16(_:)``.
    public func fillNormals(start: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        let vectorised = count / 16 * 16
        var done = 0
        if vectorised > 0, ipt_counter_normals(key, Int64(start), Int64(vectorised), out) == 1 { done = vectorised }
        while done < count {
            let v = normal16(start + done)
            for j in 0..<min(16, count - done) { out[done + j] = v[j] }
            done += 16
        }
    }

    /// The standard normal value for `index`, lane by lane: the definition ``normal16(_:)`` must
    /// reproduce bit for bit.
    public func referenceNormal(_ index: Int) -> Float {
        let b = bits(UInt64(index))
        // (k + 0.5) / 2^24 keeps u1 strictly inside (0, 1).
        let u1 = (Float(UInt32(truncatingIfNeeded: b) >> 8) + 0.5) * 0x1p-24
        let u2 = Float(UInt32(truncatingIfNeeded: b >> 32) >> 8) * 0x1p-24
        // log(u1), Cephes logf form.
        var exponent = Float(Int32(u1.bitPattern >> 23) - 127)
        var m = Float(bitPattern: (u1.bitPattern & 0x007F_FFFF) | 0x3F80_0000)
        if m > 1.414_213_56 { m = m * 0.5; exponent = exponent + 1 }
        let f = m - 1, z = f * f
        var p: Float = 7.037_683_629_2e-2
        for c: Float in [-1.151_461_031_0e-1, 1.167_699_874_0e-1, -1.242_014_084_6e-1, 1.424_932_278_7e-1,
                         -1.666_805_766_4e-1, 2.000_071_476_5e-1, -2.499_999_399_3e-1, 3.333_333_117_4e-1] {
            p = p * f + c
        }
        var y = p * z * f
        y = y - 0.5 * z
        let logarithm = f + y + exponent * 0.693_147_180_56
        // cos(2 pi u2): fold u2 - round(u2) into [0, 1/4] with a sign, Taylor series to x^10.
        var t = u2 - u2.rounded(.toNearestOrEven)
        if t < 0 { t = -t }
        let flip = t > 0.25
        if flip { t = 0.5 - t }
        let x = t * 6.283_185_307_18, x2 = x * x
        var q: Float = -2.755_731_922e-7
        for c: Float in [2.480_158_730e-5, -1.388_888_889e-3, 4.166_666_667e-2, -0.5, 1] { q = q * x2 + c }
        return (-2 * logarithm).squareRoot() * (flip ? -q : q)
    }
}

/// `mask ? a : b` per lane, by bit operations (the stdlib's masked replace goes lane by lane).
@inlinable @inline(__always)
func select4(_ mask: SIMDMask<SIMD4<Int32>>, _ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
    let m = unsafeBitCast(mask, to: SIMD4<UInt32>.self)
    return unsafeBitCast((unsafeBitCast(a, to: SIMD4<UInt32>.self) & m) | (unsafeBitCast(b, to: SIMD4<UInt32>.self) & ~m),
                         to: SIMD4<Float>.self)
}

/// Correctly rounded square roots of four non-negative values (one instruction on x86-64; the
/// stdlib's per-lane square root keeps a branch to libm for negative inputs).
@inlinable @inline(__always)
func squareRoot4(_ x: SIMD4<Float>) -> SIMD4<Float> {
    #if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
    return _mm_sqrt_ps(x)
    #else
    return x.squareRoot()
    #endif
}

/// Box-Muller on four lanes of bits: ``CounterRandom/referenceNormal(_:)`` with the same
/// operations in the same order (the branches become selects; `u - round(u)` for `u` in [0, 1)
/// is `u` up to 1/2, where ties go to even, and the exact `u - 1` above).
@inlinable @inline(__always)
func boxMuller4(low: SIMD4<UInt32>, high: SIMD4<UInt32>) -> SIMD4<Float> {
    typealias V = SIMD4<Float>
    let u1 = (V(SIMD4<Int32>(truncatingIfNeeded: low &>> 8)) + 0.5) * 0x1p-24
    let u2 = V(SIMD4<Int32>(truncatingIfNeeded: high &>> 8)) * 0x1p-24
    let bitsU1 = unsafeBitCast(u1, to: SIMD4<Int32>.self)
    var exponent = V((bitsU1 &>> 23) &- 127)
    var m = unsafeBitCast((bitsU1 & 0x007F_FFFF) | 0x3F80_0000, to: V.self)
    let large = m .> 1.414_213_56
    m = select4(large, m * 0.5, m)
    exponent = select4(large, exponent + 1, exponent)
    let f = m - 1
    let z = f * f
    var p = V(repeating: 7.037_683_629_2e-2)
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
    let logarithm = f + y + exponent * 0.693_147_180_56
    var t = select4(u2 .> 0.5, u2 - 1, u2)
    t = select4(t .< 0, -t, t)
    let flip = t .> 0.25
    t = select4(flip, 0.5 - t, t)
    let x = t * 6.283_185_307_18
    let x2 = x * x
    var q = V(repeating: -2.755_731_922e-7)
    q = q * x2 + 2.480_158_730e-5
    q = q * x2 - 1.388_888_889e-3
    q = q * x2 + 4.166_666_667e-2
    q = q * x2 - 0.5
    q = q * x2 + 1
    return squareRoot4(-2 * logarithm) * select4(flip, -q, q)
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

    /// `out[0 ..< count]` = the images of `start ..< start + count`, each masked with `binMask`
    /// (for images reduced to fewer bits); by a C kernel with AVX-512 (`ipt_permutation_bins`).
    public func fillImages(start: Int, count: Int, binMask: UInt32, into out: UnsafeMutablePointer<UInt32>) {
        let vectorised = count / 8 * 8
        var done = 0
        if vectorised > 0 {
            let m = [multipliers.0, multipliers.1, multipliers.2, multipliers.3]
            let a = [addends.0, addends.1, addends.2, addends.3]
            if ipt_permutation_bins(m, a, mask, shift, Int64(start), Int64(vectorised), binMask, out) == 1 { done = vectorised }
        }
        for i in done..<count { out[i] = UInt32(truncatingIfNeeded: self(start + i)) & binMask }
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
