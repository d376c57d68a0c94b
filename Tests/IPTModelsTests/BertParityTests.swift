import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTestSupport
import Testing

/// The bert-tiny fixture (scripts/make_bert_fixtures.py) and what transformers computes on it.
struct BertFixture {
    struct Values: Decodable {
        let inputs: [[Int32]]
        let options: [[[Int32]]]
        let targets: [Int]
        let loss_sum: Float
        let target_nll: [Float]
        let option_scores: [[Float]]
        let prompt_loss_sum: Float
        let prompt_target_nll: [Float]
        let prompt_option_scores: [[Float]]
        let per_example_prompt_loss_sum: Float
        let adapter_loss_sum: Float
        let adapter_option_scores: [[Float]]
        let parameter_names: [String]
        let parameter_count: Int
    }

    let model: BertEncoder
    let values: Values
    let tensors: [String: Tensor]

    init() throws {
        model = try BertEncoder.load(from: Fixtures.url("bert-tiny"))
        values = try JSONDecoder().decode(Values.self, from: Data(contentsOf: Fixtures.url("bert-tiny-expected.json")))
        tensors = try SafeTensors.read(Fixtures.url("bert-tiny-expected.safetensors").path).tensors
    }

    func tensor(_ key: String) -> Tensor { tensors[key]! }

    var inputs: TokenBatch { TokenBatch(values.inputs, paddingID: 0) }

    /// Inputs, each example's target option as its target, and the options.
    var batch: TaskBatch {
        let targets = zip(values.options, values.targets).map { $0[$1] }
        return TaskBatch(inputs: inputs, targets: TokenBatch(targets, paddingID: 0), options: values.options)
    }
}

func expectClose(_ a: [[Float]], _ b: [[Float]], tolerance: Float, _ label: String) {
    #expect(a.map(\.count) == b.map(\.count), "\(label)")
    for (x, y) in zip(a.joined(), b.joined()) { #expect(abs(x - y) < tolerance, "\(label): \(x) vs \(y)") }
}

/// Swift BERT against transformers' BertModel: hidden states, sentence embeddings, the option
/// loss and its prompt and adapter gradients, option scores.
@Suite("BERT matches transformers")
struct BertParityTests {
    @Test func namesCountsAndFrozenness() throws {
        let f = try BertFixture()
        #expect(f.model.namedParameters().map(\.key) == f.values.parameter_names)
        #expect(f.model.parameterCount == f.values.parameter_count)
        #expect(f.model.configuration.parameterCount == f.values.parameter_count)
        #expect(f.model.trainableParameterCount == 0, "a loaded model is frozen")
        #expect(f.model.adapterLayout(bottleneckSize: 4).parameterCount == f.tensor("adapters").count)
    }

    @Test func hiddenStatesAndSentenceEmbeddings() throws {
        let f = try BertFixture()
        let encoded = try f.model.encode(f.inputs)
        #expect(encoded.hiddenStates.maxAbsDifference(f.tensor("hidden")) < 1e-4)
        #expect(try f.model.embed(f.inputs).maxAbsDifference(f.tensor("embeddings")) < 1e-5)
        let prompted = try f.model.encode(f.inputs, prompt: .shared(f.tensor("prompt")))
        #expect(prompted.hiddenStates.maxAbsDifference(f.tensor("prompt_hidden")) < 1e-4)
        // The prompt sits after [CLS] and is attended.
        #expect(prompted.mask[2] == Array(repeating: true, count: 4 + 4) + Array(repeating: false, count: 5))
    }

    @Test func optionLossNLLAndScores() throws {
        let f = try BertFixture()
        let loss = try f.model.loss(batch: f.batch)
        #expect(abs(loss.item - f.values.loss_sum) < 1e-4 * abs(f.values.loss_sum))
        let mean = try f.model.loss(batch: f.batch, reduction: .mean)
        #expect(abs(mean.item - f.values.loss_sum / 3) < 1e-4)
        let perExample = try f.model.loss(batch: f.batch, reduction: .none)
        #expect(perExample.shape == [3] && abs(perExample.scalars.reduce(0, +) - f.values.loss_sum) < 1e-4)
        expectClose([try f.model.targetNLL(batch: f.batch)], [f.values.target_nll], tolerance: 1e-4, "nll")
        expectClose(try f.model.scoreOptions(f.inputs, options: f.values.options), f.values.option_scores,
                    tolerance: 1e-5, "scores")
    }

    @Test func sharedPromptLossAndGradient() throws {
        let f = try BertFixture()
        let prompt = f.tensor("prompt").requiringGradient()
        let loss = try f.model.loss(batch: f.batch, prompt: .shared(prompt))
        #expect(abs(loss.item - f.values.prompt_loss_sum) < 1e-4 * abs(f.values.prompt_loss_sum))
        loss.backward()
        #expect(relativeError(prompt.gradient!, f.tensor("prompt_gradient")) < 1e-3)
        #expect(f.model.parameters().allSatisfy { $0.gradient == nil }, "the frozen model collects nothing")
        let input = PromptInput.shared(f.tensor("prompt"))
        expectClose([try f.model.targetNLL(batch: f.batch, prompt: input)], [f.values.prompt_target_nll], tolerance: 1e-4, "nll")
        expectClose(try f.model.scoreOptions(f.inputs, options: f.values.options, prompt: input), f.values.prompt_option_scores,
                    tolerance: 1e-5, "scores")
    }

    @Test func perExamplePromptLossAndGradient() throws {
        let f = try BertFixture()
        let prompt = f.tensor("per_example_prompt").requiringGradient()
        let loss = try f.model.loss(batch: f.batch, prompt: .perExample(prompt))
        #expect(abs(loss.item - f.values.per_example_prompt_loss_sum) < 1e-4 * abs(f.values.per_example_prompt_loss_sum))
        loss.backward()
        #expect(relativeError(prompt.gradient!, f.tensor("per_example_prompt_gradient")) < 1e-3)
    }

    @Test func adapterLossGradientAndScores() throws {
        let f = try BertFixture()
        let flat = f.tensor("adapters").requiringGradient()
        let layout = f.model.adapterLayout(bottleneckSize: 4)
        let loss = try f.model.loss(batch: f.batch, adapters: layout.weights(from: flat))
        #expect(abs(loss.item - f.values.adapter_loss_sum) < 1e-4 * abs(f.values.adapter_loss_sum))
        loss.backward()
        #expect(relativeError(flat.gradient!, f.tensor("adapter_gradient")) < 1e-3)
        expectClose(try f.model.scoreOptions(f.inputs, options: f.values.options, adapters: layout.weights(from: f.tensor("adapters"))),
                    f.values.adapter_option_scores, tolerance: 1e-5, "scores")
    }

    @Test func encoderOnlyInputErrors() throws {
        let f = try BertFixture()
        #expect(!f.model.supportsGeneration)
        #expect(throws: ModelInputError.self) { _ = try f.model.generate(f.inputs, prompt: nil, adapters: nil, configuration: nil) }
        let withoutOptions = TaskBatch(inputs: f.batch.inputs, targets: f.batch.targets)
        #expect(throws: ModelInputError.self) { _ = try f.model.loss(batch: withoutOptions) }
        var wrongTarget = f.batch
        wrongTarget.targets = TokenBatch([[2, 99, 3], [2, 10, 3], [2, 11, 3]], paddingID: 0)
        do {
            _ = try f.model.loss(batch: wrongTarget)
            Issue.record("a target outside the options was accepted")
        } catch let error as ModelInputError {
            #expect(error.description == "option scoring: the target of example 0 is not among its options")
        }
        #expect(throws: ModelInputError.tokenOutOfRange(id: 500, vocabularySize: 120)) {
            _ = try f.model.embed(TokenBatch([[2, 500, 3]], paddingID: 0))
        }
        #expect(throws: ModelInputError.self) { _ = try f.model.embed(f.inputs, prompt: .shared(Tensor.zeros([60, 32]))) }
    }

    /// Dropout is active in training mode only, and reproducible from the seed.
    @Test func dropoutFollowsTheModeAndTheSeed() throws {
        let f = try BertFixture()
        let evaluation = try f.model.embed(f.inputs)
        f.model.train(true)
        defer { f.model.train(false) }
        f.model.randomSource.generator = RandomGenerator(seed: 5)
        let first = try f.model.embed(f.inputs)
        f.model.randomSource.generator = RandomGenerator(seed: 5)
        let again = try f.model.embed(f.inputs)
        #expect(first.maxAbsDifference(evaluation) > 1e-3)
        #expect(first.scalars == again.scalars)
        // Options are anchors: scoring runs without dropout whatever the mode.
        expectClose(try f.model.scoreOptions(f.inputs, options: f.values.options), f.values.option_scores, tolerance: 1e-5, "scores")
    }
}

@Suite("Loading Hugging Face BERT folders")
struct BertLoadingTests {
    @Test func keyStylesAndIgnoredTensors() throws {
        let f = try BertFixture()
        let stored = try SafeTensors.read(Fixtures.url("bert-tiny/model.safetensors").path).tensors
        #expect(stored["embeddings.position_ids"] != nil && stored["pooler.dense.weight"] != nil)
        var prefixed: [String: Tensor] = [:]
        for (key, value) in stored { prefixed["bert." + key] = value }
        prefixed["cls.predictions.bias"] = Tensor.zeros([120])
        let model = BertEncoder(configuration: f.model.configuration)
        try model.load(checkpoint: prefixed, source: "prefixed")
        #expect(try model.encode(f.inputs).hiddenStates.maxAbsDifference(f.tensor("hidden")) < 1e-4)

        prefixed["embeddings.word_embeddings.weight"] = stored["embeddings.word_embeddings.weight"]
        #expect(throws: ModelLoadError.invalidWeights(path: "both", problem: "tensor embeddings.word_embeddings.weight is stored both with and without the bert. prefix")) {
            try model.load(checkpoint: prefixed, source: "both")
        }
        var missing = stored
        missing["encoder.layer.1.output.dense.bias"] = nil
        do {
            try model.load(checkpoint: missing, source: "missing")
            Issue.record("a missing tensor was accepted")
        } catch let error as ModelLoadError {
            #expect(error.description.hasPrefix("missing: ") && error.description.contains("encoder.layer.1.output.dense.bias"))
        }
    }

    @Test func saveAndLoadRoundTrip() throws {
        var generator = RandomGenerator(seed: 4)
        let configuration = try BertConfiguration(vocabularySize: 50, hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32,
                                                  maximumPositions: 20)
        let model = BertEncoder(configuration: configuration, generator: &generator)
        let folder = try ScratchFolder()
        try model.save(to: folder.url)
        let loaded = try ModelFolder(folder.url).loadModel()
        let bert = try #require(loaded as? BertEncoder)
        #expect(bert.configuration == configuration)
        #expect(bert.stateDictionary().keys.sorted() == model.stateDictionary().keys.sorted())
        for (key, value) in model.stateDictionary() { #expect(bert.stateDictionary()[key]!.scalars == value.scalars, "\(key)") }
    }

    @Test func theFolderNamesTheArchitecture() throws {
        #expect(try ModelFolder(Fixtures.url("bert-tiny")).architecture() == .bert)
        #expect(try ModelFolder(Fixtures.url("bart-tiny")).architecture() == .bart)
        #expect(try ModelFolder(Fixtures.url("bert-tiny")).loadModel() is BertEncoder)
        #expect(try ModelFolder(Fixtures.url("bart-tiny")).loadModel() is BartForConditionalGeneration)
        let folder = try ScratchFolder()
        try folder.write(#"{"model_type": "t5", "d_model": 8}"#, to: "config.json")
        #expect(throws: ModelLoadError.invalidValue(path: folder.url.appendingPathComponent("config.json").path, key: "model_type",
                                                    problem: "unsupported model type \"t5\" (supported: bart, bert)")) {
            _ = try ModelFolder(folder.url).loadModel()
        }
    }

    /// A config.json that claims a far bigger model than its checkpoint is refused before the model
    /// is allocated, as for BART (2^24 word rows of 32 values plus bert-tiny's 19,264 others).
    @Test(arguments: [
        ("\"vocab_size\": 120", "\"vocab_size\": 16777216", "describes a model of 536890176 parameter values"),
        ("\"hidden_size\": 32", "\"hidden_size\": 16777216", "describes a model of "),
        ("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1000", "describes a model of "),
    ])
    func configurationLargerThanTheCheckpointIsRefused(_ original: String, _ replacement: String, _ problem: String) throws {
        let text = try String(contentsOf: Fixtures.url("bert-tiny/config.json"), encoding: .utf8)
        #expect(text.contains(original))
        let folder = try ScratchFolder()
        try folder.write(text.replacingOccurrences(of: original, with: replacement), to: "config.json")
        try folder.copy("model.safetensors", from: Fixtures.url("bert-tiny"))
        do {
            _ = try BertEncoder.load(from: folder.url)
            Issue.record("\(replacement) was accepted")
        } catch let error as ModelLoadError {
            guard case .invalidWeights(let path, let found) = error else { Issue.record("\(error)"); return }
            #expect(path.hasSuffix("model.safetensors"))
            #expect(found.contains(problem), "\(found)")
        }
    }

    @Test(arguments: [
        (#"{"position_embedding_type": "relative_key"}"#, "position_embedding_type"),
        (#"{"hidden_size": 30, "num_attention_heads": 4}"#, "num_attention_heads"),
        (#"{"hidden_act": "mish"}"#, "hidden_act"),
        (#"{"hidden_dropout_prob": 1.5}"#, "hidden_dropout_prob"),
        (#"{"is_decoder": true}"#, "is_decoder"),
        (#"{"vocab_size": "many"}"#, "vocab_size"),
        // Sizes beyond 2^24 (whose arithmetic, d + 1 bias rows, could overflow).
        (#"{"vocab_size": 1000000000000}"#, "vocab_size"),
        (#"{"hidden_size": 9223372036854775807, "num_attention_heads": 1}"#, "hidden_size"),
        (#"{"intermediate_size": 9223372036854775807}"#, "intermediate_size"),
    ])
    func invalidConfigurationsNameTheKey(_ json: String, _ key: String) throws {
        let folder = try ScratchFolder()
        try folder.write(json, to: "config.json")
        do {
            _ = try BertConfiguration.load(from: folder.url.appendingPathComponent("config.json"))
            Issue.record("\(json) was accepted")
        } catch let error as ModelLoadError {
            guard case .invalidValue(_, let found, _) = error else { Issue.record("\(error)"); return }
            #expect(found == key)
            #expect(!error.description.contains("\n"))
        }
    }
}

/// The real all-MiniLM-L6-v2: token ids and `embed` against transformers + sentence-transformers'
/// pooling (truncation at 128 tokens).
@Suite("all-MiniLM-L6-v2 sentence embeddings", MiniLM.required)
struct MiniLMEmbeddingTests {
    @Test func embeddingsMatchTransformers() throws {
        struct Row: Decodable { let text: String; let ids: [Int32]; let embedding: [Float] }
        struct File: Decodable { let max_length: Int; let texts: [Row] }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: Fixtures.url("minilm-embeddings.json")))
        let tokenizer = try loadTokenizer(folder: MiniLM.folder)
        let model = try ModelFolder(MiniLM.folder).loadModel()
        let encoder = try #require(model as? BertEncoder)
        var worst: Float = 0
        for row in file.texts {
            let ids = try tokenizer.encode(row.text, maxLength: file.max_length)
            #expect(ids == row.ids, "\(row.text)")
            let embedding = try encoder.embed(TokenBatch([ids], paddingID: 0))
            worst = max(worst, embedding.maxAbsDifference(Tensor(row.embedding, shape: [1, row.embedding.count])))
        }
        // Batched with padding gives the same vectors.
        let batch = TokenBatch(try file.texts.map { try tokenizer.encode($0.text, maxLength: file.max_length) }, paddingID: 0)
        let batched = try encoder.embed(batch)
        worst = max(worst, batched.maxAbsDifference(Tensor(file.texts.flatMap(\.embedding), shape: [file.texts.count, 384])))
        print("all-MiniLM-L6-v2 embed: max |Swift - transformers| = \(worst)")
        #expect(worst < 1e-5)
    }
}
