import IPTCore

/// What the IPT training procedures need from a frozen backbone: the task loss and predictions for
/// a batch, with a soft prompt and/or adapter weights in the forward pass. BART implements it; an
/// encoder-only model (BERT) can implement it too, so the procedures do not depend on the
/// architecture.
public protocol PromptTunableModel: AnyObject {
    /// Width of the hidden states, and so of prompt vectors.
    var hiddenSize: Int { get }
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

    /// Throws when a prompt of `promptLength` vectors plus `textLength` input tokens do not fit.
    func checkInputLength(promptLength: Int, textLength: Int) throws

    /// The layout of the IPT adapter subspace (two adapters per layer).
    func adapterLayout(bottleneckSize: Int) -> AdapterLayout

    /// The training loss of a batch (label-smoothed cross entropy over the target tokens).
    ///
    /// - Parameters:
    ///   - batch: input and target ids.
    ///   - prompt: soft prompt, or `nil`.
    ///   - adapters: adapter weights, or `nil`.
    ///   - epsilon: label smoothing (0.1 in the paper).
    ///   - reduction: `.sum` (the paper) or `.mean` over target tokens.
    func loss(batch: TaskBatch, prompt: PromptInput?, adapters: AdapterWeights?, epsilon: Float,
              reduction: LossReduction) throws -> Tensor

    /// Per example, the mean negative log-likelihood of its target tokens.
    func targetNLL(batch: TaskBatch, prompt: PromptInput?, adapters: AdapterWeights?) throws -> [Float]

    /// Per example, the log-likelihood of each of its candidate targets (classification).
    func scoreOptions(_ inputs: TokenBatch, options: [[[Int32]]], prompt: PromptInput?,
                      adapters: AdapterWeights?) throws -> [[Float]]

    /// Per example, generated target tokens (greedy or beam search); `configuration` `nil` uses
    /// the model's defaults.
    func generate(_ inputs: TokenBatch, prompt: PromptInput?, adapters: AdapterWeights?,
                  configuration: GenerationConfiguration?) throws -> [[Int32]]
}

extension BartForConditionalGeneration: PromptTunableModel {
    public func embeddingRows(_ ids: [Int32]) -> Tensor {
        withoutGradients { sharedEmbedding(ids, shape: [ids.count]) }
    }
}
