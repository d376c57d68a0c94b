import Foundation
import IPTCore
import IPTData
import IPTModels

/// Stage two (ipt-reference.md §4.5): the intrinsic-subspace solution decoded to a prompt is the
/// starting point of ordinary prompt tuning. Unlike the original (which restored the *last* IST
/// vector and reported the *last* prompt), it starts from the best-on-dev IST vector and reports
/// the best-on-dev prompt's test score.
public enum StageTwo {
    /// The prompt decoded from a subspace-tuning run folder's best intrinsic vector.
    ///
    /// - Parameters:
    ///   - istDirectory: a `subspace-tuning` output folder (its `config.json` names the subspace,
    ///     its `intrinsic_vector.safetensors` holds the best z).
    ///   - model: checks the base model.
    public static func initialPrompt(from istDirectory: URL, model: ModelIdentity) throws -> Tensor {
        try decode(from: istDirectory, model: model).prompt
    }

    /// The decoded prompt and a digest of what it is decoded from (z and the subspace's stored
    /// values): the prompt itself goes through BLAS, whose rounding differs between libraries and
    /// CPU kernels, so digesting it would make a run refuse its own resume on another machine.
    public static func decode(from istDirectory: URL, model: ModelIdentity) throws -> (prompt: Tensor, digest: String) {
        let configPath = istDirectory.appendingPathComponent(RunDirectory.configurationName).path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: configPath)) } catch {
            throw TrainingError.data("\(configPath): cannot read; --from must be a tune-subspace output folder")
        }
        guard let run = try? JSONDecoder().decode(RunConfiguration<SubspaceTuningConfiguration>.self, from: data),
              run.procedure == .subspaceTuning else {
            throw TrainingError.data("\(configPath): not the configuration of a subspace-tuning run")
        }
        guard run.baseModel.fingerprint == model.fingerprint else {
            throw TrainingError.checkpointMismatch("\(configPath): tuned with base model \(run.baseModel.name), not \(model.name)")
        }
        let (subspace, _) = try run.configuration.subspace.load(model: model)
        let vectorPath = istDirectory.appendingPathComponent("intrinsic_vector.safetensors").path
        let (tensors, _) = try Artifact.read(vectorPath, kind: "intrinsic-vector", model: model)
        let z = try Artifact.tensor("z", in: tensors, path: vectorPath, shape: [subspace.dimension])
        let source = [("z", z)] + ((subspace as? Module)?.namedParameters().map { ("subspace.\($0.key)", $0.parameter.value) } ?? [])
        return (withoutGradients { subspace.prompt(for: z) }, RunInputs.tensors(source))
    }

    /// Runs prompt tuning from the decoded IST solution; the result is marked `stage-two`.
    public static func run(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                           from istDirectory: URL, configuration: PromptTuningConfiguration,
                           in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        let (prompt, digest) = try decode(from: istDirectory, model: identity)
        return try run(model: model, tokenizer: tokenizer, identity: identity, task: task, initialPrompt: prompt,
                       initialPromptDigest: digest, configuration: configuration, in: directory, progress: progress)
    }

    /// Runs prompt tuning from `initial`, a prompt decoded by ``initialPrompt(from:model:)`` (for a
    /// caller that has decoded it already); the prompt length is `initial`'s.
    ///
    /// - Parameter initialPromptDigest: identifies where `initial` came from in `config.json`
    ///   (``RunConfiguration/inputs``); default a digest of its values.
    public static func run(model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity, task: TaskSetup,
                           initialPrompt initial: Tensor, initialPromptDigest: String? = nil, configuration: PromptTuningConfiguration,
                           in directory: RunDirectory? = nil, progress: ProgressHandler = { _ in .proceed }) throws -> ProcedureResult {
        var configuration = configuration
        configuration.promptLength = initial.shape[0]
        let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task,
                                      configuration: configuration, initialPrompt: initial,
                                      initialPromptDigest: initialPromptDigest, procedure: .stageTwo)
        return try tuning.run(in: directory, progress: progress)
    }
}
