import Foundation

/// The three parts of a few-shot sample.
public enum DataPart: String, CaseIterable, Codable, Sendable {
    case train, dev, test
}

/// The files of one k-shot sample of a task: `<task>/<task>_<shots>_<seed>_{train,dev,test}.tsv`.
public struct FewShotSample: Hashable, Sendable {
    public let task: String
    /// k as written in the file name (CrossFit: 16 per class for classification tasks, 32 otherwise).
    public let shots: Int
    /// The sampling seed (the paper's are 100, 13, 21, 42, 87).
    public let seed: Int
    /// Each part's file; a part without a file is absent (e.g. test sets of very large tasks).
    public let files: [DataPart: URL]

    /// `<task>_<shots>_<seed>`, the original's "prefix" of the sample.
    public var prefix: String { "\(task)_\(shots)_\(seed)" }
}

/// A CrossFit data folder: one sub-folder per task holding `<task>_<k>_<seed>_<part>.tsv` files.
///
/// Discovery reads the folder listing only. Files whose names do not have that form (including
/// tokenisation caches and `tasks.json`) are ignored; a sub-folder is a task when it holds at
/// least one such file. The seed is matched as a whole field of the file name, not as a
/// substring (the original's `"_21" in prefix` would also match a seed 210 or a k of 21).
public struct CrossFitDirectory: Sendable {
    /// The seeds of the five k-shot samples per task in CrossFit and the paper.
    public static let paperSeeds = [100, 13, 21, 42, 87]

    /// The data folder.
    public let url: URL
    /// The task names (sub-folders with at least one sample file), sorted.
    public let tasks: [String]
    private let samplesByTask: [String: [FewShotSample]]

    /// Lists the tasks and samples of the data folder at `url`.
    ///
    /// - Throws: ``DataError/unreadable(path:reason:)`` when `url` is not a readable folder.
    public init(_ url: URL) throws {
        self.url = url
        var samples: [String: [FewShotSample]] = [:]
        for name in try Self.listing(of: url) {
            let found = try Self.samples(ofTaskFolder: url.appendingPathComponent(name), task: name)
            if !found.isEmpty { samples[name] = found }
        }
        samplesByTask = samples
        tasks = samples.keys.sorted()
    }

    /// Whether the folder holds `task`.
    public func contains(_ task: String) -> Bool { samplesByTask[task] != nil }

    /// The samples of `task`, sorted by shots and then seed.
    ///
    /// - Throws: ``DataError/unknownTask(_:source:)``.
    public func samples(of task: String) throws -> [FewShotSample] {
        guard let samples = samplesByTask[task] else { throw DataError.unknownTask(task, source: url.path) }
        return samples
    }

    /// The sample of `task` drawn with `seed` (and `shots`, when the task has samples of several sizes).
    ///
    /// - Throws: ``DataError/unknownTask(_:source:)``, ``DataError/missingSample(task:shots:seed:directory:available:)``,
    ///   ``DataError/ambiguousSample(task:seed:shots:directory:)``.
    public func sample(of task: String, seed: Int, shots: Int? = nil) throws -> FewShotSample {
        try Self.select(from: samples(of: task), task: task, seed: seed, shots: shots, directory: url.path)
    }

    /// The sample of one task, reading only that task's sub-folder.
    static func sample(in dataDirectory: URL, task: String, seed: Int, shots: Int?) throws -> FewShotSample {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.unreadable(path: dataDirectory.path, reason: "not a readable folder")
        }
        let folder = dataDirectory.appendingPathComponent(task)
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.unknownTask(task, source: dataDirectory.path)
        }
        let samples = try samples(ofTaskFolder: folder, task: task)
        guard !samples.isEmpty else { throw DataError.unknownTask(task, source: dataDirectory.path) }
        return try select(from: samples, task: task, seed: seed, shots: shots, directory: dataDirectory.path)
    }

    private static func select(from samples: [FewShotSample], task: String, seed: Int, shots: Int?,
                               directory: String) throws -> FewShotSample {
        let matching = samples.filter { $0.seed == seed && (shots == nil || $0.shots == shots) }
        guard matching.count <= 1 else {
            throw DataError.ambiguousSample(task: task, seed: seed, shots: matching.map(\.shots), directory: directory)
        }
        guard let sample = matching.first else {
            throw DataError.missingSample(task: task, shots: shots, seed: seed, directory: directory,
                                          available: samples.map(\.prefix))
        }
        return sample
    }

    private static func listing(of folder: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw DataError.unreadable(path: folder.path, reason: "not a readable folder")
        }
    }

    /// The samples in one task folder, from the file names.
    private static func samples(ofTaskFolder folder: URL, task: String) throws -> [FewShotSample] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return []
        }
        var files: [[Int]: [DataPart: URL]] = [:]
        for name in try listing(of: folder) {
            guard let (shots, seed, part) = parseFileName(name, task: task) else { continue }
            files[[shots, seed], default: [:]][part] = folder.appendingPathComponent(name)
        }
        return files.map { FewShotSample(task: task, shots: $0.key[0], seed: $0.key[1], files: $0.value) }
            .sorted { ($0.shots, $0.seed) < ($1.shots, $1.seed) }
    }

    /// `(shots, seed, part)` of `<task>_<shots>_<seed>_<part>.tsv`, or nil for any other name.
    static func parseFileName(_ name: String, task: String) -> (shots: Int, seed: Int, part: DataPart)? {
        guard name.hasPrefix(task + "_"), name.hasSuffix(".tsv") else { return nil }
        let fields = name.dropFirst(task.count + 1).dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
        guard fields.count == 3, let shots = decimal(fields[0]), let seed = decimal(fields[1]),
              let part = DataPart(rawValue: String(fields[2])) else { return nil }
        return (shots, seed, part)
    }

    /// A non-negative decimal number written with ASCII digits only (no sign, no spaces).
    private static func decimal(_ field: Substring) -> Int? {
        guard !field.isEmpty, field.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(field)
    }
}
