import Foundation
import IPTCore

// ipt-bench: performance measurements (not tests). Usage:
//   ipt-bench gemm [--seconds S]      sgemm GFLOP/s at BART-base shapes
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
switch arguments.first {
case "gemm":
    GemmBenchmark.run(seconds: option("--seconds").flatMap(Double.init) ?? 1)
default:
    print("usage: ipt-bench gemm [--seconds S]")
}
