#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory behind a ``Tensor``: `count` contiguous `Float`s, 64-byte aligned.
///
/// Storage is a reference type so that tensors can share it; ``Tensor`` copies it before a write
/// when it is shared (copy-on-write). Memory either belongs to the storage (allocated here) or to
/// an owner object that keeps a memory-mapped file alive (see ``SafeTensors``).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Keeps externally owned memory (a mapped file) alive; `nil` when the storage owns its memory.
    private let owner: AnyObject?

    /// Allocates `count` floats, uninitialised.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative element count")
        var raw: UnsafeMutableRawPointer? = nil
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let status = posix_memalign(&raw, 64, bytes)
        guard status == 0, let raw else {
            // Out of memory is not recoverable for a numeric library; say how much was asked for.
            fatalError("IPTCore: cannot allocate \(bytes) bytes for a tensor")
        }
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.owner = nil
    }

    /// Wraps memory owned by `owner` (which must outlive every use of `pointer`).
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    /// Allocates `count` floats set to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        if value == 0 {
            memset(pointer, 0, count * MemoryLayout<Float>.stride)
        } else {
            pointer.initialize(repeating: value, count: count)
        }
    }

    /// A new storage holding a copy of this one's values.
    public func copy() -> TensorStorage {
        let result = TensorStorage(uninitializedCount: count)
        result.pointer.update(from: pointer, count: count)
        return result
    }

    deinit {
        if owner == nil { free(pointer) }
    }
}
