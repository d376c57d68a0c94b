import Foundation

/// A value at a key of a JSON file, with typed accessors whose errors name the file and the key.
struct JSONField {
    let file: String
    /// The key path of the parent (`model`), empty for the root and its members.
    private let parentKey: String
    /// The member name (`vocab`) or array index (`[3]`) under the parent; empty for the root.
    private let name: String
    /// The value; nil when the key is absent.
    let value: JSONValue?

    private init(file: String, parentKey: String, name: String, value: JSONValue?) {
        self.file = file
        self.parentKey = parentKey
        self.name = name
        self.value = value
    }

    /// The dotted key path (`model.vocab`, `model.merges[3]`); empty for the root. Built only for
    /// messages, so that reading 50,000 vocabulary entries builds no paths.
    var key: String {
        if parentKey.isEmpty || name.hasPrefix("[") { return parentKey + name }
        return "\(parentKey).\(name)"
    }

    /// Reads and parses a JSON file.
    static func read(_ url: URL) throws -> JSONField {
        let data = try readFile(url)
        do {
            return JSONField(file: url.path, parentKey: "", name: "", value: try JSONValue.parse([UInt8](data)))
        } catch let error as JSONSyntaxError {
            throw TokenizerError.malformedFile(path: url.path, location: "line \(error.line)",
                                               problem: "not valid JSON: \(error.problem) (column \(error.column))")
        }
    }

    var isAbsentOrNull: Bool {
        if case .null? = value { return true }
        return value == nil
    }

    func child(_ member: String) -> JSONField {
        JSONField(file: file, parentKey: key, name: member, value: value?[member])
    }

    func failure(_ problem: String) -> TokenizerError {
        .malformedFile(path: file, location: key.isEmpty ? nil : "key \(key)", problem: problem)
    }

    func unsupported(_ problem: String) -> TokenizerError {
        .unsupported(path: file, location: key.isEmpty ? "root" : "key \(key)", problem: problem)
    }

    /// The members of an object, in file order, as fields.
    func members() throws -> [JSONField] {
        guard case .object(let members)? = value else { throw failure("expected an object, found \(kind)") }
        let parent = key
        return members.map { JSONField(file: file, parentKey: parent, name: $0.key, value: $0.value) }
    }

    /// The member name of this field (the token, for a vocabulary entry).
    var memberName: String { name }

    func array() throws -> [JSONField] {
        guard case .array(let elements)? = value else { throw failure("expected an array, found \(kind)") }
        let parent = key
        return elements.enumerated().map { JSONField(file: file, parentKey: parent, name: "[\($0.offset)]", value: $0.element) }
    }

    func string() throws -> String {
        guard case .string(let string)? = value else { throw failure("expected a string, found \(kind)") }
        return string
    }

    func bool() throws -> Bool {
        guard case .bool(let bool)? = value else { throw failure("expected true or false, found \(kind)") }
        return bool
    }

    func number() throws -> Double {
        guard case .number(let number)? = value else { throw failure("expected a number, found \(kind)") }
        return number
    }

    /// A non-negative integer that fits an Int32 (a token id).
    func id() throws -> Int32 {
        guard case .number(let number)? = value else { throw failure("expected an integer id, found \(kind)") }
        guard number >= 0, number <= Double(Int32.max), number.rounded() == number else {
            throw failure("expected a non-negative integer id below 2^31, found \(number)")
        }
        return Int32(number)
    }

    func optionalString() throws -> String? { isAbsentOrNull ? nil : try string() }
    func optionalBool(default fallback: Bool) throws -> Bool { isAbsentOrNull ? fallback : try bool() }

    /// What the value is, for error messages.
    var kind: String {
        switch value {
        case nil: return "nothing (the key is missing)"
        case .null?: return "null"
        case .bool?: return "a boolean"
        case .number?: return "a number"
        case .string?: return "a string"
        case .array?: return "an array"
        case .object?: return "an object"
        }
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
