import Foundation

/// One fortune cookie: a short text, often a quotation with an attribution.
public struct FortuneEntry: Hashable, Sendable {
    /// The collection (file name) the entry comes from: `computers`, `bofh-excuses`, ...
    public let collection: String
    /// The text without its attribution: lines joined by `\n`, trailing whitespace removed from
    /// each, leading indentation kept, no blank lines at either end.
    public let text: String
    /// The attribution after the final `--` line (`Mark Twain`), or nil.
    public let attribution: String?
    /// The 1-based line of the entry's first line in its file.
    public let line: Int

    /// The text as one paragraph: all whitespace runs (including line breaks) as single spaces.
    public var paragraph: String { SourceText.collapsingWhitespace(text) }
}

/// The entries of one fortune file.
public struct FortuneCollection: Sendable {
    /// The collection name (the file name).
    public let name: String
    public let entries: [FortuneEntry]
    /// Non-empty entries left out because they are not valid UTF-8 or contain control characters
    /// other than tab (the backspace overstrike and terminal escapes of a few old cookies).
    public let skippedEntryCount: Int
}

/// Reads the fortune files of Debian's `fortunes`, `fortunes-min`, `fortunes-bofh-excuses` and
/// `fortunes-debian-hints` packages (`/usr/share/games/fortunes`).
///
/// A fortune file holds entries separated by lines containing only `%`. Any text is a valid entry,
/// so nothing is an error except an unreadable file: entries that cannot be text (invalid UTF-8,
/// control characters) are skipped and counted in ``FortuneCollection/skippedEntryCount``, and
/// empty entries (a `%` at the start of a file, two `%` lines in a row) are ignored.
public enum FortuneReader {
    /// Debian's fortune folder.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/games/fortunes")

    /// Collections left out by ``readCollections(in:excluding:)`` by default: `ascii-art` holds
    /// pictures, not prose.
    public static let excludedByDefault: Set<String> = ["ascii-art"]

    /// Parses the bytes of a fortune file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - collection: the collection name stored in each entry.
    public static func parse(_ bytes: [UInt8], collection: String) -> FortuneCollection {
        var entries: [FortuneEntry] = []
        var skipped = 0
        var pending: [ArraySlice<UInt8>] = []
        var pendingStart = 1
        func finishEntry() {
            defer { pending.removeAll() }
            guard pending.contains(where: { line in line.contains(where: { !isSpace($0) }) }) else { return }
            var lines: [String] = []
            for bytes in pending {
                guard let line = String(validating: bytes, as: UTF8.self),
                      !line.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\t" && $0 != "\r" })
                else {
                    skipped += 1
                    return
                }
                var trimmed = Substring(line)
                while let last = trimmed.unicodeScalars.last, SourceText.isWhitespace(last) {
                    trimmed = Substring(trimmed.unicodeScalars.dropLast())
                }
                lines.append(String(trimmed))
            }
            // Blank lines at either end are not part of the text; the first non-blank line's number
            // is kept. (Lines of Unicode spaces only are blank too.)
            guard let first = lines.firstIndex(where: { !$0.isEmpty }), let last = lines.lastIndex(where: { !$0.isEmpty }) else { return }
            let (text, attribution) = splitAttribution(Array(lines[first...last]))
            entries.append(FortuneEntry(collection: collection, text: text, attribution: attribution,
                                        line: pendingStart + first))
        }
        for (index, line) in SourceText.lines(bytes).enumerated() {
            if isSeparator(line) {
                finishEntry()
                pendingStart = index + 2
            } else {
                pending.append(line)
            }
        }
        finishEntry()
        return FortuneCollection(name: collection, entries: entries, skippedEntryCount: skipped)
    }

    /// Reads one fortune file; the collection name is the file name.
    ///
    /// - Throws: ``SourceTextError`` when the file is missing or unreadable.
    public static func readCollection(_ url: URL) throws -> FortuneCollection {
        parse(try SourceText.contents(of: url), collection: url.lastPathComponent)
    }

    /// Reads every collection of a fortune folder, sorted by name.
    ///
    /// A collection is a regular file (not a symbolic link such as Debian's `*.u8`) without a dot
    /// in its name that has a `<name>.dat` index beside it; sub-folders (translations, `off/`) are
    /// not read.
    ///
    /// - Parameters:
    ///   - directory: the folder (default ``defaultDirectory``).
    ///   - excluded: collection names to leave out (default ``excludedByDefault``).
    /// - Throws: ``SourceTextError`` when the folder is missing or holds no collection.
    public static func readCollections(in directory: URL = defaultDirectory,
                                       excluding excluded: Set<String> = excludedByDefault) throws -> [FortuneCollection] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw SourceTextError(path: directory.path, problem: "cannot list the fortune folder: \((error as NSError).localizedDescription)")
        }
        let collections = names.filter { name in
            guard !name.contains("."), !excluded.contains(name) else { return false }
            let path = directory.appendingPathComponent(name).path
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return attributes?[.type] as? FileAttributeType == .typeRegular
                && FileManager.default.fileExists(atPath: path + ".dat")
        }
        .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !collections.isEmpty else {
            throw SourceTextError(path: directory.path, problem: "no fortune collections (files with a .dat index beside them)")
        }
        return try collections.map { try readCollection(directory.appendingPathComponent($0)) }
    }

    /// Splits the attribution off the end of an entry: the last of its final three lines whose
    /// text starts with `--`, and the lines after it.
    static func splitAttribution(_ lines: [String]) -> (text: String, attribution: String?) {
        let candidates = lines.indices.dropFirst().suffix(3)
        guard let start = candidates.last(where: { lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("--") }) else {
            return (lines.joined(separator: "\n"), nil)
        }
        let attributionLines = lines[start...].map { $0.trimmingCharacters(in: .whitespaces) }
        let attribution = SourceText.collapsingWhitespace(
            attributionLines.joined(separator: " ").drop(while: { $0 == "-" }))
        var textLines = Array(lines[..<start])
        while textLines.last?.isEmpty == true { textLines.removeLast() }
        guard !attribution.isEmpty, !textLines.isEmpty else { return (lines.joined(separator: "\n"), nil) }
        return (textLines.joined(separator: "\n"), attribution)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// A line holding only `%` (a trailing `\r` or spaces are tolerated).
    private static func isSeparator(_ line: ArraySlice<UInt8>) -> Bool {
        guard line.first == UInt8(ascii: "%") else { return false }
        return line.dropFirst().allSatisfy(isSpace)
    }
}
