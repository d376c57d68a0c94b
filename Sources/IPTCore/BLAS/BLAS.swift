import CBLAS
import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Matrix multiplication through OpenBLAS, loaded at first use with the right CPU kernels.
///
/// OpenBLAS picks its kernels once, when the library is loaded, from `OPENBLAS_CORETYPE` or its
/// own CPU detection; version 0.3.21 (Debian 12) misdetects recent Xeons as "Prescott". IPTCore
/// therefore does not link OpenBLAS: on first use it sets `OPENBLAS_CORETYPE` to the best family
/// the CPU supports (``CPUFeatures/preferredOpenBLASCore``) unless the user set it, then loads the
/// library with `dlopen`, and checks one multiplication against a double-precision reference.
/// `IPT_BLAS_CORETYPE=auto|off|<name>` overrides the choice (`off`: trust OpenBLAS; a named family
/// this CPU cannot run is refused, as it would die on an illegal instruction, and the automatic
/// choice is used instead). A non-empty `OPENBLAS_CORETYPE` set by the user always wins.
/// `IPT_BLAS_LIBRARY=<path>` loads another CBLAS library for the GEMMs instead (for instance
/// Intel MKL's `libmkl_rt.so` from PyPI's `mkl` wheel, the BLAS inside PyTorch's wheel; MKL gets
/// `MKL_THREADING_LAYER=SEQUENTIAL` unless the user set it); it passes the same check, and when it
/// cannot be loaded or fails the check, OpenBLAS is used and ``Info/warning`` says why. LAPACK
/// stays on the system's LAPACKE.
/// Without OpenBLAS, or when the check fails, ``referenceSgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``
/// keeps everything correct (slowly), and ``info`` says so. ``statistics`` counts the GEMMs done.
///
/// Threads: OpenBLAS runs single-threaded, and IPTCore splits each large product into row or
/// column blocks across ``Parallel/workers`` itself. OpenBLAS's own threads busy-wait between
/// calls, which takes the cores away from IPTCore's element-wise kernels and, on a loaded
/// machine, from other processes; one pool of workers for everything avoids that, and lets
/// batched small products (attention heads) run concurrently on the calling threads.
public enum BLAS {
    /// What was loaded and how it behaves.
    public struct Info: Codable, Sendable {
        /// The shared library loaded, or a note that the built-in fallback is in use.
        public let library: String
        /// OpenBLAS's configuration string (`openblas_get_config`).
        public let config: String
        /// The kernel family in use (`openblas_get_corename`).
        public let coreName: String
        /// How the kernel family was chosen.
        public let coreSource: String
        /// Threads a large product is split across (``Parallel/workers``).
        public let threads: Int
        /// Whether a test multiplication agreed with a double-precision reference.
        public let verified: Bool
        /// Largest relative error of that test multiplication.
        public let verificationError: Double
        /// Why the library asked for with `IPT_BLAS_LIBRARY` is not in use (OpenBLAS is, then);
        /// nil otherwise.
        public var warning: String? = nil
        /// Whether products with one row or one column run as matrix-vector products (the
        /// library's `cblas_sgemv`, checked like its GEMM) instead of GEMMs.
        public var matrixVectorProducts = false
    }

    private typealias Sgemm = @convention(c) (
        CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint,
        Float, UnsafePointer<Float>?, blasint, UnsafePointer<Float>?, blasint,
        Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    private typealias Sgemv = @convention(c) (
        CBLAS_ORDER, CBLAS_TRANSPOSE, blasint, blasint, Float, UnsafePointer<Float>?, blasint,
        UnsafePointer<Float>?, blasint, Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    private typealias GetString = @convention(c) () -> UnsafeMutablePointer<CChar>?
    private typealias SetInt = @convention(c) (Int32) -> Void

    private struct Library: @unchecked Sendable {
        var handle: UnsafeMutableRawPointer?
        var sgemm: Sgemm?
        /// For products with one row or one column (nil: they go through `sgemm` too).
        var sgemv: Sgemv? = nil
        var setThreads: SetInt?
        var info: Info
    }

    private static let library: Library = load()

    /// Library, kernel family, threads and the result of the load-time check.
    public static var info: Info {
        var info = library.info
        info.matrixVectorProducts = library.sgemv != nil
        return info
    }

    /// Sets the number of threads the BLAS library itself uses inside one call (default 1).
    /// GEMMs through ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` are
    /// split across ``Parallel/workers`` anyway; more OpenBLAS threads only help LAPACK calls.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "thread count must be positive")
        library.setThreads?(Int32(n))
    }

    /// Whether OpenBLAS was loaded (even if its check failed; LAPACKE would then run on it).
    static var isOpenBLASLoaded: Bool { library.handle != nil }

    private static func load() -> Library {
        let environment = ProcessInfo.processInfo.environment
        // Also for a requested library: LAPACKE still runs on OpenBLAS, loaded by the dynamic loader.
        let coreSource = prepareOpenBLASCore(environment: environment)
        var warning: String? = nil
        if let requested = environment["IPT_BLAS_LIBRARY"], !requested.isEmpty {
            switch loadRequested(requested) {
            case .success(let library): return library
            case .failure(let problem): warning = "IPT_BLAS_LIBRARY=\(requested): \(problem.message)"
            }
        }
        var library = loadOpenBLAS(coreSource: coreSource)
        library.info.warning = warning
        return library
    }

    private struct LoadProblem: Error { let message: String }

    /// Largest relative error of the load-time check a library may show and still be used.
    private static let verificationTolerance = 1e-4

    /// The CBLAS library at `path` (a file or a name the dynamic loader resolves), checked.
    private static func loadRequested(_ path: String) -> Result<Library, LoadProblem> {
        // MKL's default threading layer needs Intel's OpenMP runtime (a separate wheel); IPTCore
        // runs each GEMM block on one of its own workers anyway.
        setenv("MKL_THREADING_LAYER", "SEQUENTIAL", 0)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(LoadProblem(message: "cannot be loaded (\(dlerror().map { String(cString: $0) } ?? "unknown error"))"))
        }
        guard let gemm = dlsym(handle, "cblas_sgemm") else {
            dlclose(handle)
            return .failure(LoadProblem(message: "has no cblas_sgemm"))
        }
        let sgemm = unsafeBitCast(gemm, to: Sgemm.self)
        let setThreads = (dlsym(handle, "openblas_set_num_threads") ?? dlsym(handle, "MKL_Set_Num_Threads"))
            .map { unsafeBitCast($0, to: SetInt.self) }
        setThreads?(1)
        let error = verify(sgemm)
        guard error < verificationTolerance else {
            dlclose(handle)
            return .failure(LoadProblem(message: "failed the check against a double-precision reference (relative error \(error))"))
        }
        let name = URL(fileURLWithPath: path).lastPathComponent
        let info = Info(library: resolvedPath(containing: name) ?? path,
                        config: "", coreName: name, coreSource: "IPT_BLAS_LIBRARY=\(path)",
                        threads: Parallel.workers, verified: true, verificationError: error)
        return .success(Library(handle: handle, sgemm: sgemm, sgemv: checkedSgemv(handle), setThreads: setThreads,
                                info: info))
    }

    /// The first file mapped into the process whose path contains `name` (the dynamic loader's
    /// resolution of a name, through Debian's alternatives), from /proc/self/maps.
    private static func resolvedPath(containing name: String) -> String? {
        let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        return maps.split(separator: "\n").compactMap { line -> String? in
            guard let slash = line.firstIndex(of: "/"), line.contains(name) else { return nil }
            return String(line[slash...])
        }.first
    }

    private static let openBLASNames = ["libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"]

    /// Sets `OPENBLAS_CORETYPE` for OpenBLAS's load (see the type's documentation) and says how
    /// the kernel family is chosen.
    private static func prepareOpenBLASCore(environment: [String: String]) -> String {
        if openBLASNames.contains(where: { dlopen($0, RTLD_NOW | RTLD_NOLOAD) != nil }) {
            return "already loaded by the process (OPENBLAS_CORETYPE as it was then)"
        }
        if let user = environment["OPENBLAS_CORETYPE"], !user.isEmpty {
            return "OPENBLAS_CORETYPE=\(user) (set by the user)"
        }
        let choice = coreChoice(request: environment["IPT_BLAS_CORETYPE"], cpu: CPUFeatures.current)
        if let core = choice.core { setenv("OPENBLAS_CORETYPE", core, 1) }
        return choice.source
    }

    private static func loadOpenBLAS(coreSource source: String) -> Library {
        var handle: UnsafeMutableRawPointer? = nil
        var loadedName = ""
        for name in openBLASNames {
            if let h = dlopen(name, RTLD_NOW | RTLD_GLOBAL) { handle = h; loadedName = name; break }
        }
        guard let handle, let gemm = dlsym(handle, "cblas_sgemm") else {
            let info = Info(library: "none: built-in reference GEMM (install libopenblas-dev for speed)",
                            config: "", coreName: "none", coreSource: "", threads: 1, verified: true,
                            verificationError: 0)
            return Library(handle: nil, sgemm: nil, setThreads: nil, info: info)
        }
        func string(_ symbol: String) -> String {
            guard let f = dlsym(handle, symbol), let s = unsafeBitCast(f, to: GetString.self)() else { return "" }
            return String(cString: s).trimmingCharacters(in: .whitespaces)
        }
        let sgemm = unsafeBitCast(gemm, to: Sgemm.self)
        let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetInt.self) }
        setThreads?(1)  // IPTCore splits products across its own workers (see the type's documentation)
        let error = verify(sgemm)
        let path = resolvedPath(containing: "libopenblas") ?? loadedName
        let verified = error < verificationTolerance
        let info = Info(library: path, config: string("openblas_get_config"), coreName: string("openblas_get_corename"),
                        coreSource: source, threads: Parallel.workers, verified: verified, verificationError: error)
        // A kernel that computes wrong numbers is worse than a slow one.
        return Library(handle: handle, sgemm: verified ? sgemm : nil, sgemv: verified ? checkedSgemv(handle) : nil,
                       setThreads: setThreads, info: info)
    }

    /// The library's `cblas_sgemv` if it has one that passes the check against a double-precision
    /// reference (both transpositions, a strided x and y); nil sends vector products to `sgemm`.
    private static func checkedSgemv(_ handle: UnsafeMutableRawPointer) -> Sgemv? {
        guard let symbol = dlsym(handle, "cblas_sgemv") else { return nil }
        let sgemv = unsafeBitCast(symbol, to: Sgemv.self)
        let (rows, columns) = (37, 53)
        var generator = RandomGenerator(seed: 54321)
        let a = (0..<(rows * columns)).map { _ in Float(generator.nextUniform() * 2 - 1) }
        let x = (0..<(2 * max(rows, columns))).map { _ in Float(generator.nextUniform() * 2 - 1) }
        for transposed in [false, true] {
            let (outputs, inputs) = transposed ? (columns, rows) : (rows, columns)
            var y = [Float](repeating: 0, count: 3 * outputs)
            sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns), 1, a,
                  blasint(columns), x, 2, 0, &y, 3)
            for i in 0..<outputs {
                var exact = 0.0
                for p in 0..<inputs {
                    exact += Double(transposed ? a[p * columns + i] : a[i * columns + p]) * Double(x[2 * p])
                }
                // Written so that NaN fails too.
                guard abs(Double(y[3 * i]) - exact) / max(1, abs(exact)) < verificationTolerance else { return nil }
            }
        }
        return sgemv
    }

    /// The `OPENBLAS_CORETYPE` to set (nil: leave OpenBLAS to its own detection) for an
    /// `IPT_BLAS_CORETYPE` request, and how it was chosen (for ``Info/coreSource``).
    ///
    /// - Parameters:
    ///   - request: `auto` (also empty or `nil`), `off`, or a kernel family name (any case).
    ///   - cpu: the CPU the kernels must run on.
    public static func coreChoice(request: String?, cpu: CPUFeatures) -> (core: String?, source: String) {
        let name = (request ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        let automatic = cpu.preferredOpenBLASCore
        let automaticSource = automatic.map { "chosen by IPTCore from the CPU's flags (\($0))" } ?? "OpenBLAS's own detection"
        switch name {
        case "", "AUTO":
            return (automatic, automaticSource)
        case "OFF":
            return (nil, "OpenBLAS's own detection (IPT_BLAS_CORETYPE=off)")
        default:
            if cpu.canRun(openBLASCore: name) == false {
                return (automatic, "IPT_BLAS_CORETYPE=\(name) refused: this CPU lacks its instructions; \(automaticSource)")
            }
            return (name, "IPT_BLAS_CORETYPE=\(name)")
        }
    }

    /// Largest relative error of OpenBLAS against a double-precision reference on all four
    /// transposition cases of an odd-sized product.
    private static func verify(_ sgemm: Sgemm) -> Double {
        let (m, n, k) = (67, 45, 131)
        var generator = RandomGenerator(seed: 12345)
        let a = (0..<(m * k)).map { _ in Float(generator.nextUniform() * 2 - 1) }
        let b = (0..<(k * n)).map { _ in Float(generator.nextUniform() * 2 - 1) }
        var worst = 0.0
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [Float](repeating: 0, count: m * n)
            sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                  blasint(m), blasint(n), blasint(k), 1, a, blasint(ta ? m : k), b, blasint(tb ? k : n), 0,
                  &c, blasint(n))
            for i in 0..<m {
                for j in 0..<n {
                    var ref = 0.0
                    for p in 0..<k {
                        let av = Double(ta ? a[p * m + i] : a[i * k + p])
                        let bv = Double(tb ? b[j * k + p] : b[p * n + j])
                        ref += av * bv
                    }
                    worst = max(worst, abs(Double(c[i * n + j]) - ref) / max(1, abs(ref)))
                }
            }
        }
        return worst
    }

    /// `C = alpha * op(A) * op(B) + beta * C`, row-major, where op(A) is m x k and op(B) is k x n.
    ///
    /// A large product is split into blocks of C's rows (or columns, when C is wide and short)
    /// computed concurrently on ``Parallel/workers``; the result does not depend on the split.
    ///
    /// - Parameters:
    ///   - transposeA: whether `a` holds A transposed (k x m, leading dimension `lda`).
    ///   - transposeB: whether `b` holds B transposed (n x k, leading dimension `ldb`).
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
             ldb: ldb, beta: beta, c: c, ldc: ldc, splitting: true)
    }

    /// ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` on the calling thread
    /// only, for callers that already run products concurrently (one attention head per worker).
    static func serialSgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
             ldb: ldb, beta: beta, c: c, ldc: ldc, splitting: false)
    }

    /// Products below this many multiply-adds run on one thread: splitting costs a wake-up of the
    /// workers (tens of microseconds), about the time of a product this size.
    static let splitThreshold = 1 << 22

    private static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, splitting: Bool
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM dimension")
        precondition(m < Int(Int32.max) && n < Int(Int32.max) && k < Int(Int32.max), "GEMM dimension too large")
        GemmCounter.record(flops: 2 * m * n * k)
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { scaleRow(c + i * ldc, n, beta) }
            return
        }
        guard let f = library.sgemm else {
            referenceSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                           a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if m == 1 || n == 1, let v = library.sgemv {
            vectorProduct(v, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a,
                          lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, splitting: splitting)
            return
        }
        let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
        // Split C by rows when it has enough of them for whole 32-row blocks, else by columns.
        let byRows = m >= n || n < 64 * Parallel.workers
        inBlocks(byRows ? m : n, granule: byRows ? 32 : 64, splitting: splitting && m * n * k >= splitThreshold) {
            start, count in
            if byRows {
                // Rows start..<start+count of op(A) and C.
                let aBlock = transposeA ? a + start : a + start * lda
                f(CblasRowMajor, ta, tb, blasint(count), blasint(n), blasint(k), alpha, aBlock, blasint(lda), b,
                  blasint(ldb), beta, c + start * ldc, blasint(ldc))
            } else {
                // Columns start..<start+count of op(B) and C.
                let bBlock = transposeB ? b + start * ldb : b + start
                f(CblasRowMajor, ta, tb, blasint(m), blasint(count), blasint(k), alpha, a, blasint(lda), bBlock,
                  blasint(ldb), beta, c + start, blasint(ldc))
            }
        }
    }

    /// A product with one row or one column as matrix-vector products: GEMM packs the whole
    /// matrix operand on every call (OpenBLAS 0.3.21 does so even for one row), which for IST's
    /// prompt decoder (76,800 x 768) costs more than the multiply-adds; GEMV streams it once.
    /// Large ones are split into blocks of outputs across the workers, as `gemm` splits C.
    private static func vectorProduct(
        _ sgemv: Sgemv, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, splitting: Bool
    ) {
        // The matrix, its rows and columns as stored, whether its outputs run along its columns
        // (Trans), the vector and the stride between outputs in C.
        let matrix: UnsafePointer<Float>, ld: Int, storedRows: Int, storedColumns: Int, trans: Bool
        let x: UnsafePointer<Float>, incx: Int, outputs: Int, incy: Int
        if m == 1 {
            // c (1 x n) = a (1 x k) op(B): op(B)^T a.
            (matrix, ld, x, incx, outputs, incy) = (b, ldb, a, transposeA ? lda : 1, n, 1)
            (storedRows, storedColumns, trans) = transposeB ? (n, k, false) : (k, n, true)
        } else {
            // c (m x 1) = op(A) b (k x 1).
            (matrix, ld, x, incx, outputs, incy) = (a, lda, b, transposeB ? 1 : ldb, m, ldc)
            (storedRows, storedColumns, trans) = transposeA ? (k, m, true) : (m, k, false)
        }
        // BLAS may read y when beta is 0 (0 * NaN); this library's contract is that C is not read.
        if beta == 0 { for i in 0..<outputs { c[i * incy] = 0 } }
        func run(_ start: Int, _ count: Int) {
            // Outputs start..<start+count: rows of a NoTrans matrix, columns of a Trans one.
            let block = trans ? matrix + start : matrix + start * ld
            sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blasint(trans ? storedRows : count),
                  blasint(trans ? count : storedColumns), alpha, block, blasint(ld), x, blasint(incx), beta,
                  c + start * incy, blasint(incy))
        }
        inBlocks(outputs, granule: 64, splitting: splitting && m * n * k >= splitThreshold, run)
    }

    /// Calls `body(start, count)` on blocks covering `0..<extent`: one block on the calling thread
    /// unless `splitting`, else whole granules per block, one block per worker (at most
    /// `extent / granule` blocks; the last may be short), concurrently.
    private static func inBlocks(_ extent: Int, granule: Int, splitting: Bool, _ body: (_ start: Int, _ count: Int) -> Void) {
        let parts = splitting ? min(Parallel.workers, extent / granule) : 1
        if parts <= 1 { return body(0, extent) }
        let blockSize = ((extent + parts - 1) / parts + granule - 1) / granule * granule
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = part * blockSize, count = min(extent, start + blockSize) - start
            if count > 0 { body(start, count) }
        }
    }

    /// `row = beta row` over `n` values, without reading the row when beta is 0 (C's contract).
    static func scaleRow(_ row: UnsafeMutablePointer<Float>, _ n: Int, _ beta: Float) {
        for j in 0..<n { row[j] = beta == 0 ? 0 : row[j] * beta }
    }

    /// The built-in GEMM that ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``
    /// falls back to when OpenBLAS is absent or fails its check: same contract (`C` is not read
    /// when `beta` is 0), straightforward loops, not counted in ``statistics``. Public so that it
    /// can be compared with OpenBLAS.
    public static func referenceSgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            let row = c + i * ldc
            scaleRow(row, n, beta)
            for p in 0..<k {
                let av = alpha * (transposeA ? a[p * lda + i] : a[i * lda + p])
                if transposeB {
                    for j in 0..<n { row[j] += av * b[j * ldb + p] }
                } else {
                    let brow = b + p * ldb
                    for j in 0..<n { row[j] += av * brow[j] }
                }
            }
        }
    }
}

extension BLAS {
    /// GEMM calls made through ``BLAS/sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``
    /// and their floating-point operations (2 m n k each).
    public struct Statistics: Sendable, Equatable, Codable {
        public var gemmCalls: Int
        public var floatingPointOperations: Int

        public init(gemmCalls: Int = 0, floatingPointOperations: Int = 0) {
            self.gemmCalls = gemmCalls
            self.floatingPointOperations = floatingPointOperations
        }
    }

    /// Totals since the process started, over all threads. The difference of two readings divided
    /// by the time between them is the achieved GEMM FLOP/s.
    public static var statistics: Statistics { GemmCounter.total.snapshot }

    /// Runs `body` and returns its result with the GEMMs it made on the current thread or task,
    /// including the products it hands to `Parallel`'s workers (attention heads); GEMMs of
    /// concurrently running work elsewhere are not included; nested counts add up.
    public static func counting<R>(_ body: () throws -> R) rethrows -> (result: R, statistics: Statistics) {
        let counter = GemmCounter(parent: GemmCounter.scoped)
        let result = try GemmCounter.$scoped.withValue(counter) { try body() }
        return (result, counter.snapshot)
    }
}

/// Thread-safe GEMM counters: one process-wide total and task-local ones for ``BLAS/counting(_:)``.
final class GemmCounter: Sendable {
    private let calls = Atomic<Int>(0)
    private let flops = Atomic<Int>(0)
    private let parent: GemmCounter?

    static let total = GemmCounter(parent: nil)
    @TaskLocal static var scoped: GemmCounter?

    init(parent: GemmCounter?) { self.parent = parent }

    var snapshot: BLAS.Statistics {
        BLAS.Statistics(gemmCalls: calls.load(ordering: .relaxed), floatingPointOperations: flops.load(ordering: .relaxed))
    }

    private func add(flops n: Int) {
        calls.wrappingAdd(1, ordering: .relaxed)
        flops.wrappingAdd(n, ordering: .relaxed)
        parent?.add(flops: n)
    }

    static func record(flops n: Int) {
        total.add(flops: n)
        scoped?.add(flops: n)
    }
}
