"""Times Hugging Face's `tokenizers` on the lines of a file, single-threaded, for `ipt-bench tokenize`.

Loads the tokenizer folder with transformers (BartTokenizerFast for a vocabulary with <s>, else
GPT2TokenizerFast) and times its backend `tokenizers.Tokenizer` (Rust): `encode_batch` on all lines
(first run with a cold word cache, then warm, best of --repeat) and a Python loop of `encode`
(warm, best of --repeat). Prints one JSON object with the seconds and the number of ids.

Run (ipt-bench does this):
  TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 /work/main/.venv/bin/python scripts/bench_tokenizers.py \
      --tokenizer ../shared/tokenizers/bart-base --lines LINES.txt [--repeat 3]
"""

import argparse
import json
import os
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

from transformers import BartTokenizerFast, GPT2TokenizerFast  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--lines", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines = open(args.lines, "rb").read().decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    vocab = json.load(open(os.path.join(args.tokenizer, "vocab.json"), encoding="utf-8"))
    cls = BartTokenizerFast if "<s>" in vocab else GPT2TokenizerFast
    start = time.perf_counter()
    backend = cls.from_pretrained(args.tokenizer).backend_tokenizer
    load = time.perf_counter() - start

    start = time.perf_counter()
    encodings = backend.encode_batch(lines)
    cold = time.perf_counter() - start
    ids = sum(len(e.ids) for e in encodings)
    warm = min(timed(lambda: backend.encode_batch(lines)) for _ in range(args.repeat))
    loop = min(timed(lambda: [backend.encode(line) for line in lines]) for _ in range(args.repeat))
    print(json.dumps({"load_seconds": load, "batch_cold_seconds": cold, "batch_warm_seconds": warm,
                      "loop_warm_seconds": loop, "ids": ids, "lines": len(lines)}))


def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
