"""Writes the byte-level BPE tokenizer fixtures of Tests/IPTDataTests/Fixtures/tokenizer/.

Reference: Hugging Face transformers' BartTokenizerFast / BartTokenizer (in transformers 5 both are
the tokenizers-backed RobertaTokenizer) and GPT2TokenizerFast, loaded from the real vocabularies in
../shared/tokenizers, plus a `tokenizers`-library Tokenizer built from the same files the way the
Hub's facebook/bart-base tokenizer.json is (`<mask>` with lstrip=True), to test the tokenizer.json
path. Only ids, (file, line) references, digests and our own synthetic texts are written; no text of
../shared is.

Files written:
  scalar_classes.txt     how the GPT-2 pattern classes every Unicode scalar (L letter, N number,
                         S whitespace, O other), as runs "<first scalar hex> <class>", probed through
                         tokenizers' ByteLevel pre-tokenizer (Oniguruma's Unicode tables)
  crossfit.json          a few thousand CrossFit lines (two of every file + lines chosen for non-ASCII
                         and odd whitespace) as (file, line) with, per tokenizer, the id count and an
                         FNV-1a digest of the ids (`ids_digest`), BART's decodings digest, and the
                         full ids of a subset of short lines (so a failure can show the difference)
  synthetic.json         edge-case texts with their pre-tokens (byte-level spelling), their ids under
                         every tokenizer and their decodings (long ids lists and texts as count + digest)

Digests: FNV-1a 64 of UTF-8, as 16 hex digits; ids are digested as their decimal values joined by
",", decodings as the three decodings (keep specials, skip specials, skip + clean-up) joined by NUL.
  decode.json            decodings of hand-made id lists (partial UTF-8, specials, unknown ids)
  batches.json           batch encodings with truncation and padding, with attention masks
  tiny/                  a tiny byte-level BPE trained by `tokenizers` on random syllables (no
                         ../shared needed): its tokenizer.json, vocab.json + merges.txt, two
                         tokenizer.json variants whose vocabulary lacks some bytes (unk_token, with
                         and without fuse_unk), and cases.json: random strings with their ids
  bart_tokenizer_template.json               tokenizer.json as `tokenizers` saves it, vocab and
  bart_tokenizer_prefix_space_template.json  merges emptied (tests fill them from ../shared); the
                                             second with add_prefix_space=True

Run from the repository root (reads ../shared, or --shared DIR):
  /work/main/.venv/bin/python scripts/make_tokenizer_fixtures.py
"""

import argparse
import glob
import json
import os
import random
import tempfile
import unicodedata

from tokenizers import AddedToken, ByteLevelBPETokenizer, Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import BPE
from transformers import BartTokenizer, BartTokenizerFast, GPT2TokenizerFast

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "IPTDataTests", "Fixtures", "tokenizer")


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def ids_digest(ids):
    return fnv1a64(",".join(str(i) for i in ids))


def dump(name, value):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def scalar_classes():
    probe = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)

    def pieces(text):
        return len(probe.pre_tokenize_str(text))

    runs, previous = [], None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # not scalars; they keep the class of the run before them
        c = chr(cp)
        if pieces("a" + c) == 1:
            kind = "L"
        elif pieces("1" + c) == 1:
            kind = "N"
        elif pieces("!" + c) == 1:
            kind = "O"
        else:
            kind = "S"
        if kind != previous:
            runs.append(f"{cp:X} {kind}")
            previous = kind
    path = os.path.join(OUT, "scalar_classes.txt")
    with open(path, "w") as f:
        f.write("# GPT-2 pattern class of every Unicode scalar from tokenizers (Oniguruma): runs '<first hex> <L|N|S|O>'\n")
        f.write("\n".join(runs) + "\n")
    print(f"wrote {path} ({len(runs)} runs)")


def hub_style_tokenizer(folder, add_prefix_space):
    """A tokenizers Tokenizer as the Hub's facebook/bart-base tokenizer.json defines it."""
    tok = Tokenizer(BPE.from_file(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=add_prefix_space)
    tok.add_special_tokens([AddedToken("<s>", special=True, normalized=False),
                            AddedToken("<pad>", special=True, normalized=False),
                            AddedToken("</s>", special=True, normalized=False),
                            AddedToken("<unk>", special=True, normalized=False),
                            AddedToken("<mask>", special=True, normalized=False, lstrip=True)])
    return tok


def write_template(tok, folder, name):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tokenizer.json")
        tok.save(path)
        saved = json.load(open(path, encoding="utf-8"))
    vocab = json.load(open(os.path.join(folder, "vocab.json"), encoding="utf-8"))
    merges = [line.split(" ") for line in open(os.path.join(folder, "merges.txt"), encoding="utf-8").read().split("\n")
              if line and not line.startswith("#version")]
    # The template is only meaningful if filling it from the files gives back what tokenizers saved.
    assert saved["model"]["vocab"] == vocab
    assert saved["model"]["merges"] == merges
    saved["model"]["vocab"] = {}
    saved["model"]["merges"] = []
    dump(name, saved)


def tiny_fixtures(rng):
    """A small byte-level BPE whose merges overlap a lot, to pin down the merge order without ../shared."""
    folder = os.path.join(OUT, "tiny")
    os.makedirs(folder, exist_ok=True)
    syllables = ["ab", "abc", "bca", "cab", "a", "b", "c", "aa", "bb", "cc", "ba", "cba", "x1", "'s", ".."]
    corpus = [" ".join("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(12))
              for _ in range(400)]
    trained = ByteLevelBPETokenizer()
    trained.train_from_iterator(corpus, vocab_size=256 + 90, min_frequency=2, show_progress=False)
    trained.save(os.path.join(folder, "tokenizer.json"))
    trained.save_model(folder)  # vocab.json + merges.txt
    model = json.load(open(os.path.join(folder, "tokenizer.json"), encoding="utf-8"))["model"]
    vocab, merges = model["vocab"], [tuple(m) for m in model["merges"]]

    # Variants without the byte characters of x, y, z and q: those bytes become <unk>.
    dropped = set("xyzq")
    unk_vocab = {}
    for token in vocab:
        if not set(token) & dropped:
            unk_vocab[token] = len(unk_vocab)
    unk_vocab["<unk>"] = len(unk_vocab)
    unk_merges = [m for m in merges if m[0] in unk_vocab and m[1] in unk_vocab and m[0] + m[1] in unk_vocab]
    variants = {"tokenizer": Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))}
    for name, fuse in [("unk", False), ("unk_fused", True)]:
        tok = Tokenizer(BPE(unk_vocab, unk_merges, unk_token="<unk>", fuse_unk=fuse))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.save(os.path.join(folder, f"{name}.json"))
        variants[name] = tok

    alphabet = "abcabcabc xyzq1.'é中"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(300)]
    texts += ["abcabcabcabc" * 40, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "xxxyyyzzz", "qxa byz"]
    cases = [{"text": t, **{name: tok.encode(t).ids for name, tok in variants.items()}} for t in texts]
    with open(os.path.join(folder, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {folder} ({len(vocab)} tokens, {len(merges)} merges, {len(cases)} cases)")


def read_lines(path):
    # Split on "\n" only (Python's splitlines would also split on \x1c, \x85, \u2028...).
    return open(path, "rb").read().decode("utf-8").split("\n")


def choose_crossfit_lines(root, rng):
    files = sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "*", "*.tsv")))
    chosen = {}  # (file index, line number) -> reason

    # 1. A uniform sample: two lines of every file (train, dev, test of every task and seed).
    for fi, rel in enumerate(files):
        lines = [i for i, line in enumerate(read_lines(os.path.join(root, rel))) if line]
        for i in rng.sample(lines, min(2, len(lines))):
            chosen[(fi, i + 1)] = "sample"

    # 2. Lines with rare features: for each feature, up to 40 lines (shorter ones preferred).
    def features(line):
        found = set()
        if "\r" in line: found.add("carriage return")
        if "  " in line: found.add("double space")
        if "’" in line: found.add("curly apostrophe")
        if "<mask>" in line or "<s>" in line or "</s>" in line: found.add("special token text")
        for ch in set(line):
            o = ord(ch)
            if o < 32 and ch not in "\t": found.add("control")
            if o > 127:
                found.add("category " + unicodedata.category(ch))
                if o >= 0x1F000: found.add("emoji")
                if 0x4E00 <= o <= 0x9FFF or 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7AF: found.add("CJK")
                if 0x0600 <= o <= 0x06FF: found.add("Arabic")
                if 0x0900 <= o <= 0x097F: found.add("Devanagari")
                if ch == "\u200d": found.add("ZWJ")
                if unicodedata.category(ch) == "Zs": found.add(f"space U+{o:04X}")
        return found

    by_feature = {}
    for fi, rel in enumerate(files):
        for i, line in enumerate(read_lines(os.path.join(root, rel))):
            if line and len(line) <= 600:
                for feature in features(line):
                    by_feature.setdefault(feature, []).append((fi, i + 1))
    for feature in sorted(by_feature):
        candidates = by_feature[feature]
        for ref in rng.sample(candidates, min(40, len(candidates))):
            chosen.setdefault(ref, feature)
    return files, sorted(chosen)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    bart_dir = os.path.join(args.shared, "tokenizers", "bart-base")
    gpt2_dir = os.path.join(args.shared, "tokenizers", "gpt2")
    crossfit = os.path.join(args.shared, "data", "crossfit16")
    rng = random.Random(SEED)

    bart = BartTokenizerFast.from_pretrained(bart_dir)
    bart_slow_name = BartTokenizer.from_pretrained(bart_dir)
    gpt2 = GPT2TokenizerFast.from_pretrained(gpt2_dir)
    hub = hub_style_tokenizer(bart_dir, add_prefix_space=False)
    hub_prefix = hub_style_tokenizer(bart_dir, add_prefix_space=True)
    bart.clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output = True

    assert bart("A long paragraph for summarization.").input_ids == [0, 250, 251, 17818, 13, 39186, 1938, 4, 2]
    assert gpt2("Hello world").input_ids == [15496, 995]

    def decodings(ids):
        return [bart.decode(ids, skip_special_tokens=False),
                bart.decode(ids, skip_special_tokens=True),
                bart.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)]

    scalar_classes()
    tiny_fixtures(rng)
    write_template(hub, bart_dir, "bart_tokenizer_template.json")
    write_template(hub_prefix, bart_dir, "bart_tokenizer_prefix_space_template.json")

    # CrossFit lines.
    files, refs = choose_crossfit_lines(crossfit, rng)
    texts_by_file = {}

    def line_text(fi, line_number):
        if fi not in texts_by_file:
            texts_by_file.clear()
            texts_by_file[fi] = read_lines(os.path.join(crossfit, files[fi]))
        return texts_by_file[fi][line_number - 1]

    rows, short_rows = [], []
    for fi, line_number in refs:
        text = line_text(fi, line_number)
        ids = bart(text).input_ids
        assert ids == bart_slow_name(text).input_ids
        rows.append([fi, line_number, len(ids), ids_digest(ids), fnv1a64("\0".join(decodings(ids)))])
        if len(ids) <= 48:
            short_rows.append([fi, line_number, ids])
    other_rows = {"gpt2": [], "tokenizer_json": []}
    for fi, line_number, *_ in sorted(rng.sample(rows, 600)):
        text = line_text(fi, line_number)
        for name, ids in [("gpt2", gpt2(text).input_ids), ("tokenizer_json", hub.encode(text).ids)]:
            other_rows[name].append([fi, line_number, len(ids), ids_digest(ids)])
    dump("crossfit.json", {"files": files, "bart": rows, "gpt2": other_rows["gpt2"],
                           "tokenizer_json": other_rows["tokenizer_json"],
                           "bart_ids": sorted(rng.sample(short_rows, 300))})

    # Synthetic edge cases (our own texts).
    long_line = " ".join(f"word{i} 数{i % 10} café, don't {'x' * (i % 17)}" for i in range(400))[:5000]
    texts = [
        "", " ", "   ", "\t", "\n", "\r\n", "a\tb\nc\r\nd", "  leading", "trailing  ", "multiple   spaces   between",
        "x \t y", " \t\n x", "\u00a0nbsp\u00a0word", "a\u2002b\u3000c\u2009d\u200ae", "\u200b zero width \u200b",
        "\u1680ogham space", "e\u0301 combining", "\u0300leading combining", "café naïve résumé",
        "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "👍🏽 thumbs", "emoji😀inside", "🇺🇸🇬🇧 flags", "中文字符测试", "日本語のテキスト",
        "한국어 텍스트", "mixed中文and English", "مرحبا بالعالم", "नमस्ते दुनिया", "abc123def", "3.14159 and 2,000,000",
        "1st 2nd 3rd", "Ⅻ roman ½ ¾", "١٢٣ arabic digits", "ＡＢＣ１２３ fullwidth", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math", "Ǆ titlecase ǅ",
        "ªº modifier ˆ", "Ⓐ circled", "don't can't I'm you're we've they'll he'd", "DON'T I'M", "don’t I’m",
        "'s 'S 'll ''s 'x", "it's", " 're", "a<mask>b", " <s>", "<s>a</s>", "<mask>", "x <mask> y", "x  <mask>  y",
        "x\t<mask>\ty", "<pad><unk>", "<s", "</s >", "<<mask>>", "<mask><mask>", "<|endoftext|>",
        "hello<|endoftext|>world", "\x00\x01\x7f controls", "\ufeffBOM", "\uffff\U0010ffff private", "\ue000 private use",
        "\x1c\x1d\x1e\x1f separators", "\x85 next line", "a\u2028b\u2029c", "\x0b\x0c", "A long paragraph for summarization.",
        " positive", "Hello world", "? ! . , ; :", "hello , world . it 's fine ! isn 't it ?", "U.S.A. e.g. i.e.",
        "$100 €50 £30 ¥20", "http://example.com/path?q=1&r=2", "email@example.com #hashtag @mention",
        "----====****", "\"quoted\" 'single'", "(parens) [brackets] {braces}", "\\x80\\xff literal", "� replacement",
        "Ã© mojibake", "end with space ", "end with newline\n", "  \n  \n", "a" * 3000,
        "supercalifragilisticexpialidocious" * 50, "ab" * 1000, long_line,
    ]
    def compact_ids(ids):
        return ids if len(ids) <= 200 else {"count": len(ids), "digest": ids_digest(ids)}

    synthetic = []
    for text in texts:
        ids = bart(text).input_ids
        decoded = decodings(ids)
        synthetic.append({
            "text": text,
            "bart": compact_ids(ids),
            "bart_no_special": compact_ids(bart(text, add_special_tokens=False).input_ids),
            "gpt2": compact_ids(gpt2(text).input_ids),
            "tokenizer_json": compact_ids(hub.encode(text).ids),
            "prefix_space": compact_ids(hub_prefix.encode(text).ids),
            "pre_tokens": [piece for piece, _ in hub.pre_tokenizer.pre_tokenize_str(text)] if len(text) <= 200 else None,
            "decode": decoded if len(text) <= 200 else {"digest": fnv1a64("\0".join(decoded))},
        })
    dump("synthetic.json", synthetic)

    # Decoding of hand-made id lists.
    cjk = bart("中文字符测试", add_special_tokens=False).input_ids
    emoji = bart("👨‍👩‍👧‍👦", add_special_tokens=False).input_ids
    id_lists = [
        [0, 50264, 2, 1, 3], [0, 1, 1], cjk[:1], cjk[1:], cjk[::2], emoji[:3], emoji[3:], [cjk[0], 0, cjk[1]],
        [250, 99999, 251], [], [2, 2, 2], [4, 6, 116, 328], bart("hello , world . I 'm sure it 's n't ' s",
                                                                add_special_tokens=False).input_ids,
    ]
    dump("decode.json", [{"ids": ids, "decode": decodings(ids)} for ids in id_lists])

    # Batches with truncation and padding.
    batch_texts = ["Hello world", "A long paragraph for summarization.", "", "x <mask> y 中文", "a" * 50]
    cases = []
    for max_length, padding, truncation in [(None, "longest", False), (6, "max_length", True), (10, "longest", True),
                                            (2, "max_length", True), (40, "max_length", True)]:
        encoded = bart(batch_texts, max_length=max_length, padding=padding, truncation=truncation)
        cases.append({"texts": batch_texts, "max_length": max_length, "padding": padding,
                      "input_ids": encoded.input_ids, "attention_mask": encoded.attention_mask})
    dump("batches.json", cases)


if __name__ == "__main__":
    main()
