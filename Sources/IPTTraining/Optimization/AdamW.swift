import Foundation
import IPTCore

/// AdamW (Loshchilov & Hutter) with bias correction and decoupled weight decay, exactly as
/// `torch.optim.AdamW`, over parameter groups that each have their own learning rate and decay.
///
/// Moment estimates are kept per parameter key, so the optimiser's state can be saved with a
/// checkpoint (``state()``) and restored (``restore(_:)``) to resume a run bit for bit.
public final class AdamW {
    /// Parameters that share a learning rate and weight decay.
    public struct Group {
        public var parameters: [(key: String, parameter: Parameter)]
        /// Peak learning rate; the schedule's factor multiplies it each step.
        public var learningRate: Float
        /// Decoupled weight decay; default 0 (the paper's prompt/z groups).
        public var weightDecay: Float

        public init(parameters: [(key: String, parameter: Parameter)], learningRate: Float, weightDecay: Float = 0) {
            self.parameters = parameters
            self.learningRate = learningRate
            self.weightDecay = weightDecay
        }
    }

    public private(set) var groups: [Group]
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Steps taken so far (drives the bias correction).
    public private(set) var stepCount = 0
    private var firstMoments: [String: Tensor] = [:]
    private var secondMoments: [String: Tensor] = [:]

    /// - Parameters:
    ///   - groups: parameter groups (keys must be unique across groups).
    ///   - beta1, beta2: moment decay rates; defaults 0.9 and 0.999.
    ///   - epsilon: added to the root of the second moment; default 1e-8 (the paper's `adam_epsilon`).
    public init(groups: [Group], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        let keys = groups.flatMap { $0.parameters.map(\.key) }
        precondition(Set(keys).count == keys.count, "AdamW: a parameter key appears twice")
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// One group for `parameters`.
    public convenience init(parameters: [(key: String, parameter: Parameter)], learningRate: Float,
                            weightDecay: Float = 0) {
        self.init(groups: [Group(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)])
    }

    /// Every parameter the optimiser updates.
    public var parameters: [(key: String, parameter: Parameter)] { groups.flatMap(\.parameters) }

    /// Updates every parameter that has a gradient.
    ///
    /// - Parameters:
    ///   - learningRateFactor: the schedule's multiplier for this step (1 = peak).
    ///   - gradientScale: multiplies every gradient as it is read (global-norm clipping,
    ///     ``GradientClipping/scale(norm:maximumNorm:)``); default 1, which leaves them exact.
    /// - Returns: the largest magnitude of each updated parameter's new values, by key (`+inf`
    ///   when one is not finite), for ``updateIsBounded(largestMagnitudes:learningRateFactor:)``.
    @discardableResult
    public func step(learningRateFactor: Float = 1, gradientScale: Float = 1) -> [String: Float] {
        stepCount += 1
        let correction1 = 1 - Float(pow(Double(beta1), Double(stepCount)))
        let correction2 = 1 - Float(pow(Double(beta2), Double(stepCount)))
        var largest: [String: Float] = [:]
        for group in groups {
            let lr = group.learningRate * learningRateFactor
            let update = AdamWUpdate(beta1: beta1, beta2: beta2, epsilon: epsilon, decay: 1 - lr * group.weightDecay,
                                     stepSize: lr / correction1, rootCorrection2: correction2.squareRoot(),
                                     gradientScale: gradientScale)
            for (key, p) in group.parameters {
                guard let g = p.gradient else { continue }
                if firstMoments[key] == nil {
                    firstMoments[key] = Tensor.zeros(p.shape)
                    secondMoments[key] = Tensor.zeros(p.shape)
                }
                // All three buffers are updated in place (Parameter.withUnsafeMutableValue: no
                // copy of the value).
                largest[key] = g.withUnsafeBufferPointer { gb in
                    p.withUnsafeMutableValue { pb in
                        firstMoments[key]!.withUnsafeMutableBufferPointer { mb in
                            secondMoments[key]!.withUnsafeMutableBufferPointer { vb in
                                let g = gb.baseAddress!, w = pb.baseAddress!, m = mb.baseAddress!, v = vb.baseAddress!
                                return Parallel.mapChunks(pb.count, minimumChunk: 65_536) { range in
                                    let i = range.lowerBound
                                    return update.apply(weights: w + i, firstMoments: m + i, secondMoments: v + i,
                                                        gradient: g + i, count: range.count)
                                }.reduce(0, max)
                            }
                        }
                    }
                }
            }
        }
        return largest
    }

    /// Whether the next step, at `learningRateFactor`, provably leaves every parameter finite,
    /// given the largest magnitudes of their current values (from the previous ``step``), so that
    /// a caller need not keep a copy to undo it.
    ///
    /// With moments started at zero, `|m̂| / √v̂ ≤ 1 / √((1 - β2)(1 - β1²/β2))` (Cauchy-Schwarz over
    /// the gradient history), so one step moves a weight by at most `lr` times that; the step is
    /// bounded when every `|w| · |decay| + 2 · lr · bound` stays under a quarter of Float's range.
    /// False when a magnitude is unknown, when `β1² ≥ β2`, or when ε < 1e-20 (a second moment that
    /// underflows to 0 could then divide a first moment by almost nothing).
    public func updateIsBounded(largestMagnitudes: [String: Float], learningRateFactor: Float) -> Bool {
        let (b1, b2) = (Double(beta1), Double(beta2))
        guard epsilon >= 1e-20, (0..<1).contains(b1), b2 > 0, b2 < 1, b1 * b1 < b2 else { return false }
        let bound = 1 / ((1 - b2) * (1 - b1 * b1 / b2)).squareRoot()
        let limit = Double(Float.greatestFiniteMagnitude) / 4
        for group in groups {
            let lr = Double(group.learningRate) * Double(learningRateFactor)
            let decay = abs(1 - lr * Double(group.weightDecay))
            for (key, _) in group.parameters {
                guard let largest = largestMagnitudes[key], largest.isFinite,
                      Double(largest) * decay + 2 * abs(lr) * bound < limit else { return false }
            }
        }
        return true
    }

    /// The optimiser state as named tensors (`m.<key>`, `v.<key>`) plus the step count.
    public func state() -> (tensors: [(String, Tensor)], step: Int) {
        var tensors: [(String, Tensor)] = []
        for (key, _) in parameters {
            if let m = firstMoments[key], let v = secondMoments[key] {
                tensors.append(("m.\(key)", m))
                tensors.append(("v.\(key)", v))
            }
        }
        return (tensors, stepCount)
    }

    /// Restores a state saved by ``state()``.
    ///
    /// - Throws: ``TrainingError`` when a moment's shape does not fit its parameter.
    public func restore(tensors: [String: Tensor], step: Int) throws {
        firstMoments = [:]
        secondMoments = [:]
        for (key, p) in parameters {
            if let m = tensors["m.\(key)"], let v = tensors["v.\(key)"] {
                guard m.shape == p.shape, v.shape == p.shape else {
                    throw TrainingError.checkpointMismatch("optimizer state for \(key) has shape \(m.shape), parameter has \(p.shape)")
                }
                firstMoments[key] = m
                secondMoments[key] = v
            }
        }
        stepCount = step
    }
}
