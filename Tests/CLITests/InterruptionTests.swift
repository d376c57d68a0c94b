import Foundation
#if canImport(Glibc)
import Glibc
#endif
import IPTCore
import IPTTestSupport
import Testing

/// Signals, kills, a full disk, a diverging loss and a second run on the same folder, through the
/// CLI on the toy world: the last checkpoint always reads, the previous one survives a failed
/// write, and a resumed run ends exactly where an uninterrupted one does.
@Suite("Interruption, faults and concurrency never lose work", .serialized)
struct InterruptionTests {
    let world: ToyWorld.Built
    let scratch: TemporaryDirectory

    init() throws {
        world = try ToyWorld.get()
        scratch = try TemporaryDirectory()
    }

    func folder(_ name: String) -> URL { scratch.url.appendingPathComponent(name) }

    /// prompt-tune of the toy task (one grid point, so the run is in `<output>/lr_0.3_bsz_4`).
    func promptTune(_ output: URL, steps: Int, evalPeriod: Int, promptLength: Int = 4, _ extra: [String] = []) -> [String] {
        ["prompt-tune", "--model", world.model.path, "--data", world.data.path, "--task", "toy", "--prompt-length", "\(promptLength)",
         "--total-steps", "\(steps)", "--eval-period", "\(evalPeriod)", "--output", output.path] + ToyWorld.quick + extra
    }

    func checkpoint(_ output: URL) -> String { output.appendingPathComponent("lr_0.3_bsz_4/checkpoint.safetensors").path }

    /// Runs to the end and returns what must match.
    func finish(_ arguments: [String], _ output: URL, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> (results: [String: String], prompt: [UInt32], predictions: String) {
        let result = try CLI.run(arguments)
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        return try RunFolder.outcome(output)
    }

    /// Starts a run and, once it has logged `steps` more steps, freezes it (SIGSTOP) so that it
    /// cannot finish meanwhile, sends `signal`, and lets it go on (SIGCONT) to handle the signal.
    func start(_ arguments: [String], _ output: URL, signal: Int32, afterSteps steps: Int) throws -> CLIProcess {
        let logged = RunFolder.loggedSteps(output)
        let process = try CLIProcess(arguments)
        let reached = process.wait(until: { RunFolder.loggedSteps(output) >= logged + steps })
        #expect(reached, "the run logged \(RunFolder.loggedSteps(output) - logged) steps")
        process.send(SIGSTOP)
        process.send(signal)
        process.send(SIGCONT)
        return process
    }

    // MARK: SIGINT and SIGTERM

    @Test func sigintAndSigtermWriteACheckpointAndResumeContinues() throws {
        let reference = try finish(promptTune(folder("reference"), steps: 120, evalPeriod: 40), folder("reference"))
        let output = folder("run")
        let arguments = promptTune(output, steps: 120, evalPeriod: 40)

        var stepsSoFar = 0
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, 143)] {
            let (result, killedBy) = try start(arguments + ["--resume"], output, signal: signal, afterSteps: 3).wait()
            #expect(killedBy == nil && result.status == status, "status \(result.status), signal \(String(describing: killedBy)): \(result.stderr)")
            let step = try RunFolder.checkpointStep(checkpoint(output))
            #expect(step > stepsSoFar && step < 120, "checkpoint at step \(step)")
            #expect(result.stdout.contains("interrupted at step \(step) (resume with --resume)"), "\(result.stdout)")
            #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("results.json").path))
            #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("run.lock").path), "the lock is released")
            stepsSoFar = step
        }
        let resumed = try finish(arguments + ["--resume"], output)
        #expect(resumed.results == reference.results)
        #expect(resumed.prompt == reference.prompt, "the prompt is bit for bit the uninterrupted run's")
        #expect(resumed.predictions == reference.predictions)
    }

    // MARK: SIGKILL

    @Test func killedTwentyTimesAtRandomMomentsTheRunEndsAsIfUninterrupted() throws {
        let steps = 60
        let reference = try finish(promptTune(folder("reference"), steps: steps, evalPeriod: 10, ["--checkpoint-period", "1"]), folder("reference"))
        let output = folder("run")
        let arguments = promptTune(output, steps: steps, evalPeriod: 10, ["--checkpoint-period", "1", "--resume"])
        var random = RandomGenerator(seed: 2024)
        var lastCheckpoint = 0
        var kills = 0
        while kills < 20 {
            let logged = RunFolder.loggedSteps(output)
            let process = try CLIProcess(arguments)
            // A random number of steps (0: during start-up), then a random moment within a step.
            let wanted = random.nextInt(below: 3)
            _ = process.wait(until: { RunFolder.loggedSteps(output) >= logged + wanted })
            usleep(UInt32(random.nextInt(below: 8_000)))
            process.send(SIGKILL)
            let (result, killedBy) = process.wait()
            if killedBy == nil {
                // It finished first: start again from scratch, so that the run is killed 20 times.
                #expect(result.status == 0, "\(result.stderr)")
                try FileManager.default.removeItem(at: output)
                lastCheckpoint = 0
                continue
            }
            #expect(killedBy == SIGKILL)
            kills += 1
            if FileManager.default.fileExists(atPath: checkpoint(output)) {
                let step = try RunFolder.checkpointStep(checkpoint(output))
                #expect(step >= lastCheckpoint && step <= steps, "kill \(kills): checkpoint step \(step) after \(lastCheckpoint)")
                lastCheckpoint = step
            }
        }
        let resumed = try finish(arguments, output)
        #expect(resumed.results == reference.results)
        #expect(resumed.prompt == reference.prompt, "the prompt is bit for bit the uninterrupted run's")
        #expect(resumed.predictions == reference.predictions)
        let point = output.appendingPathComponent("lr_0.3_bsz_4")
        for folder in [output, point] {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(!names.contains { $0.contains(".tmp-") }, "temporary files of killed writers are gone: \(names)")
            #expect(!names.contains("run.lock"))
        }
    }

    // MARK: A full disk

    /// Interrupts a run after its first steps, leaving a checkpoint; returns its bytes.
    func interruptedRun(_ output: URL, _ arguments: [String]) throws -> Data {
        let (result, _) = try start(arguments, output, signal: SIGINT, afterSteps: 6).wait()
        #expect(result.status == 130, "\(result.stderr)")
        return try Data(contentsOf: URL(fileURLWithPath: checkpoint(output)))
    }

    @Test func aFileSizeLimitFailsTheCheckpointWriteAndKeepsThePreviousOne() throws {
        // A 40-vector prompt: the checkpoint (value, best and Adam's two moments: 10 KB) exceeds an
        // 8 KiB limit that every other file of the run stays under.
        let arguments = promptTune(folder("run"), steps: 100, evalPeriod: 50, promptLength: 40, ["--checkpoint-period", "5", "--resume"])
        let reference = try finish(promptTune(folder("reference"), steps: 100, evalPeriod: 50, promptLength: 40, ["--checkpoint-period", "5"]),
                                   folder("reference"))
        let output = folder("run")
        let previous = try interruptedRun(output, arguments)

        let (result, killedBy) = try CLIProcess(arguments, fileSizeLimit: 8192).wait()
        #expect(killedBy == nil, "not killed by SIGXFSZ")
        #expect(result.status == 1)
        #expect(result.stderr == "ipt-cli: error: \(checkpoint(output)): write failed: File too large (the previous file, if any, is unchanged)\n",
                "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint(output))) == previous, "the previous checkpoint is intact")
        _ = try RunFolder.checkpointStep(checkpoint(output))
        let names = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("lr_0.3_bsz_4").path)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")

        let resumed = try finish(arguments, output)
        #expect(resumed.results == reference.results)
        #expect(resumed.prompt == reference.prompt)
    }

    /// Whether this machine lets the tests mount a small tmpfs (root with CAP_SYS_ADMIN).
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, let folder = try? TemporaryDirectory() else { return false }
        defer { _ = Tmpfs.unmount(folder.url) }
        return Tmpfs.mount(folder.url, bytes: 64 * 1024)
    }()

    @Test(.enabled(if: canMountTmpfs, "mounting a tmpfs needs root with CAP_SYS_ADMIN; the file-size-limit test covers the same writes"))
    func aFullTmpfsFailsAWriteAndKeepsThePreviousCheckpoint() throws {
        let disk = folder("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        #expect(Tmpfs.mount(disk, bytes: 1024 * 1024))
        defer { _ = Tmpfs.unmount(disk) }
        let output = disk.appendingPathComponent("run")
        let arguments = promptTune(output, steps: 100, evalPeriod: 50, promptLength: 40, ["--checkpoint-period", "5", "--resume"])
        let previous = try interruptedRun(output, arguments)
        // Leave two pages: less than the new checkpoint needs next to the old one.
        var info = statvfs()
        #expect(statvfs(disk.path, &info) == 0)
        let free = Int(info.f_bavail) * Int(info.f_bsize)
        try Data(count: max(0, free - 2 * Int(info.f_bsize))).write(to: disk.appendingPathComponent("filler"))

        let (result, killedBy) = try CLIProcess(arguments).wait()
        #expect(killedBy == nil && result.status == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("ipt-cli: error: \(output.path)/") && result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("No space left on device (the previous file, if any, is unchanged)"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint(output))) == previous, "the previous checkpoint is intact")

        try FileManager.default.removeItem(at: disk.appendingPathComponent("filler"))
        let finished = try CLI.run(arguments)
        #expect(finished.status == 0, "resumes once there is room: \(finished.stderr)")
    }

    // MARK: A diverging loss

    @Test func aDivergingLossStopsNamingTheStepAndKeepsTheBestSoFar() throws {
        let output = folder("run")
        // Adam moves every prompt value by about the learning rate in the first step: 3e38 (near
        // Float's largest) carries some past it.
        let arguments = promptTune(output, steps: 10, evalPeriod: 1, ["--learning-rate", "3e38"])
        let result = try CLI.run(arguments)
        #expect(result.status == 1, "\(result.stderr)")
        // Progress lines come first; the error is the last line. The first update already carries
        // the prompt past Float's range, so the loop undoes it and stops at step 1.
        let last = try #require(result.stderr.split(separator: "\n").last.map(String.init))
        #expect(last.hasPrefix("ipt-cli: error: training diverged at step 1: the update made "), "\(result.stderr)")
        #expect(last.hasSuffix("; the best artifacts so far are kept"), "\(result.stderr)")
        // Nothing non-finite was written: a run stopped before its first step leaves no folder
        // (nothing partial is kept); whatever a later divergence leaves must be finite.
        let files = FileManager.default.enumerator(atPath: output.path)?.allObjects as? [String] ?? []
        for name in files where name.hasSuffix(".safetensors") {
            let tensors = try SafeTensors.read(output.appendingPathComponent(name).path).tensors
            #expect(tensors.values.allSatisfy { $0.isFinite }, "\(name)")
        }
        #expect(!files.contains { $0.hasSuffix("results.json") }, "no results for a diverged run")
    }

    // MARK: Two runs, one folder

    @Test func aSecondRunIntoALockedFolderIsRefusedNamingTheHolder() throws {
        let output = folder("run")
        let arguments = promptTune(output, steps: 100, evalPeriod: 50)
        let logged = RunFolder.loggedSteps(output)
        let first = try CLIProcess(arguments)
        #expect(first.wait(until: { RunFolder.loggedSteps(output) >= logged + 2 }))
        first.send(SIGSTOP)  // holds the lock, writes nothing meanwhile
        let lock = try String(contentsOfFile: output.appendingPathComponent("run.lock").path, encoding: .utf8)
        #expect(lock.hasPrefix("\(first.pid)\n"))
        let before = FolderSnapshot.of(output)
        for extra in [[], ["--resume"], ["--overwrite"]] {
            let second = try CLI.run(arguments + extra)
            Check.fails(second, status: 1, mentioning: "\(output.path): another run (pid \(first.pid)) is writing to this folder (run.lock)")
        }
        #expect(FolderSnapshot.of(output) == before, "the refused runs wrote nothing")
        first.send(SIGINT)
        first.send(SIGCONT)
        #expect(first.wait().result.status == 130)
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("run.lock").path))

        // A lock file whose process is gone (killed: the kernel dropped its lock) is taken over,
        // even when its pid now belongs to another live process.
        try "1\nsome-host\n".write(to: output.appendingPathComponent("run.lock"), atomically: true, encoding: .utf8)
        let resumed = try CLI.run(arguments + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("run.lock").path))
    }
}

/// Mounting a small tmpfs (a full disk on demand).
enum Tmpfs {
    static func mount(_ folder: URL, bytes: Int) -> Bool {
        run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", folder.path])
    }

    static func unmount(_ folder: URL) -> Bool { run("/bin/umount", [folder.path]) }

    private static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
