"""Writes the gradients of every BART weight (what pretraining trains) from transformers.

Run from the repository root, after scripts/make_bart_fixtures.py:

    /work/main/.venv/bin/python scripts/make_bart_weight_gradient_fixtures.py

For the committed checkpoint Tests/IPTModelsTests/Fixtures/bart-tiny-scaled (scale_embedding true,
nonzero final_logits_bias) and the padded batch of bart-tiny-scaled-expected.json, the
label-smoothed loss (CrossFit's formula, epsilon 0.1, summed over non-pad target tokens; eval mode,
so no dropout) is differentiated with respect to every parameter of BartModel: the tied token
table once (`shared.weight`), positions, LayerNorms, every projection. Writes
Fixtures/bart-tiny-scaled-weight-gradients.safetensors keyed by BartModel's parameter names.
final_logits_bias is a buffer in transformers (never trained), so it has no reference gradient.
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import BartForConditionalGeneration

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "IPTModelsTests", "Fixtures")
PAD, EPSILON = 1, 0.1
NAME = "bart-tiny-scaled"


def pad_rows(rows):
    length = max(len(r) for r in rows)
    ids = torch.tensor([r + [PAD] * (length - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows])
    return ids, mask


def main():
    model = BartForConditionalGeneration.from_pretrained(os.path.join(ROOT, NAME), torch_dtype=torch.float32)
    model.eval()
    values = json.load(open(os.path.join(ROOT, f"{NAME}-expected.json")))
    input_ids, mask = pad_rows(values["inputs"])
    labels, _ = pad_rows(values["targets"])
    decoder_input_ids = labels.new_full(labels.shape, PAD)
    decoder_input_ids[:, 1:] = labels[:, :-1]
    decoder_input_ids[:, 0] = model.config.decoder_start_token_id
    logits = model(input_ids=input_ids, attention_mask=mask, decoder_input_ids=decoder_input_ids).logits
    lprobs = torch.log_softmax(logits, dim=-1)
    nll = -lprobs.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    smooth = -lprobs.sum(-1)
    keep = labels != PAD
    # CrossFit's label_smoothed_nll_loss (as the IPT original uses): (1 - eps) nll + eps / V * smooth.
    loss = ((1.0 - EPSILON) * nll + EPSILON / lprobs.size(-1) * smooth)[keep].sum()
    loss.backward()
    print(NAME, "loss", loss.item(), "vs fixture", values["loss_sum"])
    gradients = {name: p.grad.detach().contiguous().float() for name, p in model.model.named_parameters()}
    save_file(gradients, os.path.join(ROOT, f"{NAME}-weight-gradients.safetensors"), metadata={"loss": repr(loss.item())})
    print(len(gradients), "tensors", sum(g.numel() for g in gradients.values()), "values")


if __name__ == "__main__":
    main()
