import Foundation
import IPTCore
import Testing

/// `AtomicFile.writeFolder`: a reader sees the old complete folder or the new complete one.
@Suite("Folders written as a whole")
struct AtomicFolderTests {
    func contents(_ url: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }

    @Test func aNewFolderReplacesTheOldOneWhole() throws {
        let scratch = try TemporaryDirectory()  // SafeTensorsTests' helper
        let root = URL(fileURLWithPath: scratch.path)
        let folder = root.appendingPathComponent("deep/model")
        try AtomicFile.writeFolder(folder) { try AtomicFile.write("one", to: $0.appendingPathComponent("a.txt").path) }
        #expect(contents(folder) == ["a.txt"], "parents are created")
        try AtomicFile.writeFolder(folder) { try AtomicFile.write("two", to: $0.appendingPathComponent("b.txt").path) }
        #expect(contents(folder) == ["b.txt"], "nothing of the old folder survives")
        #expect(contents(root.appendingPathComponent("deep")) == ["model"], "no staging or retired folder is left")
    }

    @Test func aFailedFillLeavesTheOldFolder() throws {
        let scratch = try TemporaryDirectory()  // SafeTensorsTests' helper
        let root = URL(fileURLWithPath: scratch.path)
        let folder = root.appendingPathComponent("model")
        try AtomicFile.writeFolder(folder) { try AtomicFile.write("old", to: $0.appendingPathComponent("config.json").path) }
        struct Killed: Error {}
        #expect(throws: Killed.self) {
            try AtomicFile.writeFolder(folder) { staging in
                try AtomicFile.write("new", to: staging.appendingPathComponent("config.json").path)
                throw Killed()
            }
        }
        #expect(contents(folder) == ["config.json"])
        #expect(try String(contentsOf: folder.appendingPathComponent("config.json"), encoding: .utf8) == "old")
        #expect(try scratch.contents() == ["model"])
    }

    @Test func anUnwritableParentIsAFileWriteError() throws {
        let scratch = try TemporaryDirectory()  // SafeTensorsTests' helper
        let root = URL(fileURLWithPath: scratch.path)
        try "x".write(to: root.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        let error = #expect(throws: FileWriteError.self) {
            try AtomicFile.writeFolder(root.appendingPathComponent("file/model")) { _ in }
        }
        #expect(error?.path == root.appendingPathComponent("file/model").path)
    }
}
