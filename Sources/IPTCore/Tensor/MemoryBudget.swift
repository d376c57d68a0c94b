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
        var product = bytesPerValue
        for factor in factors {
            guard factor >= 0 else { return false }
            let (p, overflow) = product.multipliedReportingOverflow(by: factor)
            guard !overflow else { return false }
            product = p
        }
        return UInt64(product) <= physicalBytes
    }

    /// `physicalBytes` in whole gigabytes, for messages.
    public static var physicalGigabytes: UInt64 { physicalBytes >> 30 }
}
