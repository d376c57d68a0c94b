import Foundation
import IPTCore
import IPTTraining
import Testing

@Suite("Run folders and artifacts")
struct RunDirectoryTests {
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ipt-run-\(UUID().uuidString)").path
    }

    @Test func finishedRunIsNotOverwrittenSilently() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let run = try RunDirectory(path: path, mode: .fresh)
            #expect(run.status == .empty)
            try run.writeJSON(["score": 1.0], to: RunDirectory.resultsName)
        }
        #expect(throws: TrainingError.self) { _ = try RunDirectory(path: path, mode: .fresh) }
        #expect(try RunDirectory(path: path, mode: .resume).status == .finished)
        let again = try RunDirectory(path: path, mode: .overwrite)
        #expect(again.status == .empty)
        #expect(!FileManager.default.fileExists(atPath: again.path(RunDirectory.resultsName)))
    }

    @Test func unfinishedRunNeedsResumeOrOverwrite() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let run = try RunDirectory(path: path, mode: .fresh)
            try run.writeJSON(["lr": 1], to: RunDirectory.configurationName)
        }
        let error = #expect(throws: TrainingError.self) { _ = try RunDirectory(path: path, mode: .fresh) }
        #expect("\(error!)".contains("--resume"))
        #expect(try RunDirectory(path: path, mode: .resume).status == .unfinished)
    }

    @Test func liveLockRefusesAndStaleLockIsTakenOver() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let lock = path + "/" + RunDirectory.lockName
        try "1\n".write(toFile: lock, atomically: true, encoding: .utf8)  // pid 1 is always alive
        let error = #expect(throws: TrainingError.self) { _ = try RunDirectory(path: path, mode: .fresh) }
        #expect("\(error!)".contains("pid 1"))
        try "2147483000\n".write(toFile: lock, atomically: true, encoding: .utf8)  // no such process
        let run = try RunDirectory(path: path, mode: .fresh)
        #expect(try String(contentsOfFile: lock, encoding: .utf8).hasPrefix("\(ProcessInfo.processInfo.processIdentifier)"))
        run.release()
        #expect(!FileManager.default.fileExists(atPath: lock))
        // A damaged lock whose "pid" is 0 or negative names no process: stale, not "another run".
        for damaged in ["0\n", "-1\n"] {
            try damaged.write(toFile: lock, atomically: true, encoding: .utf8)
            try RunDirectory(path: path, mode: .fresh).release()
        }
    }

    @Test func overwriteRemovesOnlyWhatRunsWrite() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: true)
        try "{}".write(toFile: path + "/sub/config.json", atomically: true, encoding: .utf8)
        try "{}".write(toFile: path + "/results.json", atomically: true, encoding: .utf8)
        try "keep".write(toFile: path + "/notes.txt", atomically: true, encoding: .utf8)
        _ = try RunDirectory(path: path, mode: .overwrite)
        #expect(FileManager.default.fileExists(atPath: path + "/notes.txt"))
        #expect(!FileManager.default.fileExists(atPath: path + "/sub"))
        #expect(!FileManager.default.fileExists(atPath: path + "/results.json"))
    }

    @Test func aFileInTheWayIsAClearError() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "x".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: TrainingError.self) { _ = try RunDirectory(path: path, mode: .fresh) }
        #expect("\(error!)".contains("not a folder"))
    }

    @Test func artifactRoundTripAndBaseModelCheck() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/prompt.safetensors"
        let a = ModelIdentity(name: "a", fingerprint: "1", parameterCount: 10, hiddenSize: 4)
        let b = ModelIdentity(name: "b", fingerprint: "2", parameterCount: 10, hiddenSize: 4)
        let metadata = ArtifactMetadata(kind: "prompt", procedure: "prompt-tuning", configuration: "{\"x\":1}",
                                        baseModel: a, step: 7, seed: 42)
        let prompt = Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [2, 4])
        try Artifact.write([("prompt", prompt)], metadata: metadata, to: path)
        let (tensors, read) = try Artifact.read(path, kind: "prompt", model: a)
        #expect(read == metadata)
        #expect(tensors["prompt"]?.scalars == prompt.scalars)
        #expect(throws: TrainingError.self) { _ = try Artifact.read(path, kind: "prompt", model: b) }
        #expect(throws: TrainingError.self) { _ = try Artifact.read(path, kind: "prompt-subspace") }
    }
}
