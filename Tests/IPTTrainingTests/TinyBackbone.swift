import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTestSupport
import IPTTraining

/// A tiny random BART with bart-base's real vocabulary (from ../shared), saved as a Hugging Face
/// folder and loaded back the way users load models: the procedures run on real CrossFit text.
enum TinyBackbone {
    /// Folder with config.json, model.safetensors, vocab.json, merges.txt (built once per process).
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-tiny-bart-\(ProcessInfo.processInfo.processIdentifier)")
        var generator = RandomGenerator(seed: 2024)
        let configuration = try! BartConfiguration(vocabularySize: 50265, maximumPositions: 96, hiddenSize: 16,
                                                   encoderLayers: 1, encoderHeads: 2, encoderFeedForwardSize: 32,
                                                   decoderLayers: 1, decoderHeads: 2, decoderFeedForwardSize: 32,
                                                   dropout: 0.1)
        let model = BartForConditionalGeneration(configuration: configuration, generator: &generator)
        try! model.save(to: url)
        for name in ["vocab.json", "merges.txt"] {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
            try! FileManager.default.copyItem(at: SharedData.tokenizer("bart-base").appendingPathComponent(name),
                                              to: url.appendingPathComponent(name))
        }
        return url
    }()

    /// A fresh copy of the model (frozen), its tokenizer and identity.
    static func load() throws -> (model: BartForConditionalGeneration, tokenizer: any Tokenizer, identity: ModelIdentity) {
        let model = try BartForConditionalGeneration.load(from: folder)
        model.freeze()
        let tokenizer = try ByteLevelBPETokenizer.load(folder: folder)
        return (model, tokenizer, ModelIdentity(of: model, name: "tiny", hiddenSize: model.hiddenSize))
    }

    /// A k-shot task from ../shared/data/crossfit16.
    static func task(_ name: String, seed: Int = 100) throws -> TaskSetup {
        try TaskSetup.load(dataDirectory: SharedData.crossfit, task: name, seed: seed)
    }

    /// Quick evaluation: option scoring, small dev and test subsets.
    static let evaluation = EvaluationSettings(mode: .optionScoring, batchSize: 16, numBeams: 2, maximumLength: 8,
                                               maximumDevExamples: 8, maximumTestExamples: 16)

    static func temporaryFolder(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ipt-\(label)-\(UUID().uuidString)").path
    }
}
