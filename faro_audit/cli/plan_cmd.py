"""``faro-audit plan``: rows per group (twin sets) that would decide each constraint (SPEC §5.8).

For every ``--max-gap`` constraint, the smallest n at which ``faro-audit certify`` decides it
correctly with the stated power: ``certified`` if the true gap is below ε, ``violated`` if
above. The assumed gap, standard deviation, intra-cluster correlation and cluster size come
from the options, else from a pilot scores file (``--pilot``), else the gap is 0 (a fair model)
and the standard deviation the worst case. The math is :mod:`faro_audit.stats.planning`.
Exit 0; bad options or input exit 2 with a one-line error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, replace
from typing import Any

from faro_audit.errors import FaroUsageError

_PLACEHOLDER = "attribute"  # the attribute of a constraint when no --group names one


def add_parser(sub: argparse._SubParsersAction) -> None:
    from faro_audit.stats.bounds import BOUND_CHOICES

    p = sub.add_parser(
        "plan",
        help="rows per group (or twin sets) needed to decide each constraint with a given power",
        description=(
            "Plan an audit (SPEC §5.8): for each --max-gap constraint, the rows per group (twin sets "
            "for a paired or cf design) at which `faro-audit certify` decides it correctly with the "
            "stated power: certified if the true gap is below epsilon, violated if above."
        ),
        epilog="Exit codes: 0 planned, 2 usage or input error.",
    )
    p.add_argument("--max-gap", metavar="C", action="append", default=None,
                   help="constraint METRIC[:OUTCOME][@ATTRIBUTE]=EPSILON, e.g. dp=0.05 (repeatable; "
                        "default dp=0.05 eo=0.05 cf=0.05)")
    p.add_argument("--group", metavar="ATTR[=G1,G2,...]", action="append", default=None,
                   help="an attribute and its groups (without --pilot), or a group column of the pilot "
                        "(repeatable)")
    p.add_argument("--groups-per-attribute", metavar="K", type=int, default=2,
                   help="groups of an attribute whose groups are not listed (default 2)")
    p.add_argument("--delta", type=float, default=0.05, help="joint error probability of the certificate (default 0.05)")
    p.add_argument("--power", type=float, default=0.8, help="probability of deciding correctly (default 0.8)")
    p.add_argument("--bound", choices=BOUND_CHOICES, default="auto",
                   help="confidence bound the certificate will use (default auto)")
    p.add_argument("--outcome", choices=("soft", "hard"), default=None,
                   help="outcome of constraints that do not name one (default soft)")
    p.add_argument("--design", choices=("auto", "paired", "unpaired"), default="auto",
                   help="paired (twin sets holding every group once) or unpaired; auto: paired where the "
                        "pilot's twin sets allow it, else unpaired")
    p.add_argument("--true-gap", type=float, default=None, metavar="X",
                   help="assumed true gap (default: the pilot's estimate, else 0)")
    p.add_argument("--sd", type=float, default=None, metavar="S",
                   help="standard deviation of a group's outcome (paired: of the within-set contrast; cf: "
                        "of the twin-set spread); default: the pilot's, else the worst case")
    p.add_argument("--icc", type=float, default=None, metavar="RHO", help="intra-cluster correlation (with --cluster-size)")
    p.add_argument("--cluster-size", type=float, default=None, metavar="M", help="rows per cluster (with --icc)")
    p.add_argument("--pilot", metavar="SCORES", help="pilot scores file to estimate the gap, sd, icc and cluster size from")
    p.add_argument("--shape", choices=("pairs", "responses"), help="override the pilot's detected shape")
    p.add_argument("--temperature", type=float, default=1.0, help="T in sigma(d/T) for the pilot (default 1)")
    p.add_argument("--reference", default="median", help="reference reward of a responses pilot (default median)")
    p.add_argument("--min-group-size", type=int, default=30,
                   help="smallest group that can be certified (default 30)")
    p.add_argument("--json", action="store_true", help="print the plans as JSON")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class _Assumed:
    """What one plan assumes, and where each number came from."""

    gap: float
    sd: float | None
    icc: float
    cluster_size: float
    n_groups: int
    n_classes: int
    design: str
    saturated_share: float | None
    max_n: int
    sources: dict[str, str]


def _check_options(args: argparse.Namespace) -> None:
    if not 0.0 < args.delta < 1.0:
        raise FaroUsageError(f"--delta {args.delta:g}: give a joint error probability in (0, 1), e.g. 0.05")
    if not 0.5 <= args.power < 1.0:
        raise FaroUsageError(f"--power {args.power:g}: give a probability in [0.5, 1), e.g. 0.8")
    if args.true_gap is not None and not 0.0 <= args.true_gap <= 1.0:
        raise FaroUsageError(f"--true-gap {args.true_gap:g}: gaps of bounded outcomes lie in [0, 1]")
    if args.sd is not None and not 0.0 <= args.sd <= 1.0:
        raise FaroUsageError(f"--sd {args.sd:g}: give a standard deviation in [0, 0.5] (a paired contrast: [0, 1])")
    if (args.icc is None) != (args.cluster_size is None):
        raise FaroUsageError("--icc and --cluster-size go together: give both (e.g. --icc 0.1 --cluster-size 4) or neither")
    if args.icc is not None and not 0.0 <= args.icc <= 1.0:
        raise FaroUsageError(f"--icc {args.icc:g}: an intra-cluster correlation lies in [0, 1]")
    if args.cluster_size is not None and not (math.isfinite(args.cluster_size) and args.cluster_size >= 1.0):
        raise FaroUsageError(f"--cluster-size {args.cluster_size:g}: give the rows per cluster, >= 1")
    if args.groups_per_attribute < 2:
        raise FaroUsageError(f"--groups-per-attribute {args.groups_per_attribute}: a gap needs at least 2 groups")
    if args.min_group_size < 1:
        raise FaroUsageError(f"--min-group-size {args.min_group_size}: give a positive integer, e.g. 30")
    if not args.temperature > 0:
        raise FaroUsageError(f"--temperature {args.temperature:g}: must be > 0")


def _parse_groups(values: list[str] | None, default_k: int) -> dict[str, int]:
    """``ATTR=G1,G2,...`` → {ATTR: number of groups}; a bare ``ATTR`` gets ``default_k``."""
    out: dict[str, int] = {}
    for text in values or []:
        name, sep, rest = text.partition("=")
        name = name.strip()
        if not name:
            raise FaroUsageError(f"--group {text!r}: give ATTR=G1,G2,... (e.g. gender=f,m) or a column name")
        if sep:
            groups = [g.strip() for g in rest.split(",") if g.strip()]
            if len(groups) < 2 or len(set(groups)) != len(groups):
                raise FaroUsageError(f"--group {text!r}: list at least two distinct groups, e.g. {name}=f,m")
            out[name] = len(groups)
        else:
            out[name] = default_k
    return out


def _explicit_outcome(text: str) -> bool:
    return ":" in text.split("=", 1)[0].split("@", 1)[0]


def _specs(args: argparse.Namespace, attributes: list[str], *, has_twins: bool, has_labels: bool):
    from faro_audit.audit.constraints import (
        DEFAULT_SPECS,
        expand_constraints,
        parse_constraint,
    )

    texts = args.max_gap or list(DEFAULT_SPECS)
    parsed = []
    for text in texts:
        spec = parse_constraint(text)
        if args.outcome and not _explicit_outcome(text):
            spec = replace(spec, outcome=args.outcome)
        parsed.append(spec)
    return expand_constraints(parsed, attributes=attributes, has_twins=has_twins, has_labels=has_labels,
                              explicit=bool(args.max_gap))


def _n_gaps(specs, *, eo_is_dp: bool = False) -> int:
    """Distinct gaps J, as certify counts them: one gap at two tolerances shares its interval,
    and so do EO and DP of a pairs table without ``p_human`` (``eo_is_dp``)."""
    def metric(s) -> str:
        return "dp" if eo_is_dp and s.metric == "eo" else s.metric

    return len({(metric(s), s.method, s.outcome, s.attribute) for s in specs})


def _defaults(spec, args: argparse.Namespace, n_groups: int) -> _Assumed:
    """Assumptions without a pilot: options, else gap 0 and the worst-case sd."""
    design = "unpaired" if args.design == "auto" else args.design
    sources = {
        "gap": "given" if args.true_gap is not None else "assumed 0 (a fair model)",
        "sd": "given" if args.sd is not None else "worst case",
        "icc": "given" if args.icc is not None else "none",
        "design": "given" if args.design != "auto" else "unpaired (no pilot)",
    }
    return _Assumed(
        gap=args.true_gap if args.true_gap is not None else 0.0, sd=args.sd,
        icc=args.icc or 0.0, cluster_size=args.cluster_size or 1.0, n_groups=n_groups,
        n_classes=2 if spec.metric == "eo" else 1, design=design, saturated_share=None,
        max_n=_max_n(None), sources=sources,
    )


def _max_n(pilot_rows: int | None) -> int:
    from faro_audit.stats.planning import DEFAULT_MAX_N

    if pilot_rows is None:
        return DEFAULT_MAX_N
    return int(min(DEFAULT_MAX_N, max(100 * pilot_rows, 1000)))


class _Pilot:
    """A pilot scores file, read with the audit's reader, and its per-constraint estimates."""

    def __init__(self, args: argparse.Namespace, groups: dict[str, int]) -> None:
        from faro_audit.audit.arrays import build_arrays
        from faro_audit.audit.attribute import INTERSECTION_SEP, attribute_list
        from faro_audit.io.readers import read_table

        if not groups:
            raise FaroUsageError("--pilot needs the group columns: give --group COL (repeatable)")
        bad = [g for g in args.group if "=" in g]
        if bad:
            raise FaroUsageError(f"--group {bad[0]!r}: with --pilot, name a group column (e.g. --group gender); "
                                 "its groups come from the pilot")
        self.path = args.pilot
        self.table = read_table(args.pilot, group=list(groups), shape=args.shape, require_scores=True)
        self.arrays = build_arrays(self.table, temperature=args.temperature, reference=args.reference)
        self.attributes = attribute_list(self.table)
        self.sep = INTERSECTION_SEP
        self.has_twins = self.arrays.cf_id is not None
        self.has_labels = self.table.shape == "pairs" or self.arrays.label is not None

    def labels(self, attribute: str):
        import numpy as np
        import pandas as pd

        frame = self.table.frame
        if attribute in frame.columns:
            raw = frame[attribute].to_numpy(dtype=object)
        else:
            cols = attribute.split(self.sep)
            raw = frame[cols[0]].astype(str)
            for c in cols[1:]:
                raw = raw + "|" + frame[c].astype(str)
            raw = raw.to_numpy(dtype=object)
        defined = pd.Series(raw).notna().to_numpy()
        return np.flatnonzero(defined), raw

    def estimates(self, spec, args: argparse.Namespace):
        """(estimate per label class, rows behind the smallest group), for one constraint."""
        import numpy as np

        from faro_audit.metrics.counterfactual import cf_gap
        from faro_audit.stats.planning import cf_pilot_estimates, pilot_estimates

        a = self.arrays
        rows, raw = self.labels(spec.attribute)
        soft = spec.outcome == "soft"
        if spec.metric == "cf":
            values = a.soft if soft else a.hard
            res = cf_gap(values[rows], cf_id=a.cf_id[rows], allow_singletons=True)
            est = cf_pilot_estimates(res.spreads)
            sat = float(np.mean((values[rows] < 1e-3) | (values[rows] > 1 - 1e-3))) if soft else None
            return [replace(est, saturated_share=sat)], est.n_sets
        if spec.metric == "dp":
            parts = [(a.soft if soft else a.hard, rows)]
        elif a.shape == "pairs":
            parts = [(a.agree_soft if soft else a.agree_hard, rows)]
        else:
            parts = [(a.soft if soft else a.hard, rows[a.label[rows] == c]) for c in (0, 1)]
            parts = [(v, r) for v, r in parts if r.size]
        out = []
        for values, sub in parts:
            twin = a.cf_id[sub] if (a.cf_id is not None and args.design != "unpaired") else None
            est = pilot_estimates(values[sub], raw[sub].astype(str), method=spec.method,
                                  clusters=a.clusters[sub], weight=a.weight[sub] if a.weighted else None,
                                  twin_ids=twin, soft=soft)
            out.append(est)
        smallest = min(min(e.group_rows.values()) if e.design != "paired" else e.n_sets for e in out)
        return out, smallest

    def assumed(self, spec, args: argparse.Namespace) -> list[_Assumed]:
        ests, smallest = self.estimates(spec, args)
        out = []
        for est in ests:
            design = est.design if spec.metric != "cf" else "unpaired"
            if spec.metric != "cf" and args.design == "paired" and est.design != "paired":
                raise FaroUsageError(
                    f"--design paired: the pilot's twin sets (cf_id) do not hold every group of "
                    f"{spec.attribute!r} exactly once (or the table is weighted); use --design unpaired or auto")
            src = f"pilot {self.path}"
            sources = {
                "gap": "given" if args.true_gap is not None else src,
                "sd": "given" if args.sd is not None else src,
                "icc": "given" if args.icc is not None else src,
                "design": "given" if args.design != "auto" else src,
            }
            out.append(_Assumed(
                gap=args.true_gap if args.true_gap is not None else est.gap,
                sd=args.sd if args.sd is not None else est.sd,
                icc=args.icc if args.icc is not None else est.icc,
                cluster_size=args.cluster_size if args.cluster_size is not None else est.cluster_size,
                n_groups=max(est.n_groups, 2), n_classes=len(ests), design=design,
                saturated_share=est.saturated_share, max_n=_max_n(smallest), sources=sources,
            ))
        return out


def _combine(plans: list) -> Any:
    """EO over label classes: certification needs every class (the largest n), a violation one."""
    if len(plans) == 1:
        return plans[0]
    violated = [p for p in plans if p.target == "violated" and p.status == "planned"]
    if violated:
        return min(violated, key=lambda p: p.n)
    blocked = [p for p in plans if p.status != "planned"]
    if blocked:
        return blocked[0]
    return max(plans, key=lambda p: p.n)


def _plans(args: argparse.Namespace) -> tuple[list[dict[str, Any]], int, str | None]:
    from faro_audit.stats.planning import plan_constraint

    _check_options(args)
    groups = _parse_groups(args.group, args.groups_per_attribute)
    pilot = _Pilot(args, groups) if args.pilot else None
    if pilot is not None:
        specs = _specs(args, pilot.attributes, has_twins=pilot.has_twins, has_labels=pilot.has_labels)
    else:
        attributes = list(groups)
        for text in args.max_gap or []:
            head = text.split("=", 1)[0]
            if "@" in head and not groups:
                attributes.append(head.split("@", 1)[1])
        if not attributes:
            attributes = [_PLACEHOLDER]
        attributes = list(dict.fromkeys(attributes))
        specs = _specs(args, attributes, has_twins=True, has_labels=True)
    if not specs:
        raise FaroUsageError("no constraint can be planned for this pilot (no labels for eo, no cf_id for cf); "
                             "give --max-gap")
    n_gaps = _n_gaps(specs, eo_is_dp=pilot is not None and pilot.table.shape == "pairs" and pilot.arrays.p_human is None)
    rows = []
    for spec in specs:
        assumed = (pilot.assumed(spec, args) if pilot is not None
                   else [_defaults(spec, args, groups.get(spec.attribute, args.groups_per_attribute))])
        plans = [
            plan_constraint(
                metric=spec.metric, method=spec.method, epsilon=spec.epsilon, true_gap=a.gap, sd=a.sd,
                n_groups=a.n_groups, n_classes=a.n_classes, outcome=spec.outcome, design=a.design,
                delta=args.delta, n_constraints=n_gaps, power=args.power, bound=args.bound,
                icc=a.icc, cluster_size=a.cluster_size, min_group_size=args.min_group_size,
                max_n=a.max_n, saturated_share=a.saturated_share,
            )
            for a in assumed
        ]
        best = _combine(plans)
        a = assumed[plans.index(best)]
        rows.append({"constraint": _name(spec), "attribute": spec.attribute, "sources": a.sources,
                     "plan": best})
    return rows, n_gaps, None if pilot is None else pilot.path


def _name(spec) -> str:
    metric = spec.metric if spec.method != "to_overall" else f"{spec.metric}_anchored"
    return f"{metric}:{spec.outcome}@{spec.attribute}={spec.epsilon:g}"


def _can_encode(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _needed(plan, eps_word: str) -> str:
    if plan.status == "planned":
        verb = "to certify" if plan.target == "certified" else "to find violated"
        return f"{plan.n} {plan.unit} {verb}"
    if plan.status == "saturated":
        return "none: soft outcome saturated, raise --temperature"
    return f"undecidable near {eps_word}"


def _render(rows: list[dict[str, Any]], args: argparse.Namespace, n_gaps: int, pilot: str | None) -> str:
    eps_word = "ε" if _can_encode("ε") else "epsilon"
    delta_j = args.delta / n_gaps
    title = (f"faro-audit plan: rows needed to decide each constraint with power {args.power:g} "
             f"(delta {args.delta:g} over {n_gaps} gap{'s' if n_gaps > 1 else ''}: delta_j {delta_j:.4g})")
    lines = [title, ""]
    head = ("constraint", "design", "K", "gap", "sd", "deff", "bound", "needed")
    table = []
    for r in rows:
        p = r["plan"]
        table.append((r["constraint"], p.design, str(p.n_groups) if p.metric != "cf" else "-",
                      f"{p.true_gap:.4g}", f"{p.sd:.3g}", f"{p.design_effect:.2f}", p.bound,
                      _needed(p, eps_word)))
    widths = [max(len(head[i]), *(len(t[i]) for t in table)) for i in range(len(head))]
    for t in (head, *table):
        lines.append("  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip())
    lines.append("")
    for r in rows:
        p = r["plan"]
        reason = p.reason.replace("epsilon", eps_word)
        by_source: dict[str, list[str]] = {}
        for what, key in (("gap", "gap"), ("sd", "sd"), ("clustering", "icc")):
            by_source.setdefault(r["sources"][key], []).append(what)
        src = "; ".join(f"{', '.join(whats)}: {where}" for where, whats in by_source.items())
        lines.append(f"{r['constraint']}: {reason} [{src}]")
    if pilot is None:
        lines.append("assumptions: without --pilot the gap is the --true-gap (else 0) and the sd the --sd "
                     "(else the worst case: 0.5, or 1 for a paired contrast)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    rows, n_gaps, pilot = _plans(args)
    if args.json:
        doc = {
            "delta": args.delta, "power": args.power, "bound": args.bound, "n_gaps": n_gaps,
            "delta_per_constraint": args.delta / n_gaps, "pilot": pilot,
            "plans": [{"constraint": r["constraint"], "attribute": r["attribute"], "sources": r["sources"],
                       **r["plan"].as_dict()} for r in rows],
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
    else:
        print(_render(rows, args, n_gaps, pilot))
    return 0
