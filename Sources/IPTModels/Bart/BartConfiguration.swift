import Foundation
import IPTCore

/// The architecture of a BART model, as the `config.json` of a Hugging Face folder gives it.
///
/// Keys are transformers' snake_case names; absent keys take the defaults of transformers'
/// `BartConfig` (which describe bart-large: use a real config.json for bart-base). Decoding
/// validates the values and throws ``ConfigurationError`` naming the offending key; through
/// ``load(from:)`` every problem becomes a one-line ``ModelLoadError`` naming the file.
///
/// Only what transformers' `BartForConditionalGeneration` computes is accepted: post-LayerNorm
/// layers with an embedding LayerNorm and a tied LM head. Legacy keys that would ask for something
/// else (`normalize_before`, `add_final_layer_norm`, `normalize_embedding = false`,
/// `tie_word_embeddings = false`, `static_position_embeddings`, `add_bias_logits`) are rejected
/// rather than silently ignored.
public struct BartConfiguration: Codable, Equatable, Sendable {
    /// Size of the shared token embedding and the LM head (`vocab_size`, default 50265).
    public var vocabularySize: Int
    /// Number of learned positions (`max_position_embeddings`, default 1024); the table has two
    /// more rows (BART's offset of 2).
    public var maximumPositions: Int
    /// Width of every hidden state (`d_model`, default 1024).
    public var hiddenSize: Int
    /// Encoder layer count (`encoder_layers`, default 12).
    public var encoderLayers: Int
    /// Encoder attention heads (`encoder_attention_heads`, default 16).
    public var encoderHeads: Int
    /// Encoder feed-forward width (`encoder_ffn_dim`, default 4096).
    public var encoderFeedForwardSize: Int
    /// Decoder layer count (`decoder_layers`, default 12).
    public var decoderLayers: Int
    /// Decoder attention heads (`decoder_attention_heads`, default 16).
    public var decoderHeads: Int
    /// Decoder feed-forward width (`decoder_ffn_dim`, default 4096).
    public var decoderFeedForwardSize: Int
    /// Feed-forward nonlinearity (`activation_function`, default "gelu", the exact erf form).
    public var activation: BartActivation
    /// Dropout on embeddings and sublayer outputs (`dropout`, default 0.1), training only.
    public var dropout: Float
    /// Dropout on attention weights (`attention_dropout`, default 0), training only.
    public var attentionDropout: Float
    /// Dropout after the feed-forward activation (`activation_dropout`, default 0), training only.
    public var activationDropout: Float
    /// Probability of skipping a whole encoder layer in training (`encoder_layerdrop`, default 0).
    public var encoderLayerDrop: Float
    /// Probability of skipping a whole decoder layer in training (`decoder_layerdrop`, default 0).
    public var decoderLayerDrop: Float
    /// Standard deviation of the random initialisation (`init_std`, default 0.02).
    public var initializationStandardDeviation: Float
    /// Whether token embeddings are multiplied by sqrt(d_model) (`scale_embedding`, default false).
    public var scaleEmbedding: Bool
    /// `pad_token_id`, default 1.
    public var padTokenID: Int32
    /// `bos_token_id`, default 0.
    public var bosTokenID: Int32
    /// `eos_token_id` (an integer or a list in the file), default [2].
    public var eosTokenIDs: [Int32]
    /// First decoder input (`decoder_start_token_id`, default 2); also the first token of the
    /// shifted labels in teacher forcing.
    public var decoderStartTokenID: Int32

    /// - Parameters: see the properties; the defaults are transformers' `BartConfig` defaults.
    public init(vocabularySize: Int = 50265, maximumPositions: Int = 1024, hiddenSize: Int = 1024,
                encoderLayers: Int = 12, encoderHeads: Int = 16, encoderFeedForwardSize: Int = 4096,
                decoderLayers: Int = 12, decoderHeads: Int = 16, decoderFeedForwardSize: Int = 4096,
                activation: BartActivation = .gelu, dropout: Float = 0.1, attentionDropout: Float = 0,
                activationDropout: Float = 0, encoderLayerDrop: Float = 0, decoderLayerDrop: Float = 0,
                initializationStandardDeviation: Float = 0.02, scaleEmbedding: Bool = false,
                padTokenID: Int32 = 1, bosTokenID: Int32 = 0, eosTokenIDs: [Int32] = [2],
                decoderStartTokenID: Int32 = 2) throws {
        self.vocabularySize = vocabularySize
        self.maximumPositions = maximumPositions
        self.hiddenSize = hiddenSize
        self.encoderLayers = encoderLayers
        self.encoderHeads = encoderHeads
        self.encoderFeedForwardSize = encoderFeedForwardSize
        self.decoderLayers = decoderLayers
        self.decoderHeads = decoderHeads
        self.decoderFeedForwardSize = decoderFeedForwardSize
        self.activation = activation
        self.dropout = dropout
        self.attentionDropout = attentionDropout
        self.activationDropout = activationDropout
        self.encoderLayerDrop = encoderLayerDrop
        self.decoderLayerDrop = decoderLayerDrop
        self.initializationStandardDeviation = initializationStandardDeviation
        self.scaleEmbedding = scaleEmbedding
        self.padTokenID = padTokenID
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.decoderStartTokenID = decoderStartTokenID
        try validate()
    }

    /// facebook/bart-base's architecture (768 wide, 6 + 6 layers, 12 heads, FFN 3072, vocabulary
    /// 50265, dropout 0.1 everywhere), for random models of its size.
    public static var bartBase: BartConfiguration {
        // Constant values that pass validation (BartConfigurationTests checks them).
        try! BartConfiguration(hiddenSize: 768, encoderLayers: 6, encoderHeads: 12, encoderFeedForwardSize: 3072,
                               decoderLayers: 6, decoderHeads: 12, decoderFeedForwardSize: 3072,
                               attentionDropout: 0.1, activationDropout: 0.1)
    }

    /// The number of parameter values of a model with this architecture, as
    /// `BartForConditionalGeneration.parameterCount` gives it (the shared embedding once, the
    /// `final_logits_bias` buffer not at all); nil when it does not fit in an `Int`.
    ///
    /// Loading compares it with the checkpoint before building the model, so that a config.json
    /// with huge sizes cannot make it allocate (or overflow computing) more than the weights hold.
    public var parameterCount: Int? {
        let (d, encoderFFN, decoderFFN) = (hiddenSize, encoderFeedForwardSize, decoderFeedForwardSize)
        var count = ElementCount()
        func add(_ factors: Int...) { count.add(factors) }
        add(vocabularySize, d)  // shared embedding
        for (layers, ffn, attentions) in [(encoderLayers, encoderFFN, 1), (decoderLayers, decoderFFN, 2)] {
            add(maximumPositions, d)  // embed_positions: maximumPositions + 2 rows
            add(2, d)
            add(2, d)  // layernorm_embedding
            add(layers, attentions, 4, d, d)  // q, k, v, out projections
            add(layers, attentions, 4, d)
            add(layers, attentions + 1, 2, d)  // layer norms
            add(layers, 2, d, ffn)  // fc1, fc2
            add(layers, ffn)
            add(layers, d)
        }
        return count.total
    }

    /// The multiplier of token embeddings: sqrt(d_model) when `scale_embedding`, else 1.
    public var embeddingScale: Float { scaleEmbedding ? Float(hiddenSize).squareRoot() : 1 }

    /// Reads and validates `config.json`.
    ///
    /// - Parameter url: the file.
    /// - Throws: ``ModelLoadError`` naming the file (and key) when it is missing or invalid.
    public static func load(from url: URL) throws -> BartConfiguration {
        try ModelFolder.decodeJSON(BartConfiguration.self, from: url)
    }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case maximumPositions = "max_position_embeddings"
        case hiddenSize = "d_model"
        case encoderLayers = "encoder_layers"
        case encoderHeads = "encoder_attention_heads"
        case encoderFeedForwardSize = "encoder_ffn_dim"
        case decoderLayers = "decoder_layers"
        case decoderHeads = "decoder_attention_heads"
        case decoderFeedForwardSize = "decoder_ffn_dim"
        case activation = "activation_function"
        case dropout
        case attentionDropout = "attention_dropout"
        case activationDropout = "activation_dropout"
        case encoderLayerDrop = "encoder_layerdrop"
        case decoderLayerDrop = "decoder_layerdrop"
        case initializationStandardDeviation = "init_std"
        case scaleEmbedding = "scale_embedding"
        case padTokenID = "pad_token_id"
        case bosTokenID = "bos_token_id"
        case eosTokenIDs = "eos_token_id"
        case decoderStartTokenID = "decoder_start_token_id"

        /// The keys whose values are floats in transformers' BartConfig.
        static let floatKeys = [dropout, attentionDropout, activationDropout, encoderLayerDrop, decoderLayerDrop,
                                initializationStandardDeviation].map(\.rawValue)
    }

    /// Legacy keys of older BART configs that select behaviour transformers' BART no longer has.
    private enum LegacyKeys: String, CodingKey {
        case normalizeBefore = "normalize_before"
        case addFinalLayerNorm = "add_final_layer_norm"
        case normalizeEmbedding = "normalize_embedding"
        case tieWordEmbeddings = "tie_word_embeddings"
        case staticPositionEmbeddings = "static_position_embeddings"
        case addBiasLogits = "add_bias_logits"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? 50265
        maximumPositions = try c.decodeIfPresent(Int.self, forKey: .maximumPositions) ?? 1024
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 1024
        encoderLayers = try c.decodeIfPresent(Int.self, forKey: .encoderLayers) ?? 12
        encoderHeads = try c.decodeIfPresent(Int.self, forKey: .encoderHeads) ?? 16
        encoderFeedForwardSize = try c.decodeIfPresent(Int.self, forKey: .encoderFeedForwardSize) ?? 4096
        decoderLayers = try c.decodeIfPresent(Int.self, forKey: .decoderLayers) ?? 12
        decoderHeads = try c.decodeIfPresent(Int.self, forKey: .decoderHeads) ?? 16
        decoderFeedForwardSize = try c.decodeIfPresent(Int.self, forKey: .decoderFeedForwardSize) ?? 4096
        let activationName = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu"
        guard let activation = BartActivation(rawValue: activationName) else {
            throw ConfigurationError(key: CodingKeys.activation.rawValue,
                                     problem: "unsupported activation \"\(activationName)\" (supported: \(BartActivation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.activation = activation
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0.1
        attentionDropout = try c.decodeIfPresent(Float.self, forKey: .attentionDropout) ?? 0
        activationDropout = try c.decodeIfPresent(Float.self, forKey: .activationDropout) ?? 0
        encoderLayerDrop = try c.decodeIfPresent(Float.self, forKey: .encoderLayerDrop) ?? 0
        decoderLayerDrop = try c.decodeIfPresent(Float.self, forKey: .decoderLayerDrop) ?? 0
        initializationStandardDeviation = try c.decodeIfPresent(Float.self, forKey: .initializationStandardDeviation) ?? 0.02
        scaleEmbedding = try c.decodeIfPresent(Bool.self, forKey: .scaleEmbedding) ?? false
        padTokenID = try c.decodeIfPresent(Int32.self, forKey: .padTokenID) ?? 1
        bosTokenID = try c.decodeIfPresent(Int32.self, forKey: .bosTokenID) ?? 0
        eosTokenIDs = try decodeTokenList(c, .eosTokenIDs) ?? [2]
        decoderStartTokenID = try c.decodeIfPresent(Int32.self, forKey: .decoderStartTokenID) ?? 2

        let legacy = try decoder.container(keyedBy: LegacyKeys.self)
        func reject(_ key: LegacyKeys, if value: Bool, _ problem: String) throws {
            if try legacy.decodeIfPresent(Bool.self, forKey: key) == value {
                throw ConfigurationError(key: key.rawValue, problem: problem)
            }
        }
        try reject(.normalizeBefore, if: true, "pre-LayerNorm layers (mBART style) are not supported; BART is post-LayerNorm")
        try reject(.addFinalLayerNorm, if: true, "a final encoder/decoder LayerNorm (mBART style) is not supported")
        try reject(.normalizeEmbedding, if: false, "BART always normalises the embeddings (layernorm_embedding)")
        try reject(.tieWordEmbeddings, if: false, "an LM head separate from the shared embedding is not supported")
        try reject(.staticPositionEmbeddings, if: true, "sinusoidal position embeddings are not supported; BART learns them")
        try reject(.addBiasLogits, if: true, "a separate logits bias is not supported; BART uses final_logits_bias")
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(maximumPositions, forKey: .maximumPositions)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(encoderLayers, forKey: .encoderLayers)
        try c.encode(encoderHeads, forKey: .encoderHeads)
        try c.encode(encoderFeedForwardSize, forKey: .encoderFeedForwardSize)
        try c.encode(decoderLayers, forKey: .decoderLayers)
        try c.encode(decoderHeads, forKey: .decoderHeads)
        try c.encode(decoderFeedForwardSize, forKey: .decoderFeedForwardSize)
        try c.encode(activation.rawValue, forKey: .activation)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(attentionDropout, forKey: .attentionDropout)
        try c.encode(activationDropout, forKey: .activationDropout)
        try c.encode(encoderLayerDrop, forKey: .encoderLayerDrop)
        try c.encode(decoderLayerDrop, forKey: .decoderLayerDrop)
        try c.encode(initializationStandardDeviation, forKey: .initializationStandardDeviation)
        try c.encode(scaleEmbedding, forKey: .scaleEmbedding)
        try c.encode(padTokenID, forKey: .padTokenID)
        try c.encode(bosTokenID, forKey: .bosTokenID)
        if eosTokenIDs.count == 1 { try c.encode(eosTokenIDs[0], forKey: .eosTokenIDs) } else { try c.encode(eosTokenIDs, forKey: .eosTokenIDs) }
        try c.encode(decoderStartTokenID, forKey: .decoderStartTokenID)
    }

    /// Checks sizes, probabilities and token ids; throws ``ConfigurationError`` naming the key.
    private func validate() throws {
        func positive(_ value: Int, _ key: CodingKeys) throws { try ConfigurationError.requireSize(value, key: key.rawValue) }
        try positive(vocabularySize, .vocabularySize)
        try positive(maximumPositions, .maximumPositions)
        try positive(hiddenSize, .hiddenSize)
        try positive(encoderLayers, .encoderLayers)
        try positive(encoderHeads, .encoderHeads)
        try positive(encoderFeedForwardSize, .encoderFeedForwardSize)
        try positive(decoderLayers, .decoderLayers)
        try positive(decoderHeads, .decoderHeads)
        try positive(decoderFeedForwardSize, .decoderFeedForwardSize)
        for (heads, key) in [(encoderHeads, CodingKeys.encoderHeads), (decoderHeads, .decoderHeads)] where hiddenSize % heads != 0 {
            throw ConfigurationError(key: key.rawValue, problem: "d_model \(hiddenSize) is not divisible by \(heads) heads")
        }
        let probabilities: [(Float, CodingKeys)] = [
            (dropout, .dropout), (attentionDropout, .attentionDropout), (activationDropout, .activationDropout),
            (encoderLayerDrop, .encoderLayerDrop), (decoderLayerDrop, .decoderLayerDrop),
        ]
        for (p, key) in probabilities where !(p >= 0 && p < 1) {
            throw ConfigurationError(key: key.rawValue, problem: "must be a probability in [0, 1), found \(p)")
        }
        if !(initializationStandardDeviation >= 0) {
            throw ConfigurationError(key: CodingKeys.initializationStandardDeviation.rawValue,
                                     problem: "must be non-negative, found \(initializationStandardDeviation)")
        }
        let tokens: [(Int32, CodingKeys)] = [(padTokenID, .padTokenID), (bosTokenID, .bosTokenID),
                                             (decoderStartTokenID, .decoderStartTokenID)]
            + eosTokenIDs.map { ($0, CodingKeys.eosTokenIDs) }
        for (id, key) in tokens where id < 0 || Int(id) >= vocabularySize {
            throw ConfigurationError(key: key.rawValue, problem: "token id \(id) is outside the vocabulary 0..<\(vocabularySize)")
        }
    }
}

/// The feed-forward nonlinearity of a BART layer (`activation_function`).
public enum BartActivation: String, Codable, CaseIterable, Sendable {
    /// x Phi(x) with the exact erf (transformers' "gelu", BART's).
    case gelu
    /// max(x, 0).
    case relu
    /// The tanh approximation of GELU (transformers' "gelu_new").
    case geluNew = "gelu_new"
    /// The same tanh approximation under PyTorch's name.
    case geluPyTorchTanh = "gelu_pytorch_tanh"
    /// x sigmoid(x).
    case silu

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu: return x.gelu()
        case .relu: return x.relu()
        case .silu: return x.swish()
        case .geluNew, .geluPyTorchTanh:
            // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            let inner = (x + x * x * x * 0.044_715) * 0.797_884_560_802_865_4
            return x * (inner.tanh() + 1) * 0.5
        }
    }
}

/// A value of a configuration file that is missing, of the wrong type or out of range.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// Throws unless `value` is a size in 1...``ModelFolder/maximumSize``: far beyond any real
    /// checkpoint, and small enough that every size's arithmetic (positions + 2, d + 1 bias rows)
    /// and shape products stay within `Int`.
    static func requireSize(_ value: Int, key: String) throws {
        if value <= 0 { throw ConfigurationError(key: key, problem: "must be positive, found \(value)") }
        if value > ModelFolder.maximumSize {
            throw ConfigurationError(key: key, problem: "must be at most \(ModelFolder.maximumSize), found \(value)")
        }
    }

    /// The JSON key.
    public let key: String
    /// What is wrong with it.
    public let problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { "key \(key): \(problem)" }
}

/// Decodes a token id given as an integer or a list of integers (transformers allows both for
/// `eos_token_id` and `forced_eos_token_id`); `nil` when absent or null.
func decodeTokenList<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) throws -> [Int32]? {
    guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
    if let single = try? container.decode(Int32.self, forKey: key) { return [single] }
    guard let list = try? container.decode([Int32].self, forKey: key), !list.isEmpty else {
        throw ConfigurationError(key: key.stringValue, problem: "expected a token id or a non-empty list of token ids")
    }
    return list
}
