import Foundation
import IPTCore
import IPTData
import IPTTestSupport
import Testing

@Suite("Batching: orders, answer choice, resumption, padding")
struct BatchingTests {
    @Test func sequentialBatchesKeepOrder() {
        let batcher = Batcher(count: 10, batchSize: 4, order: .sequential)
        #expect(batcher.batches(epoch: 0) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(batcher.batchesPerEpoch == 3)
        let dropping = Batcher(count: 10, batchSize: 4, order: .sequential, dropLast: true)
        #expect(dropping.batches(epoch: 0) == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(dropping.batchesPerEpoch == 2)
        #expect(Batcher(count: 0, batchSize: 4).batches(epoch: 0).isEmpty)
    }

    @Test func shuffledEpochsArePermutationsFixedBySeedAndEpoch() {
        let batcher = Batcher(count: 50, batchSize: 8, order: .shuffled, seed: 7)
        let epochs = (0..<4).map { batcher.batches(epoch: $0) }
        for batches in epochs {
            #expect(batches.joined().sorted() == Array(0..<50))
            #expect(batches.map(\.count) == [8, 8, 8, 8, 8, 8, 2])
        }
        #expect(Set(epochs.map { Array($0.joined()) }).count == 4)  // a new order every epoch
        #expect(Batcher(count: 50, batchSize: 8, order: .shuffled, seed: 7).batches(epoch: 2) == epochs[2])
        #expect(Batcher(count: 50, batchSize: 8, order: .shuffled, seed: 8).batches(epoch: 2) != epochs[2])
    }

    @Test func longestFirstSortsByLengthWithStableTies() {
        let lengths = [3, 9, 1, 9, 4, 4, 0]
        let batches = Batcher(count: 7, batchSize: 3, order: .longestFirst(lengths: lengths)).batches(epoch: 0)
        #expect(batches == [[1, 3, 4], [5, 0, 2], [6]])
    }

    @Test func lengthBucketsPadLessThanShuffling() {
        var generator = RandomGenerator(seed: 3)
        let lengths = (0..<400).map { _ in 5 + generator.nextInt(below: 200) }
        func padding(_ batches: [[Int]]) -> Int {
            batches.reduce(0) { total, batch in
                let longest = batch.map { lengths[$0] }.max() ?? 0
                return total + batch.reduce(0) { $0 + longest - lengths[$1] }
            }
        }
        let bucketed = Batcher(count: 400, batchSize: 16, order: .lengthBucketed(lengths: lengths, windowBatches: 10), seed: 1)
        let shuffled = Batcher(count: 400, batchSize: 16, order: .shuffled, seed: 1)
        for epoch in 0..<3 {
            let batches = bucketed.batches(epoch: epoch)
            #expect(batches.joined().sorted() == Array(0..<400))
            #expect(batches.count == bucketed.batchesPerEpoch)
            #expect(padding(batches) * 4 < padding(shuffled.batches(epoch: epoch)))
        }
        #expect(bucketed.batches(epoch: 0) != bucketed.batches(epoch: 1))
    }

    /// A pool of two tasks; examples of task "b" have three answers.
    func makePool() -> ExamplePool {
        let a = (0..<10).map { Example(task: "a", input: "a\($0)", answers: ["x\($0)"]) }
        let b = (0..<7).map { Example(task: "b", input: "b\($0)", answers: ["p\($0)", "q\($0)", "r\($0)"]) }
        return ExamplePool(a + b)
    }

    @Test func pooledBatchesCarryTasksAndChosenAnswers() throws {
        let pool = makePool()
        #expect(pool.tasks == ["a", "b"])
        var batches = try TrainingBatches(pool: pool, batchSize: 4, seed: 11, epochs: 2)
        var seen = 0
        while let batch = batches.next() {
            seen += batch.count
            for (i, example) in batch.examples.enumerated() {
                #expect(example == pool.examples[batch.indices[i]])
                #expect(pool.tasks[batch.taskIndices[i]] == example.task)
                #expect(batch.tasks[i] == example.task)
                #expect(example.answers.indices.contains(batch.answerIndices[i]))
                #expect(batch.answers[i] == example.answers[batch.answerIndices[i]])
            }
        }
        #expect(seen == 2 * pool.count)
        #expect(batches.cursor == BatchCursor(epoch: 2, batch: 0))
    }

    @Test func answersAreChosenUniformly() throws {
        let pool = makePool()
        var counts = [0, 0, 0]
        var batches = try TrainingBatches(pool: pool, batchSize: 17, seed: 5, epochs: 300)
        while let batch = batches.next() {
            for (example, choice) in zip(batch.examples, batch.answerIndices) where example.task == "b" {
                counts[choice] += 1
            }
        }
        // 2100 draws; a uniform choice gives 700 ± ~22 (one standard deviation) per answer.
        #expect(counts.reduce(0, +) == 2100)
        #expect(counts.allSatisfy { abs($0 - 700) < 100 }, "\(counts)")
    }

    @Test func resumesExactlyFromASavedCursor() throws {
        let pool = makePool()
        func make(_ cursor: BatchCursor = .start) throws -> TrainingBatches {
            try TrainingBatches(pool: pool, batchSize: 5, order: .shuffled, seed: 99, epochs: 3, resumingFrom: cursor)
        }
        var full = try make()
        var reference: [(BatchCursor, [Int], [Int], BatchCursor)] = []
        while let batch = full.next() { reference.append((batch.position, batch.indices, batch.answerIndices, full.cursor)) }
        #expect(reference.count == 12)
        for stop in 0...reference.count {
            var first = try make()
            for _ in 0..<stop { _ = first.next() }
            // The cursor goes through a checkpoint file as JSON.
            let saved = try JSONEncoder().encode(first.cursor)
            var resumed = try make(JSONDecoder().decode(BatchCursor.self, from: saved))
            var rest: [(BatchCursor, [Int], [Int])] = []
            while let batch = resumed.next() { rest.append((batch.position, batch.indices, batch.answerIndices)) }
            #expect(rest.count == reference.count - stop)
            for (r, e) in zip(rest, reference[stop...]) {
                #expect(r.0 == e.0 && r.1 == e.1 && r.2 == e.2)
            }
        }
        // The cursor after the last batch of an epoch is the start of the next one.
        #expect(reference[3].3 == BatchCursor(epoch: 1, batch: 0))
        #expect(try make(BatchCursor(epoch: 0, batch: 4)).cursor == BatchCursor(epoch: 1, batch: 0))
    }

    @Test func cursorsOutsideTheIterationAreRejected() throws {
        let pool = makePool()
        for cursor in [BatchCursor(epoch: 0, batch: 5), BatchCursor(epoch: -1, batch: 0), BatchCursor(epoch: 4, batch: 0),
                       BatchCursor(epoch: 3, batch: 1)] {
            #expect(throws: DataError.self) {
                _ = try TrainingBatches(pool: pool, batchSize: 5, seed: 1, epochs: 3, resumingFrom: cursor)
            }
        }
        var finished = try TrainingBatches(pool: pool, batchSize: 5, seed: 1, epochs: 3, resumingFrom: BatchCursor(epoch: 3, batch: 0))
        #expect(finished.next() == nil)
        var unlimited = try TrainingBatches(pool: pool, batchSize: 5, seed: 1, resumingFrom: BatchCursor(epoch: 1000, batch: 2))
        #expect(unlimited.next()?.position == BatchCursor(epoch: 1000, batch: 2))
        // A cursor (from a damaged checkpoint) at the end of epoch Int.max has no next epoch: an error, not an overflow trap.
        #expect(throws: DataError.self) {
            _ = try TrainingBatches(pool: pool, batchSize: 5, seed: 1, resumingFrom: BatchCursor(epoch: .max, batch: 4))
        }
        var empty = try TrainingBatches(pool: ExamplePool([]), batchSize: 5, seed: 1)
        #expect(empty.next() == nil)
    }

    @Test func paddingToTheLongestSequence() {
        let padded = PaddedSequences([[5, 6, 7], [8], []], padID: 1)
        #expect(padded.shape == [3, 3])
        #expect(padded.ids == [5, 6, 7, 8, 1, 1, 1, 1, 1])
        #expect(padded.mask == [[true, true, true], [true, false, false], [false, false, false]])
        #expect(PaddedSequences([], padID: 1).shape == [0, 0])
    }
}

@Suite("Batching crossfit16 tasks", SharedData.required)
struct CrossFit16BatchingTests {
    @Test func poolsTheTrainingTasksOfASplit() throws {
        let data = SharedData.crossfit
        let folder = try CrossFitDirectory(data)
        let split = try TaskSplit.load(data.appendingPathComponent("splits/cls.json"), directory: folder, missingTasks: .skip)
        let tasks = try split.train.prefix(6).map {
            try FewShotTask.load(dataDirectory: data, task: $0, seed: 100, includeTest: false)
        }
        let pool = ExamplePool(tasks, part: .train)
        #expect(pool.tasks == Array(split.train.prefix(6)))
        #expect(pool.count == tasks.reduce(0) { $0 + $1.train.count })
        var batches = try TrainingBatches(pool: pool, batchSize: 8, seed: 100, epochs: 1)
        var tasksInBatches = Set<Int>()
        while let batch = batches.next() {
            #expect(zip(batch.tasks, batch.taskIndices).allSatisfy { pool.tasks[$1] == $0 })
            tasksInBatches.insert(Set(batch.tasks).count)
        }
        #expect(tasksInBatches.contains { $0 > 1 })  // batches mix tasks
    }
}
