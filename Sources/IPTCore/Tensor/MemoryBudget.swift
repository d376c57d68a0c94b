import Foundation

/// Whether tensors whose sizes come from outside (a flag, a configuration, a file's metadata) fit
/// in this machine's memory, checked before they are allocated: an allocation that fails stops
/// the process (``BufferCache``), so sizes that cannot fit are refused as bad input first.
public enum MemoryBudget {
    /// The machine's physical memory, in bytes.
    public static var physicalBytes: UInt64 { ProcessInfo.processInfo.physicalMemory }

    /// Whether the product of `factors` (a count of values, each taking `bytesPerValue` bytes: 4 for
    /// a frozen Float tensor, 16 for a trained one with its gradient and AdamW's two moments) fits
    /// in the physical memory. False when the product overflows or a factor is negative.
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
