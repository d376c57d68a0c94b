// Greedy and beam search with an encoder-output cache and an incremental decoder, matching
// transformers' (v5.24) `GenerationMixin._sample` (greedy) and vectorised `_beam_search`.
import Foundation
import IPTCore

extension BartForConditionalGeneration {
    /// Generates a token sequence per example, greedily (`numBeams == 1`) or by beam search.
    ///
    /// The encoder runs once per example; every decoder layer's cross-attention keys/values are
    /// computed once and shared by an example's beams; each step feeds only the newest token
    /// (self-attention keys/values are cached). Runs in inference mode (no dropout, no graph).
    ///
    /// - Parameters:
    ///   - inputs: encoder ids, padded.
    ///   - prompt: soft prompt (shared or per example); default none.
    ///   - adapters: adapter weights; default none.
    ///   - configuration: settings; default ``generationConfiguration`` (the folder's defaults).
    /// - Returns: per example the generated tokens after the decoder start token, up to and
    ///   including the first EOS (no padding), as transformers' `generate` returns them with the
    ///   start token and padding removed.
    /// - Throws: ``ModelInputError`` for invalid inputs or settings.
    public func generate(_ inputs: TokenBatch, prompt: PromptInput? = nil, adapters: AdapterWeights? = nil,
                         configuration settings: GenerationConfiguration? = nil) throws -> [[Int32]] {
        let settings = try (settings ?? generationConfiguration)
            .resolved(maximumPositions: configuration.maximumPositions, vocabularySize: configuration.vocabularySize)
        return try withoutGradients {
            let encoded = try encode(inputs, prompt: prompt, adapters: adapters, context: inferenceContext)
            let decoder = IncrementalDecoder(model: self, encoderOutput: encoded, adapters: adapters,
                                             rowsPerItem: settings.numBeams, capacity: settings.maxLength - 1)
            return settings.numBeams == 1 ? greedySearch(decoder, settings) : beamSearch(decoder, settings)
        }
    }

    private func greedySearch(_ decoder: IncrementalDecoder, _ settings: ResolvedGeneration) -> [[Int32]] {
        let processors = LogitsProcessors(settings: settings)
        let vocabulary = configuration.vocabularySize
        var generated = Array(repeating: [Int32](), count: decoder.itemCount)
        var active = Array(0..<decoder.itemCount)
        var tokens = Array(repeating: settings.decoderStartTokenID, count: active.count)
        var length = 1
        while !active.isEmpty {
            var scores = decoder.step(tokens)
            scores.withUnsafeMutableBufferPointer { all in
                for (row, item) in active.enumerated() {
                    let slice = UnsafeMutableBufferPointer(rebasing: all[(row * vocabulary)..<((row + 1) * vocabulary)])
                    processors.apply(slice, sequence: [settings.decoderStartTokenID] + generated[item])
                    generated[item].append(Int32(firstMaximum(UnsafeBufferPointer(slice))))
                }
            }
            length += 1
            let running = active.indices.filter {
                !settings.eosTokenIDs.contains(generated[active[$0]].last!) && length < settings.maxLength
            }
            if running.isEmpty { break }
            if running.count < active.count { decoder.keepRows(running, items: running) }
            active = running.map { active[$0] }
            tokens = active.map { generated[$0].last! }
        }
        return generated
    }

    private func beamSearch(_ decoder: IncrementalDecoder, _ settings: ResolvedGeneration) -> [[Int32]] {
        let beams = settings.numBeams
        let vocabulary = configuration.vocabularySize
        let kept = Swift.max(2, 1 + settings.eosTokenIDs.count) * beams
        let processors = LogitsProcessors(settings: settings)
        var states = (0..<decoder.itemCount).map { _ in BeamState(beams: beams) }
        var active = Array(0..<decoder.itemCount)
        var length = 1
        while !active.isEmpty {
            let rowTokens = active.flatMap { item in
                states[item].running.map { $0.tokens.last ?? settings.decoderStartTokenID }
            }
            var logProbabilities = decoder.step(rowTokens).logSoftmax()
            var sourceRows: [Int] = []
            var remaining: [Int] = []
            logProbabilities.withUnsafeMutableBufferPointer { all in
                for (position, item) in active.enumerated() {
                    var state = states[item]
                    for (beam, hypothesis) in state.running.enumerated() {
                        let row = (position * beams + beam) * vocabulary
                        let slice = UnsafeMutableBufferPointer(rebasing: all[row..<(row + vocabulary)])
                        processors.apply(slice, sequence: [settings.decoderStartTokenID] + hypothesis.tokens)
                        for v in slice.indices { slice[v] += hypothesis.score }
                    }
                    let base = UnsafeBufferPointer(rebasing: all[(position * beams * vocabulary)..<((position + 1) * beams * vocabulary)])
                    let chosen = state.advance(topCandidates(base, count: kept), vocabulary: vocabulary, length: length,
                                               settings: settings)
                    states[item] = state
                    if !state.isDone {
                        remaining.append(position)
                        sourceRows += chosen.map { position * beams + $0 }
                    }
                }
            }
            length += 1
            if remaining.isEmpty { break }
            if sourceRows != Array(0..<(active.count * beams)) { decoder.keepRows(sourceRows, items: remaining) }
            active = remaining.map { active[$0] }
        }
        return states.map { $0.slots[0].tokens }
    }
}

/// The index of the first largest value (torch.argmax's choice among ties).
private func firstMaximum(_ values: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// The `count` largest values of `scores` as (flat index, value), best first; ties keep the lower
/// index first.
private func topCandidates(_ scores: UnsafeBufferPointer<Float>, count: Int) -> [(index: Int, score: Float)] {
    var top: [(index: Int, score: Float)] = []
    top.reserveCapacity(count + 1)
    for i in scores.indices {
        let s = scores[i]
        if top.count == count && !(s > top[count - 1].score) { continue }
        var position = top.count
        while position > 0 && s > top[position - 1].score { position -= 1 }
        top.insert((i, s), at: position)
        if top.count > count { top.removeLast() }
    }
    return top
}

/// Beam search state of one example, mirroring the tensors of transformers' `_beam_search`:
/// `running` (live beams and their accumulated log-probabilities), `slots` (the `num_beams`
/// best finished hypotheses, initially empty placeholders scored -1e9) and the early-stopping
/// flag.
private struct BeamState {
    struct Hypothesis {
        var tokens: [Int32]
        var score: Float
    }
    struct Slot {
        var tokens: [Int32]
        var score: Float
        var isFinished: Bool
    }

    /// The penalty transformers adds to exclude a candidate (-1e9, exact in Float32).
    static let excluded: Float = -1.0e9

    var running: [Hypothesis]
    var slots: [Slot]
    /// Whether a running beam may still beat the worst finished hypothesis.
    private var improvementPossible = true
    /// Whether this example's hypotheses can no longer change.
    private(set) var isDone = false
    let beams: Int

    init(beams: Int) {
        self.beams = beams
        // Only the first beam is live at the start, so the first step does not pick the same
        // token from identical beams.
        running = (0..<beams).map { Hypothesis(tokens: [], score: $0 == 0 ? 0 : BeamState.excluded) }
        slots = Array(repeating: Slot(tokens: [], score: BeamState.excluded, isFinished: false), count: beams)
    }

    /// One step: `candidates` are the top-K (beam * V + token, accumulated score) of this example,
    /// `length` the decoder length before the new token. Returns the source beam of each new
    /// running beam.
    mutating func advance(_ candidates: [(index: Int, score: Float)], vocabulary: Int, length: Int,
                          settings: ResolvedGeneration) -> [Int] {
        let extended = candidates.map { c -> (beam: Int, tokens: [Int32], score: Float, stops: Bool) in
            let token = Int32(c.index % vocabulary), beam = c.index / vocabulary
            let stops = settings.eosTokenIDs.contains(token) || length + 1 >= settings.maxLength
            return (beam, running[beam].tokens + [token], c.score, stops)
        }

        // Finished hypotheses: only candidates among the first num_beams that stop, scored with
        // the length penalty (length = generated tokens including this one), unless this example
        // can no longer change.
        let lengthPenalty = Float(pow(Double(length), settings.lengthPenalty))
        let full = settings.earlyStopping == .whenFull && slots.allSatisfy(\.isFinished)
        var merged = slots
        for (i, c) in extended.enumerated() {
            let justFinished = i < beams && c.stops
            var score = c.score / lengthPenalty
            if full { score += BeamState.excluded }
            if !improvementPossible { score += BeamState.excluded }
            if !justFinished { score += BeamState.excluded }
            merged.append(Slot(tokens: c.tokens, score: score, isFinished: justFinished))
        }
        slots = Array(stableTop(merged.map(\.score), count: beams).map { merged[$0] })

        // Live beams: the best candidates that did not stop.
        let liveScores = extended.map { $0.stops ? $0.score + BeamState.excluded : $0.score }
        let next = stableTop(liveScores, count: beams)
        running = next.map { Hypothesis(tokens: extended[$0].tokens, score: liveScores[$0]) }

        // Early-stopping heuristic for the next step (decoder length is now length + 1).
        let bestLength = settings.earlyStopping == .never && settings.lengthPenalty > 0
            ? settings.maxLength - 1 : length
        let best = running[0].score / Float(pow(Double(bestLength), settings.lengthPenalty))
        let worstFinished = slots.map(\.score).min()!
        improvementPossible = improvementPossible
            && slots.contains { best > ($0.isFinished ? worstFinished : BeamState.excluded) }
        isDone = !improvementPossible || (settings.earlyStopping == .whenFull && slots.allSatisfy(\.isFinished))
            || extended.allSatisfy(\.stops)
        return next.map { extended[$0].beam }
    }
}

/// Indices of the `count` largest values, best first; ties keep the lower index first.
private func stableTop(_ values: [Float], count: Int) -> [Int] {
    Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(count))
}

/// The decoder of one generation run: cross-attention keys/values per example computed once, a
/// key/value cache for self-attention, and one new token per row per step.
final class IncrementalDecoder {
    let model: BartForConditionalGeneration
    let adapters: AdapterWeights?
    private var cross: CrossAttentionState
    private let cache: KeyValueCache
    /// Examples in the run.
    let itemCount: Int

    /// - Parameters:
    ///   - rowsPerItem: decoder rows per example (beams), consecutive.
    ///   - capacity: the most decoder positions fed.
    init(model: BartForConditionalGeneration, encoderOutput: EncoderOutput, adapters: AdapterWeights?,
         rowsPerItem: Int, capacity: Int) {
        self.model = model
        self.adapters = adapters
        cross = model.decoder.crossAttentionState(encoderOutput)
        itemCount = encoderOutput.batchSize
        cache = KeyValueCache(layers: model.configuration.decoderLayers, rows: itemCount * rowsPerItem,
                              capacity: capacity, width: model.configuration.hiddenSize)
    }

    /// Feeds one token per row; returns the next-token logits `(rows, V)`.
    func step(_ tokens: [Int32]) -> Tensor {
        let hidden = model.decoder(tokens, batchSize: tokens.count, length: 1, cross: cross, cache: cache,
                                   adapters: adapters?.decoder, context: model.inferenceContext)
        return model.logits(hidden.reshaped([tokens.count, model.configuration.hiddenSize]))
    }

    /// Continues with cache row `rows[i]` as row i and, when examples were dropped, only the
    /// examples at positions `items` of the current ones.
    func keepRows(_ rows: [Int], items: [Int]) {
        cache.selectRows(rows)
        if items.count != cross.items { cross = cross.selecting(items: items) }
    }
}
