import ArgumentParser
import Foundation
import IPTData

/// `ipt-cli tokenize`: the token ids of each input, one JSON array per line.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of each input as a JSON array, one line per input.",
        discussion: """
            Special tokens (<s> ... </s>) are added when the tokenizer has them (BART, RoBERTa), \
            not for GPT-2. With --file, every line of the file is one input (split at \\n only); \
            otherwise every TEXT argument is one.
            """)

    @Option(name: .long, help: "Tokenizer folder: tokenizer.json, or vocab.json + merges.txt.")
    var tokenizer: String

    @Option(name: .long, help: "A UTF-8 file whose lines are the inputs.")
    var file: String?

    @Flag(name: .long, help: "Do not add special tokens such as <s> and </s>.")
    var noSpecialTokens = false

    @Argument(help: "Texts to tokenize (instead of --file).")
    var texts: [String] = []

    func validate() throws {
        if file != nil && !texts.isEmpty { throw ValidationError("give either --file or TEXT arguments, not both") }
        if file == nil && texts.isEmpty { throw ValidationError("give --file or at least one TEXT argument") }
    }

    func run() throws {
        let tokenizer = try ByteLevelBPETokenizer.load(folder: URL(fileURLWithPath: self.tokenizer))
        let inputs = try file.map(InputLines.read) ?? texts
        var output = ""
        for input in inputs {
            let ids = tokenizer.encode(input, addSpecialTokens: !noSpecialTokens)
            output += "[" + ids.map { String($0) }.joined(separator: ",") + "]\n"
            if output.utf8.count > 1 << 16 { FileHandle.standardOutput.write(Data(output.utf8)); output = "" }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
