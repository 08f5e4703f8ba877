"""Everything measured for one attribute: gaps with intervals, groups, calibration, twins, tests.

Descriptive metrics that are a function of one named outcome column are declared as specs in
:mod:`faro_audit.audit.metric_specs` (``dp_gap``; for pairs ``eo_gap`` and
``pairwise_accuracy``) and run by :func:`_run_specs`. Still hand-wired here, because they are
not: calibration (``ece``, ``ece_gap``), ``eo_gap`` per label class for response tables,
``pairwise_accuracy``/``auc`` for response tables, and the counterfactual metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from faro_audit.audit.arrays import AuditArrays
from faro_audit.audit.metric_specs import METRIC_SPECS, MetricInput
from faro_audit.audit.result import (
    AttributeSummary,
    CounterfactualSummary,
    GroupEstimate,
    GroupRow,
    GroupTest,
    Histogram,
    MetricResult,
    ReliabilityCurve,
    TwinSet,
)
from faro_audit.audit.settings import AuditSettings
from faro_audit.audit.uncertainty import BootResult, bootstrap_means, derive_seed, gap_interval
from faro_audit.io.table import AuditTable
from faro_audit.metrics.calibration import bt_nll, brier, ece, ece_by_group, reliability_curve
from faro_audit.metrics.counterfactual import cf_gap
from faro_audit.metrics.describe import describe_groups
from faro_audit.metrics.groups import GroupCodes, encode_groups
from faro_audit.metrics.ordinal import group_auc, pairwise_accuracy, response_pairs
from faro_audit.stats.grouptests import group_vs_rest_tests

INTERSECTION_SEP = "+"
METHODS = ("between_groups", "to_overall")


def attribute_list(table: AuditTable) -> list[str]:
    """Each group column, plus their intersection when there are several (SPEC §1)."""
    attrs = list(table.group_columns)
    if len(attrs) > 1 and not table.scoped_groups:
        attrs.append(INTERSECTION_SEP.join(attrs))
    return attrs


def _labels_of(table: AuditTable, attribute: str) -> np.ndarray:
    frame = table.frame
    if attribute in frame.columns:
        return frame[attribute].to_numpy(dtype=object)
    cols = attribute.split(INTERSECTION_SEP)
    out = frame[cols[0]].astype(str)
    for c in cols[1:]:
        out = out + "|" + frame[c].astype(str)
    return out.to_numpy(dtype=object)


def _ci(lo: float, hi: float) -> tuple[float | None, float | None]:
    f = lambda v: None if v is None or not np.isfinite(v) else float(v)  # noqa: E731
    return (f(lo), f(hi))


@dataclass
class AttributeAnalysis:
    """Intermediate results of one attribute (mutable while built; summarised to frozen)."""

    attribute: str
    rows: np.ndarray
    labels: np.ndarray
    codes_full: np.ndarray
    group_counts: dict[str, int]
    metrics: list[MetricResult] = field(default_factory=list)
    cf_spreads: dict[str, np.ndarray] = field(default_factory=dict)
    cf_summary: CounterfactualSummary | None = None
    cf_reward_q95: float | None = None
    raw_tests: list[tuple[str, str, Any]] = field(default_factory=list)
    overall: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    group_rows: list[GroupRow] = field(default_factory=list)
    reliability: list[ReliabilityCurve] = field(default_factory=list)
    histograms: list[Histogram] = field(default_factory=list)
    ece_by_group: np.ndarray | None = None

    def summary(self, tests: Sequence[GroupTest]) -> AttributeSummary:
        return AttributeSummary(
            attribute=self.attribute,
            n_rows=int(self.rows.size),
            groups=tuple(self.group_rows),
            reliability=tuple(self.reliability),
            reward_histograms=tuple(self.histograms),
            tests=tuple(t for t in tests if t.attribute == self.attribute),
            counterfactual=self.cf_summary,
        )


def _by_group(boot: BootResult, col: str, counts: np.ndarray, small: int) -> dict[str, GroupEstimate]:
    est, lo, hi = boot.group_estimates(col)
    return {
        str(lab): GroupEstimate(int(counts[k]), float(est[k]), _ci(lo[k], hi[k]), bool(counts[k] < small))
        for k, lab in enumerate(boot.labels)
    }


def _run_specs(a: AttributeAnalysis, arrays: AuditArrays, enc: GroupCodes, counts: np.ndarray,
               boot: BootResult, settings: AuditSettings) -> None:
    """Run every registered :class:`MetricSpec` that applies to this table's shape.

    One keyword-built :class:`MetricResult` per (spec, outcome, method), in registration order;
    intervals as the spec's ``interval`` says (see :mod:`faro_audit.audit.metric_specs`).
    """
    rows, small = a.rows, settings.min_group_size
    for spec in METRIC_SPECS.values():
        if arrays.shape not in spec.shapes:
            continue
        for outcome, column in spec.outcomes:
            y = arrays.outcome(column)[rows]
            for method in spec.methods:
                ci: tuple[float | None, float | None] = (None, None)
                if spec.interval == "gap":
                    est, lo, hi = gap_interval({None: boot}, outcome=column, method=method)
                    estimate: float | None = est
                    ci, by_group = _ci(lo, hi), _by_group(boot, column, counts, small)
                else:
                    value = spec.fn(MetricInput(y=y, groups=enc, weight=arrays.weight[rows],
                                                weighted=arrays.weighted, margin=arrays.margin[rows],
                                                method=method))
                    estimate = value.estimate
                    if spec.interval == "pooled":
                        _, lo, hi = boot.pooled_interval(column)
                        ci, by_group = _ci(lo, hi), _by_group(boot, column, counts, small)
                    else:
                        vals = value.by_group or (None,) * len(counts)
                        by_group = {str(lab): GroupEstimate(n=int(counts[k]), estimate=_f(vals[k]), ci=(None, None),
                                                            small=bool(counts[k] < small))
                                    for k, lab in enumerate(boot.labels)}
                a.metrics.append(MetricResult(
                    name=spec.name, outcome=outcome, attribute=a.attribute, label=spec.label,
                    method=method, estimate=estimate, ci=ci, by_group=by_group,
                ))


def analyse_attribute(table: AuditTable, arrays: AuditArrays, attribute: str, *, settings: AuditSettings) -> AttributeAnalysis:
    """Metrics of SPEC §3 with the intervals of SPEC §4 for one attribute."""
    raw = _labels_of(table, attribute)
    defined = np.array([v is not None and v == v for v in raw], dtype=bool)
    rows = np.flatnonzero(defined)
    enc = encode_groups(raw[rows].astype(str), name=f"group column '{attribute}'")
    codes_full = np.full(table.n_rows, -1, dtype=np.int64)
    codes_full[rows] = enc.codes
    counts = enc.counts()
    labels = enc.labels.astype(str)
    a = AttributeAnalysis(attribute, rows, labels, codes_full, {str(l): int(c) for l, c in zip(labels, counts)})
    small = settings.min_group_size
    for lab, c in zip(labels, counts):
        if c < small:
            a.warnings.append(
                f"{attribute}: group {str(lab)!r} has {int(c)} rows (< min_group_size {small}); "
                "its constraints cannot be certified"
            )
    w = arrays.weight[rows]
    sw = w if arrays.weighted else None
    cl = arrays.clusters[rows]
    soft, hard = arrays.soft[rows], arrays.hard[rows]
    boot = bootstrap_means({k: v[rows] for k, v in arrays.outcomes.items()}, enc.codes, labels,
                           clusters=cl, weight=w, n_boot=settings.n_boot, seed=settings.seed,
                           aliases=arrays.outcome_aliases)
    _run_specs(a, arrays, enc, counts, boot, settings)
    _equalized_odds(a, arrays, enc, labels, counts, boot, settings)
    _ordinal_cardinal(a, arrays, enc, labels, counts, boot, settings)
    _describe(a, arrays, enc, labels, counts, boot, settings)
    _counterfactual(a, table, arrays, settings)
    for name, y in (("soft outcome", soft), ("hard outcome", hard)):
        for t in group_vs_rest_tests(y, sensitive_features=enc, clusters=cl, sample_weight=sw,
                                     method="welch", random_state=settings.seed, alpha=None):
            a.raw_tests.append((name, attribute, t))
    return a


def _equalized_odds(a: AttributeAnalysis, arrays: AuditArrays, enc: GroupCodes, labels: np.ndarray,
                    counts: np.ndarray, boot: BootResult, settings: AuditSettings) -> None:
    """EO gap of response tables (one bootstrap per label class); pairs: the ``eo_gap`` spec."""
    rows = a.rows
    if arrays.shape == "pairs":
        return
    if arrays.label is None:
        return
    y = arrays.label[rows]
    boots: dict[Any, BootResult] = {}
    for klass in (0, 1):
        sel = np.flatnonzero(y == klass)
        if sel.size == 0:
            continue
        sub = rows[sel]
        boots[klass] = bootstrap_means(
            {"soft": arrays.soft[sub], "hard": arrays.hard[sub]}, enc.codes[sel], labels,
            clusters=arrays.clusters[sub], weight=arrays.weight[sub],
            n_boot=settings.n_boot, seed=derive_seed(settings.seed, "eo_gap", f"label={klass}"),
        )
    for outcome in ("soft", "hard"):
        j = outcome
        for method in METHODS:
            est, lo, hi = gap_interval(boots, outcome=j, method=method)
            a.metrics.append(MetricResult("eo_gap", outcome, a.attribute, None, method, est, _ci(lo, hi)))
            if method == "between_groups":
                for klass, b in boots.items():
                    e, l, h = gap_interval({klass: b}, outcome=j, method=method)
                    a.metrics.append(MetricResult("eo_gap", outcome, a.attribute, f"label={klass}", method, e,
                                                  _ci(l, h), _by_group(b, j, b.counts, settings.min_group_size)))


def _ordinal_cardinal(a: AttributeAnalysis, arrays: AuditArrays, enc: GroupCodes, labels: np.ndarray,
                      counts: np.ndarray, boot: BootResult, settings: AuditSettings) -> None:
    rows = a.rows
    sw = arrays.weight[rows] if arrays.weighted else None
    if arrays.shape == "pairs":
        d = arrays.margin[rows]
        p = None if arrays.p_human is None else arrays.p_human[rows]
        acc = pairwise_accuracy(d, sensitive_features=enc, sample_weight=sw)  # its metric: a spec
        t = settings.temperature
        by = ece_by_group(d, sensitive_features=enc, p_human=p, sample_weight=sw, temperature=t)
        ece_all = ece(d, p_human=p, sample_weight=sw, temperature=t)
        a.metrics.append(MetricResult(
            "ece", None, a.attribute, None, "equal_mass_15", ece_all,
            (None, None), {str(l): GroupEstimate(int(counts[k]), _f(by.values[k]), (None, None),
                                                 bool(counts[k] < settings.min_group_size))
                           for k, l in enumerate(labels)}))
        a.metrics.append(MetricResult("ece_gap", None, a.attribute, None, "worst_minus_best", by.gap, (None, None)))
        a.overall.update({
            "pairwise_accuracy": acc.accuracy,
            "ece": ece_all,
            "brier": brier(d, p_human=p, sample_weight=sw, temperature=t),
            "bt_nll": bt_nll(d, p_human=p, sample_weight=sw, temperature=t),
            "n_pairs": int(rows.size),
        })
        for k, lab in enumerate(labels):
            sel = enc.codes == k
            rc = reliability_curve(d[sel], p_human=None if p is None else p[sel],
                                   sample_weight=None if sw is None else sw[sel], temperature=t)
            a.reliability.append(ReliabilityCurve(str(lab), tuple(map(float, rc.confidence)),
                                                  tuple(map(float, rc.accuracy)), tuple(map(int, rc.n))))
        a.ece_by_group = by.values
        return
    if arrays.label is None:
        return
    y = arrays.label[rows]
    rp = response_pairs(arrays.reward[rows], y, prompt_ids=arrays.prompt_ids[rows])
    if rp.n_pairs:
        pos_groups = enc.codes[rp.pos_index]
        acc = pairwise_accuracy(rp.margin, sensitive_features=enc.take(rp.pos_index))
        a.metrics.append(MetricResult(
            "pairwise_accuracy", "hard", a.attribute, None, "mean", acc.accuracy, (None, None),
            {str(labels[k]): GroupEstimate(int((pos_groups == k).sum()), _f(acc.by_group.mean[k]) if acc.by_group is not None else None, (None, None))
             for k in range(len(labels))}))
        a.overall.update({
            "pairwise_accuracy": acc.accuracy, "n_pairs": rp.n_pairs,
            "ece": ece(rp.margin, temperature=settings.temperature),
            "brier": brier(rp.margin, temperature=settings.temperature),
            "bt_nll": bt_nll(rp.margin, temperature=settings.temperature),
        })
    auc = group_auc(y, arrays.reward[rows], sensitive_features=enc, sample_weight=sw)
    a.metrics.append(MetricResult("auc", None, a.attribute, None, "mann_whitney", _f(auc.overall), (None, None),
                                  {str(labels[k]): GroupEstimate(int(counts[k]), _f(auc.auc[k]), (None, None))
                                   for k in range(len(labels))}))
    a.overall.setdefault("auc", _f(auc.overall))


def _f(v: Any) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _describe(a: AttributeAnalysis, arrays: AuditArrays, enc: GroupCodes, labels: np.ndarray, counts: np.ndarray,
              boot: BootResult, settings: AuditSettings) -> None:
    rows = a.rows
    reward = arrays.margin[rows] if arrays.shape == "pairs" else arrays.reward[rows]
    table = describe_groups(reward, sensitive_features=enc, sample_weight=arrays.weight[rows] if arrays.weighted else None)
    soft, hard = _by_group(boot, "soft", counts, settings.min_group_size), _by_group(boot, "hard", counts, settings.min_group_size)
    acc = _by_group(boot, "agree_hard", counts, settings.min_group_size) if arrays.shape == "pairs" else {}
    eces = a.ece_by_group
    for k, row in enumerate(table.rows()):
        lab = str(labels[k])
        a.group_rows.append(GroupRow(
            group=lab, n=int(counts[k]), small=bool(counts[k] < settings.min_group_size),
            reward_mean=_f(row.reward_mean), reward_median=_f(row.reward_median), reward_sd=_f(row.reward_sd),
            reward_gap=_f(row.gap_reward), reward_gap_sd=_f(row.gap_sd),
            soft=soft[lab], hard=hard[lab], accuracy=acc.get(lab),
            ece=None if eces is None else _f(eces[k]),
        ))
    edges = np.histogram_bin_edges(reward, bins=30)
    for k, lab in enumerate(labels):
        cnt, _ = np.histogram(reward[enc.codes == k], bins=edges)
        a.histograms.append(Histogram(str(lab), tuple(map(float, edges)), tuple(map(int, cnt))))
    a.overall.setdefault("reward_kind", "margin r(chosen) − r(rejected)" if arrays.shape == "pairs" else "reward")


def _counterfactual(a: AttributeAnalysis, table: AuditTable, arrays: AuditArrays, settings: AuditSettings) -> None:
    if arrays.cf_id is None:
        return
    rows = a.rows
    ids = arrays.cf_id[rows]
    _, set_sizes = np.unique(ids, return_counts=True)
    if not (set_sizes > 1).any():
        a.warnings.append(f"{a.attribute}: no twin set has two rows here, so no counterfactual gap")
        return
    res = cf_gap(arrays.soft[rows], cf_id=ids, reward=arrays.reward[rows], hard=arrays.hard[rows],
                 allow_singletons=True)
    res_h = cf_gap(arrays.hard[rows], cf_id=ids, allow_singletons=True)
    reward_spreads, mean_abs = res.reward_spreads, res.mean_abs_reward_diff
    if arrays.reward_rejected is not None:
        # Pairs: twins share both responses, so |r(x,y) − r(x',y)| is measured on each side.
        res_r = cf_gap(arrays.soft[rows], cf_id=ids, reward=arrays.reward_rejected[rows], allow_singletons=True)
        reward_spreads = np.maximum(res.reward_spreads, res_r.reward_spreads)  # type: ignore[arg-type]
        mean_abs = (res.mean_abs_reward_diff + res_r.mean_abs_reward_diff) / 2  # type: ignore[operator]
    a.cf_spreads = {"soft": res.spreads, "hard": res_h.spreads}
    if res.n_singletons_excluded:
        a.warnings.append(f"{a.attribute}: {res.n_singletons_excluded} twin sets with a single row were left out of CF")
    boot_soft = _spread_interval(res.spreads, settings)
    boot_hard = _spread_interval(res_h.spreads, settings)
    a.metrics.append(MetricResult("cf_gap", "soft", a.attribute, None, "mean_spread", res.gap, boot_soft))
    a.metrics.append(MetricResult("cf_gap", "hard", a.attribute, None, "mean_spread", res_h.gap, boot_hard))
    a.metrics.append(MetricResult("cf_flip_rate", "hard", a.attribute, None, "mean", res.flip_rate, (None, None)))
    frame = table.frame
    text_cols = ["prompt", *table.text_columns]
    worst = []
    for ts in res.worst_sets(5):
        idx = rows[list(ts.rows)]
        recs = []
        for i in idx:
            rec = {c: str(frame[c].iat[i]) for c in text_cols}
            rec["group"] = str(a.labels[a.codes_full[i]])
            rec["outcome"] = float(arrays.soft[i])
            rec["reward"] = float(arrays.margin[i] if arrays.shape == "pairs" else arrays.reward[i])
            recs.append(rec)
        worst.append(TwinSet(str(ts.set_id), float(ts.spread), tuple(recs)))
    rs = reward_spreads
    a.cf_reward_q95 = None if rs is None else float(np.quantile(rs, 0.95))
    a.cf_summary = CounterfactualSummary(
        attribute=a.attribute, gap=res.gap, ci=boot_soft, n_sets=res.n_sets, max_spread=res.max_spread,
        quantile_spread=float(np.quantile(res.spreads, 0.95)), flip_rate=res.flip_rate,
        mean_abs_reward_diff=mean_abs, max_abs_reward_diff=None if rs is None else float(rs.max()),
        worst_sets=tuple(worst), n_singletons_excluded=res.n_singletons_excluded,
    )


def _spread_interval(spreads: np.ndarray, settings: AuditSettings) -> tuple[float | None, float | None]:
    """Bootstrap interval of the mean spread: twin sets are the clusters."""
    if settings.n_boot == 0 or spreads.size < 2:
        return (None, None)
    boot = bootstrap_means({"spread": spreads}, np.zeros(spreads.size, dtype=np.int64), np.array(["all"]),
                           clusters=np.arange(spreads.size), weight=np.ones(spreads.size),
                           n_boot=settings.n_boot, seed=derive_seed(settings.seed, "cf_gap", "spread"))
    _, lo, hi = boot.group_estimates("spread")
    return _ci(lo[0], hi[0])
