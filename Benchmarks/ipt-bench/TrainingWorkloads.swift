import Foundation
import IPTCore
import IPTModels
import IPTTraining

/// The workloads of ../shared/bench/torch_peer.py, with the same shapes and semantics: a frozen
/// BART with random weights, a prompt of `promptLength` vectors at the encoder input, the
/// label-smoothed (eps 0.1) summed loss, and an AdamW step (lr 1e-4, no decay) after clipping the
/// gradient norm to 0.1.
///
///   pt        gradient to a (n, h) prompt
///   ist       z (d) -> PromptDecoder (frozen) -> prompt; gradient to z
///   msf       per-example prompts -> PromptAutoencoder (trained) -> prompts, loss + 200 * MSE
///   said      FastfoodReparameterization of every BART parameter; gradient to z
///   infer     teacher-forced forward and loss without gradients
///   generate  beam search, 4 beams, exactly 64 new tokens, no_repeat_ngram_size 3
enum TrainingWorkloads {
    static let names = ["pt", "ist", "msf", "said", "infer", "generate"]

    /// Workload settings (the peer's flags and defaults).
    struct Settings: Codable {
        var size = "base"
        var batch = 8
        var inputLength = 128
        var targetLength = 8
        var promptLength = 100
        var dimension = 100
        var steps = 5
        var warmup = 2

        enum CodingKeys: String, CodingKey {
            case size, batch, inputLength = "input_len", targetLength = "target_len", promptLength = "prompt_len"
            case dimension = "dim", steps, warmup
        }
    }

    /// The result line of one workload run (one process).
    struct Result: Codable {
        var workload: String
        var config: Settings
        var medianMilliseconds: Double
        var minimumMilliseconds: Double
        var maximumMilliseconds: Double
        var times: [Double]
        var peakMegabytes: Double
        /// GEMM floating-point operations of one step, as counted by BLAS.counting.
        var gemmFlopsPerStep: Int
        var gemmCallsPerStep: Int

        enum CodingKeys: String, CodingKey {
            case workload, config, medianMilliseconds = "median_ms", minimumMilliseconds = "min_ms"
            case maximumMilliseconds = "max_ms", times = "times_ms", peakMegabytes = "peak_mb"
            case gemmFlopsPerStep = "gemm_flops", gemmCallsPerStep = "gemm_calls"
        }
    }

    /// The peer's two model sizes.
    static func configuration(size: String) -> BartConfiguration? {
        var c = BartConfiguration.bartBase
        c.maximumPositions = 1024
        c.dropout = 0
        c.attentionDropout = 0
        c.activationDropout = 0
        switch size {
        case "base":
            return c
        case "tiny":
            c.hiddenSize = 64
            c.encoderLayers = 2
            c.decoderLayers = 2
            c.encoderHeads = 4
            c.decoderHeads = 4
            c.encoderFeedForwardSize = 256
            c.decoderFeedForwardSize = 256
            c.vocabularySize = 1000
            return c
        default:
            return nil
        }
    }

    /// Builds the workload and returns its step.
    static func makeStep(_ name: String, _ s: Settings) throws -> () throws -> Void {
        guard let configuration = configuration(size: s.size) else { throw BenchError("unknown size \(s.size)") }
        var generator = RandomGenerator(seed: 0)
        let model = BartForConditionalGeneration(configuration: configuration, generator: &generator)
        model.freeze()
        let (h, n, b) = (configuration.hiddenSize, s.promptLength, s.batch)
        let vocabulary = configuration.vocabularySize
        func randomRows(_ length: Int) -> [[Int32]] {
            (0..<b).map { _ in (0..<length).map { _ in Int32(4 + generator.nextInt(below: vocabulary - 4)) } }
        }
        let batch = TaskBatch(inputs: TokenBatch(randomRows(s.inputLength), paddingID: configuration.padTokenID),
                              targets: TokenBatch(randomRows(s.targetLength), paddingID: configuration.padTokenID))
        let zeroPrompt = PromptInput.shared(Tensor.zeros([n, h]))

        /// One optimisation step of `parameters` on `loss`.
        func optimisationStep(_ parameters: [(key: String, parameter: Parameter)], loss: @escaping () throws -> Tensor,
                              afterBackward: @escaping () -> Void = {}, afterUpdate: @escaping () -> Void = {})
            -> () throws -> Void {
            let optimizer = AdamW(parameters: parameters, learningRate: 1e-4, weightDecay: 0)
            return {
                try loss().backward()
                afterBackward()
                // As TrainingLoop: the clipping factor applied by AdamW as it reads the gradients.
                let norm = GradientClipping.globalNorm(parameters.map(\.parameter))
                optimizer.step(gradientScale: GradientClipping.scale(norm: norm, maximumNorm: 0.1))
                for (_, p) in parameters { p.zeroGradient() }
                afterUpdate()
            }
        }
        func taskLoss(_ prompt: PromptInput) throws -> Tensor {
            try model.loss(batch: batch, prompt: prompt, epsilon: 0.1, reduction: .sum)
        }

        switch name {
        case "pt":
            let prompt = Parameter(Tensor.randomNormal([n, h], standardDeviation: 0.02, generator: &generator))
            return optimisationStep([("prompt", prompt)], loss: { try taskLoss(.shared(prompt.tensor)) })
        case "ist":
            let z = Parameter(Tensor.randomNormal([s.dimension], standardDeviation: 0.02, generator: &generator))
            // The peer's decoder is Linear(d, h) -> tanh -> Linear(h, n h): width h (768 at base, 64 at tiny).
            let decoder = PromptDecoder(dimension: s.dimension, promptLength: n, hiddenSize: h, decoderWidth: h,
                                        generator: &generator)
            decoder.freeze()
            return optimisationStep([("z", z)], loss: { try taskLoss(.shared(decoder.prompt(for: z.tensor))) })
        case "msf":
            let autoencoder = PromptAutoencoder(dimension: s.dimension, promptLength: n, hiddenSize: h, decoderWidth: h,
                                                generator: &generator)
            let targets = Tensor.randomNormal([b, n, h], standardDeviation: 0.02, generator: &generator)
            return optimisationStep(autoencoder.trainableParameters(), loss: {
                let reconstructed = autoencoder(targets)
                return try taskLoss(.perExample(reconstructed))
                    + 200 * Tensor.meanSquaredError(reconstructed, targets)
            })
        case "said":
            let said = FastfoodReparameterization(parameters: model.namedParameters(), dimension: s.dimension, seed: 0)
            said.apply()
            return optimisationStep(said.trainableParameters, loss: { try taskLoss(zeroPrompt) },
                                    afterBackward: { said.accumulateGradients() }, afterUpdate: { said.apply() })
        case "infer":
            return { _ = try withoutGradients { try taskLoss(zeroPrompt) } }
        case "generate":
            let settings = GenerationConfiguration(maxNewTokens: 64, minNewTokens: 64, numBeams: 4, earlyStopping: .heuristic,
                                                   noRepeatNgramSize: 3, forcedEOSTokenIDs: configuration.eosTokenIDs,
                                                   decoderStartTokenID: 2, bosTokenID: configuration.bosTokenID,
                                                   eosTokenIDs: configuration.eosTokenIDs)
            return {
                let generated = try model.generate(batch.inputs, prompt: zeroPrompt, configuration: settings)
                guard generated.allSatisfy({ $0.count == 64 }) else {
                    throw BenchError("generate: expected 64 new tokens per example, got \(generated.map(\.count))")
                }
            }
        default:
            throw BenchError("unknown workload \(name); one of \(names.joined(separator: ", "))")
        }
    }

    /// Times the pieces of the `said` step (median over `steps` after `warmup`): writing
    /// theta0 + P z into the weights, the forward pass and loss, the backward pass with every
    /// weight's gradient, the pull-back to z (all transposes), and clipping + AdamW.
    static func saidPieces(_ s: Settings) throws -> [(String, Double)] {
        guard let configuration = configuration(size: s.size) else { throw BenchError("unknown size \(s.size)") }
        var generator = RandomGenerator(seed: 0)
        let model = BartForConditionalGeneration(configuration: configuration, generator: &generator)
        model.freeze()
        let vocabulary = configuration.vocabularySize
        func randomRows(_ length: Int) -> [[Int32]] {
            (0..<s.batch).map { _ in (0..<length).map { _ in Int32(4 + generator.nextInt(below: vocabulary - 4)) } }
        }
        let batch = TaskBatch(inputs: TokenBatch(randomRows(s.inputLength), paddingID: configuration.padTokenID),
                              targets: TokenBatch(randomRows(s.targetLength), paddingID: configuration.padTokenID))
        let prompt = PromptInput.shared(Tensor.zeros([s.promptLength, configuration.hiddenSize]))
        let said = FastfoodReparameterization(parameters: model.namedParameters(), dimension: s.dimension, seed: 0)
        let optimizer = AdamW(parameters: said.trainableParameters, learningRate: 1e-4, weightDecay: 0)
        let labels = ["apply theta0 + P z", "forward + loss", "backward (all weight gradients)", "pull-back to z (transposes)",
                      "clip + AdamW"]
        var times = [[Double]](repeating: [], count: labels.count)
        for step in 0..<(s.warmup + s.steps) {
            var loss = Tensor.zeros([1])
            let pieces: [() throws -> Void] = [
                { said.apply() },
                { loss = try model.loss(batch: batch, prompt: prompt, epsilon: 0.1, reduction: .sum) },
                { loss.backward() },
                { said.accumulateGradients() },
                {
                    let norm = GradientClipping.globalNorm(said.trainableParameters.map(\.parameter))
                    optimizer.step(gradientScale: GradientClipping.scale(norm: norm, maximumNorm: 0.1))
                    for (_, p) in said.trainableParameters { p.zeroGradient() }
                },
            ]
            for (i, piece) in pieces.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                try piece()
                if step >= s.warmup { times[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
            }
        }
        return zip(labels, times.map(medianOf)).map { ($0, $1) }
    }

    /// Runs `warmup + steps` steps of one workload and returns its timings and peak memory.
    static func run(_ name: String, _ s: Settings) throws -> Result {
        let step = try makeStep(name, s)
        for _ in 0..<s.warmup { try step() }
        var times: [Double] = []
        var counted = BLAS.Statistics()
        for i in 0..<s.steps {
            let start = DispatchTime.now().uptimeNanoseconds
            let (_, statistics) = try BLAS.counting { try step() }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            if i == 0 { counted = statistics }
        }
        let sorted = times.sorted()
        return Result(workload: name, config: s, medianMilliseconds: medianOf(times), minimumMilliseconds: sorted.first ?? 0,
                      maximumMilliseconds: sorted.last ?? 0, times: times, peakMegabytes: peakResidentMegabytes(),
                      gemmFlopsPerStep: counted.floatingPointOperations, gemmCallsPerStep: counted.gemmCalls)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The median of `values` (mean of the middle two for an even count).
func medianOf(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// This process's peak resident memory (VmHWM in /proc/self/status), in MB.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kilobytes / 1024
}
