/// A named, mutable model weight: a tensor value plus the leaf node its gradient collects in.
///
/// A trainable parameter hands out ``tensor`` with its leaf attached, so a computation that uses it
/// is recorded and ``Tensor/backward()`` accumulates into ``gradient``. A frozen parameter hands
/// out its plain value: no graph is recorded through it, and ops skip its weight-gradient work
/// (prompt tuning of a frozen BART needs input gradients only).
public final class Parameter: @unchecked Sendable {
    /// The current value. Optimisers write it; the shape never changes.
    public var value: Tensor {
        didSet {
            precondition(value.shape == leaf.shape,
                         "parameter shape is \(leaf.shape), new value has \(value.shape)")
            value.node = nil
        }
    }
    /// Whether optimisers and ``Tensor/backward()`` see this parameter.
    public var isTrainable: Bool
    let leaf: GradNode

    /// - Parameters:
    ///   - value: the initial value.
    ///   - isTrainable: whether the parameter collects a gradient; default `true`.
    public init(_ value: Tensor, isTrainable: Bool = true) {
        self.value = value.detached()
        self.isTrainable = isTrainable
        self.leaf = GradNode(leafShape: value.shape)
    }

    /// The value for use in a computation: with the gradient leaf attached when the parameter is
    /// trainable and gradients are being recorded.
    public var tensor: Tensor {
        guard isTrainable, GradientRecording.isEnabled else { return value }
        var t = value
        t.node = leaf
        return t
    }

    /// The gradient accumulated since the last ``zeroGradient()``.
    public var gradient: Tensor? { leaf.gradient }

    /// Shape of the value.
    public var shape: [Int] { leaf.shape }

    /// Forgets the accumulated gradient.
    public func zeroGradient() { leaf.zeroGradient() }

    /// Multiplies the accumulated gradient by `factor`, in place (gradient clipping).
    public func scaleGradient(by factor: Float) { leaf.gradient?.scaleInPlace(factor) }

    /// Adds `g` to the accumulated gradient, for gradients computed outside the tape (for example
    /// the exact transpose of a Fastfood projection).
    public func accumulateGradient(_ g: Tensor) { leaf.accumulate(g) }
}
