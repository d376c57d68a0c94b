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

    /// A slow item does not hold back the others: while one worker sleeps on item 0, the other
    /// takes the rest. (If the second worker cannot start within 10 s on a loaded machine there is
    /// nothing to compare, and the test says so.)
    @Test func forEachItemBalancesUnevenItems() {
        guard Parallel.workers >= 2 else { return }
        let takenBy = Mutex([Int: Int]())
        let starts = Mutex([Double]())
        let sleepEnd = Mutex(Double.infinity)
        let caller = Atomic<Int>(0)
        Parallel.forEachItem(20) { next in
            let me = caller.add(1, ordering: .relaxed).oldValue
            starts.withLock { $0.append(Date().timeIntervalSinceReferenceDate) }
            while let index = next() {
                if index == 0 {
                    // Wait (up to 10 s) for the other worker to start, then hold item 0 a while.
                    let deadline = Date().addingTimeInterval(10)
                    while starts.withLock({ $0.count }) < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
                    Thread.sleep(forTimeInterval: 0.5)
                    sleepEnd.withLock { $0 = Date().timeIntervalSinceReferenceDate }
                }
                takenBy.withLock { $0[index] = me }
            }
        }
        let owners = takenBy.withLock { $0 }
        #expect(owners.count == 20)
        let bothStarted = starts.withLock { $0 }.count == 2
            && starts.withLock { $0 }.allSatisfy { $0 < sleepEnd.withLock { $0 } - 0.2 }
        guard bothStarted else {
            print("forEachItemBalancesUnevenItems: the second worker started too late to compare (loaded machine)")
            return
        }
        // Fixed halves would give the sleeping worker items 0..<10; taking items as they come,
        // the other worker takes the rest while it sleeps.
        let sleeper = owners[0]
        #expect(owners.values.filter { $0 == sleeper }.count == 1, "\(owners)")
    }
}
