import Foundation
import Synchronization
import Testing
@testable import IPTCore

@Suite("Parallel work division")
struct ParallelTests {
    /// Every index of 0..<count is handed out exactly once, to at most `workers` callers.
    @Test(arguments: [0, 1, 2, 3, 96, 1_000])
    func forEachItemHandsOutEveryIndexOnce(count: Int) {
        let seen = Mutex([Int](repeating: 0, count: count))
        let callers = Atomic<Int>(0)
        Parallel.forEachItem(count) { next in
            callers.add(1, ordering: .relaxed)
            while let index = next() {
                seen.withLock { $0[index] += 1 }
            }
        }
        #expect(seen.withLock { $0 } == [Int](repeating: 1, count: count))
        #expect(callers.load(ordering: .relaxed) <= max(1, min(Parallel.workers, count)))
        #expect(count == 0 ? callers.load(ordering: .relaxed) == 0 : callers.load(ordering: .relaxed) >= 1)
    }

    /// A slow item does not hold back the others: with two workers, the free one takes the rest.
    @Test func forEachItemBalancesUnevenItems() {
        guard Parallel.workers >= 2 else { return }
        let takenBy = Mutex([Int: Int]())
        let caller = Atomic<Int>(0)
        Parallel.forEachItem(20) { next in
            let me = caller.add(1, ordering: .relaxed).oldValue
            while let index = next() {
                if index == 0 { Thread.sleep(forTimeInterval: 0.5) }
                takenBy.withLock { $0[index] = me }
            }
        }
        let owners = takenBy.withLock { $0 }
        #expect(owners.count == 20)
        // Fixed halves would give the worker that slept on item 0 items 0..<10; taking items as
        // they come, the other worker takes nearly all of the rest meanwhile.
        let sleeper = owners[0]
        #expect(owners.values.filter { $0 == sleeper }.count < 10, "\(owners)")
    }
}
