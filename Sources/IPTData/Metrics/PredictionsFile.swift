import Foundation

/// A predictions file: one generated answer per line, UTF-8.
public enum PredictionsFile {
    /// The predictions in the file at `url`, one per line (split at `\n`; a final `\n` does not
    /// add an empty prediction; empty lines are empty predictions). A `\r` before the `\n` stays
    /// in the text; ``Metric/score(predictions:references:)`` strips it with the other whitespace.
    ///
    /// - Throws: ``DataError`` naming the file (and line): missing file, NUL byte, invalid UTF-8.
    public static func read(_ url: URL) throws -> [String] {
        try TextFile.lines(of: url)
    }
}
