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
        let text = try Self.configurationJSON(object)
        try AtomicFile.write(text + "\n", to: folder.appendingPathComponent("config.json").path)
        var tensors = namedParameters().map { ($0.key, $0.parameter.value) }
        tensors.append(("final_logits_bias", finalLogitsBias.reshaped([1, finalLogitsBias.count])))
        var strings = metadata
        strings["format"] = "pt"
        try SafeTensors.write(tensors, metadata: strings, storage: storage,
                              to: folder.appendingPathComponent("model.safetensors").path)
    }

    /// The configuration's probabilities and init_std written as floats (`0.0`, not `0`):
    /// transformers 5 validates config.json's types strictly and refuses an integer where it
    /// declares a float (e.g. `encoder_layerdrop: 0`). Each float goes through the serializer as a
    /// unique placeholder string, replaced afterwards by Swift's shortest round-trip form.
    static func configurationJSON(_ object: [String: Any]) throws -> String {
        var object = object
        var replacements: [(String, String)] = []
        for key in BartConfiguration.CodingKeys.floatKeys {
            guard let number = object[key] as? NSNumber else { continue }
            let placeholder = "__float_\(key)__"
            object[key] = placeholder
            replacements.append(("\"\(placeholder)\"", "\(Float(truncating: number))"))
        }
        let json = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        var text = String(decoding: json, as: UTF8.self)
        for (placeholder, value) in replacements { text = text.replacingOccurrences(of: placeholder, with: value) }
        return text
    }
}
