import Foundation
import IPTCore
import IPTData
import IPTModels

/// Settings of denoising pretraining (BART's objective on a plain-text corpus).
public struct PretrainingConfiguration: Codable, Sendable, Equatable {
    /// The architecture of the model to train (vocabulary size and special ids must fit the tokenizer).
    public var model: BartConfiguration
    /// Longest packed sequence, `<s>`/`</s>` included; default 64 (at most the model's positions).
    public var sequenceLength: Int
    /// Sequences held out for the validation loss; default 256.
    public var validationSequences: Int
    /// Text infilling and sentence permutation.
    public var noise: DenoisingNoise
    /// Label smoothing of the training loss; default 0, so that the training loss and the
    /// validation loss are the same quantity (token-mean negative log-likelihood). BART's own
    /// pretraining used plain cross entropy too.
    public var labelSmoothing: Float
    /// Learning rate, batch size (sequences), steps, warm-up, validation period, clipping (1.0),
    /// weight decay (0.01, on matrices only) and the seed of everything random (initial weights,
    /// line order, batches, noise, dropout).
    public var optimization: OptimizationSettings
    /// Sequences per validation forward; default 32.
    public var evaluationBatchSize: Int
    /// A pretraining checkpoint (`checkpoint.safetensors` of a run folder) whose trained values
    /// start the run instead of random weights: continued pretraining with a fresh schedule and
    /// optimiser state; default none.
    public var initialWeights: String?
    /// The first steps train on strings of uniformly random tokens (half the sequence length,
    /// noised the same way) instead of the corpus; default 0. A small BART trained on natural text
    /// from the start settles into an unconditional language model in its decoder, and its encoder
    /// output stops depending on the input (measured with this code and with transformers alike:
    /// the loss with another sequence's input equals the loss with its own); random strings have
    /// nothing to predict but the input, so cross-attention learns to copy first. See
    /// Docs/embedded-model.md.
    public var copyWarmupSteps: Int

    /// - Parameters: see the properties.
    public init(model: BartConfiguration, sequenceLength: Int = 64, validationSequences: Int = 256,
                noise: DenoisingNoise = DenoisingNoise(), labelSmoothing: Float = 0,
                optimization: OptimizationSettings = PretrainingConfiguration.defaultOptimization,
                evaluationBatchSize: Int = 32, initialWeights: String? = nil, copyWarmupSteps: Int = 0) {
        self.model = model
        self.sequenceLength = sequenceLength
        self.validationSequences = validationSequences
        self.noise = noise
        self.labelSmoothing = labelSmoothing
        self.optimization = optimization
        self.evaluationBatchSize = evaluationBatchSize
        self.initialWeights = initialWeights
        self.copyWarmupSteps = copyWarmupSteps
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decode(BartConfiguration.self, forKey: .model),
                  sequenceLength: try c.decode(Int.self, forKey: .sequenceLength),
                  validationSequences: try c.decode(Int.self, forKey: .validationSequences),
                  noise: try c.decode(DenoisingNoise.self, forKey: .noise),
                  labelSmoothing: try c.decode(Float.self, forKey: .labelSmoothing),
                  optimization: try c.decode(OptimizationSettings.self, forKey: .optimization),
                  evaluationBatchSize: try c.decode(Int.self, forKey: .evaluationBatchSize),
                  initialWeights: try c.decodeIfPresent(String.self, forKey: .initialWeights),
                  copyWarmupSteps: try c.decodeIfPresent(Int.self, forKey: .copyWarmupSteps) ?? 0)
    }

    /// The embedded model's run (Docs/embedded-model.md): peak learning rate 1e-3, 32 sequences per
    /// step, 560 steps with 35 of warm-up, validation every 80 steps, clipping 1.0, weight decay
    /// 0.01, seed 1.
    public static let defaultOptimization = OptimizationSettings(
        learningRate: 1e-3, batchSize: 32, totalSteps: 560, warmupSteps: 35, evaluationPeriod: 80,
        maximumGradientNorm: 1.0, weightDecay: 0.01, seed: 1)

    /// The embedded model's architecture: BART with 4 + 4 layers of width 256, 4 heads, feed-forward
    /// 1024, 256 positions, dropout 0.1, for a vocabulary of `vocabularySize` with BART's special
    /// ids (`<s>` 0, `<pad>` 1, `</s>` 2).
    public static func smallBart(vocabularySize: Int, layers: Int = 4, width: Int = 256, heads: Int = 4,
                                 feedForwardSize: Int = 1024, maximumPositions: Int = 256) throws -> BartConfiguration {
        try BartConfiguration(vocabularySize: vocabularySize, maximumPositions: maximumPositions, hiddenSize: width,
                              encoderLayers: layers, encoderHeads: heads, encoderFeedForwardSize: feedForwardSize,
                              decoderLayers: layers, decoderHeads: heads, decoderFeedForwardSize: feedForwardSize,
                              dropout: 0.1)
    }

    /// Throws ``TrainingError/invalidConfiguration(_:)`` naming the first bad key.
    public func validate() throws {
        guard sequenceLength >= 3, sequenceLength <= model.maximumPositions else {
            throw TrainingError.invalidConfiguration("sequence_length must be in 3...\(model.maximumPositions) (the model's positions), got \(sequenceLength)")
        }
        guard validationSequences >= 1 else {
            throw TrainingError.invalidConfiguration("validation_sequences must be at least 1, got \(validationSequences)")
        }
        guard labelSmoothing >= 0 && labelSmoothing < 1 else {
            throw TrainingError.invalidConfiguration("label_smoothing must be in [0, 1), got \(labelSmoothing)")
        }
        guard evaluationBatchSize >= 1 else {
            throw TrainingError.invalidConfiguration("evaluation_batch_size must be at least 1, got \(evaluationBatchSize)")
        }
        guard copyWarmupSteps >= 0 else {
            throw TrainingError.invalidConfiguration("copy_warmup_steps must not be negative, got \(copyWarmupSteps)")
        }
        guard evaluationBatchSize <= OptimizationSettings.maximumBatchSize else {
            throw TrainingError.invalidConfiguration("evaluation_batch_size must be at most \(OptimizationSettings.maximumBatchSize), got \(evaluationBatchSize)")
        }
        // The model is built from these sizes before anything else: one that cannot fit in memory
        // (weights, gradients and AdamW's two moments, 16 bytes a parameter) is refused here.
        guard let parameters = model.parameterCount, MemoryBudget.fits([parameters], bytesPerValue: 16) else {
            let count = model.parameterCount.map { "\($0) parameters" } ?? "more parameters than can be counted"
            throw TrainingError.invalidConfiguration(
                "model: \(count) need more than this machine's \(MemoryBudget.physicalGigabytes) GB (16 bytes a parameter for the weights, gradients and AdamW's moments)")
        }
        try noise.validate()
        try optimization.validate()
    }

    enum CodingKeys: String, CodingKey {
        case model, sequenceLength = "sequence_length", validationSequences = "validation_sequences", noise
        case labelSmoothing = "label_smoothing", optimization, evaluationBatchSize = "evaluation_batch_size"
        case initialWeights = "initial_weights", copyWarmupSteps = "copy_warmup_steps"
    }
}

/// What a pretraining run writes to `results.json`.
public struct PretrainingResult: Codable, Sendable, Equatable {
    /// One validation of the loss curve.
    public struct Validation: Codable, Sendable, Equatable {
        public var step: Int
        /// Mean negative log-likelihood per target token of the held-out sequences.
        public var loss: Double
    }

    /// Scalar parameters (tied embedding counted once).
    public var parameters: Int
    public var trainingSequences: Int
    public var trainingTokens: Int
    public var validationSequences: Int
    public var lastStep: Int
    /// The step whose weights are kept (lowest validation loss).
    public var bestStep: Int
    /// Its validation loss.
    public var validationLoss: Double
    /// Training loss of the last step.
    public var finalTrainingLoss: Double
    /// Mean training loss over the last validation period.
    public var recentTrainingLoss: Double
    public var validations: [Validation]
    public var interrupted: Bool
    /// Wall-clock seconds of this process's part of the run.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case parameters, trainingSequences = "training_sequences", trainingTokens = "training_tokens"
        case validationSequences = "validation_sequences", lastStep = "last_step", bestStep = "best_step"
        case validationLoss = "validation_loss", finalTrainingLoss = "final_training_loss"
        case recentTrainingLoss = "recent_training_loss", validations, interrupted, seconds
    }
}

/// BART's denoising pretraining of every weight of a model: text infilling (optionally sentence
/// permutation) on a packed corpus, AdamW with decoupled weight decay on matrices only (not on
/// LayerNorms and biases), linear warm-up and decay, gradient clipping, dropout, a validation loss
/// every period (the loop keeps the weights with the lowest), checkpoints that resume bit for bit.
///
/// Every batch, noise draw and dropout mask is a pure function of (seed, step), so a resumed run
/// takes exactly the steps an uninterrupted one would. Writes into its run folder `config.json`,
/// `checkpoint.safetensors`, `results.json` and, when asked, the final model as a Hugging Face
/// folder (see ``ModelExport``).
public final class Pretraining {
    /// Where and how the trained model is written at the end of a run.
    public struct ModelExport: Sendable {
        /// The Hugging Face folder to write (config.json, generation_config.json, model.safetensors).
        public var folder: URL
        /// A tokenizer folder whose files (vocab.json, merges.txt, tokenizer_config.json,
        /// tokenizer.json, special_tokens_map.json, when present) are copied beside the weights.
        public var tokenizerFolder: URL?
        /// Element type of model.safetensors; default F16 (half the size; see Docs/embedded-model.md).
        public var storage: SafeTensors.StorageType
        /// Replace a folder that already holds files. Default false: such a folder is refused
        /// before training starts (unless the run folder holds this run unfinished, whose export
        /// a kill may have interrupted), so that no model is replaced silently.
        public var replacing: Bool

        public init(folder: URL, tokenizerFolder: URL?, storage: SafeTensors.StorageType = .f16, replacing: Bool = false) {
            self.folder = folder
            self.tokenizerFolder = tokenizerFolder
            self.storage = storage
            self.replacing = replacing
        }

        /// Throws when the folder cannot be written as a whole: it is a file, it holds `runFolder`
        /// (replacing it would delete the run), or it holds files and may not be replaced
        /// (``replacing`` false and not `resuming` an unfinished run, whose own export a kill may
        /// have interrupted).
        ///
        /// - Throws: ``TrainingError/outputFolder(_:)`` naming the folder.
        public func checkTarget(resuming: Bool, runFolder: URL? = nil) throws {
            let path = folder.standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
            guard isDirectory.boolValue else {
                throw TrainingError.outputFolder("\(folder.path): exists and is not a folder")
            }
            if let run = runFolder?.standardizedFileURL.path, run == path || run.hasPrefix(path.hasSuffix("/") ? path : path + "/") {
                throw TrainingError.outputFolder("\(folder.path): holds the run folder \(run); the model folder is written as a whole, so give one outside it")
            }
            guard !replacing, !resuming,
                  let contents = try? FileManager.default.contentsOfDirectory(atPath: path), !contents.isEmpty else { return }
            throw TrainingError.outputFolder("\(folder.path): holds files; pass --overwrite to replace the model folder")
        }
    }

    public let configuration: PretrainingConfiguration
    /// The model being trained (its weights are the best by validation loss after ``run(in:export:progress:)``).
    public let model: BartForConditionalGeneration
    public let corpus: DenoisingCorpus
    let maskID: Int32
    /// What the copy warm-up draws from: every id of the tokenizer but its special tokens.
    let ordinaryTokenIDs: [Int32]
    /// Noised validation inputs, fixed for the whole run.
    let validationBatches: [TaskBatch]

    /// A randomly initialised model (seeded by `configuration.optimization.seed`), or one holding
    /// the configuration's ``PretrainingConfiguration/initialWeights``, to train on `corpus`.
    ///
    /// - Parameters:
    ///   - configuration: settings (validated here).
    ///   - corpus: the packed text (built with the same tokenizer and sequence length).
    ///   - tokenizer: the model's tokenizer; it must have `<mask>` and ids that fit the model.
    /// - Throws: ``TrainingError`` for invalid settings, a tokenizer that does not fit, or initial
    ///   weights that do not fit the architecture.
    public convenience init(configuration: PretrainingConfiguration, corpus: DenoisingCorpus,
                            tokenizer: any Tokenizer) throws {
        try configuration.validate()
        var generator = RandomGenerator(seed: configuration.optimization.seed).derived("initialization")
        let model = BartForConditionalGeneration(configuration: configuration.model, generator: &generator)
        if let path = configuration.initialWeights {
            try Pretraining.loadTrainedValues(of: model, fromCheckpoint: path)
        }
        try self.init(model: model, configuration: configuration, corpus: corpus, tokenizer: tokenizer)
    }

    /// Sets `model`'s weights to the values a pretraining run was training when it wrote its
    /// checkpoint (`value.<key>` tensors).
    ///
    /// - Throws: ``TrainingError/checkpointMismatch(_:)`` naming the file and the first tensor that
    ///   is missing or of another shape; ``SafeTensorsError`` for an unreadable file.
    static func loadTrainedValues(of model: BartForConditionalGeneration, fromCheckpoint path: String) throws {
        let file = try SafeTensors.read(path)
        for (key, parameter) in model.namedParameters() {
            guard let value = file.tensors["value.\(key)"] else {
                throw TrainingError.checkpointMismatch("\(path): no tensor value.\(key) (not a pretraining checkpoint of this architecture)")
            }
            guard value.shape == parameter.shape else {
                throw TrainingError.checkpointMismatch("\(path): value.\(key) has shape \(value.shape), the model needs \(parameter.shape)")
            }
            parameter.value = value
        }
    }

    /// Trains an existing model (continued pretraining).
    public init(model: BartForConditionalGeneration, configuration: PretrainingConfiguration, corpus: DenoisingCorpus,
                tokenizer: any Tokenizer) throws {
        try configuration.validate()
        let m = model.configuration
        guard let maskID = tokenizer.id(forToken: "<mask>") else {
            throw TrainingError.data("the tokenizer has no <mask> token")
        }
        guard tokenizer.vocabularySize <= m.vocabularySize else {
            throw TrainingError.data("the tokenizer has \(tokenizer.vocabularySize) tokens but the model's vocab_size is \(m.vocabularySize)")
        }
        guard tokenizer.bosTokenID == m.bosTokenID, tokenizer.eosTokenID.map({ m.eosTokenIDs.contains($0) }) == true,
              tokenizer.padTokenID == m.padTokenID else {
            throw TrainingError.data("the tokenizer's <s>/</s>/<pad> ids differ from the model's bos/eos/pad_token_id")
        }
        guard configuration.model == m else {
            throw TrainingError.invalidConfiguration("model: the configuration's architecture differs from the model's")
        }
        let longest = (corpus.training + corpus.validation).map(\.ids.count).max() ?? 0
        guard longest <= configuration.sequenceLength else {
            throw TrainingError.data("the corpus has sequences of \(longest) tokens, longer than sequence_length \(configuration.sequenceLength)")
        }
        guard corpus.training.count >= 1 else { throw TrainingError.data("the corpus has no training sequences") }
        self.configuration = configuration
        self.model = model
        self.corpus = corpus
        self.maskID = maskID
        let special = Set([tokenizer.bosTokenID, tokenizer.eosTokenID, tokenizer.padTokenID, tokenizer.unkTokenID, maskID]
            .compactMap { $0 })
        ordinaryTokenIDs = (0..<Int32(tokenizer.vocabularySize)).filter { !special.contains($0) }
        var validationNoise = RandomGenerator(seed: configuration.optimization.seed).derived("validation noise")
        let noised = corpus.validation.map { sequence in
            Pretraining.noised(sequence, noise: configuration.noise, maskID: maskID, maximumLength: m.maximumPositions,
                               generator: &validationNoise)
        }
        let size = configuration.evaluationBatchSize
        validationBatches = stride(from: 0, to: noised.count, by: size).map { start in
            let rows = start..<min(start + size, noised.count)
            return TaskBatch(inputs: TokenBatch(rows.map { noised[$0] }, paddingID: m.padTokenID),
                             targets: TokenBatch(rows.map { corpus.validation[$0].ids }, paddingID: m.padTokenID))
        }
    }

    /// The noised input of one sequence, cut to the model's positions (zero-length spans can make
    /// it longer than the original), keeping `</s>` last.
    static func noised(_ sequence: DenoisingCorpus.Sequence, noise: DenoisingNoise, maskID: Int32, maximumLength: Int,
                       generator: inout RandomGenerator) -> [Int32] {
        var ids = noise.apply(to: sequence.ids, segmentStarts: sequence.segmentStarts, maskID: maskID, generator: &generator)
        if ids.count > maximumLength {
            let last = ids[ids.count - 1]
            ids.removeLast(ids.count - maximumLength)
            ids[ids.count - 1] = last
        }
        return ids
    }

    /// The training batch of `step` (1-based): sequences in a seeded order per epoch, each noised
    /// with a generator derived from (seed, step, row).
    public func batch(step: Int) -> TaskBatch {
        let root = RandomGenerator(seed: configuration.optimization.seed)
        let rows = step <= configuration.copyWarmupSteps && !ordinaryTokenIDs.isEmpty
            ? copyWarmupRows(step: step, root: root) : corpusRows(step: step, root: root)
        let pad = model.configuration.padTokenID
        let inputs = rows.enumerated().map { j, sequence -> [Int32] in
            var generator = root.derived("noise").derived(step).derived(j)
            return Pretraining.noised(sequence, noise: configuration.noise, maskID: maskID,
                                      maximumLength: model.configuration.maximumPositions, generator: &generator)
        }
        return TaskBatch(inputs: TokenBatch(inputs, paddingID: pad), targets: TokenBatch(rows.map(\.ids), paddingID: pad))
    }

    /// The corpus sequences of `step`: a seeded order per epoch.
    func corpusRows(step: Int, root: RandomGenerator) -> [DenoisingCorpus.Sequence] {
        let batchSize = configuration.optimization.batchSize
        let n = corpus.training.count
        var rows: [DenoisingCorpus.Sequence] = []
        var epochOrder: (epoch: Int, order: [Int])? = nil
        for j in 0..<batchSize {
            let index = (step - 1) * batchSize + j
            let epoch = index / n
            if epochOrder?.epoch != epoch {
                var shuffler = root.derived("epoch").derived(epoch)
                epochOrder = (epoch, shuffler.permutation(n))
            }
            rows.append(corpus.training[epochOrder!.order[index % n]])
        }
        return rows
    }

    /// Random strings of ordinary tokens, as long as half a sequence (see copyWarmupSteps).
    func copyWarmupRows(step: Int, root: RandomGenerator) -> [DenoisingCorpus.Sequence] {
        let length = max(1, (configuration.sequenceLength - 2) / 2)
        let m = model.configuration
        return (0..<configuration.optimization.batchSize).map { j in
            var generator = root.derived("copy warm-up").derived(step).derived(j)
            let body = (0..<length).map { _ in ordinaryTokenIDs[Int(generator.next() % UInt64(ordinaryTokenIDs.count))] }
            return DenoisingCorpus.Sequence(ids: [m.bosTokenID] + body + [m.eosTokenIDs[0]], segmentStarts: [0])
        }
    }

    /// Mean negative log-likelihood per target token of the validation sequences (no dropout).
    public func validationLoss() throws -> Double {
        var total = 0.0, tokens = 0
        for batch in validationBatches {
            let perExample = try model.targetNLL(batch: batch)
            for (row, nll) in perExample.enumerated() {
                let count = batch.targets.mask[(row * batch.targets.length)..<((row + 1) * batch.targets.length)].filter { $0 }.count
                total += Double(nll) * Double(count)
                tokens += count
            }
        }
        return tokens == 0 ? .nan : total / Double(tokens)
    }

    /// The optimiser groups: matrices (rank >= 2: projections, embeddings) with weight decay,
    /// vectors (biases, LayerNorm gains and shifts) without.
    func optimizerGroups(_ parameters: [(key: String, parameter: Parameter)]) -> [AdamW.Group] {
        let settings = configuration.optimization
        let matrices = parameters.filter { $0.parameter.shape.count >= 2 }
        let vectors = parameters.filter { $0.parameter.shape.count < 2 }
        return [AdamW.Group(parameters: matrices, learningRate: settings.learningRate, weightDecay: settings.weightDecay),
                AdamW.Group(parameters: vectors, learningRate: settings.learningRate, weightDecay: 0)]
    }

    /// Identifies the run's configuration and data for checkpoints.
    var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var digest = ContentDigest()
        ((try? encoder.encode(configuration)) ?? Data()).withUnsafeBytes { digest.add($0) }
        for sequence in corpus.training.prefix(64) + corpus.validation.prefix(64) {
            sequence.ids.withUnsafeBytes { digest.add($0) }
        }
        withUnsafeBytes(of: corpus.training.count) { digest.add($0) }
        return String(digest.value, radix: 16)
    }

    /// Trains every weight, keeping the weights of the lowest validation loss.
    ///
    /// - Parameters:
    ///   - directory: the run folder (`nil`: in memory only). An unfinished run in it is resumed
    ///     from its checkpoint; a finished one returns its results without training.
    ///   - export: where to write the final model (only when the run was not interrupted).
    ///   - progress: receives the loop's events; "score" is the negative validation loss.
    /// - Returns: the run's result, also written to `results.json`.
    public func run(in directory: RunDirectory? = nil, export: ModelExport? = nil,
                    progress: ProgressHandler = { _ in .proceed }) throws -> PretrainingResult {
        // The model folder is checked before anything is written (a finished run exports nothing).
        if directory?.status != .finished {
            try export?.checkTarget(resuming: directory?.status == .unfinished, runFolder: directory?.url)
        }
        if let finished = try directory?.begin(configuration, result: PretrainingResult.self) { return finished }
        let started = Date()
        let settings = configuration.optimization
        model.unfreeze()
        let parameters = model.namedParameters()
        let hooks = TrainingLoop.Hooks(
            loss: { [self] step in
                let batch = batch(step: step)
                model.randomSource.generator = RandomGenerator(seed: settings.seed).derived("dropout").derived(step)
                model.train(true)
                let loss = try model.loss(batch: batch, epsilon: configuration.labelSmoothing, reduction: .mean)
                return loss
            },
            evaluate: { [self] in
                model.train(false)
                return -(try validationLoss())
            })
        let loop = TrainingLoop(parameters: parameters, settings: settings, groups: optimizerGroups(parameters))
        let outcome = try loop.run(hooks: hooks, checkpointPath: directory?.checkpointPath,
                                   resume: directory?.status == .unfinished, fingerprint: fingerprint, progress: progress)
        model.train(false)
        let result = PretrainingResult(
            parameters: model.parameterCount, trainingSequences: corpus.training.count,
            trainingTokens: corpus.trainingTokenCount, validationSequences: corpus.validation.count,
            lastStep: outcome.lastStep, bestStep: outcome.bestStep, validationLoss: -outcome.bestScore,
            finalTrainingLoss: outcome.finalLoss,
            recentTrainingLoss: outcome.recentLosses.isEmpty ? outcome.finalLoss
                : outcome.recentLosses.reduce(0, +) / Double(outcome.recentLosses.count),
            validations: outcome.evaluations.map { PretrainingResult.Validation(step: $0.step, loss: -$0.score) },
            interrupted: outcome.interrupted, seconds: Date().timeIntervalSince(started))
        if !outcome.interrupted {
            if let export { try write(export, result: result) }
            try directory?.writeJSON(result, to: RunDirectory.resultsName)
        }
        return result
    }

    /// Writes the model as a Hugging Face folder with bart-base-like generation defaults and the
    /// tokenizer files.
    public func write(_ export: ModelExport, result: PretrainingResult) throws {
        let metadata = ["ipt_procedure": "denoising-pretraining", "ipt_step": String(result.bestStep),
                        "ipt_validation_loss": String(format: "%.4f", result.validationLoss),
                        "ipt_library_version": IPTVersion.string]
        // Written as a whole: a kill leaves the previous folder (or none), never new weights
        // beside an old config.json.
        try AtomicFile.writeFolder(export.folder) { folder in
            try model.save(to: folder, metadata: metadata, storage: export.storage)
            try Pretraining.writeGenerationConfiguration(model.configuration, to: folder)
            if let tokenizerFolder = export.tokenizerFolder {
                try Pretraining.copyTokenizerFiles(from: tokenizerFolder, to: folder)
            }
        }
    }

    /// bart-base's generation_config.json, with `max_length` 64.
    static func writeGenerationConfiguration(_ c: BartConfiguration, to folder: URL) throws {
        let eos = c.eosTokenIDs[0]
        let object: [String: Any] = [
            "bos_token_id": Int(c.bosTokenID), "decoder_start_token_id": Int(c.decoderStartTokenID),
            "early_stopping": true, "eos_token_id": Int(eos), "forced_bos_token_id": Int(c.bosTokenID),
            "forced_eos_token_id": Int(eos), "max_length": 64, "no_repeat_ngram_size": 3, "num_beams": 4,
            "pad_token_id": Int(c.padTokenID),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data + Data("\n".utf8), to: folder.appendingPathComponent("generation_config.json").path)
    }

    /// The tokenizer files a model folder carries.
    public static let tokenizerFileNames = ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                                            "special_tokens_map.json"]

    static func copyTokenizerFiles(from source: URL, to folder: URL) throws {
        for name in tokenizerFileNames {
            let from = source.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: from.path) else { continue }
            let data: Data
            do { data = try Data(contentsOf: from) } catch {
                throw TrainingError.data("\(from.path): cannot read the tokenizer file")
            }
            try AtomicFile.write(data, to: folder.appendingPathComponent(name).path)
        }
    }
}
