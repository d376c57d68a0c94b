import Foundation
import Testing

/// Locates `../shared` (real tokenizers and CrossFit tasks) next to the repository.
///
/// A fresh clone has no `../shared`; tests that need it are disabled with
/// `.enabled(if: SharedData.isAvailable, SharedData.skipReason)`, which swift-testing reports as
/// skipped with the reason. `IPT_SHARED_DIR` overrides the location.
public enum SharedData {
    /// The repository root (this file is Tests/IPTTestSupport/SharedData.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared folder, whether or not it exists.
    public static let root: URL = {
        if let dir = ProcessInfo.processInfo.environment["IPT_SHARED_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// Whether `../shared` holds the data the tests need.
    public static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("data/crossfit16").path)
            && FileManager.default.fileExists(atPath: root.appendingPathComponent("tokenizers/bart-base/vocab.json").path)
    }

    /// Disables a test or suite, with the reason, when `../shared` is absent:
    /// `@Test(SharedData.required) func ...`.
    public static var required: ConditionTrait {
        .enabled(if: isAvailable, "needs ../shared (real tokenizers and CrossFit data), absent in a fresh clone; set IPT_SHARED_DIR to point at it")
    }

    /// `../shared/data/crossfit16`.
    public static var crossfit: URL { root.appendingPathComponent("data/crossfit16") }

    /// `../shared/tokenizers/<name>` (bart-base, gpt2).
    public static func tokenizer(_ name: String) -> URL { root.appendingPathComponent("tokenizers/\(name)") }
}
