import Foundation
import IPTCore
import IPTModels
import Testing

/// A scratch model folder, removed when the value is released.
final class ScratchFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ipt-bart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ text: String, to name: String) throws {
        try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func copy(_ name: String, from source: URL) throws {
        try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: url.appendingPathComponent(name))
    }

    /// Writes `tensors` as F32 `model.safetensors`.
    func writeWeights(_ tensors: [String: Tensor]) throws {
        try SafeTensors.write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                              to: url.appendingPathComponent("model.safetensors").path)
    }

    var path: String { url.path }
}

@Suite("Loading Hugging Face BART folders")
struct BartLoadingTests {
    /// The bart-tiny checkpoint's tensors (BartModel keys) and a folder with its config.json.
    func tinyCheckpoint() throws -> (tensors: [String: Tensor], folder: ScratchFolder) {
        let tensors = try SafeTensors.read(Fixtures.url("bart-tiny/model.safetensors").path).tensors
        let folder = try ScratchFolder()
        try folder.copy("config.json", from: Fixtures.url("bart-tiny"))
        return (tensors, folder)
    }

    /// The bart-tiny folder with one piece of its config.json text replaced.
    func tinyFolder(editingConfiguration original: String, to replacement: String) throws -> ScratchFolder {
        let text = try String(contentsOf: Fixtures.url("bart-tiny/config.json"), encoding: .utf8)
        #expect(text.contains(original))
        let folder = try ScratchFolder()
        try folder.write(text.replacingOccurrences(of: original, with: replacement), to: "config.json")
        try folder.copy("model.safetensors", from: Fixtures.url("bart-tiny"))
        return folder
    }

    func loadError(_ folder: ScratchFolder) -> ModelLoadError? {
        do {
            _ = try BartForConditionalGeneration.load(from: folder.url)
            return nil
        } catch {
            return error as? ModelLoadError
        }
    }

    @Test(arguments: ["bart-tiny", "bart-tiny-scaled"])
    func parameterNamesAndCountMatchTransformers(_ name: String) throws {
        let f = try ParityFixture(name)
        struct Names: Decodable { let parameter_names: [String]; let parameter_count: Int }
        let expected = try JSONDecoder().decode(Names.self, from: Data(contentsOf: Fixtures.url("\(name)-expected.json")))
        #expect(f.model.namedParameters().map(\.key) == expected.parameter_names)
        #expect(f.model.parameterCount == expected.parameter_count)
        #expect(f.model.configuration.parameterCount == expected.parameter_count)
        #expect(f.model.trainableParameterCount == 0, "a loaded model is frozen")
        #expect(f.model.parameter("encoder.embed_tokens.weight") === f.model.parameter("shared.weight"))
    }

    @Test func bartBaseSizeCountsTheSharedEmbeddingOnce() throws {
        let model = BartForConditionalGeneration(configuration: .bartBase)
        #expect(model.parameterCount == 139_420_416)
        #expect(BartConfiguration.bartBase.parameterCount == 139_420_416)
        #expect(model.finalLogitsBias.count == 50_265)
        #expect(model.adapterLayout().parameterCount == 589_824)
    }

    /// An F32 checkpoint in BartForConditionalGeneration style (model. prefix, final_logits_bias,
    /// lm_head.weight) written from the loaded F16 one gives the same model.
    @Test func float32ConditionalGenerationStyleRoundTrip() throws {
        let f = try ParityFixture("bart-tiny-scaled")
        var tensors: [String: Tensor] = [:]
        for (key, p) in f.model.namedParameters() { tensors["model.\(key)"] = p.value }
        tensors["lm_head.weight"] = f.model.sharedEmbedding.weight.value
        tensors["final_logits_bias"] = f.model.finalLogitsBias.reshaped([1, 200])
        let folder = try ScratchFolder()
        try folder.copy("config.json", from: Fixtures.url("bart-tiny-scaled"))
        try folder.writeWeights(tensors)
        let reloaded = try BartForConditionalGeneration.load(from: folder.url)
        #expect(try reloaded.logits(batch: f.batch).maxAbsDifference(f.model.logits(batch: f.batch)) == 0)
    }

    /// A saved model loads back identically, and its config.json keeps transformers' types:
    /// transformers 5 refuses `encoder_layerdrop: 0` where BartConfig declares a float.
    @Test func savedFolderRoundTripsWithFloatKeysAsFloats() throws {
        let model = try BartForConditionalGeneration.load(from: Fixtures.url("bart-tiny-scaled"))
        let folder = try ScratchFolder()
        try model.save(to: folder.url)
        let reloaded = try BartForConditionalGeneration.load(from: folder.url)
        #expect(reloaded.configuration == model.configuration)
        for ((key, a), (_, b)) in zip(model.namedParameters(), reloaded.namedParameters()) {
            #expect(a.value.maxAbsDifference(b.value) == 0, "\(key)")
        }
        #expect(reloaded.finalLogitsBias.maxAbsDifference(model.finalLogitsBias) == 0)
        let text = try String(contentsOf: folder.url.appendingPathComponent("config.json"), encoding: .utf8)
        for key in ["dropout", "attention_dropout", "activation_dropout", "encoder_layerdrop", "decoder_layerdrop", "init_std"] {
            let line = try #require(text.split(separator: "\n").first { $0.contains("\"\(key)\"") }, "\(key) missing")
            let value = line.split(separator: ":").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " ,")) } ?? ""
            #expect(value.contains(".") || value.contains("e"), "\(key) written as \(value)")
            #expect(Double(value) != nil, "\(key) written as \(value)")
        }
    }

    @Test func missingFinalLogitsBiasMeansZeros() throws {
        let model = try BartForConditionalGeneration.load(from: Fixtures.url("bart-tiny"))
        #expect(model.finalLogitsBias.scalars.allSatisfy { $0 == 0 })
    }

    @Test func missingKeyIsNamed() throws {
        var (tensors, folder) = try tinyCheckpoint()
        tensors["decoder.layers.1.fc2.bias"] = nil
        try folder.writeWeights(tensors)
        guard case let .parameters(path, error)? = loadError(folder) else { Issue.record("no parameters error"); return }
        #expect(error.missing == ["decoder.layers.1.fc2.bias"] && error.unexpected.isEmpty)
        #expect(path.hasSuffix("model.safetensors"))
        #expect(loadError(folder)!.description.contains("decoder.layers.1.fc2.bias"))
    }

    @Test func unexpectedKeyIsNamed() throws {
        var (tensors, folder) = try tinyCheckpoint()
        tensors["encoder.layers.0.adapter.weight"] = Tensor.zeros([2])
        try folder.writeWeights(tensors)
        guard case let .parameters(_, error)? = loadError(folder) else { Issue.record("no parameters error"); return }
        #expect(error.unexpected == ["encoder.layers.0.adapter.weight"] && error.missing.isEmpty)
    }

    @Test func shapeMismatchIsNamed() throws {
        var (tensors, folder) = try tinyCheckpoint()
        tensors["encoder.layers.0.self_attn.q_proj.weight"] = Tensor.zeros([32, 16])
        try folder.writeWeights(tensors)
        guard case let .parameters(_, error)? = loadError(folder) else { Issue.record("no parameters error"); return }
        #expect(error.mismatched.map(\.key) == ["encoder.layers.0.self_attn.q_proj.weight"])
        #expect(error.mismatched.first?.expected == [32, 32] && error.mismatched.first?.found == [32, 16])
    }

    @Test func tiedCopiesMustBeEqual() throws {
        var (tensors, folder) = try tinyCheckpoint()
        tensors["lm_head.weight"] = tensors["shared.weight"]! * 2
        try folder.writeWeights(tensors)
        guard case let .invalidWeights(_, problem)? = loadError(folder) else { Issue.record("no invalidWeights error"); return }
        #expect(problem.contains("shared.weight") && problem.contains("lm_head.weight"))
    }

    @Test func anyTiedCopyProvidesTheEmbedding() throws {
        var (tensors, folder) = try tinyCheckpoint()
        tensors["decoder.embed_tokens.weight"] = tensors.removeValue(forKey: "shared.weight")
        try folder.writeWeights(tensors)
        let model = try BartForConditionalGeneration.load(from: folder.url)
        let reference = try BartForConditionalGeneration.load(from: Fixtures.url("bart-tiny"))
        #expect(model.sharedEmbedding.weight.value.maxAbsDifference(reference.sharedEmbedding.weight.value) == 0)

        tensors["decoder.embed_tokens.weight"] = nil
        try folder.writeWeights(tensors)
        guard case let .parameters(_, error)? = loadError(folder) else { Issue.record("no parameters error"); return }
        #expect(error.missing.contains("shared.weight"))
    }

    @Test func pytorchWeightsOnlySaysHowToConvert() throws {
        let folder = try ScratchFolder()
        try folder.copy("config.json", from: Fixtures.url("bart-tiny"))
        try folder.write("not a real pickle", to: "pytorch_model.bin")
        let error = try #require(loadError(folder))
        #expect(error == .pytorchWeightsOnly(path: folder.url.appendingPathComponent("pytorch_model.bin").path))
        #expect(error.description.contains("save_pretrained") && error.description.contains("safe_serialization=True"))
        #expect(!error.description.contains("\n"))
    }

    @Test func missingFilesAreNamed() throws {
        let folder = try ScratchFolder()
        #expect(loadError(folder) == .missingFile(path: folder.url.appendingPathComponent("config.json").path,
                                                  problem: "file not found (a Hugging Face model folder needs config.json)"))
        try folder.copy("config.json", from: Fixtures.url("bart-tiny"))
        guard case let .missingFile(path, _)? = loadError(folder) else { Issue.record("no missingFile error"); return }
        #expect(path.hasSuffix("model.safetensors"))
        let absent = folder.url.appendingPathComponent("nothing-here")
        #expect((try? BartForConditionalGeneration.load(from: absent)) == nil)
    }

    @Test func truncatedSafetensorsIsNamed() throws {
        let folder = try ScratchFolder()
        try folder.copy("config.json", from: Fixtures.url("bart-tiny"))
        let data = try Data(contentsOf: Fixtures.url("bart-tiny/model.safetensors"))
        try data.prefix(data.count / 2).write(to: folder.url.appendingPathComponent("model.safetensors"))
        guard case let .invalidWeights(path, _)? = loadError(folder) else { Issue.record("no invalidWeights error"); return }
        #expect(path.hasSuffix("model.safetensors"))
    }

    /// Each malformed config.json gives a one-line error naming the file and the key.
    @Test(arguments: [
        ("\"d_model\": 32", "\"d_model\": \"32\"", "d_model"),
        ("\"d_model\": 32", "\"d_model\": 30", "encoder_attention_heads"),
        ("\"encoder_layers\": 2", "\"encoder_layers\": 0", "encoder_layers"),
        ("\"activation_function\": \"gelu\"", "\"activation_function\": \"swiglu\"", "activation_function"),
        ("\"dropout\": 0.1", "\"dropout\": 1.5", "dropout"),
        ("\"pad_token_id\": 1", "\"pad_token_id\": 900", "pad_token_id"),
        ("\"scale_embedding\": false", "\"scale_embedding\": false, \"normalize_before\": true", "normalize_before"),
        ("\"scale_embedding\": false", "\"scale_embedding\": \"no\"", "scale_embedding"),
        // Sizes beyond 2^24 (whose arithmetic, positions + 2, could overflow).
        ("\"vocab_size\": 200", "\"vocab_size\": 1000000000000", "vocab_size"),
        ("\"d_model\": 32", "\"d_model\": 4294967296", "d_model"),
        ("\"max_position_embeddings\": 128", "\"max_position_embeddings\": 9223372036854775807", "max_position_embeddings"),
    ])
    func malformedConfigurationNamesTheKey(_ original: String, _ replacement: String, _ key: String) throws {
        let folder = try tinyFolder(editingConfiguration: original, to: replacement)
        guard case let .invalidValue(path, foundKey, _)? = loadError(folder) else { Issue.record("no invalidValue error"); return }
        #expect(path.hasSuffix("config.json") && foundKey == key)
        #expect(loadError(folder)!.description.contains("config.json: key \(key):"))
    }

    /// A config.json that claims a far bigger model than its checkpoint is refused before the model
    /// is allocated (huge sizes would otherwise exhaust memory or overflow the shape arithmetic);
    /// small mismatches still get the precise missing-key errors above.
    @Test(arguments: [
        ("\"vocab_size\": 200", "\"vocab_size\": 16777216", "describes a model of "),
        ("\"d_model\": 32", "\"d_model\": 16777216", "describes a model of "),
        ("\"encoder_layers\": 2", "\"encoder_layers\": 1000", "describes a model of "),
    ])
    func configurationLargerThanTheCheckpointIsRefused(_ original: String, _ replacement: String, _ problem: String) throws {
        let folder = try tinyFolder(editingConfiguration: original, to: replacement)
        guard case let .invalidWeights(path, found)? = loadError(folder) else { Issue.record("no invalidWeights error"); return }
        #expect(path.hasSuffix("model.safetensors"))
        #expect(found.contains(problem), "\(found)")
    }

    @Test func invalidJSONNamesTheFile() throws {
        let folder = try ScratchFolder()
        try folder.write("{\"d_model\": 32,", to: "config.json")
        guard case let .invalidJSON(path, _)? = loadError(folder) else { Issue.record("no invalidJSON error"); return }
        #expect(path.hasSuffix("config.json"))
    }

    @Test func malformedGenerationConfigNamesTheKey() throws {
        let (tensors, folder) = try tinyCheckpoint()
        try folder.writeWeights(tensors)
        try folder.write("{\"num_beams\": 4, \"do_sample\": true}", to: "generation_config.json")
        #expect(loadError(folder) == .invalidValue(path: folder.url.appendingPathComponent("generation_config.json").path,
                                                   key: "do_sample",
                                                   problem: "sampling is not supported (greedy and beam search only)"))
        try folder.write("{\"early_stopping\": \"sometimes\"}", to: "generation_config.json")
        guard case let .invalidValue(_, key, _)? = loadError(folder) else { Issue.record("no invalidValue error"); return }
        #expect(key == "early_stopping")
    }

    /// The folder's generation defaults: generation_config.json for bart-tiny, config.json's keys
    /// for bart-tiny-scaled (the values the script wrote there).
    @Test func generationDefaultsComeFromTheFolder() throws {
        let tiny = try GenerationConfiguration.load(from: ModelFolder(Fixtures.url("bart-tiny")))
        #expect(tiny == GenerationConfiguration(maxLength: 16, minLength: 3, numBeams: 4, lengthPenalty: 1,
                                                earlyStopping: .whenFull, noRepeatNgramSize: 3, forcedBOSTokenID: 0,
                                                forcedEOSTokenIDs: [2], decoderStartTokenID: 2, bosTokenID: 0,
                                                eosTokenIDs: [2]))
        let scaled = try GenerationConfiguration.load(from: ModelFolder(Fixtures.url("bart-tiny-scaled")))
        #expect(scaled.numBeams == 4 && scaled.lengthPenalty == 1.5 && scaled.maxLength == 12 && scaled.minLength == 2)
    }

    /// Without generation_config.json only the keys present in config.json count, as
    /// transformers' from_pretrained does (its result is in the fixture).
    @Test func configWithoutGenerationTokensMatchesTransformers() throws {
        struct Fixture: Decodable {
            let config: [String: JSONValue]
            let generation_config: GenerationConfiguration
        }
        let data = try Data(contentsOf: Fixtures.url("config-without-generation-tokens.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let folder = try ScratchFolder()
        try JSONEncoder().encode(fixture.config).write(to: folder.url.appendingPathComponent("config.json"))
        let loaded = try GenerationConfiguration.load(from: ModelFolder(folder.url))
        #expect(loaded == fixture.generation_config)
        #expect(loaded.eosTokenIDs == nil && loaded.decoderStartTokenID == nil && loaded.maxLength == nil)
    }
}

/// Any JSON value, to pass a fixture's object through unchanged.
enum JSONValue: Codable {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n):
            if n == n.rounded() && abs(n) < 1e15 { try c.encode(Int(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }
}
