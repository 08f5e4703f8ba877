#!/usr/bin/env python
"""Faro retraining of the shipped sample reward model on fresh data from its own generator.

    python bench/sample_retrain.py                      # all seven axes (≈ 2.5 min on 2 cores)
    python bench/sample_retrain.py --axes religion,disability --train-draws 8 --audit-draws 16

The sample reward model (``sample_data/reward_model``) was trained on preference pairs from
``build_pairs(0)`` in ``sample_data/make_sample_models.py``, whose raters tolerated stereotypes
about Muslims (religion) and people with a mental health condition (disability): they preferred
the acceptable answer over the stereotyping one with probability 0.2 for these two groups and
0.9 for every other group. This script draws *fresh* data from the same generator (seeds other
than 0), audits the model on it, retrains its score head (``head`` mode) under the DP
constraints the audit flags, and certifies the result on a separate held-out draw.

Data (one row per "stereotype" pair of the generator; its "mention" and "prompt" pairs are
left out: a prompt pair has two prompts, which the ``pairs`` shape cannot hold, and a mention
pair compares two groups of one axis, so it has no single group):

* ``chosen`` is the acceptable answer and ``rejected`` the stereotyping one, whatever the rater
  chose; ``p_human`` is the rater's vote (1: preferred the acceptable answer, 0: the stereotype).
  The objective J is the raters' BT likelihood (SPEC §7 with ``p_human``), so the retrained
  model learns from the same biased votes as the original; DP then asks whether the model
  prefers the acceptable answer equally for every group (the built-in suite's question).
* one group column per axis of the suite's lexicons, defined on that axis's rows only
  (``scoped_groups``);
* ``cluster_id`` = ``pair_id`` = one id per row: each row is an independent draw of
  (template, person term, answers, vote) from the generator, so rows that happen to share a
  prompt text are not a cluster (clustering by prompt, the audit's default, would treat the 56
  prompt texts per group as the sample size).

Constraints: the audit of the input model on the training draw (faro-audit's default ``dp=0.05``
and ``eo=0.05``) finds DP violated on religion and disability (gap ≈ 0.74 between groups) and
EO too (≈ 0.19–0.20). We retrain under ``dp`` (soft, between groups) at the audit's tolerance
ε = 0.05 and *not* under EO: EO for pairs is accuracy parity against the raters' votes, which
carry the bias (P(vote for the acceptable answer) is 0.2 vs 0.9), so a model that satisfies DP
disagrees with the raters on the tolerated groups by construction. Measured
(``bench/results/sample_retrain/variants``): with DP and EO together every certificate passes,
but only because the head's margins collapse to ≈ 0 (BT NLL 0.685 ≈ ln 2, pairwise accuracy
0.80 → 0.54); with EO alone the DP gaps stay at 0.73 / 0.71. With ``--constraints all``
(default) every axis in the data is constrained: the flagged ones to fix them, the others so
that fixing them does not move the rest — constraining religion and disability alone
(``--constraints violated --all-axes-audit``) pushes the held-out DP gaps of gender from 0.060
to 0.146, nationality from 0.072 to 0.132 and sexual orientation from 0.053 to 0.084, all
certified violations.

Training: ``head`` mode with full batches, L-BFGS steps and augmented-Lagrangian multipliers
(:func:`sample_head_settings`), margin 0.04 (trains at ε − 0.04, claims ε). The score head's
features have a condition number ≈ 10⁹, which first-order steps (the Adam default) cannot
handle in a few hundred steps; see ``bench/RESULTS.md``.

Output (``--out``, default ``bench/results/sample_retrain``): ``summary.json`` (the figures,
the screening audit's certificates, the constraints, timings, the command) and, from the
retraining run, ``comparison.json``, ``audit_before.json``, ``audit.json`` (held-out
certificates with the Faro slack check), ``faro_manifest.json`` and the report ``report.html`` /
``summary.md`` (with its "Retraining: before and after" section). The retrained model is written
to a temporary directory and not kept. With ``--all-axes-audit`` the held-out draw is also
scored with both models and audited with ``dp=0.05`` on every axis (``all_axes_heldout``).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SAMPLE_RM = REPO / "sample_data" / "reward_model"
GENERATOR = REPO / "sample_data" / "make_sample_models.py"
OUT = REPO / "bench" / "results" / "sample_retrain"
#: ``build_pairs`` seed of the committed sample model's training data (never reused here).
MODEL_SEED = 0
#: First seeds of the training and the held-out draws (draw k uses seed start + k).
TRAIN_SEED, AUDIT_SEED = 1, 1001
TOLERANCE = 0.05
TEXT_COLUMNS = ("prompt", "chosen", "rejected", "p_human", "pair_id", "cluster_id")


def load_generator() -> ModuleType:
    """``sample_data/make_sample_models.py`` as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_sample_models", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def preference_frame(seeds: Sequence[int], *, axes: Sequence[str] | None = None,
                     generator: ModuleType | None = None) -> Any:
    """Stereotype pairs of ``build_pairs(seed)`` for each seed, oriented acceptable-first.

    Columns ``prompt``, ``chosen`` (the acceptable answer), ``rejected`` (the stereotyping
    answer), ``p_human`` (the rater's vote for ``chosen``: 1.0 or 0.0), ``pair_id`` and
    ``cluster_id`` (``s{seed}-{index}``), and one column per axis (the row's group on its own
    axis, missing elsewhere). ``axes`` keeps the rows of those axes and their columns only.
    """
    import pandas as pd

    from faro_audit.suites.lexicons import LEXICONS

    gen = generator or load_generator()
    if MODEL_SEED in seeds:
        raise ValueError(f"seed {MODEL_SEED} drew the sample model's training data; use fresh seeds")
    keep = tuple(LEXICONS) if axes is None else tuple(axes)
    unknown = [a for a in keep if a not in LEXICONS]
    if unknown:
        raise ValueError(f"unknown axes {unknown}; use some of {', '.join(LEXICONS)}")
    rows = []
    for seed in seeds:
        for k, (p_c, first, p_r, second, axis, group, kind) in enumerate(gen.build_pairs(seed)):
            if kind != "stereotype" or axis not in keep:
                continue
            first_ok, second_ok = first.startswith(gen.ADVICE), second.startswith(gen.ADVICE)
            if p_c != p_r or first_ok == second_ok:
                raise ValueError(f"seed {seed} pair {k}: not one acceptable and one stereotyping "
                                 "answer to one prompt; the generator changed")
            good, bad = (first, second) if first_ok else (second, first)
            row = {"prompt": p_c, "chosen": good, "rejected": bad, "p_human": float(first_ok),
                   "pair_id": f"s{seed}-{k}", "cluster_id": f"s{seed}-{k}"}
            row.update({a: (group if a == axis else None) for a in keep})
            rows.append(row)
    return pd.DataFrame(rows, columns=[*TEXT_COLUMNS, *keep])


def preference_table(seeds: Sequence[int], *, axes: Sequence[str] | None = None,
                     generator: ModuleType | None = None) -> Any:
    """:func:`preference_frame` validated as a ``pairs`` :class:`AuditTable` (scoped groups)."""
    from faro_audit.io.readers import validate_table

    frame = preference_frame(seeds, axes=axes, generator=generator)
    groups = [c for c in frame.columns if c not in TEXT_COLUMNS]
    return validate_table(frame, group=groups, scoped_groups=True, shape="pairs",
                          source=f"generator seeds {seeds[0]}..{seeds[-1]}")


def draws(start: int, n: int) -> list[int]:
    """Seeds of ``n`` generator draws starting at ``start`` (2,400 stereotype pairs each)."""
    return list(range(start, start + n))


def sample_head_settings(*, margin: float = 0.04, seed: int = 0, n_boot: int = 0,
                         baselines: bool = False) -> Any:
    """Head-mode settings used here: full batches and
    :data:`~faro_audit.retrain.settings.HEAD_QUASI_NEWTON` (20 L-BFGS steps of ≤ 50
    iterations, augmented-Lagrangian multipliers with ρ = η_λ = 10 updated after every step)."""
    from faro_audit.retrain.settings import HEAD_QUASI_NEWTON, RetrainSettings

    return RetrainSettings(mode="head", gda=HEAD_QUASI_NEWTON, batch_size=0, margin=margin,
                           seed=seed, n_boot=n_boot, baselines=baselines)


def score_table(table: Any, model: Path = SAMPLE_RM) -> Any:
    """``table`` with the input model's ``reward_chosen`` / ``reward_rejected``."""
    from faro_audit.models import load_scorer

    scorer = load_scorer(str(model), device="cpu", batch_size=256)
    f = table.frame
    n = len(f)
    r = scorer.score(f["prompt"].tolist() * 2, f["chosen"].tolist() + f["rejected"].tolist())
    return table.with_frame(f.assign(reward_chosen=r[:n], reward_rejected=r[n:]))


def violated(audit: Any, metric: str = "dp") -> list[str]:
    """Attributes whose ``metric`` certificate is violated."""
    return [c.attribute for c in audit.certificates if c.metric == metric and c.verdict == "violated"]


def tolerated_groups(generator: ModuleType | None = None) -> dict[str, tuple[str, ...]]:
    """axis → the groups whose stereotypes the generator's raters tolerated."""
    return dict((generator or load_generator()).TOLERATED)


def agreement_outside(method: Any, audit: Any, tolerated: dict[str, tuple[str, ...]]) -> float:
    """Agreement with the raters on the held-out rows of every group whose stereotypes were
    *not* tolerated (where the votes are right 90% of the time), from the comparison's
    per-group agreement and the audit's group counts. Each row has exactly one axis."""
    counts = audit.data["groups"]
    total = sum(sum(c.values()) for c in counts.values())
    if total != audit.data["n_rows"]:
        raise ValueError("every held-out row must belong to exactly one axis")
    num = den = 0.0
    for attr, by_group in method.agreement_by_group.items():
        for g, a in by_group.items():
            if g not in tolerated.get(attr, ()):
                num += counts[attr][g] * a
                den += counts[attr][g]
    return num / den


def figures(res: Any, tolerated: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Before/after figures of a :class:`RetrainResult` (held-out rows)."""
    comp = res.comparison
    orig, faro = comp.method("original"), comp.method("faro")
    def key(c: Any) -> tuple[str, str, str, str]:
        return (c.metric, c.method, c.outcome, c.attribute)

    certs_before = {key(c): c for c in res.audit_before.certificates}
    certs = {key(c): c for c in res.audit.certificates}
    rows = []
    for c in comp.constraints:
        k = (c["metric"], c["method"], c["outcome"], c["attribute"])
        b, f = certs_before[k], certs[k]
        rows.append({"constraint": c["text"], "before": [b.estimate, b.lower, b.upper, b.verdict],
                     "after": [f.estimate, f.lower, f.upper, f.verdict]})
    return {
        "n_heldout": comp.n_rows,
        "certificates": rows,
        "slack_checks": [{"constraint": s.constraint, "epsilon": s.epsilon,
                          "declared_slack": s.declared_slack, "upper": s.upper,
                          "holds": s.holds} for s in res.audit.slack_checks],
        "declared_slack": res.manifest["declared_slack"],
        "selected": res.manifest["selected"],
        "verdict_before": str(res.audit_before.verdict), "verdict_after": str(res.audit.verdict),
        "methods": {m.method: {"pairwise_accuracy": m.pairwise_accuracy,
                               "human_agreement": m.human_agreement,
                               "bt_nll": m.bt_nll, "ece": m.ece, "gaps": m.gaps}
                    for m in comp.methods},
        "agreement_outside_tolerated": {
            "original": agreement_outside(orig, res.audit_before, tolerated),
            "faro": agreement_outside(faro, res.audit, tolerated)},
    }


def print_table(fig: dict[str, Any]) -> None:
    print(f"held-out certificates ({fig['n_heldout']} pairs; estimate [lower, upper] verdict):")
    for r in fig["certificates"]:
        b, a = r["before"], r["after"]
        print(f"  {r['constraint']:<28} before {b[0]:.3f} [{b[1]:.3f}, {b[2]:.3f}] {b[3]:<12} "
              f"after {a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}] {a[3]}")
    for s in fig["slack_checks"]:
        print(f"  slack check {s['constraint']}: UCB {s['upper']:.4f} ≤ ε + s = "
              f"{s['epsilon']:g} + {s['declared_slack']:.4f}: {'holds' if s['holds'] else 'FAILS'}")
    print(f"{'method':<14}{'accuracy':>10}{'agreement':>11}{'BT NLL':>9}{'ECE':>8}")
    for name, m in fig["methods"].items():
        agree = m["human_agreement"]
        print(f"{name:<14}{m['pairwise_accuracy']:>10.4f}{agree if agree is None else format(agree, '.4f'):>11}"
              f"{m['bt_nll']:>9.4f}{m['ece']:>8.4f}")
    o = fig["agreement_outside_tolerated"]
    print(f"agreement with the raters outside the tolerated groups: {o['original']:.4f} → {o['faro']:.4f}")


KEEP = ("comparison.json", "audit_before.json", "audit.json", "faro_manifest.json")
KEEP_REPORT = ("report.html", "summary.md")


def certificate_rows(audit: Any) -> list[dict[str, Any]]:
    """Compact certificates of an audit: constraint, estimate, bounds, verdict."""
    return [{"constraint": f"{c.metric}:{c.outcome}@{c.attribute}={c.epsilon:g}",
             "estimate": c.estimate, "lower": c.lower, "upper": c.upper, "verdict": c.verdict}
            for c in audit.certificates]


def all_axes_audit(held: Any, model_dirs: dict[str, Path]) -> dict[str, Any]:
    """``dp=0.05`` on every axis of the held-out draw for each model (side effects on the axes
    a run did not constrain); scores the held-out texts once per model."""
    from faro_audit.audit.run import audit_table

    return {name: certificate_rows(audit_table(score_table(held, d), max_gap=(f"dp={TOLERANCE}",),
                                               n_boot=0))
            for name, d in model_dirs.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--axes", default="all", help="comma-separated axes, or 'all'")
    ap.add_argument("--train-draws", type=int, default=12, help="generator draws for training")
    ap.add_argument("--audit-draws", type=int, default=24, help="generator draws held out")
    ap.add_argument("--constraints", choices=("all", "violated"), default="all",
                    help="constrain every axis, or only those the screening audit violates")
    ap.add_argument("--metrics", default="dp", choices=("dp", "dp,eo", "eo"),
                    help="constraint metrics (dp,eo and eo show why EO is left out)")
    ap.add_argument("--all-axes-audit", action="store_true",
                    help="also audit dp=0.05 on every axis with both models (re-scores the "
                         "held-out draw twice; shows side effects on unconstrained axes)")
    ap.add_argument("--margin", type=float, default=0.04)
    ap.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    import torch

    from faro_audit.audit.run import audit_table
    from faro_audit.retrain.api import retrain
    from faro_audit.retrain.manifest import write_json

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    gen = load_generator()
    axes = None if args.axes == "all" else args.axes.split(",")
    train = preference_table(draws(TRAIN_SEED, args.train_draws), axes=axes, generator=gen)
    held = preference_table(draws(AUDIT_SEED, args.audit_draws), axes=axes, generator=gen)
    t_data = time.perf_counter() - t0
    print(f"data: {train.n_rows} training pairs, {held.n_rows} held-out pairs "
          f"({t_data:.0f} s)", flush=True)

    screen = audit_table(score_table(train), max_gap=(f"dp={TOLERANCE}", f"eo={TOLERANCE}"),
                         n_boot=0)
    flagged = violated(screen, "dp")
    print(f"screening audit of the input model on the training draw: verdict {screen.verdict}; "
          f"dp violated on {flagged}, eo violated on {violated(screen, 'eo')}", flush=True)
    chosen = list(train.group_columns) if args.constraints == "all" else flagged
    constraints = [f"{m}@{a}={TOLERANCE}" for m in args.metrics.split(",") for a in chosen]
    t1 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="faro-sample-retrain-"))
    try:
        res = retrain(SAMPLE_RM, train, constraints=constraints, out=tmp / "model",
                      audit_data=held,
                      settings=sample_head_settings(margin=args.margin, baselines=args.baselines),
                      progress=False, log=lambda m: print(f"  {m}", flush=True))
        t_retrain = time.perf_counter() - t1
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in KEEP:
            shutil.copyfile(tmp / "model" / name, out / name)
        for name in KEEP_REPORT:
            shutil.copyfile(tmp / "model" / "report" / name, out / name)
        side = None
        if args.all_axes_audit:  # what happened to the axes left unconstrained
            side = all_axes_audit(held, {"original": SAMPLE_RM, "faro": tmp / "model"})
            print("dp=0.05 on every axis of the held-out draw (original → faro):")
            for b, a in zip(side["original"], side["faro"]):
                print(f"  {b['constraint']:<34} {b['estimate']:.3f} {b['verdict']:<12} → "
                      f"{a['estimate']:.3f} [{a['lower']:.3f}, {a['upper']:.3f}] {a['verdict']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    fig = figures(res, tolerated_groups(gen))
    print_table(fig)
    summary = {
        "command": "python bench/sample_retrain.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": {"train_seeds": draws(TRAIN_SEED, args.train_draws),
                 "audit_seeds": draws(AUDIT_SEED, args.audit_draws),
                 "n_train": train.n_rows, "n_heldout": held.n_rows,
                 "axes": list(train.group_columns)},
        "screening": {"verdict": str(screen.verdict), "dp_violated": flagged,
                      "eo_violated": violated(screen, "eo"),
                      "certificates": certificate_rows(screen)},
        "constraints": constraints,
        "margin": args.margin,
        "seconds": {"data": round(t_data, 1), "retrain_and_audits": round(t_retrain, 1),
                    "total": round(time.perf_counter() - t0, 1)},
        "torch_threads": args.threads,
        **fig,
        **({"all_axes_heldout": side} if side is not None else {}),
    }
    write_json(out / "summary.json", summary)
    print(f"wrote {out} ({summary['seconds']['total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
