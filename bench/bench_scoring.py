"""Benchmark: faro-audit's scoring throughput against two hand-written loops, in the same run.

    python bench/bench_scoring.py [--records N] [--batch-size B] [--hidden H] [--layers L]
                                  [--max-length T] [--repeats R] [--threads K] [--device D]

Data: the first N dialogues of Anthropic HH-RLHF ``harmless-base`` test split
(``../shared/data/hh-rlhf/harmless-base-test.jsonl.gz``); each ``chosen`` and ``rejected``
dialogue is split at its last ``"\\n\\nAssistant:"`` into prompt (up to and including that
marker) and response, giving 2N mixed-length (prompt, response) texts.

Model: a BERT-like ``BertForSequenceClassification`` (``num_labels=1``) built from a config
(hidden H, L layers, H/64 heads, 4H feed-forward, 512 positions; random weights, seed 0) with a
WordPiece tokenizer trained on the texts — nothing is downloaded. Texts are pair-encoded and
truncated to T tokens.

Methods (same texts, same model, same device, interleaved, best of R):

faro-audit
    ``score_table`` of a ``responses`` table with a fresh on-disk cache (the real path: text
    hashing, length-sorted batches, cache writes, scores back in input order); also the
    scorer's own ``score`` alone.
(a) bare sorted loop
    Tokenise everything, sort by length, pad each batch to its longest text, forward under
    ``torch.inference_mode`` — the floor for any loader. Target: faro ≥ 0.95× its throughput.
(b) unsorted fixed batches
    Consecutive batches in input order, each tokenised with ``padding=True`` (longest in the
    batch), as RewardBench's pipeline scores. Target: faro ≥ 1.5× its throughput.

All three must give the same scores (max |difference| printed). Throughput is texts/second of
wall time including tokenisation.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
MARKER = "\n\nAssistant:"


def load_texts(path: Path, records: int) -> tuple[list[str], list[str]]:
    """2 × ``records`` (prompt, response) texts from HH-RLHF dialogues."""
    prompts, responses = [], []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= records:
                break
            rec = json.loads(line)
            for side in ("chosen", "rejected"):
                text = rec[side]
                cut = text.rfind(MARKER) + len(MARKER)
                prompts.append(text[:cut])
                responses.append(text[cut:])
    return prompts, responses


def build_model(path: Path, texts: list[str], *, hidden: int, layers: int) -> None:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from faro_audit.models import tiny

    tok = tiny.train_wordpiece(texts, vocab_size=8000)
    tok.model_max_length = 512
    tiny.save_tokenizer(tok, path)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=max(1, hidden // 64), intermediate_size=4 * hidden,
                     max_position_embeddings=512, num_labels=1, pad_token_id=tok.pad_token_id)
    BertForSequenceClassification(cfg).eval().save_pretrained(path)


def bare_sorted(model, tok, prompts, responses, *, batch_size: int, max_length: int) -> np.ndarray:
    """(a) tokenise all, sort by length, pad per batch, inference_mode."""
    import torch

    enc = tok(prompts, responses, truncation=True, max_length=max_length)
    order = np.argsort([-len(x) for x in enc["input_ids"]], kind="stable")
    out = np.empty(len(prompts))
    with torch.inference_mode():
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            batch = tok.pad({k: [enc[k][i] for i in idx] for k in enc}, return_tensors="pt")
            batch = {k: v.to(model.device) for k, v in batch.items()}
            out[idx] = model(**batch).logits[:, 0].float().cpu().numpy()
    return out


def unsorted_fixed(model, tok, prompts, responses, *, batch_size: int, max_length: int) -> np.ndarray:
    """(b) consecutive batches, padding to the longest text of each batch (RewardBench style)."""
    import torch

    out = np.empty(len(prompts))
    with torch.inference_mode():
        for s in range(0, len(prompts), batch_size):
            batch = tok(prompts[s:s + batch_size], responses[s:s + batch_size], padding=True,
                        truncation=True, max_length=max_length, return_tensors="pt")
            batch = {k: v.to(model.device) for k, v in batch.items()}
            out[s:s + batch_size] = model(**batch).logits[:, 0].float().cpu().numpy()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="faro-audit scoring throughput benchmark")
    parser.add_argument("--records", type=int, default=300, help="HH-RLHF dialogues (2 texts each)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", default=str(DATA))
    args = parser.parse_args(argv)

    import pandas as pd
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from faro_audit.io.table import AuditTable
    from faro_audit.models import load_scorer, score_table

    if args.threads:
        torch.set_num_threads(args.threads)
    prompts, responses = load_texts(Path(args.data), args.records)
    work = Path(tempfile.mkdtemp(prefix="faro-bench-"))
    build_model(work / "rm", prompts + responses, hidden=args.hidden, layers=args.layers)
    scorer = load_scorer(str(work / "rm"), device=args.device, dtype="float32",
                         batch_size=args.batch_size, max_length=args.max_length)
    tok = AutoTokenizer.from_pretrained(work / "rm", local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        work / "rm", local_files_only=True).eval().to(args.device)
    lengths = np.array([len(x) for x in tok(prompts, responses, truncation=True,
                                             max_length=args.max_length)["input_ids"]])
    table = AuditTable(frame=pd.DataFrame({"prompt": prompts, "response": responses,
                                           "g": ["x"] * len(prompts)}),
                       shape="responses", group_columns=("g",))
    kw = {"batch_size": args.batch_size, "max_length": args.max_length}

    def faro_table():
        cache = tempfile.mkdtemp(dir=work)
        scored, _ = score_table(table, scorer, cache_dir=cache, progress=False,
                                check_batch_invariance=0)
        return scored.frame["reward"].to_numpy()

    methods = {
        "faro score_table (fresh cache)": faro_table,
        "faro scorer.score": lambda: scorer.score(prompts, responses),
        "(a) bare sorted inference_mode loop": lambda: bare_sorted(model, tok, prompts, responses, **kw),
        "(b) unsorted fixed batches (RewardBench style)": lambda: unsorted_fixed(model, tok, prompts, responses, **kw),
    }
    best = {name: float("inf") for name in methods}
    scores: dict[str, np.ndarray] = {}
    bare_sorted(model, tok, prompts[:8], responses[:8], **kw)  # warm-up
    for _ in range(args.repeats):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            scores[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    n = len(prompts)
    ref = scores["(a) bare sorted inference_mode loop"]
    diff = max(float(np.max(np.abs(s - ref))) for s in scores.values())
    faro = n / best["faro score_table (fresh cache)"]
    bare = n / best["(a) bare sorted inference_mode loop"]
    unsorted = n / best["(b) unsorted fixed batches (RewardBench style)"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), device {args.device}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"texts: {n} from {args.records} HH-RLHF dialogues; tokens per text (max {args.max_length}): "
          f"median {int(np.median(lengths))}, 5–95% {int(np.percentile(lengths, 5))}–"
          f"{int(np.percentile(lengths, 95))}, truncated {int((lengths >= args.max_length).sum())}")
    print(f"model: BERT hidden {args.hidden}, {args.layers} layers, batch size {args.batch_size}, "
          f"best of {args.repeats}")
    print("| method | seconds | texts/s |\n|---|---|---|")
    for name in methods:
        print(f"| {name} | {best[name]:.2f} | {n / best[name]:.1f} |")
    print(f"ratio faro / (a) bare sorted loop: {faro / bare:.3f} (target >= 0.95)")
    print(f"ratio faro / (b) unsorted fixed batches: {faro / unsorted:.2f} (target >= 1.5)")
    print(f"ratio faro scorer.score / (a): {n / best['faro scorer.score'] / bare:.3f}")
    print(f"max |score difference| between methods: {diff:.2e}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
