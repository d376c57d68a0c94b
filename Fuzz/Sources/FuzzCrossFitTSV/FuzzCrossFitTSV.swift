import Foundation
import FuzzSupport
import IPTData

/// libFuzzer entry: the input is a CrossFit TSV file, read with `CrossFitTSV.read` and, as a
/// predictions file, with `PredictionsFile.read`. The examples are then scored with every metric
/// (inputs as predictions, the answers as references), which runs the text normalisation, number
/// parsing, tokenisation and ROUGE-L on arbitrary text as `ipt-cli score` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCrossFitTSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let url = FuzzInput.file("input.tsv", data, size)
    blackHole(try? PredictionsFile.read(url))
    guard let examples = try? CrossFitTSV.read(url, task: "fuzz") else { return 0 }
    let predictions = examples.map(\.input)
    let references = examples.map(\.answers)
    for metric in Metric.allCases {
        blackHole(metric.score(predictions: predictions, references: references))
    }
    return 0
}
