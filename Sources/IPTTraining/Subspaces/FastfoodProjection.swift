import IPTCore

/// The Fastfood map of one tensor, `z` (d numbers) -> `delta` (D numbers):
///
///     v = pad(z, L) * B;  v = H v;  v = v[Pi];  v = v * G;  v = H v
///     delta = v[0 ..< D] / (sqrt(L * sum G^2) * sqrt(D / L))
///
/// with H the unnormalised Walsh-Hadamard transform, B random signs, Pi a random permutation and G
/// standard normal values, all of length L = the next power of two >= max(D, d) (the original
/// used max(D) only and silently cropped z for small tensors when d > L). The normalisation is
/// that of Aghajanyan et al. (2020) as the IPT code uses it; it makes |delta| ~ |z| for every tensor.
///
/// B, Pi and G are not stored: they are regenerated from `key` (``CounterRandom``,
/// ``BijectivePermutation``) every time they are needed, so a projection of all of BART's 140 M
/// parameters costs O(largest L) memory, and reloading from the saved seed gives bit-identical
/// projections.
public struct FastfoodTransform: Sendable {
    /// d, the length of z.
    public let dimension: Int
    /// D, the number of outputs (the tensor's element count).
    public let count: Int
    /// L, the padded transform length.
    public let length: Int
    /// The factor 1 / (sqrt(L sum G^2) sqrt(D / L)).
    public let scale: Float
    let signs: CounterRandom
    let gaussian: CounterRandom
    let permutation: BijectivePermutation

    /// - Parameters:
    ///   - dimension: d.
    ///   - count: D.
    ///   - key: selects B, Pi and G.
    public init(dimension: Int, count: Int, key: UInt64) {
        precondition(dimension >= 1 && count >= 1, "Fastfood needs d >= 1 and D >= 1")
        self.dimension = dimension
        self.count = count
        var l = 1, bits = 0
        while l < max(count, dimension) { l <<= 1; bits += 1 }
        length = l
        let keys = RandomGenerator(seed: key)
        signs = CounterRandom(key: keys.derived("B").seed)
        gaussian = CounterRandom(key: keys.derived("G").seed)
        permutation = BijectivePermutation(bits: bits, key: keys.derived("Pi").seed)
        // sum of G^2, accumulated per block in Double, blocks in a fixed order.
        let blocks = (l + 15) / 16
        let g = gaussian
        var partial = [Double](repeating: 0, count: Parallel.workers)
        let perWorker = (blocks + partial.count - 1) / partial.count
        partial.withUnsafeMutableBufferPointer { sums in
            let out = sums.baseAddress!
            Parallel.forEachChunk(sums.count, minimumChunk: 1) { workers in
                let chunk = FastfoodTransform.passBlock
                let values = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
                defer { values.deallocate() }
                for w in workers {
                    var s = 0.0
                    let end = min(l, (w + 1) * perWorker * 16)
                    var base = min(end, w * perWorker * 16)
                    while base < end {
                        let n = min(chunk, end - base)
                        g.fillNormals(start: base, count: n, into: values)
                        for j in 0..<n { s += Double(values[j] * values[j]) }
                        base += n
                    }
                    out[w] = s
                }
            }
        }
        let sumSquares = partial.reduce(0, +)
        scale = Float(1 / ((Double(l) * sumSquares).squareRoot() * (Double(count) / Double(l)).squareRoot()))
    }

    /// The random draws B, Pi and G, materialised (for inspection and tests; the transform itself
    /// never stores them).
    public func draws() -> (signs: [Float], permutation: [Int], gaussian: [Float]) {
        let signs = (0..<length).map { self.signs.sign($0) }
        let permutation = (0..<length).map { self.permutation($0) }
        var gaussian: [Float] = []
        var block = 0
        while gaussian.count < length {
            let v = self.gaussian.normal16(block * 16)
            for j in 0..<min(16, length - gaussian.count) { gaussian.append(v[j]) }
            block += 1
        }
        return (signs, permutation, gaussian)
    }

    /// The length of the first Hadamard transform's nonzero input: the smallest power of two
    /// holding z. `pad(z, L) * B` is zero beyond it, so `H` of it is `H` of its first block
    /// repeated L / P times (the butterflies with wider strides add and subtract zeros); that
    /// block stands in for the whole vector, exactly.
    var zBlock: Int {
        var p = 1
        while p < dimension { p <<= 1 }
        return min(p, length)
    }

    /// `H pad(z * B)` on its first ``zBlock`` entries (the rest repeats them).
    func transformedZ(_ z: UnsafePointer<Float>) -> [Float] {
        var block = [Float](repeating: 0, count: zBlock)
        block.withUnsafeMutableBufferPointer { b in
            for j in 0..<dimension { b[j] = z[j] * signs.sign(j) }
            fastWalshHadamardTransform(b.baseAddress!, count: b.count)
        }
        return block
    }

    /// Elements per task of the permutation/Gaussian passes (fixed, so that sums over them do
    /// not depend on the number of cores).
    static let passBlock = 1 << 14

    /// Calls `body(block, base, count, G, bins)` for the consecutive blocks of `passBlock`
    /// indices covering `0 ..< L`, concurrently: `G[j]` is the Gaussian draw and `bins[j]` the
    /// permuted index masked with `binMask`, of index `base + j`.
    func forEachPassBlock(passBlock: Int = FastfoodTransform.passBlock, binMask: Int,
                          _ body: (Int, Int, Int, UnsafePointer<Float>, UnsafePointer<UInt32>) -> Void) {
        let block = min(length, passBlock)
        let (perm, g) = (permutation, gaussian)
        Parallel.forEachChunk(length / block, minimumChunk: 1) { blocks in
            let draws = UnsafeMutablePointer<Float>.allocate(capacity: block)
            let images = UnsafeMutablePointer<UInt32>.allocate(capacity: block)
            defer { draws.deallocate(); images.deallocate() }
            for index in blocks {
                let base = index * block
                g.fillNormals(start: base, count: block, into: draws)
                perm.fillImages(start: base, count: block, binMask: UInt32(binMask), into: images)
                body(index, base, block, draws, images)
            }
        }
    }

    /// `output[0 ..< D] += factor * delta(z)`.
    ///
    /// - Parameters:
    ///   - z: d numbers.
    ///   - output: D numbers, added to.
    ///   - workspace: scratch of at least L floats.
    public func apply(_ z: UnsafePointer<Float>, addingTo output: UnsafeMutablePointer<Float>, factor: Float = 1,
                      workspace: FastfoodWorkspace) {
        let (l, n) = (length, count)
        workspace.reserve(l)
        let b = workspace.buffer
        let tile = transformedZ(z)
        let mask = tile.count - 1
        // b = (H v)[Pi] * G, reading H v from its repeated block.
        tile.withUnsafeBufferPointer { t in
            let a = t.baseAddress!
            forEachPassBlock(binMask: mask) { _, base, count, g, bins in
                for j in 0..<count { b[base + j] = a[Int(bins[j])] * g[j] }
            }
        }
        fastWalshHadamardTransform(b, count: l)
        let s = scale * factor
        Parallel.forEachChunk(n, minimumChunk: 65_536) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound { store16(load16(output + i) + s * load16(b + i), output + i); i += 16 }
            while i < range.upperBound { output[i] += s * b[i]; i += 1 }
        }
    }

    /// `gradientOfZ[0 ..< d] += factor * J^T gradient`, the exact transpose of ``apply(_:addingTo:factor:workspace:)``
    /// (H is symmetric, the permutation's transpose is its inverse scatter).
    ///
    /// Only the first d entries of the last transform are needed, and entry j < P of `H a` is
    /// `H_P` applied to the fold of `a` into P bins (`sum over p of a[p P + q]`), so the scatter
    /// through the permutation becomes a sum into ``zBlock`` bins.
    public func applyTransposed(_ gradient: UnsafePointer<Float>, addingTo gradientOfZ: UnsafeMutablePointer<Float>,
                                factor: Float = 1, workspace: FastfoodWorkspace) {
        let (l, d, n) = (length, dimension, count)
        workspace.reserve(l)
        let b = workspace.buffer
        let s = scale
        Parallel.forEachChunk(l, minimumChunk: 65_536) { range in
            for i in range { b[i] = i < n ? s * gradient[i] : 0 }
        }
        fastWalshHadamardTransform(b, count: l)
        let bins = zBlock, mask = bins - 1
        // A pass block at least as long as the bins keeps the partial sums within L floats for any d.
        let passBlock = min(l, max(FastfoodTransform.passBlock, bins))
        let blocks = l / passBlock
        // Per pass block, the sums of G_i b_i by bin Pi(i) mod P; then the blocks in order, in Double.
        var partial = [Float](repeating: 0, count: blocks * bins)
        partial.withUnsafeMutableBufferPointer { sums in
            let out = sums.baseAddress!
            forEachPassBlock(passBlock: passBlock, binMask: mask) { block, base, count, g, images in
                let binsOut = out + block * bins
                for j in 0..<count { binsOut[Int(images[j])] += b[base + j] * g[j] }
            }
        }
        var folded = [Double](repeating: 0, count: bins)
        for block in 0..<blocks {
            for q in 0..<bins { folded[q] += Double(partial[block * bins + q]) }
        }
        var c = folded.map { Float($0) }
        c.withUnsafeMutableBufferPointer { fastWalshHadamardTransform($0.baseAddress!, count: bins) }
        for j in 0..<d { gradientOfZ[j] += factor * c[j] * signs.sign(j) }
    }
}

/// Scratch memory for ``FastfoodTransform``: one buffer of the largest L used, reused across
/// tensors and steps.
public final class FastfoodWorkspace: @unchecked Sendable {
    private(set) var capacity = 0
    private(set) var buffer: UnsafeMutablePointer<Float>

    public init() {
        buffer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    func reserve(_ length: Int) {
        guard length > capacity else { return }
        buffer.deallocate()
        buffer = UnsafeMutablePointer<Float>.allocate(capacity: length)
        capacity = length
    }

    deinit {
        buffer.deallocate()
    }
}

/// Fastfood maps for a set of named tensors sharing one z, each with independent draws derived
/// from one seed and the tensor's name (so the same seed always gives the same projection,
/// whatever the order or subset of tensors).
public struct FastfoodProjection: Sendable {
    /// The seed saved with the artifact.
    public let seed: UInt64
    /// d.
    public let dimension: Int
    /// One transform per projected tensor, in the order given.
    public let transforms: [(key: String, transform: FastfoodTransform)]

    /// - Parameters:
    ///   - dimension: d.
    ///   - tensors: names and element counts of the projected tensors.
    ///   - seed: selects all draws.
    public init(dimension: Int, tensors: [(key: String, count: Int)], seed: UInt64) {
        self.seed = seed
        self.dimension = dimension
        let root = RandomGenerator(seed: seed)
        transforms = tensors.map { ($0.key, FastfoodTransform(dimension: dimension, count: $0.count, key: root.derived($0.key).seed)) }
    }

    /// The largest L among the tensors (the workspace size).
    public var largestLength: Int { transforms.map(\.transform.length).max() ?? 0 }
}
