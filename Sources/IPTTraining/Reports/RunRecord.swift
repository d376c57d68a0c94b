import Foundation
import IPTCore

/// One finished run read from its folder: its `results.json`, and what the report needs from its
/// `config.json` (the training tasks of a subspace, the subspace a tuning run used).
public struct RunRecord: Sendable {
    /// The run folder.
    public var folder: URL
    public var result: ProcedureResult
    /// The tasks the subspace was found on, for subspace finding (prompt or adapter) and for
    /// tuning runs whose subspace file names them; `nil` when the run has no such subspace.
    public var subspaceTrainingTasks: Set<String>?
    /// Fastfood runs: whether the per-tensor scalars of SAID were trained (`false`: DID).
    public var structureAware: Bool?

    public init(folder: URL, result: ProcedureResult, subspaceTrainingTasks: Set<String>? = nil, structureAware: Bool? = nil) {
        self.folder = folder
        self.result = result
        self.subspaceTrainingTasks = subspaceTrainingTasks
        self.structureAware = structureAware
    }

    /// Every finished run under `paths`.
    ///
    /// A folder holding `results.json` is one run and is not searched further (its subfolders are
    /// the points of a learning-rate x batch-size grid, whose best point the grid's result already
    /// is). Other folders are searched recursively (a `prompt-tune` or `tune-subspace` output with
    /// one subfolder per task, a folder of many experiments). A path may also name a
    /// `results.json` file. Interrupted results are skipped.
    ///
    /// - Throws: ``TrainingError/fileFormat(_:)`` naming the file when a path does not exist or a
    ///   `results.json` or `config.json` cannot be read.
    public static func load(paths: [String]) throws -> [RunRecord] {
        var records: [RunRecord] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw TrainingError.fileFormat("\(path): no such file or folder")
            }
            let url = URL(fileURLWithPath: path).standardizedFileURL
            if isDirectory.boolValue {
                try collect(url, into: &records)
            } else if url.lastPathComponent == RunDirectory.resultsName {
                try records.append(load(folder: url.deletingLastPathComponent()))
            } else {
                throw TrainingError.fileFormat("\(path): neither a run folder nor a \(RunDirectory.resultsName)")
            }
        }
        return records.filter { !$0.result.interrupted }
    }

    private static func collect(_ folder: URL, into records: inout [RunRecord]) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder.appendingPathComponent(RunDirectory.resultsName).path) {
            records.append(try load(folder: folder))
            return
        }
        let children = (try? fm.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey],
                                                    options: [.skipsHiddenFiles])) ?? []
        for child in children.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: child.path, isDirectory: &isDirectory), isDirectory.boolValue {
                try collect(child, into: &records)
            }
        }
    }

    /// The run in `folder` (which holds `results.json`).
    public static func load(folder: URL) throws -> RunRecord {
        let resultsPath = folder.appendingPathComponent(RunDirectory.resultsName).path
        let result: ProcedureResult
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            result = try decoder.decode(ProcedureResult.self, from: Data(contentsOf: URL(fileURLWithPath: resultsPath)))
        } catch let error as DecodingError {
            throw TrainingError.fileFormat("\(resultsPath): not a results file of ipt-cli (\(describe(error)))")
        } catch {
            throw TrainingError.fileFormat("\(resultsPath): cannot read (\(RunDirectory.reason(error)))")
        }
        var record = RunRecord(folder: folder, result: result)
        let configuration = try configurationObject(folder)
        let settings = configuration?["configuration"] as? [String: Any]
        switch result.procedure {
        case .subspaceFinding, .adapterSubspaceFinding:
            if let tasks = configuration?["tasks"] as? [String] {
                record.subspaceTrainingTasks = Set(tasks)
            } else {
                record.subspaceTrainingTasks = Set(result.tasks.filter { $0.seen == true }.map(\.task))
            }
        case .subspaceTuning:
            if let source = settings?["subspace"] as? [String: Any], source["kind"] as? String == "file",
               let path = source["path"] as? String {
                record.subspaceTrainingTasks = trainingTasks(ofSubspaceFile: path, relativeTo: folder)
            }
        case .adapterSubspaceTuning:
            if let path = settings?["subspace"] as? String {
                record.subspaceTrainingTasks = trainingTasks(ofSubspaceFile: path, relativeTo: folder)
            }
        case .fastfoodTuning:
            record.structureAware = settings?["structure_aware"] as? Bool
        case .promptTuning, .stageTwo:
            break
        }
        return record
    }

    /// `config.json` of a run folder as a JSON object; `nil` when the folder has none.
    private static func configurationObject(_ folder: URL) throws -> [String: Any]? {
        let path = folder.appendingPathComponent(RunDirectory.configurationName).path
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TrainingError.fileFormat("\(path): not a JSON object")
        }
        return object
    }

    /// The training tasks recorded in a subspace artifact's metadata (its run configuration),
    /// looking for the file as written and relative to the run folder; `nil` when not found.
    private static func trainingTasks(ofSubspaceFile path: String, relativeTo folder: URL) -> Set<String>? {
        let candidates = path.hasPrefix("/") ? [path] : [path, folder.appendingPathComponent(path).path]
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate) {
            guard let strings = try? SafeTensors.readMetadata(candidate),
                  let metadata = ArtifactMetadata(strings: strings),
                  let object = try? JSONSerialization.jsonObject(with: Data(metadata.configuration.utf8)) as? [String: Any],
                  let tasks = object["tasks"] as? [String] else { return nil }
            return Set(tasks)
        }
        return nil
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            return key.isEmpty ? "not valid JSON" : "bad value at \(key)"
        @unknown default:
            return "invalid"
        }
    }
}
