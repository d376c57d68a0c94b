import Foundation

/// Remembers the token ids of pre-tokens already encoded, keyed by their bytes.
///
/// Real text repeats its words, so most pre-tokens are hits and skip BPE altogether. Keys and
/// values live in two flat arrays and the table holds indices into them: a lookup allocates
/// nothing. When the cache is full it starts over, which keeps memory bounded on endless input
/// (Hugging Face instead stops inserting). Words of `maximumWordLength` bytes or more are not
/// cached, as in Hugging Face.
final class WordCache: @unchecked Sendable {  // every access goes through `lock`
    private struct Entry {
        var hash: UInt64
        var keyStart: Int32
        var keyLength: Int32
        var valueStart: Int32
        var valueCount: Int32
    }

    let capacity: Int
    let maximumWordLength: Int
    private let lock = NSLock()
    private var slots: [Int32]            // index into `entries`, or -1
    private var entries: [Entry] = []
    private var keyBytes: [UInt8] = []
    private var values: [Int32] = []
    private let slotMask: Int

    /// - Parameters:
    ///   - capacity: the number of words kept before the cache starts over (default 65,536).
    ///   - maximumWordLength: words this long (in bytes) or longer are not cached (default 256).
    init(capacity: Int = 65_536, maximumWordLength: Int = 256) {
        precondition(capacity > 0 && maximumWordLength > 0, "a positive cache capacity and word length")
        self.capacity = capacity
        self.maximumWordLength = maximumWordLength
        var slotCount = 16
        while slotCount < capacity * 2 { slotCount *= 2 }
        slots = Array(repeating: -1, count: slotCount)
        slotMask = slotCount - 1
    }

    /// Runs `body` with exclusive use of the cache (one lock per call, not per word).
    func withLock<Result>(_ body: (WordCache) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(self)
    }

    /// Appends the cached ids of `word` to `ids` and returns true, or returns false on a miss.
    /// Call only inside `withLock`.
    @inline(__always)
    func appendIDs(of word: UnsafeBufferPointer<UInt8>, to ids: inout [Int32]) -> Bool {
        guard !word.isEmpty, word.count < maximumWordLength else { return false }
        let hash = Self.hash(word)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return false }
            let entry = entries[index]
            if entry.hash == hash && Int(entry.keyLength) == word.count && keyMatches(entry, word) {
                let start = Int(entry.valueStart)
                ids.append(contentsOf: values[start..<(start + Int(entry.valueCount))])
                return true
            }
            slot = (slot + 1) & slotMask
        }
    }

    /// Remembers `wordIDs` as the encoding of `word`. Call only inside `withLock`, after a miss.
    func insert(_ word: UnsafeBufferPointer<UInt8>, ids wordIDs: ArraySlice<Int32>) {
        guard !word.isEmpty, word.count < maximumWordLength else { return }
        if entries.count >= capacity { removeAll() }
        let hash = Self.hash(word)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while slots[slot] >= 0 { slot = (slot + 1) & slotMask }
        slots[slot] = Int32(entries.count)
        entries.append(Entry(hash: hash, keyStart: Int32(keyBytes.count), keyLength: Int32(word.count),
                             valueStart: Int32(values.count), valueCount: Int32(wordIDs.count)))
        keyBytes.append(contentsOf: word)
        values.append(contentsOf: wordIDs)
    }

    private func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        entries.removeAll(keepingCapacity: true)
        keyBytes.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private func keyMatches(_ entry: Entry, _ word: UnsafeBufferPointer<UInt8>) -> Bool {
        keyBytes.withUnsafeBufferPointer { keys in
            memcmp(keys.baseAddress! + Int(entry.keyStart), word.baseAddress!, word.count) == 0
        }
    }

    /// A fast 64-bit hash of short byte strings (8 bytes per multiply, then a final mix).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            for i in offset..<bytes.count { tail = tail << 8 | UInt64(base[i]) }
            h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
        }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }
}
