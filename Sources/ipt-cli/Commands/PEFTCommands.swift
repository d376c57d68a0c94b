import ArgumentParser
import Foundation
import IPTCore
import IPTTraining

/// `ipt-cli export-peft`: a tuned prompt as a Hugging Face PEFT prompt-tuning adapter.
struct ExportPEFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-peft",
        abstract: "Write a tuned prompt as a PEFT prompt-tuning adapter (adapter_config.json + adapter_model.safetensors).",
        discussion: """
        The adapter has peft_type PROMPT_TUNING, task_type SEQ_2_SEQ_LM and num_transformer_submodules 1: PEFT then \
        prepends the prompt to the encoder input only, as IPT does (PEFT's default for seq2seq, 2, would add decoder \
        rows IPT does not train). Load it in Python with PeftModel.from_pretrained(base_model, OUTPUT).
        """)

    @Option(name: .long, help: "An IPT prompt (prompt.safetensors of prompt-tune or stage-two, or their output folder).") var prompt: String
    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "The adapter folder to write.") var output: String
    @Option(name: .long, help: "base_model_name_or_path to record (default: the --model folder's absolute path).")
    var baseModelName: String?
    @Flag(name: .long, help: "Replace an adapter already in --output.") var overwrite = false

    func run() throws {
        let (model, _, identity) = try modelOptions.load()
        let baseModel = baseModelName ?? URL(fileURLWithPath: modelOptions.model).standardizedFileURL.path
        let exported = try PEFTPrompt.export(artifact: prompt, model: identity, to: output, baseModel: baseModel,
                                             layers: model.configuration.encoderLayers,
                                             attentionHeads: model.configuration.encoderHeads, overwrite: overwrite)
        print("export-peft num_virtual_tokens=\(exported.shape[0]) token_dim=\(exported.shape[1]) output=\(output)")
    }
}

/// `ipt-cli import-peft`: a PEFT prompt-tuning adapter as an IPT prompt.
struct ImportPEFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-peft",
        abstract: "Read a PEFT prompt-tuning adapter folder into an IPT prompt file.",
        discussion: """
        Takes the encoder prompt: all rows of prompt_embeddings for num_transformer_submodules 1, the first \
        num_virtual_tokens rows for 2 (PEFT's seq2seq default; the decoder rows are left out, with a note). With \
        --model the width is checked and the model's identity recorded. The result works wherever a tuned prompt does \
        (evaluate --prompt, prompt-tune --initialization file, as <task>/prompt.safetensors for find-subspace --prompts).
        """)

    @Option(name: .long, help: "A PEFT adapter folder (adapter_config.json + adapter_model.safetensors).") var peft: String
    @Option(name: .long, help: "The IPT prompt file to write.") var output: String
    @Option(name: .long, help: "A model folder to check the prompt against.") var model: String?
    @Flag(name: .long, help: "Replace an existing --output file.") var overwrite = false

    func run() throws {
        if !overwrite && FileManager.default.fileExists(atPath: output) {
            throw CLIError("\(output): exists; pass --overwrite to replace it")
        }
        let loaded = try model.map { try ModelOptions.load($0) }
        let imported = try PEFTPrompt.importAdapter(folder: peft, to: output, model: loaded?.identity,
                                                    maximumInputLength: loaded?.model.maximumInputLength)
        if imported.droppedRows > 0 {
            FileHandle.standardError.write(Data("ipt-cli: note: \(peft): num_transformer_submodules is 2; kept the \(imported.configuration.virtualTokens) encoder rows, left out the \(imported.droppedRows) decoder rows (IPT prompts only the encoder)\n".utf8))
        }
        print("import-peft num_virtual_tokens=\(imported.configuration.virtualTokens) token_dim=\(imported.configuration.tokenDimension) output=\(output)")
    }
}
