import IPTCore
import Testing

@Suite("BLAS loader, fallback GEMM and CPU detection")
struct BLASTests {
    @Test func openBLASIsLoadedAndVerified() {
        let info = BLAS.info
        #expect(info.verified, "\(info)")
        #expect(info.verificationError < 1e-4)
        #expect(info.matrixVectorProducts, "OpenBLAS's cblas_sgemv is in use for one-row and one-column products")
        print("BLAS: \(info.library), core \(info.coreName) (\(info.coreSource)), threads \(info.threads)")
    }

    /// The fallback GEMM and OpenBLAS against a Double reference, on every transposition case,
    /// with leading dimensions wider than the matrices and non-trivial alpha and beta; also for
    /// one row or one column of C (matrix-vector products).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)],
          [(13, 9, 21), (1, 9, 21), (13, 1, 21), (1, 1, 21)])
    func referenceGemmMatchesBLAS(_ transposes: (Bool, Bool), _ shape: (Int, Int, Int)) {
        let (ta, tb) = transposes
        let (m, n, k) = shape
        let (lda, ldb, ldc) = ((ta ? m : k) + 3, (tb ? k : n) + 2, n + 5)
        var generator = RandomGenerator(seed: 77)
        let a = Tensor.randomNormal([(ta ? k : m) * lda], generator: &generator).scalars
        let b = Tensor.randomNormal([(tb ? n : k) * ldb], generator: &generator).scalars
        let c0 = Tensor.randomNormal([m * ldc], generator: &generator).scalars
        let (alpha, beta): (Float, Float) = (0.75, -1.5)
        func run(_ gemm: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Float) -> Void,
                 beta: Float, initial: [Float]) -> [Float] {
            var c = initial
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { gemm(pa.baseAddress!, pb.baseAddress!, $0.baseAddress!, beta) } }
            }
            return c
        }
        let blas = { (pa: UnsafePointer<Float>, pb: UnsafePointer<Float>, pc: UnsafeMutablePointer<Float>, beta: Float) in
            BLAS.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha, a: pa, lda: lda, b: pb, ldb: ldb,
                       beta: beta, c: pc, ldc: ldc)
        }
        let reference = { (pa: UnsafePointer<Float>, pb: UnsafePointer<Float>, pc: UnsafeMutablePointer<Float>, beta: Float) in
            BLAS.referenceSgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha, a: pa, lda: lda, b: pb,
                                ldb: ldb, beta: beta, c: pc, ldc: ldc)
        }
        // beta = 0 must not read C, even when it holds NaN.
        for (beta, initial) in [(beta, c0), (Float(0), [Float](repeating: .nan, count: c0.count))] {
            let (fromBLAS, fromReference) = (run(blas, beta: beta, initial: initial), run(reference, beta: beta, initial: initial))
            var worstBLAS = 0.0, worstReference = 0.0
            for i in 0..<m {
                for j in 0..<ldc {
                    let index = i * ldc + j
                    guard j < n else {  // outside the matrix: untouched
                        #expect(fromBLAS[index].bitPattern == initial[index].bitPattern)
                        #expect(fromReference[index].bitPattern == initial[index].bitPattern)
                        continue
                    }
                    // max() below would pass over NaN (a C read when beta is 0): checked here.
                    #expect(!fromBLAS[index].isNaN && !fromReference[index].isNaN, "\(shape) [\(i), \(j)]")
                    var exact = beta == 0 ? 0 : Double(beta) * Double(initial[index])
                    for p in 0..<k {
                        exact += Double(alpha) * Double(ta ? a[p * lda + i] : a[i * lda + p]) * Double(tb ? b[j * ldb + p] : b[p * ldb + j])
                    }
                    worstBLAS = max(worstBLAS, abs(Double(fromBLAS[index]) - exact))
                    worstReference = max(worstReference, abs(Double(fromReference[index]) - exact))
                }
            }
            #expect(worstBLAS < 1e-5 && worstReference < 1e-5, "\(shape): BLAS \(worstBLAS), reference \(worstReference)")
        }
    }

    /// Products large enough to be split across the workers (by rows, and by columns when C is
    /// short and wide) agree with the reference on every transposition case, with padded leading
    /// dimensions and beta = 1; also when the rows (84) or columns (4100) are an even number of
    /// whole blocks (32 rows, 64 columns) plus a remainder, which every part must still cover; and
    /// one row or one column of C (matrix-vector products, split by blocks of 64 outputs).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func splitProductsMatchTheReference(_ transposes: (Bool, Bool)) {
        let (ta, tb) = transposes
        for (m, n, k) in [(301, 197, 160), (37, 1500, 130), (84, 16, 8192), (16, 4100, 64), (1, 4100, 2048),
                          (3000, 1, 2048)] {
            #expect(m * n * k >= 1 << 22, "the product must be large enough to be split")
            let (lda, ldb, ldc) = ((ta ? m : k) + 1, (tb ? k : n) + 3, n + 2)
            var generator = RandomGenerator(seed: 5)
            let a = Tensor.randomNormal([(ta ? k : m) * lda], generator: &generator).scalars
            let b = Tensor.randomNormal([(tb ? n : k) * ldb], generator: &generator).scalars
            let c0 = Tensor.randomNormal([m * ldc], generator: &generator).scalars
            var fromBLAS = c0, fromReference = c0
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    fromBLAS.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: lda,
                                   b: pb.baseAddress!, ldb: ldb, beta: 1, c: pc.baseAddress!, ldc: ldc)
                    }
                    fromReference.withUnsafeMutableBufferPointer { pc in
                        BLAS.referenceSgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!,
                                            lda: lda, b: pb.baseAddress!, ldb: ldb, beta: 1, c: pc.baseAddress!, ldc: ldc)
                    }
                }
            }
            var worst: Float = 0
            for i in 0..<m {
                for j in 0..<ldc {
                    let index = i * ldc + j
                    if j >= n {
                        #expect(fromBLAS[index].bitPattern == c0[index].bitPattern, "padding column written")
                    } else {
                        #expect(!fromBLAS[index].isNaN, "\(m)x\(n)x\(k) [\(i), \(j)]")
                        worst = max(worst, abs(fromBLAS[index] - fromReference[index]))
                    }
                }
            }
            // Rounding grows with the length k of the sums (k = 8192: a few 1e-4).
            #expect(worst < 1e-4 * max(1, Float(k) / 1024), "\(m)x\(n)x\(k): \(worst)")
        }
    }

    static func cpuinfo(_ flags: String, model: String = "Test CPU") -> String {
        """
        processor\t: 0
        vendor_id\t: GenuineIntel
        model name\t: \(model)
        flags\t\t: fpu sse sse2 \(flags)

        processor\t: 1
        model name\t: Second CPU
        flags\t\t: fpu sse sse2 avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16 avx2 fma
        """
    }

    static let skylakeFlags = "pni ssse3 sse4_1 sse4_2 avx avx2 fma f16c avx512f avx512dq avx512cd avx512bw avx512vl"

    @Test func cpuinfoParsingAndKernelChoice() {
        let cooperlake = CPUFeatures(cpuinfo: Self.cpuinfo(Self.skylakeFlags + " avx512_bf16 avx512_vnni amx_tile", model: "Xeon SPR"))
        #expect(cooperlake.modelName == "Xeon SPR")
        #expect(cooperlake.has("avx512_bf16", "amx_tile", "avx2"))
        #expect(!cooperlake.vectorExtensions.contains("fpu"))
        #expect(cooperlake.preferredOpenBLASCore == "COOPERLAKE")
        #expect(CPUFeatures(cpuinfo: Self.cpuinfo(Self.skylakeFlags)).preferredOpenBLASCore == "SKYLAKEX")
        #expect(CPUFeatures(cpuinfo: Self.cpuinfo("pni ssse3 sse4_1 sse4_2 avx avx2 fma")).preferredOpenBLASCore == "HASWELL")
        // Only the first processor block counts: this one is old.
        let old = CPUFeatures(cpuinfo: Self.cpuinfo("pni ssse3 sse4_1 sse4_2"))
        #expect(old.preferredOpenBLASCore == nil)
        #expect(old.canRun(openBLASCore: "nehalem") == true && old.canRun(openBLASCore: "SANDYBRIDGE") == false)
        #expect(old.canRun(openBLASCore: "ARMV8") == nil)
        let empty = CPUFeatures(cpuinfo: "")
        #expect(empty.modelName == "unknown" && empty.vectorExtensions.isEmpty && empty.preferredOpenBLASCore == nil)
    }

    @Test func coreTypeRequests() {
        let haswell = CPUFeatures(cpuinfo: Self.cpuinfo("pni ssse3 sse4_1 sse4_2 avx avx2 fma"))
        for request in [nil, "", "auto", " Auto "] {
            #expect(BLAS.coreChoice(request: request, cpu: haswell).core == "HASWELL")
        }
        #expect(BLAS.coreChoice(request: "off", cpu: haswell).core == nil)
        #expect(BLAS.coreChoice(request: "prescott", cpu: haswell) == ("PRESCOTT", "IPT_BLAS_CORETYPE=PRESCOTT"))
        let refused = BLAS.coreChoice(request: "SkylakeX", cpu: haswell)
        #expect(refused.core == "HASWELL" && refused.source.contains("refused"))
        #expect(BLAS.coreChoice(request: "FUTURECORE", cpu: haswell).core == "FUTURECORE")  // OpenBLAS decides
        #expect(BLAS.coreChoice(request: "auto", cpu: CPUFeatures(cpuinfo: "")).core == nil)
    }
}
