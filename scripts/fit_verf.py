"""Fits the polynomial coefficients of `verf` (Sources/IPTCore/Kernels/VectorMath.swift).

erf is evaluated in two pieces, each a near-minimax polynomial found by iteratively reweighted
least squares on Chebyshev nodes (double precision, then rounded to float32):

  |x| < 1:       erf(x) = x + x * q(x^2),         q ~ erf(x)/x - 1            (degree 7 in x^2)
  1 <= |x| <= 4: erf(x) = 1 - exp(-x^2) * g(1/x), g ~ erfcx(x) = e^(x^2) erfc(x) (degree 8 in 1/x)

and |x| > 4 gives +-1 (erfc(4) = 1.5e-8 is below half an ulp of 1). The script prints the
coefficients as Swift literals and the worst error of a float32 evaluation against scipy's erf
(about 1.3 ulp, 1e-7 absolute). Run: /work/main/.venv/bin/python scripts/fit_verf.py
"""
import numpy as np
from scipy.special import erf, erfcx


def fit(f, a, b, degree, basis, weight, iterations=30):
    """Near-minimax fit of f on [a, b] in powers of basis(x), error relative to weight(x)."""
    k = np.arange(4000)
    x = (a + b) / 2 + (b - a) / 2 * np.cos((2 * k + 1) * np.pi / 8000)
    w = np.ones_like(x)
    for _ in range(iterations):
        design = np.stack([basis(x) ** i for i in range(degree + 1)], 1) / weight(x)[:, None]
        target = f(x) / weight(x)
        c, *_ = np.linalg.lstsq(design * w[:, None], target * w, rcond=None)
        error = np.abs(design @ c - target)
        w = w * (1 + 2 * error / error.max())
    return np.float32(c)


def horner(c, t):
    p = np.full_like(t, c[-1])
    for ci in c[-2::-1]:
        p = (p * t + ci).astype(np.float32)
    return p


def small_q(u):
    root = np.sqrt(np.where(u > 0, u, 1))
    return np.where(u > 0, erf(root) / root, 2 / np.sqrt(np.pi)) - 1


q = fit(small_q, 0, 1, 7, lambda u: u, lambda u: np.ones_like(u))
g = fit(erfcx, 1, 4, 8, lambda x: 1 / x, erfcx)
for name, c in (("q", q), ("g", g)):
    print(f"{name}:", ", ".join(repr(float(v)) for v in c[::-1]), "(highest degree first)")

x = np.linspace(-6, 6, 2_000_001).astype(np.float32)
ax = np.abs(x)
u = (ax * ax).astype(np.float32)
small = (ax + ax * horner(q, u)).astype(np.float32)
t = (np.float32(1) / np.clip(ax, 1, 4)).astype(np.float32)
large = (np.float32(1) - np.exp(-u) * horner(g, t)).astype(np.float32)
y = np.copysign(np.where(ax < 1, small, large), x)
reference = erf(x.astype(np.float64))
ulp = np.spacing(np.abs(reference).astype(np.float32)).astype(np.float64)
print("max ulp error", (np.abs(y - reference) / ulp).max(), "max abs error", np.abs(y - reference).max())
