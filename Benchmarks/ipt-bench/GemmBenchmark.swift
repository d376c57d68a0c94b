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

    static func run(seconds: Double) {
        let info = BLAS.info
        print("BLAS: \(info.library)")
        print("core: \(info.coreName) (\(info.coreSource)), threads \(info.threads)")
        print(row("shape", "m", "n", "k", "ms", "GFLOP/s"))
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
                let t0 = DispatchTime.now().uptimeNanoseconds
                once()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            } while Date() < deadline || times.count < 5
            times.sort()
            let median = times[times.count / 2]
            let flops = 2.0 * Double(s.m * s.n * s.k)
            totalFlops += flops
            totalSeconds += median
            print(row(s.label, "\(s.m)", "\(s.n)", "\(s.k)", String(format: "%.3f", median * 1000),
                      String(format: "%.1f", flops / median / 1e9)))
        }
        print(String(format: "overall: %.1f GFLOP/s", totalFlops / totalSeconds / 1e9))
    }

    /// One table row: the label left-aligned in 26 columns, the numbers right-aligned. Swift
    /// padding, because `%@` in `String(format:)` is not portable to Linux.
    static func row(_ label: String, _ m: String, _ n: String, _ k: String, _ ms: String, _ rate: String) -> String {
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        let left = label + String(repeating: " ", count: max(0, 26 - label.count))
        return [left, right(m, 6), right(n, 6), right(k, 6), right(ms, 10), right(rate, 10)].joined(separator: " ")
    }
}
