/// ROUGE-L F as CrossFit computes it: `Rouge().get_scores(prediction, answer)["rouge-l"]["f"]` of
/// the `rouge` 1.0.0 package (pltrdy/rouge), best over the gold answers, and 0 for a prediction
/// without a character outside ASCII punctuation.
///
/// The package's ROUGE-L is its "summary level" variant with set semantics:
/// * Sentences: the text split at every `.`; empty pieces dropped; each piece's whitespace runs
///   collapsed to single spaces (so a piece of only whitespace becomes the empty sentence).
/// * Words: each sentence split at spaces; no lowercasing, no stemming, punctuation other than
///   `.` stays part of words (`"cat,"` ≠ `"cat"`); the empty sentence gives the word `""`.
/// * m, n: the number of *distinct* words of the reference and of the prediction.
/// * Overlap: the distinct words in the union, over every (reference sentence, predicted
///   sentence) pair, of one longest common subsequence — the one the package reconstructs, which
///   matters because different LCSs can hold different words.
/// * F = 2·P·R / (P + R + 1e-8) with P = overlap / n, R = overlap / m.
///
/// Where the package raises (a reference with no sentence, i.e. empty or only `.`), the answer
/// scores 0 here; CrossFit would stop with a ValueError. The package's recursion limit (LCS
/// reconstruction deeper than ~1000 words raises RecursionError) is not reproduced.
public enum RougeL {
    /// The best ROUGE-L F of `prediction` (already stripped) over `answers`; 0 without answers.
    static func bestF(prediction: String, answers: [String]) -> Double {
        guard prediction.unicodeScalars.contains(where: { !PythonText.isPunctuation($0) }) else { return 0 }
        var best = 0.0
        for answer in answers { best = max(best, f(prediction: prediction, reference: answer)) }
        return best
    }

    /// The ROUGE-L F of one prediction and one reference (`Rouge().get_scores(hyp, ref)`), 0 when
    /// either has no sentence.
    ///
    /// - Parameters:
    ///   - prediction: the hypothesis text, used as is.
    ///   - reference: the reference text.
    public static func f(prediction: String, reference: String) -> Double {
        var vocabulary: [CodePoints: Int] = [:]
        let hypothesis = sentences(prediction, &vocabulary)
        let reference = sentences(reference, &vocabulary)
        guard !hypothesis.isEmpty, !reference.isEmpty else { return 0 }
        let m = Set(reference.joined()).count
        let n = Set(hypothesis.joined()).count
        var union = Set<Int>()
        for referenceSentence in reference {
            for hypothesisSentence in hypothesis {
                union.formUnion(reconstructedLCS(referenceSentence, hypothesisSentence))
            }
        }
        let overlap = Double(union.count)
        let recall = overlap / Double(m), precision = overlap / Double(n)
        return 2 * ((precision * recall) / (precision + recall + 1e-8))
    }

    /// The sentences of `text` as word ids (equal ids = equal code points).
    private static func sentences(_ text: String, _ vocabulary: inout [CodePoints: Int]) -> [[Int]] {
        text.unicodeScalars.split(separator: ".", omittingEmptySubsequences: true).map { piece in
            let words = PythonText.splitOnWhitespace(piece)
            // " ".join(piece.split()).split(" "): a piece of only whitespace gives one empty word.
            return (words.isEmpty ? [[]] : words).map { word in
                if let id = vocabulary[word] { return id }
                let id = vocabulary.count
                vocabulary[word] = id
                return id
            }
        }
    }

    /// The words of the LCS of `x` (reference) and `y` (hypothesis) that the package's `_recon_lcs`
    /// returns: backtracking from the end, taking matches, moving up only when that cell is
    /// strictly larger than the one to the left.
    private static func reconstructedLCS(_ x: [Int], _ y: [Int]) -> [Int] {
        let width = y.count + 1
        var table = [Int32](repeating: 0, count: (x.count + 1) * width)
        for i in 1..<(x.count + 1) {
            for j in 1..<(y.count + 1) {
                table[i * width + j] = x[i - 1] == y[j - 1]
                    ? table[(i - 1) * width + j - 1] + 1
                    : max(table[(i - 1) * width + j], table[i * width + j - 1])
            }
        }
        var words: [Int] = []
        var (i, j) = (x.count, y.count)
        while i > 0 && j > 0 {
            if x[i - 1] == y[j - 1] {
                words.append(x[i - 1])
                i -= 1
                j -= 1
            } else if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1
            } else {
                j -= 1
            }
        }
        return words
    }
}
