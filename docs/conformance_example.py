"""A backend for secateur's conformance suite, in numpy: magnitude, Wanda and SwiftPrune.

Reads the suite's manifest.json, runs one function per case of the methods it implements, and
writes <outputs>/<case>.safetensors (weight F32, mask U8, scores F32). Needs numpy and
safetensors (safetensors.numpy: no torch). Then check it with secateur:

    deno task conformance --small --out /tmp/suite
    python3 docs/conformance_example.py /tmp/suite /tmp/outputs
    deno task verify --suite /tmp/suite --outputs /tmp/outputs --methods magnitude,wanda,swiftprune

Every float32 rounding point is the one docs/conformance.md lists; tests/conformance_python_test.ts
runs exactly these commands when python3 has numpy and safetensors (and says it skipped otherwise).
"""

import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def column_norms(layer):
    """||X_:,j||_2: float64 sums, ROUNDED TO FLOAT32 (or the file's col_norms as they are)."""
    if "col_norms" in layer:
        return layer["col_norms"].astype(np.float64)
    x = layer["inputs"].astype(np.float64)
    return np.sqrt((x * x).sum(axis=0)).astype(np.float32).astype(np.float64)


def ridge_factor(x, s, eps):
    """1 / (1 - x^2 / (S + eps S)) in float64, in this order; 1 where S = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, 1.0 / (1.0 - (x * x) / (s + eps * s)), 1.0)


def magnitude(w, layer, options):
    return np.abs(w)


def wanda(w, layer, options):
    return (np.abs(w).astype(np.float64) * column_norms(layer)).astype(np.float32)


def swiftprune(w, layer, options):
    eps, x_stat = options["eps"], options["xStat"]
    if x_stat == "token":  # one rank-one factor per token, summed over tokens in float64
        x = layer["inputs"].astype(np.float64)
        s = (x * x).sum(axis=1, keepdims=True)  # S_t
        factor = ridge_factor(x, s, eps).sum(axis=0)
    else:  # norm: float32 column norms; mean: the mean token, kept in float64
        x = column_norms(layer) if x_stat == "norm" else layer["inputs"].astype(np.float64).mean(axis=0)
        factor = ridge_factor(x, (x * x).sum(), eps)
    return (w.astype(np.float64) ** 2 * factor).astype(np.float32)


BACKEND = {"magnitude": magnitude, "wanda": wanda, "swiftprune": swiftprune}


def select(scores, target):
    """Keep mask (1 = keep): prune the k smallest per group; ties prune the lower index first."""
    rows, cols = scores.shape
    flat = scores.reshape(-1)
    keep = np.ones(rows * cols, dtype=np.uint8)
    if target["kind"] == "nm":  # keep the N largest of every M along a row
        n, m = target["n"], target["m"]
        order = np.argsort(flat.reshape(-1, m), axis=1, kind="stable")[:, : m - n]
        keep[(order + np.arange(0, rows * cols, m)[:, None]).reshape(-1)] = 0
    elif target["group"] == "row":
        k = int(np.floor(target["sparsity"] * cols))  # float64 product, floored
        order = np.argsort(scores, axis=1, kind="stable")[:, :k]
        keep[(order + (np.arange(rows) * cols)[:, None]).reshape(-1)] = 0
    else:
        k = int(np.floor(target["sparsity"] * rows * cols))
        keep[np.argsort(flat, kind="stable")[:k]] = 0
    return keep.reshape(rows, cols)


def main(suite, outputs):
    manifest = json.load(open(os.path.join(suite, "manifest.json")))
    os.makedirs(outputs, exist_ok=True)
    done = skipped = 0
    for case in manifest["cases"]:
        run = BACKEND.get(case["method"])
        if run is None:
            skipped += 1
            continue
        layer = load_file(os.path.join(suite, manifest["datasets"][case["dataset"]]["file"]))
        w = layer["weight"]
        scores = run(w, layer, case["options"])
        keep = select(scores, case["target"])  # sort, ewma-exact and ewma: all exact here
        path = os.path.join(outputs, case["name"] + ".safetensors")
        save_file(
            {"weight": np.where(keep == 1, w, np.float32(0)).astype(np.float32),
             "mask": keep, "scores": np.ascontiguousarray(scores)},
            path + ".tmp",
        )
        os.replace(path + ".tmp", path)
        done += 1
    print(f"wrote {done} cases to {outputs}; skipped {skipped} of methods this backend lacks")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 docs/conformance_example.py SUITE OUTPUTS")
    main(sys.argv[1], sys.argv[2])
