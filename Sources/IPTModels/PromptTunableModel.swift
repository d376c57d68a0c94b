import IPTCore

/// What the IPT training procedures need from a frozen backbone: the task loss and predictions for
/// a batch, with a soft prompt and/or adapter weights in the forward pass. BART
/// (``BartForConditionalGeneration``, text to text) and BERT (``BertEncoder``, encoder-only:
/// similarity to the task's options) implement it, so the procedures do not depend on the
/// architecture.
public protocol PromptTunableModel: AnyObject {
    /// Width of the hidden states, and so of prompt vectors.
    var hiddenSize: Int { get }
    /// Rows of the word-embedding table (ids must be below it).
    var vocabularySize: Int { get }
    /// Whether ``generate(_:prompt:adapters:configuration:)`` can produce text; an encoder-only
    /// model predicts by option scoring only, and needs ``TaskBatch/options`` to compute a loss.
    var supportsGeneration: Bool { get }
    /// Positions available to prompt plus input text.
    var maximumInputLength: Int { get }
    /// Whether dropout is active (see ``train(_:)``).
    var isTraining: Bool { get }

    /// Switches dropout on (training) or off.
    func train(_ on: Bool)

    /// Where dropout masks come from; training procedures reseed it every step so that a resumed
    /// run draws the same masks.
    var randomSource: RandomSource { get }

    /// Decoding defaults (from generation_config.json, else config.json); procedures override
    /// beams and length.
    var generationConfiguration: GenerationConfiguration { get }

    /// Rows of the word-embedding table for `ids` (no embedding scale), `(ids.count, hiddenSize)`:
    /// prompt initialisation from sampled vocabulary or from a text.
    func embeddingRows(_ ids: [Int32]) -> Tensor

    /// The layout of the IPT adapter subspace (two adapters per layer).
    func adapterLayout(bottleneckSize: Int) -> AdapterLayout

    /// The training loss of a batch: label-smoothed cross entropy over the target tokens (BART), or
    /// over the example's options (an encoder-only model).
    ///
    /// - Parameters:
    ///   - batch: input and target ids.
    ///   - prompt: soft prompt, or `nil`.
    ///   - adapters: adapter weights, or `nil`.
    ///   - epsilon: label smoothing (0.1 in the paper).
    ///   - reduction: `.sum` (the paper) or `.mean` over target tokens.
    func loss(batch: TaskBatch, prompt: PromptInput?, adapters: AdapterWeights?, epsilon: Float,
              reduction: LossReduction) throws -> Tensor

    /// Per example, the mean negative log-likelihood of its target tokens (BART), or of its target
    /// among its options (an encoder-only model).
    func targetNLL(batch: TaskBatch, prompt: PromptInput?, adapters: AdapterWeights?) throws -> [Float]

    /// Per example, a score for each of its candidate targets, higher is better (classification):
    /// BART's log-likelihood, BERT's cosine similarity.
    func scoreOptions(_ inputs: TokenBatch, options: [[[Int32]]], prompt: PromptInput?,
                      adapters: AdapterWeights?) throws -> [[Float]]

    /// Per example, generated target tokens (greedy or beam search); `configuration` `nil` uses
    /// the model's defaults.
    func generate(_ inputs: TokenBatch, prompt: PromptInput?, adapters: AdapterWeights?,
                  configuration: GenerationConfiguration?) throws -> [[Int32]]
}

extension PromptTunableModel {
    /// Checks that a prompt of `promptLength` vectors plus `textLength` input tokens fit the
    /// ``maximumInputLength`` positions; callers truncate the text to
    /// `maximumInputLength - promptLength`.
    ///
    /// - Throws: ``ModelInputError/sequenceTooLong(promptLength:textLength:maximum:)``.
    public func checkInputLength(promptLength: Int, textLength: Int) throws {
        if promptLength + textLength > maximumInputLength {
            throw ModelInputError.sequenceTooLong(promptLength: promptLength, textLength: textLength, maximum: maximumInputLength)
        }
    }
}

extension BartForConditionalGeneration: PromptTunableModel {
    public var vocabularySize: Int { configuration.vocabularySize }

    /// BART generates text (greedy or beam search).
    public var supportsGeneration: Bool { true }

    public func embeddingRows(_ ids: [Int32]) -> Tensor {
        withoutGradients { sharedEmbedding(ids, shape: [ids.count]) }
    }
}
