import Foundation
import IPTData
import IPTTestSupport
import Testing

/// The committed built-in tasks (`Resources/tasks`), read as plain files.
enum CommittedTasks {
    static let root = SharedData.repositoryRoot.appendingPathComponent("Resources/tasks")
    static let seeds = [100, 13, 21, 42, 87]

    struct Entry: Decodable {
        let kind: String
        let metric: String
        let options: [String]
    }

    static func catalog() throws -> [String: Entry] {
        try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: root.appendingPathComponent("tasks.json")))
    }

    static func split() throws -> [String: [String]] {
        try JSONDecoder().decode([String: [String]].self, from: Data(contentsOf: root.appendingPathComponent("splits/default.json")))
    }

    /// The `(input, answer)` lines of one file; each line must have exactly one tab.
    static func lines(_ task: String, seed: Int, part: String) throws -> [(input: String, answer: String)] {
        let url = root.appendingPathComponent("\(task)/\(task)_16_\(seed)_\(part).tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasSuffix("\n"), "\(url.lastPathComponent) ends with a line break")
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            #expect(fields.count == 2, "\(url.lastPathComponent): \(line)")
            return (String(fields.first ?? ""), String(fields.last ?? ""))
        }
    }

    /// Every file below `folder`, relative paths sorted.
    static func files(below folder: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        var paths: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                paths.append(String(url.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count + 1)))
            }
        }
        return paths.sorted()
    }
}

@Suite("Committed built-in tasks (Resources/tasks)")
struct CommittedTasksTests {
    @Test func layoutCatalogAndSplit() throws {
        let catalog = try CommittedTasks.catalog()
        #expect(catalog.count >= 24)
        var expected = ["README.md", "splits/default.json", "tasks.json"]
        for task in catalog.keys {
            #expect(task.hasPrefix("wn-") || task.hasPrefix("fortune-"))
            for seed in CommittedTasks.seeds {
                for part in ["train", "dev", "test"] { expected.append("\(task)/\(task)_16_\(seed)_\(part).tsv") }
            }
        }
        #expect(CommittedTasks.files(below: CommittedTasks.root) == expected.sorted())

        let split = try CommittedTasks.split()
        let train = try #require(split["train"]), test = try #require(split["test"])
        #expect(split["dev"] == train)
        #expect(Set(train).isDisjoint(with: test))
        #expect(Set(train + test) == Set(catalog.keys) && train.count + test.count == catalog.count)
        #expect(Set(split["all"] ?? []) == Set(catalog.keys))
        // About a third unseen, with both kinds on both sides.
        #expect((catalog.count / 4...catalog.count / 2).contains(test.count))
        for side in [train, test] {
            #expect(Set(side.map { catalog[$0]!.kind }) == ["classification", "text-to-text"])
        }
        let metrics: Set = ["ACC", "Classification-F1", "EM", "QA-F1", "Rouge-L"]
        for (task, entry) in catalog {
            #expect(metrics.contains(entry.metric), "\(task)")
            #expect(entry.kind == "classification" ? entry.options.count >= 2 : entry.options.isEmpty, "\(task)")
            #expect(entry.options == entry.options.sorted(), "\(task)")
        }
        let readme = try String(contentsOf: CommittedTasks.root.appendingPathComponent("README.md"), encoding: .utf8)
        for task in catalog.keys { #expect(readme.contains("| \(task) |") && readme.contains("**\(task)**"), "\(task)") }
    }

    @Test func sizesBalanceLabelsAndDisjointness() throws {
        for (task, entry) in try CommittedTasks.catalog().sorted(by: { $0.key < $1.key }) {
            let test = try CommittedTasks.lines(task, seed: 100, part: "test")
            #expect((100...400).contains(test.count), "\(task): \(test.count) test examples")
            #expect(Set(test.map(\.input)).count == test.count, "\(task): repeated test input")
            let testInputs = Set(test.map(\.input))
            var trainSets: Set<[String]> = []
            for seed in CommittedTasks.seeds {
                let train = try CommittedTasks.lines(task, seed: seed, part: "train")
                let dev = try CommittedTasks.lines(task, seed: seed, part: "dev")
                #expect(train.count == 16 && dev.count == 16, "\(task) seed \(seed)")
                #expect(try CommittedTasks.lines(task, seed: seed, part: "test").map(\.input) == test.map(\.input),
                        "\(task): the test set is the same for every seed")
                let trainInputs = Set(train.map(\.input)), devInputs = Set(dev.map(\.input))
                #expect(trainInputs.count == 16 && devInputs.count == 16, "\(task) seed \(seed): repeated input")
                #expect(trainInputs.isDisjoint(with: devInputs), "\(task) seed \(seed): train and dev overlap")
                #expect(trainInputs.isDisjoint(with: testInputs) && devInputs.isDisjoint(with: testInputs),
                        "\(task) seed \(seed): test overlaps train or dev")
                trainSets.insert(train.map(\.input).sorted())
                for line in train + dev + test {
                    #expect(!line.input.isEmpty && !line.answer.isEmpty, "\(task): empty field")
                    #expect(line.input.split(separator: " ").count <= 60, "\(task): input longer than 60 words")
                    #expect(!line.input.contains("\r") && line.input == line.input.trimmingCharacters(in: .whitespaces))
                    if entry.kind == "classification" {
                        #expect(entry.options.contains(line.answer), "\(task): label \(line.answer) not in options")
                    }
                }
                if entry.kind == "classification" {
                    let k = entry.options.count
                    for part in [train, dev] {
                        let counts = entry.options.map { label in part.filter { $0.answer == label }.count }
                        #expect(counts.allSatisfy { $0 == 16 / k || $0 == 16 / k + 1 }, "\(task) seed \(seed): \(counts)")
                    }
                }
            }
            #expect(trainSets.count == CommittedTasks.seeds.count, "\(task): each seed draws a different sample")
            if entry.kind == "classification" {
                let counts = Set(entry.options.map { label in test.filter { $0.answer == label }.count })
                #expect(counts.count == 1, "\(task): test set not balanced")
            }
        }
    }
}

/// Regenerates the tasks from the installed Debian packages and compares them byte for byte with
/// the committed copy. CI installs no extra packages, so there this suite is skipped.
@Suite(.enabled(if: DebianSources.available, DebianSources.skipReason))
struct BuiltInTasksRegenerationTests {
    @Test func regeneratedTasksEqualTheCommittedCopyByteForByte() throws {
        let wordnet = try WordNetDatabase.load()
        let fortunes = try FortuneReader.readCollections()
        let built = try BuiltInTasks.build(wordnet: wordnet, fortunes: fortunes)
        let folder = try ScratchFolder()
        let output = folder.url.appendingPathComponent("tasks")
        try built.files.write(to: output)
        let regenerated = CommittedTasks.files(below: output)
        #expect(regenerated == CommittedTasks.files(below: CommittedTasks.root))
        for path in regenerated {
            let fresh = try Data(contentsOf: output.appendingPathComponent(path))
            let committed = try? Data(contentsOf: CommittedTasks.root.appendingPathComponent(path))
            #expect(fresh == committed, "\(path) differs from Resources/tasks: run `ipt-cli make-tasks --output Resources/tasks`")
        }

        // Lines revealing test answers are real corpus lines, so excluding them removes them
        // (the exclusion itself is tested on small data in PretrainingCorpusTests).
        let corpus = Set(PretrainingCorpus(wordnet: wordnet, fortunes: fortunes).lines)
        #expect(built.revealingCorpusLines.count > 1000)
        #expect(built.revealingCorpusLines.isSubset(of: corpus))

        // The completion and definition tasks test on held-out text only: the text a test example
        // comes from is not a line of the corpus the model was pretrained on (it is without the
        // exclusion).
        let pretraining = Set(PretrainingCorpus(wordnet: wordnet, fortunes: fortunes,
                                                excluding: built.revealingCorpusLines).lines)
        let pretrainingText = pretraining.joined(separator: "\n")
        func field(_ input: String, _ name: String) -> String {
            input.components(separatedBy: " [SEP] ").first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) } ?? ""
        }
        let sourceText: [String: (TaskLine) -> String] = [
            "wn-definition-completion": { "\(field($0.input, "word")): \(field($0.input, "definition beginning")) \($0.answer)" },
            "wn-example-completion": { "\(field($0.input, "sentence beginning")) \($0.answer)" },
            "wn-word-definition": { "\(field($0.input, "word")): \($0.answer)" },
        ]
        for task in built.files.tasks {
            let name = task.description.name
            if let source = sourceText[name] {
                #expect(task.test.count >= 100, "\(name)")
                for line in task.test {
                    #expect(corpus.contains(source(line)), "\(name): '\(source(line))' is not a corpus line")
                    #expect(!pretraining.contains(source(line)), "\(name): '\(source(line))' was pretrained on")
                }
            } else if name == "fortune-word-definition" {
                #expect(task.test.count >= 100)
                for line in task.test { #expect(!pretrainingText.contains(line.answer), "\(name): '\(line.answer)' was pretrained on") }
            }
        }
    }
}

/// Whether Debian's WordNet and fortune packages are installed.
enum DebianSources {
    static var available: Bool {
        FileManager.default.fileExists(atPath: WordNetDatabase.defaultDirectory.appendingPathComponent("data.noun").path)
            && FileManager.default.fileExists(atPath: FortuneReader.defaultDirectory.appendingPathComponent("bofh-excuses").path)
            && FileManager.default.fileExists(atPath: FortuneReader.defaultDirectory.appendingPathComponent("computers").path)
    }

    static let skipReason: Comment = "needs Debian's wordnet-base, fortunes, fortunes-min, fortunes-bofh-excuses and fortunes-debian-hints (apt-get install them to regenerate Resources/tasks)"
}
