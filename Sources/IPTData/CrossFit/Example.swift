/// One example of a CrossFit task: a TSV line `input<TAB>answer[<TAB>more answers]`.
public struct Example: Hashable, Codable, Sendable {
    /// The task the example belongs to (its folder name), so that pooled multi-task batches know
    /// each example's task.
    public var task: String
    /// Column 0 of the TSV line, e.g. `sentence 1: ... [SEP] sentence 2: ...`.
    public var input: String
    /// Columns 1... of the TSV line: the acceptable answers, at least one, none empty.
    public var answers: [String]

    public init(task: String, input: String, answers: [String]) {
        self.task = task
        self.input = input
        self.answers = answers
    }

    /// The model input in the paper's format, `" [<task>] <input>"` (with the leading space).
    public var formattedInput: String { " [\(task)] \(input)" }
}

/// How an answer becomes the decoder's target text. The original formats targets differently in
/// its two kinds of data loader, and GPT-2 byte-level BPE tokenises the two differently
/// (`"entailment"` vs `"Ġentailment"`), so the choice must match the procedure being reproduced.
public enum TargetFormat: String, Codable, Sendable, CaseIterable {
    /// The answer as is: single-task prompt tuning (`fewshot_gym_singletask.py`).
    case answerAsIs
    /// `" " + answer`: the multi-task loaders of subspace finding (MSF) and intrinsic subspace
    /// tuning (IST) (`fewshot_gym_multitask_AE.py`).
    case leadingSpace

    /// The target text for `answer`.
    public func format(_ answer: String) -> String {
        switch self {
        case .answerAsIs: return answer
        case .leadingSpace: return " " + answer
        }
    }
}
