/// The BPE model of a byte-level tokenizer: turns the bytes of one pre-token into token ids by
/// applying the ranked merges, exactly as Hugging Face's `tokenizers` does.
///
/// Each byte starts as its own symbol (the vocabulary id of its byte character). Then, repeatedly,
/// the adjacent pair with the lowest merge rank is merged, the leftmost one on ties, until no
/// adjacent pair has a merge. A min-heap over (rank, position) makes this O(n log n) in the word
/// length, so a 5,000-byte word costs milliseconds, not seconds.
struct BytePairEncoder: Sendable {
    /// One merge rule, resolved to vocabulary ids. Its rank is its index in the merge list.
    struct Merge: Sendable, Equatable {
        var left: Int32
        var right: Int32
        var result: Int32
    }

    /// The vocabulary id of each byte's character, or -1 when the vocabulary lacks it.
    private let byteSymbols: [Int32]
    private let ranks: PairRankTable
    /// The id that stands for bytes whose character is not in the vocabulary (`unk_token`); without
    /// one such bytes are dropped, as Hugging Face does.
    private let unknownID: Int32?
    /// Whether consecutive unknown bytes become one unknown token (`fuse_unk`).
    private let fusesUnknown: Bool

    /// - Parameters:
    ///   - byteSymbols: the vocabulary id of each of the 256 byte characters, -1 when absent.
    ///   - merges: the merge rules in rank order (a pair listed twice keeps its last rank).
    ///   - unknownID: the id for bytes outside the vocabulary, or nil to drop them.
    ///   - fusesUnknown: whether runs of unknown bytes give one unknown id.
    init(byteSymbols: [Int32], merges: [Merge], unknownID: Int32?, fusesUnknown: Bool) {
        precondition(byteSymbols.count == 256, "one symbol per byte")
        self.byteSymbols = byteSymbols
        self.ranks = PairRankTable(merges)
        self.unknownID = unknownID
        self.fusesUnknown = fusesUnknown
    }

    /// Appends the token ids of `word` (the bytes of one pre-token) to `ids`.
    func encode(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
        var symbols = initialSymbols(word)
        if symbols.count > 1 { applyMerges(&symbols) }
        ids.append(contentsOf: symbols)
    }

    private func initialSymbols(_ word: UnsafeBufferPointer<UInt8>) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var pendingUnknown = false
        for byte in word {
            let id = byteSymbols[Int(byte)]
            if id >= 0 {
                if pendingUnknown, let unknownID { symbols.append(unknownID); pendingUnknown = false }
                symbols.append(id)
            } else if let unknownID {
                if pendingUnknown && !fusesUnknown { symbols.append(unknownID) }
                pendingUnknown = true
            }
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
        return symbols
    }

    /// Merges `symbols` in place: lowest rank first, leftmost on ties.
    private func applyMerges(_ symbols: inout [Int32]) {
        let count = symbols.count
        if count == 2 {
            if let merge = ranks.lookup(symbols[0], symbols[1]) { symbols = [merge.result] }
            return
        }
        // A doubly linked list over positions; a merged-away position gets -1 as its symbol.
        var next = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Int32(i + 1) }
            buffer[count - 1] = -1
            initialized = count
        }
        var previous = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Int32(i - 1) }
            initialized = count
        }
        // Heap entries pack (rank, position) so that integer order is (rank, position) order.
        var heap = BinaryHeap<UInt64>()
        for i in 0..<(count - 1) {
            if let merge = ranks.lookup(symbols[i], symbols[i + 1]) {
                heap.push(UInt64(merge.rank) << 32 | UInt64(i))
            }
        }
        while let top = heap.pop() {
            let rank = UInt32(top >> 32), position = Int(UInt32(truncatingIfNeeded: top))
            let right = Int(next[position])
            guard symbols[position] >= 0, right >= 0,
                  let merge = ranks.lookup(symbols[position], symbols[right]), merge.rank == rank
            else { continue }  // stale: one side was merged into something else since the push
            symbols[position] = merge.result
            symbols[right] = -1
            let afterRight = Int(next[right])
            next[position] = Int32(afterRight)
            if afterRight >= 0 { previous[afterRight] = Int32(position) }
            let before = Int(previous[position])
            if before >= 0, let left = ranks.lookup(symbols[before], merge.result) {
                heap.push(UInt64(left.rank) << 32 | UInt64(before))
            }
            if afterRight >= 0, let following = ranks.lookup(merge.result, symbols[afterRight]) {
                heap.push(UInt64(following.rank) << 32 | UInt64(position))
            }
        }
        symbols.removeAll { $0 < 0 }
    }
}

/// (left id, right id) -> (rank, result id), open addressing with linear probing: the merge
/// lookup is the inner loop of BPE, and Dictionary's SipHash costs several times more.
struct PairRankTable: Sendable {
    struct Entry: Sendable {
        var key: UInt64
        var rank: UInt32
        var result: Int32
    }
    private static let empty = UInt64.max
    private var entries: [Entry]
    private let mask: Int

    init(_ merges: [BytePairEncoder.Merge]) {
        var capacity = 16
        while capacity < merges.count * 2 { capacity *= 2 }
        entries = Array(repeating: Entry(key: Self.empty, rank: 0, result: 0), count: capacity)
        mask = capacity - 1
        for (rank, merge) in merges.enumerated() {
            let key = Self.key(merge.left, merge.right)
            var slot = Self.slot(key, mask)
            while entries[slot].key != Self.empty && entries[slot].key != key { slot = (slot + 1) & mask }
            entries[slot] = Entry(key: key, rank: UInt32(rank), result: merge.result)
        }
    }

    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: UInt32, result: Int32)? {
        let key = Self.key(left, right)
        var slot = Self.slot(key, mask)
        while true {
            let entry = entries[slot]
            if entry.key == key { return (entry.rank, entry.result) }
            if entry.key == Self.empty { return nil }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always) private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always) private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }
}
