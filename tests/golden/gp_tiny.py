"""Golden numbers for tests/gp.rs: exact GP with an SE-ARD kernel on a tiny 2-D data set.

Run with the project's venv: .venv/bin/python tests/golden/gp_tiny.py
Its output is pasted into tests/gp.rs (GOLDEN_*).
"""
import numpy as np

X = np.array([[0.0, 0.5], [1.0, -0.3], [-0.7, 0.2], [0.4, 1.1]])
y = np.array([0.3, -0.8, 0.5, 1.2])
Xs = np.array([[0.2, 0.1], [1.5, -1.0]])
ls = np.array([0.8, 1.7]); sf = 1.3; sn = 0.2

def k(a, b):
    d = (a[:, None, :] - b[None, :, :]) / ls
    return sf**2 * np.exp(-0.5 * (d**2).sum(-1))

K = k(X, X) + sn**2 * np.eye(len(X))
L = np.linalg.cholesky(K)
alpha = np.linalg.solve(K, y)
nlml = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * len(X) * np.log(2 * np.pi)
Ks = k(X, Xs)
mean = Ks.T @ alpha
var = sf**2 - np.einsum('ij,ij->j', Ks, np.linalg.solve(K, Ks)) + sn**2
print("nlml", float(nlml)); print("mean", [float(v) for v in mean]); print("var", [float(v) for v in var])
