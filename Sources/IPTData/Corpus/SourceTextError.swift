import Foundation

/// Why a plain-text source (a WordNet database file, a fortune collection) could not be read.
///
/// Its description is one line, `path:line: problem` (or `path: problem` when no single line is
/// at fault).
public struct SourceTextError: Error, CustomStringConvertible, Equatable {
    /// The file or folder.
    public let path: String
    /// The 1-based line at fault, if any.
    public let line: Int?
    /// What is wrong, in a few words.
    public let problem: String

    public init(path: String, line: Int? = nil, problem: String) {
        self.path = path
        self.line = line
        self.problem = problem
    }

    public var description: String {
        if let line { return "\(path):\(line): \(problem)" }
        return "\(path): \(problem)"
    }
}

/// Reading the bytes of source files and splitting them into lines.
enum SourceText {
    /// The bytes of the file at `url`.
    ///
    /// - Throws: ``SourceTextError`` naming the file when it is missing, a folder or unreadable.
    static func contents(of url: URL) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw SourceTextError(path: url.path, problem: "no such file")
        }
        guard !isDirectory.boolValue else { throw SourceTextError(path: url.path, problem: "is a folder, not a file") }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw SourceTextError(path: url.path, problem: "cannot read: \((error as NSError).localizedDescription)")
        }
    }

    /// The lines of `bytes`, split at `\n` (a final `\n` ends the last line rather than starting an
    /// empty one), each as a byte slice.
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        return pieces
    }

    /// The UTF-8 lines of the file at `url`.
    ///
    /// - Throws: ``SourceTextError`` naming the file, and the line for invalid UTF-8.
    static func utf8Lines(of url: URL) throws -> [String] {
        try lines(try contents(of: url)).enumerated().map { index, bytes in
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw SourceTextError(path: url.path, line: index + 1, problem: "not valid UTF-8")
            }
            return line
        }
    }

    /// `text` with every run of whitespace (spaces, tabs, newlines, Unicode spaces) replaced by
    /// one space and no space at either end.
    static func collapsingWhitespace(_ text: some StringProtocol) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if isWhitespace(scalar) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(UInt8(ascii: " "))
                pendingSpace = false
            }
            if scalar.isASCII {
                out.append(UInt8(scalar.value))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Unicode whitespace, with a fast path for ASCII (space, tab, line feed, vertical tab, form
    /// feed, carriage return).
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar == " " || (9...13).contains(scalar.value) : scalar.properties.isWhitespace
    }
}
