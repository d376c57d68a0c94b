import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Freed tensor buffers kept for reuse, so that a training step takes its activations from the
/// buffers the previous step released instead of from the operating system.
///
/// Large allocations come from fresh `mmap`s in the C allocator and go back to the system when
/// freed: every op of every step then pays page faults and zero-filling for its output (about 5%
/// of a BART-base step). Buffers of at least ``minimumBytes`` are kept here after their storage
/// is freed, by size class (eight classes per doubling, so at most 12.5% of a buffer is unused),
/// up to ``capacityBytes`` in total; a step's requests repeat the previous step's sizes, so they
/// are served from the cache.
///
/// `IPT_BUFFER_CACHE_MB` sets the capacity (0 disables the cache); the default is 1024 MB.
public enum BufferCache {
    /// Buffers smaller than this go straight to the C allocator (its own free lists serve them well).
    static let minimumBytes = 1 << 18

    /// The most memory kept in cached (unused) buffers.
    public static let capacityBytes: Int = environmentCapacity.value.map { $0 << 20 } ?? 1 << 30

    /// `IPT_BUFFER_CACHE_MB`, in 0...2^30 megabytes (the bytes must fit in an `Int`).
    private static let environmentCapacity = IPTEnvironment.integer("IPT_BUFFER_CACHE_MB", in: 0...(1 << 30), fallback: "1024")

    /// What is wrong with `IPT_BUFFER_CACHE_MB`, if it is set to something else than 0...2^30.
    static var environmentProblem: String? { environmentCapacity.problem }

    private struct State {
        var free: [Int: [UnsafeMutableRawPointer]] = [:]
        var cachedBytes = 0
    }

    private static let state = Mutex(State())

    /// The size class (its byte count) that serves a request of `bytes`.
    static func classBytes(_ bytes: Int) -> Int {
        guard bytes > minimumBytes else { return bytes }
        // Round up to a multiple of 1/8 of the largest power of two not above `bytes`.
        let step = (1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount)) >> 3
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte aligned buffer of at least `bytes`, and the byte count to give back with it.
    static func take(_ bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        let size = classBytes(max(bytes, 1))
        if size >= minimumBytes, let cached = state.withLock({ s -> UnsafeMutableRawPointer? in
            guard let p = s.free[size]?.popLast() else { return nil }
            s.cachedBytes -= size
            return p
        }) {
            return (cached, size)
        }
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, size) == 0, let raw else {
            // Out of memory is not recoverable for a numeric library; say how much was asked for.
            fatalError("IPTCore: cannot allocate \(size) bytes for a tensor")
        }
        return (raw, size)
    }

    /// Returns a buffer from ``take(_:)``: kept for reuse while the cache has room, else freed.
    static func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= minimumBytes && state.withLock({ s -> Bool in
            guard s.cachedBytes + bytes <= capacityBytes else { return false }
            s.free[bytes, default: []].append(pointer)
            s.cachedBytes += bytes
            return true
        }) {
            return
        }
        free(pointer)
    }

    /// Frees every cached buffer (for a long-running process that is done with large models).
    public static func releaseAll() {
        let buffers = state.withLock { s -> [UnsafeMutableRawPointer] in
            defer { s.free = [:]; s.cachedBytes = 0 }
            return s.free.values.flatMap { $0 }
        }
        for p in buffers { free(p) }
    }

    /// Bytes held in cached buffers now.
    public static var cachedBytes: Int { state.withLock { $0.cachedBytes } }
}
