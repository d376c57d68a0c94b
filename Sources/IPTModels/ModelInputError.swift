/// A problem with the ids, prompt or adapters given to a model: lengths beyond the position table,
/// ids outside the vocabulary, wrong shapes. Each description is one line.
public enum ModelInputError: Error, CustomStringConvertible, Equatable {
    /// Prompt plus text need more positions than the model has.
    case sequenceTooLong(promptLength: Int, textLength: Int, maximum: Int)
    /// The decoder sequence needs more positions than the model has.
    case targetTooLong(length: Int, maximum: Int)
    /// A token id outside the model's vocabulary (a tokenizer that does not match the model?).
    case tokenOutOfRange(id: Int32, vocabularySize: Int)
    /// A prompt tensor of the wrong shape.
    case promptShape(found: [Int], expected: String)
    /// Adapter weights that do not fit the model.
    case adapterShape(problem: String)
    /// Option lists that cannot be scored (none for an example, an empty option).
    case invalidOptions(problem: String)
    /// A generation setting that cannot be used.
    case invalidGeneration(problem: String)

    public var description: String {
        switch self {
        case let .sequenceTooLong(promptLength, textLength, maximum):
            return "prompt (\(promptLength)) + input (\(textLength)) = \(promptLength + textLength) tokens exceed the "
                + "model's \(maximum) positions; truncate the input to \(max(0, maximum - promptLength)) tokens"
        case let .targetTooLong(length, maximum):
            return "target of \(length) tokens exceeds the model's \(maximum) positions"
        case let .tokenOutOfRange(id, vocabularySize):
            return "token id \(id) is outside the model's vocabulary 0..<\(vocabularySize) (tokenizer and model do not match?)"
        case let .promptShape(found, expected):
            return "prompt has shape \(found), expected \(expected)"
        case let .adapterShape(problem):
            return "adapter weights: \(problem)"
        case let .invalidOptions(problem):
            return "option scoring: \(problem)"
        case let .invalidGeneration(problem):
            return "generation: \(problem)"
        }
    }
}
