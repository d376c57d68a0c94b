// Embedding lookup (row gather) with a scatter-add backward.

extension Tensor {
    /// Rows of `table` picked by `indices`.
    ///
    /// - Parameters:
    ///   - table: `(V, C)`.
    ///   - indices: row numbers in `0..<V`, `indexShape.product` of them.
    ///   - indexShape: shape of the index array; the result is `indexShape + [C]`.
    /// - Returns: `(..., C)`. The backward adds each output row's gradient into its table row, so
    ///   repeated indices accumulate.
    public static func embedding(_ table: Tensor, indices: [Int32], indexShape: [Int]) -> Tensor {
        precondition(table.rank == 2, "embedding table must be (V, C), got \(table.shape)")
        precondition(indices.count == Tensor.elementCount(indexShape), "\(indices.count) indices for shape \(indexShape)")
        let (vocabulary, width) = (table.shape[0], table.shape[1])
        let out = Tensor.uninitialized(indexShape + [width])
        table.withUnsafeBufferPointer { pt in
            for (row, index) in indices.enumerated() {
                precondition(index >= 0 && Int(index) < vocabulary, "index \(index) outside 0..<\(vocabulary)")
                (out.storage.pointer + row * width).update(from: pt.baseAddress! + Int(index) * width, count: width)
            }
        }
        let node = table.node, tableShape = table.shape
        return out.recorded(from: [table]) { g in
            guard let node else { return }
            let grad = Tensor.zeros(tableShape)
            g.withUnsafeBufferPointer { pg in
                for (row, index) in indices.enumerated() {
                    let dst = grad.storage.pointer + Int(index) * width
                    let src = pg.baseAddress! + row * width
                    for j in 0..<width { dst[j] += src[j] }
                }
            }
            node.accumulate(grad)
        }
    }
}
