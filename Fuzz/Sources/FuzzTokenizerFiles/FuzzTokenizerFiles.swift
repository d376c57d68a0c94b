import Foundation
import FuzzSupport
import IPTData

/// The texts every loaded tokenizer encodes: ASCII, added-token lookalikes, accents, emoji,
/// whitespace runs and a lone newline.
private let sampleTexts = ["Hello world! ab  ba abc", "<s>a<mask> </s><pad>", "café naïve 中文 😀", " \t\n  x  ", ""]

/// libFuzzer entry for the tokenizer loaders. The first byte chooses the folder layout, the rest
/// is the files in order, separated by a line `####`:
///   `j`: tokenizer.json, tokenizer_config.json, special_tokens_map.json
///   otherwise: vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json
/// (missing trailing parts are absent files). A loaded tokenizer then encodes sample texts and
/// the input itself, and decodes the ids and arbitrary ids taken from the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let names = data[0] == UInt8(ascii: "j")
        ? ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
        : ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]
    let parts = FuzzInput.parts(data + 1, size - 1, separator: "\n####\n")
    let folder = FuzzInput.folder(Dictionary(uniqueKeysWithValues: zip(names, parts)))
    guard let tokenizer = try? ByteLevelBPETokenizer.load(folder: folder) else { return 0 }

    let inputText = String(decoding: UnsafeBufferPointer(start: data, count: min(size, 256)), as: UTF8.self)
    for text in sampleTexts + [inputText] {
        for special in [true, false] {
            let ids = tokenizer.encode(text, addSpecialTokens: special)
            blackHole(tokenizer.decode(ids, skipSpecialTokens: special, cleanUpTokenizationSpaces: special))
            blackHole(try? tokenizer.encode(text, addSpecialTokens: special, maxLength: 3))
        }
    }
    blackHole(try? tokenizer.encode(batch: sampleTexts, maxLength: 8, padding: .toMaxLength))
    // Ids from outside (a predictions file of ids, a model with a larger vocabulary).
    var arbitrary: [Int32] = []
    for offset in stride(from: 0, to: min(size, 64) - 3, by: 4) {
        arbitrary.append(UnsafeRawPointer(data + offset).loadUnaligned(as: Int32.self))
    }
    arbitrary += [-1, 0, Int32(tokenizer.vocabularySize), Int32.max]
    blackHole(tokenizer.decode(arbitrary, skipSpecialTokens: true, cleanUpTokenizationSpaces: true))
    blackHole(tokenizer.decode(arbitrary, skipSpecialTokens: false, cleanUpTokenizationSpaces: false))
    for id in arbitrary { blackHole(tokenizer.token(forID: id)) }
    return 0
}
