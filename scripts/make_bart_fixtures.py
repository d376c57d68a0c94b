"""Writes the BART parity fixtures of Tests/IPTModelsTests from transformers (the reference).

Run from the repository root:

    /work/main/.venv/bin/python scripts/make_bart_fixtures.py

Two small random BART checkpoints (vocabulary 200, d_model 32, 2 + 2 layers, 4 heads, FFN 64,
128 positions) and what transformers computes with them:

* Fixtures/bart-tiny/: BartModel-style keys (no prefix, `shared.weight` only, no
  final_logits_bias), scale_embedding false, generation defaults in generation_config.json.
* Fixtures/bart-tiny-scaled/: BartForConditionalGeneration-style keys (`model.` prefix,
  nonzero final_logits_bias, the tied table stored four times: shared, encoder/decoder
  embed_tokens, lm_head), scale_embedding true, generation keys only in config.json.
  Both store F16 weights to keep the files small (the reference runs in F32 on the same, F16-exact
  values; IPTModelsTests writes F32 checkpoints itself to test that path).
* Fixtures/config-without-generation-tokens.json: a config.json without eos/decoder-start/forced-EOS
  keys and the generation config transformers' from_pretrained derives from it.
* Fixtures/<name>-expected.safetensors and <name>-expected.json: parameter names and count, inputs, logits of a padded
  batch, token NLL, label-smoothed losses (fairseq's formula, epsilon 0.1, sum and mean), the same
  with a soft prompt (inputs_embeds = concat(prompt, embed_tokens(ids)), mask ones on the prompt)
  and its gradient (shared (n, C) and per example (B, n, C)), the adapter forward and the
  gradient with respect to the flat adapter vector, option-scoring log-likelihoods, and greedy and
  beam-search outputs for several settings.

Adapters: the IPT paper's placement (bias-free bottleneck, swish, on the self-attention output
before dropout and the residual, and on the FFN output after fc2 and dropout) is reproduced by
monkeypatching: each layer's `self_attn` is wrapped so its output goes through the adapter, and
`fc2` is replaced by `Sequential(fc2, adapter)`. In eval mode dropout is the identity, so this is
exactly the paper's placement. The flat adapter vector is laid out as IPTModels' AdapterLayout
documents: encoder layers then decoder layers; per layer the attention adapter, then the FFN
adapter; per adapter down (C x r) then up (r x C), row-major.

Weights are drawn with larger spread than BART's init (std 0.2, random LayerNorm and biases, a
boosted EOS row) so that logits are far from uniform: generation then ends at varied lengths and
beam decisions do not hinge on rounding.
"""
import json
import os
import shutil
import tempfile

import torch
from safetensors.torch import save_file
from torch import nn
from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "IPTModelsTests", "Fixtures")
PAD, BOS, EOS = 1, 0, 2
EPSILON = 0.1
BOTTLENECK = 4  # adapter width r of the fixtures (the paper's 16 would only make the files larger)


def tiny_config(scale_embedding):
    return BartConfig(vocab_size=200, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                      decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
                      scale_embedding=scale_embedding, dropout=0.1, attention_dropout=0.1, activation_dropout=0.1,
                      pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS, decoder_start_token_id=EOS,
                      forced_eos_token_id=EOS)


def randomize(model, seed, eos_boost):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_norm.weight") or name.endswith("layernorm_embedding.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:
                p.copy_(0.05 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=generator))
        shared = model.model.shared.weight
        shared[EOS] *= eos_boost


def loss_terms(logits, labels):
    """fairseq's label_smoothed_nll_loss over non-pad targets: (sum, mean, per-token nll)."""
    lprobs = torch.log_softmax(logits, dim=-1)
    nll = -lprobs.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    smooth = -lprobs.sum(-1)
    mask = labels != PAD
    per_token = (1 - EPSILON) * nll + EPSILON / lprobs.size(-1) * smooth
    total = (per_token * mask).sum()
    return total, total / mask.sum(), nll * mask


def shift_right(labels):
    shifted = labels.new_full(labels.shape, PAD)
    shifted[:, 1:] = labels[:, :-1]
    shifted[:, 0] = EOS
    return shifted


def pad_rows(rows):
    length = max(len(r) for r in rows)
    ids = torch.tensor([r + [PAD] * (length - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows])
    return ids, mask


def forward(model, input_ids, mask, labels, prompt=None):
    decoder_input_ids = shift_right(labels)
    if prompt is None:
        return model(input_ids=input_ids, attention_mask=mask, decoder_input_ids=decoder_input_ids).logits
    if prompt.dim() == 2:
        prompt = prompt.unsqueeze(0).expand(input_ids.shape[0], -1, -1)
    embeds = torch.cat([prompt, model.model.encoder.embed_tokens(input_ids)], dim=1)
    full_mask = torch.cat([torch.ones(input_ids.shape[0], prompt.shape[1], dtype=mask.dtype), mask], dim=1)
    return model(inputs_embeds=embeds, attention_mask=full_mask, decoder_input_ids=decoder_input_ids).logits


class Adapter(nn.Module):
    def __init__(self, down, up):
        super().__init__()
        self.down, self.up = down, up

    def forward(self, x):
        return x + torch.nn.functional.silu(x @ self.down) @ self.up


class AttentionWithAdapter(nn.Module):
    def __init__(self, attention, adapter):
        super().__init__()
        self.attention, self.adapter = attention, adapter

    def forward(self, *args, **kwargs):
        output, weights = self.attention(*args, **kwargs)
        return self.adapter(output), weights


def install_adapters(model, flat, bottleneck):
    """Paper placement by monkeypatching; returns a function that removes the adapters."""
    c = model.config.d_model
    size = c * bottleneck
    layers = list(model.model.encoder.layers) + list(model.model.decoder.layers)
    originals = []
    offset = 0

    def take(shape):
        nonlocal offset
        piece = flat[offset:offset + size].view(*shape)
        offset += size
        return piece

    for layer in layers:
        attention = Adapter(take((c, bottleneck)), take((bottleneck, c)))
        feed_forward = Adapter(take((c, bottleneck)), take((bottleneck, c)))
        originals.append((layer, layer.self_attn, layer.fc2))
        layer.self_attn = AttentionWithAdapter(layer.self_attn, attention)
        layer.fc2 = nn.Sequential(layer.fc2, feed_forward)
    assert offset == flat.numel()

    def remove():
        for layer, self_attn, fc2 in originals:
            layer.self_attn, layer.fc2 = self_attn, fc2
    return remove


def generated_tokens(sequences):
    """transformers' sequences without the start token, cut after the first EOS."""
    result = []
    for row in sequences.tolist():
        tokens = row[1:]
        if EOS in tokens:
            tokens = tokens[:tokens.index(EOS) + 1]
        result.append(tokens)
    return result


def run_generation(model, input_ids, mask, settings, prompt=None, adapters=None):
    """Generates with `settings` as the model's whole generation config (so nothing else leaks in)."""
    saved = model.generation_config
    model.generation_config = GenerationConfig(bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD,
                                               decoder_start_token_id=EOS, **settings)
    remove = install_adapters(model, adapters, BOTTLENECK) if adapters is not None else None
    with torch.no_grad():
        if prompt is None:
            out = model.generate(input_ids=input_ids, attention_mask=mask)
        else:
            embeds = torch.cat([prompt.unsqueeze(0).expand(input_ids.shape[0], -1, -1),
                                model.model.encoder.embed_tokens(input_ids)], dim=1)
            full_mask = torch.cat([torch.ones(input_ids.shape[0], prompt.shape[0], dtype=mask.dtype), mask], dim=1)
            out = model.generate(inputs_embeds=embeds, attention_mask=full_mask)
    if remove:
        remove()
    model.generation_config = saved
    return generated_tokens(out)


def option_scores(model, input_rows, options):
    scores = []
    with torch.no_grad():
        for row, candidates in zip(input_rows, options):
            ids = torch.tensor([row])
            per_option = []
            for option in candidates:
                labels = torch.tensor([option])
                logits = model(input_ids=ids, decoder_input_ids=shift_right(labels)).logits
                lprobs = torch.log_softmax(logits, dim=-1).gather(-1, labels.unsqueeze(-1))
                per_option.append(lprobs.sum().item())
            scores.append(per_option)
    return scores


def random_rows(generator, lengths):
    return [[BOS] + torch.randint(3, 200, (n - 2,), generator=generator).tolist() + [EOS] for n in lengths]


def expected_outputs(model, name, seed, generation_settings):
    generator = torch.Generator().manual_seed(seed)
    input_rows = random_rows(generator, [9, 6, 4])
    label_rows = random_rows(generator, [5, 3, 4])
    input_ids, mask = pad_rows(input_rows)
    labels, _ = pad_rows(label_rows)
    tensors, values = {}, {"inputs": input_rows, "targets": label_rows}
    for p in model.parameters():
        p.requires_grad_(False)

    with torch.no_grad():
        logits = forward(model, input_ids, mask, labels)
        total, mean, nll = loss_terms(logits, labels)
    tensors["logits"] = logits
    tensors["token_nll"] = nll
    values["loss_sum"], values["loss_mean"] = total.item(), mean.item()
    counts = (labels != PAD).sum(-1)
    values["example_nll"] = (nll.sum(-1) / counts).tolist()

    prompt = (0.5 * torch.randn(4, 32, generator=generator)).requires_grad_(True)
    logits = forward(model, input_ids, mask, labels, prompt)
    total, _, _ = loss_terms(logits, labels)
    total.backward()
    tensors["prompt"], tensors["prompt_gradient"] = prompt.detach(), prompt.grad
    values["prompt_loss_sum"] = total.item()

    per_example = (0.5 * torch.randn(3, 4, 32, generator=generator)).requires_grad_(True)
    total, _, _ = loss_terms(forward(model, input_ids, mask, labels, per_example), labels)
    total.backward()
    tensors["per_example_prompt"], tensors["per_example_prompt_gradient"] = per_example.detach(), per_example.grad
    values["per_example_prompt_loss_sum"] = total.item()

    layers = model.config.encoder_layers + model.config.decoder_layers
    flat = (0.3 * torch.randn(layers * 2 * 2 * 32 * BOTTLENECK, generator=generator)).requires_grad_(True)
    remove = install_adapters(model, flat, BOTTLENECK)
    logits = forward(model, input_ids, mask, labels)
    total, _, _ = loss_terms(logits, labels)
    total.backward()
    remove()
    tensors["adapters"], tensors["adapter_gradient"] = flat.detach(), flat.grad
    values["adapter_loss_sum"] = total.item()

    options = [[[BOS, 7, EOS], [BOS, 8, 9, EOS], [BOS, 10, 11, 12, EOS]], [[BOS, 13, EOS], [BOS, 7, EOS]],
               [[BOS, 14, 15, EOS], [BOS, 16, EOS], [BOS, 17, EOS], [BOS, 7, 8, EOS]]]
    values["options"] = options
    values["option_scores"] = option_scores(model, input_rows, options)

    generation_rows = random_rows(generator, [7, 12, 5, 9, 8, 10, 6, 11])
    gen_ids, gen_mask = pad_rows(generation_rows)
    values["generation_inputs"] = generation_rows
    gen_prompt = 0.5 * torch.randn(3, 32, generator=generator)
    gen_adapters = 0.3 * torch.randn(layers * 2 * 2 * 32 * BOTTLENECK, generator=generator)
    tensors["generation_prompt"], tensors["generation_adapters"] = gen_prompt, gen_adapters
    runs = []
    for settings, extra in generation_settings:
        out = run_generation(model, gen_ids, gen_mask, settings,
                             prompt=gen_prompt if extra == "prompt" else None,
                             adapters=gen_adapters if extra == "adapters" else None)
        runs.append({"settings": settings, "with": extra, "output": out})
        print(name, settings, extra, [len(o) for o in out])
    with torch.no_grad():
        runs.append({"settings": None, "with": None,
                     "output": generated_tokens(model.generate(input_ids=gen_ids, attention_mask=gen_mask))})
    print(name, "defaults", runs[-1]["output"])
    values["generation"] = runs

    names = [n for n, _ in model.model.named_parameters()]
    values["parameter_names"] = names
    values["parameter_count"] = sum(p.numel() for p in model.model.parameters())

    save_file({k: v.detach().contiguous().float() for k, v in tensors.items()},
              os.path.join(ROOT, f"{name}-expected.safetensors"))
    with open(os.path.join(ROOT, f"{name}-expected.json"), "w") as f:
        json.dump(values, f, indent=1)


GREEDY_AND_BEAM = [
    ({"num_beams": 1, "max_length": 12, "min_length": 3}, None),
    ({"num_beams": 1, "max_length": 10, "no_repeat_ngram_size": 2, "min_length": 6, "forced_bos_token_id": BOS,
      "forced_eos_token_id": EOS}, None),
    ({"num_beams": 1, "min_length": 18}, None),  # transformers' default length: 20 new tokens
    ({"num_beams": 4, "max_length": 16, "early_stopping": True, "no_repeat_ngram_size": 3, "length_penalty": 1.0,
      "min_length": 3, "forced_bos_token_id": BOS, "forced_eos_token_id": EOS}, None),
    ({"num_beams": 4, "max_length": 14, "early_stopping": False, "length_penalty": 2.0, "min_length": 3}, None),
    ({"num_beams": 4, "max_length": 14, "early_stopping": False, "length_penalty": 1.0}, None),
    ({"num_beams": 4, "max_length": 14, "early_stopping": "never", "length_penalty": 0.5, "min_length": 3}, None),
    ({"num_beams": 3, "max_new_tokens": 9, "early_stopping": "never", "length_penalty": -1.0,
      "no_repeat_ngram_size": 2, "min_new_tokens": 2}, None),
    ({"num_beams": 2, "max_length": 12, "early_stopping": True, "min_length": 3}, "prompt"),
    ({"num_beams": 4, "max_length": 12, "no_repeat_ngram_size": 3, "min_length": 3}, "adapters"),
]


def write_folder(name, model, state, dtype, generation_config, config_extra):
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    config = model.config.to_diff_dict()
    for key in ["architectures", "transformers_version", "dtype", "id2label", "label2id", "_name_or_path"]:
        config.pop(key, None)
    config.update(config_extra)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
    if generation_config is not None:
        with open(os.path.join(folder, "generation_config.json"), "w") as f:
            json.dump(generation_config, f, indent=1, sort_keys=True)
    save_file({k: v.detach().clone().to(dtype).contiguous() for k, v in state.items()},
              os.path.join(folder, "model.safetensors"))
    return folder


def main():
    os.makedirs(ROOT, exist_ok=True)

    # bart-tiny: BartModel keys, F32, defaults in generation_config.json.
    torch.manual_seed(0)
    model = BartForConditionalGeneration(tiny_config(scale_embedding=False)).eval()
    randomize(model, seed=7, eos_boost=2.0)
    state = {k: v for k, v in model.model.state_dict().items() if "embed_tokens" not in k}
    generation_defaults = {"bos_token_id": BOS, "decoder_start_token_id": EOS, "eos_token_id": EOS,
                           "pad_token_id": PAD, "num_beams": 4, "no_repeat_ngram_size": 3, "early_stopping": True,
                           "forced_bos_token_id": BOS, "forced_eos_token_id": EOS, "max_length": 16,
                           "min_length": 3, "length_penalty": 1.0}
    folder = write_folder("bart-tiny", model, state, torch.float16, generation_defaults, {})
    loaded = BartForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
    assert torch.equal(loaded.model.shared.weight, model.model.shared.weight.half().float())
    assert not loaded.final_logits_bias.any()
    expected_outputs(loaded, "bart-tiny", seed=2, generation_settings=GREEDY_AND_BEAM)

    # bart-tiny-scaled: BartForConditionalGeneration keys, F16, scale_embedding, final_logits_bias,
    # the tied table stored four times, generation keys in config.json only.
    torch.manual_seed(3)
    model = BartForConditionalGeneration(tiny_config(scale_embedding=True)).eval()
    randomize(model, seed=4, eos_boost=1.0)
    with torch.no_grad():
        bias = 0.5 * torch.randn(1, 200, generator=torch.Generator().manual_seed(5))
        bias[0, EOS] += 3.0
        model.final_logits_bias.copy_(bias)
    state = {f"model.{k}": v for k, v in model.model.state_dict().items()}
    state["final_logits_bias"] = model.final_logits_bias
    state["lm_head.weight"] = model.model.shared.weight
    config_generation = {"num_beams": 4, "early_stopping": True, "no_repeat_ngram_size": 3, "length_penalty": 1.5,
                         "max_length": 12, "min_length": 2, "forced_bos_token_id": BOS}
    folder = write_folder("bart-tiny-scaled", model, state, torch.float16, None, config_generation)
    loaded = BartForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
    assert loaded.final_logits_bias.abs().sum() > 0 and loaded.config.scale_embedding
    expected_outputs(loaded, "bart-tiny-scaled", seed=6, generation_settings=GREEDY_AND_BEAM[:1] + GREEDY_AND_BEAM[3:9])

    # Without generation_config.json, transformers takes only the generation keys present in
    # config.json: absent special tokens stay unset (BartConfig's own defaults do not apply).
    with open(os.path.join(folder, "config.json")) as f:
        stripped = json.load(f)
    for key in ["eos_token_id", "decoder_start_token_id", "forced_eos_token_id", "max_length"]:
        stripped.pop(key)
    with tempfile.TemporaryDirectory() as scratch:
        with open(os.path.join(scratch, "config.json"), "w") as f:
            json.dump(stripped, f)
        shutil.copy(os.path.join(folder, "model.safetensors"), scratch)
        generation = BartForConditionalGeneration.from_pretrained(scratch).generation_config.to_diff_dict()
    generation.pop("transformers_version", None)
    with open(os.path.join(ROOT, "config-without-generation-tokens.json"), "w") as f:
        json.dump({"config": stripped, "generation_config": generation}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
