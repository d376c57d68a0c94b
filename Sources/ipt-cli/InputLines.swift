import Foundation

/// The lines of a UTF-8 text file given on the command line.
enum InputLines {
    /// The lines of `path`, split at "\n" only (a final newline does not start another line).
    /// - Throws: `InputFileError` naming the file, and the line that is not valid UTF-8.
    static func read(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputFileError(description: "\(path): file not found or unreadable")
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [String] in
            let bytes = raw.bindMemory(to: UInt8.self)
            var lines: [String] = []
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                guard let line = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) else {
                    throw InputFileError(description: "\(path): line \(lines.count + 1): not valid UTF-8")
                }
                lines.append(line)
                start = end + 1
            }
            return lines
        }
    }
}

/// A problem with an input file, as one line.
struct InputFileError: Error, CustomStringConvertible {
    let description: String
}
