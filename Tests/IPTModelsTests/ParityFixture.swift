import Foundation
import IPTCore
@testable import IPTModels

/// One model folder of Fixtures/ with what transformers computed on it
/// (scripts/make_bart_fixtures.py).
struct ParityFixture {
    struct GenerationRun: Decodable {
        /// transformers' settings (with the special tokens added by the script); `nil`: the
        /// folder's own defaults.
        let settings: GenerationConfiguration?
        /// "prompt", "adapters" or nil.
        let with: String?
        let output: [[Int32]]
    }

    struct Values: Decodable {
        let inputs: [[Int32]]
        let targets: [[Int32]]
        let loss_sum: Float
        let loss_mean: Float
        let example_nll: [Float]
        let prompt_loss_sum: Float
        let per_example_prompt_loss_sum: Float
        let adapter_loss_sum: Float
        let options: [[[Int32]]]
        let option_scores: [[Float]]
        let generation_inputs: [[Int32]]
        let generation: [GenerationRun]
    }

    let name: String
    let model: BartForConditionalGeneration
    let values: Values
    let tensors: [String: Tensor]

    /// - Parameter crossAttention: how teacher-forced decoding reads the encoder output.
    init(_ name: String, crossAttention: CrossAttentionPolicy = .automatic) throws {
        self.name = name
        model = try BartForConditionalGeneration.load(from: Fixtures.url(name))
        model.crossAttentionPolicy = crossAttention
        values = try JSONDecoder().decode(Values.self, from: Data(contentsOf: Fixtures.url("\(name)-expected.json")))
        tensors = try SafeTensors.read(Fixtures.url("\(name)-expected.safetensors").path).tensors
    }

    func tensor(_ key: String) -> Tensor { tensors[key]! }

    var batch: TaskBatch {
        TaskBatch(inputs: TokenBatch(values.inputs, paddingID: 1), targets: TokenBatch(values.targets, paddingID: 1))
    }

    /// The script's generation settings: its explicit values plus the special tokens it always sets.
    func settings(_ run: GenerationRun) -> GenerationConfiguration? {
        guard var s = run.settings else { return nil }
        s.bosTokenID = 0
        s.eosTokenIDs = [2]
        s.decoderStartTokenID = 2
        return s
    }
}

/// max |a - b| / max |b|, for gradients.
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = b.scalars.map(abs).max() ?? 0
    return a.maxAbsDifference(b) / max(scale, 1e-12)
}
