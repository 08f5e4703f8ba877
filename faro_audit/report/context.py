"""The HTML report's view model: an :class:`AuditResult` turned into formatted strings.

The template only lays out what this module computes; every number is formatted here (3
decimals, intervals as ``[a, b]``) and every user-supplied string stays a plain ``str`` so that
Jinja2's autoescape escapes it. The only ``Markup`` values are the figures, which
:mod:`faro_audit.report.figures` builds and checks.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup

from faro_audit.audit.result import (
    AttributeSummary,
    AuditResult,
    CertificateResult,
    GroupEstimate,
    MetricResult,
)
from faro_audit.report import figures, fmt
from faro_audit.report.retrain_section import EXTRA_KEYS, build_retrain_context
from faro_audit.report.twins import counterfactual_view

#: Characters of an ``extras`` entry shown as JSON.
MAX_EXTRA = 2000

SETTING_HELP: dict[str, str] = {
    "delta": "error probability δ: all certificates hold together with probability ≥ 1 − δ",
    "bound": "confidence bound on each group mean (SPEC §5)",
    "temperature": "temperature T of the soft outcome σ(d/T)",
    "seed": "random seed of the bootstrap and tests",
    "n_boot": "bootstrap resamples for descriptive intervals",
    "reference": "reference reward b for pointwise responses",
    "min_group_size": "groups smaller than this are flagged and cannot be certified",
    "beta": "KL-regularisation strength β for the reward→policy bound",
    "max_gap": "constraints requested (empty: the defaults dp=0.05 eo=0.05 cf=0.05)",
    "group": "group columns audited",
}


def _val(x: Any) -> str:
    """Any setting/provenance value as one readable line."""
    if isinstance(x, float):
        return fmt.num(x) if abs(x) < 1e5 else repr(x)
    if isinstance(x, (dict, list, tuple)):
        return json.dumps(x, ensure_ascii=False, sort_keys=False, default=str)
    return "" if x is None else str(x)


def _est_ci(ge: GroupEstimate | None) -> dict[str, str]:
    """Estimate and descriptive interval of one group. A group of one row has no bootstrap
    interval (every resample is that row: a zero-width [x, x] would look exact), so none is
    shown (SPEC §4: shown, flagged)."""
    if ge is None:
        return {"est": fmt.MISSING, "ci": ""}
    if fmt.is_number(ge.n) and int(ge.n) < 2:
        return {"est": fmt.num(ge.estimate), "ci": "(1 row: no interval)"}
    ci = fmt.ci(ge.ci)
    return {"est": fmt.num(ge.estimate), "ci": "" if ci == fmt.MISSING else ci}


def overall_value(result: AuditResult, name: str) -> tuple[Any, Any]:
    """``(estimate, (lower, upper) or None)`` of an overall metric.

    Looked up first in ``metrics`` (an entry with no attribute and no label), then in
    ``overall`` (a number, a ``{"estimate", "ci"}`` mapping, or a ``[estimate, lower, upper]``
    list).
    """
    for m in result.metrics:
        if m.name == name and m.attribute is None and m.label is None:
            return m.estimate, m.ci
    v = result.overall.get(name)
    if isinstance(v, Mapping):
        return v.get("estimate"), v.get("ci")
    if isinstance(v, (list, tuple)) and len(v) == 3:
        return v[0], (v[1], v[2])
    if fmt.is_number(v):  # a per-attribute metric over the same rows carries the interval
        for m in result.metrics:
            if (m.name == name and m.label is None and fmt.is_number(m.estimate)
                    and abs(float(m.estimate) - float(v)) <= 1e-12 and m.ci
                    and any(fmt.is_number(x) for x in m.ci)):
                return v, m.ci
    return v, None


def _stat(result: AuditResult, name: str, label: str, hint: str) -> dict[str, str] | None:
    est, ci = overall_value(result, name)
    if not fmt.is_number(est):
        return None
    return {"label": label, "value": fmt.num(est), "ci": fmt.ci(ci) if ci else "", "hint": hint}


def _scale_max(certs: Iterable[CertificateResult]) -> float:
    vals = [float(v) for c in certs for v in (c.upper, c.estimate, c.epsilon) if fmt.is_number(v)]
    top = max(vals, default=1.0)
    return min(max(top * 1.12, 0.02), 1.0) if top <= 1.0 else top * 1.12


def _group_interval(v: Any) -> tuple[Any, Any, Any, Any]:
    """``(estimate, lower, upper, n)`` of a certificate's group interval.

    The tuple is read as ``(estimate, lower, upper, n)``; should its numbers not be in that
    order (lower ≤ estimate ≤ upper), the three are shown sorted, which is right whatever the
    order they were stored in.
    """
    vals = list(v) + [None] * (4 - len(v))
    est, lo, hi, n = vals[:4]
    nums = [est, lo, hi]
    if all(fmt.is_number(x) for x in nums) and not float(lo) <= float(est) <= float(hi):
        lo, est, hi = sorted(float(x) for x in nums)
    return est, lo, hi, n


def _spread(values: Iterable[Any]) -> float:
    """Mean of the finite values (the centre a listing's extremeness is measured from)."""
    v = [float(x) for x in values if fmt.is_number(x) and math.isfinite(float(x))]
    return sum(v) / len(v) if v else 0.0


def _capped(rows: list[dict[str, Any]], score: Any, filler: dict[str, Any]) -> list[dict[str, Any]]:
    """``rows`` cut to the most extreme (:func:`fmt.cap_listing`), plus one row saying how many
    more there are (``filler`` gives the row's other cells, so the templates need no change)."""
    shown, more = fmt.cap_listing(rows, score)
    if more:
        shown.append({**filler, "more": True, next(iter(filler)): fmt.more_groups(more)})
    return shown


def _certificate(c: CertificateResult, scale: float) -> dict[str, Any]:
    raw = [(g, *_group_interval(v)) for g, v in c.group_intervals.items()]
    centre = _spread(r[1] for r in raw)
    groups = [{"group": g, "est": fmt.num(est), "ci": fmt.interval(lo, hi), "n": fmt.integer(n),
               "_x": abs(float(est) - centre) if fmt.is_number(est) else math.nan}
              for g, est, lo, hi, n in raw]
    groups = _capped(groups, lambda r: r["_x"], {"group": "", "est": "", "ci": "", "n": ""})
    contrasts = []
    for g, v in c.contrast_intervals.items():
        est, lo, hi, n = _group_interval(v)
        contrasts.append({"contrast": g, "est": fmt.num(est), "ci": fmt.interval(lo, hi), "n": fmt.integer(n),
                          "_x": abs(float(est)) if fmt.is_number(est) else math.nan})
    contrasts = _capped(contrasts, lambda r: r["_x"], {"contrast": "", "est": "", "ci": "", "n": ""})
    return {
        "design": _DESIGN_WORDS.get(str(c.design), fmt.clean_text(str(c.design))),
        "design_note": fmt.clean_text(c.design_note),
        "allocation": fmt.clean_text(c.allocation),
        "contrasts": contrasts,
        "label": fmt.certificate_label(c),
        "description": fmt.certificate_description(c),
        "attribute": c.attribute,
        "epsilon": fmt.num(c.epsilon),
        "estimate": fmt.num(c.estimate),
        "interval": fmt.interval(c.lower, c.upper),
        "upper": fmt.num(c.upper),
        "verdict": str(c.verdict),
        "verdict_word": fmt.verdict_word(c.verdict),
        "symbol": fmt.verdict_symbol(c.verdict),
        "n_required": fmt.integer(c.n_required) if c.n_required is not None else "",
        "reason": fmt.clean_text(c.reason),
        "bound": c.bound,
        "delta": fmt.num(c.delta),
        "strip": Markup(figures.interval_strip_svg(c.lower, c.estimate, c.upper, c.epsilon,
                                                   verdict=str(c.verdict), scale_max=scale)),
        "groups": groups,
    }


def _verdict(result: AuditResult) -> dict[str, Any]:
    counts = {k: 0 for k in fmt.VERDICTS}
    for c in result.certificates:
        counts[str(c.verdict)] = counts.get(str(c.verdict), 0) + 1
    delta = result.settings.get("delta")
    conf = fmt.pct(1.0 - float(delta), 1) if fmt.is_number(delta) else fmt.MISSING
    return {
        "key": str(result.verdict),
        "word": fmt.verdict_word(result.verdict),
        "symbol": fmt.verdict_symbol(result.verdict),
        "meaning": fmt.verdict_meaning(result.verdict),
        "exit_code": fmt.exit_code(result.verdict),
        "counts": counts,
        "n": len(result.certificates),
        "confidence": conf,
        "delta": fmt.num(delta) if fmt.is_number(delta) else fmt.MISSING,
        "bound": str(result.settings.get("bound", fmt.MISSING)),
    }


def _group_rows(a: AttributeSummary) -> list[dict[str, Any]]:
    """The per-group table; above :data:`fmt.LIST_GROUPS` groups, the :data:`fmt.SHOW_GROUPS`
    whose soft mean is farthest from the groups' average, |m_a − mean_b m_b|, then a line
    counting the rest (all of them are in report.json)."""
    centre = _spread(g.soft.estimate for g in a.groups if g.soft is not None)

    def extreme(g: Any) -> float:
        e = None if g.soft is None else g.soft.estimate
        return abs(float(e) - centre) if fmt.is_number(e) else math.nan

    shown, more = fmt.cap_listing(list(a.groups), extreme)
    rows = []
    for g in shown:
        rows.append({
            "group": g.group, "n": fmt.integer(g.n), "small": bool(g.small),
            "reward_mean": fmt.num(g.reward_mean), "reward_median": fmt.num(g.reward_median),
            "reward_sd": fmt.num(g.reward_sd), "reward_gap": fmt.num(g.reward_gap),
            "reward_gap_sd": fmt.num(g.reward_gap_sd), "soft": _est_ci(g.soft),
            "hard": _est_ci(g.hard), "accuracy": _est_ci(g.accuracy), "ece": fmt.num(g.ece),
            "truncated": fmt.integer(g.truncated),
        })
    if more:
        blank = {"est": "", "ci": ""}
        rows.append({
            "group": fmt.more_groups(more), "n": "", "small": False, "more": True,
            "reward_mean": "", "reward_median": "", "reward_sd": "", "reward_gap": "",
            "reward_gap_sd": "", "soft": blank, "hard": blank, "accuracy": blank, "ece": "",
            "truncated": "",
        })
    return rows


def _test_rows(a: AttributeSummary) -> list[dict[str, Any]]:
    """Group-vs-rest tests; above :data:`fmt.LIST_GROUPS`, the :data:`fmt.SHOW_GROUPS` with
    the smallest p-values (untested ones last), then a line counting the rest."""
    rows = [{
        "group": t.group, "metric": t.metric, "n": fmt.integer(t.n),
        "mean_group": fmt.num(t.mean_group), "mean_rest": fmt.num(t.mean_rest),
        "difference": fmt.num(t.difference), "p": fmt.pvalue(t.p_value),
        "p_adj": fmt.pvalue(t.p_adjusted), "reject": bool(t.reject),
        "_x": -float(t.p_value) if fmt.is_number(t.p_value) else math.nan,
    } for t in a.tests]
    return _capped(rows, lambda r: r["_x"], {
        "group": "", "metric": "", "n": "", "mean_group": "", "mean_rest": "", "difference": "",
        "p": "", "p_adj": "", "reject": False})


def _small_names(a: AttributeSummary) -> list[str]:
    """Names of the small groups: at most :data:`fmt.SHOW_GROUPS`, then "… and N more"."""
    small = [g.group for g in a.groups if g.small]
    if len(small) <= fmt.LIST_GROUPS:
        return small
    return small[:fmt.SHOW_GROUPS] + [fmt.more_groups(len(small) - fmt.SHOW_GROUPS)]


def _metric_row(m: MetricResult) -> dict[str, str]:
    return {"name": fmt.metric_name(m.name), "outcome": m.outcome or "",
            "method": fmt.METHOD_NAMES.get(m.method, m.method), "label": m.label or "",
            "estimate": fmt.num(m.estimate), "ci": fmt.ci(m.ci)}


def _figure(title: str, made: tuple[str, str] | None, caption: str) -> dict[str, Any] | None:
    if made is None:
        return None
    svg, note = made
    return {"title": title, "svg": Markup(svg), "caption": caption, "note": note}


def reward_kind(result: AuditResult) -> dict[str, str]:
    """What the raw-reward columns describe: the reward, or for pairs the reward margin."""
    kind = str(result.overall.get("reward_kind") or "")
    if "margin" in kind or (not kind and result.data.get("shape") == "pairs"):
        return {"short": "reward margin", "long": "Reward margin d = r(chosen) − r(rejected)"}
    return {"short": "raw reward", "long": "Raw reward"}


def _attribute(a: AttributeSummary, i: int, result: AuditResult) -> dict[str, Any]:
    key = f"a{i}"
    reward = reward_kind(result)
    figs = [
        _figure("Outcome means by group", figures.group_means_svg(a, key=f"{key}-means"),
                "Bars: each group's mean soft and hard outcome (colours as in the legend); "
                "whiskers: bootstrap interval. Groups are sorted by the soft mean; the DP gap is "
                "the distance between the top and bottom bars of one colour. Hatched bars are "
                "groups below the minimum size."),
        _figure("Reliability of all groups", figures.reliability_svg(a, key=f"{key}-rel"),
                "All groups on one axes, one line per group (colour and marker as in the "
                "legend): the reward model's confidence (x) against how often it picked the "
                "preferred side (y). Points on the dashed diagonal are perfectly calibrated; "
                "below it, over-confident. Each marker is one equal-mass confidence bin; where a "
                "group's bins hold unequal numbers of pairs, a shaded disc's area shows the bin's "
                "share."),
        _figure(f"Distribution of the {reward['short']} by group",
                figures.reward_hist_svg(a, key=f"{key}-hist", xlabel=reward["short"]),
                f"One row per group: a density histogram of the {reward['short']}, all rows on "
                "the same x axis and the same density scale, so widths and heights compare "
                "across groups; dashed tick: the group's mean. Rewards are described, not "
                "certified: their offset and scale are arbitrary."),
    ]
    return {
        "anchor": f"attr-{i}",
        "reward": reward,
        "name": a.attribute,
        "n_rows": fmt.integer(a.n_rows),
        "n_groups": len(a.groups),
        "n_small": sum(1 for g in a.groups if g.small),
        "small": _small_names(a),
        "groups": _group_rows(a),
        "metrics": [_metric_row(m) for m in result.metrics if m.attribute == a.attribute],
        "tests": _test_rows(a),
        "certificates": [{"label": fmt.certificate_label(c), "verdict": str(c.verdict),
                          "verdict_word": fmt.verdict_word(c.verdict),
                          "symbol": fmt.verdict_symbol(c.verdict)}
                         for c in result.certificates if c.attribute == a.attribute],
        "figures": [f for f in figs if f is not None],
    }


def _kv(d: Mapping[str, Any], help_: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    return [{"key": str(k), "value": fmt.clean_text(_val(v)),
             "help": (help_ or {}).get(str(k), "")} for k, v in d.items()]


def _provenance(result: AuditResult) -> dict[str, Any]:
    prov = dict(result.provenance)
    versions: dict[str, Any] = {}
    for key in ("faro_audit", "python"):
        if key in prov and not isinstance(prov[key], Mapping):
            versions[key] = prov.pop(key)
    for key in ("versions", "packages"):
        if isinstance(prov.get(key), Mapping):
            versions.update(prov.pop(key))
    command = prov.pop("command", None) or prov.pop("argv", None)
    if isinstance(command, (list, tuple)):
        command = shlex.join(str(c) for c in command)
    target = {k: v for k, v in result.target.items()}
    data = {k: v for k, v in result.data.items() if k != "groups"}
    return {
        "target": _kv(target), "data": _kv(data),
        "versions": _kv({k: ("not installed" if v is None else v) for k, v in versions.items()}),
        "command": fmt.clean_text(command) if command else "",
        "other": _kv(prov) + _kv({"schema_version": result.schema_version,
                                  "faro_audit_version": result.faro_audit_version}),
    }


def _overview(result: AuditResult, verdict: dict[str, Any]) -> list[dict[str, Any]]:
    ordinal = [s for s in (
        _stat(result, "pairwise_accuracy", "pairwise accuracy",
              "share of pairs where the preferred response gets the higher reward"),
        _stat(result, "auc", "AUC", "probability a label-1 response outscores a label-0 one"),
    ) if s]
    cardinal = [s for s in (
        _stat(result, "ece", "ECE", "expected calibration error (15 equal-mass bins)"),
        _stat(result, "brier", "Brier score", "mean squared error of the preference probability"),
        _stat(result, "bt_nll", "BT log-loss", "Bradley–Terry negative log-likelihood"),
    ) if s]
    worst = max((c for c in result.certificates if fmt.is_number(c.estimate)),
                key=lambda c: float(c.estimate) - float(c.epsilon or 0.0), default=None)
    fair = [{"label": "constraints", "value": f"{verdict['n']}",
             "ci": "", "hint": ", ".join(f"{n} {k}" for k, n in verdict["counts"].items())}]
    if worst is not None:
        fair.append({"label": "furthest above ε" if float(worst.estimate) > float(
            worst.epsilon or 0) else "closest to ε", "value": fmt.num(worst.estimate),
            "ci": fmt.interval(worst.lower, worst.upper),
            "hint": f"{fmt.certificate_label(worst)}"})
    return [
        {"title": "Ordinal", "question": "Does it rank responses correctly?", "stats": ordinal},
        {"title": "Cardinal", "question": "Are its preference probabilities calibrated?",
         "stats": cardinal},
        {"title": "Fair", "question": "Does it treat groups alike?", "stats": fair,
         "verdict": verdict},
    ]


def _bonferroni(result: AuditResult) -> str:
    """How δ was split over the requested constraints (from ``extras``), or ``""``."""
    n = result.extras.get("n_constraints")
    per = result.extras.get("delta_per_constraint")
    delta = result.settings.get("delta")
    if fmt.is_number(n) and fmt.is_number(delta) and fmt.is_number(per):
        return (f"The error probability δ = {fmt.num(delta)} is split evenly over the {fmt.integer(n)} distinct "
                f"gaps the requested constraints bound (δ_j = {fmt.num(per, 4)} each); half of δ_j protects each "
                "end of a constraint's interval, so a constraint is wrongly certified (or wrongly violated) with "
                f"probability at most δ_j/2, and all intervals hold together with probability at least "
                f"{fmt.num(1 - float(delta))}. Constraints that are not requested take no share of δ.")
    n = result.extras.get("n_intervals")  # reports written before the per-constraint split
    old = result.extras.get("delta_per_interval")
    if not fmt.is_number(n) or not fmt.is_number(delta):
        return ""
    each = f" (each at δ′ = {fmt.num(old, 4) if fmt.is_number(old) else fmt.MISSING})"
    return (f"The error probability δ = {fmt.num(delta)} is shared by {fmt.integer(n)} group "
            f"intervals{each}, by Bonferroni, so that every row holds at once.")


def _sequential(result: AuditResult) -> str:
    """One sentence on a sequential audit (from ``extras``), or ``""``."""
    info = result.extras.get("sequential")
    return fmt.clean_text(str(info.get("statement", ""))) if isinstance(info, dict) else ""


_DESIGN_WORDS = {
    "paired": "paired twin sets",
    "unpaired": "unpaired groups (box)",
    "twin-set spreads": "twin-set spreads",
}


def slack_rows(result: AuditResult) -> list[dict[str, Any]]:
    """The Faro slack checks (SPEC §5.5), formatted for the templates."""
    return [{
        "constraint": fmt.clean_text(s.constraint), "epsilon": fmt.num(s.epsilon),
        "slack": fmt.num(s.declared_slack),
        "limit": fmt.num(float(s.epsilon) + float(s.declared_slack))
        if fmt.is_number(s.epsilon) and fmt.is_number(s.declared_slack) else fmt.MISSING,
        "upper": fmt.num(s.upper),
        "holds": {True: "holds", False: "does not hold", None: "undetermined"}[s.holds],
        "verdict": {True: "certified", False: "violated", None: "inconclusive"}[s.holds],
        "statement": fmt.clean_text(s.statement),
    } for s in result.slack_checks]


def _counts(v: Any) -> str:
    """``"g: n, …"`` of one attribute's group sizes; above :data:`fmt.LIST_GROUPS` groups, the
    :data:`fmt.SHOW_GROUPS` largest and a count of the rest."""
    if not isinstance(v, Mapping):
        return _val(v)
    items = list(v.items())
    shown, more = fmt.cap_listing(items, lambda kv: float(kv[1]) if fmt.is_number(kv[1]) else math.nan)
    text = ", ".join(f"{g}: {fmt.integer(n)}" for g, n in shown)
    return f"{text}, {fmt.more_groups(more)}" if more else text


def build_context(result: AuditResult, *, title: str | None = None) -> dict[str, Any]:
    """Everything the report template shows, formatted (see module docstring)."""
    certs = list(result.certificates)
    scale = _scale_max(certs)
    verdict = _verdict(result)
    attrs = [_attribute(a, i, result) for i, a in enumerate(result.attributes)]
    cfs = [counterfactual_view(a.counterfactual, a.attribute, reward_kind(result))
           for a in result.attributes if a.counterfactual is not None]
    target_path = fmt.clean_text(result.target.get("path") or result.target.get("kind") or "")
    return {
        "title": title or "Reward-model fairness audit",
        "version": str(result.faro_audit_version),
        "schema_version": str(result.schema_version),
        "target": target_path,
        "target_kind": str(result.target.get("kind", "")),
        "data_path": fmt.clean_text(result.data.get("path") or ""),
        "n_rows": fmt.integer(result.data.get("n_rows")),
        "shape": str(result.data.get("shape", "")),
        "created": fmt.clean_text(result.provenance.get("created")
                                  or result.provenance.get("timestamp") or ""),
        "verdict": verdict,
        "certificates": [_certificate(c, scale) for c in certs],
        "bonferroni": _bonferroni(result),
        "sequential": _sequential(result),
        "scale_max": fmt.num(scale),
        "overview": _overview(result, verdict),
        "attributes": attrs,
        "counterfactual": cfs,
        "policy": [{
            "beta": fmt.num(p.beta), "gap": fmt.num(p.reward_gap),
            "source": fmt.clean_text(p.reward_gap_source), "log_ratio": fmt.num(p.log_ratio),
            "kl": fmt.num(p.kl), "tv": fmt.num(p.tv),
            "vacuous": fmt.is_number(p.tv) and float(p.tv) >= 0.99,
            "statement": fmt.clean_text(p.statement),
        } for p in result.policy_bounds],
        "slack": slack_rows(result),
        "definitions": [{"key": fmt.clean_text(k), "value": fmt.clean_text(v)}
                        for k, v in result.definitions.items()],
        "settings": _kv(result.settings, SETTING_HELP),
        "scoring": _kv(result.scoring),
        "warnings": [fmt.clean_text(w) for w in fmt.aggregate_notes(result.warnings)],
        "provenance": _provenance(result),
        "groups": [{"attribute": fmt.clean_text(a), "counts": _counts(v)}
                   for a, v in (result.data.get("groups") or {}).items()],
        "extras": [{"key": str(k), "json": fmt.truncate(fmt.clean_text(json.dumps(
            v, ensure_ascii=False, default=str)), MAX_EXTRA)[0]} for k, v in result.extras.items()
            if not (k in EXTRA_KEYS and "retrain_comparison" in result.extras)],
        "retrain": build_retrain_context(result),
    }
