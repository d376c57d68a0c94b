import Foundation
import IPTData
import IPTTestSupport
import Testing

/// Reading CrossFit TSV files, finding samples in a data folder, and the bad inputs.
@Suite("CrossFit TSV files and data folders")
struct CrossFitDataTests {
    /// Asserts that `body` throws exactly `expected`, whose description is one line naming `mentions`.
    func expectError(_ expected: DataError, mentions: [String], _ body: () throws -> Void) {
        #expect(throws: expected) { try body() }
        let description = expected.description
        #expect(!description.contains("\n"))
        for text in mentions { #expect(description.contains(text), "'\(description)' should mention '\(text)'") }
    }

    @Test func linesAreStrippedAndSplitAsPythonDoes() throws {
        let dir = try TemporaryDirectory()
        // CRLF, surrounding spaces and tabs, several answers, a non-breaking space (Python whitespace).
        let url = try dir.write("t.tsv", " in put \t ans1\tans 2 \r\nsecond\tx\t\t\n\u{A0}third\ty\u{3000}\n")
        let examples = try CrossFitTSV.read(url, task: "t")
        #expect(examples == [
            Example(task: "t", input: "in put ", answers: [" ans1", "ans 2"]),
            Example(task: "t", input: "second", answers: ["x"]),
            Example(task: "t", input: "third", answers: ["y"]),
        ])
        #expect(examples[0].formattedInput == " [t] in put ")
    }

    @Test func noFinalNewlineIsFine() throws {
        let dir = try TemporaryDirectory()
        let url = try dir.write("t.tsv", "a\tb\nc\td")
        #expect(try CrossFitTSV.read(url, task: "t").map(\.answers) == [["b"], ["d"]])
    }

    @Test func badLinesNameFileAndLine() throws {
        let dir = try TemporaryDirectory()
        let cases: [(String, [UInt8], DataError)] = [
            ("notab.tsv", Array("a\tb\nno tab here\n".utf8), .malformedLine(path: "", line: 2, problem: "no tab between input and answer")),
            ("trailingtab.tsv", Array("a\t\n".utf8), .malformedLine(path: "", line: 1, problem: "no tab between input and answer")),
            ("emptyanswer.tsv", Array("a\tb\nc\t\td\n".utf8), .malformedLine(path: "", line: 2, problem: "empty answer in column 2")),
            ("blank.tsv", Array("a\tb\n\nc\td\n".utf8), .malformedLine(path: "", line: 2, problem: "blank line")),
            ("utf8.tsv", Array("a\tb\n".utf8) + [0x63, 0x09, 0xC3, 0x28, 0x0A], .invalidUTF8(path: "", line: 2)),
            ("nul.tsv", Array("a\tb\nc\td".utf8) + [0x00, 0x0A], .nulByte(path: "", line: 2)),
        ]
        for (name, bytes, template) in cases {
            let url = try dir.write(name, bytes: bytes)
            let expected = template.withPath(url.path)
            expectError(expected, mentions: [url.path + ":"]) { _ = try CrossFitTSV.read(url, task: "t") }
        }
        let empty = try dir.write("empty.tsv", bytes: [])
        expectError(.emptyFile(path: empty.path), mentions: [empty.path]) { _ = try CrossFitTSV.read(empty, task: "t") }
        let absent = dir.url.appendingPathComponent("absent.tsv")
        expectError(.missingFile(path: absent.path), mentions: [absent.path]) { _ = try CrossFitTSV.read(absent, task: "t") }
        #expect(throws: DataError.unreadable(path: dir.url.path, reason: "is a folder")) {
            _ = try CrossFitTSV.read(dir.url, task: "t")
        }
    }

    /// A data folder with tricky file names around seed 21.
    func makeDataFolder() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for (file, answer) in [("t-a_16_21", "seed21"), ("t-a_16_210", "seed210"), ("t-a_21_100", "k21"),
                               ("t-a_16_100", "seed100")] {
            for part in ["train", "dev"] { try dir.write("t-a/\(file)_\(part).tsv", "x\t\(answer)\n") }
        }
        try dir.write("t-a/t-a_16_21_test.tsv", "x\tseed21 test\ny\tz\n")
        try dir.write("t-a/t-a_16_21_train-BartTokenized.json", "[]")    // a cache: ignored
        try dir.write("t-a/t-a_x_21_train.tsv", "x\ty\n")                 // not a sample name: ignored
        try dir.write("t-b/t-b_32_13_train.tsv", "x\ty\n")                // no dev file
        try dir.write("empty-folder/README", "not a task")
        try dir.write("tasks.json", "{}")
        return dir
    }

    @Test func seedIsMatchedAsAWholeField() throws {
        let dir = try makeDataFolder()
        let task = try FewShotTask.load(dataDirectory: dir.url, task: "t-a", seed: 21)
        #expect(task.train.map(\.answers) == [["seed21"]])
        #expect(task.dev.map(\.answers) == [["seed21"]])
        #expect(task.test?.count == 2)
        #expect(task.sample.prefix == "t-a_16_21")
        // Seed 100 exists with k = 16 and (as "k 21") with k = 21: the k must be given.
        expectError(.ambiguousSample(task: "t-a", seed: 100, shots: [16, 21], directory: dir.url.path),
                    mentions: [dir.url.path, "t-a", "16, 21"]) {
            _ = try FewShotTask.load(dataDirectory: dir.url, task: "t-a", seed: 100)
        }
        let k21 = try FewShotTask.load(dataDirectory: dir.url, task: "t-a", seed: 100, shots: 21)
        #expect(k21.train.map(\.answers) == [["k21"]])
        #expect(k21.test == nil)
        #expect(try FewShotTask.load(dataDirectory: dir.url, task: "t-a", seed: 21, includeTest: false).test == nil)
    }

    @Test func discoveryListsTasksAndSamples() throws {
        let dir = try makeDataFolder()
        let folder = try CrossFitDirectory(dir.url)
        #expect(folder.tasks == ["t-a", "t-b"])
        #expect(try folder.samples(of: "t-a").map(\.prefix) == ["t-a_16_21", "t-a_16_100", "t-a_16_210", "t-a_21_100"])
        let sample = try folder.sample(of: "t-a", seed: 21)
        #expect(Set(sample.files.keys) == [.train, .dev, .test])
        #expect(try folder.sample(of: "t-b", seed: 13).files.keys.sorted { $0.rawValue < $1.rawValue } == [.train])
    }

    @Test func missingSamplesFilesAndTasksAreTypedErrors() throws {
        let dir = try makeDataFolder()
        let path = dir.url.path
        expectError(.missingSample(task: "t-a", shots: nil, seed: 42, directory: path,
                                   available: ["t-a_16_21", "t-a_16_100", "t-a_16_210", "t-a_21_100"]),
                    mentions: [path, "t-a with seed 42", "t-a_16_21"]) {
            _ = try FewShotTask.load(dataDirectory: dir.url, task: "t-a", seed: 42)
        }
        let dev = dir.url.appendingPathComponent("t-b/t-b_32_13_dev.tsv").path
        expectError(.missingFile(path: dev), mentions: [dev]) {
            _ = try FewShotTask.load(dataDirectory: dir.url, task: "t-b", seed: 13)
        }
        for unknown in ["nope", "empty-folder"] {
            expectError(.unknownTask(unknown, source: path), mentions: [path, unknown]) {
                _ = try FewShotTask.load(dataDirectory: dir.url, task: unknown, seed: 21)
            }
        }
        let absent = dir.url.appendingPathComponent("absent")
        #expect(throws: DataError.unreadable(path: absent.path, reason: "not a readable folder")) {
            _ = try CrossFitDirectory(absent)
        }
        // Not "unknown task": the data folder itself is missing.
        #expect(throws: DataError.unreadable(path: absent.path, reason: "not a readable folder")) {
            _ = try FewShotTask.load(dataDirectory: absent, task: "t-a", seed: 21)
        }
    }

    @Test func targetFormats() {
        #expect(TargetFormat.answerAsIs.format("entailment") == "entailment")
        #expect(TargetFormat.leadingSpace.format("entailment") == " entailment")
        #expect(Example(task: "glue-rte", input: "sentence 1: a", answers: ["x"]).formattedInput == " [glue-rte] sentence 1: a")
    }
}

extension DataError {
    /// The same error for the file at `path` (test templates are written before the path is known).
    func withPath(_ path: String) -> DataError {
        switch self {
        case let .malformedLine(_, line, problem): return .malformedLine(path: path, line: line, problem: problem)
        case let .invalidUTF8(_, line): return .invalidUTF8(path: path, line: line)
        case let .nulByte(_, line): return .nulByte(path: path, line: line)
        default: return self
        }
    }
}

/// The real crossfit16 copy in ../shared.
@Suite("crossfit16 data", SharedData.required)
struct CrossFit16Tests {
    let data = SharedData.crossfit

    @Test func everyTaskHasTheFivePaperSamples() throws {
        let folder = try CrossFitDirectory(data)
        let catalog = try TaskCatalog.load(dataDirectory: data)
        #expect(folder.tasks.count == 89)
        #expect(folder.tasks == catalog.tasks)
        for task in folder.tasks {
            let samples = try folder.samples(of: task)
            #expect(Set(samples.map(\.seed)) == Set(CrossFitDirectory.paperSeeds), "\(task)")
            for sample in samples {
                #expect(sample.files[.train] != nil && sample.files[.dev] != nil, "\(sample.prefix)")
            }
        }
    }

    @Test func loadsGlueRTE() throws {
        let task = try FewShotTask.load(dataDirectory: data, task: "glue-rte", seed: 100)
        #expect(task.train.count == 16)
        #expect(task.dev.count == 16)
        let testFile = data.appendingPathComponent("glue-rte/glue-rte_16_100_test.tsv")
        let lineCount = try Data(contentsOf: testFile).filter { $0 == UInt8(ascii: "\n") }.count
        #expect(task.test?.count == lineCount)
        let labels = try TaskCatalog.load(dataDirectory: data).options(for: "glue-rte")
        for example in task.train + task.dev + (task.test ?? []) {
            #expect(example.task == "glue-rte")
            #expect(example.answers.count == 1 && labels.contains(example.answers[0]))
            #expect(example.formattedInput.hasPrefix(" [glue-rte] sentence 1: "))
        }
    }

    @Test func tasksWithoutTestFilesLoadWithoutTest() throws {
        for name in ["xsum", "glue-qqp", "discovery"] {
            let task = try FewShotTask.load(dataDirectory: data, task: name, seed: 42)
            #expect(task.test == nil, "\(name)")
            #expect(task.examples(.test).isEmpty)
            #expect(!task.train.isEmpty && !task.dev.isEmpty)
        }
    }
}
