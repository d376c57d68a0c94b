import Foundation
import IPTCore
#if canImport(Glibc)
import Glibc
#endif

/// An output folder of one procedure run: `config.json` (the resolved configuration),
/// `events.jsonl` (progress), `checkpoint.safetensors` (to resume), the artifacts, and
/// `results.json`, whose presence marks the run finished.
///
/// Opening a folder takes a lock so that two runs never write into the same folder: an exclusive
/// `flock` on `run.lock`, which holds the process id and host name of the run holding it for the
/// message a second run gets. The kernel (or the NFS server) drops the lock when its process ends,
/// however it ends, so a lock file left by a killed run is simply taken over; a live run on another
/// host of a shared file system keeps its lock. A finished run is never overwritten silently, and
/// an unfinished one is only continued when asked, with the configuration it started with.
public final class RunDirectory {
    /// What to do with what is already in the folder.
    public enum Mode: String, Codable, Sendable {
        /// The folder must be new or empty of runs.
        case fresh
        /// Continue an unfinished run from its checkpoint (a finished run is left as it is).
        case resume
        /// Replace whatever run is there.
        case overwrite
    }

    /// What the folder held when it was opened.
    public enum Status: Equatable, Sendable {
        case empty, unfinished, finished
    }

    public let url: URL
    public let status: Status
    /// The open `run.lock` holding the `flock`; -1 once released.
    private var lockDescriptor: Int32
    /// The folders this run created, the output folder first and its created parents after it.
    private let createdFolders: [URL]
    /// What the folder held once opened (after `--overwrite` cleared it), to tell what this run wrote.
    private var namesAtOpen: Set<String> = []

    public static let configurationName = "config.json"
    public static let resultsName = "results.json"
    public static let eventsName = "events.jsonl"
    public static let checkpointName = "checkpoint.safetensors"
    public static let lockName = "run.lock"
    /// One prediction per test example, written by prompt tuning (and stage two).
    public static let testPredictionsName = "test_predictions.txt"

    /// Opens (creating if needed) and locks the folder.
    ///
    /// - Throws: ``TrainingError/outputFolder(_:)`` when the folder cannot be created or written,
    ///   is locked by a live process, holds a finished run (mode `.fresh`) or an unfinished one
    ///   (mode `.fresh`).
    public init(path: String, mode: Mode) throws {
        url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let existed = fm.fileExists(atPath: path, isDirectory: &isDirectory)
        if existed, !isDirectory.boolValue {
            throw TrainingError.outputFolder("\(path): exists and is not a folder")
        }
        var created: [URL] = []
        var ancestor = url.standardizedFileURL
        while !fm.fileExists(atPath: ancestor.path), ancestor.path != "/" {
            created.append(ancestor)
            ancestor = ancestor.deletingLastPathComponent()
        }
        createdFolders = created
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.outputFolder("\(path): cannot create the output folder (\(RunDirectory.reason(error)))")
        }
        lockDescriptor = try RunDirectory.lock(url)
        RunDirectory.removeStaleTemporaryFiles(url)
        do {
            let finished = fm.fileExists(atPath: url.appendingPathComponent(RunDirectory.resultsName).path)
            let started = fm.fileExists(atPath: url.appendingPathComponent(RunDirectory.checkpointName).path)
                || fm.fileExists(atPath: url.appendingPathComponent(RunDirectory.configurationName).path)
            switch (mode, finished, started) {
            case (.overwrite, _, _):
                try RunDirectory.clear(url)
                status = .empty
            case (.fresh, true, _):
                throw TrainingError.outputFolder("\(path): holds a finished run (results.json); pass --overwrite to replace it")
            case (.fresh, false, true):
                throw TrainingError.outputFolder("\(path): holds an unfinished run; pass --resume to continue it or --overwrite to start again")
            case (_, true, _):
                status = .finished
            case (_, false, true):
                status = .unfinished
            default:
                status = .empty
            }
            namesAtOpen = Set((try? fm.contentsOfDirectory(atPath: url.path)) ?? [])
        } catch {
            RunDirectory.unlock(url, lockDescriptor)
            throw error
        }
    }

    deinit { release() }

    /// Removes the lock (also done when the object goes away).
    public func release() {
        guard lockDescriptor >= 0 else { return }
        RunDirectory.unlock(url, lockDescriptor)
        lockDescriptor = -1
    }

    /// Removes what this run wrote when it failed before writing anything but its configuration
    /// and events (bad input found while starting), so that nothing partial is left, and the
    /// folders this run created if they are left empty. Does nothing when the folder held
    /// a run when it was opened, or when this run wrote a checkpoint, an artifact or a result
    /// (those are kept with the configuration that explains them).
    public func discardIfUnstarted() {
        let fm = FileManager.default
        let written = Set((try? fm.contentsOfDirectory(atPath: url.path)) ?? []).subtracting(namesAtOpen)
        guard status == .empty, written.isSubset(of: [RunDirectory.configurationName, RunDirectory.eventsName]) else { return }
        for name in written { unlink(path(name)) }
        release()
        for folder in createdFolders where rmdir(folder.path) != 0 { break }  // only empty ones go
    }

    /// Path of a file in the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// `checkpoint.safetensors`.
    public var checkpointPath: String { path(RunDirectory.checkpointName) }

    /// Writes the run's configuration to `config.json`, or checks it against the folder's run. An
    /// unfinished run is continued only with the configuration it started with: otherwise its
    /// checkpoint would be refused after this file had been replaced, or (with no checkpoint yet)
    /// the folder would hold two runs' files. A finished run's result is reused only for the
    /// configuration that produced it (its `config.json` is left as it is): otherwise a pipeline
    /// resumed with other settings would build on results it did not ask for.
    ///
    /// - Throws: ``TrainingError/checkpointMismatch(_:)`` naming the first setting that differs
    ///   (for instance `configuration.prompt_length is 4 in the unfinished run, 5 now`).
    public func writeConfiguration<T: Encodable>(_ configuration: T) throws {
        let file = path(RunDirectory.configurationName)
        if status != .empty, let old = FileManager.default.contents(atPath: file) {
            let run = status == .finished ? "finished run" : "unfinished run"
            let remedy = status == .finished ? "give the run's settings to reuse its result, or pass --overwrite to run again"
                : "continue with the run's settings or pass --overwrite to start again"
            guard var started = try? JSONSerialization.jsonObject(with: old) else {
                throw TrainingError.checkpointMismatch("\(file): not valid JSON, so the \(run) cannot be checked; pass --overwrite to start again")
            }
            var now = try JSONSerialization.jsonObject(with: RunDirectory.encoder.encode(configuration))
            if var a = started as? [String: Any], var b = now as? [String: Any] {
                // Runs written before the inputs were recorded are checked on their settings alone.
                if a["inputs"] == nil { b["inputs"] = nil }
                // A result stays a result under a later library version (an unfinished run's
                // checkpoint is refused by its fingerprint instead).
                if status == .finished { a["libraryVersion"] = nil; b["libraryVersion"] = nil }
                (started, now) = (a, b)
            }
            if let difference = RunDirectory.firstDifference(started, now, at: "", run: run) {
                let advice = difference.hasPrefix("inputs.")
                    ? "put back the input the run started from, or pass --overwrite to \(status == .finished ? "run again" : "start again")"
                    : remedy
                throw TrainingError.checkpointMismatch("\(file): \(difference); \(advice)")
            }
        }
        if status != .finished { try writeJSON(configuration, to: RunDirectory.configurationName) }
    }

    /// A procedure's first step in its folder: writes (or checks, see ``writeConfiguration(_:)``)
    /// the run's configuration, and returns the stored result when the folder holds a finished
    /// run, so that the result is reused only for the configuration that produced it.
    ///
    /// - Returns: the finished run's `results.json`, or nil when the run is to be trained.
    public func begin<C: Encodable, R: Decodable>(_ configuration: C, result: R.Type) throws -> R? {
        try writeConfiguration(configuration)
        return status == .finished ? try readJSON(R.self, from: RunDirectory.resultsName) : nil
    }

    /// The first place (in key order) where two JSON values differ, described; `nil` when equal.
    private static func firstDifference(_ started: Any, _ now: Any, at key: String, run: String) -> String? {
        func text(_ value: Any?) -> String {
            guard let value else { return "absent" }
            return (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
        }
        if let a = started as? [String: Any], let b = now as? [String: Any] {
            if key == "baseModel", let nameA = a["name"], let nameB = b["name"], text(a) != text(b) {
                return "the \(run) was started with the base model \(text(nameA)) (fingerprint \(text(a["fingerprint"]))), this command gives \(text(nameB)) (fingerprint \(text(b["fingerprint"])))"
            }
            for name in Set(a.keys).union(b.keys).sorted() {
                let inner = key.isEmpty ? name : "\(key).\(name)"
                guard let x = a[name], let y = b[name] else {
                    return "\(inner) is \(text(a[name])) in the \(run), \(text(b[name])) now"
                }
                if let difference = firstDifference(x, y, at: inner, run: run) { return difference }
            }
            return nil
        }
        return text(started) == text(now) ? nil : "\(key) is \(text(started)) in the \(run), \(text(now)) now"
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// Writes `value` as pretty JSON, atomically.
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        try AtomicFile.write(try RunDirectory.encoder.encode(value) + Data("\n".utf8), to: path(name))
    }

    /// Reads a JSON file of the folder.
    public func readJSON<T: Decodable>(_ type: T.Type, from name: String) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url.appendingPathComponent(name)) } catch {
            throw TrainingError.outputFolder("\(path(name)): cannot read (\(RunDirectory.reason(error)))")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(type, from: data) } catch {
            throw TrainingError.outputFolder("\(path(name)): not a valid \(type) file")
        }
    }

    /// Appends one event as a JSON line to `events.jsonl`. The log is best effort: a line that
    /// cannot be written whole (a full disk) is cut off again rather than left half written.
    public func append(event: TrainingEvent) {
        guard let data = try? JSONEncoder().encode(event) else { return }
        let fd = open(path(RunDirectory.eventsName), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var line = data
        line.append(UInt8(ascii: "\n"))
        let end = lseek(fd, 0, SEEK_END)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != line.count, end >= 0 { _ = ftruncate(fd, end) }
    }

    /// Takes the folder's lock and returns the open lock file, or throws naming the run holding it.
    private static func lock(_ url: URL) throws -> Int32 {
        let lockPath = url.appendingPathComponent(lockName).path
        func failure(_ problem: String) -> TrainingError {
            .outputFolder("\(url.path): cannot write in the output folder (\(problem))")
        }
        // A run releasing its lock unlinks the file: a lock taken on a file that is no longer the
        // one at the path is worthless, so check and start again.
        for _ in 0..<100 {
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw failure(String(cString: strerror(errno))) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let reason = errno
                let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8)) ?? ""
                close(fd)
                guard reason == EWOULDBLOCK else { throw failure("cannot lock \(lockName): \(String(cString: strerror(reason)))") }
                let fields = holder.split(separator: "\n").map(String.init)
                var who = fields.first.map { "pid \($0)" } ?? "unknown pid"
                if fields.count > 1, fields[1] != hostName { who += " on \(fields[1])" }
                throw TrainingError.outputFolder("\(url.path): another run (\(who)) is writing to this folder (\(lockName))")
            }
            var opened = stat(), current = stat()
            guard fstat(fd, &opened) == 0, stat(lockPath, &current) == 0,
                  opened.st_dev == current.st_dev, opened.st_ino == current.st_ino else {
                close(fd)
                continue
            }
            let holder = "\(getpid())\n\(hostName)\n"
            guard ftruncate(fd, 0) == 0, holder.withCString({ write(fd, $0, strlen($0)) }) == holder.utf8.count else {
                let problem = String(cString: strerror(errno))
                unlock(url, fd)
                throw failure("cannot write \(lockName): \(problem)")
            }
            return fd
        }
        throw failure("cannot take the lock \(lockName)")
    }

    /// Removes the lock file, then drops the lock (in this order, see ``lock(_:)``).
    private static func unlock(_ url: URL, _ descriptor: Int32) {
        unlink(url.appendingPathComponent(lockName).path)
        close(descriptor)
    }

    private static let hostName: String = {
        var name = [CChar](repeating: 0, count: 256)
        return gethostname(&name, name.count - 1) == 0 ? String(cString: name) : "unknown host"
    }()

    /// Removes temporary files and folders that a killed writer left behind
    /// (`.<name>.tmp-<pid>-<random>`, see ``AtomicFile``): the lock guarantees no live writer of
    /// this folder is still using one.
    private static func removeStaleTemporaryFiles(_ url: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
    }

    /// Text files that procedures write (other `.txt` files, a user's notes, are kept).
    static let writtenTextFiles: Set<String> = [testPredictionsName]

    /// Removes what runs write (JSON, JSON lines, safetensors, CSV, SVG, Markdown files, the
    /// ``writtenTextFiles`` and run subfolders), nothing else.
    private static func clear(_ url: URL) throws {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name != lockName {
            let entry = url.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: entry.path, isDirectory: &isDirectory) else { continue }
            let ours = isDirectory.boolValue
                ? fm.fileExists(atPath: entry.appendingPathComponent(configurationName).path)
                    || fm.fileExists(atPath: entry.appendingPathComponent(resultsName).path)
                : ["json", "jsonl", "safetensors", "csv", "svg", "md"].contains(entry.pathExtension)
                    || RunDirectory.writtenTextFiles.contains(name)
            if ours {
                do { try fm.removeItem(at: entry) } catch {
                    throw TrainingError.outputFolder("\(entry.path): cannot remove for --overwrite (\(reason(error)))")
                }
            }
        }
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? CocoaError, let underlying = e.underlying as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue))
        }
        return (error as NSError).localizedDescription
    }
}
