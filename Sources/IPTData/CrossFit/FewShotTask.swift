import Foundation

/// One k-shot sample of a task, loaded: its train, dev and (when present) test examples.
///
/// ```swift
/// let task = try FewShotTask.load(dataDirectory: data, task: "glue-rte", seed: 100)
/// task.train   // the k-shot training examples
/// task.dev     // the few-shot dev examples (same size as train)
/// task.test    // the full test set, nil when this copy of the data has no test file
/// ```
public struct FewShotTask: Sendable {
    /// The task name (its folder name).
    public let name: String
    /// The files this sample was loaded from.
    public let sample: FewShotSample
    public let train: [Example]
    public let dev: [Example]
    /// The test examples; nil when the sample has no test file or `includeTest` was false.
    public let test: [Example]?

    /// Loads the sample of `task` drawn with `seed` from a CrossFit data folder.
    ///
    /// - Parameters:
    ///   - dataDirectory: the folder holding one sub-folder per task.
    ///   - task: the task (sub-folder) name, e.g. `"glue-rte"`.
    ///   - seed: the sample's seed (one of ``CrossFitDirectory/paperSeeds`` for CrossFit data).
    ///   - shots: k as written in the file names; default nil = whichever k the task has with this
    ///     seed (an error when it has several).
    ///   - includeTest: whether to read the test file, which can be large; default true.
    /// - Throws: ``DataError``: an unknown task, no sample with this seed, a missing train or dev
    ///   file, or a malformed file.
    public static func load(dataDirectory: URL, task: String, seed: Int, shots: Int? = nil,
                            includeTest: Bool = true) throws -> FewShotTask {
        let sample = try CrossFitDirectory.sample(in: dataDirectory, task: task, seed: seed, shots: shots)
        return try FewShotTask(sample: sample, includeTest: includeTest)
    }

    /// Loads a sample found by ``CrossFitDirectory``.
    ///
    /// - Parameters:
    ///   - sample: the sample's files.
    ///   - includeTest: whether to read the test file; default true.
    public init(sample: FewShotSample, includeTest: Bool = true) throws {
        func read(_ part: DataPart) throws -> [Example] {
            guard let url = sample.files[part] else {
                let expected = "\(sample.prefix)_\(part.rawValue).tsv"
                let folder = sample.files.values.first?.deletingLastPathComponent()
                throw DataError.missingFile(path: folder?.appendingPathComponent(expected).path ?? expected)
            }
            return try CrossFitTSV.read(url, task: sample.task)
        }
        name = sample.task
        self.sample = sample
        train = try read(.train)
        dev = try read(.dev)
        test = includeTest && sample.files[.test] != nil ? try read(.test) : nil
    }

    /// The examples of `part`; empty for an absent test set.
    public func examples(_ part: DataPart) -> [Example] {
        switch part {
        case .train: return train
        case .dev: return dev
        case .test: return test ?? []
        }
    }
}
