/// CrossFit's (SQuAD's) answer normalisation, `normalize_answer` of `dataloader/metrics.py`:
/// lowercase, drop ASCII punctuation, replace the articles a/an/the (whole words) by a space, and
/// collapse whitespace.
public enum AnswerNormalization {
    /// The normalised text, words joined by single spaces.
    ///
    /// - Parameter text: any answer or prediction.
    public static func normalize(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for (i, word) in words(text).enumerated() {
            if i > 0 { result.append(" ") }
            result.append(contentsOf: word)
        }
        return String(result)
    }

    /// The words of the normalised text (`normalize_answer(text).split()`), as code points.
    static func words(_ text: String) -> [CodePoints] {
        let lowered = PythonText.lower(text.unicodeScalars)
        let withoutPunctuation = lowered.filter { !PythonText.isPunctuation($0) }
        return PythonText.splitOnWhitespace(removingArticles(withoutPunctuation))
    }

    /// `re.sub(r'\b(a|an|the)\b', ' ', text)`: word boundaries as Python's `re` defines them for
    /// `str` patterns; matches do not overlap and are found left to right.
    private static func removingArticles(_ s: CodePoints) -> CodePoints {
        let articles: [CodePoints] = [["a"], ["a", "n"], ["t", "h", "e"]]
        var result: CodePoints = []
        result.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            let boundaryBefore = i == 0 || !PythonText.isWordCharacter(s[i - 1])
            var matchedEnd: Int?
            if boundaryBefore {
                for article in articles {
                    let end = i + article.count
                    guard end <= s.count, Array(s[i..<end]) == article else { continue }
                    if end == s.count || !PythonText.isWordCharacter(s[end]) {
                        matchedEnd = end
                        break
                    }
                }
            }
            if let end = matchedEnd {
                result.append(" ")
                i = end
            } else {
                result.append(s[i])
                i += 1
            }
        }
        return result
    }
}
