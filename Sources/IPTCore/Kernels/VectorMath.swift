// Vectorised elementary functions for the element-wise kernels (16 floats per step).
//
// libm's expf/erff/tanhf are scalar calls; a BART-base forward evaluates tens of millions of
// them (GELU over (B, T, 3072), softmax over (B, H, T, S)). These are the classic Cephes-style
// range-reduction + polynomial forms, accurate to a few ulp in Float, and the parity tests against
// PyTorch hold them to that.

public typealias Vec16 = SIMD16<Float>

@usableFromInline let log2e: Float = 1.442_695_040_888_963_4
@usableFromInline let ln2High: Float = 0.693_359_375
@usableFromInline let ln2Low: Float = -2.121_944_4e-4

/// e^x, elementwise. Inputs below -87.3 give 0, above 88.7 give +inf.
@inlinable @inline(__always)
public func vexp(_ x: Vec16) -> Vec16 {
    let clamped = x.clamped(lowerBound: Vec16(repeating: -87.336_54), upperBound: Vec16(repeating: 88.722_83))
    let n = (clamped * log2e).rounded(.toNearestOrEven)
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
    // Scale by 2^n through the exponent bits; n is in [-126, 128] after clamping, so split the
    // scaling in two to stay inside the normal range at both ends.
    let ni = SIMD16<Int32>(n)
    let half = ni &>> 1
    let scale1 = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: (half &+ 127) &<< 23), to: Vec16.self)
    let scale2 = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: (ni &- half &+ 127) &<< 23), to: Vec16.self)
    var result = p * scale1 * scale2
    result.replace(with: Vec16(repeating: .infinity), where: x .> 88.722_83)
    result.replace(with: Vec16(repeating: 0), where: x .< -87.336_54)
    return result
}

/// |x|, elementwise (clears the sign bit).
@inlinable @inline(__always)
public func vabs(_ x: Vec16) -> Vec16 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vec16.self)
}

/// tanh(x), elementwise.
@inlinable @inline(__always)
public func vtanh(_ x: Vec16) -> Vec16 {
    let ax = vabs(x)
    // Large |x|: 1 - 2 / (e^(2|x|) + 1), with the sign restored.
    let e = vexp(pointwiseMin(ax * 2, Vec16(repeating: 88)))
    var large = 1 - 2 / (e + 1)
    large.replace(with: -large, where: x .< 0)
    // Small |x|: odd polynomial (Cephes tanhf), avoids cancellation near 0.
    let z = x * x
    var p = Vec16(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    var result = large
    result.replace(with: small, where: ax .< 0.625)
    return result
}

/// The logistic function 1 / (1 + e^-x), elementwise.
@inlinable @inline(__always)
public func vsigmoid(_ x: Vec16) -> Vec16 {
    1 / (1 + vexp(-x))
}

/// erf(x), elementwise (Abramowitz & Stegun 7.1.26 refined: absolute error below 2e-7).
@inlinable @inline(__always)
public func verf(_ x: Vec16) -> Vec16 {
    let ax = vabs(x)
    let t = 1 / (1 + 0.327_591_1 * ax)
    var p = Vec16(repeating: 1.061_405_429)
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    p = p * t
    var y = 1 - p * vexp(-ax * ax)
    // Near zero the product form loses relative accuracy; use the Taylor series there.
    let x2 = x * x
    let series = ax * (1.128_379_167_1 + x2 * (-0.376_126_389 + x2 * (0.112_837_917 + x2 * -0.026_866_17)))
    y.replace(with: series, where: ax .< 0.25)
    y.replace(with: -y, where: x .< 0)
    return y
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
