import Dispatch
import Foundation
import Synchronization

/// Splits element-wise work across the machine's cores when it is large enough to pay for it.
public enum Parallel {
    /// Worker count: the online processors, `IPT_NUM_THREADS` when set, or the last
    /// ``setWorkerCount(_:)``. Element-wise kernels and large GEMMs are split across this many threads.
    public static var workers: Int { workerCount }

    private static var workerCount: Int = environmentWorkerCount.value ?? max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The largest `IPT_NUM_THREADS` accepted (per-worker buffers are sized by the count).
    public static let maximumWorkers = 1024

    private static let environmentWorkerCount = IPTEnvironment.integer(
        "IPT_NUM_THREADS", in: 1...maximumWorkers,
        fallback: "the \(max(1, ProcessInfo.processInfo.activeProcessorCount)) online processors")

    /// What is wrong with `IPT_NUM_THREADS`, if it is set to something else than 1...1024.
    static var environmentProblem: String? { environmentWorkerCount.problem }

    /// Sets ``workers`` for the rest of the process, e.g. to 1 when several models run on their own
    /// threads at once (the demo's per-task workers), so that they do not oversubscribe the cores.
    /// Call it before starting concurrent work: it is not synchronised with running kernels.
    public static func setWorkerCount(_ n: Int) {
        precondition(n >= 1 && n <= maximumWorkers, "worker count must be in 1...\(maximumWorkers)")
        workerCount = n
    }

    /// Calls `body` on disjoint ranges covering `0..<count`, concurrently when `count` is at least
    /// `2 * minimumChunk`. Ranges are contiguous and their boundaries depend only on `count`, so
    /// results are deterministic.
    @inlinable
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let (chunks, size) = chunking(count, minimumChunk: minimumChunk)
        if chunks <= 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let range = chunk(c, size: size, count: count)
            if !range.isEmpty { body(range) }
        }
    }

    /// How ``forEachChunk(_:minimumChunk:_:)`` and ``mapChunks(_:minimumChunk:_:)`` divide
    /// `0..<count`: the number of chunks (1: no split) and the length of each but the last.
    @inlinable
    static func chunking(_ count: Int, minimumChunk: Int) -> (chunks: Int, size: Int) {
        let chunks = min(workers, count / max(1, minimumChunk))
        return chunks <= 1 ? (1, count) : (chunks, (count + chunks - 1) / chunks)
    }

    /// Chunk `c` of ``chunking(_:minimumChunk:)``'s division (empty past the end).
    @inlinable
    static func chunk(_ c: Int, size: Int, count: Int) -> Range<Int> {
        let start = min(count, c * size)
        return start..<min(count, start + size)
    }

    /// Runs `body` once per worker (at most `count` of them) concurrently; each call takes item
    /// indices from the shared `next()` (nil when none is left) until all of `0..<count` are
    /// taken. For items of uneven or unsteady duration, such as attention heads on a shared
    /// machine, where ``forEachChunk(_:minimumChunk:_:)``'s fixed halves leave one core idle
    /// while the other finishes. Each item must write only its own outputs: then the result does
    /// not depend on which worker took it. `body` can set up per-worker scratch before its loop.
    public static func forEachItem(_ count: Int, _ body: (_ next: () -> Int?) -> Void) {
        guard count > 0 else { return }
        let callers = min(workers, count)
        if callers <= 1 {
            var index = 0
            body { defer { index += 1 }; return index < count ? index : nil }
            return
        }
        let taken = Atomic<Int>(0)
        // Task-local values do not reach Dispatch's worker threads: carry the caller's
        // `BLAS.counting` scope over, so that the products items run (attention heads) are counted
        // whichever thread takes them.
        let counter = GemmCounter.scoped
        DispatchQueue.concurrentPerform(iterations: callers) { _ in
            GemmCounter.$scoped.withValue(counter) {
                body {
                    let index = taken.add(1, ordering: .relaxed).oldValue
                    return index < count ? index : nil
                }
            }
        }
    }

    /// ``forEachChunk(_:minimumChunk:_:)`` collecting each range's result, in range order.
    public static func mapChunks<T>(_ count: Int, minimumChunk: Int = 32_768, _ body: (Range<Int>) -> T) -> [T] {
        let (chunks, size) = chunking(count, minimumChunk: minimumChunk)
        if chunks <= 1 { return [body(0..<count)] }
        var results = [T?](repeating: nil, count: chunks)
        results.withUnsafeMutableBufferPointer { slots in
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let range = chunk(c, size: size, count: count)
                if !range.isEmpty { slots[c] = body(range) }
            }
        }
        return results.compactMap { $0 }
    }
}
