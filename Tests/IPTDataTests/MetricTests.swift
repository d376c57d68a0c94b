import Foundation
import IPTData
import Testing

/// Targeted checks of CrossFit's metric semantics. Expected values were computed with the Python
/// reference (CrossFit's functions as transcribed in scripts/make_metric_fixtures.py).
@Suite("Metric semantics")
struct MetricTests {
    @Test func answerNormalization() {
        #expect(AnswerNormalization.normalize("The  Quick, brown fox!") == "quick brown fox")
        // Final sigma; an article before a numeric character (a word character) stays; an article
        // before a combining mark (not a word character) goes; "an-other" loses its hyphen first.
        #expect(AnswerNormalization.normalize("\u{39F}\u{394}\u{39F}\u{3A3} a\u{BD} the\u{301} an-other")
            == "\u{3BF}\u{3B4}\u{3BF}\u{3C2} a\u{BD} \u{301} another")
    }

    @Test func stringsAreComparedByCodePoints() {
        // Swift's String == would call NFC "Café" and NFD "Cafe\u{301}" equal; Python does not.
        #expect(Metric.accuracy.score(predictions: ["Caf\u{E9}"], references: [["cafe\u{301}"]]) == 0)
        #expect(Metric.accuracy.score(predictions: ["Caf\u{E9}"], references: [["caf\u{E9}"]]) == 1)
        #expect(Metric.classificationF1.score(predictions: ["caf\u{E9}", "cafe\u{301}"],
                                              references: [["cafe\u{301}"], ["caf\u{E9}"]]) == 0)
    }

    @Test func corpusValues() {
        // Classes a, b, c: F1 2/3, 1/2, 0.
        let f1 = Metric.classificationF1.score(predictions: ["a", "b", "b", "c"], references: [["a"], ["a"], ["b"], ["b"]])
        #expect(abs(f1 - 0.38888888888888884) < 1e-12)
        #expect(abs(Metric.qaF1.score(predictions: ["the cat sat"], references: [["a cat sat down", "x"]]) - 0.8) < 1e-12)
        #expect(Metric.rougeL.score(predictions: ["..."], references: [["..."]]) == 0)
        #expect(abs(Metric.rougeL.score(predictions: ["the cat. sat"], references: [["the cat sat"]]) - 0.999999995) < 1e-12)
        let r = Metric.pearsonCorrelation.score(predictions: ["1", "2", "3"], references: [["1"], ["2"], ["4"]])
        #expect(abs(r - 0.9819805060619655) < 1e-12)
    }

    @Test func edgeCases() {
        #expect(Metric.exactMatch.score(predictions: [], references: []).isNaN)
        #expect(Metric.classificationF1.score(predictions: [], references: []).isNaN)
        #expect(Metric.exactMatch.score(predictions: ["x"], references: [[]]) == 0)
        #expect(Metric.pearsonCorrelation.score(predictions: ["1"], references: [["1"]]).isNaN)
        #expect(Metric.pearsonCorrelation.score(predictions: ["2", "2"], references: [["1"], ["3"]]).isNaN)
        // sklearn's MCC is 0 when one side is constant.
        #expect(Metric.matthewsCorrelation.score(predictions: ["acceptable", "acceptable"],
                                                 references: [["acceptable"], ["unacceptable"]]) == 0)
    }

    @Test func perExampleScores() {
        #expect(Metric.exactMatch.score(prediction: " The answer. ", answers: ["answer", "x"]) == 1)
        #expect(Metric.accuracy.score(prediction: "the answer", answers: ["answer"]) == 0)
        #expect(Metric.classificationF1.score(prediction: "a", answers: ["a"]) == nil)
    }

    @Test func namesAndMeans() throws {
        #expect(try Metric(named: "Rouge-L", source: "test") == .rougeL)
        #expect(throws: DataError.unknownMetric("rouge", source: "flag")) { _ = try Metric(named: "rouge", source: "flag") }
        #expect(Metric.meanOverTasks(["a": 0.5, "b": 1.0, "c": 0.0]) == 0.5)
        #expect(Metric.meanOverTasks([:]).isNaN)
        #expect(Metric.meanOverTasks(["a": 0.5, "b": .nan]).isNaN)
    }
}

@Suite("Majority baseline")
struct MajorityBaselineTests {
    @Test func predictsTheMostFrequentAnswer() {
        let references = [["yes"], ["no"], ["yes"], ["yes"], ["maybe"]]
        #expect(Metric.accuracy.majorityBaseline(references: references) == 0.6)
        // Macro F1 of a constant "yes": F1(yes) = 2*0.6/(1.6) = 0.75, the other classes 0.
        #expect(abs(Metric.classificationF1.majorityBaseline(references: references) - 0.75 / 3) < 1e-12)
        // Ties go to the answer that sorts first.
        #expect(Metric.accuracy.majorityBaseline(references: [["b"], ["a"]]) == 0.5)
        #expect(Metric.accuracy.majorityBaseline(references: []).isNaN)
    }
}
