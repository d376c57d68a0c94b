import Foundation

/// Loads the tokenizer of a Hugging Face folder, choosing its kind from the files: a
/// `tokenizer.json` by its model type (`BPE`: ``ByteLevelBPETokenizer``, `WordPiece`:
/// ``WordPieceTokenizer``), else `vocab.txt` (WordPiece, BERT) or `vocab.json` + `merges.txt`
/// (byte-level BPE, BART and GPT-2).
///
/// - Parameter folder: the model or tokenizer folder.
/// - Throws: `TokenizerError` naming the file (and key) of the first problem, or the missing files.
public func loadTokenizer(folder: URL) throws -> any Tokenizer {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw TokenizerError.missingFile(path: folder.path)
    }
    let manager = FileManager.default
    let tokenizerJSON = folder.appendingPathComponent("tokenizer.json")
    if manager.fileExists(atPath: tokenizerJSON.path) {
        let typeField = try JSONField.read(tokenizerJSON).child("model").child("type")
        switch try typeField.optionalString() {
        case "WordPiece": return try WordPieceTokenizer.load(folder: folder)
        case "BPE", nil: return try ByteLevelBPETokenizer.load(folder: folder)
        case let other?: throw typeField.unsupported("model type '\(other)' (BPE or WordPiece)")
        }
    }
    if manager.fileExists(atPath: folder.appendingPathComponent("vocab.txt").path) {
        return try WordPieceTokenizer.load(folder: folder)
    }
    if manager.fileExists(atPath: folder.appendingPathComponent("vocab.json").path) {
        return try ByteLevelBPETokenizer.load(folder: folder)
    }
    throw TokenizerError.malformedFile(path: folder.path, location: nil,
                                       problem: "no tokenizer files (tokenizer.json, vocab.txt, or vocab.json + merges.txt)")
}
