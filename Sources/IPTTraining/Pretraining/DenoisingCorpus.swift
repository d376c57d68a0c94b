import Foundation
import IPTCore
import IPTData

/// The pretraining text as model-ready sequences: the corpus lines (one text each, as
/// `ipt-cli make-corpus` writes them) in a seeded random order, tokenized with the model's
/// tokenizer and packed greedily into sequences `<s> line line ... </s>` of at most
/// `sequenceLength` tokens; a line too long for one sequence is cut into pieces. Lines after the
/// first of a sequence are tokenized with a leading space (as running text), and each sequence
/// records where its lines start (the segments that sentence permutation shuffles).
///
/// The first `validationSequences` sequences are held out for the validation loss.
public struct DenoisingCorpus: Sendable {
    /// One packed sequence.
    public struct Sequence: Sendable, Equatable {
        /// `<s> ... </s>`.
        public var ids: [Int32]
        /// Offsets into the body (the ids without `<s>`/`</s>`) where lines begin; the first is 0.
        public var segmentStarts: [Int]

        public init(ids: [Int32], segmentStarts: [Int]) {
            self.ids = ids
            self.segmentStarts = segmentStarts
        }
    }

    /// Sequences to train on.
    public let training: [Sequence]
    /// Held-out sequences for the validation loss.
    public let validation: [Sequence]

    /// Packs `lines`.
    ///
    /// - Parameters:
    ///   - lines: the texts (empty ones are skipped).
    ///   - tokenizer: the model's tokenizer (with `<s>` and `</s>`).
    ///   - sequenceLength: the longest sequence, `<s>` and `</s>` included (at least 3).
    ///   - validationSequences: how many sequences to hold out; fewer than half of them.
    ///   - seed: decides the line order.
    /// - Throws: ``TrainingError/data(_:)`` when the tokenizer lacks `<s>`/`</s>` or the text
    ///   gives too few sequences.
    public init(lines: [String], tokenizer: any Tokenizer, sequenceLength: Int, validationSequences: Int,
                seed: UInt64) throws {
        guard let bos = tokenizer.bosTokenID, let eos = tokenizer.eosTokenID else {
            throw TrainingError.data("the tokenizer has no <s> or </s> token")
        }
        precondition(sequenceLength >= 3, "DenoisingCorpus: sequence length \(sequenceLength) below 3")
        var order = lines.filter { !$0.isEmpty }
        var generator = RandomGenerator(seed: seed).derived("corpus order")
        generator.shuffle(&order)
        let capacity = sequenceLength - 2
        var sequences: [Sequence] = []
        var body: [Int32] = []
        var starts: [Int] = []
        func flush() {
            guard !body.isEmpty else { return }
            sequences.append(Sequence(ids: [bos] + body + [eos], segmentStarts: starts))
            body = []
            starts = []
        }
        for line in order {
            var ids = tokenizer.encodeWithoutSpecialTokens(body.isEmpty ? line : " " + line)
            if !body.isEmpty && body.count + ids.count > capacity {
                flush()
                ids = tokenizer.encodeWithoutSpecialTokens(line)
            }
            while ids.count > capacity {  // a long line: full pieces, each its own sequence
                if !body.isEmpty { flush() }
                body = Array(ids.prefix(capacity))
                starts = [0]
                flush()
                ids.removeFirst(capacity)
            }
            guard !ids.isEmpty else { continue }
            starts.append(body.count)
            body += ids
        }
        flush()
        guard validationSequences >= 0, sequences.count >= 2 * validationSequences, sequences.count > validationSequences else {
            throw TrainingError.data("the corpus gives \(sequences.count) sequences of at most \(sequenceLength) tokens, too few to hold out \(validationSequences) for validation")
        }
        validation = Array(sequences.prefix(validationSequences))
        training = Array(sequences.dropFirst(validationSequences))
    }

    /// Reads a corpus file (UTF-8, one text per line) and packs it.
    ///
    /// - Throws: ``TrainingError/data(_:)`` naming the file when it cannot be read or is not UTF-8.
    public static func load(path: String, tokenizer: any Tokenizer, sequenceLength: Int, validationSequences: Int,
                            seed: UInt64) throws -> DenoisingCorpus {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError.data("\(path): cannot read the corpus file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TrainingError.data("\(path): the corpus is not UTF-8 text")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        do {
            return try DenoisingCorpus(lines: lines, tokenizer: tokenizer, sequenceLength: sequenceLength,
                                       validationSequences: validationSequences, seed: seed)
        } catch TrainingError.data(let problem) {
            throw TrainingError.data("\(path): \(problem)")
        }
    }

    /// Body tokens (without `<s>`/`</s>`) of the training sequences.
    public var trainingTokenCount: Int { training.reduce(0) { $0 + $1.ids.count - 2 } }
}
