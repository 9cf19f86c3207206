"""Independent float64 cross-check of the FISTAPruner worked examples of docs/fistapruner.md
(example-fista-step and example-fista-wins), written from the page's sections 2 and 3 with NumPy
only. Run by hand (python3 tests/crosscheck/fista_examples.py); CI does not need Python: the page's
numbers are what this prints, and tests/docs_examples_test.ts checks the library against the page."""
import numpy as np

X = np.array([[1, -1, 1], [2, 2, 0], [1, 1, 0]], float)
W = np.array([[2, 0.5, 0.5]])
s, xi, T_RUNS, K, TOL = 1 / 3, 0.3, 3, 20, 1e-6
tokens, (rows, cols) = X.shape[0], W.shape
G = X.T @ X / tokens  # G* = G = Gx when X* = X
C = W @ G
eig = np.linalg.eigvalsh(G)
L = eig.max()


def prune_smallest(scores, values, k, per_row):
    """Zero the k smallest scores (ties: lower index first), per row or over the whole matrix."""
    out = values.copy()
    groups = [[(r, j) for j in range(cols)] for r in range(rows)] if per_row else [
        [(r, j) for r in range(rows) for j in range(cols)]]
    for g in groups:
        for r, j in sorted(g, key=lambda rj: (scores[rj], rj))[:k]:
            out[r, j] = 0
    return out


def e_total(wr):
    return tokens * ((wr @ G * wr).sum() - 2 * (wr * C).sum() + (W @ G * W).sum())


def fista(lam, start):
    x, t, y, k = start.copy(), 1.0, start.copy(), 0
    while k < K:
        v = y - (y @ G - C) / L
        nxt = np.sign(v) * np.maximum(np.abs(v) - lam / L, 0)
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        change, size = np.linalg.norm(nxt - x), np.linalg.norm(x)
        y, x, t, k = nxt + (t - 1) / t_next * (nxt - x), nxt, t_next, k + 1
        if change <= TOL * size:
            break
    return x, k


norms = np.sqrt((X ** 2).sum(0))
warm = prune_smallest(np.abs(W) * norms, W, int(np.floor(s * cols)), per_row=True)
round_op = lambda v: prune_smallest(np.abs(v), v, int(np.floor(s * rows * cols)), per_row=False)
best = round_op(warm)
best_err, best_run = e_total(best), -1
print("eigenvalues", eig, "L", L, "C", C)
print("warm keep", (best != 0).astype(int), "warm error", best_err)
lam, too_small, too_large = 1e-3 * np.abs(C).max(), 0.0, np.inf
for run in range(T_RUNS):
    wk, iters = fista(lam, best)
    wr = round_op(wk)
    d = wr - wk
    er, et = tokens * (d @ G * d).sum(), e_total(wr)
    ratio = er / et if et > 0 else (np.inf if er > 0 else 0)
    print(f"run {run}: lambda {lam:.9g} iterations {iters} W_K {wk} E_round {er:.6g} E_total {et:.6g} ratio {ratio:.6g}")
    if et < best_err:
        best, best_err, best_run = wr, et, run
    if ratio > xi:
        too_small = lam
        lam = 2 * lam if too_large == np.inf else (too_small + too_large) / 2
    else:
        too_large = lam
        lam = (too_small + too_large) / 2
print("next lambda", lam, "best run", best_run, "weight", best, "E_total", best_err)

f = lambda x: 0.5 * (x @ G * x).sum() - (x * C).sum()
for c in (1, 2.5):  # ISTA with lambda = 0 from zeros, step c / L
    x, objs = np.zeros_like(W), [0.0]
    for _ in range(5):
        x = x - c / L * (x @ G - C)
        objs.append(f(x))
    print(f"step {c}/L objective", np.round(objs, 6))
