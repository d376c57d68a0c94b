import Foundation

/// A value at a key of a JSON file, with typed accessors whose errors name the file and the key.
struct JSONField {
    let file: String
    /// The dotted key path (`model.vocab`), `model.merges[3]` for array elements; empty for the root.
    let key: String
    /// The value; nil when the key is absent, `NSNull` when it is null.
    let value: Any?

    /// Reads and parses a JSON file.
    static func read(_ url: URL) throws -> JSONField {
        let data = try readFile(url)
        do {
            return JSONField(file: url.path, key: "", value: try JSONSerialization.jsonObject(with: data))
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw TokenizerError.malformedFile(path: url.path, location: lineOfCharacterOffset(in: detail, data: data),
                                               problem: "not valid JSON (\(detail))")
        }
    }

    var isAbsentOrNull: Bool { value == nil || value is NSNull }

    func child(_ name: String) -> JSONField {
        JSONField(file: file, key: key.isEmpty ? name : "\(key).\(name)", value: (value as? [String: Any])?[name])
    }

    func failure(_ problem: String) -> TokenizerError {
        .malformedFile(path: file, location: key.isEmpty ? nil : "key \(key)", problem: problem)
    }

    func unsupported(_ problem: String) -> TokenizerError {
        .unsupported(path: file, location: key.isEmpty ? "root" : "key \(key)", problem: problem)
    }

    func object() throws -> [String: Any] {
        guard let object = value as? [String: Any] else { throw failure("expected an object, found \(kind)") }
        return object
    }

    func array() throws -> [JSONField] {
        guard let array = value as? [Any] else { throw failure("expected an array, found \(kind)") }
        return array.enumerated().map { JSONField(file: file, key: "\(key)[\($0.offset)]", value: $0.element) }
    }

    func string() throws -> String {
        guard let string = value as? String else { throw failure("expected a string, found \(kind)") }
        return string
    }

    func bool() throws -> Bool {
        guard let number = value as? NSNumber, Self.isBoolean(number) else { throw failure("expected true or false, found \(kind)") }
        return number.boolValue
    }

    /// A non-negative integer that fits an Int32 (a token id).
    func id() throws -> Int32 {
        guard let number = value as? NSNumber, !Self.isBoolean(number) else { throw failure("expected an integer id, found \(kind)") }
        let double = number.doubleValue
        guard double >= 0, double <= Double(Int32.max), double.rounded() == double else {
            throw failure("expected a non-negative integer id below 2^31, found \(number)")
        }
        return Int32(double)
    }

    func optionalString() throws -> String? { isAbsentOrNull ? nil : try string() }
    func optionalBool(default fallback: Bool) throws -> Bool { isAbsentOrNull ? fallback : try bool() }

    /// What the value is, for error messages.
    var kind: String {
        switch value {
        case nil: return "nothing (the key is missing)"
        case is NSNull: return "null"
        case let number as NSNumber: return Self.isBoolean(number) ? "a boolean" : "a number"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "an unexpected value"
        }
    }

    /// JSONSerialization gives booleans as NSNumber; only their type code tells them from 0 and 1.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}

/// The bytes of a file, or a missing-file or unreadable-file error.
func readFile(_ url: URL) throws -> Data {
    guard FileManager.default.fileExists(atPath: url.path) else { throw TokenizerError.missingFile(path: url.path) }
    do {
        return try Data(contentsOf: url)
    } catch {
        throw TokenizerError.unreadableFile(path: url.path, reason: (error as NSError).localizedDescription)
    }
}

/// "line N" for a JSONSerialization message that says "around character K" (K counts bytes) or
/// that the file ended too early (the last line).
private func lineOfCharacterOffset(in message: String, data: Data) -> String? {
    func line(at offset: Int) -> String { "line \(data.prefix(offset).reduce(1) { $1 == 0x0A ? $0 + 1 : $0 })" }
    if message.contains("end of file") { return line(at: data.count) }
    guard let range = message.range(of: "around character ") else { return nil }
    let digits = message[range.upperBound...].prefix { $0.isNumber }
    return Int(digits).map(line)
}
