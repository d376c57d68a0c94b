import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `ipt-cli evaluate`: teacher-forced NLL and generated predictions of a model (with an optional
/// soft prompt) on a CrossFit TSV file.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a model (and optional prompt) on a TSV file: mean target NLL, generated predictions, a metric.",
        discussion: """
        Prints {"n", "nll", "metric", "score"}: nll is the mean over examples of the mean target-token negative \
        log-likelihood under teacher forcing (labels = <s> target </s>, decoder input = labels shifted right with \
        decoder_start_token_id), exactly transformers' loss. Inputs are taken as written unless --task-prefix is given \
        (then " [NAME] input", the paper's format). The target is each line's first answer. With --options the \
        prediction is the best-scoring option instead of a generated text; an encoder-only model (BERT) needs \
        --options, and its nll is -log p(target) under the softmax over the options of cosine / temperature.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "A CrossFit TSV file (input<TAB>answer[<TAB>answer...]).") var file: String
    @Option(name: .long, help: "A prompt file (IPT prompt.safetensors or PEFT adapter_model.safetensors).") var prompt: String?
    @Option(name: .long, help: "Format inputs as \" [NAME] input\".") var taskPrefix: String?
    @Option(name: .long, help: "Metric (EM, ACC, QA-F1, Classification-F1, Matthew-Correlation, Pearson-Correlation, Rouge-L); default: the task's in CrossFit's table when --task-prefix names one.")
    var metric: String?
    @Option(name: .long, help: "Beams (default: the model's generation config).") var numBeams: Int?
    @Option(name: .long, help: "Maximum generated length (default: the model's generation config).") var maxLength: Int?
    @Option(name: .long, help: "Examples per forward (default 16).") var batchSize: Int = 16
    @Option(name: .long, help: "Write one JSON line per example (input, target, prediction, nll) here.") var output: String?
    @Option(name: .long, help: "The label set, comma-separated: predict the best-scoring option instead of generating (required for BERT).")
    var options: String?

    func run() throws {
        try FlagValue.inRange(1...1024, numBeams, "--num-beams")
        try FlagValue.atLeast(2, maxLength, "--max-length")
        try FlagValue.batchSize(batchSize, "--batch-size")
        let selectedMetric: Metric?
        if let metric {
            selectedMetric = try Metric(named: metric, source: "--metric")
        } else if let taskPrefix {
            selectedMetric = Metric.crossFitTable[taskPrefix]
        } else {
            selectedMetric = nil
        }
        let examples = try CrossFitTSV.read(URL(fileURLWithPath: file), task: taskPrefix ?? "")
        if let output {
            let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
            guard FileManager.default.isWritableFile(atPath: folder) else {
                throw CLIError("\(output): cannot write in \(folder)")
            }
        }
        let (model, tokenizer, _) = try modelOptions.load()
        let promptTensor = try prompt.map { try PromptTuning.readPrompt($0, length: nil, hiddenSize: model.hiddenSize) }
        let n = promptTensor?.shape[0] ?? 0
        try model.checkInputLength(promptLength: n, textLength: 2)
        guard let pad = tokenizer.padTokenID else { throw CLIError("\(modelOptions.model): the tokenizer has no pad token") }
        let textBudget = model.maximumInputLength - n
        let labels = options.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let labels, labels.isEmpty { throw CLIError("--options: no labels") }
        if labels == nil && !model.supportsGeneration {
            throw CLIError("\(modelOptions.model): an encoder-only model predicts by option scoring: give the label set with --options")
        }
        let encodedOptions = try labels?.map { try tokenizer.encode($0, addSpecialTokens: true, maxLength: model.maximumInputLength) }
        var generation = model.generationConfiguration
        if let numBeams { generation.numBeams = numBeams }
        if let maxLength { generation.maxLength = maxLength; generation.maxNewTokens = nil }
        let promptInput = promptTensor.map { PromptInput.shared($0) }

        var predictions: [String] = []
        var nlls: [Float] = []
        var start = 0
        try withoutGradients {
            while start < examples.count {
                let end = min(examples.count, start + batchSize)
                let chunk = Array(examples[start..<end])
                let inputs = TokenBatch(try chunk.map {
                    try tokenizer.encode(taskPrefix == nil ? $0.input : $0.formattedInput, addSpecialTokens: true, maxLength: textBudget)
                }, paddingID: pad)
                let targets = TokenBatch(try chunk.map {
                    try tokenizer.encode($0.answers.first ?? "", addSpecialTokens: true, maxLength: model.maximumInputLength)
                }, paddingID: pad)
                let optionLists = encodedOptions.map { Array(repeating: $0, count: chunk.count) }
                nlls += try model.targetNLL(batch: TaskBatch(inputs: inputs, targets: targets, options: optionLists),
                                            prompt: promptInput, adapters: nil)
                if let labels, let optionLists {
                    for row in try model.scoreOptions(inputs, options: optionLists, prompt: promptInput, adapters: nil) {
                        predictions.append(labels[row.indices.max { row[$0] < row[$1] } ?? 0])
                    }
                } else {
                    let generated = try model.generate(inputs, prompt: promptInput, adapters: nil, configuration: generation)
                    predictions += generated.map {
                        tokenizer.decode($0, skipSpecialTokens: true, cleanUpTokenizationSpaces: true)
                            .trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                }
                start = end
            }
        }
        let score = selectedMetric.map { $0.score(predictions: predictions, references: examples.map(\.answers)) }
        if let output {
            var lines = ""
            for (i, e) in examples.enumerated() {
                let line: [String: Any] = ["input": taskPrefix == nil ? e.input : e.formattedInput,
                                           "target": e.answers.first ?? "", "prediction": predictions[i], "nll": Double(nlls[i])]
                lines += String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self) + "\n"
            }
            try AtomicFile.write(lines, to: output)
        }
        let meanNLL = nlls.isEmpty ? Double.nan : nlls.reduce(0.0) { $0 + Double($1) } / Double(nlls.count)
        var summary: [String: Any] = ["n": examples.count, "nll": meanNLL.isFinite ? meanNLL : NSNull(),
                                      "metric": selectedMetric?.rawValue ?? NSNull()]
        summary["score"] = score.map { $0.isFinite ? $0 as Any : NSNull() } ?? NSNull()
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }
}
