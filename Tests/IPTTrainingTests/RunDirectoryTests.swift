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

    @Test func heldLockRefusesAndALeftLockFileIsTakenOver() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lock = path + "/" + RunDirectory.lockName
        let pid = ProcessInfo.processInfo.processIdentifier
        do {
            let holder = try RunDirectory(path: path, mode: .fresh)
            #expect(try String(contentsOfFile: lock, encoding: .utf8).hasPrefix("\(pid)\n"))
            // The lock is the open file's, so even this process cannot open the folder twice.
            let error = #expect(throws: TrainingError.self) { _ = try RunDirectory(path: path, mode: .resume) }
            #expect("\(error!)" == "\(path): another run (pid \(pid)) is writing to this folder (run.lock)")
            holder.release()
            #expect(!FileManager.default.fileExists(atPath: lock))
        }
        // A lock file nobody holds (its run was killed) is taken over, whatever pid it names.
        for left in ["1\n", "2147483000\nother-host\n", "-1\n", ""] {
            try left.write(toFile: lock, atomically: true, encoding: .utf8)
            let run = try RunDirectory(path: path, mode: .resume)
            #expect(try String(contentsOfFile: lock, encoding: .utf8).hasPrefix("\(pid)\n"))
            run.release()
            #expect(!FileManager.default.fileExists(atPath: lock))
        }
    }

    @Test func aRunThatFailsBeforeWritingAnArtifactLeavesNothing() throws {
        let parent = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        // Folders it created (the parents too) go; a folder that was there stays, with its files.
        let path = parent + "/a/b/run"
        let run = try RunDirectory(path: path, mode: .fresh)
        try run.writeJSON(["lr": 1], to: RunDirectory.configurationName)
        run.append(event: .phase("starting"))
        run.discardIfUnstarted()
        #expect(!FileManager.default.fileExists(atPath: parent))
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try "keep".write(toFile: parent + "/notes.txt", atomically: true, encoding: .utf8)
        let second = try RunDirectory(path: parent, mode: .fresh)
        try second.writeJSON(["lr": 1], to: RunDirectory.configurationName)
        second.discardIfUnstarted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["notes.txt"])
        // Once it wrote an artifact (the best prompt before a divergence), everything stays.
        let third = try RunDirectory(path: parent, mode: .fresh)
        try third.writeJSON(["lr": 1], to: RunDirectory.configurationName)
        try "x".write(toFile: parent + "/prompt.safetensors", atomically: true, encoding: .utf8)
        third.discardIfUnstarted()
        third.release()
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).sorted() == ["config.json", "notes.txt", "prompt.safetensors"])
    }

    @Test func anUnfinishedRunContinuesOnlyWithItsConfiguration() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        struct Settings: Codable { var prompt_length: Int; var learning_rate: Float; var name: String }
        try RunDirectory(path: path, mode: .fresh).writeConfiguration(["configuration": Settings(prompt_length: 4, learning_rate: 0.3, name: "a")])
        let run = try RunDirectory(path: path, mode: .resume)
        try run.writeConfiguration(["configuration": Settings(prompt_length: 4, learning_rate: 0.3, name: "a")])
        let error = #expect(throws: TrainingError.self) {
            try run.writeConfiguration(["configuration": Settings(prompt_length: 5, learning_rate: 0.3, name: "b")])
        }
        #expect("\(error!)" == "\(path)/config.json: configuration.name is \"a\" in the unfinished run, \"b\" now; continue with the run's settings or pass --overwrite to start again")
        let data = try #require(FileManager.default.contents(atPath: path + "/config.json"))
        #expect(String(decoding: data, as: UTF8.self).contains("\"prompt_length\" : 4"), "left as it was")
    }

    /// A finished run's result is reused only with the configuration that produced it; its
    /// config.json is never rewritten.
    @Test func aFinishedRunIsReusedOnlyWithItsConfiguration() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        struct Settings: Codable { var total_steps: Int }
        let first = try RunDirectory(path: path, mode: .fresh)
        try first.writeConfiguration(["configuration": Settings(total_steps: 100)])
        try first.writeJSON(["score": 1], to: RunDirectory.resultsName)
        first.release()
        let before = try #require(FileManager.default.contents(atPath: path + "/config.json"))
        let again = try RunDirectory(path: path, mode: .resume)
        #expect(again.status == .finished)
        try again.writeConfiguration(["configuration": Settings(total_steps: 100)])
        let error = #expect(throws: TrainingError.self) {
            try again.writeConfiguration(["configuration": Settings(total_steps: 200)])
        }
        #expect("\(error!)" == "\(path)/config.json: configuration.total_steps is 100 in the finished run, 200 now; give the run's settings to reuse its result, or pass --overwrite to run again")
        #expect(FileManager.default.contents(atPath: path + "/config.json") == before, "left as it was")
    }

    /// Run folders written before the inputs were recorded are checked on their settings alone; a
    /// finished result survives a later library version; a changed input gets its own advice.
    @Test func olderRunFoldersAndChangedInputs() throws {
        struct Settings: Codable { var total_steps: Int }
        struct Run: Codable { var configuration: Settings; var libraryVersion: String; var inputs: [String: String]? }
        for finished in [false, true] {
            let path = temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let old = try RunDirectory(path: path, mode: .fresh)
            try old.writeConfiguration(Run(configuration: Settings(total_steps: 100), libraryVersion: "0.0.9", inputs: nil))
            if finished { try old.writeJSON(["score": 1], to: RunDirectory.resultsName) }
            old.release()
            let again = try RunDirectory(path: path, mode: .resume)
            let now = Run(configuration: Settings(total_steps: 100), libraryVersion: finished ? "0.2.0" : "0.0.9", inputs: ["examples": "00aa"])
            try again.writeConfiguration(now)
            again.release()
            // Once recorded, the inputs are compared.
            let recorded = try RunDirectory(path: path, mode: .overwrite)
            try recorded.writeConfiguration(now)
            if finished { try recorded.writeJSON(["score": 1], to: RunDirectory.resultsName) }
            recorded.release()
            let changed = try RunDirectory(path: path, mode: .resume)
            var other = now
            other.inputs = ["examples": "00bb"]
            let error = #expect(throws: TrainingError.self) { try changed.writeConfiguration(other) }
            let run = finished ? "finished" : "unfinished"
            #expect("\(error!)" == "\(path)/config.json: inputs.examples is \"00aa\" in the \(run) run, \"00bb\" now; put back the input the run started from, or pass --overwrite to \(finished ? "run again" : "start again")")
        }
    }

    @Test func overwriteRemovesOnlyWhatRunsWrite() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: true)
        try "{}".write(toFile: path + "/sub/config.json", atomically: true, encoding: .utf8)
        try "{}".write(toFile: path + "/results.json", atomically: true, encoding: .utf8)
        try "keep".write(toFile: path + "/notes.txt", atomically: true, encoding: .utf8)
        try "old".write(toFile: path + "/" + RunDirectory.testPredictionsName, atomically: true, encoding: .utf8)
        _ = try RunDirectory(path: path, mode: .overwrite)
        #expect(FileManager.default.fileExists(atPath: path + "/notes.txt"))
        #expect(!FileManager.default.fileExists(atPath: path + "/" + RunDirectory.testPredictionsName))
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
