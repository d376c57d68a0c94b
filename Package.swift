// swift-tools-version: 6.0
//
// IPT-Swift: intrinsic task subspaces of pretrained transformers (Qin et al.), as a layered library suite.
//
// Layers (see Docs/architecture.md):
//   IPTCore      tensors, reverse-mode autodiff, BLAS/LAPACK, safetensors, seeded randomness
//   IPTModels    BART and other transformers, soft prompts, adapters, generation      (IPTCore)
//   IPTData      tokenizers, CrossFit data, splits, batching, metrics                 (IPTCore)
//   IPTTraining  optimisers, schedules, subspace projections, the paper's procedures  (IPTModels, IPTData)
//   ipt-cli      thin command line: flags -> library call -> output
import PackageDescription

let package = Package(
    name: "IPT-Swift",
    platforms: [.macOS(.v15)],  // Synchronization.Atomic (BLAS.statistics) needs macOS 15
    products: [
        .library(name: "IPTCore", targets: ["IPTCore"]),
        .library(name: "IPTModels", targets: ["IPTModels"]),
        .library(name: "IPTData", targets: ["IPTData"]),
        .library(name: "IPTTraining", targets: ["IPTTraining"]),
        .executable(name: "ipt-cli", targets: ["ipt-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Headers only, found on Debian's default include paths (cblas.h through the alternatives
        // system, lapacke.h in /usr/include). IPTCore loads the libraries itself with dlopen, after
        // choosing OpenBLAS's CPU kernels: OpenBLAS fixes its kernels when it is loaded, so a
        // pkg-config link (which loads it at program start) would freeze the misdetected
        // "Prescott" kernels before any of our code runs. See Sources/IPTCore/BLAS/BLAS.swift.
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", providers: [.apt(["liblapacke-dev"])]),

        // AVX-512 kernels chosen at run time (Swift itself compiles for baseline x86-64).
        .target(name: "CIPTKernels"),

        .target(name: "IPTCore", dependencies: ["CBLAS", "CLAPACKE", "CIPTKernels"]),
        .target(name: "IPTModels", dependencies: ["IPTCore"]),
        .target(name: "IPTData", dependencies: ["IPTCore"]),
        .target(name: "IPTTraining", dependencies: ["IPTCore", "IPTModels", "IPTData"]),
        .executableTarget(
            name: "ipt-cli",
            dependencies: ["IPTCore", "IPTModels", "IPTData", "IPTTraining",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "ipt-bench",
            dependencies: ["IPTCore", "IPTModels", "IPTData", "IPTTraining"],
            path: "Benchmarks/ipt-bench"),

        // Locates ../shared and committed fixtures for the test targets.
        .target(name: "IPTTestSupport", path: "Tests/IPTTestSupport"),
        .testTarget(name: "IPTCoreTests", dependencies: ["IPTCore", "IPTTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IPTModelsTests", dependencies: ["IPTCore", "IPTModels", "IPTData", "IPTTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "IPTDataTests", dependencies: ["IPTCore", "IPTData", "IPTTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "IPTTrainingTests", dependencies: ["IPTCore", "IPTModels", "IPTData", "IPTTraining", "IPTTestSupport"],
                    resources: [.copy("Fixtures")]),
        // Runs the built ipt-cli end to end (exit codes, messages, artifacts).
        .testTarget(name: "CLITests", dependencies: ["ipt-cli", "IPTCore", "IPTModels", "IPTTraining", "IPTTestSupport"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
