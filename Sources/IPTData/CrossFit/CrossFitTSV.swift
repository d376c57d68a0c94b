import Foundation

/// Reads the CrossFit TSV format: one example per line, `input<TAB>answer[<TAB>more answers]`.
///
/// Line handling follows the original (`line.strip().split("\t")`): each line is stripped of
/// surrounding whitespace as Python's `str.strip()` does — which also removes the `\r` of CRLF
/// line ends and trailing tabs — and then split at tabs. Lines end at `\n`; a `\r` inside a line
/// is kept (Python's universal newlines would split there; CrossFit's files have none). Stricter
/// than the original, which would load such lines as examples without answers or with empty
/// answers, a blank line, a line without a tab, an empty answer, a NUL byte or invalid UTF-8 is
/// an error naming the file and line.
public enum CrossFitTSV {
    /// The examples of `task` in the file at `url`.
    ///
    /// - Parameters:
    ///   - url: a `.tsv` file.
    ///   - task: the task name stored in each example.
    /// - Throws: ``DataError`` naming the file and line.
    public static func read(_ url: URL, task: String) throws -> [Example] {
        let lines = try TextFile.lines(of: url)
        guard !lines.isEmpty else { throw DataError.emptyFile(path: url.path) }
        return try lines.enumerated().map { offset, line in
            try parse(line, task: task, path: url.path, lineNumber: offset + 1)
        }
    }

    private static func parse(_ line: String, task: String, path: String, lineNumber: Int) throws -> Example {
        let stripped = PythonText.strip(line.unicodeScalars)
        guard !stripped.isEmpty else {
            throw DataError.malformedLine(path: path, line: lineNumber, problem: "blank line")
        }
        let columns = stripped.split(separator: "\t", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }
        guard columns.count >= 2 else {
            throw DataError.malformedLine(path: path, line: lineNumber, problem: "no tab between input and answer")
        }
        if let empty = columns.indices.dropFirst().first(where: { columns[$0].isEmpty }) {
            throw DataError.malformedLine(path: path, line: lineNumber, problem: "empty answer in column \(empty + 1)")
        }
        return Example(task: task, input: columns[0], answers: Array(columns.dropFirst()))
    }
}

/// Reading small UTF-8 text files line by line with precise errors.
enum TextFile {
    /// The lines of the file at `url`, split at `\n` (a final `\n` ends the last line rather than
    /// starting an empty one; an empty file has no lines).
    ///
    /// - Throws: ``DataError/unreadable(path:reason:)``, ``DataError/nulByte(path:line:)``,
    ///   ``DataError/invalidUTF8(path:line:)``.
    static func lines(of url: URL) throws -> [String] {
        let data = try contents(of: url)
        var pieces = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        return try pieces.enumerated().map { offset, bytes in
            if bytes.contains(0) { throw DataError.nulByte(path: url.path, line: offset + 1) }
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw DataError.invalidUTF8(path: url.path, line: offset + 1)
            }
            return line
        }
    }

    /// The bytes of the file at `url`.
    ///
    /// - Throws: ``DataError/missingFile(path:)`` when there is no file, otherwise
    ///   ``DataError/unreadable(path:reason:)``.
    static func contents(of url: URL) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataError.missingFile(path: url.path)
        }
        guard !isDirectory.boolValue else { throw DataError.unreadable(path: url.path, reason: "is a folder") }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw DataError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }
}
