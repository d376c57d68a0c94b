// swift-tools-version:5.4
//
// libFuzzer harnesses for IPT-Swift's readers of outside input. A separate package so that builds
// and `swift test` of the main package never build them. Build and run with `scripts/fuzz`
// (see Docs/reliability.md); the sanitizer flags come from the command line:
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
import PackageDescription

let package = Package(
    name: "IPTFuzz",
    platforms: [.macOS("13.0")],
    dependencies: [
        .package(name: "IPT-Swift", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzSupport", .product(name: "IPTCore", package: "IPT-Swift")]),
        .executableTarget(name: "FuzzCrossFitTSV", dependencies: ["FuzzSupport", .product(name: "IPTData", package: "IPT-Swift")]),
        .executableTarget(name: "FuzzJSONFiles", dependencies: ["FuzzSupport", .product(name: "IPTData", package: "IPT-Swift")]),
    ],
    swiftLanguageVersions: [.v5]
)
