import IPTCore

/// Self-attention keys and values of the positions decoded so far, per decoder layer, for
/// incremental decoding: each step feeds only the new token and attends over the cache.
///
/// Each layer's keys (and values) live in one zero-initialised `(rows, capacity, C)` buffer; a step
/// writes position `length` and attends over the whole buffer with a causal offset, which masks the
/// unwritten tail (zeros or stale finite values, so masked weights multiply finite numbers). Beam
/// reordering and dropping finished rows copy only the written prefix into a second buffer, which
/// then becomes the current one.
final class KeyValueCache {
    let capacity: Int
    let width: Int
    /// Rows in use.
    private(set) var rows: Int
    /// Positions written.
    private(set) var length = 0
    private var keys: [TensorStorage]
    private var values: [TensorStorage]
    private var spareKeys: [TensorStorage] = []
    private var spareValues: [TensorStorage] = []

    /// - Parameters:
    ///   - layers: decoder layer count.
    ///   - rows: sequences decoded together (rows never grow).
    ///   - capacity: the most positions that will be written.
    ///   - width: d_model.
    init(layers: Int, rows: Int, capacity: Int, width: Int) {
        self.capacity = capacity
        self.width = width
        self.rows = rows
        let count = rows * capacity * width
        keys = (0..<layers).map { _ in TensorStorage(count: count, repeating: 0) }
        values = (0..<layers).map { _ in TensorStorage(count: count, repeating: 0) }
    }

    /// Writes `(rows, T, C)` keys and values of one layer at positions `length ..< length + T`.
    func store(layer: Int, keys newKeys: Tensor, values newValues: Tensor) {
        let t = newKeys.shape[1]
        precondition(newKeys.shape == [rows, t, width] && newValues.shape == newKeys.shape && length + t <= capacity,
                     "cache: cannot store \(newKeys.shape) at \(length) into \(rows) x \(capacity) x \(width)")
        for (source, destination) in [(newKeys, keys[layer]), (newValues, values[layer])] {
            source.withUnsafeBufferPointer { s in
                for r in 0..<rows {
                    (destination.pointer + (r * capacity + length) * width)
                        .update(from: s.baseAddress! + r * t * width, count: t * width)
                }
            }
        }
    }

    /// `(rows, capacity, C)` views of one layer's keys and values (no copy).
    func keysAndValues(layer: Int) -> (Tensor, Tensor) {
        let count = rows * capacity * width
        func view(_ s: TensorStorage) -> Tensor {
            Tensor(shape: [rows, capacity, width], storage: TensorStorage(borrowing: s.pointer, count: count, owner: s))
        }
        return (view(keys[layer]), view(values[layer]))
    }

    /// Marks `count` more positions as written (after every layer stored them).
    func advance(by count: Int) {
        length += count
    }

    /// Keeps row `sources[i]` as row i (repeats allowed, fewer rows allowed): beam reordering and
    /// dropping finished sequences.
    func selectRows(_ sources: [Int]) {
        precondition(sources.count <= rows && sources.allSatisfy { $0 >= 0 && $0 < rows }, "cache: invalid row selection")
        if sources == Array(0..<rows) { return }
        if spareKeys.isEmpty {
            let count = rows * capacity * width
            spareKeys = keys.map { _ in TensorStorage(count: count, repeating: 0) }
            spareValues = values.map { _ in TensorStorage(count: count, repeating: 0) }
        }
        let prefix = length * width
        for layer in keys.indices {
            for (current, spare) in [(keys[layer], spareKeys[layer]), (values[layer], spareValues[layer])] {
                for (row, source) in sources.enumerated() {
                    (spare.pointer + row * capacity * width).update(from: current.pointer + source * capacity * width, count: prefix)
                }
            }
        }
        swap(&keys, &spareKeys)
        swap(&values, &spareValues)
        rows = sources.count
    }
}
