import Foundation
import FuzzSupport
import IPTCore

/// libFuzzer entry: the input is a whole safetensors file, parsed from memory (the same header
/// checks and tensor decoding as the mmap path of `SafeTensors.read`). A thrown error is the
/// expected outcome for malformed input; a trap, a sanitizer report, a hang or an allocation above
/// the RSS limit is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let file = try? SafeTensors.parse(bytes: Data(bytes: data, count: size), source: "fuzz.safetensors") else {
        return 0
    }
    // Read every element, so that a tensor reaching outside the input shows up under ASan.
    var checksum: Float = 0
    for name in file.names {
        guard let tensor = file.tensors[name] else { fatalError("name \(name) has no tensor") }
        tensor.withUnsafeBufferPointer { values in for v in values { checksum += v } }
    }
    blackHole(checksum)
    return 0
}
