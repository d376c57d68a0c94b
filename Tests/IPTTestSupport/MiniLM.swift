import Foundation
import Testing

/// Locates the real all-MiniLM-L6-v2 checkpoint that `scripts/fetch-minilm` installs outside the
/// repository (`~/.cache/ipt-swift/all-MiniLM-L6-v2`, or `IPT_MINILM_DIR`). Tests that need it
/// carry `MiniLM.required` and are skipped, with the reason, when it is absent.
public enum MiniLM {
    /// The checkpoint folder, whether or not it exists.
    public static let folder: URL = {
        if let dir = ProcessInfo.processInfo.environment["IPT_MINILM_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/ipt-swift/all-MiniLM-L6-v2")
    }()

    /// Whether the folder holds the weights and the tokenizer.
    public static var isAvailable: Bool {
        ["model.safetensors", "config.json", "vocab.txt", "tokenizer.json"].allSatisfy {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
    }

    /// Disables a test or suite, with the reason, when the checkpoint is absent.
    public static var required: ConditionTrait {
        .enabled(if: isAvailable, "needs the all-MiniLM-L6-v2 checkpoint: run scripts/fetch-minilm (or set IPT_MINILM_DIR)")
    }
}
