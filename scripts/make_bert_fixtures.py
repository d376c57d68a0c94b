"""Writes the BERT and WordPiece parity fixtures from transformers and tokenizers (the reference).

Run from the repository root:

    /work/main/.venv/bin/python scripts/make_bert_fixtures.py [--minilm DIR]

Always written (tiny, random, self-contained):

* Tests/IPTDataTests/Fixtures/wordpiece/: a 200-token WordPiece vocabulary in three folders —
  `uncased-json/` (tokenizer.json + tokenizer_config.json, as transformers saves BertTokenizer),
  `uncased-vocab/` (vocab.txt + tokenizer_config.json) and `cased-vocab/` (vocab.txt,
  do_lower_case false) — and `tiny.json`: for our own synthetic texts, the ids each folder gives
  (transformers' BertTokenizer built as transformers 5 builds it from a vocab.txt, i.e. the
  `tokenizers` BertNormalizer / BertPreTokenizer / WordPiece pipeline) and the three decodings;
  `scalar_classes.txt` and `unicode_maps.txt`: how tokenizers classifies, lower-cases and
  decomposes every code point (see `unicode_tables`).
* Tests/IPTModelsTests/Fixtures/bert-tiny/: a random BertModel (vocabulary 120, hidden 32, 2 layers,
  4 heads, FFN 64, 64 positions) with its pooler and an I64 `embeddings.position_ids` buffer, F16
  weights; bert-tiny-expected.{json,safetensors}: what transformers computes on it — last hidden
  states of a padded batch, sentence embeddings (mean pooling over the attention mask, then L2
  normalisation, as sentence-transformers), the option-similarity loss (cosine / 0.05,
  label-smoothed cross entropy with epsilon 0.1 over each example's options, summed; options
  embedded without prompt) and its gradients with a shared prompt, a per-example prompt (prompt
  vectors inserted after [CLS] through inputs_embeds, mask ones on them) and adapters (the IPT
  paper's placement, monkeypatched: after attention.output.dense and after output.dense; eval mode),
  option scores (cosines) and the per-example NLL of the target option.

Written only when the all-MiniLM-L6-v2 folder is given or found at
~/.cache/ipt-swift/all-MiniLM-L6-v2 (scripts/fetch-minilm puts it there):

* Tests/IPTDataTests/Fixtures/wordpiece/minilm.json: ids and decodings of our synthetic texts
  and of every code point class probe, and (when ../shared is present) count + FNV-1a digest of
  the ids of a sample of CrossFit lines, referenced by (file, line): no CrossFit text is written.
* Tests/IPTModelsTests/Fixtures/minilm-embeddings.json: ids (truncated to 128 tokens) and the
  sentence embeddings transformers gives for our synthetic texts.
"""
import argparse
import glob
import json
import os
import random

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from torch import nn
from transformers import BertConfig, BertModel, BertTokenizer

# The digests and the IPT adapter of the BART and tokenizer fixtures (same folder).
from make_bart_fixtures import Adapter
from make_tokenizer_fixtures import fnv1a64, ids_digest

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL_FIXTURES = os.path.join(ROOT, "Tests", "IPTModelsTests", "Fixtures")
TOKENIZER_FIXTURES = os.path.join(ROOT, "Tests", "IPTDataTests", "Fixtures", "wordpiece")
SHARED = os.path.join(ROOT, "..", "shared", "data", "crossfit16")
TEMPERATURE = 0.05
EPSILON = 0.1
BOTTLENECK = 4


def dump(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------------------------------------
# WordPiece

def tiny_vocabulary():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += [chr(c) for c in range(33, 127) if not chr(c).isalnum()]  # ASCII punctuation
    tokens += [str(d) for d in range(10)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)] + ["##" + str(d) for d in range(10)]
    tokens += ["A", "B", "H", "W", "C", "é", "##é", "ü", "##ü", "ß", "中", "国", "σ", "##α", "##σ", "¿", "·",
               "the", "hello", "world", "##s", "##ing", "##ed", "play", "un", "##aff", "##able", "token", "##izer",
               "bert", "Hello", "World", "café", "caf", "##fé", "[unused0]", "do", "not", "n", "##'t", "'s"]
    seen, unique = set(), []
    for t in tokens:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique


SYNTHETIC_TEXTS = [
    "", " ", "hello world", "Hello World!", "HELLO, WORLD.", "unaffable", "playing played plays",
    "tokenizer tokenizers", "Café café CAFÉ", "über Straße", "中国人", "x中y国z", "ΣΑΣ σας",
    "İstanbul", "don't do not", "It's 12345 o'clock", "a\tb\nc\r\nd", "a\u00a0b\u3000c", "a\u200bb",
    "e\u0301 vs \u00e9", "x\u0345y", "\u0000a\ufffdb", "\x0b\x0c\x1c", "hello\u2028world", "¿qué? ·x·",
    "$5+3=8^2 ~a|b` <c>", "[CLS] hello [SEP]", "[MASK]", "[mask]", "hello[SEP]world", "[unused0]",
    "a" * 101, "a" * 100, "b" * 99 + "é", "😀 emoji 🥰", "x\ue000y", "\U000e0001tag", "\u0378 unassigned",
    "ǅx ﬃ", "the  the   the", "  leading and trailing  ", "punctuation!!!???...", "(brackets) [square] {curly}",
    "naïve résumé", "hello\u0085world", "x\u058ay", "x\u20ddy",
]


def wordpiece_fixtures():
    os.makedirs(TOKENIZER_FIXTURES, exist_ok=True)
    vocab = tiny_vocabulary()
    folders = {}
    for name, lower in [("uncased-vocab", True), ("cased-vocab", False)]:
        folder = os.path.join(TOKENIZER_FIXTURES, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(vocab) + "\n")
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump({"do_lower_case": lower, "tokenizer_class": "BertTokenizer"}, f, indent=1)
        # transformers 5 builds BertTokenizer from the vocabulary this way (it cannot read vocab.txt alone).
        folders[name] = BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=lower)
    json_folder = os.path.join(TOKENIZER_FIXTURES, "uncased-json")
    folders["uncased-vocab"].save_pretrained(json_folder)
    for extra in ["vocab.txt", "special_tokens_map.json", "chat_template.jinja"]:
        path = os.path.join(json_folder, extra)
        if os.path.exists(path):
            os.remove(path)
    folders["uncased-json"] = Tokenizer.from_file(os.path.join(json_folder, "tokenizer.json"))

    def encode(tokenizer, text):
        if isinstance(tokenizer, Tokenizer):
            return tokenizer.encode(text).ids
        return tokenizer(text)["input_ids"]

    cases = []
    for text in SYNTHETIC_TEXTS:
        case = {"text": text}
        for name, tokenizer in folders.items():
            case[name] = encode(tokenizer, text)
        tok = folders["uncased-vocab"]
        ids = case["uncased-vocab"]
        case["decode"] = [tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False),
                          tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
                          tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)]
        cases.append(case)
    assert all(c["uncased-json"] == c["uncased-vocab"] for c in cases)
    dump(os.path.join(TOKENIZER_FIXTURES, "tiny.json"), {"cases": cases})


def code_point_probes(rng):
    """One probe text per sampled code point, 'a' + c + 'b c', covering every plane in use."""
    points = list(range(0, 0x300)) + list(range(0x2000, 0x2070)) + list(range(0x3000, 0x3040))
    points += rng.sample(range(0x300, 0x30000), 3000) + rng.sample(range(0xE0000, 0xE0080), 20)
    points += [0xF0000, 0x10FFFD]
    probes = []
    for p in sorted(set(points)):
        if 0xD800 <= p <= 0xDFFF:
            continue
        probes.append("a" + chr(p) + "b c")
    return probes


def unicode_tables():
    """scalar_classes.txt: runs `first last flags` of code points (surrogates left out) by how
    tokenizers' BertNormalizer and BertPreTokenizer treat 'a' + c + 'b': O removed by clean_text, W
    turned into a space, M removed by accent stripping, C spaced as CJK, P isolated as punctuation,
    S split as whitespace (code points without flags are not listed). unicode_maps.txt: `L c m...`
    for every character the Lowercase normalizer changes, `D c d...` for every character NFD
    changes (Hangul syllables, algorithmic, left out)."""
    from tokenizers import normalizers, pre_tokenizers
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    cjk = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    pre = pre_tokenizers.BertPreTokenizer()
    lower, nfd = normalizers.Lowercase(), normalizers.NFD()

    def flags(c):
        f = ""
        cleaned = clean.normalize_str("a" + c + "b")
        f += "O" if cleaned == "ab" else "W" if cleaned == "a b" else ""
        f += "M" if strip.normalize_str("a" + c + "b") == "ab" else ""
        f += "C" if cjk.normalize_str("a" + c + "b") == "a " + c + " b" else ""
        pieces = [piece for piece, _ in pre.pre_tokenize_str("a" + c + "b")]
        f += "P" if pieces == ["a", c, "b"] else "S" if pieces == ["a", "b"] else ""
        return f

    runs, maps = [], []
    previous, start = None, 0
    for p in range(0x110000):
        f = None if 0xD800 <= p <= 0xDFFF else flags(chr(p))
        if f != previous:
            if previous:
                runs.append(f"{start:x} {p - 1:x} {previous}")
            previous, start = f, p
        if f is None:
            continue
        c = chr(p)
        if lower.normalize_str(c) != c:
            maps.append(f"L {p:x} " + " ".join(f"{ord(x):x}" for x in lower.normalize_str(c)))
        if not 0xAC00 <= p <= 0xD7A3 and nfd.normalize_str(c) != c:
            maps.append(f"D {p:x} " + " ".join(f"{ord(x):x}" for x in nfd.normalize_str(c)))
    if previous:
        runs.append(f"{start:x} {0x10FFFF:x} {previous}")
    for name, lines in [("scalar_classes.txt", runs), ("unicode_maps.txt", maps)]:
        path = os.path.join(TOKENIZER_FIXTURES, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def read_lines(path):
    return open(path, "rb").read().decode("utf-8").split("\n")


def minilm_tokenizer_fixture(folder, rng):
    tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    bert = BertTokenizer.from_pretrained(folder)

    def decodings(ids):
        return [bert.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False),
                bert.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
                bert.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)]

    synthetic = []
    for text in SYNTHETIC_TEXTS:
        ids = tokenizer.encode(text).ids
        synthetic.append({"text": text, "ids": ids, "decode": decodings(ids)})
    probes = [[text, tokenizer.encode(text).ids] for text in code_point_probes(rng)]
    value = {"synthetic": synthetic, "probes": probes}
    if os.path.isdir(SHARED):
        files = sorted(os.path.relpath(p, SHARED) for p in glob.glob(os.path.join(SHARED, "*", "*_16_100_*.tsv")))
        rows = []
        for fi, rel in enumerate(files):
            lines = read_lines(os.path.join(SHARED, rel))
            numbers = [i for i, line in enumerate(lines) if line]
            for i in sorted(rng.sample(numbers, min(3, len(numbers)))):
                ids = tokenizer.encode(lines[i]).ids
                rows.append([fi, i + 1, len(ids), ids_digest(ids), fnv1a64("\0".join(decodings(ids)))])
        value["crossfit"] = {"files": files, "lines": rows}
    dump(os.path.join(TOKENIZER_FIXTURES, "minilm.json"), value)


# ---------------------------------------------------------------------------------------------
# The tiny BERT model

def tiny_model():
    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
                        pad_token_id=0, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    torch.manual_seed(0)
    model = BertModel(config).eval()
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:
                p.copy_(0.05 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=generator))
    return model


def install_adapters(model, flat):
    """The paper's placement; in eval mode dropout is the identity, so 'after dense' is both sites."""
    c = model.config.hidden_size
    size = c * BOTTLENECK
    originals, offset = [], 0

    def take(shape):
        nonlocal offset
        piece = flat[offset:offset + size].view(*shape)
        offset += size
        return piece

    for layer in model.encoder.layer:
        attention = Adapter(take((c, BOTTLENECK)), take((BOTTLENECK, c)))
        feed_forward = Adapter(take((c, BOTTLENECK)), take((BOTTLENECK, c)))
        originals.append((layer, layer.attention.output.dense, layer.output.dense))
        layer.attention.output.dense = nn.Sequential(layer.attention.output.dense, attention)
        layer.output.dense = nn.Sequential(layer.output.dense, feed_forward)
    assert offset == flat.numel()

    def remove():
        for layer, attention_dense, output_dense in originals:
            layer.attention.output.dense, layer.output.dense = attention_dense, output_dense
    return remove


def pad_rows(rows):
    length = max(len(r) for r in rows)
    ids = torch.tensor([r + [0] * (length - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows])
    return ids, mask


def hidden_states(model, ids, mask, prompt=None):
    if prompt is None:
        return model(input_ids=ids, attention_mask=mask).last_hidden_state, mask
    if prompt.dim() == 2:
        prompt = prompt.unsqueeze(0).expand(ids.shape[0], -1, -1)
    words = model.embeddings.word_embeddings(ids)
    embeds = torch.cat([words[:, :1], prompt, words[:, 1:]], dim=1)
    full_mask = torch.cat([mask[:, :1], torch.ones(ids.shape[0], prompt.shape[1], dtype=mask.dtype), mask[:, 1:]], dim=1)
    return model(inputs_embeds=embeds, attention_mask=full_mask).last_hidden_state, full_mask


def sentence_embeddings(hidden, mask):
    weights = mask.unsqueeze(-1).float()
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def option_terms(model, ids, mask, options, targets, prompt=None):
    """(summed label-smoothed loss, per-example NLL, cosines) of the option-similarity classifier."""
    embedded = sentence_embeddings(*hidden_states(model, ids, mask, prompt))
    total, nll, cosines = 0, [], []
    for i, candidates in enumerate(options):
        o_ids, o_mask = pad_rows(candidates)
        anchors = sentence_embeddings(*hidden_states(model, o_ids, o_mask))
        cos = anchors @ embedded[i]
        lprobs = torch.log_softmax(cos / TEMPERATURE, dim=-1)
        total = total + (1 - EPSILON) * -lprobs[targets[i]] + EPSILON / len(candidates) * -lprobs.sum()
        nll.append(-lprobs[targets[i]].item())
        cosines.append(cos.tolist())
    return total, nll, cosines


def model_fixtures():
    model = tiny_model()
    folder = os.path.join(MODEL_FIXTURES, "bert-tiny")
    os.makedirs(folder, exist_ok=True)
    config = model.config.to_diff_dict()
    for key in ["architectures", "transformers_version", "dtype", "_name_or_path"]:
        config.pop(key, None)
    config["model_type"] = "bert"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
    state = {k: v.detach().clone().half().contiguous() for k, v in model.state_dict().items()}
    state["embeddings.position_ids"] = torch.arange(64, dtype=torch.int64).unsqueeze(0)
    assert any(k.startswith("pooler.") for k in state)
    save_file(state, os.path.join(folder, "model.safetensors"))
    loaded = BertModel.from_pretrained(folder, dtype=torch.float32).eval()
    for p in loaded.parameters():
        p.requires_grad_(False)

    generator = torch.Generator().manual_seed(2)
    rows = [[2] + torch.randint(5, 120, (n - 2,), generator=generator).tolist() + [3] for n in [9, 6, 4]]
    ids, mask = pad_rows(rows)
    options = [[[2, 7, 3], [2, 8, 9, 3], [2, 10, 3]], [[2, 7, 3], [2, 8, 9, 3], [2, 10, 3]], [[2, 11, 3], [2, 7, 3]]]
    targets = [1, 2, 0]
    tensors, values = {}, {"inputs": rows, "options": options, "targets": targets}

    with torch.no_grad():
        hidden, _ = hidden_states(loaded, ids, mask)
        tensors["hidden"] = hidden
        tensors["embeddings"] = sentence_embeddings(hidden, mask)
        total, nll, cosines = option_terms(loaded, ids, mask, options, targets)
    values["loss_sum"], values["target_nll"], values["option_scores"] = total.item(), nll, cosines

    prompt = (0.5 * torch.randn(4, 32, generator=generator)).requires_grad_(True)
    with torch.no_grad():
        tensors["prompt_hidden"], _ = hidden_states(loaded, ids, mask, prompt)
    total, nll, cosines = option_terms(loaded, ids, mask, options, targets, prompt)
    total.backward()
    tensors["prompt"], tensors["prompt_gradient"] = prompt.detach(), prompt.grad
    values["prompt_loss_sum"], values["prompt_target_nll"], values["prompt_option_scores"] = total.item(), nll, cosines

    per_example = (0.5 * torch.randn(3, 4, 32, generator=generator)).requires_grad_(True)
    total, _, _ = option_terms(loaded, ids, mask, options, targets, per_example)
    total.backward()
    tensors["per_example_prompt"], tensors["per_example_prompt_gradient"] = per_example.detach(), per_example.grad
    values["per_example_prompt_loss_sum"] = total.item()

    flat = (0.3 * torch.randn(2 * 2 * 2 * 32 * BOTTLENECK, generator=generator)).requires_grad_(True)
    remove = install_adapters(loaded, flat)
    total, _, cosines = option_terms(loaded, ids, mask, options, targets)
    total.backward()
    remove()
    tensors["adapters"], tensors["adapter_gradient"] = flat.detach(), flat.grad
    values["adapter_loss_sum"], values["adapter_option_scores"] = total.item(), cosines

    values["parameter_names"] = [n for n, _ in loaded.named_parameters() if not n.startswith("pooler.")]
    values["parameter_count"] = sum(p.numel() for n, p in loaded.named_parameters() if not n.startswith("pooler."))
    save_file({k: v.detach().contiguous().float() for k, v in tensors.items()},
              os.path.join(MODEL_FIXTURES, "bert-tiny-expected.safetensors"))
    dump(os.path.join(MODEL_FIXTURES, "bert-tiny-expected.json"), values)


# ---------------------------------------------------------------------------------------------
# The real all-MiniLM-L6-v2

EMBEDDING_TEXTS = [
    "A man is eating food.", "A man is eating a piece of bread.", "The new movie is awesome",
    "Café naïve résumé — ÜBER", "", "premise: A dog runs. [SEP] hypothesis: An animal moves.",
    " ".join(["This sentence is long enough that the encoder has to truncate it at 128 tokens."] * 12),
]


def minilm_embeddings_fixture(folder):
    tokenizer = BertTokenizer.from_pretrained(folder)
    model = BertModel.from_pretrained(folder, dtype=torch.float32).eval()
    rows = []
    for text in EMBEDDING_TEXTS:
        encoded = tokenizer(text, truncation=True, max_length=128, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**encoded).last_hidden_state
        embedding = sentence_embeddings(hidden, encoded["attention_mask"])[0]
        rows.append({"text": text, "ids": encoded["input_ids"][0].tolist(), "embedding": embedding.tolist()})
    dump(os.path.join(MODEL_FIXTURES, "minilm-embeddings.json"), {"max_length": 128, "texts": rows})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minilm", default=os.path.expanduser("~/.cache/ipt-swift/all-MiniLM-L6-v2"))
    args = parser.parse_args()
    rng = random.Random(20250101)
    wordpiece_fixtures()
    unicode_tables()
    model_fixtures()
    if os.path.exists(os.path.join(args.minilm, "model.safetensors")):
        minilm_tokenizer_fixture(args.minilm, rng)
        minilm_embeddings_fixture(args.minilm)
    else:
        print(f"{args.minilm}: no all-MiniLM-L6-v2 checkpoint, MiniLM fixtures not written (run scripts/fetch-minilm)")


if __name__ == "__main__":
    main()
