import ArgumentParser
import Foundation
import IPTData

/// `ipt-cli make-corpus`: the plain-text pretraining corpus from WordNet and fortune cookies.
struct MakeCorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-corpus",
        abstract: "Write the pretraining corpus (WordNet definitions and examples, fortune cookies; one line each).",
        discussion: """
            Lines that would give away the answers of the built-in tasks' test examples are left out \
            (see `make-tasks`), unless --include-test-text is given. Same sources, same bytes.
            """)

    @Option(help: "The corpus file to write (atomically).")
    var output: String

    @Option(help: "The WordNet 3.0 database folder (Debian package wordnet-base).")
    var wordnet: String = WordNetDatabase.defaultDirectory.path

    @Option(help: "The fortune folder (Debian packages fortunes, fortunes-min, fortunes-bofh-excuses, fortunes-debian-hints).")
    var fortunes: String = FortuneReader.defaultDirectory.path

    @Flag(help: "Keep the text that reveals the built-in tasks' test answers (needed when the sources are too small to build the tasks).")
    var includeTestText = false

    func run() throws {
        let database = try WordNetDatabase.load(from: URL(fileURLWithPath: wordnet))
        let collections = try FortuneReader.readCollections(in: URL(fileURLWithPath: fortunes))
        let excluded = includeTestText
            ? [] : try BuiltInTasks.build(wordnet: database, fortunes: collections).revealingCorpusLines
        let corpus = PretrainingCorpus(wordnet: database, fortunes: collections, excluding: excluded)
        try corpus.write(to: output)
        let skipped = collections.reduce(0) { $0 + $1.skippedEntryCount }
        print("wrote \(output): \(corpus.statistics) (\(excluded.count) lines revealing test answers left out, "
              + "\(skipped) fortune entries skipped as not text)")
    }
}
