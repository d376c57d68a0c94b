/// transformers' logits processors for greedy and beam search, in its order: no-repeat n-gram,
/// minimum length, forced BOS, forced EOS. Greedy search applies them to the logits, beam search
/// to the log-probabilities (as transformers does).
struct LogitsProcessors {
    let settings: ResolvedGeneration

    /// Processes one row of `vocabularySize` scores for the decoder sequence `sequence` (start
    /// token included), in place.
    func apply(_ scores: UnsafeMutableBufferPointer<Float>, sequence: [Int32]) {
        let length = sequence.count
        let n = settings.noRepeatNgramSize
        if n > 0 && length >= n {
            // A window whose first n-1 tokens equal the last n-1 tokens bans its last token.
            let prefixStart = length - (n - 1)
            for start in 0...(length - n) {
                var matches = true
                for j in 0..<(n - 1) where sequence[start + j] != sequence[prefixStart + j] {
                    matches = false
                    break
                }
                if matches { scores[Int(sequence[start + n - 1])] = -.infinity }
            }
        }
        if settings.minLength > 0 && length < settings.minLength {
            for eos in settings.eosTokenIDs { scores[Int(eos)] = -.infinity }
        }
        if let bos = settings.forcedBOSTokenID, length == 1 {
            force(scores, [bos])
        }
        if !settings.forcedEOSTokenIDs.isEmpty && length == settings.maxLength - 1 {
            force(scores, settings.forcedEOSTokenIDs)
        }
    }

    /// Every score -inf except `tokens`, which get 0.
    private func force(_ scores: UnsafeMutableBufferPointer<Float>, _ tokens: [Int32]) {
        for i in scores.indices { scores[i] = -.infinity }
        for token in tokens { scores[Int(token)] = 0 }
    }
}
