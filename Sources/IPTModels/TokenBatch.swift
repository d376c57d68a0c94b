/// A batch of token-id sequences padded on the right to a common length, with the mask of real
/// tokens. The tokenizer (IPTData) produces the ids; IPTModels only consumes them.
public struct TokenBatch: Equatable, Sendable {
    /// `batchSize * length` ids, row-major; padded positions hold the padding id given at creation.
    public let ids: [Int32]
    /// `batchSize * length` flags: `true` for real tokens, `false` for padding.
    public let mask: [Bool]
    /// Number of sequences.
    public let batchSize: Int
    /// Common (padded) length.
    public let length: Int

    /// Pads `rows` on the right with `paddingID` to the longest row.
    ///
    /// - Parameters:
    ///   - rows: token ids per sequence (any lengths, at least one row).
    ///   - paddingID: the id written into padded positions (the model's pad id).
    public init(_ rows: [[Int32]], paddingID: Int32) {
        precondition(!rows.isEmpty, "TokenBatch needs at least one row")
        let length = rows.map(\.count).max() ?? 0
        var ids: [Int32] = []
        var mask: [Bool] = []
        ids.reserveCapacity(rows.count * length)
        mask.reserveCapacity(rows.count * length)
        for row in rows {
            ids += row
            ids += repeatElement(paddingID, count: length - row.count)
            mask += repeatElement(true, count: row.count)
            mask += repeatElement(false, count: length - row.count)
        }
        self.init(ids: ids, mask: mask, batchSize: rows.count, length: length)
    }

    /// Wraps already padded ids.
    ///
    /// - Parameters:
    ///   - ids: `batchSize * length` ids, row-major.
    ///   - mask: `batchSize * length` flags (`true` = real token); `nil` means no padding.
    ///   - batchSize, length: the shape.
    public init(ids: [Int32], mask: [Bool]? = nil, batchSize: Int, length: Int) {
        precondition(batchSize > 0 && length >= 0 && ids.count == batchSize * length,
                     "TokenBatch: \(ids.count) ids for \(batchSize) x \(length)")
        precondition(mask == nil || mask!.count == ids.count, "TokenBatch: mask size differs from ids")
        self.ids = ids
        self.mask = mask ?? Array(repeating: true, count: ids.count)
        self.batchSize = batchSize
        self.length = length
    }

    /// The ids with padded positions set to `paddingID`, after checking that every real id is a
    /// row of a `vocabularySize`-row embedding.
    ///
    /// - Throws: ``ModelInputError/tokenOutOfRange(id:vocabularySize:)``.
    func checkedIDs(vocabularySize: Int, paddingID: Int32) throws -> [Int32] {
        var checked = ids
        for i in checked.indices {
            if !mask[i] {
                checked[i] = paddingID
            } else if checked[i] < 0 || Int(checked[i]) >= vocabularySize {
                throw ModelInputError.tokenOutOfRange(id: checked[i], vocabularySize: vocabularySize)
            }
        }
        return checked
    }

    /// The mask as rows (the layout of ``IPTCore/AttentionMask/keyPadding``).
    public var maskRows: [[Bool]] {
        (0..<batchSize).map { Array(mask[($0 * length)..<(($0 + 1) * length)]) }
    }
}

/// Inputs and targets of a text-to-text task batch (the teacher-forced training step).
public struct TaskBatch: Equatable, Sendable {
    /// Encoder inputs, e.g. `<s> [task] input </s>`.
    public var inputs: TokenBatch
    /// Target ids as the tokenizer gives them, `<s> answer </s>`, padded; padded positions carry
    /// no loss. The decoder reads them shifted right behind the decoder start token.
    public var targets: TokenBatch
    /// Per example, the candidate answers of its task, encoded like the targets (the target is one
    /// of them); `nil` when the batch has none (generation tasks). BART ignores them; an
    /// encoder-only model (``BertEncoder``) needs them: its loss is a cross entropy over them.
    public var options: [[[Int32]]]?

    /// - Parameters:
    ///   - inputs, targets: must have the same batch size.
    ///   - options: per example, its task's candidate answers; default none.
    public init(inputs: TokenBatch, targets: TokenBatch, options: [[[Int32]]]? = nil) {
        precondition(inputs.batchSize == targets.batchSize,
                     "TaskBatch: \(inputs.batchSize) inputs but \(targets.batchSize) targets")
        precondition(options == nil || options!.count == inputs.batchSize,
                     "TaskBatch: \(options?.count ?? 0) option lists for \(inputs.batchSize) examples")
        self.inputs = inputs
        self.targets = targets
        self.options = options
    }
}
