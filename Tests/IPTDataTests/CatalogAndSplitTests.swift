import Foundation
import IPTData
import IPTTestSupport
import Testing

@Suite("Task catalog (tasks.json) and task splits")
struct CatalogAndSplitTests {
    /// Writes each `(text, problem)` case to a file and expects `load` to throw a one-line
    /// ``DataError`` that starts with the file's path and mentions `problem`.
    func expectLoadErrors(_ cases: [(String, String)], in dir: TemporaryDirectory, load: (URL) throws -> Void) throws {
        for (i, (text, problem)) in cases.enumerated() {
            let url = try dir.write("case\(i).json", text)
            do {
                try load(url)
                Issue.record("\(text) should not load")
            } catch let error as DataError {
                let description = error.description
                #expect(description.hasPrefix(url.path + ":"), "\(description)")
                #expect(description.contains(problem), "'\(description)' should contain '\(problem)'")
                #expect(!description.contains("\n"))
            }
        }
    }

    @Test func readsACatalog() throws {
        let dir = try TemporaryDirectory()
        let url = try dir.write("tasks.json", """
            {"rte": {"kind": "classification", "metric": "ACC", "options": ["entailment", "not_entailment"]},
             "qa": {"kind": "text-to-text", "metric": "QA-F1", "options": []}}
            """)
        let catalog = try TaskCatalog.load(url)
        #expect(catalog.tasks == ["qa", "rte"])
        #expect(try catalog.metric(for: "rte") == .accuracy)
        #expect(try catalog.options(for: "rte") == ["entailment", "not_entailment"])
        #expect(try catalog.entry(for: "qa") == TaskCatalog.Entry(kind: .textToText, metric: .qaF1, options: []))
        #expect(throws: DataError.unknownTask("nope", source: url.path)) { _ = try catalog.metric(for: "nope") }
    }

    @Test func malformedCatalogsNameFileAndKey() throws {
        let dir = try TemporaryDirectory()
        let cases: [(String, String)] = [
            ("{\"a\": {\"kind\": \"classification\", ", "not valid JSON"),
            ("[1, 2]", "expected a JSON object"),
            ("{\"a\": 3}", "key 'a': expected an object"),
            ("{\"a\": {\"kind\": \"classification\", \"options\": []}}", "key 'a.metric': missing"),
            ("{\"a\": {\"kind\": \"classification\", \"metric\": 1, \"options\": []}}", "key 'a.metric': expected a string"),
            ("{\"a\": {\"kind\": \"classification\", \"metric\": \"F1\", \"options\": []}}", "unknown metric 'F1'"),
            ("{\"a\": {\"kind\": \"regression\", \"metric\": \"ACC\", \"options\": []}}", "key 'a.kind': unknown kind 'regression'"),
            ("{\"a\": {\"kind\": \"classification\", \"metric\": \"ACC\", \"options\": [\"x\", 2]}}", "key 'a.options': expected a list of strings"),
            ("{\"a\": {\"kind\": \"classification\", \"metric\": \"ACC\", \"options\": \"x\"}}", "key 'a.options': expected a list of strings"),
        ]
        try expectLoadErrors(cases, in: dir) { _ = try TaskCatalog.load($0) }
        let absent = dir.url.appendingPathComponent("absent.json")
        #expect(throws: DataError.missingFile(path: absent.path)) { _ = try TaskCatalog.load(absent) }
    }

    @Test func splitsReportMissingTasksByPolicy() throws {
        let dir = try TemporaryDirectory()
        let url = try dir.write("split.json", """
            {"train": ["a", "b", "gone"], "dev": ["a", "b"], "test": ["c", "also-gone"], "all": ["ignored"]}
            """)
        let available = ["a", "b", "c", "d"]
        #expect(throws: DataError.missingTasks(path: url.path, tasks: ["also-gone", "gone"])) {
            _ = try TaskSplit.load(url, availableTasks: available, missingTasks: .fail)
        }
        #expect(DataError.missingTasks(path: url.path, tasks: ["also-gone", "gone"]).description
            == "\(url.path): 2 task(s) absent from the data folder: also-gone, gone")
        let split = try TaskSplit.load(url, availableTasks: available, missingTasks: .skip)
        #expect(split.train == ["a", "b"])
        #expect(split.dev == ["a", "b"])
        #expect(split.test == ["c"])
        #expect(split.tasks(.test) == ["c"])
        #expect(split.missingTasks == ["also-gone", "gone"])
        let complete = try TaskSplit.load(url, availableTasks: available + ["gone", "also-gone"], missingTasks: .fail)
        #expect(complete.train == ["a", "b", "gone"] && complete.missingTasks.isEmpty)
    }

    @Test func malformedSplitsNameFileAndKey() throws {
        let dir = try TemporaryDirectory()
        let cases: [(String, String)] = [
            ("{\"train\": [\"a\"], \"dev\": [\"a\"]}", "key 'test': missing"),
            ("{\"train\": \"a\", \"dev\": [], \"test\": []}", "key 'train': expected a list of strings"),
            ("{\"train\": [], \"dev\": [null], \"test\": []}", "key 'dev': expected a list of strings"),
            ("{\"train\": [] \"dev\": []}", "not valid JSON"),
            ("", "not valid JSON"),
        ]
        try expectLoadErrors(cases, in: dir) { _ = try TaskSplit.load($0, availableTasks: ["a"], missingTasks: .skip) }
        let absent = dir.url.appendingPathComponent("absent.json")
        #expect(throws: DataError.missingFile(path: absent.path)) {
            _ = try TaskSplit.load(absent, availableTasks: [], missingTasks: .skip)
        }
    }

    @Test func crossFitTableHas160Tasks() {
        #expect(Metric.crossFitTable.count == 160)
        #expect(Metric.forCrossFitTask("glue-cola") == .matthewsCorrelation)
        #expect(Metric.forCrossFitTask("no-such-task") == nil)
    }
}

@Suite("crossfit16 catalog and the paper's splits", SharedData.required)
struct CrossFit16SplitTests {
    let data = SharedData.crossfit

    /// tasks.json is written by other code than CrossFit's metrics.py: the two must agree.
    @Test func catalogAgreesWithCrossFitTable() throws {
        let catalog = try TaskCatalog.load(dataDirectory: data)
        #expect(catalog.tasks.count == 89)
        for task in catalog.tasks {
            let entry = try catalog.entry(for: task)
            #expect(Metric.forCrossFitTask(task) == entry.metric, "\(task)")
            #expect(entry.options.isEmpty == (entry.kind == .textToText), "\(task)")
        }
    }

    /// The README of crossfit16 lists what is absent: dbpedia_14 from the cls split; 27 train and
    /// 4 test tasks of the random split.
    @Test func paperSplitsWithTheAbsentTasks() throws {
        let folder = try CrossFitDirectory(data)
        let cls = data.appendingPathComponent("splits/cls.json")
        #expect(throws: DataError.missingTasks(path: cls.path, tasks: ["dbpedia_14"])) {
            _ = try TaskSplit.load(cls, directory: folder, missingTasks: .fail)
        }
        let clsSplit = try TaskSplit.load(cls, directory: folder, missingTasks: .skip)
        #expect(clsSplit.missingTasks == ["dbpedia_14"])
        #expect(clsSplit.train.count == 34 && clsSplit.dev.count == 34 && clsSplit.test.count == 8)

        let random = try TaskSplit.load(data.appendingPathComponent("splits/random.json"), directory: folder, missingTasks: .skip)
        #expect(random.train.count == 100 - 27)
        #expect(random.test.count == 20 - 4)
        #expect(random.missingTasks.count == 31)
        #expect((random.train + random.dev + random.test).allSatisfy(folder.contains))
        #expect(random.missingTasks.allSatisfy { !folder.contains($0) })
        // Every task of every split is either present or reported missing.
        for name in ["random", "cls", "noncls", "cls_outdomain", "noncls_outdomain"] {
            let split = try TaskSplit.load(data.appendingPathComponent("splits/\(name).json"), directory: folder, missingTasks: .skip)
            #expect(Set(split.train + split.dev + split.test).isDisjoint(with: split.missingTasks), "\(name)")
        }
    }
}
