"""Seed corpora for the libFuzzer harnesses of Fuzz/ (see Docs/reliability.md).

Writes small made-up files (a few hundred bytes each) into Fuzz/corpus/<harness>/:

* FuzzSafeTensors: safetensors files written by the `safetensors` library (F32, F16, BF16, F64,
  a scalar, an empty tensor, metadata), so that the fuzzer starts from headers the reference
  implementation produces.
* FuzzCrossFitTSV: a few CrossFit-style TSV lines of our own (several answers, CRLF, unicode).
* FuzzJSONFiles: a `tasks.json` catalog and a task split, each prefixed with the selector byte
  the harness reads first (see Fuzz/Sources/FuzzJSONFiles).

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
    }, metadata={"format": "pt", "step": "7"}))
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


if __name__ == "__main__":
    safetensors_seeds()
    tsv_seeds()
    json_seeds()
