import IPTCore

/// How a ``Batcher`` orders examples into the batches of an epoch.
public enum BatchOrder: Hashable, Sendable {
    /// Example order (evaluation, when the order of outputs must follow the file).
    case sequential
    /// A fresh seeded permutation every epoch, as the original's `RandomSampler` draws one.
    case shuffled
    /// Longest first, ties in example order: batches of similar lengths, hence little padding,
    /// for evaluation (put outputs back with the batch's indices).
    ///
    /// - Parameter lengths: per example its length (e.g. input token count).
    case longestFirst(lengths: [Int])
    /// Training with little padding but still random: a fresh permutation, cut into windows of
    /// `windowBatches` batches; each window sorted longest first (ties in permutation order) and
    /// cut into batches; then the batches of the epoch shuffled.
    ///
    /// - Parameters:
    ///   - lengths: per example its length.
    ///   - windowBatches: batches per sorting window (larger = less padding, less randomness).
    case lengthBucketed(lengths: [Int], windowBatches: Int)
}

/// Cuts `count` examples into batches of at most `batchSize`, epoch by epoch.
///
/// The batches of an epoch are a function of the seed and the epoch number only (the random
/// streams are ``RandomGenerator/derived(_:)`` per epoch), so any epoch can be recomputed —
/// which is what makes ``TrainingBatches`` resumable.
public struct Batcher: Hashable, Sendable {
    /// Number of examples.
    public let count: Int
    /// Examples per batch; the last batch of an epoch may be smaller unless `dropLast`.
    public let batchSize: Int
    public let order: BatchOrder
    /// Seed of the shuffles.
    public let seed: UInt64
    /// Whether to drop a final batch smaller than `batchSize`.
    public let dropLast: Bool

    /// - Parameters:
    ///   - count: number of examples.
    ///   - batchSize: examples per batch (positive).
    ///   - order: default `.shuffled`; length-based orders need one length per example.
    ///   - seed: seed of the shuffles; default 0.
    ///   - dropLast: drop a final smaller batch; default false (the original keeps it).
    public init(count: Int, batchSize: Int, order: BatchOrder = .shuffled, seed: UInt64 = 0, dropLast: Bool = false) {
        precondition(count >= 0 && batchSize > 0, "Batcher: count \(count), batch size \(batchSize)")
        switch order {
        case .sequential, .shuffled:
            break
        case let .longestFirst(lengths):
            precondition(lengths.count == count, "Batcher: \(lengths.count) lengths for \(count) examples")
        case let .lengthBucketed(lengths, windowBatches):
            precondition(lengths.count == count, "Batcher: \(lengths.count) lengths for \(count) examples")
            precondition(windowBatches > 0, "Batcher: window of \(windowBatches) batches")
        }
        self.count = count
        self.batchSize = batchSize
        self.order = order
        self.seed = seed
        self.dropLast = dropLast
    }

    /// Number of batches in every epoch.
    public var batchesPerEpoch: Int {
        count / batchSize + (dropLast || count % batchSize == 0 ? 0 : 1)
    }

    /// The batches of `epoch` (0-based), as example indices.
    public func batches(epoch: Int) -> [[Int]] {
        var generator = RandomGenerator(seed: seed).derived("batch order").derived(epoch)
        var batches: [[Int]]
        switch order {
        case .sequential:
            batches = chunks(Array(0..<count))
        case .shuffled:
            batches = chunks(generator.permutation(count))
        case let .longestFirst(lengths):
            batches = chunks(Self.longestFirst(Array(0..<count), lengths))
        case let .lengthBucketed(lengths, windowBatches):
            let permutation = generator.permutation(count)
            let window = windowBatches * batchSize
            batches = stride(from: 0, to: count, by: window).flatMap { start in
                chunks(Self.longestFirst(Array(permutation[start..<min(start + window, count)]), lengths))
            }
            generator.shuffle(&batches)
        }
        if dropLast { batches.removeAll { $0.count < batchSize } }
        return batches
    }

    private func chunks(_ indices: [Int]) -> [[Int]] {
        stride(from: 0, to: indices.count, by: batchSize).map { Array(indices[$0..<min($0 + batchSize, indices.count)]) }
    }

    /// `indices` sorted by decreasing length, ties kept in their given order.
    private static func longestFirst(_ indices: [Int], _ lengths: [Int]) -> [Int] {
        indices.enumerated()
            .sorted { (lengths[$0.element], $1.offset) > (lengths[$1.element], $0.offset) }
            .map(\.element)
    }
}
