import IPTCore

/// The example-option problems of a batch: examples with the same option list share one set of
/// option columns (usually the whole batch is one group; a multi-task batch has one per task).
struct OptionGroups {
    struct Group {
        /// Example rows of the batch.
        var rows: [Int]
        /// Rows of ``OptionGroups/unique`` that are this group's options, in option order.
        var columns: [Int]
    }

    /// Every distinct option of the batch, once.
    var unique: [[Int32]] = []
    var groups: [Group] = []

    /// - Throws: ``ModelInputError/invalidOptions(problem:)`` for a count that is not the batch
    ///   size, an example without options or an empty option.
    init(_ options: [[[Int32]]], batchSize: Int) throws {
        guard options.count == batchSize else {
            throw ModelInputError.invalidOptions(problem: "\(options.count) option lists for \(batchSize) examples")
        }
        var indexOfOption: [[Int32]: Int] = [:]
        var groupOfColumns: [[Int]: Int] = [:]
        for (example, list) in options.enumerated() {
            if list.isEmpty { throw ModelInputError.invalidOptions(problem: "example \(example) has no options") }
            if list.contains(where: \.isEmpty) { throw ModelInputError.invalidOptions(problem: "example \(example) has an empty option") }
            let columns = list.map { option -> Int in
                if let index = indexOfOption[option] { return index }
                unique.append(option)
                indexOfOption[option] = unique.count - 1
                return unique.count - 1
            }
            if let group = groupOfColumns[columns] {
                groups[group].rows.append(example)
            } else {
                groupOfColumns[columns] = groups.count
                groups.append(Group(rows: [example], columns: columns))
            }
        }
    }
}

extension BertEncoder: PromptTunableModel {
    /// Cosine similarities `(rows, K)` of the examples' embeddings (`(B, C)`, unit rows) with each
    /// group's option embeddings.
    private func similarities(_ embedded: Tensor, _ options: Tensor, _ group: OptionGroups.Group, batchSize: Int) -> Tensor {
        let rows = group.rows.count == batchSize && group.rows == Array(0..<batchSize) ? embedded : embedded.gatheringRows(group.rows)
        return Tensor.matmul(rows, options.gatheringRows(group.columns), transposeB: true)
    }

    /// Unit embeddings of the distinct options: no prompt, no dropout, through the adapters.
    private func optionEmbeddings(_ groups: OptionGroups, adapters: AdapterWeights?) throws -> Tensor {
        try embed(TokenBatch(groups.unique, paddingID: configuration.padTokenID), prompt: nil, adapters: adapters,
                  context: inferenceContext)
    }

    /// Per group: the logits (cosine / temperature) over its options and each row's target index.
    private func optionLogits(batch: TaskBatch, prompt: PromptInput?, adapters: AdapterWeights?,
                              context: ForwardContext) throws -> (groups: OptionGroups, logits: [Tensor], targets: [[Int32]]) {
        guard let options = batch.options else {
            throw ModelInputError.invalidOptions(problem: "an encoder-only model is trained on each example's answer options, "
                + "and this batch has none (only classification tasks can be used)")
        }
        let groups = try OptionGroups(options, batchSize: batch.inputs.batchSize)
        let t = batch.targets.length
        var targets: [[Int32]] = []
        for group in groups.groups {
            targets.append(try group.rows.map { row in
                let range = (row * t)..<((row + 1) * t)
                let target = zip(batch.targets.ids[range], batch.targets.mask[range]).filter(\.1).map(\.0)
                guard let index = group.columns.firstIndex(where: { groups.unique[$0] == target }) else {
                    throw ModelInputError.invalidOptions(problem: "the target of example \(row) is not among its options")
                }
                return Int32(index)
            })
        }
        let embedded = try embed(batch.inputs, prompt: prompt, adapters: adapters, context: context)
        let optionVectors = try optionEmbeddings(groups, adapters: adapters)
        let logits = groups.groups.map {
            similarities(embedded, optionVectors, $0, batchSize: batch.inputs.batchSize) * (1 / optionTemperature)
        }
        return (groups, logits, targets)
    }

    /// The training loss: label-smoothed cross entropy over each example's options of
    /// `cosine / optionTemperature` (see ``BertEncoder``).
    ///
    /// - Parameters:
    ///   - batch: inputs, targets and ``TaskBatch/options`` (required; each target must be one of
    ///     its example's options).
    ///   - prompt, adapters: as in ``encode(_:prompt:adapters:)``.
    ///   - epsilon: label smoothing over the options; default 0.1.
    ///   - reduction: `.sum` over examples (the default), `.mean`, or `.none` (one value per example).
    /// - Throws: ``ModelInputError`` (no options, a target that is not an option, invalid ids).
    public func loss(batch: TaskBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil,
                     epsilon: Float = 0.1, reduction: LossReduction = .sum) throws -> Tensor {
        let (groups, logits, targets) = try optionLogits(batch: batch, prompt: prompt, adapters: adapters, context: context)
        let perGroup = zip(logits, targets).map { Tensor.labelSmoothedCrossEntropy(logits: $0, targets: $1, epsilon: epsilon,
                                                                                    reduction: reduction == .none ? .none : .sum) }
        switch reduction {
        case .none:
            // Back into batch order.
            let order = groups.groups.flatMap(\.rows)
            var position = [Int](repeating: 0, count: order.count)
            for (i, row) in order.enumerated() { position[row] = i }
            return Tensor.concatenate(perGroup, axis: 0).gatheringRows(position)
        case .sum:
            return perGroup.dropFirst().reduce(perGroup[0], +)
        case .mean:
            return perGroup.dropFirst().reduce(perGroup[0], +) * (1 / Float(batch.inputs.batchSize))
        }
    }

    /// Per example, the negative log-probability of its target among its options (no smoothing, no
    /// dropout).
    public func targetNLL(batch: TaskBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil) throws -> [Float] {
        try withoutGradients {
            let (groups, logits, targets) = try optionLogits(batch: batch, prompt: prompt, adapters: adapters,
                                                             context: inferenceContext)
            var nll = [Float](repeating: 0, count: batch.inputs.batchSize)
            for (group, (scores, rowTargets)) in zip(groups.groups, zip(logits, targets)) {
                let values = Tensor.labelSmoothedCrossEntropy(logits: scores, targets: rowTargets, reduction: .none).scalars
                for (row, value) in zip(group.rows, values) { nll[row] = value }
            }
            return nll
        }
    }

    /// Classification by option scoring: the cosine similarity of each example's sentence embedding
    /// (with the prompt) to each of its options' (without). Runs in inference mode.
    ///
    /// - Parameters:
    ///   - inputs: ids, padded.
    ///   - options: per example, its candidate answers as the tokenizer gives them (`[CLS] label [SEP]`).
    ///   - prompt, adapters: as in ``encode(_:prompt:adapters:)``.
    /// - Returns: per example, one similarity in [-1, 1] per option, in the given order.
    /// - Throws: ``ModelInputError`` for invalid ids, an example without options or an empty option.
    public func scoreOptions(_ inputs: TokenBatch, options: [[[Int32]]], prompt: PromptInput? = nil,
                             adapters: AdapterWeights? = nil) throws -> [[Float]] {
        try withoutGradients {
            let groups = try OptionGroups(options, batchSize: inputs.batchSize)
            let embedded = try embed(inputs, prompt: prompt, adapters: adapters, context: inferenceContext)
            let optionVectors = try optionEmbeddings(groups, adapters: adapters)
            var scores = [[Float]](repeating: [], count: inputs.batchSize)
            for group in groups.groups {
                let values = similarities(embedded, optionVectors, group, batchSize: inputs.batchSize).scalars
                let k = group.columns.count
                for (i, row) in group.rows.enumerated() { scores[row] = Array(values[(i * k)..<((i + 1) * k)]) }
            }
            return scores
        }
    }

    /// Always throws: an encoder generates no text (``supportsGeneration`` is false); predict with
    /// ``scoreOptions(_:options:prompt:adapters:)``.
    ///
    /// - Throws: ``ModelInputError/invalidGeneration(problem:)``.
    public func generate(_ inputs: TokenBatch, prompt: PromptInput?, adapters: AdapterWeights?,
                         configuration: GenerationConfiguration?) throws -> [[Int32]] {
        throw ModelInputError.invalidGeneration(problem: "BERT is an encoder-only model and generates no text; "
            + "predict by option scoring (classification tasks)")
    }
}
