import Foundation
import FuzzSupport
import IPTData

/// libFuzzer entry for the readers of the pretraining sources (`ipt-cli make-corpus`,
/// `make-tasks`). The first byte chooses the reader, the second the WordNet category
/// (`n`, `v`, `a`, other: adverb), the rest is the file:
///   `f`: a fortune file; `d`: a WordNet `data.<pos>` file; `i`: an `index.<pos>` file;
///   other: a `<pos>.exc` exception list.
/// Parsed synsets and fortunes then build a pretraining corpus (definition, example and fortune
/// lines).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCorpusFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let category: WordNetPartOfSpeech
    switch data[1] {
    case UInt8(ascii: "n"): category = .noun
    case UInt8(ascii: "v"): category = .verb
    case UInt8(ascii: "a"): category = .adjective
    default: category = .adverb
    }
    switch data[0] {
    case UInt8(ascii: "f"):
        let fortunes = FortuneReader.parse(Array(UnsafeBufferPointer(start: data + 2, count: size - 2)), collection: "fuzz")
        blackHole(PretrainingCorpus(wordnet: nil, fortunes: [fortunes]).statistics)
    case UInt8(ascii: "d"):
        let url = FuzzInput.file("data.\(category.fileSuffix)", data + 2, size - 2)
        guard let synsets = try? WordNetReader.readDataFile(url, category: category) else { return 0 }
        let database = WordNetDatabase(synsets: synsets)
        for synset in synsets { blackHole(synset.pointers.map { database.synset($0.target) }) }
        blackHole(PretrainingCorpus(wordnet: database, fortunes: []).statistics)
    case UInt8(ascii: "i"):
        blackHole(try? WordNetReader.readIndexFile(FuzzInput.file("index.\(category.fileSuffix)", data + 2, size - 2),
                                                   category: category))
    default:
        blackHole(try? WordNetReader.readExceptionFile(FuzzInput.file("\(category.fileSuffix).exc", data + 2, size - 2)))
    }
    return 0
}
