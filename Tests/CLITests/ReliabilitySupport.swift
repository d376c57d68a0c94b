import Foundation
#if canImport(Glibc)
import Glibc
#endif
import IPTCore
import IPTModels
import IPTTraining
import IPTTestSupport
import Testing

/// What the reliability tests run on, without ../shared: two tiny random BARTs (different weights)
/// with the byte-level vocabulary of the committed PEFT fixture, and a data folder of two made-up
/// classification tasks, built once per test process.
enum ToyWorld {
    struct Built {
        let root: URL
        /// The model the runs use, and another one (same shapes, other weights).
        let model: URL
        let otherModel: URL
        /// `toy` and `toy2` (k-shot samples of seeds 100 and 21, `tasks.json`).
        let data: URL
    }

    private static let built: Result<Built, Error> = Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-reliability-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        let model = root.appendingPathComponent("tiny-bart"), other = root.appendingPathComponent("other-bart")
        for (url, seed) in [(model, UInt64(7)), (other, 8)] {
            try TinyModel.save(to: url, vocabularySize: 262, maximumPositions: 64, seed: seed, tokenizer: Fixtures.url("peft/tiny-bart"))
        }
        let data = root.appendingPathComponent("data")
        let words = [("good", "positive"), ("bad", "negative"), ("fine", "positive"), ("awful", "negative")]
        let things = ["film", "song", "book", "meal", "game", "play", "show", "tune"]
        for (task, answers) in [("toy", ["positive", "negative"]), ("toy2", ["yes", "no"])] {
            for seed in [100, 21] {
                for (part, offset) in [("train", 0), ("dev", 1), ("test", 2)] {
                    var lines = ""
                    for i in 0..<16 {
                        let (word, label) = words[(i + offset + seed) % words.count]
                        let answer = label == "positive" ? answers[0] : answers[1]
                        lines += "a \(word) \(things[(i * 3 + offset) % things.count])\t\(answer)\n"
                    }
                    let file = data.appendingPathComponent("\(task)/\(task)_16_\(seed)_\(part).tsv")
                    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(lines.utf8).write(to: file)
                }
            }
        }
        try Data("""
            {"toy": {"kind": "classification", "metric": "ACC", "options": ["positive", "negative"]},
             "toy2": {"kind": "classification", "metric": "ACC", "options": ["yes", "no"]}}
            """.utf8).write(to: data.appendingPathComponent("tasks.json"))
        return Built(root: root, model: model, otherModel: other, data: data)
    }

    static func get() throws -> Built { try built.get() }

    /// Flags that keep a prompt-tuning run to a fraction of a second on the toy world.
    static let quick = ["--learning-rate", "0.3", "--batch-size", "4", "--warmup-steps", "0", "--prediction", "option-scoring",
                        "--max-dev-examples", "4", "--max-test-examples", "8", "--predict-batch-size", "8"]
}

/// A folder's files and their bytes (paths relative to it); `nil` when the folder is absent.
enum FolderSnapshot {
    static func of(_ url: URL) -> [String: Data]? {
        guard FileManager.default.fileExists(atPath: url.path),
              let enumerator = FileManager.default.enumerator(atPath: url.path) else { return nil }
        var files: [String: Data] = [:]
        while let name = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = url.appendingPathComponent(name).path
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            files[name] = isDirectory.boolValue ? Data("<folder>".utf8) : (FileManager.default.contents(atPath: path) ?? Data("<unreadable>".utf8))
        }
        return files
    }
}

/// An `ipt-cli` running in the background, to be signalled. Output goes to files: a pipe nobody
/// reads could fill up and block it.
final class CLIProcess {
    private let process = Process()
    private let output: URL
    private let errors: URL

    /// Starts `ipt-cli arguments...`; `fileSizeLimit` (bytes, a multiple of 1024) runs it under
    /// `ulimit -f`, so that writing a larger file fails as on a full disk.
    init(_ arguments: [String], fileSizeLimit: Int? = nil) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-process-\(UUID().uuidString)")
        output = scratch.appendingPathExtension("out")
        errors = scratch.appendingPathExtension("err")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        if let fileSizeLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "ulimit -f \(fileSizeLimit / 1024) && exec \"$0\" \"$@\"", CLI.executable.path] + arguments
        } else {
            process.executableURL = CLI.executable
            process.arguments = arguments
        }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    var isRunning: Bool { process.isRunning }

    /// Waits for the end; the status is the exit status, or the signal's number when a signal ended it.
    func wait() -> (result: CLIResult, killedBy: Int32?) {
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }
        let result = CLIResult(status: process.terminationStatus,
                               stdout: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
                               stderr: (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
        return (result, process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
    }

    /// Waits until `condition` holds (polled every 2 ms) or the process ends; true when it held.
    func wait(until condition: () -> Bool, timeout: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(2_000)
        }
        return false
    }
}

/// Reading a run folder while (and after) a run writes it.
enum RunFolder {
    /// The optimisation steps logged in `events.jsonl` (resumed steps count again).
    static func loggedSteps(_ folder: URL) -> Int {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("events.jsonl").path) else { return 0 }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
            if case .step? = try? JSONDecoder().decode(TrainingEvent.self, from: Data(line.utf8)) { return true }
            return false
        }.count
    }

    /// The step of a checkpoint, after checking that it reads and its loop state parses.
    static func checkpointStep(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let file = try SafeTensors.read(path)
        #expect(file.metadata["format"] == "ipt-checkpoint", sourceLocation: sourceLocation)
        let state = try #require(file.metadata["loop_state"], sourceLocation: sourceLocation)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any],
                                  sourceLocation: sourceLocation)
        for (name, tensor) in file.tensors {
            #expect(tensor.scalars.allSatisfy { $0.isFinite }, "\(name) in \(path)", sourceLocation: sourceLocation)
        }
        return try #require(object["step"] as? Int, sourceLocation: sourceLocation)
    }

    /// What must be equal between a resumed and an uninterrupted run: the scores, the evaluations,
    /// the best and last steps (not the wall time), and the bits of the prompt.
    static func outcome(_ folder: URL) throws -> (results: [String: String], prompt: [UInt32], predictions: String) {
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("results.json"))) as? [String: Any])
        var kept: [String: String] = [:]
        for key in ["tasks", "evaluations", "bestStep", "lastStep", "grid", "interrupted", "stoppedEarly"] {
            if let value = results[key] {
                kept[key] = String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
            }
        }
        let prompt = try #require(try SafeTensors.read(folder.appendingPathComponent("prompt.safetensors").path).tensors["prompt"])
        let point = try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasPrefix("lr_") }
        let predictions = point.flatMap { FileManager.default.contents(atPath: folder.appendingPathComponent("\($0)/test_predictions.txt").path) }
        return (kept, prompt.scalars.map(\.bitPattern), String(decoding: predictions ?? Data(), as: UTF8.self))
    }
}
