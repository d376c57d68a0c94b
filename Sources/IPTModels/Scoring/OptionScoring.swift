import IPTCore

extension BartForConditionalGeneration {
    /// Classification by option scoring: the log-likelihood of each candidate target (teacher
    /// forced, summed over the option's tokens) for each example. The argmax is the prediction; it
    /// is always one of the options. (Beyond the IPT paper, which generates.)
    ///
    /// Each input is encoded once; the decoder reads all of an example's options against that one
    /// encoder output. Runs in inference mode.
    ///
    /// - Parameters:
    ///   - inputs: encoder ids, padded.
    ///   - options: per example, its candidate targets as the tokenizer gives them
    ///     (`<s> label </s>`); examples may have different options and counts.
    ///   - prompt, adapters: as in ``encode(_:prompt:adapters:)``.
    /// - Returns: per example, one summed log-probability per option, in the given order.
    /// - Throws: ``ModelInputError`` for invalid ids, an example without options or an empty option.
    public func scoreOptions(_ inputs: TokenBatch, options: [[[Int32]]], prompt: PromptInput? = nil,
                             adapters: AdapterWeights? = nil) throws -> [[Float]] {
        guard options.count == inputs.batchSize else {
            throw ModelInputError.invalidOptions(problem: "\(options.count) option lists for \(inputs.batchSize) examples")
        }
        for (example, list) in options.enumerated() {
            if list.isEmpty { throw ModelInputError.invalidOptions(problem: "example \(example) has no options") }
            if list.contains(where: \.isEmpty) { throw ModelInputError.invalidOptions(problem: "example \(example) has an empty option") }
        }
        return try withoutGradients {
            let encoded = try encode(inputs, prompt: prompt, adapters: adapters, context: inferenceContext)
            // Every example gets the same number of decoder rows (its options, then copies of its
            // first option whose scores are dropped), so rows group evenly by example.
            let perExample = options.map(\.count).max()!
            let optionLength = options.joined().map(\.count).max()!
            if optionLength > configuration.maximumPositions {
                throw ModelInputError.targetTooLong(length: optionLength, maximum: configuration.maximumPositions)
            }
            let cross = decoder.crossAttentionState(encoded, queriesPerItem: perExample * optionLength,
                                                    policy: crossAttentionPolicy)
            // Bound the logits of one chunk (rows x length x V) to about 2^24 floats.
            let rowsPerChunk = Swift.max(1, (1 << 24) / (optionLength * configuration.vocabularySize))
            let examplesPerChunk = Swift.max(1, rowsPerChunk / perExample)
            var scores: [[Float]] = []
            for start in stride(from: 0, to: options.count, by: examplesPerChunk) {
                let chunk = Array(start..<Swift.min(options.count, start + examplesPerChunk))
                let rows = chunk.flatMap { i in (0..<perExample).map { options[i][$0 < options[i].count ? $0 : 0] } }
                let targets = TokenBatch(rows, paddingID: configuration.padTokenID)
                let logLikelihoods = try sequenceLogLikelihoods(targets, cross: cross.selecting(items: chunk), adapters: adapters)
                for (position, i) in chunk.enumerated() {
                    scores.append(Array(logLikelihoods[(position * perExample)..<(position * perExample + options[i].count)]))
                }
            }
            return scores
        }
    }

    /// Summed log-probability of each target row, teacher forced, rows grouped evenly by item of
    /// `cross`.
    private func sequenceLogLikelihoods(_ targets: TokenBatch, cross: CrossAttentionState,
                                        adapters: AdapterWeights?) throws -> [Float] {
        let counted = try countedTargets(targets)
        let decoderInputs = shiftedRight(targets)
        let hidden = decoder(try checkedIDs(decoderInputs), batchSize: targets.batchSize, length: targets.length,
                             cross: cross, cache: nil, adapters: adapters?.decoder, context: inferenceContext)
        let perToken = Tensor.labelSmoothedCrossEntropy(logits: logits(hidden), targets: counted, reduction: .none).scalars
        return (0..<targets.batchSize).map { row in
            -perToken[(row * targets.length)..<((row + 1) * targets.length)].reduce(0, +)
        }
    }
}
