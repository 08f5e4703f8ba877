"""The report's "Retraining: before and after" section, built from a retrained model's audit.

``faro-audit retrain`` (:func:`faro_audit.retrain.api.retrain`) audits the retrained model on
the held-out rows and puts into the :class:`AuditResult`'s ``extras``:

* ``retrain_comparison`` — ``Comparison.to_dict()`` (:mod:`faro_audit.retrain.compare`): every
  method (original, unconstrained, reweighting, group_shift, faro) on the same held-out rows
  with its gaps (keyed by the constraint text), ``pairwise_accuracy``, ``bt_nll``, ``ece``;
* ``retrain_sweep`` — ``SweepResult.to_dict()`` (:mod:`faro_audit.retrain.sweep`), optional;
* ``audit_before_verdict`` and ``audit_before_certificates`` — the input model's held-out audit.

This module turns them into formatted strings (the template only lays them out; every value is
a plain ``str`` escaped by autoescape, the Pareto figure is the only ``Markup``). Extras read
back from ``report.json`` are plain JSON, so everything here reads mappings defensively: a
missing or malformed entry shows as "—", never raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from faro_audit.audit.result import AuditResult, CertificateResult
from faro_audit.report import figures, fmt

__all__ = ["EXTRA_KEYS", "METHOD_LABELS", "before_certificates", "build_retrain_context"]

#: ``extras`` keys this section shows (left out of the generic extras table).
EXTRA_KEYS = ("retrain_comparison", "retrain_sweep", "audit_before_verdict",
              "audit_before_certificates")

#: Method key (``MethodMetrics.method``) → row label.
METHOD_LABELS: dict[str, str] = {
    "original": "Original model",
    "unconstrained": "Unconstrained retraining (same budget)",
    "reweighting": "Group reweighting (pre-processing)",
    "group_shift": "Per-group margin shift (post-processing)",
    "faro": "Faro",
}


def before_certificates(certs: Sequence[CertificateResult]) -> list[dict[str, Any]]:
    """The input model's certificates as plain JSON for ``extras["audit_before_certificates"]``."""
    return [{"label": fmt.certificate_label(c), "estimate": c.estimate, "lower": c.lower,
             "upper": c.upper, "verdict": str(c.verdict)} for c in certs]


def _map(x: Any) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}


def _list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else []


def _verdict_cell(verdict: Any) -> dict[str, str]:
    v = str(verdict) if verdict is not None else ""
    if v not in fmt.VERDICTS:
        return {"verdict": "unknown", "word": fmt.MISSING, "symbol": ""}
    return {"verdict": v, "word": fmt.verdict_word(v), "symbol": fmt.verdict_symbol(v)}


def _methods(comp: Mapping[str, Any], gap_keys: list[str]) -> list[dict[str, Any]]:
    rows = []
    for m in _list(comp.get("methods")):
        m = _map(m)
        key = str(m.get("method", ""))
        gaps = _map(m.get("gaps"))
        extra = _map(m.get("extra"))
        slack = extra.get("declared_slack")
        rows.append({
            "key": fmt.clean_text(key),
            "label": fmt.clean_text(METHOD_LABELS.get(key, key)),
            "description": fmt.clean_text(m.get("description", "")),
            "gaps": [fmt.num(gaps.get(k)) for k in gap_keys],
            "pairwise_accuracy": fmt.num(m.get("pairwise_accuracy")),
            "bt_nll": fmt.num(m.get("bt_nll")),
            "ece": fmt.num(m.get("ece")),
            "slack": fmt.num(slack) if fmt.is_number(slack) else "",
            "is_faro": key == "faro",
        })
    return rows


def _certificates(result: AuditResult) -> list[dict[str, Any]]:
    """Before/after certificate rows, matched by the constraint label."""
    before = {str(_map(c).get("label")): _map(c)
              for c in _list(result.extras.get("audit_before_certificates"))}
    rows = []
    for c in result.certificates:
        label = fmt.certificate_label(c)
        b = before.get(label, {})
        rows.append({
            "label": fmt.clean_text(label),
            "before_estimate": fmt.num(b.get("estimate")),
            "before_interval": fmt.interval(b.get("lower"), b.get("upper")),
            "before": _verdict_cell(b.get("verdict")) if b else _verdict_cell(None),
            "after_estimate": fmt.num(c.estimate),
            "after_interval": fmt.interval(c.lower, c.upper),
            "after": _verdict_cell(c.verdict),
        })
    return rows


def _sweep(sweep: Mapping[str, Any]) -> dict[str, Any] | None:
    points = [_map(p) for p in _list(sweep.get("points"))]
    if not points:
        return None
    names = list(dict.fromkeys(str(k) for p in points for k in _map(p.get("gaps"))))
    rows = [{
        "factor": fmt.num(p.get("factor"), 2),
        "epsilons": [fmt.num(_map(p.get("epsilons")).get(n)) for n in names],
        "gaps": [fmt.num(_map(p.get("gaps")).get(n)) for n in names],
        "pairwise_accuracy": fmt.num(p.get("pairwise_accuracy")),
        "bt_nll": fmt.num(p.get("bt_nll")),
        "ece": fmt.num(p.get("ece")),
        "slack": fmt.num(p.get("declared_slack")),
        "dual_feasible": "yes" if p.get("dual_feasible") is True else "no",
        "non_dominated": bool(p.get("non_dominated")),
    } for p in points]
    made = figures.pareto_svg(points, names, key="retrain-pareto")
    figure = None if made is None else {"svg": Markup(made[0]), "note": made[1]}
    return {"names": [fmt.clean_text(n) for n in names], "rows": rows, "figure": figure}


def build_retrain_context(result: AuditResult) -> dict[str, Any] | None:
    """The section's view model, or ``None`` when ``extras`` has no ``retrain_comparison``.

    Returns
    -------
    dict or None
        ``constraints`` (column headers), ``methods`` (one row per method: ``gaps`` in the
        order of ``constraints``, ``pairwise_accuracy``, ``bt_nll``, ``ece``, Faro's declared
        ``slack``), ``data``/``n_rows`` (the held-out rows), ``slack`` (the slack checks of
        this audit), ``certificates`` (before/after), ``before_verdict``/``after_verdict``,
        ``sweep`` (table and Pareto figure) or ``None``, ``definitions``.
    """
    from faro_audit.report.context import slack_rows  # context imports this module

    comp = result.extras.get("retrain_comparison")
    if not isinstance(comp, Mapping):
        return None
    gap_keys = [str(_map(c).get("text", "")) for c in _list(comp.get("constraints"))]
    sweep = result.extras.get("retrain_sweep")
    return {
        "data": fmt.clean_text(comp.get("data", "")),
        "n_rows": fmt.integer(comp.get("n_rows")),
        "temperature": fmt.num(comp.get("temperature")),
        "constraints": [fmt.clean_text(k) for k in gap_keys],
        "methods": _methods(comp, gap_keys),
        "slack": slack_rows(result),
        "certificates": _certificates(result),
        "before_verdict": _verdict_cell(result.extras.get("audit_before_verdict")),
        "after_verdict": _verdict_cell(result.verdict),
        "sweep": _sweep(sweep) if isinstance(sweep, Mapping) else None,
        "definitions": [{"key": fmt.clean_text(k), "value": fmt.clean_text(v)}
                        for k, v in _map(comp.get("definitions")).items()],
    }
