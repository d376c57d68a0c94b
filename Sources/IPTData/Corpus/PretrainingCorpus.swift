import Foundation
import IPTCore

/// Plain English text for denoising pretraining, one paragraph or sentence per line, built from
/// WordNet glosses and fortune cookies.
///
/// Lines, in this fixed order (never directory-listing or hash order):
/// 1. for each WordNet synset by category (noun, verb, adjective, adverb) then offset: its
///    definition as `headword: definition` (`dog: a member of the genus Canis ...`), then each
///    example sentence of its gloss;
/// 2. for each fortune collection by name, each entry in file order: its text as one paragraph
///    (whitespace runs as single spaces), followed by ` -- attribution` when it has one. Entries
///    that are not prose (fewer than three words, or less than 60% letters among their
///    non-space characters: pictures, tables, code) are left out.
///
/// Every line is whitespace-normalised and non-empty; a line equal to an earlier one is dropped,
/// and so is every line in the `excluding` set (the text that would give away the answers of the
/// built-in tasks' test examples, see ``BuiltInTasks/Built/revealingCorpusLines``).
public struct PretrainingCorpus: Sendable {
    /// The corpus lines, without line breaks.
    public let lines: [String]

    /// Size of a corpus.
    public struct Statistics: Equatable, Sendable, CustomStringConvertible {
        public let lines: Int
        /// Whitespace-separated words.
        public let words: Int
        /// UTF-8 bytes of the written file (each line followed by `\n`).
        public let bytes: Int

        public init(lines: Int, words: Int, bytes: Int) {
            self.lines = lines
            self.words = words
            self.bytes = bytes
        }

        public var description: String { "\(lines) lines, \(words) words, \(bytes) bytes" }
    }

    /// Builds the corpus.
    ///
    /// - Parameters:
    ///   - wordnet: the WordNet database, or nil to use fortunes only.
    ///   - fortunes: fortune collections, in any order (they are taken by name).
    ///   - excluded: lines to leave out (default none).
    public init(wordnet: WordNetDatabase?, fortunes: [FortuneCollection], excluding excluded: Set<String> = []) {
        var seen = excluded
        var lines: [String] = []
        func add(_ line: String?) {
            guard let line, !line.isEmpty, seen.insert(line).inserted else { return }
            lines.append(line)
        }
        for synset in wordnet?.synsets ?? [] {
            add(Self.definitionLine(synset))
            Self.exampleLines(synset).forEach(add)
        }
        for collection in fortunes.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            collection.entries.forEach { add(Self.fortuneLine($0)) }
        }
        self.lines = lines
    }

    /// `headword: definition` for a synset with a definition, else nil.
    public static func definitionLine(_ synset: WordNetSynset) -> String? {
        synset.definition.isEmpty ? nil : "\(synset.headword.text): \(synset.definition)"
    }

    /// The example sentences of a synset's gloss, whitespace-normalised.
    public static func exampleLines(_ synset: WordNetSynset) -> [String] {
        synset.examples.map(SourceText.collapsingWhitespace)
    }

    /// The entry as one line (`text -- attribution`), or nil when it is not prose.
    public static func fortuneLine(_ entry: FortuneEntry) -> String? {
        let paragraph = entry.paragraph
        guard isProse(paragraph) else { return nil }
        guard let attribution = entry.attribution else { return paragraph }
        return "\(paragraph) -- \(attribution)"
    }

    /// At least three words and at least 60% letters among the non-space characters.
    static func isProse(_ paragraph: String) -> Bool {
        var letters = 0, others = 0, words = 1
        for character in paragraph {
            if character == " " { words += 1 } else if character.isLetter { letters += 1 } else { others += 1 }
        }
        return words >= 3 && letters * 5 >= (letters + others) * 3
    }

    /// Lines, words and bytes.
    public var statistics: Statistics {
        Statistics(lines: lines.count,
                   // Lines are whitespace-normalised: one word more than spaces.
                   words: lines.reduce(0) { count, line in count + 1 + line.utf8.reduce(0) { $0 + ($1 == 0x20 ? 1 : 0) } },
                   bytes: lines.reduce(0) { $0 + $1.utf8.count + 1 })
    }

    /// Writes the corpus, one line per `\n`-terminated line, atomically (a reader never sees a
    /// partial file).
    ///
    /// - Throws: `FileWriteError` naming the file.
    public func write(to path: String) throws {
        try AtomicFile.write(to: path) { sink in
            var buffer = Data()
            for line in lines {
                buffer.append(contentsOf: line.utf8)
                buffer.append(UInt8(ascii: "\n"))
                if buffer.count >= 1 << 20 {
                    try sink.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try sink.write(buffer)
        }
    }
}
