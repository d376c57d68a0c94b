import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTestSupport
@testable import IPTTraining
import Testing

/// A word-level tokenizer with BART's special ids (`<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3,
/// `<mask>` 4) over a fixed word list: packing and noise tests see whole words as tokens.
struct WordTokenizer: Tokenizer {
    let words: [String]
    let specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

    var vocabularySize: Int { specials.count + words.count }
    var bosTokenID: Int32? { 0 }
    var eosTokenID: Int32? { 2 }
    var padTokenID: Int32? { 1 }
    var unkTokenID: Int32? { 3 }
    var postProcessor: PostProcessor { .bart(bosID: 0, eosID: 2) }

    func id(forToken token: String) -> Int32? {
        if let i = specials.firstIndex(of: token) { return Int32(i) }
        return words.firstIndex(of: token).map { Int32(specials.count + $0) }
    }

    func token(forID id: Int32) -> String? {
        let i = Int(id)
        if i >= 0 && i < specials.count { return specials[i] }
        return i >= specials.count && i < vocabularySize ? words[i - specials.count] : nil
    }

    func encodeWithoutSpecialTokens(_ text: String) -> [Int32] {
        text.split(separator: " ").map { id(forToken: String($0)) ?? 3 }
    }

    func decode(_ ids: [Int32], skipSpecialTokens: Bool, cleanUpTokenizationSpaces: Bool) -> String {
        ids.compactMap { token(forID: $0) }.joined(separator: " ")
    }
}

@Suite("Denoising noise")
struct DenoisingNoiseTests {
    static let mask: Int32 = 4

    /// `<s> 10 11 ... </s>` with `count` body tokens.
    static func sequence(_ count: Int) -> [Int32] { [0] + (0..<count).map { Int32(10 + $0) } + [2] }

    /// The body tokens that survive, in order, and the number of `<mask>` tokens.
    static func kept(_ noised: [Int32]) -> (tokens: [Int32], masks: Int) {
        let body = noised.dropFirst().dropLast()
        return (body.filter { $0 != mask }, body.filter { $0 == mask }.count)
    }

    @Test func masksThirtyPercentInSpansOfOneMaskEachAndKeepsTheSpecials() {
        let noise = DenoisingNoise(maskRatio: 0.3, poissonLambda: 3)
        var removed = 0, total = 0, masks = 0
        for trial in 0..<2_000 {
            let length = 20 + trial % 100
            let original = Self.sequence(length)
            var generator = RandomGenerator(seed: UInt64(trial))
            let noised = noise.apply(to: original, maskID: Self.mask, generator: &generator)
            #expect(noised.first == 0 && noised.last == 2)
            #expect(!noised.dropFirst().dropLast().contains(0) && !noised.dropFirst().dropLast().contains(2))
            let (tokens, maskCount) = Self.kept(noised)
            // Kept tokens are an in-order subsequence of the original body.
            var cursor = original.dropFirst().dropLast().makeIterator()
            #expect(tokens.allSatisfy { token in
                while let next = cursor.next() { if next == token { return true } }
                return false
            })
            // Exactly round(30%) of the body is removed.
            #expect(length - tokens.count == Int((Double(length) * 0.3).rounded()))
            // Masks never abut: one <mask> per span.
            #expect(!zip(noised, noised.dropFirst()).contains { $0 == Self.mask && $1 == Self.mask })
            removed += length - tokens.count
            total += length
            masks += maskCount
        }
        #expect(abs(Double(removed) / Double(total) - 0.3) < 0.005)
        // Spans are Poisson(3) (mean 3, zero-length spans included), the last one shortened:
        // about 0.3 * tokens / 3 masks.
        let meanSpan = Double(removed) / Double(masks)
        #expect(meanSpan > 2.6 && meanSpan < 3.4, "mean span length \(meanSpan)")
    }

    @Test func eachGapBetweenKeptTokensHoldsOneRemovedSpan() {
        // With distinct token values, each <mask> must stand where a contiguous run of removed
        // tokens was (or, zero-length, between two tokens that were neighbours).
        let noise = DenoisingNoise(maskRatio: 0.4, poissonLambda: 2)
        var insertions = 0
        for trial in 0..<300 {
            let original = Self.sequence(50)
            var generator = RandomGenerator(seed: 1_000 + UInt64(trial))
            let noised = noise.apply(to: original, maskID: Self.mask, generator: &generator)
            var previous: Int32 = 9  // the value before the first body token
            var spanOpen = false
            for token in noised.dropFirst().dropLast() + [60] {  // 60: just past the last body token
                if token == Self.mask { spanOpen = true; continue }
                let gap = Int(token - previous) - 1
                #expect(spanOpen || gap == 0, "tokens removed without a <mask>")
                if spanOpen && gap == 0 { insertions += 1 }
                spanOpen = false
                previous = token
            }
        }
        #expect(insertions > 0, "Poisson(2) gives zero-length spans (13.5%), which insert a <mask>")
    }

    @Test func isAPureFunctionOfTheGenerator() {
        let noise = DenoisingNoise(permuteSentences: true)
        let original = Self.sequence(80)
        var a = RandomGenerator(seed: 7).derived(3), b = RandomGenerator(seed: 7).derived(3), c = RandomGenerator(seed: 7).derived(4)
        let x = noise.apply(to: original, segmentStarts: [0, 20, 50], maskID: Self.mask, generator: &a)
        #expect(x == noise.apply(to: original, segmentStarts: [0, 20, 50], maskID: Self.mask, generator: &b))
        #expect(x != noise.apply(to: original, segmentStarts: [0, 20, 50], maskID: Self.mask, generator: &c))
    }

    @Test func sentencePermutationShufflesWholeSegments() {
        let noise = DenoisingNoise(maskRatio: 0, permuteSentences: true)
        let original = Self.sequence(10)  // body 10...19; segments 10-12, 13-16, 17-19
        var orders = Set<[Int32]>()
        for seed in 0..<60 {
            var generator = RandomGenerator(seed: UInt64(seed))
            let noised = noise.apply(to: original, segmentStarts: [0, 3, 7], maskID: Self.mask, generator: &generator)
            #expect(noised.first == 0 && noised.last == 2)
            let body = Array(noised.dropFirst().dropLast())
            #expect(body.sorted() == Array(original.dropFirst().dropLast()))
            let segments: [[Int32]] = [[10, 11, 12], [13, 14, 15, 16], [17, 18, 19]]
            let permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]].map { $0.flatMap { segments[$0] } }
            #expect(permutations.contains(body), "\(body) is not a permutation of whole segments")
            orders.insert(body)
        }
        #expect(orders.count == 6)
        // Off: the order stays.
        var generator = RandomGenerator(seed: 1)
        #expect(DenoisingNoise(maskRatio: 0).apply(to: original, segmentStarts: [0, 3, 7], maskID: Self.mask,
                                                    generator: &generator) == original)
    }

    @Test func invalidSettingsAreRejectedByName() {
        #expect(throws: TrainingError.self) { try DenoisingNoise(maskRatio: 1).validate() }
        #expect(throws: TrainingError.self) { try DenoisingNoise(poissonLambda: 0).validate() }
        #expect((try? DenoisingNoise().validate()) != nil)
    }
}

@Suite("Denoising corpus")
struct DenoisingCorpusTests {
    static let tokenizer = WordTokenizer(words: (0..<60).map { "w\($0)" })

    /// Line i is `i % 7 + 1` words.
    static let lines: [String] = (0..<200).map { i in (0..<(i % 7 + 1)).map { "w\((i + $0) % 60)" }.joined(separator: " ") }

    @Test func packsWholeLinesIntoSequencesWithinTheLength() throws {
        let corpus = try DenoisingCorpus(lines: Self.lines + ["", String(repeating: "w1 ", count: 25)],
                                         tokenizer: Self.tokenizer, sequenceLength: 12, validationSequences: 5, seed: 3)
        #expect(corpus.validation.count == 5)
        let all = corpus.validation + corpus.training
        #expect(all.allSatisfy { $0.ids.count <= 12 && $0.ids.first == 0 && $0.ids.last == 2 })
        #expect(all.allSatisfy { $0.segmentStarts.first == 0 && $0.segmentStarts == $0.segmentStarts.sorted() })
        // Every token of the text is in exactly one sequence: 25 + sum of line lengths.
        let tokens = all.reduce(0) { $0 + $1.ids.count - 2 }
        #expect(tokens == Self.lines.reduce(0) { $0 + $1.split(separator: " ").count } + 25)
        // The long line is cut into 10 + 10 + 5.
        let pieces = all.filter { $0.ids.dropFirst().dropLast().allSatisfy { $0 == 6 } && $0.ids.count > 7 }
        #expect(pieces.map(\.ids.count).sorted() == [12, 12])
        // Each segment is one line of the input (or the 5-token rest of the long line).
        let lineSet = Set(Self.lines + ["w1 w1 w1 w1 w1"])
        for sequence in all where sequence.segmentStarts.count > 1 {
            let body = Array(sequence.ids.dropFirst().dropLast())
            let bounds = sequence.segmentStarts + [body.count]
            for (a, b) in zip(bounds, bounds.dropFirst()) {
                #expect(lineSet.contains(Self.tokenizer.decode(Array(body[a..<b]))))
            }
        }
        // Greedy packing: a sequence is closed only when the next line does not fit.
        #expect(Double(tokens) / Double(all.count) > 7)
    }

    @Test func theSeedDecidesTheOrderAndTooSmallACorpusIsAnError() throws {
        let a = try DenoisingCorpus(lines: Self.lines, tokenizer: Self.tokenizer, sequenceLength: 16, validationSequences: 4, seed: 1)
        let b = try DenoisingCorpus(lines: Self.lines, tokenizer: Self.tokenizer, sequenceLength: 16, validationSequences: 4, seed: 1)
        let c = try DenoisingCorpus(lines: Self.lines, tokenizer: Self.tokenizer, sequenceLength: 16, validationSequences: 4, seed: 2)
        #expect(a.training == b.training && a.validation == b.validation)
        #expect(a.training != c.training)
        #expect(throws: TrainingError.self) {
            try DenoisingCorpus(lines: ["w1 w2"], tokenizer: Self.tokenizer, sequenceLength: 16, validationSequences: 4, seed: 1)
        }
    }

    @Test func anUnreadableCorpusFileIsNamed() {
        do {
            _ = try DenoisingCorpus.load(path: "/nonexistent/corpus.txt", tokenizer: Self.tokenizer, sequenceLength: 16,
                                         validationSequences: 1, seed: 1)
            Issue.record("no error")
        } catch {
            #expect("\(error)".hasPrefix("/nonexistent/corpus.txt: "))
        }
    }
}

@Suite("Pretraining")
struct PretrainingTests {
    static let tokenizer = WordTokenizer(words: (0..<27).map { "w\($0)" })

    /// Sentences with structure to learn: runs of consecutive words.
    static let lines: [String] = (0..<120).map { i in (0..<(4 + i % 5)).map { "w\((i + $0) % 27)" }.joined(separator: " ") }

    static func configuration(steps: Int) throws -> PretrainingConfiguration {
        let model = try PretrainingConfiguration.smallBart(vocabularySize: tokenizer.vocabularySize, layers: 1, width: 16,
                                                           heads: 2, feedForwardSize: 32, maximumPositions: 32)
        return PretrainingConfiguration(
            model: model, sequenceLength: 24, validationSequences: 4,
            optimization: OptimizationSettings(learningRate: 3e-3, batchSize: 8, totalSteps: steps, warmupSteps: 5,
                                               evaluationPeriod: 10, maximumGradientNorm: 1, weightDecay: 0.01, seed: 5),
            evaluationBatchSize: 3)
    }

    static func pretraining(steps: Int) throws -> Pretraining {
        let c = try configuration(steps: steps)
        let corpus = try DenoisingCorpus(lines: lines, tokenizer: tokenizer, sequenceLength: c.sequenceLength,
                                         validationSequences: c.validationSequences, seed: c.optimization.seed)
        return try Pretraining(configuration: c, corpus: corpus, tokenizer: tokenizer)
    }

    @Test func theValidationLossFallsAndTheModelFolderLoads() throws {
        let run = try Self.pretraining(steps: 60)
        let before = try run.validationLoss()
        #expect(abs(before - log(Double(Self.tokenizer.vocabularySize))) < 0.5, "a random model is near uniform: \(before)")
        let folder = try TemporaryDirectory()
        let modelURL = folder.url.appendingPathComponent("model")
        let result = try run.run(export: Pretraining.ModelExport(folder: modelURL, tokenizerFolder: nil, storage: .f32))
        #expect(result.validations.count == 6)
        #expect(result.validationLoss < before - 0.5, "validation loss \(before) -> \(result.validationLoss)")
        #expect(result.validationLoss == result.validations.map(\.loss).min())
        // The exported folder holds the best weights, exactly (F32).
        let loaded = try BartForConditionalGeneration.load(from: modelURL)
        let reference = Dictionary(uniqueKeysWithValues: run.model.namedParameters().map { ($0.key, $0.parameter.value.scalars) })
        #expect(loaded.namedParameters().allSatisfy { reference[$0.key] == $0.parameter.value.scalars })
        #expect(loaded.generationConfiguration.numBeams == 4 && loaded.generationConfiguration.noRepeatNgramSize == 3)
        #expect(loaded.generationConfiguration.forcedBOSTokenID == 0 && loaded.generationConfiguration.forcedEOSTokenIDs == [2])
    }

    /// A model folder that holds files is not replaced unless asked: refused before training.
    @Test func anExistingModelFolderIsReplacedOnlyWhenAsked() throws {
        let folder = try TemporaryDirectory()
        let modelURL = folder.url.appendingPathComponent("model")
        _ = try folder.write("model/config.json", "{\"someone\": \"else\"}")
        let run = folder.url.appendingPathComponent("run").path
        var steps = 0
        let error = #expect(throws: TrainingError.self) {
            _ = try Self.pretraining(steps: 6).run(in: RunDirectory(path: run, mode: .fresh),
                                                   export: Pretraining.ModelExport(folder: modelURL, tokenizerFolder: nil)) { event in
                if case .step = event { steps += 1 }
                return .proceed
            }
        }
        #expect("\(error.map { "\($0)" } ?? "")" == "\(modelURL.path): holds files; pass --overwrite to replace the model folder")
        #expect(steps == 0)
        #expect(try String(contentsOf: modelURL.appendingPathComponent("config.json"), encoding: .utf8).contains("someone"))
        _ = try Self.pretraining(steps: 6).run(in: RunDirectory(path: run, mode: .overwrite),
                                               export: Pretraining.ModelExport(folder: modelURL, tokenizerFolder: nil, replacing: true))
        #expect(try FileManager.default.contentsOfDirectory(atPath: modelURL.path).sorted()
                == ["config.json", "generation_config.json", "model.safetensors"])
        #expect(try BartConfiguration.load(from: modelURL.appendingPathComponent("config.json")).hiddenSize > 0)
        // A file in the way, or a model folder holding the run (written as a whole, it would delete it).
        let file = try folder.write("file", "not a folder")
        #expect {
            try Pretraining.ModelExport(folder: file, tokenizerFolder: nil, replacing: true).checkTarget(resuming: false)
        } throws: { "\($0)" == "\(file.path): exists and is not a folder" }
        #expect {
            try Pretraining.ModelExport(folder: folder.url, tokenizerFolder: nil, replacing: true)
                .checkTarget(resuming: true, runFolder: URL(fileURLWithPath: run))
        } throws: { "\($0)".hasPrefix("\(folder.url.path): holds the run folder ") }
    }

    @Test func aResumedRunEqualsAnUninterruptedOne() throws {
        let whole = try Self.pretraining(steps: 30)
        let reference = try whole.run()

        let folder = try TemporaryDirectory()
        let path = folder.url.appendingPathComponent("run").path
        // Stopped before the first validation (step 10), after it, and within the last period
        // (the recent training loss averages steps 21-30 all the same).
        for (stop, mode) in [(3, RunDirectory.Mode.fresh), (17, .resume), (25, .resume)] {
            let part = try Self.pretraining(steps: 30)
            let stopped = try part.run(in: RunDirectory(path: path, mode: mode)) { event in
                if case .step(let r) = event, r.step == stop { return .stop }
                return .proceed
            }
            #expect(stopped.interrupted && stopped.lastStep == stop)
        }
        // Other settings are refused before anything is written: config.json still describes the checkpoint.
        let configuration = path + "/" + RunDirectory.configurationName
        let started = FileManager.default.contents(atPath: configuration)
        let error = #expect(throws: TrainingError.self) {
            _ = try Self.pretraining(steps: 40).run(in: RunDirectory(path: path, mode: .resume))
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("in the unfinished run"))
        #expect(FileManager.default.contents(atPath: configuration) == started)
        let second = try Self.pretraining(steps: 30)
        let resumed = try second.run(in: RunDirectory(path: path, mode: .resume))
        #expect(!resumed.interrupted && resumed.lastStep == 30)
        #expect(resumed.validations == reference.validations)
        #expect(resumed.finalTrainingLoss == reference.finalTrainingLoss)
        #expect(resumed.recentTrainingLoss == reference.recentTrainingLoss)
        let expected = Dictionary(uniqueKeysWithValues: whole.model.namedParameters().map { ($0.key, $0.parameter.value.scalars) })
        #expect(second.model.namedParameters().allSatisfy { expected[$0.key] == $0.parameter.value.scalars })
    }

    @Test func initialWeightsContinueFromAnotherRunsCheckpoint() throws {
        let folder = try TemporaryDirectory()
        let path = folder.url.appendingPathComponent("first").path
        _ = try Self.pretraining(steps: 12).run(in: RunDirectory(path: path, mode: .fresh))
        let checkpoint = path + "/" + RunDirectory.checkpointName
        var c = try Self.configuration(steps: 5)
        c.initialWeights = checkpoint
        let corpus = try DenoisingCorpus(lines: Self.lines, tokenizer: Self.tokenizer, sequenceLength: c.sequenceLength,
                                         validationSequences: c.validationSequences, seed: c.optimization.seed)
        let continued = try Pretraining(configuration: c, corpus: corpus, tokenizer: Self.tokenizer)
        let saved = try SafeTensors.read(checkpoint).tensors
        #expect(continued.model.namedParameters().allSatisfy { saved["value.\($0.key)"]?.scalars == $0.parameter.value.scalars })
        // Another architecture does not fit; the error names the file.
        c.model = try PretrainingConfiguration.smallBart(vocabularySize: Self.tokenizer.vocabularySize, layers: 1, width: 8,
                                                         heads: 2, feedForwardSize: 32, maximumPositions: 32)
        #expect {
            _ = try Pretraining(configuration: c, corpus: corpus, tokenizer: Self.tokenizer)
        } throws: { "\($0)".contains(checkpoint) }
    }

    @Test func weightDecayReachesMatricesOnly() throws {
        let run = try Self.pretraining(steps: 10)
        let groups = run.optimizerGroups(run.model.namedParameters())
        #expect(groups.count == 2)
        let decayed = groups.filter { $0.weightDecay == 0.01 }.flatMap { $0.parameters.map(\.key) }
        let plain = groups.filter { $0.weightDecay == 0 }.flatMap { $0.parameters.map(\.key) }
        #expect(Set(decayed + plain) == Set(run.model.namedParameters().map(\.key)))
        #expect(decayed.contains("shared.weight") && decayed.contains("encoder.layers.0.fc1.weight")
                && decayed.contains("decoder.embed_positions.weight"))
        #expect(plain.contains("encoder.layers.0.fc1.bias") && plain.contains("decoder.layers.0.final_layer_norm.weight")
                && plain.contains("encoder.layernorm_embedding.bias"))
        #expect(!decayed.contains { $0.hasSuffix(".bias") || $0.contains("layer_norm") || $0.contains("layernorm") })
    }

    /// The real rows of a padded batch.
    static func rows(_ batch: TokenBatch) -> [[Int32]] {
        (0..<batch.batchSize).map { row in
            (0..<batch.length).filter { batch.mask[row * batch.length + $0] }.map { batch.ids[row * batch.length + $0] }
        }
    }

    @Test func batchesArePureFunctionsOfTheStepAndCoverAnEpoch() throws {
        let a = try Self.pretraining(steps: 10), b = try Self.pretraining(steps: 10)
        #expect(a.batch(step: 3) == b.batch(step: 3))
        #expect(a.batch(step: 3) != a.batch(step: 4))
        let n = a.corpus.training.count
        let targets = (1...((n + 7) / 8)).flatMap { Self.rows(a.batch(step: $0).targets) }
        // The first epoch visits every training sequence once; inputs are their noised copies.
        #expect(targets.prefix(n).sorted { $0.lexicographicallyPrecedes($1) }
                == a.corpus.training.map(\.ids).sorted { $0.lexicographicallyPrecedes($1) })
        let inputs = Self.rows(a.batch(step: 1).inputs)
        #expect(inputs.allSatisfy { $0.contains(4) && $0.first == 0 && $0.last == 2 })
    }

    @Test func copyWarmUpStepsTrainOnRandomOrdinaryTokensThenOnTheCorpus() throws {
        var c = try Self.configuration(steps: 10)
        c.copyWarmupSteps = 2
        let corpus = try DenoisingCorpus(lines: Self.lines, tokenizer: Self.tokenizer, sequenceLength: c.sequenceLength,
                                         validationSequences: c.validationSequences, seed: c.optimization.seed)
        let run = try Pretraining(configuration: c, corpus: corpus, tokenizer: Self.tokenizer)
        let plain = try Self.pretraining(steps: 10)
        let special: Set<Int32> = [0, 1, 2, 3, 4]  // <s> <pad> </s> <unk> <mask> of WordTokenizer
        for step in 1...2 {
            let targets = Self.rows(run.batch(step: step).targets)
            #expect(targets.allSatisfy { $0.count == (c.sequenceLength - 2) / 2 + 2 && $0.first == 0 && $0.last == 2 })
            #expect(targets.allSatisfy { $0.dropFirst().dropLast().allSatisfy { !special.contains($0) } })
            #expect(Set(targets.flatMap { $0 }).count > 15, "spread over the vocabulary")
            #expect(Self.rows(run.batch(step: step).inputs).allSatisfy { $0.contains(4) }, "noised like the corpus")
            #expect(run.batch(step: step) != plain.batch(step: step))
        }
        #expect(run.batch(step: 3) == plain.batch(step: 3), "the corpus from the first step after the warm-up")
        // Configurations written before the key existed decode with no warm-up; negative is refused.
        var old = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.configuration(steps: 10))) as? [String: Any])
        old["copy_warmup_steps"] = nil
        let decoded = try JSONDecoder().decode(PretrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded == (try Self.configuration(steps: 10)))
        c.copyWarmupSteps = -1
        #expect(throws: TrainingError.self) { try c.validate() }
    }
}

@Suite("Embedded model (Resources/model)")
struct EmbeddedModelTests {
    static let folder = SharedData.repositoryRoot.appendingPathComponent("Resources/model")

    @Test func loadsWithItsTokenizerAndDenoises() throws {
        let model = try BartForConditionalGeneration.load(from: Self.folder)
        let tokenizer = try ByteLevelBPETokenizer.load(folder: Self.folder)
        #expect(tokenizer.vocabularySize == model.configuration.vocabularySize)
        #expect(model.configuration.encoderLayers == 4 && model.configuration.hiddenSize == 256)
        #expect(model.parameterCount > 9_000_000 && model.parameterCount < 10_000_000)
        let size = try FileManager.default.attributesOfItem(atPath: Self.folder.appendingPathComponent("model.safetensors").path)[.size] as? Int
        #expect((size ?? .max) < 25_000_000)
        // A pretrained model predicts held-back English far better than chance (ln 8192 = 9.0).
        let text = "dog: a member of the genus Canis that has been domesticated by man since prehistoric times"
        let ids = tokenizer.encode(text)
        let maskID = try #require(tokenizer.id(forToken: "<mask>"))
        var noisy = ids
        noisy.replaceSubrange(9..<12, with: [maskID])
        let batch = TaskBatch(inputs: TokenBatch([noisy], paddingID: 1), targets: TokenBatch([ids], paddingID: 1))
        let nll = try model.targetNLL(batch: batch)[0]
        #expect(nll < 4, "mean NLL \(nll) per token")
        // It reads its input: with another text's input the same target is far less likely (a
        // decoder that ignores the encoder gives both the same loss; see copy_warmup_steps).
        var other = tokenizer.encode("fortune: a soft answer turneth away wrath, but grievous words stir up anger")
        other.replaceSubrange(9..<12, with: [maskID])
        let unrelated = TaskBatch(inputs: TokenBatch([other], paddingID: 1), targets: TokenBatch([ids], paddingID: 1))
        let unrelatedNLL = try model.targetNLL(batch: unrelated)[0]
        #expect(unrelatedNLL > nll + 1, "NLL \(nll) with its own input, \(unrelatedNLL) with another")
    }
}
