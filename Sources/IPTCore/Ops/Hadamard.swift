// The fast Walsh-Hadamard transform, in place, O(L log L), cache-blocked.
//
// A transform of 2^26 floats (Fastfood over BART's embedding) does 26 butterfly levels over
// 256 MB; level by level that is 26 passes through memory. Here the levels with strides below
// `hadamardBlock` run inside blocks that stay in the core's L2 cache, and the wider strides run on
// column blocks copied into a contiguous scratch (the rows of a column block are
// `hadamardBlock` floats apart, a power-of-two stride that would thrash the cache's sets in
// place): two passes through memory in all. Butterflies go two levels at a time (radix 4) and the
// first four levels inside one 16-float register; the butterfly tree and its order are those of
// the textbook algorithm (``referenceWalshHadamardTransform(_:count:)``), so the results are
// bit-identical to it.

/// Floats per cache block (256 KB: well inside a core's L2).
let hadamardBlock = 1 << 16
/// Floats per row of a column block of the second pass (4 vectors, 256 bytes).
let hadamardColumns = 64

/// Transforms `data` (length a power of two) in place by the unnormalised Walsh-Hadamard matrix
/// H (entries ±1, H H = L I), splitting the work across the cores for long vectors.
public func fastWalshHadamardTransform(_ data: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count > 0 && count & (count - 1) == 0, "FWHT length \(count) is not a power of two")
    if count < 16 {
        referenceWalshHadamardTransform(data, count: count)
        return
    }
    let block = min(count, hadamardBlock)
    Parallel.forEachChunk(count / block, minimumChunk: 1) { blocks in
        for b in blocks { transformBlock(data + b * block, count: block) }
    }
    if count > block { transformAcrossBlocks(data, rows: count / block, rowLength: block) }
}

/// The textbook in-place transform: levels of butterflies with strides 1, 2, 4, ... (the
/// reference the blocked transform is tested against).
public func referenceWalshHadamardTransform(_ data: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count > 0 && count & (count - 1) == 0, "FWHT length \(count) is not a power of two")
    var h = 1
    while h < count {
        var i = 0
        while i < count {
            for j in i..<(i + h) {
                let x = data[j], y = data[j + h]
                data[j] = x + y
                data[j + h] = x - y
            }
            i += 2 * h
        }
        h *= 2
    }
}

/// H_16 of one register: four levels, each a butterfly of the even and odd elements followed by
/// a perfect shuffle, which is the stride-1, 2, 4, 8 butterfly tree of the textbook order.
@inline(__always)
func hadamard16(_ v: Vec16) -> Vec16 {
    var x = v
    for _ in 0..<4 {
        let (even, odd) = (x.evenHalf, x.oddHalf)
        x = Vec16(lowHalf: even + odd, highHalf: even - odd)
    }
    return x
}

/// All levels of a contiguous block of `count` (>= 16) floats.
func transformBlock(_ p: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i < count {
        store16(hadamard16(load16(p + i)), p + i)
        i += 16
    }
    butterflyLevels(p, vectorsPerRow: 1, rows: count / 16, from: 1)
}

/// Levels with strides `from`, `2 from`, ... `rows / 2` (in rows) of `rows` rows of
/// `vectorsPerRow` 16-float vectors each, contiguous.
@inline(__always)
func butterflyLevels(_ p: UnsafeMutablePointer<Float>, vectorsPerRow: Int, rows: Int, from first: Int) {
    let width = vectorsPerRow * 16
    var h = first
    while h < rows {
        if 2 * h < rows {
            // Strides h and 2h together: four rows in, four rows out.
            var base = 0
            while base < rows {
                for r in base..<(base + h) {
                    for v in 0..<vectorsPerRow {
                        let p0 = p + r * width + v * 16, p1 = p0 + h * width, p2 = p1 + h * width, p3 = p2 + h * width
                        let (a0, a1, a2, a3) = (load16(p0), load16(p1), load16(p2), load16(p3))
                        let (s01, d01, s23, d23) = (a0 + a1, a0 - a1, a2 + a3, a2 - a3)
                        store16(s01 + s23, p0)
                        store16(d01 + d23, p1)
                        store16(s01 - s23, p2)
                        store16(d01 - d23, p3)
                    }
                }
                base += 4 * h
            }
            h *= 4
        } else {
            var base = 0
            while base < rows {
                for r in base..<(base + h) {
                    for v in 0..<vectorsPerRow {
                        let p0 = p + r * width + v * 16, p1 = p0 + h * width
                        let (a0, a1) = (load16(p0), load16(p1))
                        store16(a0 + a1, p0)
                        store16(a0 - a1, p1)
                    }
                }
                base += 2 * h
            }
            h *= 2
        }
    }
}

/// The levels with strides `rowLength` and up: `data` seen as `rows` x `rowLength`, transformed
/// down each column, one column block at a time in a contiguous scratch.
func transformAcrossBlocks(_ data: UnsafeMutablePointer<Float>, rows: Int, rowLength: Int) {
    let width = hadamardColumns
    Parallel.forEachChunk(rowLength / width, minimumChunk: 1) { columnBlocks in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        defer { scratch.deallocate() }
        for column in columnBlocks {
            let source = data + column * width
            for r in 0..<rows { (scratch + r * width).update(from: source + r * rowLength, count: width) }
            butterflyLevels(scratch, vectorsPerRow: width / 16, rows: rows, from: 1)
            for r in 0..<rows { (source + r * rowLength).update(from: scratch + r * width, count: width) }
        }
    }
}

extension Tensor {
    /// The unnormalised Walsh-Hadamard transform of a 1-D tensor whose length is a power of two.
    /// Backward: H is symmetric, so the gradient is H g (exact; no 1/sqrt(L) factor).
    public func hadamardTransform() -> Tensor {
        precondition(rank == 1, "hadamardTransform needs a 1-D tensor, got \(shape)")
        var y = self.detached()
        y.withUnsafeMutableBufferPointer { fastWalshHadamardTransform($0.baseAddress!, count: $0.count) }
        let node = self.node
        return y.recorded(from: [self]) { g in
            guard let node else { return }
            var dx = g.detached()
            dx.withUnsafeMutableBufferPointer { fastWalshHadamardTransform($0.baseAddress!, count: $0.count) }
            node.accumulate(dx)
        }
    }
}
