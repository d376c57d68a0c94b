import Foundation
import IPTData
import Testing

/// A temporary folder removed at the end of the test.
final class ScratchFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` (or raw bytes) to `name` inside the folder and returns its URL.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> URL {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return file
    }
}

/// Small WordNet files in the real format (lines adapted from WordNet 3.0), for the readers and
/// the corpus builder.
enum WordNetSnippets {
    static let header = "  1 This software and database is being provided to you, the LICENSEE, by\n  2 Princeton University\n"
    static let noun = header + """
        00001740 03 n 01 entity 0 001 ~ 00002000 n 0000 | that which is perceived or known or inferred to have its own distinct existence (living or nonliving)  
        00002000 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 00001740 n 0000 %p 00003000 n 0000 | a member of the genus Canis (probably descended from the common wolf); "the dog barked all night"; "a dog's life"  
        00003000 08 n 01 flag 0 000 | a conspicuously marked or shaped tail  

        """
    static let verb = header + """
        00004000 38 v 02 run 0 go 4 001 @ 00005000 v 0000 02 + 01 00 + 02 00 | move fast by using one's feet; "Don't run--you'll be out of breath"; "The children ran to the store"  
        00005000 38 v 01 travel 0 000 01 + 01 00 | change location  

        """
    static let adjective = header + """
        00006000 00 a 01 hot 0 002 ! 00007000 a 0101 & 00008000 s 0000 | used of physical heat; "a hot stove"  
        00007000 00 a 01 cold 0 001 ! 00006000 a 0101 | having a low temperature  
        00008000 00 s 02 baking(p) 0 baking_hot 0 001 & 00006000 a 0000 | as hot as if in an oven  

        """
    static let adverb = header + """
        00009000 02 r 01 hotly 0 001 \\ 00006000 a 0101 | in a hot manner  

        """
    static let nounIndex = header + """
        dog n 1 2 @ %p 1 1 00002000 
        entity n 1 1 ~ 1 1 00001740 
        flag n 1 0 1 0 00003000 

        """
    static let verbIndex = header + "run v 1 1 @ 1 1 00004000 \ntravel v 1 0 1 1 00005000 \n"
    static let adjectiveIndex = header + "cold a 1 1 ! 1 1 00007000 \nhot a 1 2 ! & 1 1 00006000 \n"
    static let adverbIndex = header + "hotly r 1 1 \\ 1 0 00009000 \n"
    static let verbExceptions = "ran run\nwent go\n"

    /// Writes a complete small database into `folder`.
    static func write(into folder: ScratchFolder) throws {
        try folder.write("data.noun", noun)
        try folder.write("data.verb", verb)
        try folder.write("data.adj", adjective)
        try folder.write("data.adv", adverb)
        try folder.write("index.noun", nounIndex)
        try folder.write("index.verb", verbIndex)
        try folder.write("index.adj", adjectiveIndex)
        try folder.write("index.adv", adverbIndex)
        try folder.write("noun.exc", "mice mouse\n")
        try folder.write("verb.exc", verbExceptions)
        try folder.write("adj.exc", "better good well\n")
        try folder.write("adv.exc", "best well\n")
    }
}

@Suite("WordNet readers")
struct WordNetReaderTests {
    @Test func dataLinesGiveWordsPointersDefinitionAndExamples() throws {
        let folder = try ScratchFolder()
        let synsets = try WordNetReader.readDataFile(try folder.write("data.noun", WordNetSnippets.noun), category: .noun)
        #expect(synsets.map(\.id.offset) == [1740, 2000, 3000])
        let dog = synsets[1]
        #expect(dog.id == WordNetSynsetID(.noun, 2000))
        #expect(dog.lexicographerFileName == "noun.animal")
        #expect(dog.words.map(\.lemma) == ["dog", "domestic_dog", "Canis_familiaris"])
        #expect(dog.words[1].text == "domestic dog")
        #expect(dog.pointers == [
            WordNetPointer(symbol: "@", target: WordNetSynsetID(.noun, 1740), sourceWord: 0, targetWord: 0),
            WordNetPointer(symbol: "%p", target: WordNetSynsetID(.noun, 3000), sourceWord: 0, targetWord: 0),
        ])
        #expect(dog.definition == "a member of the genus Canis (probably descended from the common wolf)")
        #expect(dog.examples == ["the dog barked all night", "a dog's life"])
        #expect(synsets[2].examples.isEmpty)
        #expect(synsets[2].definition == "a conspicuously marked or shaped tail")
    }

    @Test func verbFramesAdjectiveMarkersSatellitesAndLexicalPointers() throws {
        let folder = try ScratchFolder()
        let verbs = try WordNetReader.readDataFile(try folder.write("data.verb", WordNetSnippets.verb), category: .verb)
        #expect(verbs[0].words.map(\.lemma) == ["run", "go"])
        #expect(verbs[0].targets(of: WordNetPointer.hypernym) == [WordNetSynsetID(.verb, 5000)])
        #expect(verbs[0].examples == ["Don't run--you'll be out of breath", "The children ran to the store"])
        let adjectives = try WordNetReader.readDataFile(try folder.write("data.adj", WordNetSnippets.adjective), category: .adjective)
        #expect(adjectives[0].pointers[0] == WordNetPointer(symbol: "!", target: WordNetSynsetID(.adjective, 7000), sourceWord: 1, targetWord: 1))
        #expect(!adjectives[0].isSatellite && adjectives[2].isSatellite)
        #expect(adjectives[2].words[0] == WordNetWord(lemma: "baking", adjectiveMarker: "p"))
        #expect(adjectives[2].words[1] == WordNetWord(lemma: "baking_hot", adjectiveMarker: nil))
    }

    @Test func glossSplittingKeepsQuotesInDefinitionsAndDropsAttributions() {
        let cases: [(String, String, [String])] = [
            ("the word \"foo\" as a noun; \"foo is here\"", "the word \"foo\" as a noun", ["foo is here"]),
            ("\"only an example\"", "", ["only an example"]),
            ("tying; \"the tying of ties is an art; the untying is easy\"", "tying", ["the tying of ties is an art; the untying is easy"]),
            ("duty; \"every right implies a responsibility\"- John D.Rockefeller Jr; \"he did his duty\"",
             "duty", ["every right implies a responsibility", "he did his duty"]),
            ("no examples here;  ", "no examples here", []),
            ("unclosed; \"an example without its closing quote", "unclosed", ["an example without its closing quote"]),
        ]
        for (gloss, definition, examples) in cases {
            let split = WordNetReader.splitGloss(Substring(gloss))
            #expect(split.definition == definition, "\(gloss)")
            #expect(split.examples == examples, "\(gloss)")
        }
    }

    @Test(arguments: [
        ("00002000 05 n 01 dog 0 000 a gloss without its bar", "no '|'"),
        ("00002000 05 n 01 dog 0 002 @ 00001740 n 0000 | pointer count larger than the pointers", "pointer"),
        ("00002000 05 v 01 dog 0 000 | a verb line in the noun file", "does not belong"),
        ("00002000 77 n 01 dog 0 000 | lexicographer file 77", "unknown lexicographer file number 77"),
        ("0000x000 05 n 01 dog 0 000 | bad offset", "synset offset"),
        ("00002000 05 n 01 dog 0 001 @ 00001740 q 0000 | unknown target category", "unknown pointer target category"),
        ("00002000 05 n 01 dog 0 001 @ 00001740 n 00zz | bad source/target", "four hex digits"),
    ])
    func malformedDataLinesAreErrorsNamingFileAndLine(line: String, problem: String) throws {
        let folder = try ScratchFolder()
        let file = try folder.write("data.noun", WordNetSnippets.header + line + "\n")
        let error = #expect(throws: SourceTextError.self) { try WordNetReader.readDataFile(file, category: .noun) }
        #expect(error?.line == 3)
        #expect(error?.description.hasPrefix("\(file.path):3: ") == true)
        #expect(error?.description.contains(problem) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("\n") == false)
    }

    @Test func invalidUTF8IsAnErrorNamingTheLine() throws {
        let folder = try ScratchFolder()
        let file = try folder.write("data.noun", bytes: Array("  1 header\n".utf8) + [0x64, 0xFF, 0x0A])
        let error = #expect(throws: SourceTextError.self) { try WordNetReader.readDataFile(file, category: .noun) }
        #expect(error?.line == 2)
    }

    @Test func indexAndExceptionFiles() throws {
        let folder = try ScratchFolder()
        let index = try WordNetReader.readIndexFile(try folder.write("index.noun", WordNetSnippets.nounIndex), category: .noun)
        #expect(index.map(\.lemma) == ["dog", "entity", "flag"])
        #expect(index[0].synsetOffsets == [2000] && index[0].taggedSenseCount == 1)
        #expect(index[2].taggedSenseCount == 0)
        let badIndex = try folder.write("index.verb", "run v 2 0 2 1 00004000\n")
        #expect(throws: SourceTextError(path: badIndex.path, line: 1, problem: "field counts do not match the number of fields")) {
            try WordNetReader.readIndexFile(badIndex, category: .verb)
        }
        // A pointer count of Int.max once overflowed the field-count sum (a trap).
        let hugeCount = try folder.write("index.adv", "x r 1 9223372036854775807 0 0 00000001\n")
        #expect(throws: SourceTextError(path: hugeCount.path, line: 1, problem: "field counts do not match the number of fields")) {
            try WordNetReader.readIndexFile(hugeCount, category: .adverb)
        }
        let exceptions = try WordNetReader.readExceptionFile(try folder.write("adj.exc", "better good well\nworse bad\n"))
        #expect(exceptions == [WordNetException(inflectedForm: "better", baseForms: ["good", "well"]),
                               WordNetException(inflectedForm: "worse", baseForms: ["bad"])])
        let badExceptions = try folder.write("verb.exc", "ran run\nlonely\n")
        let error = #expect(throws: SourceTextError.self) { try WordNetReader.readExceptionFile(badExceptions) }
        #expect(error?.line == 2)
    }

    @Test func databaseLoadsAllFilesAndLooksUpSynsets() throws {
        let folder = try ScratchFolder()
        try WordNetSnippets.write(into: folder)
        let database = try WordNetDatabase.load(from: folder.url)
        #expect(database.synsets.count == 9)
        #expect(database.synsets.map(\.id.partOfSpeech) == [.noun, .noun, .noun, .verb, .verb, .adjective, .adjective, .adjective, .adverb])
        #expect(database.synset(WordNetSynsetID(.adverb, 9000))?.headword.lemma == "hotly")
        #expect(database.synset(WordNetSynsetID(.adverb, 1)) == nil)
        #expect(database.index[.adjective]?.map(\.lemma) == ["cold", "hot"])
        #expect(database.exceptions[.verb]?.count == 2)
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("index.adv"))
        let error = #expect(throws: SourceTextError.self) { try WordNetDatabase.load(from: folder.url) }
        #expect(error?.description == "\(folder.url.appendingPathComponent("index.adv").path): no such file")
    }
}

@Suite("Fortune readers")
struct FortuneReaderTests {
    @Test func entriesAttributionsAndLineNumbers() {
        let text = [
            "%",
            "Never put off till tomorrow what you can do today.",
            "\t\t-- Thomas Jefferson",
            "%",
            "A line",
            "  indented line   ",
            "%",
            "%",
            "",
            "Fame is a vapor.",
            "\t\t-- Horace",
            "\t\t   Greeley, \"Vapor\"",
            "",
            "%",
            "-- a first line starting with dashes is text",
        ].joined(separator: "\n")
        let collection = FortuneReader.parse(Array(text.utf8), collection: "wisdom")
        #expect(collection.entries.map(\.text) == [
            "Never put off till tomorrow what you can do today.",
            "A line\n  indented line",
            "Fame is a vapor.",
            "-- a first line starting with dashes is text",
        ])
        #expect(collection.entries.map(\.attribution) == ["Thomas Jefferson", nil, "Horace Greeley, \"Vapor\"", nil])
        #expect(collection.entries.map(\.line) == [2, 5, 10, 15])
        #expect(collection.entries[1].paragraph == "A line indented line")
        #expect(collection.entries.allSatisfy { $0.collection == "wisdom" })
        #expect(collection.skippedEntryCount == 0)
    }

    @Test func entriesThatAreNotTextAreSkippedAndCounted() {
        var bytes = Array("good one\n%\nbad \u{8}overstrike\n%\n\u{A0}\u{2003}\n%\n".utf8)  // then an entry of Unicode spaces
        bytes += [0x62, 0xE9, 0x0A] + Array("%\nlast one".utf8)  // Latin-1 "é": invalid UTF-8
        let collection = FortuneReader.parse(bytes, collection: "c")
        #expect(collection.entries.map(\.text) == ["good one", "last one"])
        #expect(collection.entries.map(\.line) == [1, 9])
        #expect(collection.skippedEntryCount == 2)
    }

    @Test func collectionsAreFilesWithADatIndexSortedByName() throws {
        let folder = try ScratchFolder()
        try folder.write("zippy", "Yow!\n%\n")
        try folder.write("zippy.dat", "")
        try folder.write("art", "Art is long.\n%\n")
        try folder.write("art.dat", "")
        try folder.write("ascii-art", "  /\\_/\\\n%\n")
        try folder.write("ascii-art.dat", "")
        try folder.write("README", "not a collection: no .dat\n")
        try folder.write("off/rude", "left out\n%\n")
        try folder.write("off/rude.dat", "")
        try FileManager.default.createSymbolicLink(atPath: folder.url.appendingPathComponent("art.u8").path, withDestinationPath: "art")
        let collections = try FortuneReader.readCollections(in: folder.url)
        #expect(collections.map(\.name) == ["art", "zippy"])
        #expect(collections[1].entries.map(\.text) == ["Yow!"])
        #expect(try FortuneReader.readCollections(in: folder.url, excluding: []).map(\.name) == ["art", "ascii-art", "zippy"])
    }

    @Test func missingOrEmptyFolderIsAnError() throws {
        let folder = try ScratchFolder()
        let empty = #expect(throws: SourceTextError.self) { try FortuneReader.readCollections(in: folder.url) }
        #expect(empty?.description.contains("no fortune collections") == true)
        let missing = folder.url.appendingPathComponent("nowhere")
        let error = #expect(throws: SourceTextError.self) { try FortuneReader.readCollections(in: missing) }
        #expect(error?.path == missing.path)
    }
}

@Suite("Pretraining corpus")
struct PretrainingCorpusTests {
    func sources() throws -> (WordNetDatabase, [FortuneCollection]) {
        let folder = try ScratchFolder()
        try WordNetSnippets.write(into: folder)
        let fortunes = [
            FortuneReader.parse(Array("Zebras are striped.\n%\n  +--+\n  |  |\n  +--+\n%\nthe dog barked all night\n".utf8), collection: "zoo"),
            FortuneReader.parse(Array("Art is long,\n   life is short.\n\t-- Hippocrates\n".utf8), collection: "art"),
        ]
        return (try WordNetDatabase.load(from: folder.url), fortunes)
    }

    @Test func linesInFixedOrderDeduplicatedWithoutNonProse() throws {
        let (wordnet, fortunes) = try sources()
        let corpus = PretrainingCorpus(wordnet: wordnet, fortunes: fortunes)
        #expect(corpus.lines == [
            "entity: that which is perceived or known or inferred to have its own distinct existence (living or nonliving)",
            "dog: a member of the genus Canis (probably descended from the common wolf)",
            "the dog barked all night",
            "a dog's life",
            "flag: a conspicuously marked or shaped tail",
            "run: move fast by using one's feet",
            "Don't run--you'll be out of breath",
            "The children ran to the store",
            "travel: change location",
            "hot: used of physical heat",
            "a hot stove",
            "cold: having a low temperature",
            "baking: as hot as if in an oven",
            "hotly: in a hot manner",
            // Collections by name: art before zoo, whatever the order given; the box picture and
            // the repeated example sentence are left out.
            "Art is long, life is short. -- Hippocrates",
            "Zebras are striped.",
        ])
    }

    @Test func exclusionsStatisticsAndAtomicWrite() throws {
        let (wordnet, fortunes) = try sources()
        let excluded: Set = ["dog: a member of the genus Canis (probably descended from the common wolf)", "a hot stove"]
        let corpus = PretrainingCorpus(wordnet: nil, fortunes: fortunes.reversed(), excluding: excluded)
        #expect(corpus.lines == ["Art is long, life is short. -- Hippocrates", "Zebras are striped.", "the dog barked all night"])
        let withWordNet = PretrainingCorpus(wordnet: wordnet, fortunes: fortunes, excluding: excluded)
        #expect(!withWordNet.lines.contains(where: excluded.contains))
        #expect(withWordNet.lines.count == PretrainingCorpus(wordnet: wordnet, fortunes: fortunes).lines.count - 2)

        let folder = try ScratchFolder()
        let path = folder.url.appendingPathComponent("corpus.txt").path
        try corpus.write(to: path)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == corpus.lines.map { $0 + "\n" }.joined())
        #expect(corpus.statistics == PretrainingCorpus.Statistics(
            lines: 3, words: written.split(whereSeparator: \.isWhitespace).count, bytes: written.utf8.count))
    }
}
