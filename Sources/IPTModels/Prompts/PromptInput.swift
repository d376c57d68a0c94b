import IPTCore

/// Soft prompt vectors to place at the start of the encoder input, as the IPT paper does.
///
/// The n vectors occupy encoder positions 0..<n ahead of the text's `<s>`: each gets its position
/// embedding and the embedding LayerNorm like a word embedding, but is not multiplied by the
/// embedding scale; the attention mask is 1 on them. Gradients flow into the tensor (and whatever
/// computed it, e.g. a subspace decoder) while the frozen model gets none.
public enum PromptInput {
    /// One prompt `(n, C)` for every example of the batch.
    case shared(Tensor)
    /// One prompt per example, `(B, n, C)` (e.g. each decoded from its task's intrinsic vector).
    case perExample(Tensor)

    /// The number of prompt vectors n.
    public var length: Int {
        switch self {
        case .shared(let t): return t.rank == 2 ? t.shape[0] : 0
        case .perExample(let t): return t.rank == 3 ? t.shape[1] : 0
        }
    }

    /// Checks the shape against the model's width and the batch size.
    func validate(hiddenSize: Int, batchSize: Int) throws {
        switch self {
        case .shared(let t):
            guard t.rank == 2, t.shape[1] == hiddenSize else {
                throw ModelInputError.promptShape(found: t.shape, expected: "(n, \(hiddenSize))")
            }
        case .perExample(let t):
            guard t.rank == 3, t.shape[0] == batchSize, t.shape[2] == hiddenSize else {
                throw ModelInputError.promptShape(found: t.shape, expected: "(\(batchSize), n, \(hiddenSize))")
            }
        }
    }

    /// `(B, n, C)`: the prompt for each of `batchSize` examples (a shared prompt is broadcast, so
    /// its gradient is the sum over the batch).
    func perExampleTensor(batchSize: Int) -> Tensor {
        switch self {
        case .shared(let t): return t.unsqueezed(0).broadcast(to: [batchSize] + t.shape)
        case .perExample(let t): return t
        }
    }

    /// The prompt rows of the given examples, in that order (for expanding a batch to beams or
    /// options).
    func selecting(examples rows: [Int]) -> PromptInput {
        switch self {
        case .shared: return self
        case .perExample(let t): return .perExample(t.gatheringRows(rows))
        }
    }
}

/// A trainable soft prompt: n vectors of the model's width, initialised N(0, 0.02) as the IPT
/// paper's `prompt_embeddings` (vocabulary-sampled initialisation did worse there).
public final class SoftPrompt: Module {
    /// `(n, C)`, checkpoint key `weight`.
    public let weight: Parameter

    /// - Parameters:
    ///   - length: n, the number of vectors (the paper uses 100).
    ///   - width: the model's hidden size.
    ///   - standardDeviation: of the normal initialisation; default 0.02.
    ///   - generator: source of the initial values.
    public init(length: Int, width: Int, standardDeviation: Float = 0.02, generator: inout RandomGenerator) {
        weight = Parameter(Tensor.randomNormal([length, width], standardDeviation: standardDeviation, generator: &generator))
    }

    /// Wraps given values `(n, C)`.
    public init(values: Tensor) {
        precondition(values.rank == 2, "SoftPrompt values must be (n, C), got \(values.shape)")
        weight = Parameter(values)
    }

    /// The prompt for a forward pass (with its gradient leaf when trainable).
    public var input: PromptInput { .shared(weight.tensor) }
}
