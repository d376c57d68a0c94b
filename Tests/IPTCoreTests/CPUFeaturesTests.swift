import IPTCore
import Testing

/// Kernel families forced through IPT_BLAS_CORETYPE or OPENBLAS_CORETYPE are checked against the
/// CPU's flags: OpenBLAS would run them anyway and die on an illegal instruction.
@Suite("CPU features and OpenBLAS kernel families")
struct CPUFeaturesTests {
    func cpu(_ flags: String) -> CPUFeatures {
        CPUFeatures(cpuinfo: "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 \(flags)\n")
    }

    @Test func familiesNeedTheirVectorExtensions() {
        let haswell = cpu("sse4_2 avx avx2 fma f16c")
        #expect(haswell.modelName == "Test CPU")
        #expect(haswell.missingExtensions(forOpenBLASCore: "HASWELL").isEmpty)
        #expect(haswell.missingExtensions(forOpenBLASCore: "zen").isEmpty)
        #expect(haswell.missingExtensions(forOpenBLASCore: "skylakex") == ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])
        #expect(haswell.missingExtensions(forOpenBLASCore: "COOPERLAKE").last == "avx512_bf16")
        let skylake = cpu("sse4_2 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl")
        #expect(skylake.missingExtensions(forOpenBLASCore: "SKYLAKEX").isEmpty)
        #expect(skylake.missingExtensions(forOpenBLASCore: "COOPERLAKE") == ["avx512_bf16"])
        #expect(skylake.missingExtensions(forOpenBLASCore: "SAPPHIRERAPIDS") == ["avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16"])
        let old = cpu("sse4_2")
        #expect(old.missingExtensions(forOpenBLASCore: "SANDYBRIDGE") == ["avx"])
        #expect(old.missingExtensions(forOpenBLASCore: "HASWELL") == ["avx2", "fma"])
        // Names OpenBLAS does not know are ignored by OpenBLAS itself, so they need nothing.
        #expect(old.missingExtensions(forOpenBLASCore: "NO-SUCH-CORE").isEmpty)
        #expect(old.missingExtensions(forOpenBLASCore: "PRESCOTT").isEmpty)
    }
}
