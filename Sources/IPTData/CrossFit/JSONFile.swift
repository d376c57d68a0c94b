import Foundation

/// Reading small JSON files whose structure is checked key by key, so that an error names the
/// file and the offending key.
enum JSONFile {
    /// The top-level object of the JSON file at `url`.
    ///
    /// - Throws: ``DataError/missingFile(path:)``, ``DataError/unreadable(path:reason:)``,
    ///   ``DataError/malformedJSON(path:key:problem:)``.
    static func object(at url: URL) throws -> [String: Any] {
        let data = try TextFile.contents(of: url)
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data)
        } catch {
            // Foundation puts the position ("around line 3, column 5") in the debug description.
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            let firstLine = detail?.split(separator: "\n").first.map(String.init)
            throw DataError.malformedJSON(path: url.path, key: nil, problem: "not valid JSON" + (firstLine.map { " (\($0))" } ?? ""))
        }
        guard let object = value as? [String: Any] else {
            throw DataError.malformedJSON(path: url.path, key: nil, problem: "expected a JSON object at the top level")
        }
        return object
    }

    /// `object[key]` as a list of strings.
    static func strings(_ object: [String: Any], _ key: String, keyPath: String, path: String) throws -> [String] {
        guard let value = object[key] else {
            throw DataError.malformedJSON(path: path, key: keyPath, problem: "missing")
        }
        guard let list = value as? [Any], let strings = list as? [String], list.count == strings.count else {
            throw DataError.malformedJSON(path: path, key: keyPath, problem: "expected a list of strings")
        }
        return strings
    }

    /// `object[key]` as a string.
    static func string(_ object: [String: Any], _ key: String, keyPath: String, path: String) throws -> String {
        guard let value = object[key] else {
            throw DataError.malformedJSON(path: path, key: keyPath, problem: "missing")
        }
        guard let string = value as? String else {
            throw DataError.malformedJSON(path: path, key: keyPath, problem: "expected a string")
        }
        return string
    }
}
