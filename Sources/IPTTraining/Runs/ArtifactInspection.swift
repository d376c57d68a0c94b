import Foundation
import IPTCore

/// What a safetensors file holds, read from its header only (a 500 MB model is not loaded): its
/// tensors with dtypes, shapes and parameter counts, and, for the files IPT writes, the artifact
/// metadata (kind, procedure, configuration, base model, step, seed, library version) or the
/// checkpoint's loop state (with the run's `config.json` when it sits beside the checkpoint).
public struct ArtifactInspection: Sendable {
    /// One tensor of the file.
    public struct TensorEntry: Sendable, Equatable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var parameters: Int
    }

    public var path: String
    /// "ipt-artifact", "ipt-checkpoint", or "safetensors" (any other file, such as a model's or a
    /// PEFT adapter's weights).
    public var format: String
    /// The artifact metadata (IPT artifacts).
    public var metadata: ArtifactMetadata?
    /// Checkpoints: the step it was written at.
    public var step: Int?
    /// Checkpoints: the procedure and configuration of the run folder it belongs to, when its
    /// `config.json` is beside it.
    public var runConfiguration: String?
    /// The metadata strings not shown elsewhere.
    public var otherMetadata: [String: String]
    /// The tensors, in the order of their data.
    public var tensors: [TensorEntry]

    /// Scalars in all tensors.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.parameters } }

    /// Checkpoints: scalars of the trained values (tensors `value.*`; `best.*` and `adam.*` are
    /// the best state and the optimiser's moments).
    public var trainedParameterCount: Int? {
        format == "ipt-checkpoint" ? tensors.filter { $0.name.hasPrefix("value.") }.reduce(0) { $0 + $1.parameters } : nil
    }

    /// Reads the header of the file at `path`.
    ///
    /// - Throws: ``TrainingError/fileFormat(_:)`` for a folder; ``SafeTensorsError`` (naming the
    ///   file) for anything that is not a valid safetensors file.
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TrainingError.fileFormat("\(path): is a folder; give a .safetensors file")
        }
        let header = try SafeTensors.readHeader(path)
        self.path = path
        tensors = header.tensors.map { TensorEntry(name: $0.name, dtype: $0.dtype, shape: $0.shape, parameters: $0.shape.reduce(1, *)) }
        var strings = header.metadata
        if let metadata = ArtifactMetadata(strings: strings) {
            format = "ipt-artifact"
            self.metadata = metadata
            for key in ["format", "kind", "procedure", "configuration", "base_model", "step", "seed", "library_version"] {
                strings[key] = nil
            }
        } else if strings["format"] == "ipt-checkpoint" {
            format = "ipt-checkpoint"
            if let json = strings["loop_state"],
               let state = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] {
                step = state["step"] as? Int
            }
            let configurationPath = URL(fileURLWithPath: path).deletingLastPathComponent()
                .appendingPathComponent(RunDirectory.configurationName).path
            runConfiguration = FileManager.default.contents(atPath: configurationPath).map { String(decoding: $0, as: UTF8.self) }
            strings["format"] = nil
            strings["loop_state"] = nil
        } else {
            format = "safetensors"
        }
        otherMetadata = strings
    }

    /// As a JSON object: `file`, `format`, `kind`, `procedure`, `configuration` (parsed),
    /// `base_model`, `step`, `seed`, `library_version`, `metadata` (other strings, JSON ones parsed),
    /// `tensors` ([{name, dtype, shape, parameters}]), `parameters`, and for checkpoints
    /// `trained_parameters`. Absent values are omitted.
    public func json() throws -> String {
        var object: [String: Any] = ["file": path, "format": format, "parameters": parameterCount]
        object["tensors"] = tensors.map { ["name": $0.name, "dtype": $0.dtype, "shape": $0.shape, "parameters": $0.parameters] as [String: Any] }
        if let metadata {
            object["kind"] = metadata.kind
            object["procedure"] = metadata.procedure
            object["configuration"] = ArtifactInspection.parsed(metadata.configuration)
            if let base = metadata.baseModel {
                object["base_model"] = ["name": base.name, "fingerprint": base.fingerprint, "parameters": base.parameterCount,
                                        "hidden_size": base.hiddenSize] as [String: Any]
            }
            object["step"] = metadata.step
            object["seed"] = metadata.seed
            object["library_version"] = metadata.libraryVersion
        }
        if format == "ipt-checkpoint" {
            object["kind"] = "checkpoint"
            object["step"] = step
            object["trained_parameters"] = trainedParameterCount
            object["library_version"] = otherMetadata["library_version"]
            if let runConfiguration, let run = ArtifactInspection.parsed(runConfiguration) as? [String: Any] {
                object["procedure"] = run["procedure"]
                object["configuration"] = run
                if let base = run["baseModel"] { object["base_model"] = base }
            }
        }
        var others: [String: Any] = [:]
        for (key, value) in otherMetadata where !(format == "ipt-checkpoint" && key == "library_version") {
            others[key] = ArtifactInspection.parsed(value)
        }
        if !others.isEmpty { object["metadata"] = others }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A metadata string as JSON when it is a JSON object or array, else the string itself.
    private static func parsed(_ string: String) -> Any {
        guard let first = string.first, first == "{" || first == "[",
              let value = try? JSONSerialization.jsonObject(with: Data(string.utf8)) else { return string }
        return value
    }
}
