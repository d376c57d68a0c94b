import Foundation
import Testing

@Suite("ipt-cli make-corpus and make-tasks")
struct MakeCorpusCommandTests {
    /// A tiny WordNet database and fortune folder in the real formats.
    final class Sources {
        let root: URL
        var wordnet: URL { root.appendingPathComponent("wordnet") }
        var fortunes: URL { root.appendingPathComponent("fortunes") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-cli-corpus-\(UUID().uuidString)")
            let files = [
                "wordnet/data.noun": "  1 license\n00001000 05 n 01 dog 0 000 | a domesticated canine; \"the dog barked\"  \n",
                "wordnet/data.verb": "00002000 38 v 01 run 0 000 01 + 01 00 | move fast using one's feet  \n",
                "wordnet/data.adj": "00003000 00 a 01 hot 0 000 | used of physical heat  \n",
                "wordnet/data.adv": "00004000 02 r 01 hotly 0 000 | in a hot manner  \n",
                "wordnet/index.noun": "dog n 1 0 1 1 00001000 \n",
                "wordnet/index.verb": "run v 1 0 1 1 00002000 \n",
                "wordnet/index.adj": "hot a 1 0 1 1 00003000 \n",
                "wordnet/index.adv": "hotly r 1 0 1 0 00004000 \n",
                "wordnet/noun.exc": "", "wordnet/verb.exc": "ran run\n", "wordnet/adj.exc": "", "wordnet/adv.exc": "",
                "fortunes/wisdom": "Fame is a vapor.\n\t-- Horace Greeley\n%\nthe dog barked\n%\n",
                "fortunes/wisdom.dat": "",
            ]
            for (path, text) in files {
                let url = root.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
            }
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    @Test func writesTheCorpusFromGivenFolders() throws {
        let sources = try Sources()
        let output = sources.root.appendingPathComponent("corpus.txt")
        let result = try CLI.run(["make-corpus", "--output", output.path, "--wordnet", sources.wordnet.path,
                                  "--fortunes", sources.fortunes.path, "--include-test-text"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(text == """
            dog: a domesticated canine
            the dog barked
            run: move fast using one's feet
            hot: used of physical heat
            hotly: in a hot manner
            Fame is a vapor. -- Horace Greeley

            """)
        #expect(result.stdout.contains("6 lines"))
    }

    @Test func sourcesTooSmallForTheTasksAreAOneLineError() throws {
        let sources = try Sources()
        let output = sources.root.appendingPathComponent("corpus.txt")
        let result = try CLI.run(["make-corpus", "--output", output.path, "--wordnet", sources.wordnet.path,
                                  "--fortunes", sources.fortunes.path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("ipt-cli: error: task "))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func malformedOrMissingSourcesAreOneLineErrorsNamingTheFile() throws {
        let sources = try Sources()
        let data = sources.wordnet.appendingPathComponent("data.verb")
        try Data("00002000 38 v 01 run 0 000 no gloss bar\n".utf8).write(to: data)
        let malformed = try CLI.run(["make-tasks", "--output", sources.root.appendingPathComponent("tasks").path,
                                     "--wordnet", sources.wordnet.path, "--fortunes", sources.fortunes.path])
        #expect(malformed.status == 1)
        #expect(malformed.stderr == "ipt-cli: error: \(data.path):1: no '|' before the gloss\n")

        let nowhere = sources.root.appendingPathComponent("nowhere").path
        let missing = try CLI.run(["make-corpus", "--output", sources.root.appendingPathComponent("c.txt").path,
                                   "--wordnet", nowhere])
        #expect(missing.status == 1)
        #expect(missing.stderr == "ipt-cli: error: \(nowhere)/data.noun: no such file\n")
        #expect(try CLI.run(["make-tasks"]).status == 2, "--output is required")
    }
}
