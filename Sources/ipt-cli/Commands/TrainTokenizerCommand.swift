import ArgumentParser
import Foundation
import IPTData

/// `ipt-cli train-tokenizer`: learns a byte-level BPE vocabulary and writes it in Hugging Face's format.
struct TrainTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-tokenizer",
        abstract: "Learn a byte-level BPE vocabulary (BART's special tokens) from text files.",
        discussion: """
            Writes vocab.json, merges.txt and tokenizer_config.json into --output, which \
            `ipt-cli tokenize`, transformers' BartTokenizer and the tokenizers library all load. \
            Every line of every corpus file is text to learn from. Prints a JSON summary.
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "UTF-8 text files to learn from.")
    var corpus: [String]

    @Option(name: .customLong("vocab-size"), help: "Ids in the vocabulary, special tokens included (at least 261).")
    var vocabularySize: Int

    @Option(name: .customLong("min-frequency"), help: "Merge only pairs that occur at least this often.")
    var minimumFrequency = 2

    @Option(name: .long, help: "The folder to write.")
    var output: String

    @Flag(name: .long, help: "Replace an output folder that already has files.")
    var overwrite = false

    func validate() throws {
        if corpus.isEmpty { throw ValidationError("give at least one --corpus file") }
    }

    func run() throws {
        // 261: 5 special tokens and 256 bytes.
        try FlagValue.atLeast(261, vocabularySize, "--vocab-size")
        try FlagValue.atLeast(1, minimumFrequency, "--min-frequency")
        let outputURL = URL(fileURLWithPath: output)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: outputURL.path)) ?? []
        if !existing.isEmpty && !overwrite {
            throw InputFileError(description: "\(output): the folder is not empty (pass --overwrite to replace it)")
        }
        let start = Date()
        let lines = try corpus.flatMap(InputLines.read)
        let trained = try BPETrainer(vocabularySize: vocabularySize, minimumFrequency: minimumFrequency).train(lines: lines)
        try trained.write(to: outputURL, overwrite: overwrite)
        struct Summary: Encodable {
            let output: String
            let vocabularySize: Int
            let merges: Int
            let lines: Int
            let seconds: Double
        }
        let summary = Summary(output: output, vocabularySize: trained.tokens.count, merges: trained.merges.count,
                              lines: lines.count, seconds: (Date().timeIntervalSince(start) * 1000).rounded() / 1000)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }
}
