import Foundation
import IPTCore
import IPTModels

/// Runs the training workloads of ipt-bench and of the PyTorch peer (../shared/bench/torch_peer.py)
/// side by side: for each workload a Swift process, then a PyTorch process (the order swaps every
/// round), so that both see the same machine load. Each process runs one workload, so its peak
/// resident memory (VmHWM) is that workload's. A process whose resident memory exceeds the limit
/// is killed and reported as out of memory.
enum CompareBenchmark {
    struct Options {
        var sizes = ["base"]
        var workloads = TrainingWorkloads.names
        var rounds = 1
        var threads = 2
        var steps = 5
        var warmup = 2
        var python: String
        var peer: String
        var memoryLimitGigabytes = 8.0
        var gemm = true
    }

    /// One side's outcome for one workload.
    struct Side {
        var medians: [Double] = []
        var peakMegabytes = 0.0
        var failure: String?
        var gemmFlops = 0

        var median: Double? { medians.isEmpty || failure != nil ? nil : medianOf(medians) }

        /// This side's per-round medians over the other's, round by round (nil unless both sides
        /// ran every round).
        func roundRatios(to other: Side) -> [Double]? {
            guard failure == nil, other.failure == nil, !medians.isEmpty, medians.count == other.medians.count else { return nil }
            return zip(medians, other.medians).map { $0 / $1 }
        }
    }

    /// The user's own `OPENBLAS_CORETYPE` (read before IPTCore loads OpenBLAS and sets it), which
    /// the child processes get instead of this process's.
    static let userCoreType = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]

    static func run(_ options: Options) throws {
        _ = userCoreType
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let cpu = CPUFeatures.current
        let info = BLAS.info
        print("# machine: \(cpu.modelName), \(cpu.logicalProcessors) logical CPUs; vector flags: \(cpu.vectorExtensions.joined(separator: " "))")
        print("# BLAS: \(info.library), core \(info.coreName) (\(info.coreSource)); threads: \(options.threads) (Swift and PyTorch)")
        print("# PyTorch: \(options.python) running \(options.peer)")
        print("# load average at start: \(loadAverage())")
        var gemmRate: Double? = nil
        if options.gemm { gemmRate = try sgemmSection(executable: executable, options: options) }
        for size in options.sizes {
            guard let configuration = TrainingWorkloads.configuration(size: size) else { throw BenchError("unknown size \(size)") }
            let settings = TrainingWorkloads.Settings(size: size, steps: options.steps, warmup: options.warmup)
            print("# size \(size): batch \(settings.batch), \(settings.inputLength) input tokens + \(settings.promptLength) prompt vectors, "
                  + "\(settings.targetLength) target tokens, d = \(settings.dimension); \(options.steps) timed steps after \(options.warmup) warm-up, "
                  + "\(options.rounds) round(s)")
            print("workload swift_median_ms torch_median_ms ratio swift_peak_MB torch_peak_MB")
            var ratios: [Double] = []
            var perRound: [String] = []
            var ptSwift: Double? = nil
            for workload in options.workloads {
                var swift = Side(), torch = Side()
                for round in 0..<options.rounds {
                    let swiftFirst = round % 2 == 0
                    for isSwift in swiftFirst ? [true, false] : [false, true] {
                        if isSwift {
                            runSwift(executable: executable, workload: workload, settings: settings, options: options, into: &swift)
                        } else {
                            runTorch(workload: workload, settings: settings, options: options, into: &torch)
                        }
                    }
                }
                let ratio = swift.median.flatMap { s in torch.median.map { s / $0 } }
                if let ratio { ratios.append(ratio) }
                if let paired = swift.roundRatios(to: torch) {
                    perRound.append("\(workload) " + paired.map { String(format: "%.3f", $0) }.joined(separator: " ")
                                    + String(format: " (median %.3f)", medianOf(paired)))
                }
                if workload == "pt" { ptSwift = swift.median }
                print([workload, format(swift.median, failure: swift.failure), format(torch.median, failure: torch.failure),
                       ratio.map { String(format: "%.3f", $0) } ?? "-",
                       String(format: "%.0f", swift.peakMegabytes), String(format: "%.0f", torch.peakMegabytes)].joined(separator: " "))
                fflush(stdout)
            }
            let geometricMean = ratios.isEmpty ? Double.nan : Foundation.exp(ratios.map { Foundation.log($0) }.reduce(0, +) / Double(ratios.count))
            print(String(format: "geomean - - %.3f - -", geometricMean))
            if options.rounds > 1 && !perRound.isEmpty {
                // Each round's two processes run back to back, so their ratio cancels the host's
                // slower and faster minutes; the spread says how far the table can be trusted.
                print("# per-round ratios (Swift / PyTorch within each round): " + perRound.joined(separator: "; "))
            }
            if let ptSwift, let gemmRate {
                let flops = AnalyticFlops.promptTuningStep(configuration, settings)
                let achieved = flops / (ptSwift / 1000) / 1e9
                print(String(format: "# pt step: %.1f GFLOP (analytic: forward + input gradients), %.1f GFLOP/s achieved = %.0f%% of the library's sgemm rate",
                             flops / 1e9, achieved, 100 * achieved / gemmRate))
            }
        }
        print("# load average at end: \(loadAverage())")
    }

    // MARK: - sgemm

    /// Prints the library's sgemm rate on BART-base shapes next to that of OpenBLAS alone (its own
    /// threads, no IPTCore split) with every kernel family the CPU runs, and to PyTorch's matmul;
    /// returns the library's rate (GFLOP/s).
    static func sgemmSection(executable: String, options: Options) throws -> Double? {
        let cpu = CPUFeatures.current
        var rates: [(String, Double)] = []
        let families = ["SAPPHIRERAPIDS", "COOPERLAKE", "SKYLAKEX", "HASWELL"].filter { cpu.canRun(openBLASCore: $0) == true }
        // Three alternating rounds, best of each: the rates are noisy on a shared machine.
        for _ in 0..<3 {
            for family in ["auto"] + families {
                var environment: [String: String?] = ["OPENBLAS_NUM_THREADS": "\(options.threads)"]
                if family != "auto" {
                    environment["OPENBLAS_CORETYPE"] = family
                    environment["IPT_BLAS_LIBRARY"] = .some(nil)  // these rows are OpenBLAS's
                }
                // The kernel families run OpenBLAS alone with its own threads; the library runs IPTCore's path.
                let arguments = ["gemm", "--seconds", "0.3", "--json"] + (family == "auto" ? [] : ["--direct", "--threads", "\(options.threads)"])
                let outcome = runChild(executable, arguments, environment: environment, limit: options)
                guard let line = outcome.lines.last(where: { $0.contains("gflops") }),
                      let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let rate = object["gflops"] as? Double else {
                    print("# sgemm with \(family): failed (\(outcome.failure ?? "no output"))")
                    continue
                }
                let core = object["core"] as? String ?? "?"
                let label = family == "auto" ? "library (\(core))" : "\(family) (\(core))"
                if let i = rates.firstIndex(where: { $0.0 == label }) { rates[i].1 = max(rates[i].1, rate) } else { rates.append((label, rate)) }
            }
        }
        let torchRate = torchMatmulRate(options)
        guard let library = rates.first(where: { $0.0.hasPrefix("library") })?.1 else { return nil }
        let best = rates.dropFirst().max { $0.1 < $1.1 }
        var line = "# sgemm on BART-base shapes (GFLOP/s): " + rates.map { "\($0.0) \(String(format: "%.1f", $0.1))" }.joined(separator: ", ")
        if let torchRate { line += String(format: ", torch.matmul %.1f", torchRate) }
        print(line)
        if let best {
            print(String(format: "# library sgemm = %.0f%% of the best OpenBLAS kernel (%@)", 100 * library / best.1, best.0))
        }
        return library
    }

    /// PyTorch's matmul GFLOP/s on the same shapes (MKL in the PyPI wheels), or nil.
    static func torchMatmulRate(_ options: Options) -> Double? {
        let shapes = GemmBenchmark.bartShapes.map { "(\($0.m),\($0.n),\($0.k),\($0.transposeA ? 1 : 0),\($0.transposeB ? 1 : 0))" }
        let script = """
        import json, time, torch
        torch.set_num_threads(\(options.threads))
        total_flops = total_seconds = 0.0
        for m, n, k, ta, tb in [\(shapes.joined(separator: ","))]:
            a = torch.randn(k, m).t() if ta else torch.randn(m, k)
            b = torch.randn(n, k).t() if tb else torch.randn(k, n)
            for _ in range(2): a @ b
            times = []
            deadline = time.perf_counter() + 0.5
            while time.perf_counter() < deadline or len(times) < 5:
                t = time.perf_counter(); a @ b; times.append(time.perf_counter() - t)
            times.sort(); total_flops += 2.0 * m * n * k; total_seconds += times[len(times) // 2]
        print(json.dumps({"gflops": total_flops / total_seconds / 1e9}))
        """
        let outcome = runChild(options.python, ["-c", script], environment: [:] as [String: String?], limit: options)
        guard let line = outcome.lines.last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object["gflops"] as? Double
    }

    // MARK: - Workload processes

    static func runSwift(executable: String, workload: String, settings: TrainingWorkloads.Settings, options: Options,
                         into side: inout Side) {
        let arguments = ["workload", workload, "--size", settings.size, "--steps", "\(settings.steps)", "--warmup", "\(settings.warmup)"]
        let environment: [String: String?] = ["IPT_NUM_THREADS": "\(options.threads)", "OPENBLAS_NUM_THREADS": "\(options.threads)"]
        let outcome = runChild(executable, arguments, environment: environment, limit: options)
        side.peakMegabytes = max(side.peakMegabytes, outcome.peakMegabytes)
        guard let line = outcome.lines.last(where: { $0.contains("median_ms") }),
              let result = try? JSONDecoder().decode(TrainingWorkloads.Result.self, from: Data(line.utf8)) else {
            side.failure = outcome.failure ?? "no result"
            return
        }
        side.medians.append(result.medianMilliseconds)
        side.peakMegabytes = max(side.peakMegabytes, result.peakMegabytes)
        side.gemmFlops = result.gemmFlopsPerStep
    }

    /// Runs the peer under a wrapper that reports the process's VmHWM and turns PyTorch's
    /// allocation failures into an "out of memory" line.
    static let peerWrapper = """
    import json, runpy, sys
    def peak_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"): return int(line.split()[1]) / 1024
    peer = sys.argv[1]
    sys.argv = [peer] + sys.argv[2:]
    try:
        runpy.run_path(peer, run_name="__main__")
    except (MemoryError, RuntimeError) as error:
        if not isinstance(error, MemoryError) and "memory" not in str(error).lower(): raise
        print(json.dumps({"error": "out of memory"}))
    print(json.dumps({"peak_mb": peak_mb()}))
    """

    static func runTorch(workload: String, settings: TrainingWorkloads.Settings, options: Options, into side: inout Side) {
        let arguments = ["-c", peerWrapper, options.peer, "--workload", workload, "--size", settings.size,
                         "--threads", "\(options.threads)", "--steps", "\(settings.steps)", "--warmup", "\(settings.warmup)",
                         "--batch", "\(settings.batch)", "--input-len", "\(settings.inputLength)",
                         "--target-len", "\(settings.targetLength)", "--prompt-len", "\(settings.promptLength)",
                         "--dim", "\(settings.dimension)"]
        let outcome = runChild(options.python, arguments, environment: [:] as [String: String?], limit: options)
        side.peakMegabytes = max(side.peakMegabytes, outcome.peakMegabytes)
        for line in outcome.lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if let peak = object["peak_mb"] as? Double { side.peakMegabytes = max(side.peakMegabytes, peak) }
            if let peak = object["peak_mb"] as? Int { side.peakMegabytes = max(side.peakMegabytes, Double(peak)) }
            if let error = object["error"] as? String { side.failure = error }
            if let median = object["median_ms"] as? Double { side.medians.append(median) }
        }
        if side.medians.isEmpty && side.failure == nil { side.failure = outcome.failure ?? "no result" }
    }

    struct ChildOutcome {
        var lines: [String]
        var peakMegabytes: Double
        var failure: String?
    }

    /// Runs a process to completion, watching its resident memory: beyond the limit it is killed.
    ///
    /// - Parameter environment: variables to set (a `nil` value removes the variable) on top of
    ///   this process's, whose `OPENBLAS_CORETYPE` is replaced by the user's own.
    static func runChild(_ path: String, _ arguments: [String], environment: [String: String?], limit: Options) -> ChildOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment
        variables["OPENBLAS_CORETYPE"] = userCoreType
        for (name, value) in environment { variables[name] = value }
        process.environment = variables
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let collected = CollectedOutput()
        let group = DispatchGroup()
        for (pipe, isOutput) in [(output, true), (errors, false)] {
            DispatchQueue.global().async(group: group) {
                collected.store(pipe.fileHandleForReading.readDataToEndOfFile(), isOutput: isOutput)
            }
        }
        do { try process.run() } catch {
            return ChildOutcome(lines: [], peakMegabytes: 0, failure: "cannot start \(path): \(error)")
        }
        let limitKilobytes = limit.memoryLimitGigabytes * 1024 * 1024
        var peakKilobytes = 0.0
        var killedForMemory = false
        while process.isRunning {
            if let rss = residentKilobytes(process.processIdentifier) {
                peakKilobytes = max(peakKilobytes, rss)
                if rss > limitKilobytes && !killedForMemory {
                    killedForMemory = true
                    kill(process.processIdentifier, SIGKILL)
                }
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        group.wait()
        let (stdoutData, stderrData) = collected.values
        let lines = String(decoding: stdoutData, as: UTF8.self).split(separator: "\n").map(String.init)
        var failure: String? = nil
        if killedForMemory {
            failure = String(format: "out of memory (killed above %.0f GB)", limit.memoryLimitGigabytes)
        } else if process.terminationStatus != 0 {
            let tail = String(decoding: stderrData, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
            failure = "exit \(process.terminationStatus): \(tail)"
        }
        return ChildOutcome(lines: lines, peakMegabytes: peakKilobytes / 1024, failure: failure)
    }

    /// The two output streams of a child, written by their reader threads.
    final class CollectedOutput: @unchecked Sendable {
        private let lock = NSLock()
        private var output = Data(), errors = Data()

        func store(_ data: Data, isOutput: Bool) {
            lock.lock()
            defer { lock.unlock() }
            if isOutput { output = data } else { errors = data }
        }

        var values: (Data, Data) {
            lock.lock()
            defer { lock.unlock() }
            return (output, errors)
        }
    }

    static func residentKilobytes(_ pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Double(line.split(separator: " ").dropFirst().first ?? "")
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func format(_ value: Double?, failure: String?) -> String {
        if let failure { return "\"\(failure)\"" }
        return value.map { String(format: "%.1f", $0) } ?? "-"
    }
}

/// GEMM floating-point operations of the workloads, from the shapes (what a step must compute).
enum AnalyticFlops {
    /// One prompt-tuning step of a frozen BART as the library runs it: the forward pass and the
    /// input gradients (no weight gradients) back to the prompt. Backward: one GEMM per linear map,
    /// two per attention product. Cross-attention reads the encoder output through the key/value
    /// projections when `Tensor.sourceAttentionSavesWork` says so (as the decoder does), which
    /// transformers' algorithm does not: then this is fewer FLOPs than PyTorch's step; so is the
    /// first layer's prompt projected once.
    static func promptTuningStep(_ c: BartConfiguration, _ s: TrainingWorkloads.Settings) -> Double {
        let h: Double = Double(c.hiddenSize), b: Double = Double(s.batch)
        let source: Double = Double(s.promptLength + s.inputLength), t: Double = Double(s.targetLength)
        let encoderTokens: Double = b * source, decoderTokens: Double = b * t
        // 2 m n k per product; "linear" counts the products of the linear maps, "attention" Q K^T and P V.
        var linear: Double = 0, attention: Double = 0
        let encoderLayers = Double(c.encoderLayers), decoderLayers = Double(c.decoderLayers)
        linear += encoderLayers * 2 * encoderTokens * h * (4 * h + 2 * Double(c.encoderFeedForwardSize))
        attention += encoderLayers * 2 * 2 * b * source * source * h
        // Decoder: self-attention and cross-attention q/out projections, self-attention products,
        // feed-forward.
        linear += decoderLayers * 2 * decoderTokens * h * (6 * h + 2 * Double(c.decoderFeedForwardSize))
        attention += decoderLayers * 2 * 2 * b * t * t * h
        var cross: Double
        if Tensor.sourceAttentionSavesWork(queries: s.targetLength, sourceLength: s.promptLength + s.inputLength,
                                           width: c.hiddenSize, heads: c.decoderHeads, backward: true) {
            // Per item: Q~ = Q_h Wk_h and (P E)_h Wv_h^T (t h^2 each), scores and P E (H t h S each);
            // backward: d(P E) and dQ (t h^2 each), dP, dQ~ and two for dE (H t h S each).
            let heads = Double(c.decoderHeads)
            cross = 2 * (4 * t * h * h + 6 * heads * t * h * source)
        } else {
            // k/v projections of the encoder output and Q K^T, P V, each with its backward.
            cross = 2 * (2 * source * h * (2 * h)) + 3 * 2 * 2 * t * source * h
        }
        cross *= decoderLayers * b
        linear += 2 * decoderTokens * h * Double(c.vocabularySize)  // LM head
        // The first encoder layer projects the shared prompt once for the batch (forward and input
        // gradient) and gives the text rows' q/k/v no input gradient (BartEncoder.firstLayerInput).
        let prompt: Double = Double(s.promptLength), text: Double = Double(s.inputLength)
        let firstLayerSaved = 3 * 2 * h * h * (2 * (b - 1) * prompt + b * text)
        return 2 * linear + 3 * attention + cross - firstLayerSaved
    }
}
