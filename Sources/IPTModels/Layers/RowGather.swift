import IPTCore

extension Tensor {
    /// The slices `self[rows[0]], self[rows[1]], ...` along axis 0 (repeats allowed), as one tensor
    /// of shape `[rows.count] + shape[1...]`. Differentiable: the backward adds each slice's gradient
    /// into its source row (an embedding lookup over the flattened rows).
    func gatheringRows(_ rows: [Int]) -> Tensor {
        let rowShape = Array(shape.dropFirst())
        let table = reshaped([shape[0], Tensor.elementCount(rowShape)])
        return Tensor.embedding(table, indices: rows.map { Int32($0) }, indexShape: [rows.count])
            .reshaped([rows.count] + rowShape)
    }
}
