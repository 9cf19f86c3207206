"""PyTorch timings of one layer, to compare with `deno task prune-layer` on the same file and machine.

Never run by CI; needs torch, numpy, safetensors (`pip install torch safetensors`). Usage:

    python3 scripts/python/layer_timing.py make out/layer4096.safetensors   # weight [4096, 4096], inputs [1024, 4096]
    python3 scripts/python/layer_timing.py swiftprune out/layer4096.safetensors
    python3 scripts/python/layer_timing.py sparsegpt out/layer4096.safetensors

`make` draws the layer with numpy (seed 0): W ~ N(0, 1/cols), inputs with log-normal column scales
and one outlier channel in a hundred (x20), as LLM activations look. The timed work matches what
`prune-layer` times (reading the file is not timed, by either):

- swiftprune: column norms of the inputs (float32), S = sum of squares, the score
  W^2 / (1 - x^2 / (S + eps S)), per row the k-th smallest score by `torch.kthvalue` (k = cols / 2),
  the mask (score > k-th value) and the masked weight. Best of 5 after a warm-up.
- sparsegpt: the reference loop of IST-DASLab/sparsegpt `sparsegpt.py` (`add_batch` over the
  inputs, then `fasterprune` with blocksize 128, percdamp 0.01, 50% unstructured), re-implemented
  here line for line in float32. Best of 3 after a warm-up.

Prints one line per method: the time in ms and torch's thread count.
"""
import math
import sys
import time

import numpy as np
import torch
from safetensors.numpy import load_file, save_file


def make(path, rows=4096, cols=4096, tokens=1024):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((rows, cols)) / math.sqrt(cols)).astype(np.float32)
    scale = np.exp(0.5 * rng.standard_normal(cols)) * np.where(np.arange(cols) % 100 == 7, 20.0, 1.0)
    x = (rng.standard_normal((tokens, cols)) * scale).astype(np.float32)
    save_file({"weight": w, "inputs": x}, path)
    print(f"wrote {path}: weight [{rows}, {cols}], inputs [{tokens}, {cols}]")


def swiftprune(w, x, sparsity=0.5, eps=1e-8):
    norms = torch.linalg.vector_norm(x, dim=0)  # ||X_:,j||
    sq = norms * norms
    s = sq.sum()
    factor = 1.0 / (1.0 - sq / (s + eps * s))
    scores = w * w * factor
    k = int(w.shape[1] * sparsity)
    thresh = scores.kthvalue(k, dim=1, keepdim=True).values
    mask = scores > thresh
    return w * mask, mask


def sparsegpt(w, x, sparsity=0.5, blocksize=128, percdamp=0.01):
    # add_batch (one batch of all tokens)
    columns = w.shape[1]
    H = torch.zeros((columns, columns))
    nsamples = 0
    inp = x.t()
    tmp = 1
    H *= nsamples / (nsamples + tmp)
    nsamples += tmp
    inp = math.sqrt(2 / nsamples) * inp.float()
    H += inp.matmul(inp.t())
    # fasterprune
    W = w.clone().float()
    rows = W.shape[0]
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    Losses = torch.zeros(rows)
    damp = percdamp * torch.mean(torch.diag(H))
    diag = torch.arange(columns)
    H[diag, diag] += damp
    H = torch.linalg.cholesky(H)
    H = torch.cholesky_inverse(H)
    H = torch.linalg.cholesky(H, upper=True)
    Hinv = H
    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Losses1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        tmp = W1 ** 2 / (torch.diag(Hinv1).reshape((1, -1))) ** 2
        thresh = torch.sort(tmp.flatten())[0][int(tmp.numel() * sparsity)]
        mask1 = tmp <= thresh
        for i in range(count):
            w1 = W1[:, i]
            d = Hinv1[i, i]
            q = w1.clone()
            q[mask1[:, i]] = 0
            Q1[:, i] = q
            Losses1[:, i] = (w1 - q) ** 2 / d ** 2
            err1 = (w1 - q) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        W[:, i1:i2] = Q1
        Losses += torch.sum(Losses1, 1) / 2
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
    return W


def best_ms(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return min(times)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "swiftprune", "sparsegpt"):
        sys.exit(__doc__)
    what, path = sys.argv[1], sys.argv[2]
    if what == "make":
        return make(path)
    t = load_file(path)
    w, x = torch.from_numpy(t["weight"]), torch.from_numpy(t["inputs"])
    fn = (lambda: swiftprune(w, x)) if what == "swiftprune" else (lambda: sparsegpt(w, x))
    ms = best_ms(fn, 5 if what == "swiftprune" else 3)
    print(f"pytorch {torch.__version__} {what} [{w.shape[0]}, {w.shape[1]}] x {x.shape[0]} tokens: "
          f"{ms:.1f} ms (best of {5 if what == 'swiftprune' else 3}, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
