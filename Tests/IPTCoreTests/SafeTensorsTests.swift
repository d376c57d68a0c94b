import Foundation
import IPTCore
import Testing

/// A fresh temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "ipt-core-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Names in the directory, sorted (hidden temporary files included).
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("safetensors reading and writing")
struct SafeTensorsTests {
    @Test func roundTripKeepsValuesShapesOrderAndMetadata() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("model.safetensors")
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1 / 3, -7.5]
        let tensors: [(String, Tensor)] = [
            ("zeta.weight", Tensor(special, shape: [2, 4])),
            ("alpha", Tensor(scalar: 3.25)),
            ("empty", Tensor.zeros([0, 4])),
            ("middle.bias", Tensor.arange(5)),
        ]
        let metadata = ["format": "pt", "ipt.version": IPTVersion.string, "note": "ünïcode ✓"]
        try SafeTensors.write(tensors, metadata: metadata, to: path)
        let file = try SafeTensors.read(path)
        #expect(file.names == tensors.map(\.0))
        #expect(file.metadata == metadata)
        #expect(try SafeTensors.readMetadata(path) == metadata)
        for (name, t) in tensors {
            let read = try #require(file.tensors[name])
            #expect(read.shape == t.shape, "\(name)")
            #expect(read.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern), "\(name)")
        }
        #expect(try directory.contents() == ["model.safetensors"])  // no temporary file left behind
    }

    @Test func readsAFileWrittenByPythonSafetensors() throws {
        struct Expected: Decodable {
            struct Entry: Decodable { let dtype: String; let shape: [Int]; let values: [String] }
            let order: [String]
            let metadata: [String: String]
            let tensors: [String: Entry]
        }
        let expected = try Fixtures.json("python_written.json", as: Expected.self)
        let file = try SafeTensors.read(Fixtures.url("python_written.safetensors").path)
        #expect(file.names == expected.order)
        #expect(file.metadata == expected.metadata)
        #expect(Set(expected.tensors.map(\.value.dtype)) == ["F32", "F16", "BF16", "F64"])
        for (name, entry) in expected.tensors {
            let t = try #require(file.tensors[name], "\(name)")
            #expect(t.shape == entry.shape, "\(name)")
            let values = entry.values.compactMap { Double($0).map(Float.init) }
            #expect(values.count == entry.values.count)
            #expect(t.scalars.map(\.bitPattern) == values.map(\.bitPattern), "\(name) (\(entry.dtype))")
        }
    }

    /// F16 output: the bytes of values that are exact in half precision equal those Python's
    /// safetensors wrote, and rounding, overflow and underflow follow numpy's float16 cast.
    @Test func writesHalfPrecisionAsPythonAndNumpyDo() throws {
        let directory = try TemporaryDirectory()
        let python = try Data(contentsOf: Fixtures.url("python_written.safetensors"))
        let halves = try #require(try SafeTensors.read(Fixtures.url("python_written.safetensors").path).tensors["f16"])
        // numpy: np.float32([1/3, 0.1, 65520, 1e-8, -2.5, 6e-8]).astype(np.float16).view(np.uint16)
        let rounded = Tensor([1 / 3, 0.1, 65520, 1e-8, -2.5, 6e-8], shape: [6])
        let path = directory.file("half.safetensors")
        try SafeTensors.write([("f16", halves), ("rounded", rounded)], metadata: ["k": "v"], storage: .f16, to: path)
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        func dataRegion(_ file: Data) -> Data {
            let headerLength = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            return file.dropFirst(8 + headerLength)
        }
        // Python's file has the F16 tensor at data offsets 60..<76.
        let expectedHalves = Data(dataRegion(python).dropFirst(60).prefix(16))
        let ours = dataRegion(written)
        #expect(Data(ours.prefix(16)) == expectedHalves)
        let bits = stride(from: 16, to: 28, by: 2).map { UInt16(ours[ours.startIndex + $0]) | UInt16(ours[ours.startIndex + $0 + 1]) << 8 }
        #expect(bits == [0x3555, 0x2E66, 0x7C00, 0x0000, 0xC100, 0x0001])
        let back = try SafeTensors.read(path)
        #expect(back.metadata == ["k": "v"])
        #expect(back.tensors["f16"]?.scalars == halves.scalars)
        #expect(back.tensors["rounded"]?.shape == [6])
    }

    /// Every malformed file throws ``SafeTensorsError`` naming the file, with a one-line problem.
    @Test func malformedFilesThrowNamedErrors() throws {
        let directory = try TemporaryDirectory()
        func file(_ header: String, data: Int = 0, length: UInt64? = nil) -> [UInt8] {
            let json = Array(header.utf8)
            return withUnsafeBytes(of: (length ?? UInt64(json.count)).littleEndian, Array.init)
                + json + [UInt8](repeating: 0, count: data)
        }
        let entry = { (dtype: String, shape: String, offsets: String) in
            "{\"t\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}}"
        }
        let cases: [(name: String, bytes: [UInt8], problem: String)] = [
            ("empty file", [], "too short"),
            ("truncated length", [8, 0, 0, 0], "too short"),
            ("header length beyond file", file("{}", length: 4096), "exceeds the file size"),
            ("huge header length", file("{}", length: 200_000_000), "exceeds the limit"),
            ("header length 2^64-1", file("{}", length: .max), "exceeds the limit"),
            ("invalid JSON", file("{\"t\": {\"dtype\": "), "not valid JSON"),
            ("invalid UTF-8", [4, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF, 0xFE, 0x7D], "not valid JSON"),
            ("header is an array", file("[1, 2]"), "header is not"),
            ("header is a string", file("\"text\""), "header is not"),
            ("boolean offsets", file(entry("F32", "[1]", "[false, true]"), data: 4), "tensor t"),
            ("entry is a number", file("{\"t\": 5}"), "tensor t"),
            ("integer dtype", file(entry("I64", "[1]", "[0, 8]"), data: 8), "unsupported dtype I64"),
            ("unknown dtype", file(entry("X9", "[1]", "[0, 8]"), data: 8), "unsupported dtype X9"),
            ("shape/byte-count mismatch", file(entry("F32", "[3]", "[0, 8]"), data: 8), "needs 12"),
            ("offsets beyond data", file(entry("F32", "[2]", "[0, 8]"), data: 4), "beyond the 4 data bytes"),
            ("reversed offsets", file(entry("F32", "[2]", "[8, 0]"), data: 8), "reversed"),
            ("three offsets", file(entry("F32", "[2]", "[0, 8, 8]"), data: 8), "two non-negative integers"),
            ("negative offset", file(entry("F32", "[2]", "[-8, 0]"), data: 8), "two non-negative integers"),
            ("float offsets", file(entry("F32", "[1]", "[0.0, 4.0]"), data: 4), "tensor t"),
            ("float offsets, fractional", file(entry("F32", "[1]", "[0, 4.5]"), data: 4), "tensor t"),
            ("shape as string", file(entry("F32", "\"[1]\"", "[0, 4]"), data: 4), "tensor t"),
            ("negative extent", file(entry("F32", "[-1, 4]", "[0, 4]"), data: 4), "negative extent"),
            ("float extent", file(entry("F32", "[1.5]", "[0, 4]"), data: 4), "tensor t"),
            ("overflowing shape", file(entry("F32", "[4611686018427387904, 4]", "[0, 4]"), data: 4), "too large"),
            ("missing dtype", file("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: 4), "tensor t"),
            ("overlapping offsets",
             file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", data: 12), "overlaps"),
            ("metadata not strings", file("{\"__metadata__\": {\"epoch\": 3}}"), "__metadata__"),
            ("metadata not an object", file("{\"__metadata__\": [\"a\"]}"), "__metadata__"),
        ]
        for (index, c) in cases.enumerated() {
            let path = directory.file("case\(index).safetensors")
            try Data(c.bytes).write(to: URL(fileURLWithPath: path))
            expectError(path: path, contains: c.problem, c.name) { _ = try SafeTensors.read(path) }
        }
        let missing = directory.file("missing.safetensors")
        expectError(path: missing, contains: "cannot open", "missing file") { _ = try SafeTensors.read(missing) }
        expectError(path: directory.path, contains: "not a regular file", "directory") { _ = try SafeTensors.read(directory.path) }
        // The header alone is readable for every safetensors dtype, and checked just as strictly.
        let integer = directory.file("case\(cases.firstIndex { $0.name == "integer dtype" }!).safetensors")
        let header = try SafeTensors.readHeader(integer)
        #expect(header.tensors.map { "\($0.name) \($0.dtype) \($0.shape)" } == ["t I64 [1]"])
        let unknown = directory.file("case\(cases.firstIndex { $0.name == "unknown dtype" }!).safetensors")
        expectError(path: unknown, contains: "unsupported dtype X9", "header of an unknown dtype") { _ = try SafeTensors.readHeader(unknown) }
        let truncated = directory.file("case0.safetensors")
        expectError(path: truncated, contains: "too short", "metadata of an empty file") { _ = try SafeTensors.readMetadata(truncated) }
    }

    func expectError(path: String, contains problem: String, _ name: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(name): no error")
        } catch let error as SafeTensorsError {
            #expect(error.path == path, "\(name)")
            #expect(error.problem.contains(problem), "\(name): \(error.problem)")
            #expect(!error.description.contains("\n"), "\(name)")
        } catch {
            Issue.record("\(name): \(type(of: error)) instead of SafeTensorsError: \(error)")
        }
    }

    /// F32 tensors borrow the file's privately mapped pages: writing into one must copy, never
    /// reach the file, and a file replaced on disk must not change tensors already read.
    @Test func mutatingAReadTensorLeavesTheFileAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("weights.safetensors")
        let original = Tensor.arange(4096)
        try SafeTensors.write([("w", original)], to: path)
        var file = try SafeTensors.read(path)
        let removed = file.tensors.removeValue(forKey: "w")
        var w = try #require(removed)  // uniquely referenced: written in place
        w.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = -1 } }
        w[7] = 42
        #expect(try SafeTensors.read(path).tensors["w"]?.scalars == original.scalars)

        let kept = try #require(try SafeTensors.read(path).tensors["w"])
        try SafeTensors.write([("w", Tensor.full([4096], 9))], to: path)
        #expect(kept.scalars == original.scalars)
        #expect(try SafeTensors.read(path).tensors["w"]?.scalars == Tensor.full([4096], 9).scalars)
    }

    @Test func writingRejectsDuplicateAndReservedNames() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bad.safetensors")
        let t = Tensor.ones([2])
        #expect(throws: SafeTensorsError.self) { try SafeTensors.write([("a", t), ("a", t)], to: path) }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.write([("__metadata__", t)], to: path) }
        #expect(try directory.contents().isEmpty)
    }
}

@Suite("Atomic file writing")
struct AtomicFileTests {
    struct Interrupted: Error {}

    @Test func aFailedWriteKeepsTheOldFileAndLeavesNoTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state.json")
        try AtomicFile.write("old", to: path)
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: path) { sink in
                try sink.write(Data("new, but only half of it".utf8))
                throw Interrupted()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try directory.contents() == ["state.json"])
        try AtomicFile.write("new", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(try directory.contents() == ["state.json"])
    }

    @Test func unwritableDestinationsGiveFileWriteErrors() throws {
        let directory = try TemporaryDirectory()
        // A folder that does not exist.
        let nowhere = directory.file("no/such/folder/file.bin")
        expectWriteError(path: nowhere, contains: "cannot create") { try AtomicFile.write("x", to: nowhere) }
        expectWriteError(path: nowhere, contains: "cannot create") {
            try SafeTensors.write([("a", Tensor.ones([1]))], to: nowhere)
        }
        // A destination that is a non-empty folder: the rename fails and the folder is untouched.
        let folder = directory.file("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try AtomicFile.write("keep", to: folder + "/inside")
        expectWriteError(path: folder, contains: "cannot rename") { try AtomicFile.write("x", to: folder) }
        #expect(try String(contentsOfFile: folder + "/inside", encoding: .utf8) == "keep")
        #expect(try directory.contents() == ["folder"])
        // A read-only folder (meaningless for root, which may write anywhere).
        if getuid() != 0 {
            let readOnly = directory.file("read-only")
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false)
            chmod(readOnly, 0o555)
            defer { chmod(readOnly, 0o755) }
            expectWriteError(path: readOnly + "/f", contains: "cannot create") { try AtomicFile.write("x", to: readOnly + "/f") }
        }
    }

    func expectWriteError(path: String, contains problem: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("writing \(path) did not fail")
        } catch let error as FileWriteError {
            #expect(error.path == path)
            #expect(error.problem.contains(problem), "\(error)")
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("\(type(of: error)) instead of FileWriteError: \(error)")
        }
    }
}
