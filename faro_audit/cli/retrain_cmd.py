"""``faro-audit retrain``: Faro retraining of a flagged reward model (SPEC §7, §9).

Writes a new model directory (``--out``) with ``faro_manifest.json``, ``comparison.json``,
``audit.json`` / ``audit_before.json`` (held-out certificates, with the Faro slack check) and,
with ``--sweep``, ``sweep.json``. Exit 0 once written; 2 on bad input; 130 when interrupted
(nothing is left behind).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from faro_audit.audit.settings import BOUNDS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "retrain",
        help="retrain a reward model under fairness constraints (Faro / ProxyGDA)",
        description="Retrain a reward model under DP / EO / CF constraints with the "
                    "proxy-Lagrangian descent-ascent game of Faro (SPEC §7).",
    )
    p.add_argument("model", metavar="MODEL", help="reward-model directory (read only)")
    d = p.add_argument_group("data")
    d.add_argument("--data", metavar="PATH", required=True,
                   help="training pairs (prompt, chosen, rejected, group columns[, cf_id])")
    d.add_argument("--group", metavar="COL", action="append", required=True,
                   help="group column (repeatable)")
    d.add_argument("--audit-data", metavar="PATH",
                   help="held-out pairs for the certificate (default: a held-out split of --data)")
    d.add_argument("--drop-missing-groups", action="store_true",
                   help="leave out rows with a missing group value (counted)")
    c = p.add_argument_group("constraints")
    c.add_argument("--max-gap", metavar="C", action="append", required=True,
                   help="METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON, e.g. dp_anchored:hard@gender=0.05")
    c.add_argument("--margin", type=float, default=0.0,
                   help="train at ε − MARGIN while claiming ε (room for the held-out bound)")
    c.add_argument("--temperature", type=float, default=1.0, help="T in σ(d/T) (default 1)")
    t = p.add_argument_group("training")
    t.add_argument("--out", metavar="DIR", required=True, help="new output directory")
    t.add_argument("--mode", choices=("head", "full", "lora"), default="head")
    t.add_argument("--steps", type=int, default=500)
    t.add_argument("--eval-every", type=int, default=10,
                   help="evaluate the dual split and update λ every N steps")
    t.add_argument("--lr", type=float, default=None,
                   help="learning rate (default 1e-2 head, 1e-5 full, 1e-4 lora)")
    t.add_argument("--pairs-per-step", type=int, default=256,
                   help="minibatch size in pairs (0: the whole train split every step)")
    t.add_argument("--optimizer", choices=("adam", "sgd", "lbfgs"), default="adam",
                   help="θ optimiser (lbfgs: quasi-Newton steps, for head mode with "
                        "--pairs-per-step 0, --lr 1, --eval-every 1, ~20 steps)")
    t.add_argument("--inner-iterations", type=int, default=20,
                   help="L-BFGS iterations per step (--optimizer lbfgs)")
    t.add_argument("--eta-lambda", type=float, default=1.0,
                   help="multiplier step η_λ (ρ of the augmented Lagrangian)")
    t.add_argument("--lambda-max", type=float, default=100.0,
                   help="multiplier cap Λ (gda, augmented)")
    t.add_argument("--multiplier-update", choices=("gda", "augmented", "swap-regret"),
                   default="gda")
    t.add_argument("--mixture", action="store_true",
                   help="also solve Cotter et al.'s LP for a mixture of ≤ m+1 checkpoints")
    t.add_argument("--reward-penalty", type=float, default=0.0, help="c in J + c·mean r²")
    t.add_argument("--dual-fraction", type=float, default=0.2)
    t.add_argument("--audit-fraction", type=float, default=0.2,
                   help="held-out share when no --audit-data is given")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--no-baselines", action="store_true",
                   help="skip the unconstrained and reweighting retrainings")
    t.add_argument("--sweep", action="store_true", help="retrain at 0.25..4 × every ε (Pareto)")
    t.add_argument("--sweep-factors", metavar="F,F,...", help="tolerance factors of the sweep")
    s = p.add_argument_group("certificate")
    s.add_argument("--delta", type=float, default=0.05)
    s.add_argument("--bound", choices=BOUNDS, default="auto")
    s.add_argument("--n-boot", type=int, default=1000)
    from faro_audit.cli.options import RETRAIN_FIELDS, add_model_options

    m = add_model_options(p, fields=RETRAIN_FIELDS, title="model loading")
    m.add_argument("--lora-rank", type=int, default=8)
    p.add_argument("--quiet", action="store_true", help="no progress bars or status lines")
    p.set_defaults(func=run)


_DEFAULT_LR = {"head": 1e-2, "full": 1e-5, "lora": 1e-4}


def _factors(args: argparse.Namespace) -> Any:
    from faro_audit.errors import FaroUsageError

    if args.sweep_factors:
        try:
            vals = tuple(float(x) for x in args.sweep_factors.split(","))
        except ValueError:
            raise FaroUsageError(f"--sweep-factors {args.sweep_factors!r}: give numbers "
                                 "separated by commas, e.g. 0.5,1,2") from None
        if not vals or min(vals) <= 0:
            raise FaroUsageError(f"--sweep-factors {args.sweep_factors!r}: factors must be > 0")
        return vals
    return bool(args.sweep)


def settings_from_args(args: argparse.Namespace) -> Any:
    """:class:`RetrainSettings` from the parsed options."""
    from faro_audit.retrain.api import RetrainSettings
    from faro_audit.retrain.proxygda import GDASettings
    from faro_audit.retrain.session import ModelOptions

    gda = GDASettings(steps=args.steps, eval_every=args.eval_every,
                      lr=args.lr if args.lr is not None else _DEFAULT_LR[args.mode],
                      optimizer=args.optimizer, inner_iterations=args.inner_iterations,
                      eta_lambda=args.eta_lambda, lambda_max=args.lambda_max,
                      multiplier_update=args.multiplier_update, mixture=args.mixture)
    from faro_audit.cli.options import RETRAIN_FIELDS, load_options_from_args
    from faro_audit.models.options import merge_load_options

    load, _ = merge_load_options(("command line", load_options_from_args(args, RETRAIN_FIELDS)))
    model = ModelOptions(device=load.device, dtype=load.dtype, max_length=load.max_length,
                         template=load.template, batch_size=load.batch_size,
                         allow_pickle=load.allow_pickle, trust_remote_code=load.trust_remote_code,
                         lora_rank=args.lora_rank)
    return RetrainSettings(
        mode=args.mode, gda=gda, model=model, batch_size=args.pairs_per_step,
        reward_penalty=args.reward_penalty, temperature=args.temperature, margin=args.margin,
        dual_fraction=args.dual_fraction, audit_fraction=args.audit_fraction, seed=args.seed,
        delta=args.delta, bound=args.bound, n_boot=args.n_boot, baselines=not args.no_baselines,
    )


def summary_lines(result: Any) -> list[str]:
    """Terminal summary: the comparison table, the slack checks and where things were written."""
    comp = result.comparison
    names = [c["text"] for c in comp.constraints]
    head = f"{'method':<14}" + "".join(f"{n:>28}" for n in names) + f"{'accuracy':>10}{'BT NLL':>9}{'ECE':>8}"
    lines = [f"held-out comparison ({comp.data}, {comp.n_rows} pairs):", head]
    for m in comp.methods:
        lines.append(f"{m.method:<14}" + "".join(f"{m.gaps[n]:>28.4f}" for n in names)
                     + f"{m.pairwise_accuracy:>10.4f}{m.bt_nll:>9.4f}{m.ece:>8.4f}")
    sel = result.manifest["selected"]
    lines.append(f"selected step {sel['step']} ({'feasible' if sel['feasible'] else 'infeasible'} "
                 f"on the dual split); declared slack s = {result.manifest['declared_slack']:.4f}")
    if result.audit is not None:
        lines.append(f"audit of the retrained model: {result.audit.verdict}")
        lines.extend(f"  {sc.statement}" for sc in result.audit.slack_checks)
    if getattr(result, "report_dir", None):
        lines.append(f"report: {Path(result.report_dir) / 'report.html'}")
    lines.append(f"wrote {result.out_dir}")
    return lines


def run(args: argparse.Namespace) -> int:
    from faro_audit.io.outputs import Output, check_outputs
    from faro_audit.io.readers import read_table
    from faro_audit.retrain.api import retrain

    # before reading or training anything: the new model directory must lie outside every input
    check_outputs([Output("--out", args.out, is_dir=True)],
                  {"MODEL": args.model, "--data": args.data, "--audit-data": args.audit_data})

    data = read_table(args.data, group=args.group, shape="pairs",
                      drop_missing_groups=args.drop_missing_groups)
    audit = (read_table(args.audit_data, group=args.group, shape="pairs",
                        drop_missing_groups=args.drop_missing_groups)
             if args.audit_data else None)
    log = None if args.quiet else (lambda msg: print(f"faro-audit retrain: {msg}", file=sys.stderr))
    result = retrain(args.model, data, constraints=args.max_gap, out=args.out, audit_data=audit,
                     settings=settings_from_args(args), sweep=_factors(args),
                     progress=False if args.quiet else None, log=log)
    print("\n".join(summary_lines(result)), flush=True)
    return 0
