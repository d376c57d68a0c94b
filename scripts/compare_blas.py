#!/usr/bin/env python3
"""Single-threaded sgemm of several BLAS libraries in one process, call by call, on the shapes of
a BART-base prompt-tuning step: the comparison behind Docs/performance.md, "Choosing the BLAS".

    .venv/bin/python scripts/compare_blas.py [--rounds 3] [--seconds-per-shape 1.5]

Libraries (each skipped with a note when absent):
  debian  Debian's OpenBLAS 0.3.x (the library's default), with OPENBLAS_CORETYPE set as IPTCore
          sets it (COOPERLAKE on a CPU with avx512_bf16, else SKYLAKEX with avx512f; override by
          exporting OPENBLAS_CORETYPE)
  mkl     Intel MKL from PyPI's `mkl` wheel in this environment (what PyTorch's wheel calls)
  numpy   the OpenBLAS bundled with numpy's wheel (a newer release, through numpy.matmul)

Why in one process: on a shared virtual machine the speed of a core moves by 20-40% between
minutes, so libraries timed in separate processes are not comparable; here every library runs
the same product back to back, many times, and the medians are compared. One thread each, as
IPTCore calls the BLAS inside its own split of each product across its workers. The rows are
the per-worker halves of the step's products (1824 rows split in two) and one attention head.
"""
import argparse
import contextlib
import ctypes
import glob
import os
import statistics
import sys
import time


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


flags = cpu_flags()
if "OPENBLAS_CORETYPE" not in os.environ:
    if "avx512_bf16" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "COOPERLAKE"
    elif "avx512f" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "SKYLAKEX"

import numpy as np  # noqa: E402  (after OPENBLAS_CORETYPE is set)

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_info = threadpool_limits = None

SHAPES = [  # (m, n, k, transpose A, transpose B, what)
    (912, 768, 768, False, True, "q/k/v/out  x W^T"),
    (912, 3072, 768, False, True, "fc1        x W^T"),
    (912, 768, 3072, False, True, "fc2        x W^T"),
    (912, 768, 3072, False, False, "fc1 dx     g W"),
    (912, 3072, 768, False, False, "fc2 dx     g W"),
    (228, 228, 64, False, True, "head       Q K^T"),
    (228, 64, 228, False, False, "head       P V"),
]

P = ctypes.POINTER(ctypes.c_float)


def load(path):
    try:
        return ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
    except OSError:
        return None


def cblas_caller(lib):
    def call(m, n, k, ta, tb, a, b, c):
        lda = m if ta else k
        ldb = k if tb else n
        # CblasRowMajor 101, CblasNoTrans 111, CblasTrans 112.
        lib.cblas_sgemm(101, 112 if ta else 111, 112 if tb else 111, m, n, k, ctypes.c_float(1),
                        a.ctypes.data_as(P), lda, b.ctypes.data_as(P), ldb, ctypes.c_float(0), c.ctypes.data_as(P), n)
    return call


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over all shapes (default 3)")
    parser.add_argument("--seconds-per-shape", type=float, default=1.5, help="per shape and round (default 1.5)")
    args = parser.parse_args()

    libraries = {}
    debian_path = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"
    debian = load(debian_path)
    if debian is None:
        print(f"# debian: {debian_path} not found (apt-get install libopenblas-dev)")
    else:
        debian.openblas_set_num_threads(1)
        debian.openblas_get_corename.restype = ctypes.c_char_p
        debian.openblas_get_config.restype = ctypes.c_char_p
        print(f"# debian: {debian.openblas_get_config().decode()}, core {debian.openblas_get_corename().decode()}")
        libraries["debian"] = cblas_caller(debian)
    mkl_paths = sorted(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*")))
    mkl = load(mkl_paths[0]) if mkl_paths else None
    if mkl is None:
        print(f"# mkl: no libmkl_rt.so in {sys.prefix}/lib (pip install mkl)")
    else:
        mkl.MKL_Set_Num_Threads(1)
        print(f"# mkl: {mkl_paths[0]}")
        libraries["mkl"] = cblas_caller(mkl)
    if threadpool_limits is None:
        print("# numpy: threadpoolctl missing (pip install threadpoolctl); numpy's OpenBLAS skipped")
    else:
        libraries["numpy"] = None  # numpy.matmul below
        bundled = [i for i in threadpool_info() if "numpy" in i["filepath"] or "scipy_openblas" in i["filepath"]]
        described = ", ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')})" for i in bundled)
        print(f"# numpy: {np.__version__}, {described or 'BLAS not identified'}")
    if not libraries:
        print("compare_blas: no library to compare", file=sys.stderr)
        return 2

    rng = np.random.default_rng(0)
    rates = {name: {s: [] for s in range(len(SHAPES))} for name in libraries}
    with threadpool_limits(1) if threadpool_limits else contextlib.nullcontext():
        for _ in range(args.rounds):
            for si, (m, n, k, ta, tb, _) in enumerate(SHAPES):
                a = rng.standard_normal(m * k, dtype=np.float32)
                b = rng.standard_normal(k * n, dtype=np.float32)
                c = np.zeros(m * n, np.float32)
                a2 = a.reshape(k, m).T if ta else a.reshape(m, k)
                b2 = b.reshape(n, k).T if tb else b.reshape(k, n)
                c2 = c.reshape(m, n)
                calls = {name: (lambda f=f: f(m, n, k, ta, tb, a, b, c)) if f else (lambda: np.matmul(a2, b2, out=c2))
                         for name, f in libraries.items()}
                times = {name: [] for name in calls}
                deadline = time.perf_counter() + args.seconds_per_shape
                while time.perf_counter() < deadline or len(times[next(iter(times))]) < 5:
                    for name, call in calls.items():  # the libraries alternate call by call
                        t0 = time.perf_counter()
                        call()
                        times[name].append(time.perf_counter() - t0)
                for name, values in times.items():
                    rates[name][si].append(2 * m * n * k / statistics.median(values) / 1e9)

    names = list(libraries)
    print("GFLOP/s, one thread, median of each round's median; ratio = library / debian")
    print(f"{'shape':<18} {'m':>5} {'n':>5} {'k':>5} " + " ".join(f"{name:>8}" for name in names)
          + ("".join(f" {name + '/deb':>10}" for name in names if name != "debian") if "debian" in names else ""))
    for si, (m, n, k, _, _, what) in enumerate(SHAPES):
        medians = {name: statistics.median(rates[name][si]) for name in names}
        line = f"{what:<18} {m:>5} {n:>5} {k:>5} " + " ".join(f"{medians[name]:8.1f}" for name in names)
        if "debian" in names:
            line += "".join(f" {medians[name] / medians['debian']:10.3f}" for name in names if name != "debian")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
