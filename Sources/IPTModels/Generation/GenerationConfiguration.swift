import Foundation

/// When beam search stops (transformers' `early_stopping`).
public enum EarlyStopping: Equatable, Sendable {
    /// `True`: an example is done as soon as it has `num_beams` finished hypotheses.
    case whenFull
    /// `False` (the default): done when the best running beam, length-normalised by its current
    /// length, cannot beat the worst finished hypothesis.
    case heuristic
    /// `"never"`: as `heuristic`, but with a positive length penalty the running beam is
    /// normalised by the maximum length (the canonical beam search bound).
    case never
}

/// Greedy or beam-search settings, with transformers' names and semantics.
///
/// Defaults are transformers' `GenerationConfig` defaults; a model folder's
/// `generation_config.json` (or, without it, the generation keys present in its `config.json`)
/// overrides them, exactly as transformers' `from_pretrained` does. Lengths count the decoder
/// start token, as transformers' `max_length`/`min_length` do.
public struct GenerationConfiguration: Equatable, Sendable, Decodable {
    /// Total decoder length including the start token (`max_length`); `nil`: 20 new tokens,
    /// capped by the position table, as transformers' default.
    public var maxLength: Int?
    /// New tokens (`max_new_tokens`); takes precedence over ``maxLength``.
    public var maxNewTokens: Int?
    /// EOS is banned while the decoder sequence (start token included) is shorter (`min_length`,
    /// default 0).
    public var minLength: Int
    /// Minimum new tokens (`min_new_tokens`); takes precedence over ``minLength``.
    public var minNewTokens: Int?
    /// Beam width (`num_beams`, default 1 = greedy).
    public var numBeams: Int
    /// Finished hypotheses score sum(log p) / length^lengthPenalty, length = generated tokens
    /// including EOS (`length_penalty`, default 1).
    public var lengthPenalty: Double
    /// Beam stopping rule (`early_stopping`, default false = ``EarlyStopping/heuristic``).
    public var earlyStopping: EarlyStopping
    /// No n-gram of this size occurs twice in a decoder sequence (`no_repeat_ngram_size`, default 0 = off).
    public var noRepeatNgramSize: Int
    /// Token forced as the first generated token (`forced_bos_token_id`).
    public var forcedBOSTokenID: Int32?
    /// Tokens forced as the last token when the maximum length is reached (`forced_eos_token_id`).
    public var forcedEOSTokenIDs: [Int32]?
    /// First decoder input (`decoder_start_token_id`; falls back to ``bosTokenID``).
    public var decoderStartTokenID: Int32?
    /// `bos_token_id`.
    public var bosTokenID: Int32?
    /// Generation of any of these ends a sequence (`eos_token_id`); none: only the length does.
    public var eosTokenIDs: [Int32]?

    /// - Parameters: see the properties; the defaults are transformers' `GenerationConfig` defaults.
    public init(maxLength: Int? = nil, maxNewTokens: Int? = nil, minLength: Int = 0, minNewTokens: Int? = nil,
                numBeams: Int = 1, lengthPenalty: Double = 1, earlyStopping: EarlyStopping = .heuristic,
                noRepeatNgramSize: Int = 0, forcedBOSTokenID: Int32? = nil, forcedEOSTokenIDs: [Int32]? = nil,
                decoderStartTokenID: Int32? = nil, bosTokenID: Int32? = nil, eosTokenIDs: [Int32]? = nil) {
        self.maxLength = maxLength
        self.maxNewTokens = maxNewTokens
        self.minLength = minLength
        self.minNewTokens = minNewTokens
        self.numBeams = numBeams
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
        self.noRepeatNgramSize = noRepeatNgramSize
        self.forcedBOSTokenID = forcedBOSTokenID
        self.forcedEOSTokenIDs = forcedEOSTokenIDs
        self.decoderStartTokenID = decoderStartTokenID
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
    }

    /// The special tokens of a model built in Swift (not loaded from a folder); everything else at
    /// transformers' defaults.
    public init(modelConfiguration c: BartConfiguration) {
        self.init(decoderStartTokenID: c.decoderStartTokenID, bosTokenID: c.bosTokenID, eosTokenIDs: c.eosTokenIDs)
    }

    /// The generation defaults of a model folder: `generation_config.json` when present, else the
    /// generation keys present in `config.json` (keys absent there keep transformers' defaults,
    /// even where `BartConfig` has its own, as transformers does).
    ///
    /// - Throws: ``ModelLoadError`` naming the file and key.
    public static func load(from folder: ModelFolder) throws -> GenerationConfiguration {
        let file = FileManager.default.fileExists(atPath: folder.generationConfigurationURL.path)
            ? folder.generationConfigurationURL : folder.configurationURL
        return try ModelFolder.decodeJSON(GenerationConfiguration.self, from: file)
    }

    enum CodingKeys: String, CodingKey {
        case maxLength = "max_length"
        case maxNewTokens = "max_new_tokens"
        case minLength = "min_length"
        case minNewTokens = "min_new_tokens"
        case numBeams = "num_beams"
        case lengthPenalty = "length_penalty"
        case earlyStopping = "early_stopping"
        case noRepeatNgramSize = "no_repeat_ngram_size"
        case forcedBOSTokenID = "forced_bos_token_id"
        case forcedEOSTokenIDs = "forced_eos_token_id"
        case decoderStartTokenID = "decoder_start_token_id"
        case bosTokenID = "bos_token_id"
        case eosTokenIDs = "eos_token_id"
        // Settings that change greedy or beam results and are not implemented: rejected unless neutral.
        case doSample = "do_sample"
        case numBeamGroups = "num_beam_groups"
        case repetitionPenalty = "repetition_penalty"
        case badWordsIDs = "bad_words_ids"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        maxNewTokens = try c.decodeIfPresent(Int.self, forKey: .maxNewTokens)
        minLength = try c.decodeIfPresent(Int.self, forKey: .minLength) ?? 0
        minNewTokens = try c.decodeIfPresent(Int.self, forKey: .minNewTokens)
        numBeams = try c.decodeIfPresent(Int.self, forKey: .numBeams) ?? 1
        lengthPenalty = try c.decodeIfPresent(Double.self, forKey: .lengthPenalty) ?? 1
        if let flag = try? c.decodeIfPresent(Bool.self, forKey: .earlyStopping) {
            earlyStopping = flag ? .whenFull : .heuristic
        } else if let word = try? c.decodeIfPresent(String.self, forKey: .earlyStopping), word == "never" {
            earlyStopping = .never
        } else if c.contains(.earlyStopping), try !c.decodeNil(forKey: .earlyStopping) {
            throw ConfigurationError(key: CodingKeys.earlyStopping.rawValue, problem: "expected true, false or \"never\"")
        } else {
            earlyStopping = .heuristic
        }
        noRepeatNgramSize = try c.decodeIfPresent(Int.self, forKey: .noRepeatNgramSize) ?? 0
        forcedBOSTokenID = try c.decodeIfPresent(Int32.self, forKey: .forcedBOSTokenID)
        forcedEOSTokenIDs = try decodeTokenList(c, .forcedEOSTokenIDs)
        decoderStartTokenID = try c.decodeIfPresent(Int32.self, forKey: .decoderStartTokenID)
        bosTokenID = try c.decodeIfPresent(Int32.self, forKey: .bosTokenID)
        eosTokenIDs = try decodeTokenList(c, .eosTokenIDs)

        if try c.decodeIfPresent(Bool.self, forKey: .doSample) == true {
            throw ConfigurationError(key: CodingKeys.doSample.rawValue, problem: "sampling is not supported (greedy and beam search only)")
        }
        if let groups = try c.decodeIfPresent(Int.self, forKey: .numBeamGroups), groups > 1 {
            throw ConfigurationError(key: CodingKeys.numBeamGroups.rawValue, problem: "diverse (group) beam search is not supported")
        }
        if let penalty = try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty), penalty != 1 {
            throw ConfigurationError(key: CodingKeys.repetitionPenalty.rawValue, problem: "a repetition penalty is not supported")
        }
        if c.contains(.badWordsIDs), try !c.decodeNil(forKey: .badWordsIDs) {
            throw ConfigurationError(key: CodingKeys.badWordsIDs.rawValue, problem: "bad-words lists are not supported")
        }
        for (value, key) in [(maxLength, CodingKeys.maxLength), (maxNewTokens, .maxNewTokens), (minNewTokens, .minNewTokens)] {
            if let value, value < 0 { throw ConfigurationError(key: key.rawValue, problem: "must be non-negative, found \(value)") }
        }
        if minLength < 0 { throw ConfigurationError(key: CodingKeys.minLength.rawValue, problem: "must be non-negative, found \(minLength)") }
        if numBeams < 1 { throw ConfigurationError(key: CodingKeys.numBeams.rawValue, problem: "must be at least 1, found \(numBeams)") }
        if noRepeatNgramSize < 0 {
            throw ConfigurationError(key: CodingKeys.noRepeatNgramSize.rawValue, problem: "must be non-negative, found \(noRepeatNgramSize)")
        }
    }

    /// The settings one run uses, with transformers' length rules applied and token ids checked.
    func resolved(maximumPositions: Int, vocabularySize: Int) throws -> ResolvedGeneration {
        func fail(_ problem: String) -> ModelInputError { .invalidGeneration(problem: problem) }
        guard let start = decoderStartTokenID ?? bosTokenID else {
            throw fail("no decoder_start_token_id or bos_token_id")
        }
        if let maxNewTokens, maxNewTokens > maximumPositions {
            throw fail("max_new_tokens \(maxNewTokens) exceeds the model's \(maximumPositions) positions")
        }
        let maximum = maxNewTokens.map { $0 + 1 } ?? maxLength ?? Swift.min(20 + 1, maximumPositions)
        guard maximum > 1 else { throw fail("max_length \(maximum) leaves no room after the decoder start token") }
        // The last fed token sits at decoder position maximum - 2 (row maximum in the position table).
        guard maximum - 1 <= maximumPositions else {
            throw fail("max_length \(maximum) exceeds the model's \(maximumPositions) positions")
        }
        guard numBeams >= 1 else { throw fail("num_beams must be at least 1, found \(numBeams)") }
        // More beams than tokens cannot all differ after the first step; the bound also keeps the
        // num_beams * vocabulary candidates of a step countable.
        guard numBeams <= vocabularySize else {
            throw fail("num_beams \(numBeams) exceeds the vocabulary size \(vocabularySize)")
        }
        let eos = eosTokenIDs ?? []
        // Beam search keeps max(2, 1 + #eos) * num_beams of the num_beams * vocabulary candidates per step.
        if numBeams > 1 && Swift.max(2, 1 + eos.count) > vocabularySize {
            throw fail("num_beams \(numBeams) is too large for a vocabulary of \(vocabularySize)")
        }
        let tokens = [start] + eos + (forcedEOSTokenIDs ?? []) + (forcedBOSTokenID.map { [$0] } ?? [])
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw fail("token id \(bad) is outside the vocabulary 0..<\(vocabularySize)")
        }
        // A minimum beyond the maximum length bans EOS throughout, as the maximum itself does.
        return ResolvedGeneration(maxLength: maximum, minLength: minNewTokens.map { Swift.min($0, maximum) + 1 } ?? minLength,
                                  numBeams: numBeams, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping,
                                  noRepeatNgramSize: noRepeatNgramSize, forcedBOSTokenID: forcedBOSTokenID,
                                  forcedEOSTokenIDs: forcedEOSTokenIDs ?? [], decoderStartTokenID: start, eosTokenIDs: eos)
    }
}

/// A generation configuration with its lengths resolved for one model.
struct ResolvedGeneration {
    let maxLength: Int
    let minLength: Int
    let numBeams: Int
    let lengthPenalty: Double
    let earlyStopping: EarlyStopping
    let noRepeatNgramSize: Int
    let forcedBOSTokenID: Int32?
    let forcedEOSTokenIDs: [Int32]
    let decoderStartTokenID: Int32
    let eosTokenIDs: [Int32]
}
