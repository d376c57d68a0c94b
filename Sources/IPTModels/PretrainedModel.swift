import Foundation
import IPTCore

/// The model families IPTModels loads from a Hugging Face folder.
public enum ModelArchitecture: String, Sendable, CaseIterable {
    /// ``BartForConditionalGeneration`` (`model_type: "bart"`).
    case bart
    /// ``BertEncoder`` (`model_type: "bert"`: BERT, MiniLM, ...).
    case bert
}

extension ModelFolder {
    /// The architecture `config.json` names in `model_type`. A config.json without `model_type`
    /// (IPT-Swift's own BART folders) is BART when it has `d_model`, BERT when it has
    /// `hidden_size`.
    ///
    /// - Throws: ``ModelLoadError`` naming the file: missing, invalid JSON, or an unsupported type.
    public func architecture() throws -> ModelArchitecture {
        struct Keys: Decodable {
            let model_type: String?
            let d_model: Int?
            let hidden_size: Int?
        }
        let keys = try Self.decodeJSON(Keys.self, from: configurationURL)
        if let type = keys.model_type {
            guard let architecture = ModelArchitecture(rawValue: type) else {
                throw ModelLoadError.invalidValue(path: configurationURL.path, key: "model_type",
                                                  problem: "unsupported model type \"\(type)\" (supported: \(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return architecture
        }
        if keys.d_model != nil { return .bart }
        if keys.hidden_size != nil { return .bert }
        throw ModelLoadError.invalidValue(path: configurationURL.path, key: "model_type",
                                          problem: "required key is missing (bart or bert)")
    }

    /// Loads the folder's model, of the architecture ``architecture()`` names, frozen.
    ///
    /// - Parameter dropoutSeed: seed of the model's dropout source; default 0.
    /// - Throws: ``ModelLoadError`` naming the file (and key) of the first problem.
    public func loadModel(dropoutSeed: UInt64 = 0) throws -> any Module & PromptTunableModel {
        try checkExists()
        switch try architecture() {
        case .bart: return try BartForConditionalGeneration.load(from: url, dropoutSeed: dropoutSeed)
        case .bert: return try BertEncoder.load(from: url, dropoutSeed: dropoutSeed)
        }
    }
}
