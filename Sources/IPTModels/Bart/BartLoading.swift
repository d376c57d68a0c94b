import Foundation
import IPTCore

extension BartForConditionalGeneration {
    /// Loads a local Hugging Face BART folder: `config.json`, `model.safetensors` (BartModel keys
    /// as facebook/bart-base ships them, or BartForConditionalGeneration keys with `model.`),
    /// and the generation defaults of `generation_config.json` (else `config.json`).
    ///
    /// The model comes back frozen (every parameter's `isTrainable` is false), as prompt tuning
    /// uses it; call `unfreeze()` to fine-tune.
    ///
    /// - Parameters:
    ///   - url: the folder.
    ///   - dropoutSeed: seed of ``randomSource`` (dropout masks in training mode); default 0.
    /// - Throws: ``ModelLoadError``, one line naming the file (and key): missing files, a folder
    ///   with only `pytorch_model.bin` (with conversion instructions), invalid JSON or values,
    ///   unreadable safetensors, and every missing, unexpected or mis-shaped tensor.
    public static func load(from url: URL, dropoutSeed: UInt64 = 0) throws -> BartForConditionalGeneration {
        let folder = ModelFolder(url)
        try folder.checkExists()
        let configuration = try BartConfiguration.load(from: folder.configurationURL)
        let generation = try GenerationConfiguration.load(from: folder)
        let tensors = try folder.readWeights()
        let source = folder.weightsSource
        try folder.checkSize(of: configuration.parameterCount, against: tensors, source: source)
        // Zeros, replaced by the checkpoint (a random init of 139M values would only be discarded).
        let model = BartForConditionalGeneration(configuration: configuration, dropoutSeed: dropoutSeed)
        model.generationConfiguration = generation
        try model.load(checkpoint: tensors, source: source.path)
        model.freeze()
        return model
    }

    /// Sets every parameter and `final_logits_bias` from a checkpoint's tensors, strictly.
    ///
    /// Accepts both key styles: BartModel (`shared.weight`, `encoder.layers.0.…`) and
    /// BartForConditionalGeneration (`model.` prefix, `final_logits_bias`, perhaps `lm_head.weight`).
    /// The tied embedding may be stored under any subset of `shared.weight`,
    /// `encoder.embed_tokens.weight`, `decoder.embed_tokens.weight` and `lm_head.weight` (at least
    /// one; copies must be equal). A missing `final_logits_bias` means zeros. `encoder.version` and
    /// `decoder.version` are ignored, as transformers ignores them.
    ///
    /// - Parameters:
    ///   - tensors: the checkpoint, by key.
    ///   - source: the file named in errors.
    /// - Throws: ``ModelLoadError/parameters(path:_:)`` listing every missing and unexpected key
    ///   and every shape mismatch, or ``ModelLoadError/invalidWeights(path:problem:)``.
    public func load(checkpoint tensors: [String: Tensor], source: String) throws {
        var renamed = try ModelFolder.strippingPrefix("model.", from: tensors, source: source)
        for ignored in ["encoder.version", "decoder.version"] { renamed[ignored] = nil }

        var bias = Tensor.zeros([configuration.vocabularySize])
        if let stored = renamed.removeValue(forKey: "final_logits_bias") {
            guard stored.shape == [1, configuration.vocabularySize] || stored.shape == [configuration.vocabularySize] else {
                throw ModelLoadError.invalidWeights(path: source, problem: "final_logits_bias has shape \(stored.shape), expected [1, \(configuration.vocabularySize)]")
            }
            bias = stored.reshaped([configuration.vocabularySize])
        }

        let tiedKeys = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"]
        let present = tiedKeys.filter { renamed[$0] != nil }
        if let first = present.first {
            let table = renamed[first]!
            for other in present.dropFirst() where !Self.identical(table, renamed[other]!) {
                throw ModelLoadError.invalidWeights(path: source, problem: "tied embeddings \(first) and \(other) differ (they must be one table)")
            }
            for key in present { renamed[key] = nil }
            renamed["shared.weight"] = table
        }

        do {
            try update(from: renamed, strict: true)
        } catch let error as ParameterLoadError {
            throw ModelLoadError.parameters(path: source, error)
        }
        finalLogitsBias = bias
    }

    /// Same shape and bit-identical values.
    private static func identical(_ a: Tensor, _ b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in memcmp(pa.baseAddress!, pb.baseAddress!, a.count * MemoryLayout<Float>.stride) == 0 }
        }
    }
}
