import IPTCore

/// The linear baseline the paper lacks: the affine subspace through the mean of the training
/// tasks' tuned prompts spanned by their top-d principal directions (thin SVD through LAPACKE).
public enum PrincipalSubspace {
    /// - Parameters:
    ///   - prompts: tuned prompts (n, h), one per task.
    ///   - dimension: d, at most the number of prompts.
    /// - Returns: the subspace (mean + orthonormal basis of the d leading right singular vectors of
    ///   the centred prompt matrix).
    public static func fit(_ prompts: [Tensor], dimension: Int) throws -> LinearPromptSubspace {
        guard let first = prompts.first, first.rank == 2 else {
            throw TrainingError.data("principal subspace needs at least one (n, h) prompt")
        }
        guard dimension >= 1, dimension <= prompts.count else {
            throw TrainingError.invalidConfiguration("dim \(dimension) must be in 1...\(prompts.count) (the number of prompts)")
        }
        let (n, h) = (first.shape[0], first.shape[1])
        let width = n * h
        let rows = Tensor.concatenate(prompts.map { $0.reshaped([1, width]) }, axis: 0)  // (T, n h)
        let mean = rows.mean(axes: [0])                                                  // (n h)
        let centred = rows - mean
        let svd = try LAPACK.singularValueDecomposition(centred)                        // vt: (min(T, n h), n h)
        let basis = svd.vt.slice(axis: 0, 0..<dimension).transposed()                   // (n h, d)
        return LinearPromptSubspace(mean: mean.detached(), basis: basis.detached(), promptLength: n, hiddenSize: h)
    }
}
