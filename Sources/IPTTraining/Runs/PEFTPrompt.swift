import Foundation
import IPTCore
import IPTModels

/// Hugging Face PEFT's prompt-tuning format: a folder with `adapter_config.json`
/// (`peft_type` PROMPT_TUNING) and `adapter_model.safetensors` holding one tensor,
/// `prompt_embeddings`, of shape (num_virtual_tokens x num_transformer_submodules, token_dim).
///
/// IPT prompts only the encoder, so exports write `num_transformer_submodules` 1: PEFT then
/// prepends all n rows to the encoder's input embeddings, exactly as IPT does (unscaled, ahead of
/// the embedded text, attention mask extended with ones, positions counted from the first prompt
/// vector). PEFT's default for SEQ_2_SEQ_LM is 2, which makes 2n rows; PEFT 0.21's prompt tuning
/// still prepends only the first n to the encoder (forward and generate), the other n are unused.
/// Imports therefore take the first n rows and report whether others were dropped.
public enum PEFTPrompt {
    public static let configurationName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    public static let tensorName = "prompt_embeddings"

    /// The fields of `adapter_config.json` that matter to a prompt.
    public struct Configuration: Sendable, Equatable {
        /// n.
        public var virtualTokens: Int
        /// h, the model's hidden width.
        public var tokenDimension: Int
        /// 1 (encoder only) or 2 (encoder and decoder rows).
        public var transformerSubmodules: Int
        public var baseModel: String?
        public var taskType: String

        public init(virtualTokens: Int, tokenDimension: Int, transformerSubmodules: Int = 1, baseModel: String?,
                    taskType: String = "SEQ_2_SEQ_LM") {
            self.virtualTokens = virtualTokens
            self.tokenDimension = tokenDimension
            self.transformerSubmodules = transformerSubmodules
            self.baseModel = baseModel
            self.taskType = taskType
        }
    }

    /// Writes `prompt` (n, h) as a PEFT prompt-tuning adapter folder (created if needed).
    ///
    /// - Parameters:
    ///   - prompt: the soft prompt.
    ///   - folder: the adapter folder.
    ///   - baseModel: `base_model_name_or_path` (a hub name or the model folder; PEFT's
    ///     AutoPeftModel loads the base model from it).
    ///   - layers, attentionHeads: `num_layers` and `num_attention_heads` as PEFT records them
    ///     (the encoder's; prompt tuning does not use them).
    ///   - overwrite: replace an adapter already in `folder`; default `false`.
    /// - Throws: ``TrainingError/outputFolder(_:)`` when the folder holds an adapter and
    ///   `overwrite` is false or cannot be written.
    public static func write(prompt: Tensor, to folder: String, baseModel: String, layers: Int, attentionHeads: Int,
                             overwrite: Bool = false) throws {
        precondition(prompt.rank == 2, "a prompt is (n, h)")
        let url = URL(fileURLWithPath: folder)
        let configurationPath = url.appendingPathComponent(configurationName).path
        if !overwrite && FileManager.default.fileExists(atPath: configurationPath) {
            throw TrainingError.outputFolder("\(folder): holds a PEFT adapter (\(configurationName)); pass --overwrite to replace it")
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.outputFolder("\(folder): cannot create the output folder (\(RunDirectory.reason(error)))")
        }
        // The keys PEFT 0.21 writes for a PromptTuningConfig, in its spelling.
        let configuration: [String: Any] = [
            "auto_mapping": NSNull(), "base_model_name_or_path": baseModel, "inference_mode": true,
            "modules_to_save": NSNull(), "num_attention_heads": attentionHeads, "num_layers": layers,
            "num_transformer_submodules": 1, "num_virtual_tokens": prompt.shape[0], "peft_type": "PROMPT_TUNING",
            "prompt_tuning_init": "RANDOM", "prompt_tuning_init_text": NSNull(), "revision": NSNull(),
            "task_type": "SEQ_2_SEQ_LM", "token_dim": prompt.shape[1], "tokenizer_kwargs": NSNull(),
            "tokenizer_name_or_path": NSNull(),
        ]
        let json = try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try SafeTensors.write([(tensorName, prompt)], metadata: ["format": "pt"], to: url.appendingPathComponent(weightsName).path)
        try AtomicFile.write(json + Data("\n".utf8), to: configurationPath)
    }

    /// Reads a PEFT prompt-tuning adapter folder.
    ///
    /// - Returns: the encoder prompt (n, token_dim): the first n rows of `prompt_embeddings`; the
    ///   configuration; and how many further rows (decoder prompts of
    ///   `num_transformer_submodules` 2) were left out.
    /// - Throws: ``TrainingError/fileFormat(_:)`` naming the file and the key or tensor at fault;
    ///   ``SafeTensorsError`` for an unreadable weights file.
    public static func read(folder: String) throws -> (prompt: Tensor, configuration: Configuration, droppedRows: Int) {
        let url = URL(fileURLWithPath: folder)
        let configurationPath = url.appendingPathComponent(configurationName).path
        guard let data = FileManager.default.contents(atPath: configurationPath) else {
            throw TrainingError.fileFormat("\(configurationPath): missing; --peft must be a PEFT adapter folder")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TrainingError.fileFormat("\(configurationPath): not a JSON object")
        }
        func fail(_ problem: String) -> TrainingError { .fileFormat("\(configurationPath): \(problem)") }
        func integer(_ key: String) throws -> Int? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            // A JSON integer parses to a signed-integer NSNumber; booleans and fractions do not.
            guard let number = value as? NSNumber, ["i", "l", "q", "s"].contains(String(cString: number.objCType)),
                  let integer = value as? Int, integer >= 1 else {
                throw fail("\(key) must be a positive integer, got \(value)")
            }
            // Sizes beyond any model's (and products of them that would overflow) are bad input.
            guard integer <= ModelFolder.maximumSize else {
                throw fail("\(key) must be at most \(ModelFolder.maximumSize), got \(integer)")
            }
            return integer
        }
        let peftType = object["peft_type"] as? String ?? "(none)"
        guard peftType == "PROMPT_TUNING" else {
            throw fail("peft_type is \(peftType); only PROMPT_TUNING adapters hold a soft prompt")
        }
        let taskType = object["task_type"] as? String ?? "(none)"
        guard taskType == "SEQ_2_SEQ_LM" else {
            throw fail("task_type is \(taskType); IPT prompts are for sequence-to-sequence models (SEQ_2_SEQ_LM)")
        }
        guard let n = try integer("num_virtual_tokens") else { throw fail("num_virtual_tokens is missing") }
        guard let h = try integer("token_dim") else { throw fail("token_dim is missing") }
        // PEFT fills in 2 for SEQ_2_SEQ_LM when the key is null.
        let submodules = try integer("num_transformer_submodules") ?? 2
        guard submodules <= 2 else { throw fail("num_transformer_submodules must be 1 or 2, got \(submodules)") }

        let weightsPath = url.appendingPathComponent(weightsName).path
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("adapter_model.bin").path) {
                throw TrainingError.fileFormat("\(folder): has adapter_model.bin (pickle), which is not read; save it with safe_serialization=True")
            }
            throw TrainingError.fileFormat("\(weightsPath): missing")
        }
        let file = try SafeTensors.read(weightsPath)
        guard let embeddings = file.tensors[tensorName] else {
            throw TrainingError.fileFormat("\(weightsPath): no \(tensorName) tensor (has \(file.names.joined(separator: ", ")))")
        }
        try Artifact.requireFinite(embeddings, name: tensorName, path: weightsPath)
        guard embeddings.shape == [n * submodules, h] else {
            throw TrainingError.fileFormat("\(weightsPath): \(tensorName) has shape \(embeddings.shape), but \(configurationName) says [\(n * submodules), \(h)] (num_virtual_tokens x num_transformer_submodules, token_dim)")
        }
        let prompt = submodules == 1 ? embeddings : embeddings.slice(axis: 0, 0..<n)
        let configuration = Configuration(virtualTokens: n, tokenDimension: h, transformerSubmodules: submodules,
                                          baseModel: object["base_model_name_or_path"] as? String, taskType: taskType)
        return (prompt, configuration, n * (submodules - 1))
    }

    /// Exports an IPT prompt artifact (kind "prompt": `prompt-tune` and `stage-two` write them as
    /// `prompt.safetensors`) as a PEFT adapter folder, after checking it was trained on `model`.
    ///
    /// - Parameters:
    ///   - path: the artifact, or a run folder holding `prompt.safetensors`.
    ///   - model: the base model's identity (fingerprint and width are checked).
    ///   - folder, baseModel, layers, attentionHeads, overwrite: as in ``write(prompt:to:baseModel:layers:attentionHeads:overwrite:)``.
    /// - Returns: the exported prompt.
    @discardableResult
    public static func export(artifact path: String, model: ModelIdentity, to folder: String, baseModel: String, layers: Int,
                              attentionHeads: Int, overwrite: Bool = false) throws -> Tensor {
        let file = promptFile(path)
        let (tensors, _) = try Artifact.read(file, kind: "prompt", model: model)
        let prompt = try Artifact.tensor("prompt", in: tensors, path: file)
        guard prompt.rank == 2, prompt.shape[1] == model.hiddenSize, prompt.shape[0] >= 1 else {
            throw TrainingError.checkpointMismatch("\(file): prompt of shape \(prompt.shape) does not fit the model's width \(model.hiddenSize)")
        }
        try write(prompt: prompt, to: folder, baseModel: baseModel, layers: layers, attentionHeads: attentionHeads, overwrite: overwrite)
        return prompt
    }

    /// Imports a PEFT adapter folder's encoder prompt as an IPT prompt artifact (kind "prompt",
    /// procedure "peft-import", the adapter configuration as its configuration), usable wherever a
    /// tuned prompt is (`find-subspace --prompts`, `evaluate --prompt`, `prompt-tune
    /// --initialization file`).
    ///
    /// - Parameters:
    ///   - folder: the PEFT adapter folder.
    ///   - path: the artifact to write.
    ///   - model: when given, the prompt's width must be the model's and prompt plus two tokens
    ///     must fit `maximumInputLength`; the artifact then records the model's identity.
    ///   - maximumInputLength: the model's position table (checked with `model`).
    /// - Returns: the prompt, the adapter's configuration and the decoder rows left out.
    @discardableResult
    public static func importAdapter(folder: String, to path: String, model: ModelIdentity? = nil, maximumInputLength: Int? = nil) throws
        -> (prompt: Tensor, configuration: Configuration, droppedRows: Int) {
        let imported = try read(folder: folder)
        let n = imported.configuration.virtualTokens
        if let model {
            guard imported.configuration.tokenDimension == model.hiddenSize else {
                throw TrainingError.checkpointMismatch("\(folder): prompt vectors of width \(imported.configuration.tokenDimension), but model \(model.name) has hidden size \(model.hiddenSize)")
            }
        }
        if let maximumInputLength, n + 2 > maximumInputLength {
            throw TrainingError.checkpointMismatch("\(folder): \(n) virtual tokens leave no room for text in the model's \(maximumInputLength) positions")
        }
        let configurationText = FileManager.default.contents(atPath: URL(fileURLWithPath: folder)
            .appendingPathComponent(configurationName).path).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let metadata = ArtifactMetadata(kind: "prompt", procedure: "peft-import", configuration: configurationText,
                                        baseModel: model, step: nil, seed: nil)
        try Artifact.write([("prompt", imported.prompt)], metadata: metadata, to: path)
        return imported
    }

    /// `path`, or `path/prompt.safetensors` when `path` is a folder.
    static func promptFile(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return path }
        return URL(fileURLWithPath: path).appendingPathComponent("prompt.safetensors").path
    }
}
