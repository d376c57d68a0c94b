import Foundation

/// A 64-bit FNV-1a digest of values, to tell whether an input is the one a run started from (a
/// subspace file replaced in between, another data folder), to fingerprint a model or a
/// configuration, and to turn a purpose's name into a seed. Not cryptographic: it guards against
/// mistakes, not against tampering.
public struct ContentDigest: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Mixes in raw bytes.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = state
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = h
    }

    /// Mixes in a string's UTF-8 bytes and a terminator (so that "ab" + "c" differs from "a" + "bc").
    public mutating func add(_ string: String) {
        var copy = string
        copy.withUTF8 { add(UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { add($0) }
    }

    /// Mixes in a tensor's shape and values.
    public mutating func add(_ tensor: Tensor) {
        for d in tensor.shape { withUnsafeBytes(of: Int64(d).littleEndian) { add($0) } }
        tensor.withUnsafeBufferPointer { add(UnsafeRawBufferPointer($0)) }
    }

    /// The digest.
    public var value: UInt64 { state }

    /// The digest as 16 hexadecimal digits.
    public var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
