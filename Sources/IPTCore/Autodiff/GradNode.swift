/// One recorded operation (or a leaf) of a differentiated computation: the tape is the graph of
/// these nodes reachable from the loss.
///
/// Each op that has at least one input requiring a gradient creates a node whose `backward`
/// closure receives the gradient of the op's output and accumulates (`+=`) into the nodes of the
/// inputs that require one. Accumulation is what makes shared weights (BART's tied embedding and
/// LM head, SAID's single `z` feeding every tensor) get the sum of their uses' gradients.
public final class GradNode: @unchecked Sendable {
    /// Nodes of the inputs that require a gradient.
    let inputs: [GradNode]
    /// Receives this node's complete gradient and accumulates into `inputs`; `nil` for leaves.
    var backward: ((Tensor) -> Void)?
    /// Shape of the tensor this node stands for.
    public let shape: [Int]
    /// The accumulated gradient. Leaves keep it after ``Tensor/backward()``; inner nodes drop it
    /// as soon as their backward has run, so activations are freed progressively.
    public internal(set) var gradient: Tensor?
    let isLeaf: Bool

    /// A leaf: collects a gradient and passes it nowhere.
    public init(leafShape: [Int]) {
        self.inputs = []
        self.backward = nil
        self.shape = leafShape
        self.isLeaf = true
    }

    init(shape: [Int], inputs: [GradNode], backward: @escaping (Tensor) -> Void) {
        self.inputs = inputs
        self.backward = backward
        self.shape = shape
        self.isLeaf = false
    }

    /// Adds `g` to the accumulated gradient.
    public func accumulate(_ g: Tensor) {
        precondition(g.shape == shape, "gradient shape \(g.shape) does not match \(shape)")
        if var current = gradient {
            gradient = nil  // keep `current` uniquely referenced so the add is in place
            current.addInPlace(g)
            gradient = current
        } else {
            gradient = g.detached()
        }
    }

    /// Adds a product to the accumulated gradient without materialising it first.
    ///
    /// `write(pointer, beta)` must store `product + beta * pointer[i]` at every one of the
    /// gradient's `shape` elements; with `beta` 0 the memory is uninitialised and must not be read
    /// (BLAS's contract for C). When a gradient has already arrived, the product lands in it
    /// (a GEMM with beta 1): no buffer for the product, no zeroing of it by the BLAS and no
    /// addition pass — for a layer input that feeds the query, key and value projections and a
    /// residual, three of each per backward. The sum is rounded as BLAS accumulates into C
    /// (block by block), which may differ from adding the finished product in the last bit.
    public func accumulate(writing write: (UnsafeMutablePointer<Float>, Float) -> Void) {
        if var current = gradient {
            gradient = nil  // keep `current` uniquely referenced so the write is in place
            current.withUnsafeMutableBufferPointer { write($0.baseAddress!, 1) }
            gradient = current
        } else {
            let g = Tensor.uninitialized(shape)
            write(g.storage.pointer, 0)
            gradient = g
        }
    }

    /// Forgets the accumulated gradient.
    public func zeroGradient() { gradient = nil }
}

extension Tensor {
    /// Records `self` as the output of an op with the given inputs, if any of them requires a
    /// gradient and recording is on. `backward` gets the output's gradient and must accumulate
    /// into the inputs' nodes (read from the captured inputs).
    public func recorded(from inputs: [Tensor], backward: @escaping (Tensor) -> Void) -> Tensor {
        guard GradientRecording.isEnabled else { return self }
        var parents: [GradNode] = []
        for input in inputs { if let n = input.node { parents.append(n) } }
        if parents.isEmpty { return self }
        var out = self
        out.node = GradNode(shape: shape, inputs: parents, backward: backward)
        return out
    }

    /// Differentiates this scalar: accumulates d(self)/d(leaf) into every leaf it depends on.
    ///
    /// The pass consumes the recorded graph (each op's saved activations are freed as soon as its
    /// backward has run), so it runs once per forward: a second `backward()` through the same ops
    /// is a programmer error and stops the program.
    ///
    /// - Parameter seed: the gradient of some outer value with respect to `self`; defaults to 1
    ///   (and then `self` must have one element).
    public func backward(seed: Tensor? = nil) {
        guard let root = node else { return }
        let start = seed ?? {
            precondition(count == 1, "backward() without a seed needs a one-element tensor, shape is \(shape)")
            return Tensor(shape: shape) { $0[0] = 1 }
        }()
        precondition(start.shape == shape, "seed shape \(start.shape) does not match \(shape)")

        // Topological order by iterative depth-first search (graphs are deep: no recursion).
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (current, next) = stack.popLast() {
            if next < current.inputs.count {
                let child = current.inputs[next]
                stack.append((current, next + 1))
                if visited.insert(ObjectIdentifier(child)).inserted { stack.append((child, 0)) }
            } else {
                order.append(current)
            }
        }
        root.accumulate(start)
        for n in order.reversed() where !n.isLeaf {
            guard let g = n.gradient else { continue }
            n.gradient = nil
            // A second pass through the same recorded op would silently drop every gradient
            // behind it (its closure and activations are gone), as PyTorch's error also says.
            guard let body = n.backward else {
                preconditionFailure("backward() reached an op whose graph an earlier backward() already consumed; "
                                    + "sum the losses and call backward() once, or recompute the forward")
            }
            n.backward = nil  // releases the activations the closure captured
            body(g)
        }
    }
}

/// Whether ops record a gradient graph. Off inside ``withoutGradients(_:)`` (inference mode).
public enum GradientRecording {
    @TaskLocal static var disabled = false

    /// True unless inside ``withoutGradients(_:)``.
    public static var isEnabled: Bool { !disabled }
}

/// Runs `body` in inference mode: no op records a gradient graph and parameters hand out their
/// values without gradient nodes.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientRecording.$disabled.withValue(true, operation: body)
}
