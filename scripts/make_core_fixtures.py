"""Writes the IPTCore test fixtures (Tests/IPTCoreTests/Fixtures/), from PyTorch, NumPy and safetensors.

    /work/main/.venv/bin/python scripts/make_core_fixtures.py

Files (all small, deterministic: fixed seeds, no data from outside):

* ops.safetensors: for every differentiable op of IPTCore, float32 inputs, a fixed upstream gradient
  `<case>.dy`, the output `<case>.y` and the input gradients `<case>.d<input>`. References are
  computed by PyTorch in float64 from the float32 inputs (then rounded to float32), so they are
  the exact answers the Swift float32 kernels approximate. Integer inputs (indices, targets,
  masks) are stored as float32. Also the NumPy SVD of a few matrices (`svd_*`).
  Tests/IPTCoreTests/TorchParityTests.swift and LAPACKTests.swift mirror the cases by name.
* random.json: the first outputs of RandomGenerator (xoshiro256** seeded by SplitMix64, Lemire's
  integer range, Fisher-Yates shuffle, Box-Muller normals, derived streams, the dropout mask), from
  a reference implementation below written from Sources/IPTCore/Random/RandomGenerator.swift.
* python_written.safetensors + python_written.json: a file written by the Python safetensors package
  (F32, F16, BF16, F64, a 0-dim scalar, an empty tensor, __metadata__) and what it must read as.
"""
import json
import math
import os

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "IPTCoreTests", "Fixtures")
torch.set_default_dtype(torch.float64)
generator = torch.Generator().manual_seed(20240611)
tensors = {}


def randn(*shape, scale=1.0):
    return (torch.randn(tuple(shape), generator=generator, dtype=torch.float32) * scale).to(torch.float32)


def uniform(*shape, low=0.0, high=1.0):
    return (torch.rand(tuple(shape), generator=generator, dtype=torch.float32) * (high - low) + low).to(torch.float32)


def put(name, value):
    assert name not in tensors, name
    tensors[name] = torch.as_tensor(value).detach().to(torch.float32).contiguous().clone()


def case(name, inputs, function, constants=None):
    """Runs `function(**inputs, **constants)` in float64 with gradients for every input.

    `inputs`: float32 tensors that receive gradients; `constants`: tensors stored but not
    differentiated (indices, masks). The function returns one tensor or a tuple of tensors.
    """
    constants = constants or {}
    leaves = {k: v.double().requires_grad_(True) for k, v in inputs.items()}
    outputs = function(**leaves, **{k: v.double() for k, v in constants.items()})
    single = isinstance(outputs, torch.Tensor)
    outputs = (outputs,) if single else outputs
    seeds = [randn(*y.shape) for y in outputs]
    torch.autograd.backward(list(outputs), [s.double() for s in seeds])
    for k, v in {**inputs, **constants}.items():
        put(f"{name}.{k}", v)
    for i, (y, s) in enumerate(zip(outputs, seeds)):
        suffix = "" if single else str(i)
        put(f"{name}.y{suffix}", y)
        put(f"{name}.dy{suffix}", s)
    for k, leaf in leaves.items():
        put(f"{name}.d{k}", leaf.grad)


# Broadcasting binary ops and scalar ops.
case("add", {"a": randn(2, 3, 4), "b": randn(3, 1)}, lambda a, b: a + b)
case("sub", {"a": randn(2, 3), "b": randn(3)}, lambda a, b: a - b)
case("mul", {"a": randn(2, 1, 4), "b": randn(3, 1)}, lambda a, b: a * b)
case("div", {"a": randn(2, 3), "b": uniform(2, 1, low=0.5, high=2.0)}, lambda a, b: a / b)
case("scalar", {"x": randn(5)}, lambda x: 1 + 2 * (-((2.5 - x) * 3 + 1) / 4 - 0.5))

# Matrix products: all transposition cases, 2-D, batched, broadcast on either side, alpha, rank 4.
def op(t, transposed):
    return t.transpose(-1, -2) if transposed else t


for ta in (False, True):
    for tb in (False, True):
        tag = ("t" if ta else "n") + ("t" if tb else "n")
        mm = lambda a, b, ta=ta, tb=tb: op(a, ta) @ op(b, tb)
        shape_a = lambda *batch: (*batch, 4, 3) if ta else (*batch, 3, 4)
        shape_b = lambda *batch: (*batch, 5, 4) if tb else (*batch, 4, 5)
        case(f"matmul.{tag}", {"a": randn(*shape_a()), "b": randn(*shape_b())}, mm)
        case(f"matmul_batched.{tag}", {"a": randn(*shape_a(2)), "b": randn(*shape_b(2))}, mm)
        case(f"matmul_bcast_b.{tag}", {"a": randn(*shape_a(2)), "b": randn(*shape_b())}, mm)
        case(f"matmul_bcast_a.{tag}", {"a": randn(*shape_a()), "b": randn(*shape_b(2))}, mm)
case("matmul_alpha", {"a": randn(3, 4), "b": randn(5, 4)}, lambda a, b: 0.25 * (a @ b.T))
case("matmul_rank4", {"a": randn(2, 2, 3, 4), "b": randn(2, 2, 4, 5)}, lambda a, b: a @ b)
case("linear", {"x": randn(2, 3, 4), "w": randn(5, 4), "bias": randn(5)}, lambda x, w, bias: F.linear(x, w, bias))
case("linear_nobias", {"x": randn(3, 4), "w": randn(5, 4)}, lambda x, w: F.linear(x, w))

# Reductions.
case("sum_all", {"x": randn(2, 3, 4)}, lambda x: x.sum())
case("sum_ax1", {"x": randn(2, 3, 4)}, lambda x: x.sum(1))
case("sum_ax02_keep", {"x": randn(2, 3, 4)}, lambda x: x.sum((0, 2), keepdim=True))
case("mean_all", {"x": randn(2, 3, 4)}, lambda x: x.mean())
case("mean_last", {"x": randn(2, 3, 4)}, lambda x: x.mean(-1))
case("max_ax1", {"x": randn(2, 3, 4)}, lambda x: x.max(1).values)
case("max_last_keep", {"x": randn(2, 3, 4)}, lambda x: x.max(-1, keepdim=True).values)

# Shape ops.
case("reshape", {"x": randn(2, 3, 4)}, lambda x: x.reshape(6, -1))
case("permute", {"x": randn(2, 3, 4)}, lambda x: x.permute(2, 0, 1))
case("transpose", {"x": randn(2, 3, 4)}, lambda x: x.transpose(0, 2))
case("slice", {"x": randn(2, 3, 4)}, lambda x: x[:, 1:3])
case("concat", {"a": randn(2, 3, 4), "b": randn(2, 2, 4)}, lambda a, b: torch.cat([a, b], 1))
case("split", {"x": randn(2, 3, 5)}, lambda x: torch.split(x, [2, 3], dim=2))
case("broadcast", {"x": randn(3, 1)}, lambda x: x.expand(2, 3, 4))
case("unsqueeze", {"x": randn(3, 4)}, lambda x: x.unsqueeze(1))

# Embedding with repeated indices (the gradient scatter-adds).
case("embedding", {"table": randn(6, 3)}, lambda table, indices: F.embedding(indices.long(), table),
     constants={"indices": torch.tensor([[1, 4, 1], [0, 5, 1]], dtype=torch.float32)})

# Softmax family and layer norm.
case("softmax", {"x": randn(3, 7, scale=3)}, lambda x: torch.softmax(x, -1))
case("log_softmax", {"x": randn(3, 7, scale=3)}, lambda x: torch.log_softmax(x, -1))
case("layer_norm", {"x": randn(3, 8, scale=2) + 0.5, "w": randn(8), "bias": randn(8)},
     lambda x, w, bias: F.layer_norm(x, (8,), w, bias, eps=1e-5))

# Element-wise functions, over ranges that include the tails.
wide = torch.cat([torch.linspace(-6, 6, 48, dtype=torch.float32), randn(16, scale=2)])
positive = uniform(40, low=0.1, high=5.0)
case("gelu", {"x": wide}, lambda x: F.gelu(x))  # exact (erf) form
case("tanh", {"x": wide}, lambda x: torch.tanh(x))
case("sigmoid", {"x": torch.cat([wide * 3, torch.tensor([-30.0, 30.0], dtype=torch.float32)])}, lambda x: torch.sigmoid(x))
case("silu", {"x": wide}, lambda x: F.silu(x))
case("exp", {"x": torch.linspace(-10, 10, 40, dtype=torch.float32)}, lambda x: torch.exp(x))
case("log", {"x": positive}, lambda x: torch.log(x))
case("sqrt", {"x": positive}, lambda x: torch.sqrt(x))
case("relu", {"x": randn(40)}, lambda x: torch.relu(x))
case("square", {"x": randn(40)}, lambda x: torch.square(x))
case("masked_fill", {"x": randn(4, 5)}, lambda x, mask: x.masked_fill(mask != 0, -3.0),
     constants={"mask": torch.tensor([[1, 0, 0, 1, 0]], dtype=torch.float32)})


# Losses: fairseq's label-smoothed NLL, eps / V form, pad rows ignored.
def label_smoothed(logits, targets, epsilon, reduction, ignore=-100):
    lprobs = torch.log_softmax(logits, -1)
    target = targets.long()
    pad = target == ignore
    nll = -lprobs.gather(-1, target.clamp(min=0)[:, None])[:, 0]
    smooth = -lprobs.sum(-1)
    nll = nll.masked_fill(pad, 0)
    smooth = smooth.masked_fill(pad, 0)
    rows = (1 - epsilon) * nll + epsilon / logits.shape[-1] * smooth
    if reduction == "sum":
        return rows.sum()
    if reduction == "mean":
        return rows.sum() / (~pad).sum()
    return rows


targets = torch.tensor([2, -100, 5, 0, 3], dtype=torch.float32)
lsce_logits = randn(5, 6, scale=2)
for reduction in ("sum", "mean", "none"):
    case(f"lsce_{reduction}", {"logits": lsce_logits},
         lambda logits, targets, reduction=reduction: label_smoothed(logits, targets, 0.1, reduction),
         constants={"targets": targets})
# epsilon 0 is plain cross entropy: checked against PyTorch's own implementation.
case("cross_entropy", {"logits": lsce_logits},
     lambda logits, targets: F.cross_entropy(logits, targets.long(), ignore_index=-100),
     constants={"targets": targets})
case("mse", {"a": randn(3, 4), "b": randn(3, 4)}, lambda a, b: F.mse_loss(a, b))

# Unnormalised Walsh-Hadamard transform as a product with the Sylvester Hadamard matrix.
for n in (16, 64):
    H = torch.tensor(scipy.linalg.hadamard(n), dtype=torch.float64)
    case(f"hadamard{n}", {"x": randn(n)}, lambda x, H=H: H @ x)


# Multi-head attention, written as explicit ops.
def attention(q, k, v, heads, padding=None, causal=False, offset=0):
    (B, T, C), S = q.shape, k.shape[1]
    D = C // heads
    split = lambda t: t.reshape(B, -1, heads, D).transpose(1, 2)
    scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(D)
    mask = torch.zeros(B, 1, T, S, dtype=torch.bool)
    if padding is not None:
        mask |= (padding == 0)[:, None, None, :]
    if causal:
        mask |= torch.arange(S)[None, :] > offset + torch.arange(T)[:, None]
    scores = scores.masked_fill(mask, torch.finfo(torch.float32).min)
    return (torch.softmax(scores, -1) @ split(v)).transpose(1, 2).reshape(B, T, C)


case("attention_pad", {"q": randn(2, 3, 6), "k": randn(2, 4, 6), "v": randn(2, 4, 6)},
     lambda q, k, v, padding: attention(q, k, v, 2, padding=padding),
     constants={"padding": torch.tensor([[1, 1, 0, 1], [1, 1, 1, 1]], dtype=torch.float32)})
case("attention_causal", {"q": randn(2, 4, 6), "k": randn(2, 4, 6), "v": randn(2, 4, 6)},
     lambda q, k, v: attention(q, k, v, 3, causal=True))
case("attention_offset", {"q": randn(1, 2, 6), "k": randn(1, 5, 6), "v": randn(1, 5, 6)},
     lambda q, k, v: attention(q, k, v, 2, causal=True, offset=3))
# Left padding with a causal mask leaves query 0 of row 1 with no key: a uniform row whose
# scores get no gradient (masked_fill blocks it).
case("attention_pad_causal", {"q": randn(2, 4, 6), "k": randn(2, 4, 6), "v": randn(2, 4, 6)},
     lambda q, k, v, padding: attention(q, k, v, 2, padding=padding, causal=True),
     constants={"padding": torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]], dtype=torch.float32)})

# Thin SVD (NumPy, float64) of float32 matrices: tall, wide, and rank 2 (singular values only).
for name, matrix in (("svd_tall", randn(6, 4)), ("svd_wide", randn(4, 7)),
                     ("svd_rank2", (randn(5, 2) @ randn(2, 5)).to(torch.float32))):
    u, s, vt = np.linalg.svd(matrix.double().numpy(), full_matrices=False)
    put(f"{name}.a", matrix)
    put(f"{name}.u", torch.from_numpy(u))
    put(f"{name}.s", torch.from_numpy(s))
    put(f"{name}.vt", torch.from_numpy(vt))

# Attention over a source's key/value projections (Tensor.sourceAttention): the reference projects
# the source and attends. Item 2 of the first case has every key padded (uniform weights, no score
# gradient); the second case has one item, so its heads are split across the workers.
case("source_attention", {"q": randn(3, 3, 6), "e": randn(3, 5, 6), "wk": randn(6, 6), "bk": randn(6),
                          "wv": randn(6, 6), "bv": randn(6)},
     lambda q, e, wk, bk, wv, bv, padding: attention(q, F.linear(e, wk, bk), F.linear(e, wv, bv), 3, padding=padding),
     constants={"padding": torch.tensor([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=torch.float32)})
case("source_attention_one_item", {"q": randn(1, 2, 8), "e": randn(1, 4, 8), "wk": randn(8, 8), "bk": randn(8),
                                   "wv": randn(8, 8), "bv": randn(8)},
     lambda q, e, wk, bk, wv, bv: attention(q, F.linear(e, wk, bk), F.linear(e, wv, bv), 4))

os.makedirs(OUT, exist_ok=True)
save_file(tensors, os.path.join(OUT, "ops.safetensors"), metadata={"written_by": "scripts/make_core_fixtures.py"})


# ---- RandomGenerator reference (mirrors Sources/IPTCore/Random/RandomGenerator.swift) ----
MASK = (1 << 64) - 1


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro:
    def __init__(self, seed):
        self.seed = seed
        self.s = []
        state = seed
        for _ in range(4):
            state, value = splitmix(state)
            self.s.append(value)

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def derived(self, purpose):
        h = 0xCBF29CE484222325
        for byte in purpose.encode("utf-8"):
            h = ((h ^ byte) * 0x100000001B3) & MASK
        _, mixed = splitmix(self.seed ^ h)
        return Xoshiro(mixed)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def int_below(self, bound):
        product = self.next() * bound
        if product & MASK < bound:
            threshold = ((1 << 64) - bound) % bound
            while product & MASK < threshold:
                product = self.next() * bound
        return product >> 64

    def normal(self):
        u1 = self.uniform()
        while u1 <= 0:
            u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.int_below(i + 1)
            p[i], p[j] = p[j], p[i]
        return p


def dropout_mask(seed, probability, count):
    """Tensor.dropout's mask: 24 random bits per element, two elements per 64-bit draw."""
    g = Xoshiro(seed)
    p = np.float32(probability)
    threshold = int(float(p) * float(1 << 24))
    keep = np.float32(1) / (np.float32(1) - p)
    mask = []
    while len(mask) < count:
        bits = g.next()
        for half in (bits & 0xFFFFFFFF, bits >> 32):
            if len(mask) < count:
                mask.append(0.0 if (half & 0xFFFFFF) < threshold else float(keep))
    return mask


seeds = [0, 1, 42, (1 << 64) - 1]
random_reference = {"seeds": []}
for seed in seeds:
    entry = {"seed": str(seed)}
    g = Xoshiro(seed)
    entry["next"] = [str(g.next()) for _ in range(8)]
    g = Xoshiro(seed)
    entry["uniform"] = [repr(g.uniform()) for _ in range(4)]
    g = Xoshiro(seed)
    entry["normal"] = [repr(g.normal()) for _ in range(6)]
    ints = {}
    for bound in (1, 7, 10, 1000, (1 << 62) + 1):
        g = Xoshiro(seed)
        ints[str(bound)] = [str(g.int_below(bound)) for _ in range(8)]
    entry["int_below"] = ints
    g = Xoshiro(seed)
    entry["permutation10"] = g.permutation(10)
    entry["permutation_after"] = str(g.next())
    g = Xoshiro(seed)
    entry["derived_weight"] = str(g.derived("encoder.weight").next())
    entry["derived_index3"] = [str(x) for x in (lambda d: [d.next(), d.next()])(g.derived("#3"))]
    entry["derived_twice"] = str(g.derived("a").derived("b").next())
    g = Xoshiro(seed)
    # Tensor.randomNormal(mean: 0.5, standardDeviation: 2) and randomUniform(low: -1, high: 3), Float.
    entry["random_normal_f32"] = [repr(float(np.float32(0.5) + np.float32(2) * np.float32(g.normal()))) for _ in range(5)]
    g = Xoshiro(seed)
    entry["random_uniform_f32"] = [repr(float(np.float32(-1) + np.float32(g.uniform() * 4.0))) for _ in range(5)]
    random_reference["seeds"].append(entry)
random_reference["dropout"] = {"seed": 99, "probability": 0.3, "mask": dropout_mask(99, 0.3, 11)}
with open(os.path.join(OUT, "random.json"), "w") as f:
    json.dump(random_reference, f, indent=1)
    f.write("\n")

# ---- A file written by the Python safetensors package ----
half = torch.tensor([1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, -0.0, float("inf"), 0.333], dtype=torch.float16)
brain = torch.tensor([[1.0, -3.140625], [1e30, -1e-30]], dtype=torch.bfloat16)
written = {
    "f32": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4 - 0.5,
    "f16": half,
    "bf16": brain,
    "f64": torch.tensor([1.0 / 3.0, -1e-300, 2.0 ** 70], dtype=torch.float64),
    "scalar": torch.tensor(7.25, dtype=torch.float32),
    "empty": torch.zeros(0, 3, dtype=torch.float32),
}
metadata = {"format": "pt", "note": "written by safetensors.torch.save_file", "unicode": "héllo ✓"}
path = os.path.join(OUT, "python_written.safetensors")
save_file(written, path, metadata=metadata)
with open(path, "rb") as f:
    length = int.from_bytes(f.read(8), "little")
    header = json.loads(f.read(length))
order = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
expected = {
    "order": order,
    "metadata": metadata,
    "tensors": {name: {"dtype": header[name]["dtype"], "shape": list(t.shape),
                       "values": [repr(float(v)) for v in t.to(torch.float32).flatten().tolist()]}
                for name, t in written.items()},
}
with open(os.path.join(OUT, "python_written.json"), "w") as f:
    json.dump(expected, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote", len(tensors), "tensors to ops.safetensors,", os.path.getsize(os.path.join(OUT, "ops.safetensors")), "bytes")
