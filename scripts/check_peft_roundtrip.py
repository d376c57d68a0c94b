"""PEFT prompt-tuning round trip: writes the fixtures of Tests/CLITests/Fixtures/peft, and checks
that a prompt exported by `ipt-cli export-peft` loads in Hugging Face PEFT.

Needs peft (pip install peft into the venv) besides torch and transformers. Run from the
repository root:

    /work/main/.venv/bin/python scripts/check_peft_roundtrip.py
        Writes Tests/CLITests/Fixtures/peft/:
        * tiny-bart/: a random BART (vocabulary 262: BART's four special tokens, the 256 byte-level
          symbols and two merges; d_model 16, 1 + 1 layers, 64 positions, init_std 0.3; seed 0) with vocab.json
          and merges.txt, saved by transformers.
        * adapter/: a PEFT prompt-tuning adapter for it, saved by PEFT with its seq2seq default
          num_transformer_submodules 2 (prompt_embeddings of 2 x 4 rows: 4 encoder rows, then 4
          decoder rows that prompt tuning does not use).
        * examples.tsv: three input<TAB>answer lines.
        * expected.json: the prompt's encoder rows, and the mean target-token NLL PEFT computes
          for each example (labels = <s> answer </s>, model.eval(), the loss transformers returns),
          with the adapter as saved and with its decoder rows zeroed (the same: they are unused).

    /work/main/.venv/bin/python scripts/check_peft_roundtrip.py --check ADAPTER --prompt PROMPT --model MODEL
        Loads the adapter folder ADAPTER (written by `ipt-cli export-peft --prompt PROMPT --model
        MODEL`) with PeftModel.from_pretrained on the transformers model in MODEL, checks that its
        prompt embeddings equal the `prompt` tensor of the IPT file PROMPT bit for bit and that its
        config says PROMPT_TUNING / SEQ_2_SEQ_LM / num_transformer_submodules 1, runs a forward and
        a generation, and prints the result.
"""
import argparse
import json
import os
import sys

import torch
from peft import PeftModel, PromptTuningConfig, TaskType, get_peft_model
from safetensors.torch import load_file
from transformers import BartConfig, BartForConditionalGeneration, BartTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "CLITests", "Fixtures", "peft")
VIRTUAL_TOKENS = 4


def bytes_to_unicode():
    """GPT-2's byte-to-symbol table (every byte a printable character)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def write_tiny_bart(folder):
    vocabulary = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for symbol in sorted(bytes_to_unicode().values()):
        vocabulary[symbol] = len(vocabulary)
    merges = [("Ġ", "t"), ("h", "e")]
    for a, b in merges:
        vocabulary[a + b] = len(vocabulary)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocabulary, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    torch.manual_seed(0)
    config = BartConfig(vocab_size=len(vocabulary), d_model=16, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                        max_position_embeddings=64, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        decoder_start_token_id=2, forced_eos_token_id=2, scale_embedding=False,
                        init_std=0.3)  # large enough weights that the prompt moves the loss
    model = BartForConditionalGeneration(config)
    model.save_pretrained(folder)
    return model


def target_nlls(model, tokenizer, examples):
    """Per example, the mean target-token NLL (transformers' loss for one example)."""
    nlls = []
    with torch.no_grad():
        for source, answer in examples:
            inputs = tokenizer(source, return_tensors="pt")
            labels = tokenizer(answer, return_tensors="pt")["input_ids"]
            out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], labels=labels)
            nlls.append(out.loss.item())
    return nlls


def make_fixtures():
    model_folder = os.path.join(FIXTURES, "tiny-bart")
    base = write_tiny_bart(model_folder)
    tokenizer = BartTokenizer(os.path.join(model_folder, "vocab.json"), os.path.join(model_folder, "merges.txt"))

    config = PromptTuningConfig(task_type=TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=VIRTUAL_TOKENS)
    peft_model = get_peft_model(base, config)
    assert peft_model.peft_config["default"].num_transformer_submodules == 2
    torch.manual_seed(1)
    with torch.no_grad():
        weights = peft_model.prompt_encoder["default"].embedding.weight
        weights.copy_(torch.randn_like(weights))
    peft_model.eval()
    adapter_folder = os.path.join(FIXTURES, "adapter")
    peft_model.save_pretrained(adapter_folder)
    os.remove(os.path.join(adapter_folder, "README.md"))  # PEFT's model card; not part of the format

    examples = [("the cat sat on the mat", "yes"), ("is the sky green?", "no"), ("Then: 42 > 7", "true")]
    with open(os.path.join(FIXTURES, "examples.tsv"), "w", encoding="utf-8") as f:
        f.write("".join(f"{s}\t{a}\n" for s, a in examples))
    nlls = target_nlls(peft_model, tokenizer, examples)
    with torch.no_grad():
        weights[VIRTUAL_TOKENS:] = 0
    nlls_without_decoder_rows = target_nlls(peft_model, tokenizer, examples)
    assert max(abs(a - b) for a, b in zip(nlls, nlls_without_decoder_rows)) < 1e-6
    with torch.no_grad():
        base_nlls = target_nlls(base, tokenizer, examples)  # the prompt must matter
    assert max(abs(a - b) for a, b in zip(nlls, base_nlls)) > 1e-3

    saved = load_file(os.path.join(adapter_folder, "adapter_model.safetensors"))["prompt_embeddings"]
    expected = {
        "num_virtual_tokens": VIRTUAL_TOKENS,
        "token_dim": 16,
        "encoder_prompt": saved[:VIRTUAL_TOKENS].tolist(),
        "nll_per_example": nlls,
        "mean_nll": sum(nlls) / len(nlls),
        "nll_without_prompt": base_nlls,
    }
    with open(os.path.join(FIXTURES, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(f"wrote {FIXTURES}: mean NLL with the prompt {expected['mean_nll']:.6f}, "
          f"without {sum(base_nlls) / len(base_nlls):.6f}")


def check(adapter, prompt_file, model_folder):
    with open(os.path.join(adapter, "adapter_config.json")) as f:
        config = json.load(f)
    problems = []
    for key, value in [("peft_type", "PROMPT_TUNING"), ("task_type", "SEQ_2_SEQ_LM"), ("num_transformer_submodules", 1)]:
        if config.get(key) != value:
            problems.append(f"adapter_config.json: {key} is {config.get(key)!r}, expected {value!r}")
    base = BartForConditionalGeneration.from_pretrained(model_folder)
    model = PeftModel.from_pretrained(base, adapter)
    model.eval()
    loaded = model.prompt_encoder["default"].embedding.weight.detach()
    ipt = load_file(prompt_file)["prompt"]
    if loaded.shape != ipt.shape:
        problems.append(f"PEFT holds a prompt of shape {tuple(loaded.shape)}, the IPT file {tuple(ipt.shape)}")
    else:
        difference = (loaded - ipt).abs().max().item()
        if difference != 0:
            problems.append(f"prompt values differ by up to {difference}")
    vocabulary = base.config.vocab_size
    ids = torch.tensor([[0, min(5, vocabulary - 1), min(6, vocabulary - 1), 2]])
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=torch.tensor([[0, 2]])).logits
        generated = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4)
    if not torch.isfinite(logits).all():
        problems.append("forward gave non-finite logits")
    if problems:
        print("FAILED: " + "; ".join(problems))
        sys.exit(1)
    print(f"OK: PEFT loaded {adapter} on {model_folder}: prompt {tuple(loaded.shape)} equals {prompt_file} bit for bit; "
          f"forward and generate ran (generated {generated.tolist()[0]})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", metavar="ADAPTER", help="an adapter folder written by ipt-cli export-peft")
    parser.add_argument("--prompt", help="the IPT prompt file it was exported from")
    parser.add_argument("--model", help="the model folder it was exported for")
    arguments = parser.parse_args()
    if arguments.check:
        if not arguments.prompt or not arguments.model:
            parser.error("--check needs --prompt and --model")
        check(arguments.check, arguments.prompt, arguments.model)
    else:
        make_fixtures()
