import ArgumentParser
import Foundation
import IPTTraining

/// `ipt-cli inspect`: what a safetensors file holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print an artifact's or checkpoint's metadata and its tensors with shapes and parameter counts (JSON).",
        discussion: """
        Reads only the file's header. For IPT artifacts (prompt, prompt-subspace, intrinsic-vector, adapter-subspace, \
        ...): kind, procedure, configuration, base model, step, seed, library version. For checkpoints: the step, the \
        trained parameter count and the run's config.json when it is beside the file. Any other safetensors file (a \
        model.safetensors, a PEFT adapter) shows its tensors and metadata.
        """)

    @Argument(help: "A .safetensors file.") var file: String

    func run() throws {
        print(try ArtifactInspection(path: file).json())
    }
}
