import Foundation
import IPTCore
import IPTData
import IPTModels
import IPTTestSupport
import IPTTraining
import Testing

/// A tiny random BERT with a character-level WordPiece vocabulary, saved as a Hugging Face folder
/// and loaded back the way users load models.
enum TinyBert {
    /// Folder with config.json, model.safetensors, vocab.txt (built once per process).
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-tiny-bert-\(ProcessInfo.processInfo.processIdentifier)")
        let characters = (33...126).map { String(UnicodeScalar(UInt8($0))) }.filter { !("A"..."Z").contains($0) }
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + characters + characters.map { "##" + $0 }
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try! (vocabulary.joined(separator: "\n") + "\n").write(to: url.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        var generator = RandomGenerator(seed: 2025)
        let configuration = try! BertConfiguration(vocabularySize: vocabulary.count, hiddenSize: 16, layers: 1, heads: 2,
                                                   intermediateSize: 32, maximumPositions: 96)
        try! BertEncoder(configuration: configuration, generator: &generator).save(to: url)
        return url
    }()

    /// A fresh copy of the model (frozen), its tokenizer and identity.
    static func load() throws -> (model: any Backbone, tokenizer: any Tokenizer, identity: ModelIdentity) {
        let model = try ModelFolder(folder).loadModel()
        return (model, try loadTokenizer(folder: folder), ModelIdentity(of: model, name: "tiny-bert", hiddenSize: model.hiddenSize))
    }

    static func settings(steps: Int, lr: Float = 0.05, batch: Int = 4, eval: Int = 5) -> OptimizationSettings {
        OptimizationSettings(learningRate: lr, batchSize: batch, totalSteps: steps, warmupSteps: 0, evaluationPeriod: eval,
                             maximumGradientNorm: 1)
    }

    /// Generation asked for: an encoder must fall back on option scoring by itself.
    static let evaluation = EvaluationSettings(mode: .generation, batchSize: 16, maximumDevExamples: 8, maximumTestExamples: 16)
}

/// Every procedure, unchanged, on an encoder-only backbone (tiny random BERT, real CrossFit tasks).
@Suite(SharedData.required, .serialized)
struct BertProcedureTests {
    @Test func promptTuningLearnsAndPredictsOptions() throws {
        let (model, tokenizer, identity) = try TinyBert.load()
        let task = try TinyBackbone.task("glue-sst2")
        let configuration = PromptTuningConfiguration(promptLength: 4, optimization: TinyBert.settings(steps: 40, lr: 0.3),
                                                      evaluation: TinyBert.evaluation, maximumInputLength: 64)
        var losses: [Double] = []
        let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task, configuration: configuration)
        let result = try tuning.run { event in
            if case .step(let report) = event { losses.append(report.loss) }
            return .proceed
        }
        let first = losses.prefix(8).reduce(0, +) / 8, last = losses.suffix(8).reduce(0, +) / 8
        #expect(last < first, "loss did not fall: \(first) -> \(last)")
        #expect(result.tasks[0].test != nil)
        #expect(model.trainableParameterCount == 0)

        let encoder = try TaskTextEncoder(tokenizer: tokenizer, model: model, promptLength: 4, maximumInputLength: 64,
                                          targetFormat: .answerAsIs, tasks: [task])
        let evaluator = TaskEvaluator(model: model, encoder: encoder, settings: TinyBert.evaluation)
        let predictions = try evaluator.predictions(Array(task.task.dev.prefix(6)), prompt: .shared(tuning.prompt.value),
                                                    adapters: nil, options: task.options)
        #expect(predictions.count == 6 && predictions.allSatisfy(task.options.contains))
    }

    /// PT on two tasks -> MSF (autoencoder) -> IST in the learned and a random subspace -> stage two;
    /// Fastfood; adapter-subspace finding and tuning.
    @Test func everyProcedureRuns() throws {
        let (model, tokenizer, identity) = try TinyBert.load()
        let tasks = try ["glue-sst2", "tweet_eval-stance_atheism"].map { try TinyBackbone.task($0) }
        let root = TinyBackbone.temporaryFolder("bert-procedures")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let n = 4
        var prompts: [String: Tensor] = [:]
        for task in tasks {
            let configuration = PromptTuningConfiguration(promptLength: n, optimization: TinyBert.settings(steps: 10),
                                                          evaluation: TinyBert.evaluation, maximumInputLength: 64)
            let tuning = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task, configuration: configuration)
            _ = try tuning.run()
            prompts[task.name] = tuning.prompt.value
        }

        let msfDirectory = try RunDirectory(path: root + "/msf", mode: .fresh)
        let msf = try SubspaceFinding(model: model, tokenizer: tokenizer, identity: identity, tasks: tasks, prompts: prompts,
                                      configuration: SubspaceFindingConfiguration(dimension: 2, decoderWidth: 8,
                                                                                  optimization: TinyBert.settings(steps: 6, lr: 1e-3),
                                                                                  evaluation: TinyBert.evaluation, maximumInputLength: 64))
        let found = try msf.run(in: msfDirectory)
        #expect(found.tasks.count == 2 && found.tasks.allSatisfy { $0.test != nil })

        for source in [SubspaceSource.file(msfDirectory.path("subspace.safetensors")),
                       .random(dimension: 2, promptLength: n, decoderWidth: 8)] {
            let folder = root + "/ist-\(source.kind.rawValue)"
            let ist = try SubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: tasks[0],
                                         configuration: SubspaceTuningConfiguration(subspace: source, optimization: TinyBert.settings(steps: 6),
                                                                                    evaluation: TinyBert.evaluation, maximumInputLength: 64))
            let result = try ist.run(in: try RunDirectory(path: folder, mode: .fresh))
            #expect(result.trainableParameters == 2 && result.tasks[0].test != nil)
            if source.kind == .file {
                let stageTwo = try StageTwo.run(model: model, tokenizer: tokenizer, identity: identity, task: tasks[0],
                                                from: URL(fileURLWithPath: folder),
                                                configuration: PromptTuningConfiguration(promptLength: n, optimization: TinyBert.settings(steps: 5),
                                                                                         evaluation: TinyBert.evaluation, maximumInputLength: 64))
                #expect(stageTwo.procedure == .stageTwo && stageTwo.trainableParameters == n * 16)
            }
        }

        let fastfood = try FastfoodTuning(model: model, tokenizer: tokenizer, identity: identity, task: tasks[1],
                                          configuration: FastfoodTuningConfiguration(dimension: 8, optimization: TinyBert.settings(steps: 6),
                                                                                     evaluation: TinyBert.evaluation, maximumInputLength: 64))
        let before = model.stateDictionary()
        #expect(try fastfood.run().tasks[0].test != nil)
        #expect(model.stateDictionary().allSatisfy { $0.value.scalars == before[$0.key]!.scalars }, "weights restored")

        let adapterDirectory = try RunDirectory(path: root + "/adapters", mode: .fresh)
        let finding = try AdapterSubspaceFinding(model: model, tokenizer: tokenizer, identity: identity, tasks: tasks,
                                                 configuration: AdapterSubspaceFindingConfiguration(
                                                     dimension: 2, bottleneckSize: 2, optimization: TinyBert.settings(steps: 4),
                                                     evaluation: TinyBert.evaluation, maximumInputLength: 64))
        #expect(try finding.run(in: adapterDirectory).tasks.count == 2)
        let adapterTuning = try AdapterSubspaceTuning(model: model, tokenizer: tokenizer, identity: identity, task: tasks[1],
                                                      configuration: AdapterSubspaceTuningConfiguration(
                                                          subspace: adapterDirectory.path("adapter_subspace.safetensors"),
                                                          optimization: TinyBert.settings(steps: 4), evaluation: TinyBert.evaluation,
                                                          maximumInputLength: 64))
        #expect(try adapterTuning.run().tasks[0].test != nil)
        #expect(model.trainableParameterCount == 0)
    }

    @Test func generationTasksAreRefusedUpFront() throws {
        let (model, tokenizer, identity) = try TinyBert.load()
        let task = try TinyBackbone.task("ade_corpus_v2-dosage")
        #expect(task.options.isEmpty)
        let configuration = PromptTuningConfiguration(promptLength: 4, optimization: TinyBert.settings(steps: 2), maximumInputLength: 64)
        do {
            _ = try PromptTuning(model: model, tokenizer: tokenizer, identity: identity, task: task, configuration: configuration)
            Issue.record("an encoder-only model accepted a generation task")
        } catch let error as TrainingError {
            #expect("\(error)".contains("task ade_corpus_v2-dosage has no label set"))
        }
    }
}
