#!/usr/bin/env python3
"""Times the parts of one sparse-GP evaluation (docs/performance.md, "Against GPyTorch") with
the libtorch calls mcdrop makes, at kin8nm's shapes by default, one thread. Run it with the
AVX2 pins mcdrop sets (src/numerics.rs; variables read at start-up): `env
ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=AVX2,STRICT
MKL_ENABLE_INSTRUCTIONS=AVX2 .venv/bin/python scripts/bench/sparse_eval_parts.py`. Prints
milliseconds per call, the mean of 5 after one untimed call, and the largest difference from
the plain triangular solve where a variant replaces it.
"""
import argparse
import time

import torch


def timed(f, repeats=5):
    f()
    began = time.perf_counter()
    for _ in range(repeats):
        f()
    return (time.perf_counter() - began) / repeats * 1000


def se_kernel(a, b):
    rows = -0.5 * (a * a).sum(-1, keepdim=True)
    cols = (-0.5 * (b * b).sum(-1, keepdim=True)).transpose(1, 2)
    return (rows + cols).baddbmm(a, b.transpose(1, 2)).exp_()


def gram_by_row_blocks(a, blocks):
    """A A^T's lower block triangle, row block by row block."""
    m = a.shape[1]
    width = m // blocks
    out = torch.zeros(a.shape[0], m, m, dtype=a.dtype)
    for i in range(blocks):
        rows = a[:, i * width:(i + 1) * width]
        out[:, i * width:(i + 1) * width, :(i + 1) * width] = rows.bmm(a[:, :(i + 1) * width].transpose(1, 2))
    return out


def inverse_by_row_blocks(l_inv, k, blocks):
    """L^-1 K with L^-1 lower triangular, each row block against the columns it needs."""
    m = l_inv.shape[1]
    width = m // blocks
    out = torch.empty_like(k)
    for i in range(blocks):
        out[:, i * width:(i + 1) * width] = l_inv[:, i * width:(i + 1) * width, :(i + 1) * width].bmm(k[:, :(i + 1) * width])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inducing", type=int, default=500)
    ap.add_argument("--rows", type=int, default=7373)
    ap.add_argument("--inputs", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    m, n, d = args.inducing, args.rows, args.inputs
    x = torch.randn(1, n, d, dtype=torch.float64)
    z = torch.randn(1, m, d, dtype=torch.float64) * 0.3
    k = se_kernel(z, x)
    l = torch.linalg.cholesky(se_kernel(z, z) + 1e-6 * torch.eye(m, dtype=torch.float64))
    a = torch.linalg.solve_triangular(l, k, upper=False)
    r = torch.randn(1, m, m, dtype=torch.float64)
    r = r + r.transpose(1, 2)
    l_inv = torch.linalg.solve_triangular(l, torch.eye(m, dtype=torch.float64).unsqueeze(0), upper=False)
    print(f"kernel block K_mn: {timed(lambda: se_kernel(z, x)):.1f} ms")
    print(f"triangular solve L^-1 K_mn: {timed(lambda: torch.linalg.solve_triangular(l, k, upper=False)):.1f} ms")
    right = lambda: torch.linalg.solve_triangular(l.transpose(1, 2), k.transpose(1, 2), upper=True, left=False)
    print(f"  from the right on K_mn^T: {timed(right):.1f} ms")
    for blocks in (4, 5, 10):
        t = timed(lambda: inverse_by_row_blocks(l_inv, k, blocks))
        diff = (inverse_by_row_blocks(l_inv, k, blocks) - a).abs().max().item()
        print(f"  L^-1 as {blocks} row blocks of products: {t:.1f} ms (largest difference {diff:.1e})")
    print(f"Gram matrix A A^T: {timed(lambda: a.bmm(a.transpose(1, 2))):.1f} ms")
    for blocks in (2, 4, 5, 10):
        print(f"  lower block triangle, {blocks} row blocks: {timed(lambda: gram_by_row_blocks(a, blocks)):.1f} ms")
    print(f"R K_mn: {timed(lambda: r.bmm(k)):.1f} ms")
    w = k * r.bmm(k)
    print(f"one elementwise pass over K_mn: {timed(lambda: k * w):.1f} ms")


if __name__ == "__main__":
    main()
