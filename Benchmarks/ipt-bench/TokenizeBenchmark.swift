import Foundation
import IPTData

/// Single-threaded tokens per second of `ByteLevelBPETokenizer` on CrossFit lines, next to Hugging
/// Face's `tokenizers` (Rust, through Python) on the same lines.
enum TokenizeBenchmark {
    /// - Parameters:
    ///   - tokenizerFolder: the tokenizer to time.
    ///   - crossfitFolder: where the lines come from (line i of every file in turn, files sorted).
    ///   - lineCount: how many lines.
    ///   - repeats: warm runs, best of.
    ///   - python: the Python with `transformers`; nil skips the comparison.
    static func run(tokenizerFolder: URL, crossfitFolder: URL, lineCount: Int, repeats: Int, python: String?) throws {
        let lines = try sampleLines(crossfitFolder, count: lineCount)
        let bytes = lines.reduce(0) { $0 + $1.utf8.count }
        print("lines: \(lines.count) from \(crossfitFolder.path) (\(bytes / 1024) KiB)")

        var start = Date()
        let cold = try ByteLevelBPETokenizer.load(folder: tokenizerFolder)
        let loadSeconds = Date().timeIntervalSince(start)
        start = Date()
        let ids = lines.reduce(0) { $0 + cold.encode($1).count }
        let coldSeconds = Date().timeIntervalSince(start)
        var warmSeconds = Double.infinity
        for _ in 0..<repeats {
            start = Date()
            for line in lines { _ = cold.encode(line) }
            warmSeconds = min(warmSeconds, Date().timeIntervalSince(start))
        }
        func report(_ name: String, _ seconds: Double) {
            let padded = name.padding(toLength: 44, withPad: " ", startingAt: 0)
            print(padded + String(format: " %9.3f s %12.0f tokens/s", seconds, Double(ids) / seconds))
        }
        print("ids: \(ids)")
        print(String(format: "Swift load %.3f s", loadSeconds))
        report("Swift encode loop, cold cache", coldSeconds)
        report("Swift encode loop, warm cache", warmSeconds)

        guard let python, FileManager.default.isExecutableFile(atPath: python) else {
            return print("(no Python comparison: pass --python PATH to a Python with transformers)")
        }
        let linesFile = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-bench-lines-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: linesFile) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: linesFile)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench_tokenizers.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, "--tokenizer", tokenizerFolder.path, "--lines", linesFile.path, "--repeat", "\(repeats)"]
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENIZERS_PARALLELISM"] = "false"
        environment["RAYON_NUM_THREADS"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let result = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let pythonIDs = result["ids"] as? Int else {
            return print("Python comparison failed (exit \(process.terminationStatus))")
        }
        print("Python tokenizers ids: \(pythonIDs)\(pythonIDs == ids ? " (same count)" : " (DIFFERENT COUNT)")")
        print(String(format: "Python load %.3f s", result["load_seconds"] as? Double ?? .nan))
        report("tokenizers encode_batch, cold cache", result["batch_cold_seconds"] as? Double ?? .nan)
        report("tokenizers encode_batch, warm cache", result["batch_warm_seconds"] as? Double ?? .nan)
        report("tokenizers encode in a Python loop, warm", result["loop_warm_seconds"] as? Double ?? .nan)
    }

    /// Seconds `BPETrainer` takes to learn `vocabularySize` ids from the lines of `corpus`.
    static func runTrainer(corpus: URL, vocabularySize: Int, minimumFrequency: Int) throws {
        let data = try Data(contentsOf: corpus)
        let lines = data.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        let words = lines.reduce(0) { $0 + $1.split(whereSeparator: \.isWhitespace).count }
        print("corpus: \(corpus.path): \(lines.count) lines, \(words) words, \(data.count / 1024) KiB")
        let start = Date()
        let trained = try BPETrainer(vocabularySize: vocabularySize, minimumFrequency: minimumFrequency).train(lines: lines)
        print(String(format: "BPETrainer: %d ids, %d merges in %.3f s (single thread)", trained.tokens.count,
                     trained.merges.count, Date().timeIntervalSince(start)))
    }

    /// Line i of every file in turn (files sorted), until `count` non-empty lines.
    private static func sampleLines(_ folder: URL, count: Int) throws -> [String] {
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tsv") }.sorted()
        var perFile = try files.map { file -> [String] in
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            return data.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        }
        var lines: [String] = []
        var index = 0
        while lines.count < count && perFile.contains(where: { index < $0.count }) {
            for fileLines in perFile where index < fileLines.count && lines.count < count { lines.append(fileLines[index]) }
            index += 1
        }
        perFile.removeAll()
        return lines
    }
}
