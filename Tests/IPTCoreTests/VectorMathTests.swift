import Foundation
import IPTCore
import Testing

/// The 16-wide elementary functions against Foundation's Double versions, over dense ranges,
/// tails and special values (±0, ±inf, NaN, subnormal results).
@Suite("Vectorised math accuracy")
struct VectorMathTests {
    /// Largest error of `f` against `reference` over `inputs`: in units in the last place of the
    /// correctly rounded Float result (normal results), and absolute.
    struct Accuracy: CustomStringConvertible {
        var ulps = 0.0, absolute = 0.0, relative = 0.0, worstInput: Float = 0
        var description: String {
            "max \(String(format: "%.2f", ulps)) ulp (at x = \(worstInput)), max abs \(absolute), max rel \(relative)"
        }
    }

    static func accuracy(_ inputs: [Float], _ f: (Vec16) -> Vec16, _ reference: (Double) -> Double) -> Accuracy {
        var result = Accuracy()
        var output = [Float](repeating: 0, count: inputs.count)
        inputs.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in mapVectorized(i.baseAddress!, o.baseAddress!, inputs.count, f) }
        }
        for (x, y) in zip(inputs, output) {
            let exact = reference(Double(x))
            let rounded = Float(exact)
            if rounded.isInfinite {  // overflow: only the right infinity is correct
                if y != rounded { result.ulps = .infinity; result.worstInput = x }
                continue
            }
            let error = abs(Double(y) - exact)
            result.absolute = max(result.absolute, error)
            if abs(exact) >= Double(Float.leastNormalMagnitude) { result.relative = max(result.relative, error / abs(exact)) }
            guard rounded.isNormal || rounded == 0 else { continue }
            // ulp of the correctly rounded result; at 0 the smallest normal spacing.
            let ulp = Double(rounded == 0 ? Float.leastNormalMagnitude : rounded.ulp)
            if error / ulp > result.ulps { result.ulps = error / ulp; result.worstInput = x }
        }
        return result
    }

    /// `count` evenly spaced points in `range`, plus every float in a small neighbourhood of 0.
    static func dense(_ range: ClosedRange<Float>, count: Int = 200_000) -> [Float] {
        let step = (range.upperBound - range.lowerBound) / Float(count - 1)
        var xs = (0..<count).map { range.lowerBound + Float($0) * step }
        var tiny = Float.leastNonzeroMagnitude
        while tiny < 1e-3 { xs += [tiny, -tiny]; tiny = max(tiny * 1.37, tiny.nextUp) }
        return xs
    }

    static func apply(_ f: (Vec16) -> Vec16, _ xs: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in mapVectorized(i.baseAddress!, o.baseAddress!, xs.count, f) }
        }
        return out
    }

    @Test func exp() {
        let a = Self.accuracy(Self.dense(-104...89), vexp, Foundation.exp)
        print("vexp over [-104, 89]: \(a)")
        #expect(a.ulps <= 1)
        // Special values: overflow to +inf, gradual underflow, then 0; NaN propagates.
        let special = Self.apply(vexp, [0, -0.0, .infinity, -.infinity, .nan, 88.8, 89, -103, -104, -200, 1000])
        #expect(special[0] == 1 && special[1] == 1)
        #expect(special[2] == .infinity && special[3] == 0)
        #expect(special[4].isNaN)
        #expect(special[5] == .infinity && special[6] == .infinity)
        #expect(abs(Double(special[7]) - Foundation.exp(-103.0)) <= Double(Float.leastNonzeroMagnitude))
        #expect(special[8] == 0 || abs(Double(special[8]) - Foundation.exp(-104.0)) <= Double(Float.leastNonzeroMagnitude))
        #expect(special[9] == 0 && special[10] == .infinity)
    }

    @Test func tanh() {
        let a = Self.accuracy(Self.dense(-12...12), vtanh, Foundation.tanh)
        print("vtanh over [-12, 12]: \(a)")
        #expect(a.ulps <= 1.5)
        let special = Self.apply(vtanh, [0, -0.0, .infinity, -.infinity, .nan, 100, -100, 1e-30, -1e-30])
        #expect(special[0] == 0 && special[0].sign == .plus)
        #expect(special[1] == 0 && special[1].sign == .minus)
        #expect(special[2] == 1 && special[3] == -1)
        #expect(special[4].isNaN)
        #expect(special[5] == 1 && special[6] == -1)
        #expect(special[7] == 1e-30 && special[8] == -1e-30)
    }

    @Test func sigmoid() {
        let reference: (Double) -> Double = { 1 / (1 + Foundation.exp(-$0)) }
        let a = Self.accuracy(Self.dense(-80...40), vsigmoid, reference)
        print("vsigmoid over [-80, 40]: \(a)")
        #expect(a.ulps <= 2.5)
        let special = Self.apply(vsigmoid, [0, -0.0, .infinity, -.infinity, .nan, 200, -200])
        #expect(special[0] == 0.5 && special[1] == 0.5)
        #expect(special[2] == 1 && special[3] == 0)
        #expect(special[4].isNaN)
        #expect(special[5] == 1 && special[6] == 0)
    }

    @Test func erf() {
        let a = Self.accuracy(Self.dense(-6...6), verf, Foundation.erf)
        print("verf over [-6, 6]: \(a)")
        #expect(a.ulps <= 1.5)
        #expect(a.absolute <= 1e-7)
        let special = Self.apply(verf, [0, -0.0, .infinity, -.infinity, .nan, 10, -10, 1e-30, -1e-30])
        #expect(special[0] == 0 && special[1] == 0 && special[1].sign == .minus)
        #expect(special[2] == 1 && special[3] == -1)
        #expect(special[4].isNaN)
        #expect(special[5] == 1 && special[6] == -1)
        #expect(abs(Double(special[7]) - 1.128379167e-30) < 1e-36)
    }
}
