"""Writes the BPE trainer fixtures of Tests/IPTDataTests/Fixtures/trainer/.

1. corpus.txt: a small synthetic corpus (our own text: seeded random sentences over a Zipf-weighted
   word list with accents, CJK, emoji, numbers, contractions and odd spacing).
2. reference.json: what an independent, naive Python trainer learns from corpus.txt (pre-tokens from
   `tokenizers`' ByteLevel pre-tokenizer; all pair counts recomputed before every merge; ties to the
   smallest (left id, right id), ids as BPETrainer assigns them), for two settings. The Swift trainer
   (incremental counts) must learn exactly the same tokens and merges.
3. trained/: ipt-cli train-tokenizer's output for the first setting (vocab.json, merges.txt,
   tokenizer_config.json), run through --ipt-cli.
4. trained_ids.json: the ids that transformers' BartTokenizer and a `tokenizers` Tokenizer give for
   sample texts when they load trained/ (both must agree; the Swift tokenizer must give the same).

Run from the repository root after building ipt-cli (swift build -c release --product ipt-cli):
  /work/main/.venv/bin/python scripts/make_trainer_fixtures.py --ipt-cli .build/release/ipt-cli
"""

import argparse
import json
import os
import random
import subprocess
from collections import Counter

from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import BPE
from transformers import BartTokenizer

SEED = 1234
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "IPTDataTests", "Fixtures", "trainer")
SETTINGS = [{"vocab_size": 500, "min_frequency": 2}, {"vocab_size": 2000, "min_frequency": 6}]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
MASK = "<mask>"


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def make_corpus(rng):
    words = ("the of and to a in is it you that he was for on are with as I his they be at one have this from "
             "or had by hot word but what some we can out other were all there when up use your how said an "
             "each she which do their time if will way about many then them write would like so these her long "
             "make thing see him two has look more day could go come did number sound no most people my over "
             "know water than call first who may down side been now find café naïve résumé façade Zürich "
             "中文 日本語 😀 👍🏽 1999 2024 3.14 42 don't can't it's I'm you're we've they'll he'd "
             "computer fortune cookie wisdom gloss noun verb adjective meaning").split()
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    lines = []
    for _ in range(1500):
        sentence = " ".join(rng.choices(words, weights, k=rng.randint(3, 18)))
        sentence = sentence[0].upper() + sentence[1:] + rng.choice([".", "!", "?", "...", ",", ""])
        if rng.random() < 0.05:
            sentence = "  " + sentence.replace(" ", "   ", 1)
        if rng.random() < 0.05:
            sentence += "\t(" + str(rng.randint(0, 10000)) + ")"
        lines.append(sentence)
    return lines


def naive_train(lines, vocab_size, min_frequency):
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    byte_of = {c: b for b, c in bytes_to_unicode().items()}
    counts = Counter()
    for line in lines:
        assert not any(t in line for t in SPECIALS + [MASK])
        for piece, _ in pre.pre_tokenize_str(line):
            counts[piece] += 1
    first = len(SPECIALS)
    tokens = [bytes([b]) for b in range(256)]
    ids_of = {t: first + i for i, t in enumerate(tokens)}
    words = [[first + byte_of[c] for c in piece] for piece in counts]
    weights = list(counts.values())
    merges = []
    while len(tokens) < vocab_size - len(SPECIALS) - 1:
        pairs = Counter()
        for word, weight in zip(words, weights):
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += weight
        if not pairs:
            break
        (a, b), count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < min_frequency:
            break
        merged = tokens[a - first] + tokens[b - first]
        if merged not in ids_of:
            ids_of[merged] = first + len(tokens)
            tokens.append(merged)
        new = ids_of[merged]
        merges.append((a, b))
        words = [merge_word(word, a, b, new) for word in words]
    table = bytes_to_unicode()

    def spell(token):
        return "".join(table[b] for b in token)

    return {"tokens": SPECIALS + [spell(t) for t in tokens] + [MASK],
            "merges": [spell(tokens[a - first]) + " " + spell(tokens[b - first]) for a, b in merges]}


def merge_word(word, a, b, new):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ipt-cli", required=True, help="the built ipt-cli executable")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)

    lines = make_corpus(rng)
    corpus = os.path.join(OUT, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    reference = [dict(setting, **naive_train(lines, **setting)) for setting in SETTINGS]
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False)
    print("reference merges:", [len(r["merges"]) for r in reference], "tokens:", [len(r["tokens"]) for r in reference])

    trained = os.path.join(OUT, "trained")
    subprocess.run([args.ipt_cli, "train-tokenizer", "--corpus", corpus, "--vocab-size", str(SETTINGS[0]["vocab_size"]),
                    "--min-frequency", str(SETTINGS[0]["min_frequency"]), "--output", trained, "--overwrite"], check=True)

    bart = BartTokenizer.from_pretrained(trained)
    library = Tokenizer(BPE.from_file(os.path.join(trained, "vocab.json"), os.path.join(trained, "merges.txt")))
    library.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    library.decoder = decoders.ByteLevel()
    vocab = json.load(open(os.path.join(trained, "vocab.json"), encoding="utf-8"))
    library.post_processor = processors.RobertaProcessing(("</s>", vocab["</s>"]), ("<s>", vocab["<s>"]))
    library.add_special_tokens([AddedToken(t, special=True, normalized=False, lstrip=(t == MASK)) for t in SPECIALS + [MASK]])
    samples = lines[:300] + ["", " ", "a <mask> b", "x<mask>y", "  <s> hi </s>", "unseen words: zygote quixotic",
                             "Ünïcödé 中文字 👨‍👩‍👧", "tabs\tand\nnewlines", "1234567890", "don't stop"]
    cases = []
    for text in samples:
        ids = bart(text).input_ids
        assert ids == library.encode(text).ids, text
        cases.append({"text": text, "ids": ids, "decoded": bart.decode(ids, skip_special_tokens=True)})
    with open(os.path.join(OUT, "trained_ids.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
