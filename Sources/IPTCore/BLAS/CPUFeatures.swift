import Foundation

/// The vector extensions of the CPU this process runs on (read from /proc/cpuinfo on Linux).
public struct CPUFeatures: Sendable, Codable {
    /// The CPU's model name, as the kernel reports it.
    public let modelName: String
    /// Vector-related feature flags present (sse4_2, avx, avx2, fma, avx512f, avx512_bf16, amx_tile, ...).
    public let vectorExtensions: [String]
    /// Online logical processors.
    public let logicalProcessors: Int

    /// Features of the current machine.
    public static let current: CPUFeatures = {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return CPUFeatures(cpuinfo: text)
    }()

    /// Parses the text of /proc/cpuinfo (first processor block).
    public init(cpuinfo text: String) {
        var flags: [String] = []
        var model = "unknown"
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "flags", flags.isEmpty { flags = parts[1].split(separator: " ").map(String.init) }
            if parts[0] == "model name", model == "unknown" { model = parts[1] }
        }
        let interesting = ["sse4_2", "avx", "avx2", "fma", "f16c"]
        let vector = flags.filter { interesting.contains($0) || $0.hasPrefix("avx512") || $0.hasPrefix("amx") || $0 == "avx_vnni" }
        self.modelName = model
        self.vectorExtensions = vector
        self.logicalProcessors = ProcessInfo.processInfo.activeProcessorCount
    }

    /// Whether every one of `flags` is present.
    public func has(_ flags: String...) -> Bool { flags.allSatisfy(vectorExtensions.contains) }

    /// The vector extensions that OpenBLAS's kernel family `core` (an `OPENBLAS_CORETYPE` name, any
    /// case) uses and this CPU lacks. Empty when the CPU can run the family, and for names not
    /// checked here (older families, or names OpenBLAS does not know and ignores).
    public func missingExtensions(forOpenBLASCore core: String) -> [String] {
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        let needed: [String]
        switch core.uppercased() {
        case "SAPPHIRERAPIDS": needed = avx512 + ["avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16"]
        case "COOPERLAKE": needed = avx512 + ["avx512_bf16"]
        case "SKYLAKEX": needed = avx512
        case "HASWELL", "ZEN": needed = ["avx2", "fma"]
        case "SANDYBRIDGE": needed = ["avx"]
        case "NEHALEM": needed = ["sse4_2"]
        default: needed = []
        }
        return needed.filter { !vectorExtensions.contains($0) }
    }

    /// The fastest OpenBLAS kernel family (an `OPENBLAS_CORETYPE` value) this CPU can run, or `nil`
    /// when OpenBLAS's own detection should be trusted.
    ///
    /// OpenBLAS 0.3.21 does not know recent Xeons (Sapphire/Emerald Rapids) and falls back to the
    /// SSE3 "Prescott" kernels, about 5x slower. The AVX-512 kernels need F, CD, BW, DQ and VL;
    /// Cooperlake's additionally need AVX512-BF16.
    public var preferredOpenBLASCore: String? {
        let skylakeX = has("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")
        if skylakeX && has("avx512_bf16") { return "COOPERLAKE" }
        if skylakeX { return "SKYLAKEX" }
        if has("avx2", "fma") { return "HASWELL" }
        return nil
    }
}
