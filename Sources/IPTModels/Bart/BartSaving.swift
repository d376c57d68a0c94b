import Foundation
import IPTCore

extension BartForConditionalGeneration {
    /// Writes the model as a Hugging Face folder: `config.json` (with `model_type` and
    /// `architectures`, which transformers' Auto classes need) and `model.safetensors`
    /// (BartModel-style keys, the shared embedding once, plus `final_logits_bias`), each
    /// atomically. Tokenizer files are the caller's.
    ///
    /// - Parameters:
    ///   - folder: created if needed.
    ///   - metadata: strings stored in the safetensors header (e.g. how the weights were trained).
    ///   - storage: element type of the weights; default F32 (exact). F16 halves the file.
    public func save(to folder: URL, metadata: [String: String] = [:], storage: SafeTensors.StorageType = .f32) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: folder.path, problem: "cannot create the model folder")
        }
        var object = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any]) ?? [:]
        object["model_type"] = "bart"
        object["architectures"] = ["BartForConditionalGeneration"]
        let json = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(json + Data("\n".utf8), to: folder.appendingPathComponent("config.json").path)
        var tensors = namedParameters().map { ($0.key, $0.parameter.value) }
        tensors.append(("final_logits_bias", finalLogitsBias.reshaped([1, finalLogitsBias.count])))
        var strings = metadata
        strings["format"] = "pt"
        try SafeTensors.write(tensors, metadata: strings, storage: storage,
                              to: folder.appendingPathComponent("model.safetensors").path)
    }
}
