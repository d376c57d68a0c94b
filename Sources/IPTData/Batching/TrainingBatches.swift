import IPTCore

/// Where an epoch-based batch iteration stands: the next batch to yield. Small and Codable, to be
/// saved with a training checkpoint; resuming from it yields exactly the batches (and chosen
/// answers) that the uninterrupted run would have yielded.
public struct BatchCursor: Codable, Hashable, Sendable {
    /// The epoch (0-based).
    public var epoch: Int
    /// The batch within the epoch (0-based).
    public var batch: Int

    public init(epoch: Int, batch: Int) {
        self.epoch = epoch
        self.batch = batch
    }

    /// The beginning of training.
    public static let start = BatchCursor(epoch: 0, batch: 0)
}

/// One training batch: pooled examples, each with one of its gold answers chosen.
public struct TrainingBatch: Sendable {
    /// Where this batch is in the iteration.
    public let position: BatchCursor
    /// The examples' indices in the pool.
    public let indices: [Int]
    public let examples: [Example]
    /// Per example the index of the chosen gold answer.
    public let answerIndices: [Int]
    /// Per example the index of its task in the pool's ``ExamplePool/tasks``.
    public let taskIndices: [Int]

    /// Per example the chosen gold answer (the training target before ``TargetFormat``).
    public var answers: [String] { zip(examples, answerIndices).map { $0.answers[$1] } }
    /// Per example its task name.
    public var tasks: [String] { examples.map(\.task) }
    public var count: Int { indices.count }
}

/// Training batches epoch after epoch, over a pool of examples of one or several tasks.
///
/// Each epoch the ``Batcher`` draws the batches, and each example with several gold answers gets
/// one chosen uniformly at random (as the original draws one per epoch item). Both draws are
/// functions of (seed, epoch) only, so iteration resumes exactly from a saved ``cursor``.
///
/// ```swift
/// var batches = try TrainingBatches(pool: pool, batchSize: 64, seed: 42, resumingFrom: saved ?? .start)
/// while let batch = batches.next() {
///     ...                        // train on batch
///     save(batches.cursor)       // with the checkpoint
/// }
/// ```
public struct TrainingBatches: Sequence, IteratorProtocol, Sendable {
    public let pool: ExamplePool
    public let batcher: Batcher
    /// Number of epochs; nil = no end.
    public let epochs: Int?
    /// The next batch to yield (after the last batch of an epoch: the start of the next epoch).
    public private(set) var cursor: BatchCursor
    private var plan: (epoch: Int, batches: [[Int]], answers: [Int])?

    /// - Parameters:
    ///   - pool: the examples.
    ///   - batchSize: examples per batch (positive).
    ///   - order: default `.shuffled` (the original's `RandomSampler`).
    ///   - seed: seed of the shuffles and the answer choices.
    ///   - epochs: default nil = iterate until the caller stops.
    ///   - dropLast: drop a final smaller batch of each epoch; default false.
    ///   - cursor: where to start; default ``BatchCursor/start``.
    /// - Throws: ``DataError/invalidCursor(_:)`` when `cursor` lies outside the iteration (e.g. a
    ///   checkpoint saved with another batch size or pool).
    public init(pool: ExamplePool, batchSize: Int, order: BatchOrder = .shuffled, seed: UInt64,
                epochs: Int? = nil, dropLast: Bool = false, resumingFrom cursor: BatchCursor = .start) throws {
        let batcher = Batcher(count: pool.count, batchSize: batchSize, order: order, seed: seed, dropLast: dropLast)
        let perEpoch = batcher.batchesPerEpoch
        // epoch < Int.max: a cursor at the end of an epoch moves on to the next one.
        guard cursor.epoch >= 0, cursor.epoch < Int.max, cursor.batch >= 0, cursor.batch <= perEpoch else {
            throw DataError.invalidCursor("epoch \(cursor.epoch), batch \(cursor.batch) is outside 0..<\(perEpoch) batches per epoch")
        }
        var start = cursor
        if start.batch == perEpoch && perEpoch > 0 { start = BatchCursor(epoch: start.epoch + 1, batch: 0) }
        if let epochs, start.epoch > epochs || (start.epoch == epochs && start.batch > 0) {
            throw DataError.invalidCursor("epoch \(cursor.epoch), batch \(cursor.batch) is past the last of \(epochs) epochs")
        }
        self.pool = pool
        self.batcher = batcher
        self.epochs = epochs
        self.cursor = start
    }

    /// The next batch, or nil after the last epoch (or at once when the pool gives no batch).
    public mutating func next() -> TrainingBatch? {
        guard batcher.batchesPerEpoch > 0 else { return nil }
        if let epochs, cursor.epoch >= epochs { return nil }
        if plan?.epoch != cursor.epoch {
            plan = (cursor.epoch, batcher.batches(epoch: cursor.epoch), chosenAnswers(epoch: cursor.epoch))
        }
        guard let plan else { return nil }
        let indices = plan.batches[cursor.batch]
        let batch = TrainingBatch(position: cursor, indices: indices,
                                  examples: indices.map { pool.examples[$0] },
                                  answerIndices: indices.map { plan.answers[$0] },
                                  taskIndices: indices.map { pool.taskIndices[$0] })
        cursor.batch += 1
        if cursor.batch == plan.batches.count { cursor = BatchCursor(epoch: cursor.epoch + 1, batch: 0) }
        return batch
    }

    /// Per pool example the answer chosen in `epoch`: uniform over its answers, drawn for every
    /// example in pool order from the epoch's own stream.
    private func chosenAnswers(epoch: Int) -> [Int] {
        var generator = RandomGenerator(seed: batcher.seed).derived("answer choice").derived(epoch)
        return pool.examples.map { generator.nextInt(below: Swift.max($0.answers.count, 1)) }
    }
}
