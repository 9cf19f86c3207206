"""Loads a folder written by `deno task prune --out DIR` with Python transformers and measures its
perplexity by the protocol prune reported, to check that the folder is the model prune evaluated.

Never run by CI (Python is only for cross-checks). Usage, from the repository root:

    pip install torch transformers safetensors   # CPU torch
    python3 scripts/python/check_out.py OUT_DIR [--eval FILE]

The folder's config.json carries prune's record under "secateur": the evaluation file's name,
the window length, the number of windows and the perplexity prune printed. The text (found under
../shared/text by its name unless --eval is given) is encoded once as tokenizer(text) with the
folder's tokenizer (a .jsonl file's documents joined with blank lines, as secateur joins them);
the first `windows` windows of `seqlen` tokens are scored, predicting tokens 2..seqlen of each, in
float32 with a float64 log-softmax. Prints both perplexities and their relative difference; also
checks that every weight the masks mark as pruned is zero. Exit status 1 when the difference is
above --tolerance (default 0.005) or a pruned weight is not zero.
"""
import argparse
import json
import math
import os
import sys

import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def corpus_text(path):
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", errors="replace")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    if not (path.endswith(".jsonl") or path.endswith(".json")):
        return raw
    return "\n\n".join(json.loads(line)["text"] for line in raw.split("\n") if line.strip())


def find_text(name):
    for base, _, files in os.walk(os.path.join(ROOT, "..", "shared", "text")):
        if name in files:
            return os.path.join(base, name)
    sys.exit(f"error: cannot find {name} under ../shared/text; pass --eval FILE")


@torch.no_grad()
def perplexity(model, ids, seqlen, windows):
    nll, count = 0.0, 0
    for w in range(windows):
        x = torch.tensor(ids[w * seqlen:(w + 1) * seqlen], dtype=torch.long)[None]
        logp = torch.log_softmax(model(x).logits[0].double()[:-1], dim=-1)
        nll += -logp.gather(1, x[0, 1:, None]).sum().item()
        count += seqlen - 1
    return math.exp(nll / count)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--eval")
    ap.add_argument("--tolerance", type=float, default=0.005)
    a = ap.parse_args()
    with open(os.path.join(a.dir, "config.json")) as f:
        record = json.load(f)["secateur"]
    ev = record["eval"]
    model = AutoModelForCausalLM.from_pretrained(a.dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(a.dir)
    ids = tok(corpus_text(a.eval or find_text(ev["file"])))["input_ids"]
    ppl = perplexity(model, ids, ev["seqlen"], ev["windows"])
    state = model.state_dict()
    nonzero = 0
    with safe_open(os.path.join(a.dir, record["masks"]), "pt") as masks:
        for name in masks.keys():
            keep = masks.get_tensor(name).bool()
            nonzero += int((state[name][~keep] != 0).sum())
    rel = abs(ppl - ev["ppl"]) / ev["ppl"]
    print(f"{a.dir}: {type(model).__name__} {record['method']}, transformers ppl {ppl:.4f}, "
          f"prune reported {ev['ppl']:.4f} (relative difference {rel:.2e}); "
          f"{nonzero} weights the masks prune are not zero")
    sys.exit(0 if rel <= a.tolerance and nonzero == 0 else 1)


if __name__ == "__main__":
    main()
