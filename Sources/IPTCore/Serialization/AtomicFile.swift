import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a file could not be written. One line naming the file and the system's reason.
public struct FileWriteError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// Writes files so that a reader sees either the old complete file or the new complete file,
/// never a partial one: the bytes go to a temporary file in the same folder, which is synced and
/// then renamed over the destination. On any failure (a full disk, a killed process) the
/// destination is untouched and the temporary file is removed.
public enum AtomicFile {
    /// Receives the bytes of a file being written.
    public struct Sink {
        fileprivate let fd: Int32
        fileprivate let path: String

        /// Appends `bytes`.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard var base = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let n = Glibc.write(fd, base, min(remaining, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileWriteError(path: path, problem: "write failed: \(String(cString: strerror(errno)))\(AtomicFile.untouched)")
                }
                remaining -= n
                base += n
            }
        }

        /// Appends `data`.
        public func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }
    }

    /// Ends the message of a failed write: the destination still holds what it held before (a
    /// full disk while writing a checkpoint leaves the previous checkpoint).
    static let untouched = " (the previous file, if any, is unchanged)"

    /// Writes a file by streaming into a ``Sink``.
    public static func write(to path: String, _ body: (Sink) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileWriteError(path: path, problem: "cannot create a file in \(directory): \(String(cString: strerror(errno)))")
        }
        var committed = false
        defer {
            if !committed { unlink(temporary) }
        }
        do {
            try body(Sink(fd: fd, path: path))
            guard fsync(fd) == 0 else {
                throw FileWriteError(path: path, problem: "sync failed: \(String(cString: strerror(errno)))\(AtomicFile.untouched)")
            }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else {
            throw FileWriteError(path: path, problem: "close failed: \(String(cString: strerror(errno)))\(AtomicFile.untouched)")
        }
        guard rename(temporary, path) == 0 else {
            throw FileWriteError(path: path, problem: "cannot rename into place: \(String(cString: strerror(errno)))\(AtomicFile.untouched)")
        }
        committed = true
        // Make the rename itself durable.
        let dfd = open(directory, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Writes `data` to `path` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(data) }
    }

    /// Writes `string` (UTF-8) to `path` atomically.
    public static func write(_ string: String, to path: String) throws {
        try write(Data(string.utf8), to: path)
    }
}

extension AtomicFile {
    /// Writes a folder as a whole, so that a reader sees the old complete folder or the new
    /// complete one: `fill` writes into a new sibling folder (`.<name>.tmp-<pid>-<random>`), which
    /// then takes `folder`'s place; the old folder, if any, is moved aside first
    /// (`.<name>.old-<pid>-<random>`) and removed after, or moved back when the new one cannot be
    /// put in place. A writer killed while filling leaves the old folder and the staging sibling
    /// (``RunDirectory`` removes such leftovers); one killed in the instant between the two renames
    /// leaves no `folder` but the old one, complete, as `.<name>.old-...` (kept, for a person to
    /// move back).
    ///
    /// - Parameters:
    ///   - folder: the folder to write (its parents are created). What it held is replaced, so the
    ///     caller decides whether it may be (a folder of another kind must not be).
    ///   - fill: writes the folder's files into the URL it is given.
    /// - Throws: `FileWriteError` naming the folder, or what `fill` throws.
    public static func writeFolder(_ folder: URL, _ fill: (URL) throws -> Void) throws {
        let manager = FileManager.default
        let target = folder.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let suffix = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).tmp-\(suffix)")
        let retired = parent.appendingPathComponent(".\(target.lastPathComponent).old-\(suffix)")
        do {
            try manager.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: target.path, problem: "cannot create a folder in \(parent.path): \((error as NSError).localizedDescription)")
        }
        defer { try? manager.removeItem(at: staging) }
        try fill(staging)
        let existed = manager.fileExists(atPath: target.path)
        if existed {
            guard rename(target.path, retired.path) == 0 else {
                throw FileWriteError(path: target.path, problem: "cannot move the old folder aside: \(String(cString: strerror(errno)))")
            }
        }
        guard rename(staging.path, target.path) == 0 else {
            let problem = String(cString: strerror(errno))
            if existed { rename(retired.path, target.path) }
            throw FileWriteError(path: target.path, problem: "cannot move the new folder into place: \(problem)\(existed ? " (the previous folder is unchanged)" : "")")
        }
        if existed { try? manager.removeItem(at: retired) }
        let dfd = open(parent.path, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
