import Foundation
import IPTCore

// ipt-bench: performance measurements (not tests). Usage:
//   ipt-bench gemm [--seconds S]      sgemm GFLOP/s at BART-base shapes
//   ipt-bench tokenize [--tokenizer DIR] [--crossfit DIR] [--lines N] [--repeat R] [--python PATH]
//                                     tokens/s of the byte-level BPE tokenizer, single-threaded, next to
//                                     Hugging Face tokenizers run by PATH (default /work/main/.venv/bin/python
//                                     when it exists); DIRs default to ../shared
//   ipt-bench train-tokenizer --corpus FILE [--vocab-size N] [--min-frequency F]
//                                     seconds BPETrainer takes (default 8,000 ids, minimum frequency 2)
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
switch arguments.first {
case "gemm":
    GemmBenchmark.run(seconds: option("--seconds").flatMap(Double.init) ?? 1)
case "tokenize":
    let shared = URL(fileURLWithPath: ProcessInfo.processInfo.environment["IPT_SHARED_DIR"] ?? "../shared")
    let defaultPython = "/work/main/.venv/bin/python"
    do {
        try TokenizeBenchmark.run(
            tokenizerFolder: URL(fileURLWithPath: option("--tokenizer") ?? shared.appendingPathComponent("tokenizers/bart-base").path),
            crossfitFolder: URL(fileURLWithPath: option("--crossfit") ?? shared.appendingPathComponent("data/crossfit16").path),
            lineCount: option("--lines").flatMap(Int.init) ?? 20_000, repeats: option("--repeat").flatMap(Int.init) ?? 3,
            python: option("--python") ?? (FileManager.default.isExecutableFile(atPath: defaultPython) ? defaultPython : nil))
    } catch {
        print("ipt-bench tokenize: \(error)")
        exit(1)
    }
case "train-tokenizer":
    guard let corpus = option("--corpus") else {
        print("usage: ipt-bench train-tokenizer --corpus FILE [--vocab-size N] [--min-frequency F]")
        exit(2)
    }
    do {
        try TokenizeBenchmark.runTrainer(corpus: URL(fileURLWithPath: corpus),
                                         vocabularySize: option("--vocab-size").flatMap(Int.init) ?? 8000,
                                         minimumFrequency: option("--min-frequency").flatMap(Int.init) ?? 2)
    } catch {
        print("ipt-bench train-tokenizer: \(error)")
        exit(1)
    }
default:
    print("usage: ipt-bench gemm [--seconds S] | tokenize [--tokenizer DIR] [--crossfit DIR] [--lines N] [--repeat R] [--python PATH]"
          + " | train-tokenizer --corpus FILE [--vocab-size N] [--min-frequency F]")
}
