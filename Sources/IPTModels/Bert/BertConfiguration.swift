import Foundation
import IPTCore

/// The architecture of a BERT encoder (BERT, MiniLM and other `model_type: "bert"` checkpoints), as
/// the `config.json` of a Hugging Face folder gives it.
///
/// Keys are transformers' names; absent keys take the defaults of transformers' `BertConfig`
/// (bert-base). Only what `BertModel` computes with absolute positions is accepted:
/// `position_embedding_type` other than `"absolute"` and `is_decoder: true` are rejected rather
/// than silently ignored. Through ``load(from:)`` every problem becomes a one-line
/// ``ModelLoadError`` naming the file and key.
public struct BertConfiguration: Codable, Equatable, Sendable {
    /// Rows of the word embedding (`vocab_size`, default 30522).
    public var vocabularySize: Int
    /// Width of every hidden state (`hidden_size`, default 768).
    public var hiddenSize: Int
    /// Layer count (`num_hidden_layers`, default 12).
    public var layers: Int
    /// Attention heads (`num_attention_heads`, default 12).
    public var heads: Int
    /// Feed-forward width (`intermediate_size`, default 3072).
    public var intermediateSize: Int
    /// Feed-forward nonlinearity (`hidden_act`, default "gelu", the exact erf form; BERT's choices
    /// are BART's).
    public var activation: BartActivation
    /// Dropout on embeddings and sublayer outputs (`hidden_dropout_prob`, default 0.1), training only.
    public var hiddenDropout: Float
    /// Dropout on attention weights (`attention_probs_dropout_prob`, default 0.1), training only.
    public var attentionDropout: Float
    /// Learned positions (`max_position_embeddings`, default 512): prompt plus text must fit.
    public var maximumPositions: Int
    /// Token-type rows (`type_vocab_size`, default 2); every position uses type 0.
    public var typeVocabularySize: Int
    /// Standard deviation of the random initialisation (`initializer_range`, default 0.02).
    public var initializerRange: Float
    /// LayerNorm epsilon (`layer_norm_eps`, default 1e-12).
    public var layerNormEpsilon: Float
    /// `pad_token_id`, default 0.
    public var padTokenID: Int32

    /// - Parameters: see the properties; the defaults are transformers' `BertConfig` defaults.
    public init(vocabularySize: Int = 30522, hiddenSize: Int = 768, layers: Int = 12, heads: Int = 12,
                intermediateSize: Int = 3072, activation: BartActivation = .gelu, hiddenDropout: Float = 0.1,
                attentionDropout: Float = 0.1, maximumPositions: Int = 512, typeVocabularySize: Int = 2,
                initializerRange: Float = 0.02, layerNormEpsilon: Float = 1e-12, padTokenID: Int32 = 0) throws {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.activation = activation
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
        self.maximumPositions = maximumPositions
        self.typeVocabularySize = typeVocabularySize
        self.initializerRange = initializerRange
        self.layerNormEpsilon = layerNormEpsilon
        self.padTokenID = padTokenID
        try validate()
    }

    /// The number of parameter values of a model with this architecture, as
    /// `BertEncoder.parameterCount` gives it (no pooler); nil when it does not fit in an `Int`.
    ///
    /// Loading compares it with the checkpoint before building the model, so that a config.json
    /// with huge sizes cannot make it allocate (or overflow computing) more than the weights hold.
    public var parameterCount: Int? {
        let (c, inner, layers) = (hiddenSize, intermediateSize, layers)
        var count = ElementCount()
        for rows in [vocabularySize, maximumPositions, typeVocabularySize, 2] { count.add([rows, c]) }  // embeddings, LayerNorm
        count.add([layers, 4, c + 1, c])  // query, key, value, attention output
        count.add([layers, 2, 2, c])  // two LayerNorms
        count.add([layers, c + 1, inner])  // intermediate dense
        count.add([layers, inner + 1, c])  // output dense
        return count.total
    }

    /// Reads and validates `config.json`.
    ///
    /// - Parameter url: the file.
    /// - Throws: ``ModelLoadError`` naming the file (and key) when it is missing or invalid.
    public static func load(from url: URL) throws -> BertConfiguration {
        try ModelFolder.decodeJSON(BertConfiguration.self, from: url)
    }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case activation = "hidden_act"
        case hiddenDropout = "hidden_dropout_prob"
        case attentionDropout = "attention_probs_dropout_prob"
        case maximumPositions = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size"
        case initializerRange = "initializer_range"
        case layerNormEpsilon = "layer_norm_eps"
        case padTokenID = "pad_token_id"
        case modelType = "model_type"
        case positionEmbeddingType = "position_embedding_type"
        case isDecoder = "is_decoder"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? 30522
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 768
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? 12
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? 12
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 3072
        let activationName = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu"
        // transformers' ACT2FN also calls x sigmoid(x) "swish".
        guard let activation = BartActivation(rawValue: activationName == "swish" ? "silu" : activationName) else {
            throw ConfigurationError(key: CodingKeys.activation.rawValue,
                                     problem: "unsupported activation \"\(activationName)\" (supported: \(BartActivation.allCases.map(\.rawValue).joined(separator: ", ")), swish)")
        }
        self.activation = activation
        hiddenDropout = try c.decodeIfPresent(Float.self, forKey: .hiddenDropout) ?? 0.1
        attentionDropout = try c.decodeIfPresent(Float.self, forKey: .attentionDropout) ?? 0.1
        maximumPositions = try c.decodeIfPresent(Int.self, forKey: .maximumPositions) ?? 512
        typeVocabularySize = try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? 2
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? 0.02
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-12
        padTokenID = try c.decodeIfPresent(Int32.self, forKey: .padTokenID) ?? 0
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "bert" {
            throw ConfigurationError(key: CodingKeys.modelType.rawValue, problem: "\"\(type)\" is not a BERT model")
        }
        if let positions = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType), positions != "absolute" {
            throw ConfigurationError(key: CodingKeys.positionEmbeddingType.rawValue,
                                     problem: "unsupported \"\(positions)\" (only absolute positions)")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .isDecoder) == true {
            throw ConfigurationError(key: CodingKeys.isDecoder.rawValue, problem: "unsupported: a BERT decoder (only encoders)")
        }
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("bert", forKey: .modelType)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(activation.rawValue, forKey: .activation)
        try c.encode(hiddenDropout, forKey: .hiddenDropout)
        try c.encode(attentionDropout, forKey: .attentionDropout)
        try c.encode(maximumPositions, forKey: .maximumPositions)
        try c.encode(typeVocabularySize, forKey: .typeVocabularySize)
        try c.encode(initializerRange, forKey: .initializerRange)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(padTokenID, forKey: .padTokenID)
        try c.encode("absolute", forKey: .positionEmbeddingType)
    }

    /// Checks sizes, probabilities and the pad id; throws ``ConfigurationError`` naming the key.
    private func validate() throws {
        func positive(_ value: Int, _ key: CodingKeys) throws { try ConfigurationError.requireSize(value, key: key.rawValue) }
        try positive(vocabularySize, .vocabularySize)
        try positive(hiddenSize, .hiddenSize)
        try positive(layers, .layers)
        try positive(heads, .heads)
        try positive(intermediateSize, .intermediateSize)
        try positive(maximumPositions, .maximumPositions)
        try positive(typeVocabularySize, .typeVocabularySize)
        if hiddenSize % heads != 0 {
            throw ConfigurationError(key: CodingKeys.heads.rawValue, problem: "hidden_size \(hiddenSize) is not divisible by \(heads) heads")
        }
        for (p, key) in [(hiddenDropout, CodingKeys.hiddenDropout), (attentionDropout, .attentionDropout)] where !(p >= 0 && p < 1) {
            throw ConfigurationError(key: key.rawValue, problem: "must be a probability in [0, 1), found \(p)")
        }
        if !(initializerRange >= 0) {
            throw ConfigurationError(key: CodingKeys.initializerRange.rawValue, problem: "must be non-negative, found \(initializerRange)")
        }
        if !(layerNormEpsilon > 0) {
            throw ConfigurationError(key: CodingKeys.layerNormEpsilon.rawValue, problem: "must be positive, found \(layerNormEpsilon)")
        }
        if padTokenID < 0 || Int(padTokenID) >= vocabularySize {
            throw ConfigurationError(key: CodingKeys.padTokenID.rawValue, problem: "token id \(padTokenID) is outside the vocabulary 0..<\(vocabularySize)")
        }
    }
}
