import Foundation
import IPTCore

/// A local Hugging Face model folder: `config.json`, `model.safetensors` (or a sharded
/// `model.safetensors.index.json`), optionally `generation_config.json`, and the tokenizer files
/// (`vocab.json`, `merges.txt`, `tokenizer.json`), which IPTData reads.
///
/// Weights must be safetensors: a folder with only `pytorch_model.bin` gets an error that says how
/// to convert it.
public struct ModelFolder: Sendable {
    /// The folder.
    public let url: URL

    /// - Parameter url: the folder (a `file://` URL).
    public init(_ url: URL) {
        self.url = url
    }

    /// `config.json`.
    public var configurationURL: URL { url.appendingPathComponent("config.json") }
    /// `generation_config.json` (optional).
    public var generationConfigurationURL: URL { url.appendingPathComponent("generation_config.json") }
    /// `model.safetensors`.
    public var weightsURL: URL { url.appendingPathComponent("model.safetensors") }
    /// `model.safetensors.index.json`, the index of sharded weights.
    public var weightsIndexURL: URL { url.appendingPathComponent("model.safetensors.index.json") }
    /// The weights file errors name: `model.safetensors`, or the index of sharded weights when
    /// there is no such file.
    public var weightsSource: URL {
        FileManager.default.fileExists(atPath: weightsURL.path) ? weightsURL : weightsIndexURL
    }
    /// `pytorch_model.bin`, which this library cannot read.
    public var pytorchWeightsURL: URL { url.appendingPathComponent("pytorch_model.bin") }
    /// `vocab.json` of a byte-level BPE tokenizer.
    public var vocabularyURL: URL { url.appendingPathComponent("vocab.json") }
    /// `merges.txt` of a byte-level BPE tokenizer.
    public var mergesURL: URL { url.appendingPathComponent("merges.txt") }

    /// Checks that the folder exists and has a `config.json`.
    ///
    /// - Throws: ``ModelLoadError/missingFile(path:problem:)``.
    public func checkExists() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelLoadError.missingFile(path: url.path, problem: "model folder not found")
        }
        guard FileManager.default.fileExists(atPath: configurationURL.path) else {
            throw ModelLoadError.missingFile(path: configurationURL.path,
                                             problem: "file not found (a Hugging Face model folder needs config.json)")
        }
    }

    /// Every tensor of the checkpoint, by its name in the file(s), memory-mapped.
    ///
    /// Weights are floating-point (F32, F16, BF16 or F64); an integer or boolean tensor is accepted
    /// only under a name in `integerBuffers` (buffers such as BERT's `embeddings.position_ids`,
    /// which the model ignores).
    ///
    /// - Parameter integerBuffers: names whose tensors may be integer or boolean; default none.
    /// - Throws: ``ModelLoadError`` naming the file: no safetensors weights (with conversion
    ///   instructions when `pytorch_model.bin` is there), an unreadable file or index, a tensor of
    ///   another dtype.
    public func readWeights(integerBuffers: Set<String> = []) throws -> [String: Tensor] {
        let manager = FileManager.default
        if manager.fileExists(atPath: weightsURL.path) {
            return try Self.readSafeTensors(weightsURL, integerBuffers: integerBuffers)
        }
        if manager.fileExists(atPath: weightsIndexURL.path) {
            return try readShards(integerBuffers: integerBuffers)
        }
        if manager.fileExists(atPath: pytorchWeightsURL.path) {
            throw ModelLoadError.pytorchWeightsOnly(path: pytorchWeightsURL.path)
        }
        throw ModelLoadError.missingFile(path: weightsURL.path, problem: "file not found (weights must be safetensors)")
    }

    /// The largest size a model configuration may give (vocabulary, positions, width, feed-forward
    /// width, layers, heads): 2^24.
    public static let maximumSize = 1 << 24

    /// Refuses a `config.json` that describes a model of more than twice the values the
    /// checkpoint holds, or of more than can be counted (`parameterCount` nil).
    ///
    /// Every parameter needs a tensor of its own in the checkpoint. A model is allocated before its
    /// keys are matched (which names each missing or mis-shaped tensor), so keep that allocation in
    /// proportion to the files read: huge sizes in a small folder would otherwise exhaust memory or
    /// overflow the shape arithmetic.
    ///
    /// - Parameters:
    ///   - parameterCount: the configuration's parameter values (nil: more than an `Int` holds).
    ///   - tensors: the checkpoint (``readWeights(integerBuffers:)``).
    ///   - source: the weights file named in the error.
    /// - Throws: ``ModelLoadError/invalidWeights(path:problem:)``.
    func checkSize(of parameterCount: Int?, against tensors: [String: Tensor], source: URL) throws {
        let available = tensors.values.reduce(0) { $0 + $1.count }
        guard let needed = parameterCount, needed / 2 <= available else {
            let needs = parameterCount.map { "\($0) parameter values" } ?? "more parameter values than can be counted"
            throw ModelLoadError.invalidWeights(path: source.path, problem: "holds \(available) values, but config.json describes a model of \(needs)")
        }
    }

    /// The checkpoint with `prefix` taken off the keys that have it (the keys of a model with a
    /// task head, such as `model.` or `bert.`).
    ///
    /// - Throws: ``ModelLoadError/invalidWeights(path:problem:)`` naming `source` when a tensor is
    ///   stored both with and without the prefix.
    static func strippingPrefix(_ prefix: String, from tensors: [String: Tensor], source: String) throws -> [String: Tensor] {
        var renamed: [String: Tensor] = [:]
        for (key, tensor) in tensors {
            let name = key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : key
            guard renamed.updateValue(tensor, forKey: name) == nil else {
                throw ModelLoadError.invalidWeights(path: source, problem: "tensor \(name) is stored both with and without the \(prefix) prefix")
            }
        }
        return renamed
    }

    /// Reads the shards listed in `model.safetensors.index.json` (`{"weight_map": {name: file}}`).
    private func readShards(integerBuffers: Set<String>) throws -> [String: Tensor] {
        struct Index: Decodable { let weight_map: [String: String] }
        let index = try Self.decodeJSON(Index.self, from: weightsIndexURL)
        var tensors: [String: Tensor] = [:]
        for shard in Set(index.weight_map.values).sorted() {
            let shardURL = url.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: shardURL.path) else {
                throw ModelLoadError.missingFile(path: shardURL.path, problem: "shard listed in model.safetensors.index.json not found")
            }
            for (name, tensor) in try Self.readSafeTensors(shardURL, integerBuffers: integerBuffers) {
                guard tensors.updateValue(tensor, forKey: name) == nil else {
                    throw ModelLoadError.invalidWeights(path: shardURL.path, problem: "tensor \(name) appears in more than one shard")
                }
            }
        }
        return tensors
    }

    private static func readSafeTensors(_ url: URL, integerBuffers: Set<String>) throws -> [String: Tensor] {
        let file: SafeTensors.File
        do {
            file = try SafeTensors.read(url.path)
        } catch let error as SafeTensorsError {
            throw ModelLoadError.invalidWeights(path: error.path, problem: error.problem)
        }
        let floatingPoint: Set<String> = ["F32", "F16", "BF16", "F64"]
        for name in file.names where !integerBuffers.contains(name) {
            if let dtype = file.dtypes[name], !floatingPoint.contains(dtype) {
                throw ModelLoadError.invalidWeights(path: url.path,
                                                    problem: "tensor \(name): unsupported dtype \(dtype) (weights are F32, F16, BF16 or F64)")
            }
        }
        return file.tensors
    }

    /// Decodes a JSON file, turning every problem into a one-line ``ModelLoadError`` that names
    /// the file and, where there is one, the key.
    static func decodeJSON<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            if !FileManager.default.fileExists(atPath: url.path) {
                throw ModelLoadError.missingFile(path: url.path, problem: "file not found")
            }
            throw ModelLoadError.invalidJSON(path: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as ConfigurationError {
            throw ModelLoadError.invalidValue(path: url.path, key: error.key, problem: error.problem)
        } catch let error as DecodingError {
            throw ModelLoadError(decodingError: error, path: url.path)
        }
    }
}

/// Why a model folder could not be loaded. Each description is one line that names the file (and
/// the key where there is one).
public enum ModelLoadError: Error, CustomStringConvertible, Equatable {
    /// A required file or folder is absent.
    case missingFile(path: String, problem: String)
    /// Only PyTorch pickle weights are present; the description says how to convert them.
    case pytorchWeightsOnly(path: String)
    /// A JSON file is not valid JSON (or not an object).
    case invalidJSON(path: String, problem: String)
    /// A key of a JSON file has the wrong type or an unsupported value.
    case invalidValue(path: String, key: String, problem: String)
    /// A weights file is unreadable or its tensors are inconsistent (e.g. tied copies differ).
    case invalidWeights(path: String, problem: String)
    /// The checkpoint's tensors do not fit the model: missing or unexpected keys, wrong shapes.
    case parameters(path: String, ParameterLoadError)

    public var description: String {
        switch self {
        case let .missingFile(path, problem), let .invalidJSON(path, problem), let .invalidWeights(path, problem):
            return "\(path): \(problem)"
        case let .pytorchWeightsOnly(path):
            let folder = (path as NSString).deletingLastPathComponent
            return "\(path): PyTorch pickle weights are not supported, convert them to model.safetensors once, e.g. "
                + "python -c \"from transformers import AutoModelForSeq2SeqLM as M; "
                + "M.from_pretrained('\(folder)').save_pretrained('\(folder)', safe_serialization=True)\""
        case let .invalidValue(path, key, problem):
            return "\(path): key \(key): \(problem)"
        case let .parameters(path, error):
            return "\(path): \(error)"
        }
    }

    init(decodingError: DecodingError, path: String) {
        func keyPath(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch decodingError {
        case let .typeMismatch(type, context):
            self = .invalidValue(path: path, key: keyPath(context), problem: "expected \(Self.jsonName(of: type))")
        case let .valueNotFound(type, context):
            self = .invalidValue(path: path, key: keyPath(context), problem: "expected \(Self.jsonName(of: type)), found null")
        case let .keyNotFound(key, _):
            self = .invalidValue(path: path, key: key.stringValue, problem: "required key is missing")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                self = .invalidJSON(path: path, problem: "not valid JSON")
            } else {
                self = .invalidValue(path: path, key: keyPath(context), problem: "value out of range or malformed")
            }
        @unknown default:
            self = .invalidJSON(path: path, problem: "cannot decode")
        }
    }

    private static func jsonName(of type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int32.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "a boolean (true or false)"
        case is String.Type: return "a string"
        default: return type is [Any].Type ? "a list" : "an object"
        }
    }
}

