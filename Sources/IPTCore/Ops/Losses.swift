// Losses: label-smoothed cross entropy (fused with log-softmax) and mean squared error.
import Foundation

/// How a per-token or per-element loss is reduced.
public enum LossReduction: String, Codable, Sendable {
    /// Sum over the counted tokens (the IPT paper's loss, fairseq's `label_smoothed_nll_loss`).
    case sum
    /// Mean over the counted tokens.
    case mean
    /// One value per row (a row with the ignored target gives 0).
    case none
}

extension Tensor {
    /// Label-smoothed cross entropy as fairseq and the IPT paper define it:
    /// `(1 - eps) * nll + (eps / V) * sum_v(-log p_v)` per counted row.
    ///
    /// - Parameters:
    ///   - logits: `(..., V)`; rows are flattened.
    ///   - targets: one class per row; rows whose target is `ignoreIndex` count nothing.
    ///   - epsilon: smoothing; 0 gives plain cross entropy. The paper uses 0.1.
    ///   - ignoreIndex: target value to skip (the pad id); default -100.
    ///   - reduction: `.sum` (the paper), `.mean` over counted rows, or `.none` (shape: rows).
    /// The forward keeps only the softmax probabilities; the gradient with respect to a row's
    /// logits is `p - (1 - eps) onehot - eps / V`.
    public static func labelSmoothedCrossEntropy(logits: Tensor, targets: [Int32], epsilon: Float = 0,
                                                 ignoreIndex: Int32 = -100,
                                                 reduction: LossReduction = .mean) -> Tensor {
        let width = logits.shape.last ?? 1
        let rows = logits.count / Swift.max(width, 1)
        precondition(targets.count == rows, "\(targets.count) targets for \(rows) rows of \(logits.shape)")
        let probabilities = Tensor.uninitialized(logits.shape)
        var rowLoss = [Float](repeating: 0, count: rows)
        var counted = 0
        logits.withUnsafeBufferPointer { src in
            rowLoss.withUnsafeMutableBufferPointer { losses in
                let s = src.baseAddress!, p = probabilities.storage.pointer, l = losses.baseAddress!
                Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 65_536 / Swift.max(width, 1))) { range in
                    for r in range {
                        let row = s + r * width, pr = p + r * width
                        let m = rowMaximum(row, width)
                        let sumExp = exponentiateShifted(row, pr, width, shift: m)
                        let sumLogits = rowSum(row, width)
                        scaleRow(pr, width, by: 1 / sumExp)
                        let target = targets[r]
                        if target == ignoreIndex { l[r] = 0; continue }
                        precondition(target >= 0 && Int(target) < width, "target \(target) outside 0..<\(width)")
                        let logZ = m + Foundation.log(sumExp)
                        let nll = logZ - row[Int(target)]
                        let smooth = Float(width) * logZ - sumLogits  // sum_v -log p_v
                        l[r] = (1 - epsilon) * nll + epsilon / Float(width) * smooth
                    }
                }
            }
        }
        for t in targets where t != ignoreIndex { counted += 1 }
        let result: Tensor
        let scale: Float
        switch reduction {
        case .sum:
            result = Tensor(scalar: rowLoss.reduce(0, +)); scale = 1
        case .mean:
            result = Tensor(scalar: counted > 0 ? rowLoss.reduce(0, +) / Float(counted) : 0)
            scale = counted > 0 ? 1 / Float(counted) : 0
        case .none:
            result = Tensor(rowLoss, shape: [rows]); scale = 1
        }
        let node = logits.node
        return result.recorded(from: [logits]) { g in
            guard let node else { return }
            let grad = probabilities  // reuse the cached probabilities' storage
            let gs = g.scalars
            let d = grad.storage.pointer
            let smoothing = epsilon / Float(width)
            Parallel.forEachChunk(rows, minimumChunk: Swift.max(1, 65_536 / Swift.max(width, 1))) { range in
                for r in range {
                    let row = d + r * width
                    let target = targets[r]
                    if target == ignoreIndex {
                        row.update(repeating: 0, count: width)
                        continue
                    }
                    let upstream = (reduction == .none ? gs[r] : gs[0]) * scale
                    var j = 0
                    while j + 16 <= width { store16((load16(row + j) - smoothing) * upstream, row + j); j += 16 }
                    while j < width { row[j] = (row[j] - smoothing) * upstream; j += 1 }
                    row[Int(target)] -= (1 - epsilon) * upstream
                }
            }
            node.accumulate(grad)
        }
    }

    /// Mean of the squared differences over all elements, as `torch.nn.functional.mse_loss`.
    public static func meanSquaredError(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "meanSquaredError: \(a.shape) vs \(b.shape)")
        return (a - b).squared().mean()
    }
}
