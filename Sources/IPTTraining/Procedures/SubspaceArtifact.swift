import Foundation
import IPTCore
import IPTModels

/// The saved form of a prompt subspace (`subspace.safetensors`, kind "prompt-subspace"):
/// either the paper's autoencoder (method "autoencoder": tensors `encoder.*`, `decoder.*`) or a
/// linear subspace (method "pca": tensors `mean`, `basis`). The geometry is in the metadata key
/// `subspace` as JSON.
public enum SubspaceArtifact {
    /// The geometry stored with a subspace.
    public struct Geometry: Codable, Sendable, Equatable {
        /// "autoencoder" or "pca".
        public var method: String
        public var dimension: Int
        public var promptLength: Int
        public var hiddenSize: Int
        /// Width of the decoder's tanh layer (autoencoder only).
        public var decoderWidth: Int?

        enum CodingKeys: String, CodingKey {
            case method, dimension, promptLength = "prompt_length", hiddenSize = "hidden_size", decoderWidth = "decoder_width"
        }
    }

    /// Writes an autoencoder.
    public static func write(_ autoencoder: PromptAutoencoder, metadata: ArtifactMetadata, to path: String) throws {
        let d = autoencoder.decoder
        let geometry = Geometry(method: "autoencoder", dimension: d.dimension, promptLength: d.promptLength,
                                hiddenSize: d.hiddenSize, decoderWidth: d.decoderWidth)
        try write(autoencoder.namedParameters().map { ($0.key, $0.parameter.value) }, geometry: geometry,
                  metadata: metadata, to: path)
    }

    /// Writes a linear subspace.
    public static func write(_ subspace: LinearPromptSubspace, metadata: ArtifactMetadata, to path: String) throws {
        let geometry = Geometry(method: "pca", dimension: subspace.dimension, promptLength: subspace.promptLength,
                                hiddenSize: subspace.hiddenSize, decoderWidth: nil)
        try write([("mean", subspace.mean.value), ("basis", subspace.basis.value)], geometry: geometry,
                  metadata: metadata, to: path)
    }

    private static func write(_ tensors: [(String, Tensor)], geometry: Geometry, metadata: ArtifactMetadata, to path: String) throws {
        var strings = metadata.strings
        strings["subspace"] = String(decoding: try JSONEncoder().encode(geometry), as: UTF8.self)
        try SafeTensors.write(tensors, metadata: strings, to: path)
    }

    /// Reads a subspace for intrinsic subspace tuning: the decoder of an autoencoder, or a linear
    /// subspace. Checks the base model when `model` is given.
    ///
    /// - Returns: the subspace, its geometry and the artifact's metadata; for an autoencoder also the
    ///   whole autoencoder (to encode prompts).
    public static func read(_ path: String, model: ModelIdentity?) throws
        -> (subspace: PromptSubspace, geometry: Geometry, autoencoder: PromptAutoencoder?, metadata: ArtifactMetadata) {
        let (tensors, metadata) = try Artifact.read(path, kind: "prompt-subspace", model: model)
        let file = try SafeTensors.readMetadata(path)
        guard let json = file["subspace"], let geometry = try? JSONDecoder().decode(Geometry.self, from: Data(json.utf8)) else {
            throw TrainingError.checkpointMismatch("\(path): missing or malformed `subspace` metadata")
        }
        let sizes = [geometry.dimension, geometry.promptLength, geometry.hiddenSize] + (geometry.decoderWidth.map { [$0] } ?? [])
        guard sizes.allSatisfy({ $0 >= 1 && $0 <= ModelFolder.maximumSize }) else {
            throw TrainingError.checkpointMismatch("\(path): invalid subspace geometry \(geometry) (sizes must be in 1...\(ModelFolder.maximumSize))")
        }
        if let model, model.hiddenSize != geometry.hiddenSize {
            throw TrainingError.checkpointMismatch("\(path): subspace of hidden size \(geometry.hiddenSize), the model's is \(model.hiddenSize)")
        }
        let (n, h, d) = (geometry.promptLength, geometry.hiddenSize, geometry.dimension)
        switch geometry.method {
        case "autoencoder":
            guard let width = geometry.decoderWidth, width >= 1 else {
                throw TrainingError.checkpointMismatch("\(path): autoencoder without decoder_width")
            }
            // The autoencoder is built before its tensors are matched: all its values must be in
            // the file, so that the geometry cannot make it allocate more than the file holds.
            let available = tensors.values.reduce(0) { $0 + $1.count }
            guard let needed = PromptAutoencoder.parameterCount(dimension: d, promptLength: n, hiddenSize: h, decoderWidth: width),
                  needed <= available else {
                throw TrainingError.checkpointMismatch("\(path): the geometry \(geometry) needs more values than the file's \(available)")
            }
            var generator = RandomGenerator(seed: 0)
            let ae = PromptAutoencoder(dimension: d, promptLength: n, hiddenSize: h, decoderWidth: width, generator: &generator)
            var values: [String: Tensor] = [:]
            for (key, p) in ae.namedParameters() {
                values[key] = try Artifact.tensor(key, in: tensors, path: path, shape: p.shape)
            }
            try ae.update(from: values, strict: true)
            ae.freeze()
            return (ae.decoder, geometry, ae, metadata)
        case "pca":
            let mean = try Artifact.tensor("mean", in: tensors, path: path, shape: [n * h])
            let basis = try Artifact.tensor("basis", in: tensors, path: path, shape: [n * h, d])
            return (LinearPromptSubspace(mean: mean, basis: basis, promptLength: n, hiddenSize: h), geometry, nil, metadata)
        default:
            throw TrainingError.checkpointMismatch("\(path): unknown subspace method \(geometry.method)")
        }
    }
}
