import Foundation

/// A WordNet syntactic category, as in the names of the database files (`data.noun`, `index.adj`, ...).
public enum WordNetPartOfSpeech: String, CaseIterable, Comparable, Sendable {
    case noun, verb, adjective, adverb

    /// The suffix of this category's database files: `noun`, `verb`, `adj`, `adv`.
    public var fileSuffix: String {
        switch self {
        case .noun: return "noun"
        case .verb: return "verb"
        case .adjective: return "adj"
        case .adverb: return "adv"
        }
    }

    /// The category of a one-letter code of the data files (`n`, `v`, `a`, `s` (adjective
    /// satellite), `r`), or nil for any other code.
    public init?(code: Substring) {
        switch code {
        case "n": self = .noun
        case "v": self = .verb
        case "a", "s": self = .adjective
        case "r": self = .adverb
        default: return nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Identifies a synset: its category and its byte offset in that category's data file.
public struct WordNetSynsetID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let partOfSpeech: WordNetPartOfSpeech
    public let offset: Int

    public init(_ partOfSpeech: WordNetPartOfSpeech, _ offset: Int) {
        self.partOfSpeech = partOfSpeech
        self.offset = offset
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.partOfSpeech, lhs.offset) < (rhs.partOfSpeech, rhs.offset)
    }

    public var description: String { "\(partOfSpeech.fileSuffix):\(offset)" }
}

/// One word (lemma) of a synset.
public struct WordNetWord: Hashable, Sendable {
    /// The word as the lexicographer entered it, with `_` between the words of a collocation and
    /// without the adjective marker (`long_distance`, `Canis_familiaris`).
    public let lemma: String
    /// The adjective syntactic marker (`a`, `p` or `ip`), when the data file gives one.
    public let adjectiveMarker: String?

    public init(lemma: String, adjectiveMarker: String? = nil) {
        self.lemma = lemma
        self.adjectiveMarker = adjectiveMarker
    }

    /// The lemma with spaces between words (`long distance`).
    public var text: String { String(lemma.map { $0 == "_" ? " " : $0 }) }
}

/// A relation from one synset (or one of its words) to another.
public struct WordNetPointer: Hashable, Sendable {
    /// The pointer symbol of `wninput(5WN)`: `@` hypernym, `@i` instance hypernym, `!` antonym,
    /// `&` similar to, `\` pertainym, `;c` topic domain, `%p` part meronym, ... (see the constants).
    public let symbol: String
    /// The synset pointed to.
    public let target: WordNetSynsetID
    /// The 1-based word of this synset the relation starts from, or 0 for the whole synset.
    public let sourceWord: Int
    /// The 1-based word of the target synset, or 0 for the whole synset.
    public let targetWord: Int

    public init(symbol: String, target: WordNetSynsetID, sourceWord: Int = 0, targetWord: Int = 0) {
        self.symbol = symbol
        self.target = target
        self.sourceWord = sourceWord
        self.targetWord = targetWord
    }

    /// Hypernym (`@`): the target is a more general concept.
    public static let hypernym = "@"
    /// Instance hypernym (`@i`): this synset is an instance of the target.
    public static let instanceHypernym = "@i"
    /// Antonym (`!`), a lexical relation between two words.
    public static let antonym = "!"
    /// Similar to (`&`): an adjective satellite and its head, or back.
    public static let similarTo = "&"
    /// Pertainym (`\`): a relational adjective's noun, or an adverb's adjective.
    public static let pertainym = "\\"
    /// Topic domain (`;c`): the target names the domain of this synset.
    public static let topicDomain = ";c"
    /// Part meronym (`%p`): the target is a part of this synset.
    public static let partMeronym = "%p"
}

/// One line of a WordNet data file: a set of synonyms with its gloss and relations.
public struct WordNetSynset: Sendable {
    public let id: WordNetSynsetID
    /// The lexicographer file number (0...44); see ``WordNetLexicographerFile``.
    public let lexicographerFile: Int
    /// Whether this is an adjective satellite (`s`), rather than a head adjective (`a`).
    public let isSatellite: Bool
    /// The synonyms, in the data file's order (never empty).
    public let words: [WordNetWord]
    public let pointers: [WordNetPointer]
    /// The gloss before its first quoted example, without a trailing `;` (may be empty).
    public let definition: String
    /// The quoted example sentences of the gloss, without quotes and attributions.
    public let examples: [String]

    /// - Parameter words: at least one word.
    public init(id: WordNetSynsetID, lexicographerFile: Int, isSatellite: Bool = false, words: [WordNetWord],
                pointers: [WordNetPointer] = [], definition: String, examples: [String] = []) {
        precondition(!words.isEmpty && WordNetLexicographerFile.names.indices.contains(lexicographerFile),
                     "a synset needs words and a lexicographer file number in 0...44")
        self.id = id
        self.lexicographerFile = lexicographerFile
        self.isSatellite = isSatellite
        self.words = words
        self.pointers = pointers
        self.definition = definition
        self.examples = examples
    }

    /// The lexicographer file name (`noun.animal`, `verb.motion`, ...).
    public var lexicographerFileName: String { WordNetLexicographerFile.names[lexicographerFile] }

    /// The first word of the synset: the usual headword.
    public var headword: WordNetWord { words[0] }

    /// The targets of the pointers with `symbol`, in the data file's order.
    public func targets(of symbol: String) -> [WordNetSynsetID] {
        pointers.filter { $0.symbol == symbol }.map(\.target)
    }
}

/// The 45 lexicographer files of WordNet 3.0 (`lexnames(5WN)`), indexed by file number.
public enum WordNetLexicographerFile {
    public static let names: [String] = [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
        "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
        "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
        "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
        "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
        "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
        "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
        "verb.weather", "adj.ppl",
    ]

    /// The number of the file called `name`, or nil.
    public static func number(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// One line of an index file: a lemma and the synsets (senses) it belongs to.
public struct WordNetIndexEntry: Sendable {
    /// Lower-case lemma with `_` between words.
    public let lemma: String
    public let partOfSpeech: WordNetPartOfSpeech
    /// Synset offsets in sense order (most frequent first).
    public let synsetOffsets: [Int]
    /// How many of the senses were tagged in the semantic concordances: 0 for rare words.
    public let taggedSenseCount: Int

    public init(lemma: String, partOfSpeech: WordNetPartOfSpeech, synsetOffsets: [Int], taggedSenseCount: Int) {
        self.lemma = lemma
        self.partOfSpeech = partOfSpeech
        self.synsetOffsets = synsetOffsets
        self.taggedSenseCount = taggedSenseCount
    }
}

/// One line of an exception list (`verb.exc`, ...): an irregular form and its base forms.
public struct WordNetException: Hashable, Sendable {
    public let inflectedForm: String
    public let baseForms: [String]

    public init(inflectedForm: String, baseForms: [String]) {
        self.inflectedForm = inflectedForm
        self.baseForms = baseForms
    }
}

/// A WordNet database folder (Debian's `wordnet-base`: `/usr/share/wordnet`): the data, index and
/// exception files of the four categories.
public struct WordNetDatabase: Sendable {
    /// Debian's location of the database.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/wordnet")

    /// Every synset, ordered by category (noun, verb, adjective, adverb) then offset.
    public let synsets: [WordNetSynset]
    /// The index entries of each category, in file order (sorted by lemma).
    public let index: [WordNetPartOfSpeech: [WordNetIndexEntry]]
    /// The exception lists of each category, in file order.
    public let exceptions: [WordNetPartOfSpeech: [WordNetException]]
    private let positions: [WordNetSynsetID: Int]

    /// Builds a database from parsed parts.
    ///
    /// - Parameters:
    ///   - synsets: in any order; they are sorted by ``WordNetSynsetID``.
    ///   - index: index entries per category (default none).
    ///   - exceptions: exception lists per category (default none).
    public init(synsets: [WordNetSynset], index: [WordNetPartOfSpeech: [WordNetIndexEntry]] = [:],
                exceptions: [WordNetPartOfSpeech: [WordNetException]] = [:]) {
        self.synsets = synsets.sorted { $0.id < $1.id }
        self.index = index
        self.exceptions = exceptions
        var positions: [WordNetSynsetID: Int] = [:]
        for (position, synset) in self.synsets.enumerated() { positions[synset.id] = position }
        self.positions = positions
    }

    /// Reads `data.*`, `index.*` and `*.exc` of the four categories from `directory`.
    ///
    /// - Parameter directory: the database folder (default ``defaultDirectory``).
    /// - Throws: ``SourceTextError`` naming the file and line of the first malformed line, or a
    ///   missing file.
    public static func load(from directory: URL = defaultDirectory) throws -> WordNetDatabase {
        var synsets: [WordNetSynset] = []
        var index: [WordNetPartOfSpeech: [WordNetIndexEntry]] = [:]
        var exceptions: [WordNetPartOfSpeech: [WordNetException]] = [:]
        for category in WordNetPartOfSpeech.allCases {
            let suffix = category.fileSuffix
            synsets += try WordNetReader.readDataFile(directory.appendingPathComponent("data.\(suffix)"), category: category)
            index[category] = try WordNetReader.readIndexFile(directory.appendingPathComponent("index.\(suffix)"), category: category)
            exceptions[category] = try WordNetReader.readExceptionFile(directory.appendingPathComponent("\(suffix).exc"))
        }
        return WordNetDatabase(synsets: synsets, index: index, exceptions: exceptions)
    }

    /// The synset `id`, or nil when the database has none.
    public func synset(_ id: WordNetSynsetID) -> WordNetSynset? {
        positions[id].map { synsets[$0] }
    }
}

/// Parsers for the WordNet database files (format: `wndb(5WN)`).
///
/// The files are strict machine-written formats, so a malformed line is an error naming the file
/// and line rather than a line skipped: a skipped synset would silently break the pointers to it.
/// The license header lines (starting with two spaces) are skipped.
public enum WordNetReader {
    /// The synsets of a `data.<pos>` file.
    ///
    /// - Parameters:
    ///   - url: the data file.
    ///   - category: the category of the file (its synsets' ids use it).
    /// - Throws: ``SourceTextError`` naming the file and line.
    public static func readDataFile(_ url: URL, category: WordNetPartOfSpeech) throws -> [WordNetSynset] {
        var synsets: [WordNetSynset] = []
        for (index, line) in try SourceText.utf8Lines(of: url).enumerated() where !line.hasPrefix("  ") {
            do {
                synsets.append(try parseDataLine(line, category: category))
            } catch let problem as LineProblem {
                throw SourceTextError(path: url.path, line: index + 1, problem: problem.text)
            }
        }
        return synsets
    }

    /// The entries of an `index.<pos>` file.
    ///
    /// - Throws: ``SourceTextError`` naming the file and line.
    public static func readIndexFile(_ url: URL, category: WordNetPartOfSpeech) throws -> [WordNetIndexEntry] {
        var entries: [WordNetIndexEntry] = []
        for (index, line) in try SourceText.utf8Lines(of: url).enumerated() where !line.hasPrefix("  ") {
            do {
                entries.append(try parseIndexLine(line, category: category))
            } catch let problem as LineProblem {
                throw SourceTextError(path: url.path, line: index + 1, problem: problem.text)
            }
        }
        return entries
    }

    /// The entries of a `<pos>.exc` exception list (`inflected base [base...]` per line).
    ///
    /// - Throws: ``SourceTextError`` naming the file and line of a line with fewer than two fields.
    public static func readExceptionFile(_ url: URL) throws -> [WordNetException] {
        try SourceText.utf8Lines(of: url).enumerated().map { index, line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 2 else {
                throw SourceTextError(path: url.path, line: index + 1, problem: "expected an inflected form and at least one base form")
            }
            return WordNetException(inflectedForm: fields[0], baseForms: Array(fields.dropFirst()))
        }
    }

    /// What is wrong with one line; the readers add the file and line.
    struct LineProblem: Error {
        let text: String
    }

    /// Parses one synset line:
    /// `offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] [frames...] | gloss`.
    static func parseDataLine(_ line: String, category: WordNetPartOfSpeech) throws -> WordNetSynset {
        // Words and pointer symbols never contain `|`, so the first one starts the gloss.
        guard let bar = line.utf8.firstIndex(of: UInt8(ascii: "|")) else {
            throw LineProblem(text: "no '|' before the gloss")
        }
        let fields = line[..<bar].split(separator: " ")
        var cursor = 0
        func next(_ what: String) throws -> Substring {
            guard cursor < fields.count else { throw LineProblem(text: "line ends before the \(what)") }
            defer { cursor += 1 }
            return fields[cursor]
        }
        func number(_ what: String, radix: Int = 10) throws -> Int {
            let field = try next(what)
            guard let value = Int(field, radix: radix), value >= 0 else {
                throw LineProblem(text: "\(what) '\(field)' is not a number")
            }
            return value
        }
        let offset = try number("synset offset")
        let lexicographerFile = try number("lexicographer file number")
        guard lexicographerFile < WordNetLexicographerFile.names.count else {
            throw LineProblem(text: "unknown lexicographer file number \(lexicographerFile)")
        }
        let typeCode = try next("synset type")
        guard let type = WordNetPartOfSpeech(code: typeCode), type == category else {
            throw LineProblem(text: "synset type '\(typeCode)' does not belong in a \(category.fileSuffix) file")
        }
        let wordCount = try number("word count", radix: 16)
        guard wordCount > 0 else { throw LineProblem(text: "synset without words") }
        var words: [WordNetWord] = []
        for _ in 0..<wordCount {
            words.append(splitAdjectiveMarker(try next("word")))
            _ = try number("lexical id", radix: 16)
        }
        let pointerCount = try number("pointer count")
        var pointers: [WordNetPointer] = []
        for _ in 0..<pointerCount {
            let symbol = String(try next("pointer symbol"))
            let targetOffset = try number("pointer target offset")
            let targetCode = try next("pointer target category")
            guard let targetCategory = WordNetPartOfSpeech(code: targetCode) else {
                throw LineProblem(text: "unknown pointer target category '\(targetCode)'")
            }
            let sourceTarget = try next("pointer source/target field")
            guard sourceTarget.count == 4, let source = Int(sourceTarget.prefix(2), radix: 16),
                  let target = Int(sourceTarget.suffix(2), radix: 16) else {
                throw LineProblem(text: "pointer source/target field '\(sourceTarget)' is not four hex digits")
            }
            pointers.append(WordNetPointer(symbol: symbol, target: WordNetSynsetID(targetCategory, targetOffset),
                                           sourceWord: source, targetWord: target))
        }
        // Verb sentence frames (`f_cnt + f_num w_num ...`) follow in data.verb; they are not needed.
        let gloss = line[line.utf8.index(after: bar)...]
        let (definition, examples) = splitGloss(gloss)
        return WordNetSynset(id: WordNetSynsetID(category, offset), lexicographerFile: lexicographerFile,
                             isSatellite: typeCode == "s", words: words, pointers: pointers,
                             definition: definition, examples: examples)
    }

    /// Parses one index line:
    /// `lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset [synset_offset...]`.
    static func parseIndexLine(_ line: String, category: WordNetPartOfSpeech) throws -> WordNetIndexEntry {
        let fields = line.split(separator: " ")
        guard fields.count >= 6 else { throw LineProblem(text: "index line has fewer than 6 fields") }
        guard let type = WordNetPartOfSpeech(code: fields[1]), type == category else {
            throw LineProblem(text: "category '\(fields[1])' does not belong in a \(category.fileSuffix) index")
        }
        // Each count is compared with the field count before they are added: counts near Int.max
        // would overflow the sum.
        guard let synsetCount = Int(fields[2]), let pointerCount = Int(fields[3]), synsetCount > 0, pointerCount >= 0,
              synsetCount < fields.count, pointerCount < fields.count, fields.count == 6 + pointerCount + synsetCount else {
            throw LineProblem(text: "field counts do not match the number of fields")
        }
        let taggedField = fields[5 + pointerCount]
        guard let tagged = Int(taggedField) else {
            throw LineProblem(text: "tagged sense count '\(taggedField)' is not a number")
        }
        let offsets = try fields[(6 + pointerCount)...].map { field -> Int in
            guard let offset = Int(field) else { throw LineProblem(text: "synset offset '\(field)' is not a number") }
            return offset
        }
        return WordNetIndexEntry(lemma: String(fields[0]), partOfSpeech: category, synsetOffsets: offsets,
                                 taggedSenseCount: tagged)
    }

    /// Splits `word(marker)` (adjective syntactic markers `(a)`, `(p)`, `(ip)`) into word and marker.
    static func splitAdjectiveMarker(_ field: Substring) -> WordNetWord {
        for marker in ["(a)", "(p)", "(ip)"] where field.hasSuffix(marker) && field.count > marker.count {
            return WordNetWord(lemma: String(field.dropLast(marker.count)), adjectiveMarker: String(marker.dropFirst().dropLast()))
        }
        return WordNetWord(lemma: String(field), adjectiveMarker: nil)
    }

    /// Splits a gloss into its definition and its quoted examples.
    ///
    /// The definition is the text before the first `"` that opens the gloss or follows `; `
    /// (quotes inside a definition, `the word "foo"`, stay in it). The rest is split at `; "`;
    /// each piece's example is the text up to its last `"` (dropping attributions such as
    /// `"..." - Shakespeare`), or the whole piece when it has no closing quote.
    public static func splitGloss(_ gloss: Substring) -> (definition: String, examples: [String]) {
        let text = SourceText.collapsingWhitespace(gloss)
        let examplesStart: String.Index?
        if text.hasPrefix("\"") {
            examplesStart = text.startIndex
        } else {
            examplesStart = text.firstRange(of: "; \"").map { text.index($0.lowerBound, offsetBy: 2) }
        }
        guard let examplesStart else { return (trimDefinition(text[...]), []) }
        let definition = trimDefinition(text[..<examplesStart])
        var examples: [String] = []
        for piece in text[examplesStart...].split(separator: "; \"") {
            var body = piece
            if body.hasPrefix("\"") { body = body.dropFirst() }
            if let close = body.lastIndex(of: "\"") { body = body[..<close] }
            let example = SourceText.collapsingWhitespace(body)
            if !example.isEmpty { examples.append(example) }
        }
        return (definition, examples)
    }

    private static func trimDefinition(_ text: Substring) -> String {
        var definition = text
        while let last = definition.last, last == ";" || last == " " { definition = definition.dropLast() }
        return String(definition)
    }
}
