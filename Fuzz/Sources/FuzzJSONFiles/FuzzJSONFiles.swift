import Foundation
import FuzzSupport
import IPTData

/// libFuzzer entry for the small JSON files of a data folder. The first byte chooses the reader
/// (`c`: a `tasks.json` task catalog, `s`: a task split; other values: both), the rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let selector = data[0]
    let url = FuzzInput.file("input.json", data + 1, size - 1)
    if selector != UInt8(ascii: "s") {
        blackHole(try? TaskCatalog.load(url))
    }
    if selector != UInt8(ascii: "c") {
        blackHole(try? TaskSplit.load(url, availableTasks: ["glue-rte", "squad"], missingTasks: .skip))
        blackHole(try? TaskSplit.load(url, availableTasks: ["glue-rte", "squad"], missingTasks: .fail))
    }
    return 0
}
