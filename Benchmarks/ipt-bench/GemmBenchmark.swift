import Foundation
import IPTCore

/// Achieved sgemm GFLOP/s at BART-base shapes, through IPTCore's BLAS entry point.
enum GemmBenchmark {
    struct Shape {
        let m, n, k: Int
        let transposeA, transposeB: Bool
        let label: String
    }

    /// The GEMMs of a BART-base layer on 1024 tokens (B x T), forward and backward.
    static let bartShapes: [Shape] = [
        Shape(m: 1024, n: 768, k: 768, transposeA: false, transposeB: true, label: "q/k/v/out proj  x W^T"),
        Shape(m: 1024, n: 3072, k: 768, transposeA: false, transposeB: true, label: "fc1             x W^T"),
        Shape(m: 1024, n: 768, k: 3072, transposeA: false, transposeB: true, label: "fc2             x W^T"),
        Shape(m: 1024, n: 768, k: 3072, transposeA: false, transposeB: false, label: "fc1 backward dx g W"),
        Shape(m: 1024, n: 3072, k: 768, transposeA: false, transposeB: false, label: "fc2 backward dx g W"),
        Shape(m: 768, n: 768, k: 1024, transposeA: true, transposeB: false, label: "weight grad   g^T x"),
    ]

    /// - Parameters:
    ///   - seconds: time per shape.
    ///   - json: print only `{"gflops": overall, "core": kernel family}` (for `ipt-bench compare`).
    ///   - cpuTime: time by the process's CPU time instead of the wall clock: GFLOP per CPU-second,
    ///     the per-core rate with one thread, which other processes' load disturbs much less.
    ///   - direct: call OpenBLAS's `cblas_sgemm` itself with `threads` OpenBLAS threads, bypassing
    ///     IPTCore's split across its workers: the rate OpenBLAS reaches on its own, the yardstick
    ///     for the library's rate.
    static func run(seconds: Double, json: Bool = false, cpuTime: Bool = false, direct: Bool = false, threads: Int = Parallel.workers) {
        let info = BLAS.info
        let report: (String) -> Void = { if !json { print($0) } }
        report("BLAS: \(info.library)")
        report("core: \(info.coreName) (\(info.coreSource)), threads \(direct ? threads : info.threads)"
               + (direct ? " (OpenBLAS's own threading)" : " (IPTCore's split)"))
        typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                          UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
        // OpenBLAS is loaded with RTLD_GLOBAL by IPTCore (BLAS.info above loaded it).
        let openBLAS = direct ? dlsym(UnsafeMutableRawPointer(bitPattern: 0), "cblas_sgemm").map { unsafeBitCast($0, to: Sgemm.self) } : nil
        if direct {
            guard openBLAS != nil else { print("ipt-bench gemm --direct: cblas_sgemm not found"); return }
            BLAS.setThreadCount(threads)
        }
        report(row("shape", "m", "n", "k", "ms", "GFLOP/s"))
        var totalFlops = 0.0, totalSeconds = 0.0
        var generator = RandomGenerator(seed: 1)
        for s in bartShapes {
            let a = Tensor.randomNormal([s.m * s.k], generator: &generator)
            let b = Tensor.randomNormal([s.k * s.n], generator: &generator)
            var c = Tensor.zeros([s.m * s.n])
            let lda = s.transposeA ? s.m : s.k, ldb = s.transposeB ? s.k : s.n
            func once() {
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            if let openBLAS {
                                // CblasRowMajor 101, CblasNoTrans 111, CblasTrans 112.
                                openBLAS(101, s.transposeA ? 112 : 111, s.transposeB ? 112 : 111, Int32(s.m), Int32(s.n), Int32(s.k),
                                         1, pa.baseAddress!, Int32(lda), pb.baseAddress!, Int32(ldb), 0, pc.baseAddress!, Int32(s.n))
                                return
                            }
                            BLAS.sgemm(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k,
                                       alpha: 1, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                       beta: 0, c: pc.baseAddress!, ldc: s.n)
                        }
                    }
                }
            }
            once()
            var times: [Double] = []
            let deadline = Date().addingTimeInterval(seconds)
            repeat {
                let t0 = cpuTime ? processCPUSeconds() : Double(DispatchTime.now().uptimeNanoseconds) / 1e9
                once()
                let t1 = cpuTime ? processCPUSeconds() : Double(DispatchTime.now().uptimeNanoseconds) / 1e9
                times.append(t1 - t0)
            } while Date() < deadline || times.count < 5
            times.sort()
            let median = times[times.count / 2]
            let flops = 2.0 * Double(s.m * s.n * s.k)
            totalFlops += flops
            totalSeconds += median
            report(row(s.label, "\(s.m)", "\(s.n)", "\(s.k)", String(format: "%.3f", median * 1000),
                      String(format: "%.1f", flops / median / 1e9)))
        }
        report(String(format: "overall: %.1f GFLOP/s", totalFlops / totalSeconds / 1e9))
        if json { print("{\"gflops\": \(totalFlops / totalSeconds / 1e9), \"core\": \"\(info.coreName)\"}") }
    }

    /// CPU time used by this process so far (all threads), in seconds.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// One table row: the label left-aligned in 26 columns, the numbers right-aligned. Swift
    /// padding, because `%@` in `String(format:)` is not portable to Linux.
    static func row(_ label: String, _ m: String, _ n: String, _ k: String, _ ms: String, _ rate: String) -> String {
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        let left = label + String(repeating: " ", count: max(0, 26 - label.count))
        return [left, right(m, 6), right(n, 6), right(k, 6), right(ms, 10), right(rate, 10)].joined(separator: " ")
    }
}
