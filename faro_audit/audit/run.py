"""Run an audit of a scored table: metrics, intervals, tests, certificates → :class:`AuditResult`."""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from faro_audit._version import __version__
from faro_audit.audit.arrays import build_arrays
from faro_audit.audit.attribute import (
    AttributeAnalysis,
    analyse_attribute,
    attribute_list,
)
from faro_audit.audit.certify import build_requests, run_certificates
from faro_audit.audit.constraints import DEFAULT_SPECS, expand_constraints
from faro_audit.audit.definitions import DEFINITIONS
from faro_audit.audit.result import (
    AuditResult,
    CertificateResult,
    GroupTest,
    PolicyBoundResult,
    SlackCheckResult,
)
from faro_audit.audit.settings import AuditSettings
from faro_audit.errors import FaroInputError
from faro_audit.io.table import AuditTable
from faro_audit.stats.grouptests import adjust_family
from faro_audit.stats.policy_bound import policy_bound


def audit_table(
    table: AuditTable,
    *,
    settings: AuditSettings | None = None,
    target_info: Mapping[str, Any] | None = None,
    data_info: Mapping[str, Any] | None = None,
    scoring_info: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
    command: Sequence[str] | None = None,
    **options: Any,
) -> AuditResult:
    """Audit a scored table (SPEC §2–§6) and return the frozen result.

    Parameters
    ----------
    table
        A table with the score columns of its shape.
    settings
        Audit settings; keyword ``options`` (``max_gap``, ``delta``, ``bound``, ``seed``,
        ``n_boot``, ``temperature``, ``reference``, ``min_group_size``, ``beta``) override it.
    target_info, data_info, scoring_info
        Provenance of what was audited (paths, hashes, scoring settings).
    manifest
        A Faro manifest (``faro_manifest.json``): its constraints' declared slack is checked.
    command
        The command line, for provenance.
    """
    settings = replace(settings or AuditSettings(group=table.group_columns), **options).validate()
    if not table.has_scores:
        raise FaroInputError(
            f"{table.path or 'table'}: has no reward columns; score a model with `faro-audit score` first"
        )
    arrays = build_arrays(table, temperature=settings.temperature, reference=settings.reference,
                          arrival_order=settings.sequential)
    attributes = attribute_list(table)
    analyses: list[AttributeAnalysis] = [
        analyse_attribute(table, arrays, attr, settings=settings) for attr in attributes
    ]
    has_labels = table.shape == "pairs" or arrays.label is not None
    explicit = bool(settings.max_gap)
    specs = expand_constraints(
        settings.max_gap or DEFAULT_SPECS,
        attributes=[a.attribute for a in analyses],
        has_twins=arrays.cf_id is not None,
        has_labels=has_labels,
        explicit=explicit,
    )
    requests = build_requests(
        specs,
        arrays,
        {a.attribute: (a.rows, a.labels, a.codes_full) for a in analyses},
        {(a.attribute, o): s for a in analyses for o, s in a.cf_spreads.items()},
    )
    certset = run_certificates(
        requests, delta=settings.delta, bound=settings.bound,
        min_group_size=settings.min_group_size, random_state=settings.seed, sequential=settings.sequential,
    )
    certificates = tuple(_certificate_result(c) for c in certset.certificates)
    tests = tuple(_group_test(t) for t in adjust_family([t for a in analyses for t in a.raw_tests]))
    summaries = tuple(a.summary(tests) for a in analyses)
    metrics = tuple(m for a in analyses for m in a.metrics)
    overall = _overall(analyses)
    warnings = list(table.notes) + [w for a in analyses for w in a.warnings]
    return AuditResult(
        target=dict(target_info or {"kind": "scores", "path": table.path, "sha256": table.sha256}),
        data={
            **dict(data_info or {"path": table.path, "sha256": table.sha256}),
            "n_rows": table.n_rows,
            "shape": table.shape,
            "groups": {a.attribute: a.group_counts for a in analyses},
            "scoped_groups": table.scoped_groups,
        },
        settings=settings.as_report(),
        metrics=metrics,
        certificates=certificates,
        verdict=certset.verdict,
        attributes=summaries,
        overall=overall,
        policy_bounds=_policy_bounds(analyses, settings.beta),
        slack_checks=_slack_checks(manifest, certificates, certset),
        scoring=dict(scoring_info or {}),
        provenance=_provenance(command),
        definitions=DEFINITIONS,
        warnings=tuple(warnings),
        extras={
            "n_intervals": certset.n_intervals,
            "n_constraints": certset.n_constraints,
            "delta_per_constraint": certset.delta_per_constraint,
            "delta_split": (
                f"delta {settings.delta:g} split evenly over the {certset.n_constraints} distinct gaps of the "
                "requested constraints "
                f"(delta_j = {certset.delta_per_constraint:.4g}); half of delta_j bounds each side of a constraint's "
                "interval, so a wrong 'certified' has probability <= delta_j/2 and all intervals hold together "
                f"with probability >= {1 - settings.delta:g}"
            ),
            "betting_seed": settings.seed,
        },
    )


def _group_test(t: Any) -> GroupTest:
    def f(v: Any) -> float | None:
        return None if v is None or not np.isfinite(v) else float(v)

    return GroupTest(
        metric=str(t.metric), attribute=str(t.attribute), group=str(t.group), n=int(t.n),
        mean_group=f(t.mean_group), mean_rest=f(t.mean_rest), difference=f(t.difference),
        p_value=f(t.p_value), p_adjusted=f(t.p_adjusted), reject=bool(t.reject),
        n_clusters=int(t.n_clusters), statistic=f(t.statistic), method=str(t.method), reason=t.reason,
    )


def _certificate_result(c: Any) -> CertificateResult:
    return CertificateResult(
        metric=c.metric, outcome=c.outcome, attribute=c.attribute, method=c.method,
        epsilon=c.epsilon, delta=c.delta, estimate=c.estimate, lower=c.lower, upper=c.upper,
        verdict=c.verdict, n_required=c.n_required, bound=c.bound, reason=c.reason,
        group_intervals={str(k): tuple(v) for k, v in dict(c.group_intervals).items()},
        design=c.design, allocation=c.allocation, design_note=c.design_note,
        delta_per_constraint=c.delta_per_interval,
        contrast_intervals={str(k): tuple(v) for k, v in dict(c.contrast_intervals).items()},
    )


def _overall(analyses: Sequence[AttributeAnalysis]) -> dict[str, Any]:
    """Ordinal and cardinal quality of the whole table (the same rows for every attribute)."""
    first = max(analyses, key=lambda a: a.rows.size)
    return dict(first.overall)


def _policy_bounds(analyses: Sequence[AttributeAnalysis], beta: float | None) -> tuple[PolicyBoundResult, ...]:
    """SPEC §6: turn the counterfactual reward gap into bounds on the KL-regularised policy."""
    if beta is None:
        return ()
    out = []
    for a in analyses:
        cf = a.cf_summary
        if cf is None or cf.max_abs_reward_diff is None:
            continue
        for source, gap in (("largest twin-set reward difference", cf.max_abs_reward_diff),
                            ("95th percentile of twin-set reward differences", a.cf_reward_q95)):
            if gap is None:
                continue
            pb = policy_bound(float(gap), beta=beta)
            out.append(PolicyBoundResult(
                beta=beta, reward_gap=float(gap), reward_gap_source=f"{a.attribute}: {source}",
                log_ratio=pb.log_ratio, kl=pb.kl, tv=pb.tv, statement=pb.statement,
            ))
    return tuple(out)


def _slack_checks(manifest: Mapping[str, Any] | None, certificates: Sequence[CertificateResult],
                  certset: Any) -> tuple[SlackCheckResult, ...]:
    """SPEC §5.5: a Faro model's claim holds if UCB ≤ ε + s on held-out audit data."""
    if not manifest:
        return ()
    slack = float(manifest.get("declared_slack", 0.0))
    out = []
    for con in manifest.get("constraints", []):
        metric, outcome, attribute = con.get("metric"), con.get("outcome", "soft"), con.get("attribute")
        method = con.get("method", "between_groups")
        eps = float(con["epsilon"])
        match = next((c for c in certificates if (c.metric, c.outcome, c.attribute, c.method)
                      == (metric, outcome, attribute, method)), None)
        label = f"{metric}{'_anchored' if method == 'to_overall' else ''}:{outcome}@{attribute}"
        if match is None or match.upper is None:
            out.append(SlackCheckResult(label, eps, slack, None, None,
                                        f"{label}: not measured on this audit data (add it with --max-gap)"))
            continue
        holds = match.upper <= eps + slack
        out.append(SlackCheckResult(
            label, eps, slack, match.upper, holds,
            f"{label}: upper bound {match.upper:.4f} {'≤' if holds else '>'} ε + s = {eps:g} + {slack:.4f}; "
            f"the Faro claim {'holds' if holds else 'does not hold'} on this held-out data",
        ))
    return tuple(out)


def _provenance(command: Sequence[str] | None) -> dict[str, Any]:
    import importlib.metadata as md

    versions = {}
    for pkg in ("numpy", "scipy", "pandas", "statsmodels", "torch", "transformers"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {
        "faro_audit": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "command": list(command) if command is not None else None,
    }
