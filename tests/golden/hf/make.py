"""Golden reference data for the Hugging Face families, from Python transformers (float32).

Never run by CI or by the tests: run it by hand to regenerate the committed files, from the
repository root, with ../shared beside it:

    pip install torch transformers safetensors tokenizers   # CPU torch
    python3 tests/golden/hf/make.py

Writes, for each folder of ../shared/models/hf (llama2, llama3, qwen2, pythia, opt):

- logits/<model>.safetensors: `ids` (I32 [T]) = tokenizer(PROMPT) with the post-processor's
  special tokens, and `logits` (F32 [T, vocab]) of AutoModelForCausalLM in float32;
- reference.json: per model, the prompt ids, the tokens of wiki.test.raw, and the perplexity by
  the protocol of ../shared/models/hf/README.md (wiki.test.raw encoded once as tokenizer(text),
  the first 16 non-overlapping windows of 256 tokens, tokens 2..256 of each predicted), with the
  NLL of each window, RoPE's inverse frequencies (float32) and its `rope_parameters` (the newer form of the
  config's RoPE keys); the versions used;
- token_ids.json: per (tokenizer, text of ../shared/text), the ids of tokenizer(text) as length,
  sha256 of the ids as little-endian int32 and the first and last 64 ids. A jsonl file's text is
  its documents' "text" fields joined with "\\n\\n" (blank lines skipped), as secateur joins them.
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import safetensors.numpy
import tokenizers
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
MODELS = ["llama2", "llama3", "qwen2", "pythia", "opt"]
PROMPT = "Once upon a time, there was"
WINDOWS, SEQLEN = 16, 256
EDGE = 64
TEXTS = [
    "c4/c4-train.00000-of-01024.head1041.jsonl",
    "c4/c4-validation.00000-of-00008.head1025.jsonl",
    "tinystories/TinyStories-validation-head.txt",
    "wikitext-2-raw/wiki.test.raw",
]


def corpus_text(path):
    """The string secateur encodes: plain text as it is, jsonl documents joined with blank lines."""
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", errors="replace")
    if raw.startswith("\ufeff"):  # TextDecoder drops a byte order mark
        raw = raw[1:]
    if not path.endswith(".jsonl"):
        return raw
    docs = [json.loads(line)["text"] for line in raw.split("\n") if line.strip() != ""]
    return "\n\n".join(docs)


def ids_entry(ids):
    packed = struct.pack(f"<{len(ids)}i", *ids)
    return {
        "length": len(ids),
        "sha256": hashlib.sha256(packed).hexdigest(),
        "first": ids[:EDGE],
        "last": ids[-EDGE:],
    }


@torch.no_grad()
def perplexity(model, ids):
    windows = torch.tensor(ids[: WINDOWS * SEQLEN], dtype=torch.long).view(WINDOWS, SEQLEN)
    nlls = []
    for w in windows:
        logits = model(w[None]).logits[0].double()
        logp = torch.log_softmax(logits[:-1], dim=-1)
        nll = -logp.gather(1, w[1:, None]).squeeze(1)
        nlls.append(nll.mean().item())
    mean = sum(nlls) / len(nlls)
    return {"ppl": math.exp(mean), "nll": mean, "window_nlls": nlls,
            "predicted": WINDOWS * (SEQLEN - 1)}


def main():
    torch.manual_seed(0)
    os.makedirs(os.path.join(HERE, "logits"), exist_ok=True)
    texts = {name: corpus_text(os.path.join(SHARED, "text", name)) for name in TEXTS}
    reference = {
        "prompt": PROMPT,
        "protocol": f"wiki.test.raw encoded once as tokenizer(text); first {WINDOWS} windows of "
        f"{SEQLEN} tokens; tokens 2..{SEQLEN} of each predicted; float32 model, float64 log-softmax",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "tokenizers": tokenizers.__version__},
        "models": {},
    }
    token_ids = {"edge": EDGE, "texts": TEXTS, "ids": {}}
    for m in MODELS:
        folder = os.path.join(SHARED, "models", "hf", m)
        tok = AutoTokenizer.from_pretrained(folder)
        raw_tok = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        token_ids["ids"][m] = {}
        for name, text in texts.items():
            ids = tok(text)["input_ids"]
            # the tokenizer.json pipeline alone gives the same ids (README: PreTrainedTokenizerFast)
            assert raw_tok.encode(text).ids == ids, (m, name)
            token_ids["ids"][m][name] = ids_entry(ids)
            print(m, name, len(ids), file=sys.stderr)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        prompt_ids = tok(PROMPT)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([prompt_ids])).logits[0].float().numpy()
        safetensors.numpy.save_file(
            {"ids": np.array(prompt_ids, dtype=np.int32), "logits": np.ascontiguousarray(logits)},
            os.path.join(HERE, "logits", f"{m}.safetensors"),
            metadata={"prompt": PROMPT, "model": m},
        )
        wiki = texts["wikitext-2-raw/wiki.test.raw"]
        ids = tok(wiki)["input_ids"]
        entry = {
            "class": type(model).__name__,
            "stored_dtype": json.load(open(os.path.join(folder, "config.json")))["dtype"],
            "parameters": sum(p.numel() for p in model.parameters()),
            "prompt_ids": prompt_ids,
            "once_upon_a_time_ids": tok("Once upon a time")["input_ids"],
            "wiki_tokens": len(ids),
            **perplexity(model, ids),
        }
        # the RoPE block as transformers 5 normalises it (the folders carry the older keys)
        entry["rope_parameters"] = model.config.to_dict().get("rope_parameters")
        rotary = [mod for mod in model.modules() if hasattr(mod, "inv_freq")]
        if rotary:  # RoPE's inverse frequencies as transformers computes them (float32)
            entry["inv_freq"] = rotary[0].inv_freq.tolist()
        reference["models"][m] = entry
        print(m, entry["ppl"], file=sys.stderr)
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "token_ids.json"), "w") as f:
        json.dump(token_ids, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
