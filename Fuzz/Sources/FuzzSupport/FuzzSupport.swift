import Foundation

/// Hands fuzz inputs to readers that take a file: each input is written over one file in a
/// private folder (in /dev/shm when there is one, so that no disk is touched), which the reader
/// then opens as it would a user's file.
public enum FuzzInput {
    private static let folder: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("ipt-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: folder.path) }
        return url
    }()

    /// Makes the private folder hold exactly `files` (name -> contents; files of earlier inputs
    /// that are not named are removed) and returns its URL.
    public static func folder(_ files: [String: Data]) -> URL {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: folder.path)) ?? [] where files[name] == nil {
            try? manager.removeItem(at: folder.appendingPathComponent(name))
        }
        for (name, contents) in files {
            let url = folder.appendingPathComponent(name)
            guard (try? contents.write(to: url)) != nil else { fatalError("fuzz harness: cannot write \(url.path)") }
        }
        return folder
    }

    /// Splits `size` bytes at `data` at each `separator` (the way multi-file inputs are packed).
    public static func parts(_ data: UnsafePointer<UInt8>, _ size: Int, separator: String) -> [Data] {
        let bytes = Data(bytes: data, count: size)
        let marker = Data(separator.utf8)
        var parts: [Data] = []
        var start = bytes.startIndex
        while let range = bytes.range(of: marker, in: start..<bytes.endIndex) {
            parts.append(bytes[start..<range.lowerBound])
            start = range.upperBound
        }
        parts.append(bytes[start...])
        return parts
    }

    /// Writes `size` bytes at `data` to the file `name` of the private folder and returns its URL.
    public static func file(_ name: String, _ data: UnsafePointer<UInt8>, _ size: Int) -> URL {
        let url = folder.appendingPathComponent(name)
        let bytes = Data(bytes: data, count: size)
        guard (try? bytes.write(to: url)) != nil else { fatalError("fuzz harness: cannot write \(url.path)") }
        return url
    }
}

/// Keeps a computed value alive so that the optimiser cannot drop the computation.
@inline(never)
public func blackHole<T>(_ value: T) {}
