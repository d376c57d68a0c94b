/// What went wrong loading or using a tokenizer. Each description is one line that names the file
/// and the line or key.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A needed file does not exist.
    case missingFile(path: String)
    /// A file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// A file's content is wrong; `location` is a line (`"line 12"`) or a key (`"model.vocab"`).
    case malformedFile(path: String, location: String?, problem: String)
    /// A file asks for something this tokenizer does not implement.
    case unsupported(path: String, location: String, problem: String)
    /// A call's argument cannot be honoured.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file not found"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .malformedFile(let path, let location, let problem):
            return [path, location, problem].compactMap { $0 }.joined(separator: ": ")
        case .unsupported(let path, let location, let problem):
            return "\(path): \(location): unsupported: \(problem)"
        case .invalidArgument(let problem):
            return problem
        }
    }
}
