import Foundation
import IPTCore

extension BartForConditionalGeneration {
    /// Writes the model as a Hugging Face folder: `config.json` and
    /// `model.safetensors` (BartModel-style keys, the shared embedding once, plus
    /// `final_logits_bias`), each atomically. Tokenizer files are the caller's.
    ///
    /// - Parameters:
    ///   - folder: created if needed.
    ///   - metadata: strings stored in the safetensors header (e.g. how the weights were trained).
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
        var tensors = namedParameters().map { ($0.key, $0.parameter.value) }
        tensors.append(("final_logits_bias", finalLogitsBias.reshaped([1, finalLogitsBias.count])))
        var strings = metadata
        strings["format"] = "pt"
        try SafeTensors.write(tensors, metadata: strings, to: folder.appendingPathComponent("model.safetensors").path)
    }
}
