/// A named, mutable model weight: a tensor value plus the leaf node its gradient collects in.
///
/// A trainable parameter hands out ``tensor`` with its leaf attached, so a computation that uses it
/// is recorded and ``Tensor/backward()`` accumulates into ``gradient``. A frozen parameter hands
/// out its plain value: no graph is recorded through it, and ops skip its weight-gradient work
/// (prompt tuning of a frozen BART needs input gradients only).
public final class Parameter: @unchecked Sendable {
    /// The current value; the shape never changes. Assigning replaces it; mutating it through
    /// this property from another module copies the whole tensor first (Swift's accessors for an
    /// observed or computed property), so in-place updates go through
    /// ``withUnsafeMutableValue(_:)``.
    public var value: Tensor {
        get { current }
        set {
            precondition(newValue.shape == leaf.shape,
                         "parameter shape is \(leaf.shape), new value has \(newValue.shape)")
            current = newValue
            current.node = nil
        }
    }
    private var current: Tensor
    /// Whether optimisers and ``Tensor/backward()`` see this parameter.
    public var isTrainable: Bool
    let leaf: GradNode

    /// - Parameters:
    ///   - value: the initial value.
    ///   - isTrainable: whether the parameter collects a gradient; default `true`.
    public init(_ value: Tensor, isTrainable: Bool = true) {
        self.current = value.detached()
        self.isTrainable = isTrainable
        self.leaf = GradNode(leafShape: value.shape)
    }

    /// Runs `body` on the value's elements, updating them in place: no copy unless another
    /// tensor shares the value's storage (then the value gets its own copy first, as for any
    /// tensor). The optimisers' updates use it.
    public func withUnsafeMutableValue<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try current.withUnsafeMutableBufferPointer(body)
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
