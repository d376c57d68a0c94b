"""Reference values of CrossFit's metrics for the Swift tests of IPTData.

Writes two small JSON files into Tests/IPTDataTests/Fixtures/:

* metrics_synthetic.json: test strings of our own (several hundred cases per metric, edge cases
  included: unicode, NFC vs NFD, empty and punctuation-only predictions, empty gold, constant
  predictions, single classes, unparsable numbers) with the score CrossFit computes. Needs no data.
* metrics_crossfit16.json: cases built from the real answers in ../shared/data/crossfit16. Only
  references are stored: a file, a line window and one perturbation code per line (applied to the
  line's first answer to make the prediction; see OPS below), plus the score. The Swift test reads
  the same lines and applies the same codes.

The metric code below is CrossFit's dataloader/metrics.py (INK-USC/CrossFit) transcribed, with
predictions stripped first as the original's data loaders do, scored with numpy, scikit-learn,
scipy and rouge 1.0.0. Where CrossFit would raise, the fixtures follow the Swift implementation's
documented convention, applied here explicitly: a ROUGE reference without any sentence (empty or
only ".") scores 0; Pearson-Correlation is NaN for fewer than two examples and reads an unparsable
gold answer as NaN. NaN is written as null.

Run (from the repository root):
    /work/main/.venv/bin/python scripts/make_metric_fixtures.py
Environment: IPT_SHARED_DIR overrides the location of ../shared.
"""
import json
import os
import random
import re
import string
import unicodedata
import warnings
from collections import Counter

import numpy as np
from rouge import Rouge
from scipy.stats import pearsonr
from sklearn.metrics import f1_score, matthews_corrcoef

warnings.simplefilter("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("IPT_SHARED_DIR") or os.path.join(os.path.dirname(ROOT), "shared")
DATA = os.path.join(SHARED, "data", "crossfit16")
OUT = os.path.join(ROOT, "Tests", "IPTDataTests", "Fixtures")
SEEDS = [100, 13, 21, 42, 87]


# ---- CrossFit dataloader/metrics.py, transcribed -------------------------------------------------

def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()
    return white_space_fix(remove_articles(remove_punc(lower(s))))


def qa_f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def accuracy(prediction, ground_truth):
    return prediction.lower() == ground_truth.lower()


def rouge_l_f(prediction, ground_truth):
    # Convention (see the module docstring): rouge raises ValueError for a reference without
    # sentences; that answer scores 0.
    try:
        return Rouge().get_scores(prediction, ground_truth, avg=True)["rouge-l"]["f"]
    except ValueError:
        return 0.0


def get_rouge_over_list(prediction, groundtruth):
    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)
    if len(remove_punc(prediction)) == 0:
        return 0.0
    if len(groundtruth) == 0:
        return 0
    return np.max([rouge_l_f(prediction, gt) for gt in groundtruth])


def get_accruacy_over_list(prediction, groundtruth):
    if len(groundtruth) == 0:
        return 0
    return np.max([accuracy(prediction, gt) for gt in groundtruth])


def get_f1_over_list(prediction, groundtruth):
    if len(groundtruth) == 0:
        return 0
    return np.max([qa_f1_score(prediction, gt) for gt in groundtruth])


def get_exact_match_over_list(prediction, groundtruth):
    if len(groundtruth) == 0:
        return 0
    return np.max([normalize_answer(prediction) == normalize_answer(gt) for gt in groundtruth])


def get_matthews_corr(data, predictions):
    new_predictions = [1.0 if p.strip() == "acceptable" else 0.0 for p in predictions]
    new_gold = [1.0 if dp[1][0] == "acceptable" else 0.0 for dp in data]
    return matthews_corrcoef(new_gold, new_predictions)


def cast_to_float(values):
    out = []
    for v in values:
        try:
            out.append(float(v.strip()))
        except ValueError:
            out.append(float('NaN'))
    return out


def evaluate(predictions, data, metric):
    """CrossFit's evaluate(), after the data loader's `prediction.strip()`."""
    assert len(predictions) == len(data)
    predictions = [p.strip() for p in predictions]
    if metric == "EM":
        return np.mean([get_exact_match_over_list(p, dp[1]) for p, dp in zip(predictions, data)])
    if metric == "ACC":
        return np.mean([get_accruacy_over_list(p, dp[1]) for p, dp in zip(predictions, data)])
    if metric == "QA-F1":
        return np.mean([get_f1_over_list(p, dp[1]) for p, dp in zip(predictions, data)])
    if metric == "Classification-F1":
        return f1_score([dp[1][0] for dp in data], predictions, average="macro")
    if metric == "Matthew-Correlation":
        return get_matthews_corr(data, predictions)
    if metric == "Pearson-Correlation":
        # Convention: an unparsable gold answer is NaN (CrossFit's float() would raise), and
        # fewer than two examples give NaN (scipy raises).
        if len(data) < 2:
            return float('nan')
        return pearsonr(cast_to_float([dp[1][0] for dp in data]), cast_to_float(predictions))[0]
    if metric == "Rouge-L":
        return np.mean([get_rouge_over_list(p, dp[1]) for p, dp in zip(predictions, data)])
    raise ValueError(metric)


def as_json_number(x):
    x = float(x)
    return None if x != x else x


# ---- synthetic cases ---------------------------------------------------------------------------

WORDS = [
    "river", "stone", "Blue", "quick", "Paris", "0.5", "42", "naïve", "café", "Straße", "ΟΔΟΣ",
    "İstanbul", "東京", "😀", "x-ray", "U.S.", "don't", "e\u0301te\u0301", "\u00e9t\u00e9", "an", "a",
    "the", "The", "A", "An", "theater", "another", "½", "٣", "Ⅻ", "ǅemal", "a\u0301", "ﬁsh", "Σίσυφος",
    "well-known", "(draft)", "#tag", "@user", "_under_", "C++", "3.14", "e.g.", "...", "—", "«quote»",
    # Articles glued to numeric characters (word characters for Python's re) and to a combining mark (not one).
    "a½", "the٣", "Ⅻan", "a²", "the\u0301", "an\u20dd",
]
SPACES = [" ", "  ", "\t", "\u00a0", "\u2003", "\u3000", " \n "]


def phrase(rng, lo=1, hi=4):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def perturb(rng, text):
    """A prediction derived from a gold answer: one of the ways generated answers go wrong."""
    op = rng.randrange(17)
    words = text.split(" ")
    if op == 0:
        return text
    if op == 1:
        return text.upper()
    if op == 2:
        return text.lower()
    if op == 3:
        return text + rng.choice([".", "!", " ?", ",", "..."])
    if op == 4:
        return rng.choice(["the ", "a ", "An ", "The"]) + text
    if op == 5:
        return text + " " + phrase(rng, 1, 3)
    if op == 6:
        return " ".join(words[:-1])
    if op == 7:
        return ""
    if op == 8:
        return rng.choice(SPACES) + text + rng.choice(SPACES)
    if op == 9:
        return rng.choice(["...", "!?", ".", "-", "  ", " . ", ". .", "'"])
    if op == 10:
        return unicodedata.normalize(rng.choice(["NFC", "NFD"]), text)
    if op == 11:
        rng.shuffle(words)
        return " ".join(words)
    if op == 12:
        return text.replace(" ", rng.choice(SPACES))
    if op == 13:
        return text.replace(" ", ". ")
    if op == 14:
        return phrase(rng)
    if op == 15:
        return ", ".join(words)
    return text + ". " + text


def synthetic_text_cases(rng, metric, count):
    cases = []
    for i in range(count):
        n = 1 if i < count * 3 // 4 else rng.randint(2, 6)
        predictions, references = [], []
        for _ in range(n):
            kind = rng.randrange(10)
            if kind == 0:
                answers = []
            elif kind == 1:
                answers = [rng.choice(["", ".", "...", " ", "a", "the"])]
            else:
                answers = [phrase(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
            source = answers[rng.randrange(len(answers))] if answers and rng.random() < 0.8 else phrase(rng)
            predictions.append(perturb(rng, source))
            references.append(answers)
        score = evaluate(predictions, [("", r) for r in references], metric)
        cases.append({"predictions": predictions, "references": references, "score": as_json_number(score)})
    return cases


def synthetic_rouge_sentence_cases(rng, count):
    """Several sentences over a five-word vocabulary: many equally long LCSs, so the union over
    sentence pairs depends on which LCS rouge reconstructs."""
    def text():
        return ". ".join(" ".join(rng.choice("pqrst") for _ in range(rng.randint(2, 6)))
                         for _ in range(rng.randint(1, 4)))
    cases = []
    for _ in range(count):
        predictions, references = [text()], [[text()]]
        score = evaluate(predictions, [("", r) for r in references], "Rouge-L")
        cases.append({"predictions": predictions, "references": references, "score": as_json_number(score)})
    return cases


LABEL_SETS = [
    ["yes", "no"], ["positive", "negative"], ["alpha", "beta", "gamma"],
    ["entailment", "neutral", "contradiction"], ["Sci/Tech", "World", "Sports", "Business"],
    ["😀", "😂", "❤", "🇺🇸"], ["caf\u00e9", "cafe\u0301"], ["Yes", "yes"], ["", "x"],
    ["acceptable", "unacceptable"], ["1", "2", "3", "4", "5"],
]


def synthetic_label_cases(rng, metric, count):
    cases = []
    for i in range(count):
        labels = rng.choice(LABEL_SETS) if metric != "Matthew-Correlation" or rng.random() < 0.2 \
            else ["acceptable", "unacceptable"]
        n = rng.choice([1, 2, 3, 5, 8, 12, 16])
        style = i % 8
        gold = [rng.choice(labels) for _ in range(n)]
        if style == 0:      # a single class in the gold labels
            gold = [labels[0]] * n
        if style == 1:      # constant predictions
            predictions = [rng.choice(labels)] * n
        elif style == 2:    # all wrong
            predictions = [next(l for l in labels + ["none"] if l != g) for g in gold]
        elif style == 3:    # all right
            predictions = list(gold)
        else:               # noisy: mostly right, some other label, invalid, padded, recased
            predictions = []
            for g in gold:
                r = rng.random()
                if r < 0.5:
                    predictions.append(g)
                elif r < 0.7:
                    predictions.append(rng.choice(labels))
                elif r < 0.8:
                    predictions.append(rng.choice(["maybe", "", "n/a", "Acceptable", "unknown"]))
                elif r < 0.9:
                    predictions.append(rng.choice(SPACES) + g + rng.choice(SPACES))
                else:
                    predictions.append(g.upper())
        references = [[g] + ([rng.choice(labels)] if rng.random() < 0.1 else []) for g in gold]
        if metric == "Matthew-Correlation" and rng.random() < 0.1:
            references[0] = [" acceptable"]  # gold answers are not stripped
        score = evaluate(predictions, [("", r) for r in references], metric)
        cases.append({"predictions": predictions, "references": references, "score": as_json_number(score)})
    return cases


VALID_NUMBERS = ["0.5", "-2.25", "1e1", "1_0", " 3 ", "٣", "+7", ".5", "5.", "\u00a04\u2003", "2.000"]
INVALID_NUMBERS = ["inf", "-Infinity", "nan", "NaN", "1__0", "abc", "", "3,5", "0x10", "1e", "四"]


def synthetic_pearson_cases(rng, count):
    cases = []
    for i in range(count):
        n = rng.choice([1, 2, 2, 3, 5, 8, 12, 16])
        style = i % 12
        gold = [str(rng.randint(1, 5)) for _ in range(n)]
        if style == 0:      # an unparsable or non-finite value somewhere
            predictions = [str(rng.uniform(0, 6)) for _ in gold]
            if rng.random() < 0.5:
                gold[rng.randrange(n)] = rng.choice(INVALID_NUMBERS)
            else:
                predictions[rng.randrange(n)] = rng.choice(INVALID_NUMBERS)
        elif style == 1:    # constant predictions
            predictions = [gold[0]] * n
        elif style == 2:    # constant gold
            gold = ["3"] * n
            predictions = [str(rng.randint(1, 5)) for _ in range(n)]
        else:               # noisy predictions in Python's various number spellings
            predictions = [str(float(g) + rng.choice([0, 0, 1, -1, 0.5, -0.25])) if rng.random() < 0.8
                           else rng.choice(VALID_NUMBERS) for g in gold]
        references = [[g] for g in gold]
        score = evaluate(predictions, [("", r) for r in references], "Pearson-Correlation")
        cases.append({"predictions": predictions, "references": references, "score": as_json_number(score)})
    return cases


# ---- cases from the real answers of crossfit16 ---------------------------------------------------

# One code per line, applied to the line's first answer to make the prediction.
OPS = {
    "k": "keep",
    "u": "upper-case (str.upper)",
    "l": "lower-case (str.lower)",
    "p": "append '.'",
    "a": "prepend 'the '",
    "x": "append ' indeed'",
    "e": "empty string",
    "s": "surround with '  ' and ' \\t'",
    "d": "drop the last space-separated word (split at ' ')",
    "o": "another answer: the next option of the task in tasks.json (classification; the first "
         "option when the answer is not an option), else the first answer of the next line of the "
         "window (cyclically)",
    "i": "the invalid label 'maybe'",
}


def apply_op(op, answer, options, next_answer):
    if op == "k":
        return answer
    if op == "u":
        return answer.upper()
    if op == "l":
        return answer.lower()
    if op == "p":
        return answer + "."
    if op == "a":
        return "the " + answer
    if op == "x":
        return answer + " indeed"
    if op == "e":
        return ""
    if op == "s":
        return "  " + answer + " \t"
    if op == "d":
        return " ".join(answer.split(" ")[:-1])
    if op == "o":
        if options:
            return options[(options.index(answer) + 1) % len(options)] if answer in options else options[0]
        return next_answer
    if op == "i":
        return "maybe"
    raise ValueError(op)


RECIPES = {
    "exact": "k",
    "mostly-right": "kkkkkkuplsoxaed",
    "wrong-labels": "oooooik",
    "surface": "uplsaxdk",
    "all-wrong": "oi",
    "empty": "ek",
}


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [(d[0], d[1:]) for d in (line.strip().split("\t") for line in f.readlines())]


def crossfit_cases(rng):
    catalog = json.load(open(os.path.join(DATA, "tasks.json"), encoding="utf-8"))
    text_tasks = sorted(t for t, e in catalog.items() if e["kind"] == "text-to-text")
    plan = {  # metric -> (tasks, recipes per (task, seed))
        "EM": ([t for t in sorted(catalog) if catalog[t]["metric"] == "EM"], ["mostly-right", "surface", "wrong-labels"]),
        "ACC": ([t for t in sorted(catalog) if catalog[t]["metric"] == "ACC"], ["mostly-right", "surface"]),
        "QA-F1": (sorted(set(text_tasks) | {t for t in catalog if catalog[t]["metric"] == "QA-F1"}), ["mostly-right"]),
        "Classification-F1": ([t for t in sorted(catalog) if catalog[t]["metric"] == "Classification-F1"],
                              ["mostly-right", "wrong-labels"]),
        "Matthew-Correlation": (["glue-cola"], list(RECIPES)),
        "Rouge-L": (text_tasks, ["surface"]),
    }
    cases = []
    for metric, (tasks, recipes) in plan.items():
        for task in tasks:
            options = catalog[task]["options"]
            for seed in SEEDS:
                for part in ["dev", "train"]:
                    if metric != "Matthew-Correlation" and part == "train":
                        continue
                    rel = f"{task}/{task}_16_{seed}_{part}.tsv"
                    data = read_tsv(os.path.join(DATA, rel))
                    for recipe in recipes:
                        ops = "".join(rng.choice(RECIPES[recipe]) for _ in data)
                        predictions = [apply_op(op, dp[1][0], options, data[(i + 1) % len(data)][1][0])
                                       for i, (op, dp) in enumerate(zip(ops, data))]
                        cases.append({"metric": metric, "file": rel, "first": 1, "count": len(data), "ops": ops,
                                      "score": as_json_number(evaluate(predictions, data, metric))})
    # Windows of large test files: many more examples per case, and glue-cola's real test set.
    for task, metric, windows in [("glue-cola", "Matthew-Correlation", 40), ("glue-rte", "ACC", 8),
                                  ("ag_news", "Classification-F1", 8), ("kilt_nq", "EM", 8),
                                  ("squad-no_context", "QA-F1", 8), ("wikisql", "Rouge-L", 8)]:
        rel = f"{task}/{task}_16_100_test.tsv"
        data = read_tsv(os.path.join(DATA, rel))
        for w in range(windows):
            count = rng.choice([16, 64, 128])
            first = rng.randrange(len(data) - count) + 1
            window = data[first - 1:first - 1 + count]
            ops = "".join(rng.choice(RECIPES[rng.choice(list(RECIPES))]) for _ in window)
            predictions = [apply_op(op, dp[1][0], catalog[task]["options"], window[(i + 1) % count][1][0])
                           for i, (op, dp) in enumerate(zip(ops, window))]
            cases.append({"metric": metric, "file": rel, "first": first, "count": count, "ops": ops,
                          "score": as_json_number(evaluate(predictions, window, metric))})
    return cases


def main():
    rng = random.Random(20240607)
    synthetic = []
    for metric in ["EM", "ACC", "QA-F1", "Rouge-L"]:
        synthetic += [dict(metric=metric, **c) for c in synthetic_text_cases(rng, metric, 250)]
    synthetic += [dict(metric="Rouge-L", **c) for c in synthetic_rouge_sentence_cases(rng, 60)]
    for metric in ["Classification-F1", "Matthew-Correlation"]:
        synthetic += [dict(metric=metric, **c) for c in synthetic_label_cases(rng, metric, 250)]
    synthetic += [dict(metric="Pearson-Correlation", **c) for c in synthetic_pearson_cases(rng, 250)]
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "metrics_synthetic.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": synthetic}, f, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    real = crossfit_cases(rng)
    with open(os.path.join(OUT, "metrics_crossfit16.json"), "w", encoding="utf-8") as f:
        json.dump({"ops": OPS, "cases": real}, f, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    print(f"{len(synthetic)} synthetic cases, {len(real)} crossfit16 cases")
    for name, cases in [("synthetic", synthetic), ("crossfit16", real)]:
        print(name, dict(Counter(c["metric"] for c in cases)))


if __name__ == "__main__":
    main()
