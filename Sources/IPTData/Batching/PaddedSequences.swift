/// Token sequences of one batch padded to the longest of them (dynamic padding, as the
/// original's `trim_batch` leaves its batches), in the layout the model layers take.
public struct PaddedSequences: Hashable, Sendable {
    /// Row-major `rows × length` token ids; padding positions hold the pad id.
    public let ids: [Int32]
    public let rows: Int
    /// The longest sequence's length.
    public let length: Int
    /// Per row and position: `true` = token, `false` = padding (``IPTCore/AttentionMask/keyPadding``).
    public let mask: [[Bool]]

    /// Pads `sequences` on the right with `padID`.
    ///
    /// - Parameters:
    ///   - sequences: token ids per row (truncation, if any, is the tokenizer's job).
    ///   - padID: the pad token id (BART: 1).
    public init(_ sequences: [[Int32]], padID: Int32) {
        rows = sequences.count
        let length = sequences.map(\.count).max() ?? 0
        self.length = length
        var ids: [Int32] = []
        ids.reserveCapacity(rows * length)
        for sequence in sequences {
            ids.append(contentsOf: sequence)
            ids.append(contentsOf: repeatElement(padID, count: length - sequence.count))
        }
        self.ids = ids
        mask = sequences.map { sequence in (0..<length).map { $0 < sequence.count } }
    }

    /// `[rows, length]`, the index shape for ``IPTCore/Tensor/embedding(_:indices:indexShape:)``.
    public var shape: [Int] { [rows, length] }
}
