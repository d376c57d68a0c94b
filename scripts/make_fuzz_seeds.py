"""Seed corpora for the libFuzzer harnesses of Fuzz/ (see Docs/reliability.md).

Writes small made-up files (a few hundred bytes each) into Fuzz/corpus/<harness>/:

* FuzzSafeTensors: safetensors files written by the `safetensors` library (F32, F16, BF16, F64,
  a scalar, an empty tensor, metadata), so that the fuzzer starts from headers the reference
  implementation produces.
* FuzzCrossFitTSV: a few CrossFit-style TSV lines of our own (several answers, CRLF, unicode).
* FuzzJSONFiles: a `tasks.json` catalog and a task split, each prefixed with the selector byte
  the harness reads first (see Fuzz/Sources/FuzzJSONFiles).
* FuzzTokenizerFiles: tiny tokenizer folders packed as the harness reads them (a layout byte,
  then files separated by a line `####`): vocab.json + merges.txt with and without
  tokenizer_config.json / special_tokens_map.json, and tokenizer.json files with several
  post-processors. The tokenizer.json seeds are written by the `tokenizers` library.
* FuzzCorpusFiles: made-up lines in the formats of WordNet's data, index and exception files and
  of a fortune file, each prefixed with the reader and category bytes the harness reads first.
* FuzzBartConfiguration: config.json files written by transformers' `BartConfig` (a tiny one and
  one with generation keys).

No text from ../shared is copied. Run (from the repository root):
    /work/main/.venv/bin/python scripts/make_fuzz_seeds.py
"""
import json
import os

import numpy as np
from safetensors.numpy import save

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fuzz", "corpus")


def write(harness, name, data):
    folder = os.path.join(ROOT, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def safetensors_seeds():
    rng = np.random.default_rng(0)
    write("FuzzSafeTensors", "f32.safetensors", save({
        "encoder.weight": rng.standard_normal((2, 3)).astype(np.float32),
        "encoder.bias": rng.standard_normal(3).astype(np.float32),
    }, metadata={"format": "pt"}))
    write("FuzzSafeTensors", "mixed.safetensors", save({
        "half": rng.standard_normal((2, 2)).astype(np.float16),
        "double": rng.standard_normal(2).astype(np.float64),
        "scalar": np.array(1.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }))
    # numpy has no bfloat16: store the upper halves of float32 values as BF16 by hand.
    values = rng.standard_normal(3).astype(np.float32).view(np.uint32) >> 16
    header = json.dumps({"b": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    header += b" " * (-len(header) % 8)
    write("FuzzSafeTensors", "bf16.safetensors",
          len(header).to_bytes(8, "little") + header + values.astype("<u2").tobytes())


def tsv_seeds():
    write("FuzzCrossFitTSV", "classification.tsv",
          "sentence 1: the cat sat. [SEP] sentence 2: a cat sat.\tentailment\n"
          "sentence 1: it rained. [SEP] sentence 2: it was dry.\tnot_entailment\n".encode())
    write("FuzzCrossFitTSV", "answers.tsv",
          "question: who wrote it? context: Ana wrote it in 1990.\tAna\tana\n"
          "question: when? context: in 1990.\t1990\n".encode())
    write("FuzzCrossFitTSV", "crlf-unicode.tsv",
          "  caf\u00e9 na\u00efve \u4e2d\u6587 \U0001F600\tyes \r\n"
          "tab\tend\t\t\r\n".encode())


def json_seeds():
    catalog = {
        "glue-rte": {"kind": "classification", "metric": "Classification-F1",
                     "options": ["entailment", "not_entailment"]},
        "squad": {"kind": "text-to-text", "metric": "QA-F1", "options": []},
        "stsb": {"kind": "text-to-text", "metric": "Pearson-Correlation", "options": []},
    }
    split = {"train": ["glue-rte", "squad"], "dev": ["stsb"], "test": [], "all": ["x"]}
    write("FuzzJSONFiles", "tasks.json", b"c" + json.dumps(catalog, indent=1).encode())
    write("FuzzJSONFiles", "split.json", b"s" + json.dumps(split).encode())


def tokenizer_seeds():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    separator = b"\n####\n"
    vocab = {"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4, "\u0120": 5, "\u0120ab": 6,
             "<s>": 7, "</s>": 8, "<pad>": 9, "<unk>": 10, "<mask>": 11}
    merges = "#version: 0.2\na b\nab c\n\u0120 ab\n"
    config = {"tokenizer_class": "BartTokenizer", "add_prefix_space": False,
              "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>",
              "mask_token": {"content": "<mask>", "lstrip": True, "rstrip": False, "single_word": False,
                             "normalized": False},
              "added_tokens_decoder": {"11": {"content": "<mask>", "lstrip": True, "rstrip": False,
                                              "single_word": False, "normalized": False, "special": True}}}
    special_map = {"cls_token": "<s>", "sep_token": "</s>", "additional_special_tokens": ["<unk>"]}

    def pack(layout, *files):
        return layout + separator.join(f if isinstance(f, bytes) else f.encode() for f in files)

    write("FuzzTokenizerFiles", "vocab-merges", pack(b"v", json.dumps(vocab), merges))
    write("FuzzTokenizerFiles", "vocab-merges-config",
          pack(b"v", json.dumps(vocab), merges, json.dumps(config), json.dumps(special_map)))

    def tokenizer_json(post_processor):
        tokenizer = Tokenizer(models.BPE(vocab={k: v for k, v in vocab.items() if not k.startswith("<")},
                                         merges=[("a", "b"), ("ab", "c"), ("\u0120", "ab")]))
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tokenizer.decoder = decoders.ByteLevel()
        tokenizer.add_special_tokens(["<s>", "</s>", "<pad>", "<unk>", "<mask>"])
        tokenizer.post_processor = post_processor
        return tokenizer.to_str()

    write("FuzzTokenizerFiles", "tokenizer-roberta",
          pack(b"j", tokenizer_json(processors.RobertaProcessing(("</s>", 8), ("<s>", 7)))))
    template = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 7), ("</s>", 8)])
    write("FuzzTokenizerFiles", "tokenizer-template-sequence",
          pack(b"j", tokenizer_json(processors.Sequence([processors.ByteLevel(), template])),
               json.dumps({"tokenizer_class": "GPT2Tokenizer"})))


def bart_configuration_seeds():
    from transformers import BartConfig

    tiny = BartConfig(vocab_size=16, max_position_embeddings=12, d_model=8, encoder_layers=1,
                      decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                      encoder_ffn_dim=8, decoder_ffn_dim=8)
    write("FuzzBartConfiguration", "tiny.json", tiny.to_json_string().encode())
    generation = {"d_model": 8, "encoder_attention_heads": 2, "decoder_attention_heads": 2, "vocab_size": 16,
                  "max_position_embeddings": 12, "num_beams": 2, "max_length": 6, "min_length": 2,
                  "no_repeat_ngram_size": 2, "length_penalty": 2.0, "early_stopping": True,
                  "forced_bos_token_id": 0, "forced_eos_token_id": [2], "eos_token_id": 2,
                  "decoder_start_token_id": 2, "bos_token_id": 0, "pad_token_id": 1,
                  "activation_function": "gelu_new", "scale_embedding": True}
    write("FuzzBartConfiguration", "generation.json", json.dumps(generation).encode())
    new_tokens = {"d_model": 8, "encoder_attention_heads": 2, "decoder_attention_heads": 2, "vocab_size": 16,
                  "max_position_embeddings": 12, "max_new_tokens": 4, "min_new_tokens": 1, "num_beams": 1,
                  "eos_token_id": [2, 3], "decoder_start_token_id": 2}
    write("FuzzBartConfiguration", "new-tokens.json", json.dumps(new_tokens).encode())


def corpus_seeds():
    data_noun = ("  1 A made-up licence line, skipped by the reader.\n"
                 "00001740 03 n 02 widget 0 gadget(a) 1 002 @ 00002000 n 0000 ~ 00003000 n 0102 "
                 "| a small made-up device; \"the widget whirred\" - Anon; \"another example\"\n"
                 "00002000 03 n 01 device 0 000 | \"only an example\"\n")
    data_verb = "00002000 29 v 01 whir 0 001 @ 00003000 v 0000 01 + 02 00 | make a soft made-up sound; \"it whirs\"\n"
    write("FuzzCorpusFiles", "data-noun", b"dn" + data_noun.encode())
    write("FuzzCorpusFiles", "data-verb", b"dv" + data_verb.encode())
    write("FuzzCorpusFiles", "index-noun", b"in" + b"widget n 2 1 @ 2 1 00001740 00002000\ndevice n 1 0 1 0 00002000\n")
    write("FuzzCorpusFiles", "exceptions", b"ea" + b"geese goose\nwidgeti widget widgeto\n")
    fortune = ("A made-up fortune that is long enough to count as prose.\n\t-- Nobody in particular\n%\n"
               "  Indented first line\nand a second line.\r\n%\n%\n\x1b[1mnot text\n%\n")
    write("FuzzCorpusFiles", "fortunes", b"f-" + fortune.encode())


if __name__ == "__main__":
    safetensors_seeds()
    tsv_seeds()
    json_seeds()
    tokenizer_seeds()
    corpus_seeds()
    bart_configuration_seeds()
