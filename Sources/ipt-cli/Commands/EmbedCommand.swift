import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels

/// `ipt-cli embed`: sentence embeddings of an encoder model, one JSON array per input line.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print the sentence embedding of each input as a JSON array, one line per input.",
        discussion: """
            The embedding is the mean of the encoder's last hidden states over the input's tokens \
            ([CLS] ... [SEP]), scaled to unit length: what sentence-transformers returns for \
            all-MiniLM-L6-v2. Inputs longer than --max-length tokens are truncated (keeping [SEP]). \
            With --file, every line of the file is one input (split at \\n only); otherwise every \
            TEXT argument is one. Needs a BERT-family model (model_type bert).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "A UTF-8 file whose lines are the inputs.")
    var file: String?

    @Option(name: .long, help: "Tokens per input, [CLS] and [SEP] included (all-MiniLM-L6-v2 was trained with 128).")
    var maxLength: Int = 128

    @Option(name: .long, help: "Inputs per forward pass.")
    var batchSize: Int = 32

    @Argument(help: "Texts to embed (instead of --file).")
    var texts: [String] = []

    func validate() throws {
        if file != nil && !texts.isEmpty { throw ValidationError("give either --file or TEXT arguments, not both") }
        if file == nil && texts.isEmpty { throw ValidationError("give --file or at least one TEXT argument") }
        if maxLength < 2 { throw ValidationError("--max-length must be at least 2") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let inputs = try file.map(InputLines.read) ?? texts
        let (model, tokenizer, _) = try modelOptions.load()
        guard let encoder = model as? BertEncoder else {
            throw CLIError("\(modelOptions.model): embed needs an encoder model (model_type bert), not \(type(of: model))")
        }
        guard let pad = tokenizer.padTokenID else { throw CLIError("\(modelOptions.model): the tokenizer has no pad token") }
        let length = min(maxLength, encoder.maximumInputLength)
        try withoutGradients {
            for start in stride(from: 0, to: inputs.count, by: batchSize) {
                let chunk = inputs[start..<min(inputs.count, start + batchSize)]
                let batch = TokenBatch(try chunk.map { try tokenizer.encode($0, addSpecialTokens: true, maxLength: length) },
                                       paddingID: pad)
                let embeddings = try encoder.embed(batch)
                let width = embeddings.shape[1]
                let values = embeddings.scalars
                var output = ""
                for row in 0..<chunk.count {
                    output += "[" + values[(row * width)..<((row + 1) * width)].map { "\($0)" }.joined(separator: ",") + "]\n"
                }
                FileHandle.standardOutput.write(Data(output.utf8))
            }
        }
    }
}
