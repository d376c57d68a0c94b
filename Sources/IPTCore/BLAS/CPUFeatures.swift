import Foundation

/// The vector extensions of the CPU this process runs on (read from /proc/cpuinfo on Linux).
public struct CPUFeatures: Sendable, Codable {
    /// The CPU's model name, as the kernel reports it.
    public let modelName: String
    /// Vector-related feature flags present (pni (SSE3), ssse3, sse4_1, sse4_2, avx, avx2, fma,
    /// avx512f, avx512_bf16, amx_tile, ...).
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
        let interesting = ["pni", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c"]
        let vector = flags.filter { interesting.contains($0) || $0.hasPrefix("avx512") || $0.hasPrefix("amx") || $0 == "avx_vnni" }
        self.modelName = model
        self.vectorExtensions = vector
        self.logicalProcessors = ProcessInfo.processInfo.activeProcessorCount
    }

    /// Whether every one of `flags` is present.
    public func has(_ flags: String...) -> Bool { flags.allSatisfy(vectorExtensions.contains) }

    /// The fastest OpenBLAS kernel family (an `OPENBLAS_CORETYPE` value) this CPU can run, or `nil`
    /// when OpenBLAS's own detection should be trusted.
    ///
    /// OpenBLAS 0.3.21 does not know recent Xeons (Sapphire/Emerald Rapids) and falls back to the
    /// SSE3 "Prescott" kernels, about 5x slower. The AVX-512 kernels need F, CD, BW, DQ and VL;
    /// Cooperlake's additionally need AVX512-BF16.
    public var preferredOpenBLASCore: String? {
        for core in ["COOPERLAKE", "SKYLAKEX", "HASWELL"] where canRun(openBLASCore: core) == true { return core }
        return nil
    }

    /// The instruction-set flags each x86-64 OpenBLAS kernel family needs (OpenBLAS 0.3.21 names).
    static let openBLASCoreRequirements: [String: [String]] = {
        let skylakeX = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"]
        return [
            "PRESCOTT": ["pni"], "CORE2": ["ssse3"], "PENRYN": ["sse4_1"], "DUNNINGTON": ["sse4_1"],
            "NEHALEM": ["sse4_2"], "SANDYBRIDGE": ["avx"], "HASWELL": ["avx2", "fma"], "ZEN": ["avx2", "fma"],
            "SKYLAKEX": skylakeX, "COOPERLAKE": skylakeX + ["avx512_bf16"],
            "SAPPHIRERAPIDS": skylakeX + ["avx512_bf16", "amx_tile", "amx_bf16"],
        ]
    }()

    /// Whether this CPU has the instructions of an OpenBLAS kernel family (`OPENBLAS_CORETYPE`
    /// value, any case): `nil` for a name IPTCore does not know (OpenBLAS then decides).
    public func canRun(openBLASCore name: String) -> Bool? {
        CPUFeatures.openBLASCoreRequirements[name.uppercased()].map { $0.allSatisfy(vectorExtensions.contains) }
    }
}
