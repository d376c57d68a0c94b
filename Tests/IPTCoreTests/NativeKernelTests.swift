import Foundation
@testable import IPTCore
import Testing

/// The AVX-512 C kernels (CIPTKernels) against their portable Swift definitions, bit for bit:
/// the same run gives the same numbers on any x86-64 CPU. On a CPU without AVX-512 both sides are
/// the portable code (the suite then checks nothing new and says so).
@Suite("Native kernels match their Swift definitions")
struct NativeKernelTests {
    /// Random values over the ranges where each function changes form, plus special values.
    static func inputs(count: Int, scale: Float, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 88.72283, 88.8, -103.97208, -104, 1e-30, -1e-30,
                                 1, -1, 4, -4, 0.625, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        return (0..<count).map { i in
            i % 7 == 3 ? specials[(i / 7) % specials.count] : Float(generator.nextUniform() * 2 - 1) * scale
        }
    }

    static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    @Test func reportsWhichPathRuns() {
        // Not an assertion about the machine: the message says what the other tests compared.
        print("native AVX-512 kernels: \(nativeKernelsAvailable ? "yes (C kernels compared with Swift)" : "no (portable Swift only)")")
        #expect(nativeKernelsAvailable == (CPUFeatures.current.has("avx512f", "avx512dq")))
    }

    @Test(arguments: [Float(1), 30, 120])
    func exponentiateShiftedIsBitIdentical(scale: Float) {
        var mismatches: [String] = []
        for count in [0, 1, 5, 15, 16, 17, 31, 32, 33, 100, 228, 1000] {
            for shift: Float in [0, 2.5, -7, 80] {
                let x = Self.inputs(count: count, scale: scale, seed: UInt64(count) * 31 + UInt64(scale))
                var native = [Float](repeating: -1, count: count), portable = native
                let (s1, s2) = x.withUnsafeBufferPointer { px in
                    (native.withUnsafeMutableBufferPointer { exponentiateShifted(px.baseAddress!, $0.baseAddress!, count, shift: shift) },
                     portable.withUnsafeMutableBufferPointer { portableExponentiateShifted(px.baseAddress!, $0.baseAddress!, count, shift: shift) })
                }
                if !Self.same(s1, s2) { mismatches.append("sum count \(count) shift \(shift): \(s1) vs \(s2)") }
                for i in 0..<count where !Self.same(native[i], portable[i]) {
                    mismatches.append("count \(count) x \(x[i]) - \(shift): \(native[i]) vs \(portable[i])")
                }
                // In place, as softmax calls it.
                var inPlace = x
                let s3 = inPlace.withUnsafeMutableBufferPointer { exponentiateShifted($0.baseAddress!, $0.baseAddress!, count, shift: shift) }
                if !Self.same(s3, s2) || !zip(inPlace, portable).allSatisfy(Self.same) { mismatches.append("in place, count \(count)") }
            }
        }
        let count = mismatches.count
        #expect(count == 0, "\(mismatches.prefix(5))")
    }

    @Test func rowMaximumMatches() {
        for count in [0, 1, 15, 16, 17, 47, 228] {
            for seed: UInt64 in [1, 2, 3] {
                var x = Self.inputs(count: count, scale: 50, seed: seed).map { $0.isNaN ? 0 : $0 }
                #expect(x.withUnsafeBufferPointer { rowMaximum($0.baseAddress!, count) }
                            == x.withUnsafeBufferPointer { portableRowMaximum($0.baseAddress!, count) }, "count \(count)")
                x = x.map { _ in -.infinity }
                #expect(x.withUnsafeBufferPointer { rowMaximum($0.baseAddress!, count) } == -.infinity)
            }
        }
    }

    @Test(arguments: [false, true])
    func geluIsBitIdentical(withSlope: Bool) {
        var mismatches: [String] = []
        for count in [0, 1, 7, 16, 17, 33, 256, 4099] {
            // Dense over [-10, 10] (every branch of erf) plus the random and special values.
            let x = Self.inputs(count: count, scale: 10, seed: UInt64(count) + 5)
            var v1 = [Float](repeating: -1, count: count), v2 = v1, d1 = v1, d2 = v1
            x.withUnsafeBufferPointer { px in
                let p = px.baseAddress!
                v1.withUnsafeMutableBufferPointer { pv in
                    d1.withUnsafeMutableBufferPointer { pd in geluKernel(p, pv.baseAddress!, withSlope ? pd.baseAddress! : nil, count) }
                }
                v2.withUnsafeMutableBufferPointer { pv in
                    d2.withUnsafeMutableBufferPointer { pd in portableGELU(p, pv.baseAddress!, withSlope ? pd.baseAddress! : nil, count) }
                }
            }
            for i in 0..<count where !Self.same(v1[i], v2[i]) || !Self.same(d1[i], d2[i]) {
                mismatches.append("gelu(\(x[i])): \(v1[i]), \(d1[i]) vs \(v2[i]), \(d2[i])")
            }
        }
        let count = mismatches.count
        #expect(count == 0, "\(mismatches.prefix(5))")
    }

    @Test func rowDotIsBitIdentical() {
        for count in [0, 1, 15, 16, 17, 100, 4096, 4099] {
            let x = Self.inputs(count: count, scale: 3, seed: 11).map { $0.isFinite ? $0 : 1 }
            let y = Self.inputs(count: count, scale: 3, seed: 12).map { $0.isFinite ? $0 : -2 }
            let native = x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { rowDot(px.baseAddress!, $0.baseAddress!, count) } }
            let portable = x.withUnsafeBufferPointer { px in
                y.withUnsafeBufferPointer { portableRowDot(px.baseAddress!, $0.baseAddress!, count) }
            }
            #expect(Self.same(native, portable), "count \(count): \(native) vs \(portable)")
        }
    }

    /// Several steps of the AdamW update, including weight decay, a clipping scale, tiny and huge
    /// gradients and a tail that is not a multiple of 16; the largest written magnitude too.
    @Test func adamWUpdateIsBitIdentical() {
        let count = 1_000 + 13
        let w0 = Self.inputs(count: count, scale: 2, seed: 21).map { $0.isFinite ? $0 : 0.5 }
        var (w1, m1, v1) = (w0, [Float](repeating: 0, count: count), [Float](repeating: 0, count: count))
        var (w2, m2, v2) = (w1, m1, v1)
        for t in 1...5 {
            let g = Self.inputs(count: count, scale: t == 3 ? 1e6 : 1e-3, seed: UInt64(30 + t)).map { $0.isFinite ? $0 : 0.25 }
            let update = AdamWUpdate(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 1 - 0.01 * 0.1,
                                     stepSize: 0.01 / (1 - Float(pow(0.9, Double(t)))),
                                     rootCorrection2: (1 - Float(pow(0.999, Double(t)))).squareRoot(),
                                     gradientScale: t == 2 ? 0.3711 : 1)
            let (native, portable) = g.withUnsafeBufferPointer { pg in
                (update.apply(weights: &w1, firstMoments: &m1, secondMoments: &v1, gradient: pg.baseAddress!, count: count),
                 update.applyPortable(weights: &w2, firstMoments: &m2, secondMoments: &v2, gradient: pg.baseAddress!, count: count))
            }
            #expect(Self.same(native, portable) && native == w1.map(abs).max()!, "step \(t): \(native) vs \(portable)")
        }
        let mismatches = (0..<count).filter { !Self.same(w1[$0], w2[$0]) || !Self.same(m1[$0], m2[$0]) || !Self.same(v1[$0], v2[$0]) }
        #expect(mismatches.count == 0, "first at \(mismatches.first ?? -1)")
        #expect(w1 != w0)
    }

    /// An update that leaves a weight infinite or NaN reports +inf, wherever that weight is
    /// (vector body or tail), in both forms; the scale really scales.
    @Test func adamWReportsNonFiniteWeightsAndScalesGradients() {
        for count in [1, 15, 16, 17, 40] {
            for bad in [0, count - 1] {
                for (weight, gradient) in [(Float.greatestFiniteMagnitude, Float(1)), (1, Float.nan)] {
                    var w = [Float](repeating: 1, count: count), g = [Float](repeating: 0.5, count: count)
                    (w[bad], g[bad]) = (weight, gradient)
                    let update = AdamWUpdate(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 4, stepSize: 0.1, rootCorrection2: 0.0316)
                    var (w2, m1, v1) = (w, [Float](repeating: 0, count: count), [Float](repeating: 0, count: count))
                    var (m2, v2) = (m1, v1)
                    let native = update.apply(weights: &w, firstMoments: &m1, secondMoments: &v1, gradient: g, count: count)
                    let portable = update.applyPortable(weights: &w2, firstMoments: &m2, secondMoments: &v2, gradient: g, count: count)
                    #expect(native == .infinity && portable == .infinity, "count \(count), bad \(bad): \(native), \(portable)")
                }
            }
        }
        var (w, m, v) = ([Float](repeating: 0, count: 20), [Float](repeating: 0, count: 20), [Float](repeating: 0, count: 20))
        let update = AdamWUpdate(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 1, stepSize: 1, rootCorrection2: 1,
                                 gradientScale: 0.5)
        update.apply(weights: &w, firstMoments: &m, secondMoments: &v, gradient: [Float](repeating: 2, count: 20), count: 20)
        let (c1, c2): (Float, Float) = (1 - 0.9, 1 - 0.999)  // as the update rounds them; g = 2 · 0.5 = 1
        #expect(m.allSatisfy { $0 == c1 } && v.allSatisfy { $0 == c2 }, "gradient 2 scaled by 0.5: \(m[0]), \(v[0])")
    }
}
