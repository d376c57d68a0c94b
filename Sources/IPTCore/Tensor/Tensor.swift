/// A dense, row-major `Float` tensor with value semantics.
///
/// Copies share storage until one of them is written (copy-on-write). A tensor that takes part in
/// a differentiated computation carries a ``GradNode``; see ``Tensor/backward()``. Shapes are plain
/// `[Int]`; a scalar has shape `[]` and one element.
///
/// ```swift
/// let x = Tensor([1, 2, 3, 4], shape: [2, 2]).requiringGradient()
/// let y = (x * x).sum()
/// y.backward()
/// x.gradient  // [[2, 4], [6, 8]]
/// ```
public struct Tensor: @unchecked Sendable {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    @usableFromInline var storage: TensorStorage
    /// Set when the tensor is part of a computation being differentiated.
    public internal(set) var node: GradNode?

    /// Wraps `storage` (which must hold exactly `shape.product` elements).
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(Tensor.elementCount(shape) == storage.count,
                     "shape \(shape) needs \(Tensor.elementCount(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.node = nil
    }

    /// A tensor with the given values, row-major.
    public init(_ values: [Float], shape: [Int]) {
        precondition(values.count == Tensor.elementCount(shape),
                     "\(values.count) values do not fill shape \(shape)")
        let storage = TensorStorage(uninitializedCount: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.pointer.update(from: base, count: values.count) }
        }
        self.init(shape: shape, storage: storage)
    }

    /// A one-dimensional tensor.
    public init(_ values: [Float]) { self.init(values, shape: [values.count]) }

    /// A scalar (shape `[]`).
    public init(scalar: Float) { self.init([scalar], shape: []) }

    /// A tensor whose elements are written by `body` (every element must be written).
    public init(shape: [Int], initializer body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let storage = TensorStorage(uninitializedCount: Tensor.elementCount(shape))
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
        self.init(shape: shape, storage: storage)
    }

    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }

    /// The elements, row-major.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs exactly one element, shape is \(shape)")
        return storage.pointer[0]
    }

    /// Whether this tensor takes part in a differentiated computation.
    public var requiresGradient: Bool { node != nil }

    /// Reads the elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Writes the elements, copying shared storage first. The tensor keeps its gradient node:
    /// writing into a tensor that was used in a recorded computation is a programmer error.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Element at a multi-dimensional index (slow; for tests and small tensors).
    public subscript(_ index: Int...) -> Float {
        get { storage.pointer[flatIndex(index)] }
        set {
            let i = flatIndex(index)
            withUnsafeMutableBufferPointer { $0[i] = newValue }
        }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
        var flat = 0
        for (i, extent) in zip(index, shape) {
            precondition(i >= 0 && i < extent, "index \(index) out of range for shape \(shape)")
            flat = flat * extent + i
        }
        return flat
    }

    /// The product of the extents (1 for a scalar).
    @inlinable public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The same values without a gradient node: gradients do not flow through the result.
    public func detached() -> Tensor {
        var copy = self
        copy.node = nil
        return copy
    }

    /// The same values as a leaf that collects a gradient in ``gradient`` after ``backward()``.
    public func requiringGradient() -> Tensor {
        var copy = self
        copy.node = GradNode(leafShape: shape)
        return copy
    }

    /// The gradient accumulated in this tensor's node by ``backward()``, if any.
    public var gradient: Tensor? { node?.gradient }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = count <= 16 ? "\(scalars)" : "\(Array(scalars.prefix(8))) ..."
        return "Tensor(shape: \(shape), \(preview))"
    }
}
