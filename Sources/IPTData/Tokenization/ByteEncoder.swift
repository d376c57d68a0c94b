/// GPT-2's reversible byte <-> Unicode table (openai/gpt-2 `bytes_to_unicode`).
///
/// Byte-level BPE works on bytes, but vocabulary files store tokens as printable strings: each byte
/// becomes one printable character. The 188 bytes that are already printable and not spaces
/// (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the other 68 bytes (controls, space,
/// DEL, NBSP, soft hyphen...) are moved to U+0100 and up, in byte order. So byte 0x20 (space) is
/// `Ġ` (U+0120) and 0x0A (newline) is `Ċ` (U+010A).
public enum ByteEncoder {
    /// The character that stands for each byte, indexed by byte value (dense over 0..<256).
    public static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte that a table character stands for, or nil for characters outside the table.
    public static func byte(for character: Unicode.Scalar) -> UInt8? {
        let value = character.value
        if value < 256 {
            return isPrintable(UInt8(value)) ? UInt8(value) : nil
        }
        guard value < 256 + 68 else { return nil }
        return nonPrintableBytes[Int(value - 256)]
    }

    /// The table characters for `bytes`, as a string (how vocabulary files spell a token).
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(characters[Int(byte)]) }
        return String(scalars)
    }

    /// The bytes a vocabulary token stands for, or nil when it has a character outside the table
    /// (added tokens such as `<|endoftext|>` are all-ASCII and so do decode; a token with a plain
    /// space would not).
    public static func decode(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    private static func isPrintable(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The 68 non-printable bytes in order: their characters are U+0100 + index.
    private static let nonPrintableBytes: [UInt8] = (0..<256).map(UInt8.init).filter { !isPrintable($0) }
}
