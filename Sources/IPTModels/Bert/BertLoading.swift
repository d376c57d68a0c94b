import Foundation
import IPTCore

extension BertEncoder {
    /// Loads a local Hugging Face BERT folder (BERT, MiniLM and other `model_type: "bert"`
    /// checkpoints): `config.json` and `model.safetensors` (or a sharded index).
    ///
    /// The model comes back frozen (every parameter's `isTrainable` is false); call `unfreeze()` to
    /// fine-tune.
    ///
    /// - Parameters:
    ///   - url: the folder.
    ///   - dropoutSeed: seed of ``randomSource`` (dropout masks in training mode); default 0.
    ///   - optionTemperature: see ``optionTemperature``; default 0.05.
    /// - Throws: ``ModelLoadError``, one line naming the file (and key): missing files, a folder
    ///   with only `pytorch_model.bin` (with conversion instructions), invalid JSON or values,
    ///   unreadable safetensors, a config.json describing a far bigger model than the weights hold,
    ///   and every missing, unexpected or mis-shaped tensor.
    public static func load(from url: URL, dropoutSeed: UInt64 = 0, optionTemperature: Float = 0.05) throws -> BertEncoder {
        let folder = ModelFolder(url)
        try folder.checkExists()
        let configuration = try BertConfiguration.load(from: folder.configurationURL)
        let tensors = try folder.readWeights(integerBuffers: Set(ignoredBuffers.flatMap { [$0, "bert." + $0] }))
        let source = folder.weightsSource
        try folder.checkSize(of: configuration.parameterCount, against: tensors, source: source)
        let model = BertEncoder(configuration: configuration, dropoutSeed: dropoutSeed, optionTemperature: optionTemperature)
        try model.load(checkpoint: tensors, source: source.path)
        model.freeze()
        return model
    }

    /// Integer buffers of BertModel checkpoints, not parameters (the encoder makes its own).
    static let ignoredBuffers: Set<String> = ["embeddings.position_ids", "embeddings.token_type_ids"]

    /// Sets every parameter from a checkpoint's tensors, strictly.
    ///
    /// Accepts BertModel keys (`embeddings.word_embeddings.weight`, `encoder.layer.0.…`) and the
    /// `bert.` prefix of BertFor… checkpoints. Ignored, as they are not part of the encoder: the
    /// pooler (`pooler.*`), task heads (`cls.*`, `classifier.*`, `qa_outputs.*`) and the
    /// `embeddings.position_ids` / `embeddings.token_type_ids` buffers.
    ///
    /// - Parameters:
    ///   - tensors: the checkpoint, by key.
    ///   - source: the file named in errors.
    /// - Throws: ``ModelLoadError/parameters(path:_:)`` listing every missing and unexpected key
    ///   and every shape mismatch, or ``ModelLoadError/invalidWeights(path:problem:)``.
    public func load(checkpoint tensors: [String: Tensor], source: String) throws {
        var renamed = try ModelFolder.strippingPrefix("bert.", from: tensors, source: source)
        let ignoredPrefixes = ["pooler.", "cls.", "classifier.", "qa_outputs."]
        for key in renamed.keys where ignoredPrefixes.contains(where: key.hasPrefix) || Self.ignoredBuffers.contains(key) {
            renamed[key] = nil
        }
        do {
            try update(from: renamed, strict: true)
        } catch let error as ParameterLoadError {
            throw ModelLoadError.parameters(path: source, error)
        }
    }

    /// Writes the model as a Hugging Face folder: `config.json` (`model_type: "bert"`) and
    /// `model.safetensors` (BertModel keys), each atomically. Tokenizer files are the caller's.
    ///
    /// - Parameters:
    ///   - folder: created if needed.
    ///   - metadata: strings stored in the safetensors header.
    public func save(to folder: URL, metadata: [String: String] = [:]) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: folder.path, problem: "cannot create the model folder")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(configuration) + Data("\n".utf8),
                             to: folder.appendingPathComponent("config.json").path)
        var strings = metadata
        strings["format"] = "pt"
        try SafeTensors.write(namedParameters().map { ($0.key, $0.parameter.value) }, metadata: strings,
                              to: folder.appendingPathComponent("model.safetensors").path)
    }
}
