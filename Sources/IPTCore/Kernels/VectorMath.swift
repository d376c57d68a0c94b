// Vectorised elementary functions for the element-wise kernels (16 floats per step).
//
// libm's expf/erff/tanhf are scalar calls; a BART-base forward evaluates tens of millions of
// them (GELU over (B, T, 3072), softmax over (B, H, T, S)). These are the classic Cephes-style
// range-reduction + polynomial forms, accurate to about 1-2 ulp in Float (measured in
// Tests/IPTCoreTests/VectorMathTests.swift against Foundation's Double functions).

import CIPTKernels

public typealias Vec16 = SIMD16<Float>

/// Whether the AVX-512 C kernels of CIPTKernels run on this CPU (else their portable Swift
/// definitions do, with bit-identical results).
let nativeKernelsAvailable = ipt_has_avx512() == 1

@usableFromInline let log2e: Float = 1.442_695_040_888_963_4
@usableFromInline let ln2High: Float = 0.693_359_375
@usableFromInline let ln2Low: Float = -2.121_944_4e-4

/// e^x, elementwise. Results below the smallest normal float are gradually underflowed down
/// to x = -103.97 (e^x < 2^-150), then 0; above 88.72 give +inf; NaN gives NaN.
@inlinable @inline(__always)
public func vexp(_ x: Vec16) -> Vec16 {
    // Clamped (and NaN evaluated as 0, restored at the end) with masked selects: the generic
    // `clamped`/`pointwiseMin` of the standard library are not vectorised (about 20x slower).
    var clamped = x.replacing(with: 88.722_83, where: x .> 88.722_83)
    clamped.replace(with: -103.972_08, where: x .< -103.972_08)
    clamped.replace(with: 0, where: x .!= x)
    // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer that the low mantissa bits hold,
    // so n needs no (trapping, scalarised) float-to-integer conversion.
    let shifted = clamped * log2e + 12_582_912
    let n = shifted - 12_582_912
    let ni = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
    var r = clamped - n * ln2High
    r = r - n * ln2Low
    let r2 = r * r
    var p = Vec16(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r2 + r + 1
    // Scale by 2^n through the exponent bits; n is in [-150, 128] after clamping, so split the
    // scaling in two normal powers of two (the second product rounds once into the subnormals).
    let half = ni &>> 1
    let scale1 = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: (half &+ 127) &<< 23), to: Vec16.self)
    let scale2 = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: (ni &- half &+ 127) &<< 23), to: Vec16.self)
    var result = p * scale1 * scale2
    result.replace(with: Vec16(repeating: .infinity), where: x .> 88.722_83)
    result.replace(with: Vec16(repeating: 0), where: x .< -103.972_08)
    result.replace(with: x, where: x .!= x)
    return result
}

/// |x|, elementwise (clears the sign bit).
@inlinable @inline(__always)
public func vabs(_ x: Vec16) -> Vec16 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vec16.self)
}

/// x with the sign bit of `sign` (for odd functions computed on |x|; keeps f(-0) = -0).
@inlinable @inline(__always)
public func vcopysign(_ x: Vec16, _ sign: Vec16) -> Vec16 {
    let magnitude = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF
    let signBit = unsafeBitCast(sign, to: SIMD16<UInt32>.self) & 0x8000_0000
    return unsafeBitCast(magnitude | signBit, to: Vec16.self)
}

/// tanh(x), elementwise (within 1.3 ulp of the correctly rounded value; NaN gives NaN).
@inlinable @inline(__always)
public func vtanh(_ x: Vec16) -> Vec16 {
    let ax = vabs(x)
    // Large |x|: 1 - 2 / (e^(2|x|) + 1).
    let e = vexp((ax * 2).replacing(with: 88, where: ax .> 44))
    var result = 1 - 2 / (e + 1)
    // Small |x|: odd polynomial (Cephes tanhf), avoids cancellation near 0.
    let z = ax * ax
    var p = Vec16(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    result.replace(with: p * z * ax + ax, where: ax .< 0.625)
    result = vcopysign(result, x)
    result.replace(with: x, where: x .!= x)
    return result
}

/// The logistic function 1 / (1 + e^-x), elementwise.
@inlinable @inline(__always)
public func vsigmoid(_ x: Vec16) -> Vec16 {
    1 / (1 + vexp(-x))
}

/// erf(x), elementwise: within 1.3 ulp and 8e-8 absolute of the correctly rounded value.
///
/// Two near-minimax polynomials fitted by `scripts/fit_verf.py`: for |x| < 1,
/// erf(x) = x + x q(x^2); for 1 <= |x| <= 4, erf(x) = 1 - e^(-x^2) g(1/x), g approximating the
/// scaled complement e^(x^2) erfc(x); beyond 4, erf is ±1 in Float.
@inlinable @inline(__always)
public func verf(_ x: Vec16) -> Vec16 {
    let ax = vabs(x)
    let u = ax * ax
    var q = Vec16(repeating: -9.680_133_189_249_318e-06)
    q = q * u + 0.000_112_705_434_730_742_13
    q = q * u - 0.000_848_471_128_847_45
    q = q * u + 0.005_221_074_912_697_077
    q = q * u - 0.026_865_445_077_419_28
    q = q * u + 0.112_837_828_695_774_08
    q = q * u - 0.376_126_378_774_642_94
    q = q * u + 0.128_379_166_126_251_22
    let small = ax + ax * q
    let t = 1 / ax.replacing(with: 1, where: ax .< 1).replacing(with: 4, where: ax .> 4)
    var g = Vec16(repeating: -0.011_375_083_588_063_717)
    g = g * t + 0.038_001_257_926_225_66
    g = g * t + 0.004_023_976_158_350_706
    g = g * t - 0.219_065_964_221_954_35
    g = g * t + 0.480_937_093_496_322_63
    g = g * t - 0.464_666_098_356_246_95
    g = g * t + 0.040_159_422_904_253_006
    g = g * t + 0.559_315_860_271_453_9
    g = g * t + 0.000_253_091_886_406_764_4
    var result = 1 - vexp(-u) * g
    result.replace(with: small, where: ax .< 1)
    result = vcopysign(result, x)
    result.replace(with: x, where: x .!= x)
    return result
}

/// Applies a 16-wide function to `count` floats, with a padded tail.
@inlinable @inline(__always)
public func mapVectorized(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int,
                          _ f: (Vec16) -> Vec16) {
    var i = 0
    while i + 16 <= count {
        let v = UnsafeRawPointer(input + i).loadUnaligned(as: Vec16.self)
        UnsafeMutableRawPointer(output + i).storeBytes(of: f(v), as: Vec16.self)
        i += 16
    }
    if i < count {
        var v = Vec16(repeating: 0)
        for j in 0..<(count - i) { v[j] = input[i + j] }
        let r = f(v)
        for j in 0..<(count - i) { output[i + j] = r[j] }
    }
}

/// Loads 16 floats.
@inlinable @inline(__always)
public func load16(_ p: UnsafePointer<Float>) -> Vec16 { UnsafeRawPointer(p).loadUnaligned(as: Vec16.self) }

/// Stores 16 floats.
@inlinable @inline(__always)
public func store16(_ v: Vec16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec16.self) }

/// GELU (erf form) of `count` floats into `value` and, when `slope` is given, its derivative
/// into `slope`. Without `slope` it is the no-gradient form `x * 0.5 * (1 + erf(x / √2))`; with
/// it, `x Φ(x)` and `Φ(x) + x φ(x)`. The AVX-512 kernel `ipt_gelu` when the CPU has it, else
/// ``portableGELU(_:_:_:_:)``; the two agree bit for bit.
@inlinable
func geluKernel(_ x: UnsafePointer<Float>, _ value: UnsafeMutablePointer<Float>,
                _ slope: UnsafeMutablePointer<Float>?, _ count: Int) {
    if ipt_gelu(x, value, slope, Int64(count)) == 0 { portableGELU(x, value, slope, count) }
}

/// ``geluKernel(_:_:_:_:)`` in portable Swift.
@inlinable
func portableGELU(_ x: UnsafePointer<Float>, _ value: UnsafeMutablePointer<Float>,
                  _ slope: UnsafeMutablePointer<Float>?, _ count: Int) {
    guard let slope else {
        mapVectorized(x, value, count) { $0 * 0.5 * (1 + verf($0 * 0.707_106_781_186_547_5)) }
        return
    }
    func both(_ x: Vec16) -> (Vec16, Vec16) {
        let cdf = 0.5 * (1 + verf(x * 0.707_106_781_186_547_5))
        let pdf = vexp(-0.5 * x * x) * 0.398_942_280_401_432_7
        return (x * cdf, cdf + x * pdf)
    }
    var i = 0
    while i + 16 <= count {
        let (v, s) = both(load16(x + i))
        store16(v, value + i)
        store16(s, slope + i)
        i += 16
    }
    if i < count {
        var v = Vec16(repeating: 0)
        for j in 0..<(count - i) { v[j] = x[i + j] }
        let (a, b) = both(v)
        for j in 0..<(count - i) { value[i + j] = a[j]; slope[i + j] = b[j] }
    }
}
