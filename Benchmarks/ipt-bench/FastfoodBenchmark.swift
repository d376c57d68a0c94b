import Foundation
import IPTCore
import IPTTraining

/// Times the pieces of a Fastfood projection of one tensor (BART-base's embedding by default:
/// 50,265 x 768 values, L = 2^26): the Hadamard transform (blocked and textbook), the counter-based
/// draws, and the map and its transpose.
enum FastfoodBenchmark {
    static func run(count: Int, dimension: Int) {
        let transform = FastfoodTransform(dimension: dimension, count: count, key: 1)
        let l = transform.length
        print("D = \(count), d = \(dimension), L = 2^\(l.trailingZeroBitCount), workers \(Parallel.workers)")
        var data = Tensor.randomNormal([l], generator: &generator).scalars
        func time(_ label: String, repeats: Int = 3, _ body: () -> Void) {
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            print(label.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%10.1f ms (best of %d)", best, repeats))
        }
        data.withUnsafeMutableBufferPointer { p in
            time("FWHT, blocked") { fastWalshHadamardTransform(p.baseAddress!, count: l) }
            time("FWHT, textbook", repeats: 1) { referenceWalshHadamardTransform(p.baseAddress!, count: l) }
        }
        let gaussian = CounterRandom(key: 3)
        var sink = Vec16(repeating: 0)
        time("Gaussian draws (normal16)") {
            var i = 0
            while i < l { sink += gaussian.normal16(i); i += 16 }
        }
        let permutation = BijectivePermutation(bits: l.trailingZeroBitCount, key: 5)
        var indexSink = 0
        time("permutation") { for i in 0..<l { indexSink &+= permutation(i) } }
        let z = (0..<dimension).map { Float($0 % 7) - 3 }
        var output = [Float](repeating: 0, count: count)
        var gradientOfZ = [Float](repeating: 0, count: dimension)
        let workspace = FastfoodWorkspace()
        z.withUnsafeBufferPointer { zp in
            output.withUnsafeMutableBufferPointer { out in
                time("apply") { transform.apply(zp.baseAddress!, addingTo: out.baseAddress!, workspace: workspace) }
                gradientOfZ.withUnsafeMutableBufferPointer { gz in
                    time("applyTransposed") {
                        transform.applyTransposed(UnsafePointer(out.baseAddress!), addingTo: gz.baseAddress!, workspace: workspace)
                    }
                }
            }
        }
        if sink.sum().isNaN || indexSink == 42 { print("(sink)") }
    }

    static var generator = RandomGenerator(seed: 1)
}
