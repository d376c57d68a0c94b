import Foundation
import IPTCore
#if canImport(Glibc)
import Glibc
#endif

/// An output folder of one procedure run: `config.json` (the resolved configuration),
/// `events.jsonl` (progress), `checkpoint.safetensors` (to resume), the artifacts, and
/// `results.json`, whose presence marks the run finished.
///
/// Opening a folder takes a lock (`run.lock`, holding the process id) so that two runs never write
/// into the same folder; a lock left by a dead process is taken over. A finished run is never
/// overwritten silently, and an unfinished one is only continued when asked.
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
    private var locked = true
    private let createdFolder: Bool

    public static let configurationName = "config.json"
    public static let resultsName = "results.json"
    public static let eventsName = "events.jsonl"
    public static let checkpointName = "checkpoint.safetensors"
    public static let lockName = "run.lock"

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
        createdFolder = !existed
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.outputFolder("\(path): cannot create the output folder (\(RunDirectory.reason(error)))")
        }
        try RunDirectory.lock(url)
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
        } catch {
            unlink(url.appendingPathComponent(RunDirectory.lockName).path)
            throw error
        }
    }

    deinit { release() }

    /// Removes the lock (also done when the object goes away).
    public func release() {
        guard locked else { return }
        locked = false
        unlink(url.appendingPathComponent(RunDirectory.lockName).path)
    }

    /// Removes what this run wrote when it stopped before its first checkpoint (a failure on bad
    /// input), so that nothing partial is left: the configuration, events, and the folder itself
    /// if this run created it and it is empty. Does nothing once a checkpoint or result exists.
    public func discardIfUnstarted() {
        let fm = FileManager.default
        guard status == .empty, !fm.fileExists(atPath: checkpointPath),
              !fm.fileExists(atPath: path(RunDirectory.resultsName)) else { return }
        for name in [RunDirectory.configurationName, RunDirectory.eventsName] { unlink(path(name)) }
        release()
        if createdFolder, (try? fm.contentsOfDirectory(atPath: url.path))?.isEmpty == true {
            rmdir(url.path)
        }
    }

    /// Path of a file in the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// `checkpoint.safetensors`.
    public var checkpointPath: String { path(RunDirectory.checkpointName) }

    /// Writes `value` as pretty JSON, atomically.
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try encoder.encode(value) + Data("\n".utf8), to: path(name))
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

    /// Appends one event as a JSON line to `events.jsonl`.
    public func append(event: TrainingEvent) {
        guard let data = try? JSONEncoder().encode(event) else { return }
        let fd = open(path(RunDirectory.eventsName), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var line = data
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    }

    private static func lock(_ url: URL) throws {
        let lockPath = url.appendingPathComponent(lockName).path
        for _ in 0..<2 {
            let fd = open(lockPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                let pid = "\(getpid())\n"
                _ = pid.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return
            }
            guard errno == EEXIST else {
                throw TrainingError.outputFolder("\(url.path): cannot write in the output folder (\(String(cString: strerror(errno))))")
            }
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let holder, holder != getpid(), kill(holder, 0) == 0 || errno == EPERM {
                throw TrainingError.outputFolder("\(url.path): another run (pid \(holder)) is writing to this folder (\(lockName))")
            }
            unlink(lockPath)  // stale: its process is gone
        }
        throw TrainingError.outputFolder("\(url.path): cannot take the lock \(lockName)")
    }

    /// Removes temporary files that a killed writer left behind (`.<name>.tmp-<pid>-<random>`, see
    /// ``AtomicFile``): the lock guarantees no live writer of this folder is still using one.
    private static func removeStaleTemporaryFiles(_ url: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            unlink(url.appendingPathComponent(name).path)
        }
    }

    /// Removes what runs write (JSON, JSON lines, safetensors, CSV, SVG, Markdown files and run
    /// subfolders), nothing else.
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
