import Foundation
import IPTCore
import IPTTestSupport
import Testing

/// Malformed safetensors files throw a one-line ``SafeTensorsError`` instead of trapping, and
/// parsing from memory agrees with reading the file. The fuzzing inputs that once misbehaved
/// are kept here as regression cases (see Docs/reliability.md).
@Suite("SafeTensors: malformed input")
struct SafeTensorsInputTests {
    /// A safetensors file: the 8-byte little-endian length of `header`, `header`, then `data`.
    func file(header: String, data: [UInt8] = []) -> Data {
        let json = Array(header.utf8)
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        bytes += json + data
        return Data(bytes)
    }

    /// Expects `bytes` to be rejected, from memory and from a file, with a one-line error that
    /// names the source and contains `problem`.
    func expectRejected(_ bytes: Data, _ problem: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            _ = try SafeTensors.parse(bytes: bytes, source: "input.safetensors")
            Issue.record("should be rejected: \(problem)", sourceLocation: sourceLocation)
        } catch let error as SafeTensorsError {
            #expect(error.path == "input.safetensors", sourceLocation: sourceLocation)
            #expect(error.problem.contains(problem), "'\(error.problem)' should contain '\(problem)'", sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        }
        let dir = try TemporaryDirectory()
        let url = try dir.write("input.safetensors", bytes: Array(bytes))
        #expect(throws: SafeTensorsError.self, sourceLocation: sourceLocation) { _ = try SafeTensors.read(url.path) }
    }

    @Test func parsingFromMemoryMatchesReadingTheFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.url.appendingPathComponent("t.safetensors").path
        let a = Tensor([1, -2, 3.5, 4, 5, 6], shape: [2, 3])
        let b = Tensor([7], shape: [])
        try SafeTensors.write([("a", a), ("b", b), ("empty", Tensor([], shape: [0, 4]))], metadata: ["step": "3"], to: path)
        let fromFile = try SafeTensors.read(path)
        let fromMemory = try SafeTensors.parse(bytes: Data(contentsOf: URL(fileURLWithPath: path)))
        for file in [fromFile, fromMemory] {
            #expect(file.names == ["a", "b", "empty"])
            #expect(file.metadata == ["step": "3"])
            #expect(file.tensors["a"]?.shape == [2, 3] && file.tensors["a"]?.scalars == a.scalars)
            #expect(file.tensors["b"]?.shape == [] && file.tensors["b"]?.scalars == [7])
            #expect(file.tensors["empty"]?.shape == [0, 4] && file.tensors["empty"]?.count == 0)
        }
    }

    @Test func widensHalfAndDoublePrecision() throws {
        // F16 1.5 = 0x3E00, BF16 -2 = 0xC000, F64 0.25 = 0x3FD0000000000000 (little-endian bytes).
        let header = #"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"# +
            #""b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},"# +
            #""d":{"dtype":"F64","shape":[1],"data_offsets":[4,12]}}"#
        let data: [UInt8] = [0x00, 0x3E, 0x00, 0xC0, 0, 0, 0, 0, 0, 0, 0xD0, 0x3F]
        let parsed = try SafeTensors.parse(bytes: file(header: header, data: data))
        #expect(parsed.tensors["h"]?.scalars == [1.5])
        #expect(parsed.tensors["b"]?.scalars == [-2])
        #expect(parsed.tensors["d"]?.scalars == [0.25])
    }

    @Test func rejectsBrokenFraming() throws {
        try expectRejected(Data([1, 2, 3]), "too short")
        try expectRejected(Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), "exceeds the limit")
        try expectRejected(Data([100, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8), "exceeds the file size")
        try expectRejected(file(header: "{\"a\":"), "not a valid safetensors JSON object")
        try expectRejected(file(header: "[1, 2]"), "not a valid safetensors JSON object")
    }

    @Test func rejectsInconsistentEntries() throws {
        func entry(_ dtype: String = "F32", shape: String = "[1]", offsets: String = "[0,4]") -> String {
            #"{"t":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}}"#
        }
        let four: [UInt8] = [0, 0, 0, 0]
        try expectRejected(file(header: entry("I64"), data: four), "tensor t: unsupported dtype I64")
        try expectRejected(file(header: entry(shape: "[-1]"), data: four), "tensor t: negative extent")
        try expectRejected(file(header: entry(shape: "[1.5]"), data: four), "tensor t: entry needs dtype")
        try expectRejected(file(header: entry(offsets: "[0]"), data: four), "tensor t: data_offsets must be two")
        try expectRejected(file(header: entry(offsets: "[4,0]"), data: four), "reversed")
        try expectRejected(file(header: entry(offsets: "[0,8]"), data: four), "beyond the 4 data bytes")
        try expectRejected(file(header: entry(shape: "[2]"), data: four), "needs 8")
        try expectRejected(file(header: entry(shape: "[4294967296,4294967296]"), data: four), "too large")
        try expectRejected(file(header: entry(shape: "[9223372036854775807]"), data: four), "too large")
        try expectRejected(file(header: #"{"__metadata__":{"a":1}}"#), "__metadata__ is not an object of strings")
        let overlapping = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"# +
            #""b":{"dtype":"F16","shape":[1],"data_offsets":[2,4]}}"#
        try expectRejected(file(header: overlapping, data: four), "overlaps")
    }
}
