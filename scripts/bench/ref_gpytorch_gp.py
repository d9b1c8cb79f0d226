#!/usr/bin/env python3
"""GPyTorch peer of `mcdrop bench gp`: fits one split's GP the way GPyTorch's users fit by a
quasi-Newton method, and prints what it took as key=value numbers.

The bench writes the split to DIR: x.txt (n x D), y.txt (n x 1), start.txt (the start, one
value a line: log length-scales, log signal std, log noise std) and, for the sparse GP, z.txt
(the M x D inducing inputs to start from). The model is mcdrop's: zero mean, SE-ARD times a
signal variance, Gaussian noise exp(2 log s_n) + floor, float64, Cholesky; with z.txt,
Titsias' collapsed bound (gpytorch's InducingPointKernel, inducing inputs learned). The
variables are ours too (each constraint's transform maps them), so both start at one point
and minimize one function of the same variables. The fit is torch.optim.LBFGS (10 pairs,
strong Wolfe line search, its default tolerances unless --tolerance-grad and
--tolerance-change say otherwise) in one `step` of at most --iterations iterations, on the
negative log marginal likelihood (or bound) per row, as gpytorch's examples write the loss. A trial point whose kernel has no Cholesky factor gets a huge value,
so that the line search backs away from it; those are counted as failed.

Needs torch and gpytorch (`.venv/bin/pip install gpytorch`). Prints: seconds, iterations,
evaluations, failed_evaluations, nlml_per_row, seconds_per_evaluation.
"""
import argparse
import os
import time

import torch
import gpytorch
from gpytorch.constraints import GreaterThan, Positive
from linear_operator.utils.errors import NotPSDError

torch.set_default_dtype(torch.float64)


def read(folder, name):
    return torch.tensor([[float(v) for v in line.split()] for line in open(os.path.join(folder, name))])


def positive():
    """A length-scale is the exp of its variable."""
    return Positive(transform=torch.exp, inv_transform=torch.log)


def std_exp(r):
    """A variance is the square of exp of its variable, a log standard deviation."""
    return torch.exp(2.0 * r)


def log_std(v):
    return 0.5 * torch.log(v)


class Model(gpytorch.models.ExactGP):
    def __init__(self, x, y, likelihood, d, inducing):
        super().__init__(x, y, likelihood)
        self.mean = gpytorch.means.ZeroMean()
        rbf = gpytorch.kernels.RBFKernel(ard_num_dims=d, lengthscale_constraint=positive())
        signal = Positive(transform=std_exp, inv_transform=log_std)
        scaled = gpytorch.kernels.ScaleKernel(rbf, outputscale_constraint=signal)
        if inducing is None:
            self.covariance = scaled
        else:
            self.covariance = gpytorch.kernels.InducingPointKernel(scaled, inducing.clone(), likelihood)

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(self.mean(x), self.covariance(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--noise-floor", type=float, default=1e-6)
    ap.add_argument("--time-evaluations", type=int, default=5)
    ap.add_argument("--tolerance-grad", type=float, default=1e-7, help="torch's default")
    ap.add_argument("--tolerance-change", type=float, default=1e-9, help="torch's default")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    x, y = read(args.folder, "x.txt"), read(args.folder, "y.txt")[:, 0]
    start = read(args.folder, "start.txt")[:, 0]
    z_path = os.path.join(args.folder, "z.txt")
    inducing = read(args.folder, "z.txt") if os.path.exists(z_path) else None
    n, d = x.shape

    noise = GreaterThan(args.noise_floor, transform=std_exp, inv_transform=log_std)
    likelihood = gpytorch.likelihoods.GaussianLikelihood(noise_constraint=noise)
    model = Model(x, y, likelihood, d, inducing)
    scaled = model.covariance if inducing is None else model.covariance.base_kernel
    with torch.no_grad():
        scaled.base_kernel.raw_lengthscale.copy_(start[:d].view(1, d))
        scaled.raw_outputscale.copy_(start[d])
        likelihood.noise_covar.raw_noise.copy_(start[d + 1].view(1))
    model.train()
    likelihood.train()
    mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
    params = [p for p in model.parameters() if p.requires_grad]
    failed = [0]

    def objective():
        try:
            return -mll(model(x), y)
        except NotPSDError:
            failed[0] += 1
            return sum(p.sum() * 0.0 for p in params) + 1e30

    def closure():
        optimizer.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    # Cholesky below this size (every set); the sparse kernel's solves and log-determinant go
    # through its M x M capacitance matrix either way (turning fast_computations off instead
    # would factor the dense n x n matrix).
    with gpytorch.settings.max_cholesky_size(10**9), gpytorch.settings.cholesky_max_tries(5):
        optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=args.iterations, history_size=10,
                                      line_search_fn="strong_wolfe", tolerance_grad=args.tolerance_grad,
                                      tolerance_change=args.tolerance_change)
        closure()
        began = time.perf_counter()
        for _ in range(args.time_evaluations):
            closure()
        per_evaluation = (time.perf_counter() - began) / max(args.time_evaluations, 1)
        failed[0] = 0

        began = time.perf_counter()
        optimizer.step(closure)
        seconds = time.perf_counter() - began
        state = optimizer.state[optimizer._params[0]]
        with torch.no_grad():
            final = float(objective())

    print(f"seconds={seconds} iterations={state['n_iter']} evaluations={state['func_evals']} "
          f"failed_evaluations={failed[0]} nlml_per_row={final} seconds_per_evaluation={per_evaluation}")


if __name__ == "__main__":
    main()
