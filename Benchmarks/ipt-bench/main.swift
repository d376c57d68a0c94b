import Foundation
import IPTCore

// ipt-bench: performance measurements (not tests). Usage:
//   ipt-bench compare [--size base|tiny|both] [--workloads pt,ist,...] [--rounds R] [--threads N]
//                     [--steps S] [--warmup W] [--python PATH] [--peer PATH] [--memory-limit-gb G] [--no-gemm]
//                                     the training workloads next to the PyTorch peer
//                                     (../shared/bench/torch_peer.py), alternating, one process each;
//                                     scripts/bench runs it with a private PyTorch environment
//   ipt-bench workload NAME [--size base|tiny] [--steps S] [--warmup W]
//                                     one workload (pt, ist, msf, said, infer, generate) in this
//                                     process; prints one JSON line
//   ipt-bench fastfood [--count D] [--dim d]
//                                     the pieces of one tensor's Fastfood projection (default:
//                                     BART-base's embedding, L = 2^26)
//   ipt-bench said-pieces [--size base|tiny] [--steps S] [--warmup W]
//                                     median milliseconds of each piece of the said step
//   ipt-bench gemm [--seconds S] [--json] [--cpu-time] [--direct [--threads N]]
//                                     sgemm GFLOP/s at BART-base shapes (per CPU-second with --cpu-time;
//                                     --direct: OpenBLAS alone with N threads of its own, no IPTCore split)
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
    GemmBenchmark.run(seconds: option("--seconds").flatMap(Double.init) ?? 1, json: arguments.contains("--json"),
                     cpuTime: arguments.contains("--cpu-time"), direct: arguments.contains("--direct"),
                     threads: option("--threads").flatMap(Int.init) ?? Parallel.workers)
case "workload":
    var settings = TrainingWorkloads.Settings()
    settings.size = option("--size") ?? settings.size
    settings.steps = option("--steps").flatMap(Int.init) ?? settings.steps
    settings.warmup = option("--warmup").flatMap(Int.init) ?? settings.warmup
    do {
        guard arguments.count > 1 else { throw BenchError("usage: ipt-bench workload NAME [--size base|tiny] [--steps S] [--warmup W]") }
        let result = try TrainingWorkloads.run(arguments[1], settings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    } catch {
        print("ipt-bench workload: \(error)")
        exit(1)
    }
case "said-pieces":
    var settings = TrainingWorkloads.Settings()
    settings.size = option("--size") ?? settings.size
    settings.steps = option("--steps").flatMap(Int.init) ?? settings.steps
    settings.warmup = option("--warmup").flatMap(Int.init) ?? 1
    do {
        var total = 0.0
        for (label, milliseconds) in try TrainingWorkloads.saidPieces(settings) {
            print(label.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%10.1f ms", milliseconds))
            total += milliseconds
        }
        print("total".padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%10.1f ms", total))
    } catch {
        print("ipt-bench said-pieces: \(error)")
        exit(1)
    }
case "fastfood":
    FastfoodBenchmark.run(count: option("--count").flatMap(Int.init) ?? 50_265 * 768,
                          dimension: option("--dim").flatMap(Int.init) ?? 100)
case "compare":
    let shared = URL(fileURLWithPath: ProcessInfo.processInfo.environment["IPT_SHARED_DIR"] ?? "../shared")
    var options = CompareBenchmark.Options(python: option("--python") ?? ".venv/bin/python",
                                           peer: option("--peer") ?? shared.appendingPathComponent("bench/torch_peer.py").path)
    if let size = option("--size") { options.sizes = size == "both" ? ["base", "tiny"] : [size] }
    if let list = option("--workloads") { options.workloads = list.split(separator: ",").map(String.init) }
    options.rounds = option("--rounds").flatMap(Int.init) ?? options.rounds
    options.threads = option("--threads").flatMap(Int.init) ?? options.threads
    options.steps = option("--steps").flatMap(Int.init) ?? options.steps
    options.warmup = option("--warmup").flatMap(Int.init) ?? options.warmup
    options.memoryLimitGigabytes = option("--memory-limit-gb").flatMap(Double.init) ?? options.memoryLimitGigabytes
    options.gemm = !arguments.contains("--no-gemm")
    do {
        try CompareBenchmark.run(options)
    } catch {
        print("ipt-bench compare: \(error)")
        exit(1)
    }
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
    print("usage: ipt-bench compare [--size base|tiny|both] [--workloads LIST] [--rounds R] [--threads N] [--steps S] [--warmup W]"
          + " [--python PATH] [--peer PATH] [--memory-limit-gb G] [--no-gemm] | workload NAME [--size S] [--steps S] [--warmup W]"
          + " | said-pieces [--size S] [--steps S] [--warmup W] | fastfood [--count D] [--dim d] | gemm [--seconds S] [--json] [--cpu-time] [--direct [--threads N]] | tokenize [--tokenizer DIR] [--crossfit DIR] [--lines N] [--repeat R] [--python PATH]"
          + " | train-tokenizer --corpus FILE [--vocab-size N] [--min-frequency F]")
}
