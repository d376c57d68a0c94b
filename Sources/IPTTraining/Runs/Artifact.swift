import Foundation
import IPTCore

/// Identifies the pretrained model an artifact was trained against, so that a prompt, subspace
/// or checkpoint is never silently used with another base model.
public struct ModelIdentity: Codable, Sendable, Equatable {
    /// The model folder's name (for people).
    public var name: String
    /// A hash of parameter names, shapes and a sample of values (for the check).
    public var fingerprint: String
    /// Parameter count (tied weights counted once).
    public var parameterCount: Int
    /// Hidden width.
    public var hiddenSize: Int

    public init(name: String, fingerprint: String, parameterCount: Int, hiddenSize: Int) {
        self.name = name
        self.fingerprint = fingerprint
        self.parameterCount = parameterCount
        self.hiddenSize = hiddenSize
    }

    /// The identity of `module`: FNV-1a over every parameter's key, shape and up to 256 evenly
    /// spaced values.
    public init(of module: Module, name: String, hiddenSize: Int) {
        var digest = ContentDigest()
        func mix(_ bytes: UnsafeRawBufferPointer) { digest.add(bytes) }
        var count = 0
        for (key, p) in module.namedParameters() {
            key.utf8CString.withUnsafeBytes { mix($0) }
            p.shape.withUnsafeBytes { mix($0) }
            count += p.value.count
            p.value.withUnsafeBufferPointer { values in
                guard !values.isEmpty else { return }
                let stride = max(1, values.count / 256)
                var i = 0
                while i < values.count {
                    var bits = values[i].bitPattern
                    withUnsafeBytes(of: &bits) { mix($0) }
                    i += stride
                }
            }
        }
        self.init(name: name, fingerprint: String(digest.value, radix: 16), parameterCount: count, hiddenSize: hiddenSize)
    }
}

/// The metadata every artifact carries (in its safetensors `__metadata__`), so that it can be
/// traced to the run that made it and checked against the model it is used with.
public struct ArtifactMetadata: Codable, Sendable, Equatable {
    /// What the file holds: "prompt", "prompt-subspace", "intrinsic-vector", "fastfood",
    /// "adapter-subspace", "checkpoint".
    public var kind: String
    /// The procedure that wrote it ("prompt-tuning", "subspace-finding", ...).
    public var procedure: String
    /// The resolved configuration, as JSON.
    public var configuration: String
    public var baseModel: ModelIdentity?
    public var step: Int?
    public var seed: UInt64?
    public var libraryVersion: String

    public init(kind: String, procedure: String, configuration: String, baseModel: ModelIdentity?, step: Int?,
                seed: UInt64?, libraryVersion: String = IPTVersion.string) {
        self.kind = kind
        self.procedure = procedure
        self.configuration = configuration
        self.baseModel = baseModel
        self.step = step
        self.seed = seed
        self.libraryVersion = libraryVersion
    }

    /// As the flat string dictionary safetensors stores.
    public var strings: [String: String] {
        var s: [String: String] = ["format": "ipt-artifact", "kind": kind, "procedure": procedure,
                                   "configuration": configuration, "library_version": libraryVersion]
        if let baseModel, let data = try? JSONEncoder().encode(baseModel) { s["base_model"] = String(decoding: data, as: UTF8.self) }
        if let step { s["step"] = String(step) }
        if let seed { s["seed"] = String(seed) }
        return s
    }

    /// Parses the strings of an artifact file; `nil` when they are not an IPT artifact's.
    public init?(strings s: [String: String]) {
        guard s["format"] == "ipt-artifact", let kind = s["kind"], let procedure = s["procedure"] else { return nil }
        self.kind = kind
        self.procedure = procedure
        configuration = s["configuration"] ?? "{}"
        baseModel = s["base_model"].flatMap { try? JSONDecoder().decode(ModelIdentity.self, from: Data($0.utf8)) }
        step = s["step"].flatMap(Int.init)
        seed = s["seed"].flatMap(UInt64.init)
        libraryVersion = s["library_version"] ?? "unknown"
    }
}

/// Reading and writing artifacts: safetensors (F32) with ``ArtifactMetadata``.
public enum Artifact {
    /// Writes `tensors` with `metadata` atomically.
    public static func write(_ tensors: [(String, Tensor)], metadata: ArtifactMetadata, to path: String) throws {
        try SafeTensors.write(tensors, metadata: metadata.strings, to: path)
    }

    /// Reads an artifact and checks its kind (and, when given, its base model).
    ///
    /// - Throws: ``TrainingError/checkpointMismatch(_:)`` naming the file when it is not an IPT
    ///   artifact of `kind` or was made with another base model; ``SafeTensorsError`` for
    ///   unreadable files.
    public static func read(_ path: String, kind: String, model: ModelIdentity? = nil) throws -> (tensors: [String: Tensor], metadata: ArtifactMetadata) {
        let file = try SafeTensors.read(path)
        guard let metadata = ArtifactMetadata(strings: file.metadata) else {
            throw TrainingError.checkpointMismatch("\(path): not an IPT artifact (no ipt-artifact metadata)")
        }
        guard metadata.kind == kind else {
            throw TrainingError.checkpointMismatch("\(path): holds a \(metadata.kind), expected a \(kind)")
        }
        if let model, let base = metadata.baseModel, base.fingerprint != model.fingerprint {
            throw TrainingError.checkpointMismatch("\(path): made with base model \(base.name) (fingerprint \(base.fingerprint)), not \(model.name) (fingerprint \(model.fingerprint))")
        }
        for name in file.names { try requireFinite(file.tensors[name], name: name, path: path) }
        return (file.tensors, metadata)
    }

    /// Refuses a tensor read from a file that holds a NaN or an infinity: a prompt, vector or
    /// subspace like that would only make every loss NaN, so it is bad input, named when read.
    ///
    /// - Throws: ``TrainingError/fileFormat(_:)`` naming the file, the tensor and the first bad element.
    public static func requireFinite(_ tensor: Tensor?, name: String, path: String) throws {
        guard let tensor else { return }
        let bad = tensor.withUnsafeBufferPointer { values in values.firstIndex { !$0.isFinite }.map { ($0, values[$0]) } }
        if let (index, value) = bad {
            throw TrainingError.fileFormat("\(path): tensor \(name) holds \(value) at element \(index) (of shape \(tensor.shape)); a non-finite value cannot be trained or evaluated")
        }
    }

    /// A tensor of an artifact, with its shape checked.
    public static func tensor(_ name: String, in tensors: [String: Tensor], path: String, shape: [Int]? = nil) throws -> Tensor {
        guard let t = tensors[name] else { throw TrainingError.checkpointMismatch("\(path): missing tensor \(name)") }
        if let shape, t.shape != shape {
            throw TrainingError.checkpointMismatch("\(path): tensor \(name) has shape \(t.shape), expected \(shape)")
        }
        return t
    }
}
