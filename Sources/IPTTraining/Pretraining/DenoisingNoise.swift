import Foundation
import IPTCore

/// BART's denoising noise (Lewis et al. 2020, §2.2; fairseq's `DenoisingDataset`): text infilling
/// and, optionally, sentence permutation. The model reads the noised sequence and is trained to
/// write the original.
///
/// Text infilling: span lengths are drawn from Poisson(λ) until they cover `maskRatio` of the
/// sequence's tokens (the last span is shortened so that they cover exactly that many); each span
/// becomes ONE `<mask>` token, and a span of length 0 inserts a `<mask>`. Spans never touch `<s>`
/// or `</s>` and never overlap or abut (each span's `<mask>` stands for exactly one span).
/// Unlike fairseq, which places span starts independently (so overlapping spans mask fewer tokens
/// than asked), the spans are laid into distinct gaps between the kept tokens, so the masked share
/// is exact. Masks are never swapped for random tokens (fairseq's `mask_random`, off here).
///
/// Sentence permutation shuffles the sequence's segments (its corpus lines) before infilling.
public struct DenoisingNoise: Codable, Sendable, Equatable {
    /// Share of each sequence's tokens (`<s>`/`</s>` excluded) that the spans cover; default 0.3.
    public var maskRatio: Double
    /// Mean span length λ of the Poisson distribution; default 3 (BART uses 3 to 3.5).
    public var poissonLambda: Double
    /// Shuffle the segments of a sequence before infilling; default false (see Docs/embedded-model.md:
    /// our segments are unrelated corpus lines, whose order cannot be recovered).
    public var permuteSentences: Bool

    /// - Parameters: see the properties.
    public init(maskRatio: Double = 0.3, poissonLambda: Double = 3, permuteSentences: Bool = false) {
        self.maskRatio = maskRatio
        self.poissonLambda = poissonLambda
        self.permuteSentences = permuteSentences
    }

    /// Throws ``TrainingError/invalidConfiguration(_:)`` naming the bad key.
    public func validate() throws {
        guard maskRatio >= 0 && maskRatio < 1 else {
            throw TrainingError.invalidConfiguration("noise.mask_ratio must be in [0, 1), got \(maskRatio)")
        }
        guard poissonLambda > 0 && poissonLambda <= 64 else {
            throw TrainingError.invalidConfiguration("noise.poisson_lambda must be in (0, 64], got \(poissonLambda)")
        }
    }

    enum CodingKeys: String, CodingKey {
        case maskRatio = "mask_ratio", poissonLambda = "poisson_lambda", permuteSentences = "permute_sentences"
    }

    /// The noised copy of `sequence`.
    ///
    /// - Parameters:
    ///   - sequence: `<s> body </s>` (at least the two special tokens).
    ///   - segmentStarts: offsets into the body where segments (sentences, corpus lines) begin,
    ///     ascending, the first 0; used only when ``permuteSentences``.
    ///   - maskID: the `<mask>` id.
    ///   - generator: the randomness; the result is a pure function of its state and the inputs.
    /// - Returns: `<s> noised body </s>`.
    public func apply(to sequence: [Int32], segmentStarts: [Int] = [0], maskID: Int32,
                      generator: inout RandomGenerator) -> [Int32] {
        precondition(sequence.count >= 2, "DenoisingNoise: a sequence needs <s> and </s>")
        var body = Array(sequence[1..<(sequence.count - 1)])
        if permuteSentences {
            body = Self.permutingSegments(body, starts: segmentStarts, generator: &generator)
        }
        return [sequence[0]] + infilling(body, maskID: maskID, generator: &generator) + [sequence[sequence.count - 1]]
    }

    /// `body` with its segments in a random order.
    static func permutingSegments(_ body: [Int32], starts: [Int], generator: inout RandomGenerator) -> [Int32] {
        let bounds = starts.filter { $0 > 0 && $0 < body.count } + [body.count]
        var segments: [ArraySlice<Int32>] = []
        var begin = 0
        for end in bounds where end > begin {
            segments.append(body[begin..<end])
            begin = end
        }
        guard segments.count > 1 else { return body }
        return generator.permutation(segments.count).flatMap { segments[$0] }
    }

    /// Text infilling of `body` (no special tokens).
    func infilling(_ body: [Int32], maskID: Int32, generator: inout RandomGenerator) -> [Int32] {
        let toMask = Int((Double(body.count) * maskRatio).rounded())
        guard toMask > 0 else { return body }
        var lengths: [Int] = []
        var covered = 0
        while covered < toMask {
            let length = Self.poisson(poissonLambda, generator: &generator)
            lengths.append(length)
            covered += length
        }
        lengths[lengths.count - 1] -= covered - toMask
        // Spans go into distinct gaps around the kept tokens (kept + 1 gaps); with more spans than
        // gaps, the surplus spans join the last one.
        let kept = body.count - toMask
        while lengths.count > kept + 1 {
            let last = lengths.removeLast()
            lengths[lengths.count - 1] += last
        }
        let gaps = generator.permutation(kept + 1).prefix(lengths.count).sorted()
        var spanAt: [Int: Int] = [:]
        for (gap, length) in zip(gaps, lengths) { spanAt[gap] = length }
        var noised: [Int32] = []
        noised.reserveCapacity(kept + lengths.count)
        var position = 0
        for gap in 0...kept {
            if let length = spanAt[gap] {
                noised.append(maskID)
                position += length
            }
            if gap < kept {
                noised.append(body[position])
                position += 1
            }
        }
        return noised
    }

    /// A Poisson(λ) draw (Knuth's product of uniforms; λ is small).
    static func poisson(_ lambda: Double, generator: inout RandomGenerator) -> Int {
        let limit = exp(-lambda)
        var count = 0
        var product = generator.nextUniform()
        while product > limit {
            count += 1
            product *= generator.nextUniform()
        }
        return count
    }
}
