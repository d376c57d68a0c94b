import ArgumentParser
import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTraining

/// `ipt-cli pretrain`: BART's denoising pretraining of a small model on a text corpus.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain a small BART from random weights with BART's denoising objective (text infilling).",
        discussion: """
            The corpus is one text per line (`ipt-cli make-corpus`); the tokenizer folder is a byte-level BPE \
            vocabulary with BART's special tokens and <mask> (`ipt-cli train-tokenizer`). --output is the run folder \
            (config.json, events.jsonl, checkpoint.safetensors, results.json); the trained model is written as a \
            Hugging Face folder to --model-output (default: <output>/model) with the tokenizer files, loadable by \
            every command that takes --model. Defaults (those of the embedded model, Resources/model): 4 + 4 layers of \
            width 256, 4 heads, FFN 1024, 256 positions, sequences of 64 tokens, 32 per step, 560 steps, learning rate \
            1e-3 with 35 warm-up steps and linear decay, clipping 1.0, weight decay 0.01 (matrices only), dropout 0.1, \
            30% of tokens masked in Poisson(3) spans, validation every 80 steps, seed 1. See Docs/embedded-model.md.
            """)

    @Option(help: "The corpus file (UTF-8, one text per line).") var corpus: String
    @Option(help: "Tokenizer folder (vocab.json + merges.txt, or tokenizer.json), with <s>, <pad>, </s> at 0, 1, 2 and <mask>.")
    var tokenizer: String
    @OptionGroup var runOptions: RunOptions
    @Option(help: "Where to write the trained model (default: <output>/model).") var modelOutput: String?

    @Option(help: "Encoder and decoder layers (each; default 4).") var layers: Int?
    @Option(help: "Hidden width d_model (default 256).") var width: Int?
    @Option(help: "Attention heads (default 4).") var heads: Int?
    @Option(help: "Feed-forward width (default 1024).") var ffn: Int?
    @Option(help: "Learned positions (default 256).") var maxPositions: Int?
    @Option(help: "Dropout (default 0.1).") var dropout: Float?

    @Option(help: "Optimisation steps (default 560).") var steps: Int?
    @Option(help: "Linear warm-up steps (default 35; with --steps: 6% of them).") var warmupSteps: Int?
    @Option(help: "Sequences per step (default 32).") var batchSize: Int?
    @Option(help: "Longest sequence in tokens, <s> and </s> included (default 64).") var sequenceLength: Int?
    @Option(help: "Peak learning rate (default 1e-3).") var learningRate: Float?
    @Option(help: "Decoupled weight decay of the matrices (default 0.01).") var weightDecay: Float?
    @Option(help: "Global gradient-norm bound (default 1.0).") var maxGradNorm: Float?
    @Option(help: "Label smoothing of the training loss (default 0).") var labelSmoothing: Float?
    @Option(help: "Share of tokens masked (default 0.3).") var maskRatio: Double?
    @Option(help: "Mean span length (default 3).") var poissonLambda: Double?
    @Flag(help: "Also shuffle the lines of each sequence (sentence permutation).") var permuteSentences = false
    @Option(help: "Steps between validations (default 80).") var evalPeriod: Int?
    @Option(help: "Steps between checkpoints (default: at every validation).") var checkpointPeriod: Int?
    @Option(help: "Sequences held out for the validation loss (default 256).") var validationSequences: Int?
    @Option(help: "Seed of the weights, line order, batches, noise and dropout (default 1).") var seed: UInt64?
    @Option(help: "Element type of the written weights: f16 (default, half the size) or f32.") var weights: String = "f16"
    @Option(help: "Start from the weights a run was training (its checkpoint.safetensors) instead of random ones: continued pretraining with a fresh schedule.")
    var initialWeights: String?
    @Option(name: .long, help: "Steps that train on random token strings before the corpus, so that cross-attention learns to copy first (default 0; the embedded model used 200).")
    var copyWarmupSteps: Int?

    func resolvedConfiguration(vocabularySize: Int) throws -> PretrainingConfiguration {
        let defaults = PretrainingConfiguration(model: try PretrainingConfiguration.smallBart(vocabularySize: vocabularySize))
        var c = try runOptions.resolve(defaults)
        do {
            var m = c.model
            if let layers { m.encoderLayers = layers; m.decoderLayers = layers }
            if let width { m.hiddenSize = width }
            if let heads { m.encoderHeads = heads; m.decoderHeads = heads }
            if let ffn { m.encoderFeedForwardSize = ffn; m.decoderFeedForwardSize = ffn }
            if let maxPositions { m.maximumPositions = maxPositions }
            if let dropout { m.dropout = dropout }
            // Re-validated through the initialiser (width divisible by heads, probabilities, ids).
            c.model = try BartConfiguration(
                vocabularySize: m.vocabularySize, maximumPositions: m.maximumPositions, hiddenSize: m.hiddenSize,
                encoderLayers: m.encoderLayers, encoderHeads: m.encoderHeads, encoderFeedForwardSize: m.encoderFeedForwardSize,
                decoderLayers: m.decoderLayers, decoderHeads: m.decoderHeads, decoderFeedForwardSize: m.decoderFeedForwardSize,
                activation: m.activation, dropout: m.dropout, attentionDropout: m.attentionDropout,
                activationDropout: m.activationDropout, initializationStandardDeviation: m.initializationStandardDeviation,
                padTokenID: m.padTokenID, bosTokenID: m.bosTokenID, eosTokenIDs: m.eosTokenIDs,
                decoderStartTokenID: m.decoderStartTokenID)
        } catch let error as ConfigurationError {
            throw CLIError("model architecture: \(error)")
        }
        var o = c.optimization
        if let steps {
            o.totalSteps = steps
            if warmupSteps == nil { o.warmupSteps = steps / 100 * 6 + steps % 100 * 6 / 100 }  // 6%, without overflowing
        }
        if let warmupSteps { o.warmupSteps = warmupSteps }
        if let batchSize { o.batchSize = batchSize }
        if let learningRate { o.learningRate = learningRate }
        if let weightDecay { o.weightDecay = weightDecay }
        if let maxGradNorm { o.maximumGradientNorm = maxGradNorm }
        if let evalPeriod { o.evaluationPeriod = evalPeriod }
        if let checkpointPeriod { o.checkpointPeriod = checkpointPeriod }
        if let seed { o.seed = seed }
        c.optimization = o
        if let sequenceLength { c.sequenceLength = sequenceLength }
        if let labelSmoothing { c.labelSmoothing = labelSmoothing }
        if let maskRatio { c.noise.maskRatio = maskRatio }
        if let poissonLambda { c.noise.poissonLambda = poissonLambda }
        if permuteSentences { c.noise.permuteSentences = true }
        if let validationSequences { c.validationSequences = validationSequences }
        if let initialWeights { c.initialWeights = initialWeights }
        if let copyWarmupSteps { c.copyWarmupSteps = copyWarmupSteps }
        try runOptions.validate(c.validate)
        return c
    }

    func run() throws {
        guard let storage = SafeTensors.StorageType(rawValue: weights.uppercased()) else {
            throw ValidationError("--weights must be f16 or f32, got \(weights)")
        }
        let tokenizerURL = URL(fileURLWithPath: tokenizer)
        let tokens = try ByteLevelBPETokenizer.load(folder: tokenizerURL)
        let configuration = try resolvedConfiguration(vocabularySize: tokens.vocabularySize)
        let packed = try DenoisingCorpus.load(path: corpus, tokenizer: tokens, sequenceLength: configuration.sequenceLength,
                                              validationSequences: configuration.validationSequences,
                                              seed: configuration.optimization.seed)
        let pretraining = try Pretraining(configuration: configuration, corpus: packed, tokenizer: tokens)
        let modelFolder = modelOutput ?? runOptions.output + "/model"
        let folder = try RunDirectory(path: runOptions.output, mode: runOptions.mode)
        let export = Pretraining.ModelExport(folder: URL(fileURLWithPath: modelFolder), tokenizerFolder: tokenizerURL, storage: storage,
                                             replacing: runOptions.mode == .overwrite)
        do {
            if folder.status != .finished { try export.checkTarget(resuming: folder.status == .unfinished, runFolder: folder.url) }
        } catch {
            folder.discardIfUnstarted()
            throw error
        }
        let reporter = ProgressReporter(run: folder, label: "pretrain")
        FileHandle.standardError.write(Data(("pretrain: \(pretraining.model.parameterCount) parameters, "
            + "\(packed.training.count) training sequences (\(packed.trainingTokenCount) tokens), "
            + "\(packed.validation.count) held out\n").utf8))
        let result: PretrainingResult
        do {
            result = try pretraining.run(in: folder, export: export, progress: reporter.handler)
        } catch {
            reporter.finish()
            folder.discardIfUnstarted()
            throw error
        }
        reporter.finish()
        var line = "pretraining steps=\(result.lastStep) best_step=\(result.bestStep) "
            + "validation_loss=\(Summary.format(result.validationLoss)) train_loss=\(Summary.format(result.recentTrainingLoss))"
        if result.interrupted {
            line += " interrupted at step \(result.lastStep) (resume with --resume)"
        } else {
            line += " model=\(modelFolder)"
        }
        print(line + " output=\(runOptions.output)")
        if result.interrupted { throw ExitCode(Interruption.exitCode) }
    }
}
