import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a safetensors file could not be read or written. The description is one line naming the
/// file and the problem.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}`, then the raw data.
///
/// Reading maps the file into memory: F32 tensors borrow the mapped pages (copy-on-write), so a
/// 500 MB checkpoint is not held twice; F16 and BF16 are widened to F32. Every inconsistency
/// throws ``SafeTensorsError``; nothing read from the file can trap.
public enum SafeTensors {
    /// The largest header accepted (the reference implementation's limit).
    public static let maximumHeaderLength = 100_000_000

    /// A parsed file: tensors by name, in file order, and the metadata strings.
    public struct File {
        public var tensors: [String: Tensor]
        /// Tensor names in the order of their data offsets.
        public var names: [String]
        public var metadata: [String: String]
    }

    /// Reads every tensor of the file at `path`.
    public static func read(_ path: String) throws -> File {
        let mapped = try MappedFile(path: path)
        return try parse(mapped, path: path)
    }

    /// Parses a whole safetensors file held in memory (copied once; F32 tensors borrow the copy).
    /// Same checks and errors as ``read(_:)``, for bytes that do not come from a file.
    ///
    /// - Parameters:
    ///   - bytes: the file's bytes.
    ///   - source: names the bytes in errors; default `"<memory>"`.
    public static func parse(bytes: Data, source: String = "<memory>") throws -> File {
        try parse(MappedFile(copying: bytes), path: source)
    }

    /// Reads only the header's metadata strings.
    public static func readMetadata(_ path: String) throws -> [String: String] {
        let mapped = try MappedFile(path: path)
        return try header(mapped, path: path).metadata
    }

    /// A tensor's entry in a file's header.
    public struct TensorInfo: Equatable, Sendable {
        public var name: String
        /// The safetensors dtype ("F32", "BF16", "I64", ...).
        public var dtype: String
        public var shape: [Int]
    }

    /// Reads and checks only the header: every tensor's name, dtype and shape (in the order of
    /// their data) and the metadata strings. Unlike ``read(_:)`` it accepts every safetensors dtype.
    public static func readHeader(_ path: String) throws -> (tensors: [TensorInfo], metadata: [String: String]) {
        let mapped = try MappedFile(path: path)
        let (entries, metadata, _) = try header(mapped, path: path)
        return (entries.map { TensorInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape) }, metadata)
    }

    private struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    private struct HeaderProblem: Error { let message: String }

    /// The JSON header's entries and metadata; a problem names its tensor. Parsed with
    /// JSONSerialization rather than JSONDecoder, which would take `4.0` for the integer 4.
    private static func decodeHeader(_ data: Data) throws -> (entries: [Entry], metadata: [String: String]) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw HeaderProblem(message: "header is not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else { throw HeaderProblem(message: "header is not a JSON object") }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in dictionary {
            if name == "__metadata__" {
                guard let fields = value as? [String: Any] else {
                    throw HeaderProblem(message: "__metadata__ is not an object of strings")
                }
                for (key, field) in fields {
                    guard let text = field as? String else {
                        throw HeaderProblem(message: "__metadata__ value of \(key) is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = integers(info["shape"]), let offsets = integers(info["data_offsets"]) else {
                throw HeaderProblem(message: "tensor \(name): entry needs dtype (string), shape and data_offsets (integer lists)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw HeaderProblem(message: "tensor \(name): negative extent in shape \(shape)")
            }
            guard offsets.count == 2, offsets.allSatisfy({ $0 >= 0 }) else {
                throw HeaderProblem(message: "tensor \(name): data_offsets must be two non-negative integers, got \(offsets)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        return (entries, metadata)
    }

    /// A JSON list of integers (not floats, not booleans), or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in list {
            // A JSON integer parses to a signed integer NSNumber; a fraction or exponent gives "d",
            // a boolean "c" (and `is Bool` would also match the integers 0 and 1).
            guard let number = element as? NSNumber, ["i", "l", "q", "s"].contains(String(cString: number.objCType)),
                  let integer = element as? Int else { return nil }
            result.append(integer)
        }
        return result
    }

    private static func header(_ file: MappedFile, path: String) throws -> (entries: [Entry], metadata: [String: String], dataStart: Int) {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(path: path, problem: problem) }
        guard file.count >= 8 else { throw fail("file is \(file.count) bytes, too short for a safetensors header") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(file.bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maximumHeaderLength) else { throw fail("header length \(n) exceeds the limit of \(maximumHeaderLength) bytes") }
        guard Int(n) <= file.count - 8 else { throw fail("header length \(n) exceeds the file size \(file.count) (truncated file?)") }
        let headerData = Data(bytes: file.bytes + 8, count: Int(n))
        var entries: [Entry], metadata: [String: String]
        do {
            (entries, metadata) = try decodeHeader(headerData)
        } catch let error as HeaderProblem {
            throw fail(error.message)
        }
        let dataStart = 8 + Int(n)
        let dataSize = file.count - dataStart
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var previousEnd = 0
        for e in entries {
            guard let size = elementSize(e.dtype) else { throw fail("tensor \(e.name): unsupported dtype \(e.dtype)") }
            var elements = 1
            for extent in e.shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: extent)
                guard !overflow else { throw fail("tensor \(e.name): shape \(e.shape) is too large") }
                elements = p
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("tensor \(e.name): shape \(e.shape) is too large") }
            guard e.begin <= e.end else { throw fail("tensor \(e.name): data_offsets [\(e.begin), \(e.end)] are reversed") }
            guard e.end <= dataSize else {
                throw fail("tensor \(e.name): data_offsets end \(e.end) beyond the \(dataSize) data bytes (truncated file?)")
            }
            guard e.end - e.begin == bytes else {
                throw fail("tensor \(e.name): \(e.end - e.begin) data bytes for shape \(e.shape) of \(e.dtype) (needs \(bytes))")
            }
            guard e.begin >= previousEnd else { throw fail("tensor \(e.name): data overlaps the previous tensor's") }
            previousEnd = e.end
        }
        return (entries, metadata, dataStart)
    }

    private static func parse(_ file: MappedFile, path: String) throws -> File {
        let (entries, metadata, dataStart) = try header(file, path: path)
        var tensors: [String: Tensor] = [:]
        for e in entries {
            let source = file.bytes + dataStart + e.begin
            let count = e.shape.reduce(1, *)
            switch e.dtype {
            case "F32":
                if Int(bitPattern: source) % MemoryLayout<Float>.alignment == 0 && count > 0 {
                    let pointer = UnsafeMutableRawPointer(source).assumingMemoryBound(to: Float.self)
                    tensors[e.name] = Tensor(shape: e.shape, storage: TensorStorage(borrowing: pointer, count: count, owner: file))
                } else {
                    tensors[e.name] = Tensor(shape: e.shape) { out in
                        if count > 0 { memcpy(out.baseAddress!, source, count * 4) }
                    }
                }
            case "F16":
                tensors[e.name] = Tensor(shape: e.shape) { out in
                    for i in 0..<count {
                        let bits = UInt16(source[2 * i]) | UInt16(source[2 * i + 1]) << 8
                        out[i] = Float(Float16(bitPattern: bits))
                    }
                }
            case "BF16":
                tensors[e.name] = Tensor(shape: e.shape) { out in
                    for i in 0..<count {
                        let bits = UInt32(source[2 * i]) << 16 | UInt32(source[2 * i + 1]) << 24
                        out[i] = Float(bitPattern: bits)
                    }
                }
            case "F64":
                tensors[e.name] = Tensor(shape: e.shape) { out in
                    for i in 0..<count {
                        var bits: UInt64 = 0
                        for j in 0..<8 { bits |= UInt64(source[8 * i + j]) << (8 * UInt64(j)) }
                        out[i] = Float(Double(bitPattern: bits))
                    }
                }
            default:
                throw SafeTensorsError(path: path, problem: "tensor \(e.name): unsupported dtype \(e.dtype)")
            }
        }
        return File(tensors: tensors, names: entries.map(\.name), metadata: metadata)
    }

    /// Bytes per element of every safetensors dtype (the header check covers them all; only the
    /// floating-point ones can be read as tensors).
    private static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3": return 1
        case "F16", "BF16", "I16", "U16": return 2
        case "F32", "I32", "U32": return 4
        case "F64", "I64", "U64": return 8
        default: return nil
        }
    }

    /// The element type a tensor is stored as.
    public enum StorageType: String, Sendable {
        /// 32-bit floats, exact (the default).
        case f32 = "F32"
        /// IEEE half precision: half the bytes; values rounded to nearest (11 significant bits),
        /// magnitudes above 65504 become infinite. For shipping trained weights, not checkpoints.
        case f16 = "F16"

        var byteCount: Int { self == .f32 ? 4 : 2 }
    }

    /// Writes `tensors` with `metadata`, atomically (a temporary file in the same folder,
    /// synced, then renamed over `path`).
    ///
    /// - Parameters:
    ///   - tensors: names and values, written in this order.
    ///   - metadata: strings stored in `__metadata__`.
    ///   - storage: the element type on disk; default ``StorageType/f32`` (exact).
    ///   - path: destination.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:],
                             storage: StorageType = .f32, to path: String) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, t) in tensors {
            guard header[name] == nil, name != "__metadata__" else {
                throw SafeTensorsError(path: path, problem: "duplicate or reserved tensor name \(name)")
            }
            let bytes = t.count * storage.byteCount
            header[name] = ["dtype": storage.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        } catch {
            throw SafeTensorsError(path: path, problem: "cannot encode header: \(error)")
        }
        while (json.count + 8) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        try AtomicFile.write(to: path) { sink in
            var length = UInt64(json.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink.write($0) }
            try json.withUnsafeBytes { try sink.write($0) }
            for (_, t) in tensors {
                switch storage {
                case .f32:
                    try t.withUnsafeBufferPointer { try sink.write(UnsafeRawBufferPointer($0)) }
                case .f16:
                    // Little-endian, as the format requires (and as every supported platform is).
                    let halves = t.scalars.map { Float16($0).bitPattern.littleEndian }
                    try halves.withUnsafeBytes { try sink.write($0) }
                }
            }
        }
    }
}

/// A whole file mapped read/write-private into memory, or a private copy of bytes in memory.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeMutablePointer<UInt8>
    let count: Int
    private let mapping: UnsafeMutableRawPointer?

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafeTensorsError(path: path, problem: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SafeTensorsError(path: path, problem: "cannot stat: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SafeTensorsError(path: path, problem: "not a regular file") }
        count = Int(info.st_size)
        if count == 0 {
            mapping = nil
            bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
            return
        }
        guard let m = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw SafeTensorsError(path: path, problem: "cannot map: \(String(cString: strerror(errno)))")
        }
        mapping = m
        bytes = m.assumingMemoryBound(to: UInt8.self)
    }

    init(copying data: Data) {
        count = data.count
        mapping = nil
        bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        data.copyBytes(to: bytes, count: count)
    }

    deinit {
        if let mapping { munmap(mapping, count) } else { bytes.deallocate() }
    }
}
