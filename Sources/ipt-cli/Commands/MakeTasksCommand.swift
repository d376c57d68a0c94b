import ArgumentParser
import Foundation
import IPTData

/// `ipt-cli make-tasks`: the built-in few-shot tasks from WordNet and fortune cookies.
struct MakeTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-tasks",
        abstract: "Write the built-in few-shot tasks (CrossFit layout, tasks.json, splits/default.json, README.md).",
        discussion: """
            Deterministic: the same sources give the same bytes. The output folder is replaced as a \
            whole; an existing folder must be empty or hold a tasks.json.
            """)

    @Option(help: "The task folder to write (the repository's copy is Resources/tasks).")
    var output: String

    @Option(help: "The WordNet 3.0 database folder (Debian package wordnet-base).")
    var wordnet: String = WordNetDatabase.defaultDirectory.path

    @Option(help: "The fortune folder (Debian packages fortunes, fortunes-min, fortunes-bofh-excuses, fortunes-debian-hints).")
    var fortunes: String = FortuneReader.defaultDirectory.path

    func run() throws {
        let database = try WordNetDatabase.load(from: URL(fileURLWithPath: wordnet))
        let collections = try FortuneReader.readCollections(in: URL(fileURLWithPath: fortunes))
        let files = try BuiltInTasks.build(wordnet: database, fortunes: collections).files
        try files.write(to: URL(fileURLWithPath: output))
        print("wrote \(files.tasks.count) tasks (\(files.trainTasks.count) seen, \(files.testTasks.count) unseen) to \(output)")
    }
}
