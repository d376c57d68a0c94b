import Foundation
import IPTCore
import Testing

/// `SafeTensors.parse(bytes:)`, the in-memory entry point the fuzzer drives (Fuzz/Sources/
/// FuzzSafeTensors): the same tensors as reading the file, and the same one-line errors, naming the
/// given source. The malformed-file cases themselves are in ``SafeTensorsTests``.
@Suite("SafeTensors: parsing from memory")
struct SafeTensorsInputTests {
    @Test func parsingFromMemoryMatchesReadingTheFile() throws {
        let directory = try TemporaryDirectory()  // SafeTensorsTests' helper
        let path = directory.file("t.safetensors")
        let a = Tensor([1, -2, 3.5, 4, 5, 6], shape: [2, 3])
        try SafeTensors.write([("a", a), ("b", Tensor(scalar: 7)), ("empty", Tensor([], shape: [0, 4]))],
                              metadata: ["step": "3"], to: path)
        let fromFile = try SafeTensors.read(path)
        let fromMemory = try SafeTensors.parse(bytes: Data(contentsOf: URL(fileURLWithPath: path)))
        for file in [fromFile, fromMemory] {
            #expect(file.names == ["a", "b", "empty"])
            #expect(file.metadata == ["step": "3"])
            #expect(file.tensors["a"]?.shape == [2, 3] && file.tensors["a"]?.scalars == a.scalars)
            #expect(file.tensors["b"]?.shape == [Int]() && file.tensors["b"]?.scalars == [7])
            #expect(file.tensors["empty"]?.shape == [0, 4] && file.tensors["empty"]?.count == 0)
        }
    }

    @Test func malformedBytesGiveOneLineErrorsNamingTheSource() throws {
        let header = Array(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf8)
        let framed = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
        let cases: [([UInt8], String)] = [
            ([], "too short"),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "exceeds the limit"),
            (framed + [0, 0, 0, 0], "beyond the 4 data bytes"),
        ]
        for (bytes, problem) in cases {
            #expect {
                _ = try SafeTensors.parse(bytes: Data(bytes), source: "upload.safetensors")
            } throws: { error in
                guard let error = error as? SafeTensorsError else { return false }
                return error.path == "upload.safetensors" && error.problem.contains(problem) && !error.description.contains("\n")
            }
        }
        #expect(try SafeTensors.parse(bytes: Data(framed + [UInt8](repeating: 0, count: 8))).tensors["t"]?.scalars == [0, 0])
    }
}
