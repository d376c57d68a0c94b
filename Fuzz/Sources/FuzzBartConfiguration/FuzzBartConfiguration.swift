import Foundation
import FuzzSupport
import IPTCore
import IPTModels

/// A tiny BART whose generation settings come from the input (its architecture does not: a
/// config.json may legitimately ask for a model of any size).
private let model: BartForConditionalGeneration = {
    let configuration = try! BartConfiguration(
        vocabularySize: 16, maximumPositions: 12, hiddenSize: 8, encoderLayers: 1, encoderHeads: 2,
        encoderFeedForwardSize: 8, decoderLayers: 1, decoderHeads: 2, decoderFeedForwardSize: 8)
    var generator = RandomGenerator(seed: 1)
    return BartForConditionalGeneration(configuration: configuration, generator: &generator)
}()

/// libFuzzer entry: the input is a model folder's config.json. It is decoded as the
/// architecture (`BartConfiguration.load`) and as the generation defaults
/// (`GenerationConfiguration.load`, which falls back to config.json); decoded generation settings
/// then drive `generate` on a tiny model, which resolves lengths and token ids against it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBartConfiguration(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let folder = FuzzInput.folder(["config.json": Data(bytes: data, count: size)])
    blackHole(try? BartConfiguration.load(from: folder.appendingPathComponent("config.json")))
    guard let generation = try? GenerationConfiguration.load(from: ModelFolder(folder)) else { return 0 }
    // Lengths are bounded by the model's 12 positions and num_beams by its 16 tokens, so any
    // accepted setting generates quickly.
    blackHole(try? model.generate(TokenBatch([[0, 5, 6, 2]], paddingID: 1), configuration: generation))
    return 0
}
