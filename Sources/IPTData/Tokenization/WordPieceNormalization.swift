import Foundation

/// BERT's text clean-up before WordPiece, as Hugging Face's `BertNormalizer` does it (the fast
/// tokenizer's half of BERT's BasicTokenizer), in its order:
///
/// 1. clean text: drop U+0000, U+FFFD and "other" characters (categories Cc, Cf, Co, Cs, except
///    tab, newline and carriage return), then turn every whitespace character into a space;
/// 2. put spaces around CJK ideographs;
/// 3. strip accents: canonical decomposition (NFD), then drop nonspacing marks (Mn);
/// 4. lower-case, one scalar at a time (Unicode's full mapping without context, as Rust's
///    `char::to_lowercase`: `İ` gives `i̇`, a final `Σ` gives `σ`).
public struct BertNormalizer: Sendable, Equatable {
    /// Step 1 (`clean_text`).
    public var cleansText: Bool
    /// Step 2 (`handle_chinese_chars`, transformers' `tokenize_chinese_chars`).
    public var separatesChineseCharacters: Bool
    /// Step 3 (`strip_accents`; transformers and Hugging Face follow `lowercases` when it is unset).
    public var stripsAccents: Bool
    /// Step 4 (`lowercase`, transformers' `do_lower_case`).
    public var lowercases: Bool

    /// - Parameters: the four steps; the defaults are an uncased BERT's (all on).
    public init(cleansText: Bool = true, separatesChineseCharacters: Bool = true, stripsAccents: Bool = true,
                lowercases: Bool = true) {
        self.cleansText = cleansText
        self.separatesChineseCharacters = separatesChineseCharacters
        self.stripsAccents = stripsAccents
        self.lowercases = lowercases
    }

    /// The normalized text.
    public func normalize(_ text: Substring) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if cleansText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isOther(scalar) { continue }
                if Self.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if separatesChineseCharacters && Self.isChineseCharacter(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        if stripsAccents {
            scalars = String.UnicodeScalarView(ReferenceUnicode.decomposed(scalars).filter {
                ReferenceUnicode.category($0) != .nonspacingMark
            })
        }
        if lowercases {
            var lowered = String.UnicodeScalarView()
            for scalar in scalars {
                if scalar.isASCII {
                    let isUppercase = (0x41...0x5A).contains(scalar.value)
                    lowered.append(Unicode.Scalar(UInt8(scalar.value) + (isUppercase ? 0x20 : 0)))
                } else {
                    lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        return String(scalars)
    }

    /// Tab, newline and carriage return count as whitespace, not as control characters.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// Categories Cc, Cf, Co and Cs, except tab, newline and carriage return. (Unassigned code
    /// points are kept, as Hugging Face keeps them; they become `[UNK]`.)
    static func isOther(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        default: break
        }
        switch ReferenceUnicode.category(scalar) {
        case .control?, .format?, .privateUse?, .surrogate?: return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT separates (not Japanese kana or Hangul).
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}

/// BERT's pre-tokenizer (`BertPreTokenizer`): splits at whitespace (dropped) and isolates every
/// punctuation character — ASCII punctuation (including `$ + < = > ^ \` | ~`) and Unicode
/// categories P* — as a word of its own.
public struct BertPreTokenizer: Sendable, Equatable {
    /// The pre-tokenizer (it has no settings).
    public init() {}

    /// The words of `text`.
    public func preTokenize(_ text: String) -> [Substring] {
        var words: [Substring] = []
        var wordStart: String.Index? = nil
        var index = text.unicodeScalars.startIndex
        let scalars = text.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            if scalar.properties.isWhitespace || Self.isPunctuation(scalar) {
                if let start = wordStart { words.append(text[start..<index]) }
                wordStart = nil
                if !scalar.properties.isWhitespace { words.append(text[index..<next]) }
            } else if wordStart == nil {
                wordStart = index
            }
            index = next
        }
        if let start = wordStart { words.append(text[start..<scalars.endIndex]) }
        return words
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            switch scalar.value {
            case 33...47, 58...64, 91...96, 123...126: return true
            default: return false
            }
        }
        switch ReferenceUnicode.category(scalar) {
        case .connectorPunctuation?, .dashPunctuation?, .openPunctuation?, .closePunctuation?, .initialPunctuation?,
             .finalPunctuation?, .otherPunctuation?:
            return true
        default:
            return false
        }
    }
}

/// The Unicode of the reference: Hugging Face's BERT normalizer and pre-tokenizer take general
/// categories from the `unicode_categories` crate and canonical decompositions from
/// `unicode-normalization-alignments`, both with Unicode 8.0 tables, while Swift knows a newer
/// Unicode. (Whitespace and lower-casing come from Rust's standard library, which is current, as
/// Swift's is.) A full scan of every code point against `tokenizers` 0.23 found exactly these
/// differences: characters added after 8.0 have no category and no decomposition there, and seven
/// characters have changed category since.
enum ReferenceUnicode {
    static let version = (major: 8, minor: 0)

    /// Unicode 8.0 categories of the characters whose category changed later.
    private static let changedCategories: [UInt32: Unicode.GeneralCategory] = [
        0x166D: .otherPunctuation,  // CANADIAN SYLLABICS CHI SIGN, So since 12.0
        0x1734: .nonspacingMark,  // HANUNOO SIGN PAMUDPOD, Mc since 14.0
        0x1885: .otherLetter, 0x1886: .otherLetter,  // MONGOLIAN LETTER ALI GALI BALUDA / THREE BALUDA, Mn since 9.0
        0xA9BD: .spacingMark,  // JAVANESE CONSONANT SIGN KERET, Mn since 12.0
        0x111C9: .otherPunctuation,  // SHARADA SANDHI MARK, Mn since 11.0
        0x1171E: .nonspacingMark,  // AHOM CONSONANT SIGN MEDIAL RA, Mc since 14.0
    ]

    /// Whether the reference's tables know the character.
    static func knows(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return (age.major, age.minor) <= version
    }

    /// The general category in Unicode 8.0; `nil` for a character it does not have.
    static func category(_ scalar: Unicode.Scalar) -> Unicode.GeneralCategory? {
        if let changed = changedCategories[scalar.value] { return changed }
        return knows(scalar) ? scalar.properties.generalCategory : nil
    }

    /// NFD with Unicode 8.0's decompositions: newer characters stay as they are.
    static func decomposed(_ scalars: String.UnicodeScalarView) -> String.UnicodeScalarView {
        var result = String.UnicodeScalarView()
        var run = String.UnicodeScalarView()
        for scalar in scalars {
            if knows(scalar) {
                run.append(scalar)
            } else {
                result.append(contentsOf: String(run).decomposedStringWithCanonicalMapping.unicodeScalars)
                run = String.UnicodeScalarView()
                result.append(scalar)
            }
        }
        result.append(contentsOf: String(run).decomposedStringWithCanonicalMapping.unicodeScalars)
        return result
    }
}
