// swift-tools-version:5.4
//
// libFuzzer harnesses for IPT-Swift's readers of outside input. A separate package so that builds
// and `swift test` of the main package never build them. Build and run with `scripts/fuzz`
// (see Docs/reliability.md); the sanitizer flags come from the command line:
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links executables on Linux with
// `--defsym main=<Target>_main` (to make them testable), which fails for harnesses that have no
// main of their own; with 5.4 the link takes libFuzzer's main.
import PackageDescription

let package = Package(
    name: "IPTFuzz",
    platforms: [.macOS("15.0")],
    dependencies: [
        .package(name: "IPT-Swift", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzSupport", .product(name: "IPTCore", package: "IPT-Swift")]),
        .executableTarget(name: "FuzzCrossFitTSV", dependencies: ["FuzzSupport", .product(name: "IPTData", package: "IPT-Swift")]),
        .executableTarget(name: "FuzzJSONFiles", dependencies: ["FuzzSupport", .product(name: "IPTData", package: "IPT-Swift")]),
        .executableTarget(name: "FuzzCorpusFiles", dependencies: ["FuzzSupport", .product(name: "IPTData", package: "IPT-Swift")]),
        .executableTarget(name: "FuzzTokenizerFiles", dependencies: ["FuzzSupport", .product(name: "IPTData", package: "IPT-Swift")]),
        .executableTarget(name: "FuzzBartConfiguration", dependencies: [
            "FuzzSupport", .product(name: "IPTCore", package: "IPT-Swift"), .product(name: "IPTModels", package: "IPT-Swift"),
        ]),
    ],
    swiftLanguageVersions: [.v5]
)
