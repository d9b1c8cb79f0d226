#!/usr/bin/env python3
"""Times the parts of one sparse-GP evaluation (docs/performance.md, "Against GPyTorch") as
mcdrop's `bound_and_gradient` makes it (src/models/gp/sparse/gradient.rs): the same libtorch
calls in the same order, at kin8nm's shapes by default, one member, one thread, random inputs. Parts are
timed in sequence, as the evaluation runs them, since a part timed alone on inputs it has just
used finds them in cache. Run it with the AVX2 pins and the allocator settings mcdrop sets at
start-up (src/numerics.rs, src/runtime.rs; both read from the environment at start-up):

    env ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=AVX2,STRICT \
        MKL_ENABLE_INSTRUCTIONS=AVX2 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_MMAP_MAX_=0 \
        MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 \
        .venv/bin/python scripts/bench/sparse_eval_parts.py

Prints, per round, the evaluation's lower-quartile and median time over the repeats and the
mean milliseconds per evaluation of each part.
"""
import argparse
import time

import torch


def se_kernel(a, b, log_ls, log_sf):
    scale = log_ls.exp().unsqueeze(1)
    a, b = a / scale, b / scale
    rows = -0.5 * (a * a).sum(-1, keepdim=True) + (2 * log_sf).view(-1, 1, 1)
    cols = (-0.5 * (b * b).sum(-1, keepdim=True)).transpose(1, 2)
    return (rows + cols).baddbmm(a, b.transpose(1, 2)).exp_()


def moments(x):
    return torch.cat([x, x * x, torch.ones(x.shape[0], x.shape[1], 1, dtype=x.dtype)], 2)


class Parts:
    def __init__(self):
        self.seconds = {}
        self.last = time.perf_counter()

    def lap(self, name):
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self.last
        self.last = now


def evaluate(x, y, z, log_ls, log_sf, log_sn, chunk, blocks, parts):
    m, n = z.shape[1], x.shape[1]
    eye = torch.eye(m, dtype=x.dtype)
    parts.last = time.perf_counter()
    kmm = se_kernel(z, z, log_ls, log_sf)
    l = torch.linalg.cholesky(kmm)
    parts.lap("M x M: K_mm and its factor")
    psi = torch.zeros(1, m, m, dtype=x.dtype)
    r = torch.zeros(1, m, 1, dtype=x.dtype)
    width = -(-m // blocks)
    for start in range(0, n, chunk):
        xc, yc = x[:, start:start + chunk], y[:, start:start + chunk]
        k = se_kernel(z, xc, log_ls, log_sf)
        parts.lap("pass 1: kernel block")
        a = torch.linalg.solve_triangular(l, k, upper=False)
        parts.lap("pass 1: A = L^-1 K_mn")
        for lo in range(0, m, width):
            hi = min(lo + width, m)
            psi[:, lo:hi, :hi].baddbmm_(a[:, lo:hi], a[:, :hi].transpose(1, 2))
        parts.lap("pass 1: Psi, lower block triangle")
        r += a.bmm(yc.unsqueeze(-1))
        parts.lap("pass 1: r")
    psi = psi.tril() + psi.tril(-1).transpose(1, 2)
    s = (2 * log_sn).exp().view(-1, 1, 1)
    lb = torch.linalg.cholesky(psi / s + eye)
    c = torch.linalg.solve_triangular(lb, r, upper=False) / s
    b_inv = torch.cholesky_inverse(lb)
    beta = torch.linalg.solve_triangular(lb.transpose(1, 2), c, upper=True)
    g = (b_inv.baddbmm(beta, beta.transpose(1, 2)) - eye) / s
    g_r = -beta / s
    parts.lap("M x M: bound and dF/dPsi")
    lt = l.transpose(1, 2)

    def sandwich(b):
        return torch.linalg.solve_triangular(l, torch.linalg.solve_triangular(lt, b, upper=True), upper=False, left=False)

    r_mat = sandwich(g)
    rho = torch.linalg.solve_triangular(lt, g_r, upper=True)
    outer = psi.bmm(g).baddbmm(r, g_r.transpose(1, 2))
    d_kmm = sandwich(outer + outer.transpose(1, 2)) * -0.25
    parts.lap("M x M: pullback through L")
    sums = torch.zeros(1, m, 2 * x.shape[2] + 1, dtype=x.dtype)
    for start in range(0, n, chunk):
        xc, yc = x[:, start:start + chunk], y[:, start:start + chunk]
        k = se_kernel(z, xc, log_ls, log_sf)
        parts.lap("pass 2: kernel block")
        w = rho.bmm(yc.unsqueeze(1)).baddbmm(r_mat, k).mul_(k)
        parts.lap("pass 2: W = (R K_mn + rho y^T) o K_mn")
        sums = sums.baddbmm(w, moments(xc))
        parts.lap("pass 2: W [X, X o X, 1]")
    (kmm * d_kmm).bmm(moments(z))
    parts.lap("M x M: pullback through K_mm")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inducing", type=int, default=500)
    ap.add_argument("--rows", type=int, default=7373)
    ap.add_argument("--inputs", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=(1 << 19) // 500, help="rows per chunk (mcdrop: 2^19 / M)")
    ap.add_argument("--blocks", type=int, default=5, help="row blocks of Psi's lower triangle")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    m, n, d = args.inducing, args.rows, args.inputs
    dt = torch.float64
    x = torch.randn(1, n, d, dtype=dt)
    y = torch.randn(1, n, dtype=dt)
    z = x[:, :m] + 0.01 * torch.randn(1, m, d, dtype=dt)
    log_ls, log_sf, log_sn = torch.zeros(1, d, dtype=dt), torch.zeros(1, dtype=dt), torch.full((1,), -2.3, dtype=dt)
    for _ in range(args.rounds):
        parts = Parts()
        evaluate(x, y, z, log_ls, log_sf, log_sn, args.chunk, args.blocks, parts)
        parts.seconds.clear()
        times = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            evaluate(x, y, z, log_ls, log_sf, log_sn, args.chunk, args.blocks, parts)
            times.append(time.perf_counter() - began)
        times.sort()
        print(f"evaluation: {times[len(times) // 4] * 1000:.1f} ms (lower quartile), {times[len(times) // 2] * 1000:.1f} ms (median)")
        for name, seconds in parts.seconds.items():
            print(f"  {name:42s} {seconds / args.repeats * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
