// Vectorised reductions and row kernels (16 floats per step) shared by softmax, log-softmax, the
// cross-entropy loss, layer norm and attention. Reductions keep 16 partial sums or maxima and
// combine them at the end (pairwise, `horizontalSum`), so their results differ from a
// left-to-right scalar loop only by rounding order.
//
// The row maximum, the dot product and softmax's exponentiation run as AVX-512 C kernels (CIPTKernels) when the CPU has it, bit for bit as their portable Swift
// definitions here, which run otherwise (Swift compiles for baseline x86-64: SSE2).

import CIPTKernels

/// The sum of 16 lanes, pairwise: halves added until one lane is left (the order CIPTKernels uses).
@inlinable @inline(__always)
func horizontalSum(_ v: Vec16) -> Float {
    let eight = v.lowHalf + v.highHalf
    let four = eight.lowHalf + eight.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// The largest of `count` floats (`-inf` for none); NaN-propagation is not guaranteed.
@inlinable
func rowMaximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var result: Float = 0
    if ipt_row_max(x, Int64(count), &result) == 1 { return result }
    return portableRowMaximum(x, count)
}

/// ``rowMaximum(_:_:)`` in portable Swift.
@inlinable
func portableRowMaximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var best = Vec16(repeating: -.infinity)
    var i = 0
    while i + 16 <= count {
        let v = load16(x + i)
        best.replace(with: v, where: v .> best)
        i += 16
    }
    var result = best.max()
    while i < count { result = Swift.max(result, x[i]); i += 1 }
    return result
}

/// The sum of `count` floats.
@inlinable
func rowSum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var total = Vec16(repeating: 0)
    var i = 0
    while i + 16 <= count {
        total += load16(x + i)
        i += 16
    }
    var result = horizontalSum(total)
    while i < count { result += x[i]; i += 1 }
    return result
}

/// The dot product of two rows of `count` floats.
@inlinable
func rowDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
    var result: Float = 0
    if ipt_dot(x, y, Int64(count), &result) == 1 { return result }
    return portableRowDot(x, y, count)
}

/// ``rowDot(_:_:_:)`` in portable Swift.
@inlinable
func portableRowDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
    var total = Vec16(repeating: 0)
    var i = 0
    while i + 16 <= count {
        total += load16(x + i) * load16(y + i)
        i += 16
    }
    var result = horizontalSum(total)
    while i < count { result += x[i] * y[i]; i += 1 }
    return result
}

/// `output[j] = e^(x[j] - shift)` for `count` floats; returns their sum. `output` may be `x`.
@inlinable
func exponentiateShifted(_ x: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int,
                         shift: Float) -> Float {
    var sum: Float = 0
    if ipt_exp_shifted(x, output, Int64(count), shift, &sum) == 1 { return sum }
    return portableExponentiateShifted(x, output, count, shift: shift)
}

/// ``exponentiateShifted(_:_:_:shift:)`` in portable Swift.
@inlinable
func portableExponentiateShifted(_ x: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int,
                                 shift: Float) -> Float {
    var total = Vec16(repeating: 0)
    var i = 0
    while i + 16 <= count {
        let e = vexp(load16(x + i) - shift)
        store16(e, output + i)
        total += e
        i += 16
    }
    var result = horizontalSum(total)
    if i < count {
        var v = Vec16(repeating: -.infinity)
        for j in 0..<(count - i) { v[j] = x[i + j] - shift }
        let e = vexp(v)
        for j in 0..<(count - i) { output[i + j] = e[j]; result += e[j] }
    }
    return result
}

/// `x[j] *= factor` for `count` floats.
@inlinable
func scaleRow(_ x: UnsafeMutablePointer<Float>, _ count: Int, by factor: Float) {
    var i = 0
    while i + 16 <= count {
        store16(load16(x + i) * factor, x + i)
        i += 16
    }
    while i < count { x[i] *= factor; i += 1 }
}

/// In-place softmax of one row of `count` floats; an all `-inf` row becomes zeros.
@inlinable
func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ count: Int) {
    var m = rowMaximum(row, count)
    if m == -.infinity { m = 0 }
    let sum = exponentiateShifted(row, row, count, shift: m)
    scaleRow(row, count, by: sum > 0 ? 1 / sum : 0)
}

/// Softmax backward of one row: `out = y * (g - <g, y>)`. `out` may be `g`.
@inlinable
func softmaxBackwardRow(y: UnsafePointer<Float>, g: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, _ count: Int) {
    let dot = rowDot(y, g, count)
    var i = 0
    while i + 16 <= count {
        store16(load16(y + i) * (load16(g + i) - dot), out + i)
        i += 16
    }
    while i < count { out[i] = y[i] * (g[i] - dot); i += 1 }
}
