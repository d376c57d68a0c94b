#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory behind a ``Tensor``: `count` contiguous `Float`s, 64-byte aligned.
///
/// Owned memory comes from and returns to the ``BufferCache``.
///
/// Storage is a reference type so that tensors can share it; ``Tensor`` copies it before a write
/// when it is shared (copy-on-write). Memory either belongs to the storage (allocated here) or to
/// an owner object that keeps a memory-mapped file alive (see ``SafeTensors``).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Keeps externally owned memory (a mapped file) alive; `nil` when the storage owns its memory.
    private let owner: AnyObject?
    /// Bytes of the owned buffer (its ``BufferCache`` size class).
    private let allocatedBytes: Int

    /// Allocates `count` floats, uninitialised.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative element count")
        let (raw, bytes) = BufferCache.take(max(count, 1) * MemoryLayout<Float>.stride)
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.owner = nil
        self.allocatedBytes = bytes
    }

    /// Wraps memory owned by `owner` (which must outlive every use of `pointer`).
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
        self.allocatedBytes = 0
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
        if owner == nil { BufferCache.give(UnsafeMutableRawPointer(pointer), bytes: allocatedBytes) }
    }
}
