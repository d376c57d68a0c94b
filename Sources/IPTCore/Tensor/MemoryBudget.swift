import Foundation

/// Whether tensors whose sizes come from outside (a flag, a configuration, a file's metadata) fit
/// in this machine's memory, checked before they are allocated: an allocation that fails stops
/// the process (``BufferCache``), so sizes that cannot fit are refused as bad input first.
public enum MemoryBudget {
    /// The memory this process may use, in bytes: the machine's physical memory, or a container's
    /// smaller limit (cgroup v2 `memory.max`).
    public static let physicalBytes: UInt64 = {
        let machine = ProcessInfo.processInfo.physicalMemory
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
              let limit = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return machine }
        return min(machine, limit)
    }()

    /// Whether the product of `factors` (a count of values, each taking `bytesPerValue` bytes: 4 for
    /// a frozen Float tensor, 16 for a trained one with its gradient and AdamW's two moments) fits
    /// in ``physicalBytes``. False when the product overflows or a factor is negative.
    public static func fits(_ factors: [Int], bytesPerValue: Int) -> Bool {
        var bytes = ElementCount()
        bytes.add([bytesPerValue] + factors)
        guard let total = bytes.total else { return false }
        return UInt64(total) <= physicalBytes
    }

    /// `physicalBytes` in whole gigabytes, for messages.
    public static var physicalGigabytes: UInt64 { physicalBytes >> 30 }
}

/// A sum of products of sizes that come from outside (a `config.json`, a file's metadata, a flag),
/// counted without trapping: ``total`` is nil once a product or the sum overflows `Int`, or a
/// factor is negative.
public struct ElementCount: Sendable {
    private var sum = 0
    private var invalid = false

    public init() {}

    /// The sum, or nil when it (or a product) does not fit in an `Int` or a factor was negative.
    public var total: Int? { invalid ? nil : sum }

    /// Adds the product of `factors`.
    public mutating func add(_ factors: [Int]) {
        var product = 1
        for factor in factors {
            let (p, o) = product.multipliedReportingOverflow(by: factor)
            product = p
            invalid = invalid || o || factor < 0
        }
        let (total, o) = sum.addingReportingOverflow(product)
        sum = total
        invalid = invalid || o
    }
}
