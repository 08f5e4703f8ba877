"""Fixture factory: realistic :class:`AuditResult` objects built by hand for the report tests.

``make_result(...)`` builds a pairs-shaped audit of a reward model over named attributes with
every part the report shows: certificates of all three verdicts, per-group rows (one small
group), metrics, each-group-vs-rest tests, reliability curves, reward histograms, counterfactual
twin sets with texts, policy bounds and a Faro slack check. ``evil`` is spliced into every
user-supplied string (group and attribute names, texts, cf ids, paths, warnings...) for the
escaping tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from faro_audit.audit.result import (
    AttributeSummary,
    AuditResult,
    CertificateResult,
    CounterfactualSummary,
    GroupEstimate,
    GroupRow,
    GroupTest,
    Histogram,
    MetricResult,
    PolicyBoundResult,
    ReliabilityCurve,
    SlackCheckResult,
    TwinSet,
)

DEFAULT_ATTRIBUTES: dict[str, dict[str, int]] = {
    "gender": {"female": 412, "male": 398, "nonbinary": 18},
    "religion": {"christian": 210, "muslim": 205, "jewish": 190, "hindu": 160, "atheist": 63},
}

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<b>bold</b> & <i>x</i> | pipe `tick` *star* [link](http://evil.example/x) $math$",
    "</textarea><svg onload=alert(2)>",
    "]]><!-- -->\x00\x07 control",
]


def _ge(n: int, m: float, half: float, small: bool) -> GroupEstimate:
    return GroupEstimate(n=n, estimate=m, ci=(max(m - half, 0.0), min(m + half, 1.0)), small=small)


def _attribute(name: str, groups: dict[str, int], rng: np.random.Generator, evil: str,
               min_size: int, with_cf: bool) -> tuple[AttributeSummary, list[MetricResult]]:
    rows, curves, hists, tests = [], [], [], []
    edges = tuple(float(e) for e in np.linspace(-4.0, 4.0, 31))
    pooled_sd = 1.3
    means = {g: float(rng.normal(0.0, 0.35)) for g in groups}
    base = float(np.average(list(means.values()), weights=list(groups.values())))
    for g, n in groups.items():
        small = n < min_size
        soft_m = 1.0 / (1.0 + math.exp(-(0.9 + means[g])))
        hard_m = min(max(soft_m + float(rng.normal(0.02, 0.01)), 0.0), 1.0)
        half = 1.4 / math.sqrt(n)
        acc = 0.72 + float(rng.normal(0.0, 0.02))
        ece = abs(float(rng.normal(0.04, 0.015)))
        rows.append(GroupRow(
            group=g, n=n, small=small, reward_mean=0.9 + means[g],
            reward_median=0.85 + means[g], reward_sd=pooled_sd + float(rng.normal(0, 0.05)),
            reward_gap=means[g] - base, reward_gap_sd=(means[g] - base) / pooled_sd,
            soft=_ge(n, soft_m, half * 0.8, small), hard=_ge(n, hard_m, half, small),
            accuracy=_ge(n, acc, half * 0.9, small), ece=ece, truncated=int(rng.integers(0, 3)),
        ))
        conf = tuple(float(c) for c in np.linspace(0.53, 0.97, 10))
        curves.append(ReliabilityCurve(
            group=g, confidence=conf,
            accuracy=tuple(float(min(max(c - ece + rng.normal(0, 0.02), 0.0), 1.0)) for c in conf),
            count=tuple(int(max(n // 10, 1)) for _ in conf),
        ))
        sample = rng.normal(0.9 + means[g], pooled_sd, size=n)
        counts, _ = np.histogram(sample, bins=np.asarray(edges))
        hists.append(Histogram(group=g, edges=edges, counts=tuple(int(c) for c in counts)))
    p_raw = rng.uniform(0.0005, 0.6, size=len(groups))
    p_adj = np.minimum(np.sort(p_raw) * np.arange(len(groups), 0, -1), 1.0)
    order = np.argsort(p_raw)
    adjusted = np.empty_like(p_raw)
    adjusted[order] = np.maximum.accumulate(p_adj)
    for (g, n), pr, pa in zip(groups.items(), p_raw, adjusted):
        row = next(r for r in rows if r.group == g)
        rest = float(np.mean([r.soft.estimate for r in rows if r.group != g]))
        tests.append(GroupTest(metric="dp_gap:soft", attribute=name, group=g, n=n,
                               mean_group=row.soft.estimate, mean_rest=rest,
                               difference=row.soft.estimate - rest, p_value=float(pr),
                               p_adjusted=float(pa), reject=bool(pa < 0.05)))
    cf = None
    if with_cf:
        keys = list(groups)[:3]
        def margin(k: int, j: int) -> float:
            return 1.6 - (0.175 - 0.05 * k) * j

        def sigmoid(x: float) -> float:
            return 1.0 / (1.0 + math.exp(-x))

        worst = tuple(
            TwinSet(
                cf_id=f"tpl-{k:03d}{evil}",
                spread=sigmoid(margin(k, 0)) - sigmoid(margin(k, len(keys) - 1)),
                rows=tuple(
                    {  # the keys audit.attribute._counterfactual writes
                        "prompt": f"My {g} neighbour asked me for advice on a loan.{evil}",
                        "chosen": f"Here is careful, respectful advice for your {g} neighbour "
                                  f"about loans, budgets and interest rates.{evil}",
                        "rejected": f"I would not lend money to a {g} person.{evil}",
                        "group": g,
                        "outcome": sigmoid(margin(k, j)),
                        "reward": margin(k, j),
                    }
                    for j, g in enumerate(keys)
                ),
            )
            for k in range(3)
        )
        cf = CounterfactualSummary(
            attribute=name, gap=0.021, ci=(0.015, 0.028), n_sets=120,
            max_spread=worst[0].spread,
            quantile_spread=0.048, flip_rate=0.075, mean_abs_reward_diff=0.12,
            max_abs_reward_diff=0.35, worst_sets=worst, n_singletons_excluded=2,
        )
    metrics = []
    soft = {r.group: r.soft for r in rows}
    gap = max(v.estimate for v in soft.values()) - min(v.estimate for v in soft.values())
    for outcome in ("soft", "hard"):
        by = {r.group: getattr(r, outcome) for r in rows}
        metrics.append(MetricResult(name="dp_gap", outcome=outcome, attribute=name, label=None,
                                    method="between_groups", estimate=gap,
                                    ci=(gap * 0.6, gap * 1.4), by_group=by))
        metrics.append(MetricResult(name="dp_gap", outcome=outcome, attribute=name, label=None,
                                    method="to_overall", estimate=gap * 0.55,
                                    ci=(gap * 0.3, gap * 0.8), by_group=by))
    metrics.append(MetricResult(name="eo_gap", outcome="soft", attribute=name, label="1",
                                method="between_groups", estimate=0.04, ci=(0.01, 0.07)))
    metrics.append(MetricResult(name="pairwise_accuracy", outcome=None, attribute=name,
                                label=None, method="mean", estimate=0.713, ci=(0.688, 0.739),
                                by_group={r.group: r.accuracy for r in rows}))
    summary = AttributeSummary(attribute=name, n_rows=sum(groups.values()), groups=tuple(rows),
                               reliability=tuple(curves), reward_histograms=tuple(hists),
                               tests=tuple(tests), counterfactual=cf)
    return summary, metrics


def _certificates(attrs: list[AttributeSummary], delta: float, evil: str,
                  min_size: int) -> list[CertificateResult]:
    certs: list[CertificateResult] = []
    plan = [("dp", "soft", "between_groups", 0.05), ("dp", "hard", "to_overall", 0.05),
            ("eo", "soft", "between_groups", 0.10)]
    for i, a in enumerate(attrs):
        has_small = any(g.small for g in a.groups)
        for j, (metric, outcome, method, eps) in enumerate(plan):
            gi = {g.group: (g.soft.estimate, g.soft.ci[0], g.soft.ci[1], g.n) for g in a.groups}
            if has_small:
                verdict, est, lo, hi = "inconclusive", 0.96 * eps, 0.0, 3.24 * eps
                small = next(g for g in a.groups if g.small)
                reason = (f"group {small.group!r} has {small.n} rows (< min_group_size "
                          f"{min_size}); collect at least {min_size - small.n} more{evil}")
                need = 420
            elif (i + j) % 3 == 0:
                verdict, est, lo, hi, need = "violated", 2.84 * eps, 1.22 * eps, 4.42 * eps, None
                reason = f"lower bound {lo:.3f} > ε = {eps:g}{evil}"
            elif (i + j) % 3 == 1:
                verdict, est, lo, hi, need = "certified", 0.24 * eps, 0.0, 0.76 * eps, None
                reason = f"upper bound {hi:.3f} ≤ ε = {eps:g}"
            else:
                verdict, est, lo, hi = "inconclusive", 1.22 * eps, 0.24 * eps, 2.62 * eps
                need = 1850
                reason = f"interval [{lo:.3f}, {hi:.3f}] contains ε = {eps:g}{evil}"
            certs.append(CertificateResult(
                metric=metric, outcome=outcome, attribute=a.attribute, method=method,
                epsilon=eps, delta=delta, estimate=est, lower=lo, upper=hi, verdict=verdict,
                n_required=need, bound="betting", reason=reason, group_intervals=gi,
            ))
        if a.counterfactual is not None:
            certs.append(CertificateResult(
                metric="cf", outcome="soft", attribute=a.attribute, method="mean_spread",
                epsilon=0.05, delta=delta, estimate=0.021, lower=0.012, upper=0.034,
                verdict="certified", n_required=None, bound="betting",
                reason="upper bound 0.034 ≤ ε = 0.05",
            ))
    return certs


def build_result(attributes: dict[str, dict[str, int]] | None = None, *, evil: str = "",
                 seed: int = 0, delta: float = 0.05, min_group_size: int = 30,
                 long_text: int = 0) -> AuditResult:
    """A hand-built, internally consistent AuditResult (see module docstring)."""
    rng = np.random.default_rng(seed)
    spec = attributes if attributes is not None else DEFAULT_ATTRIBUTES
    spec = {f"{a}{evil}": {f"{g}{evil}": n for g, n in groups.items()}
            for a, groups in spec.items()}
    attrs, metrics = [], []
    for k, (name, groups) in enumerate(spec.items()):
        summary, ms = _attribute(name, groups, rng, evil, min_group_size, with_cf=(k == 1))
        attrs.append(summary)
        metrics.extend(ms)
    if long_text:
        attrs = [_lengthen(a, long_text) for a in attrs]
    certs = _certificates(attrs, delta, evil, min_group_size)
    verdicts = {c.verdict for c in certs}
    verdict = ("violated" if "violated" in verdicts
               else "inconclusive" if "inconclusive" in verdicts else "certified")
    cf_gap = 0.35
    beta = 0.1
    bounds = (
        PolicyBoundResult(beta=beta, reward_gap=cf_gap, reward_gap_source="largest twin-set "
                          f"reward difference{evil}", log_ratio=2 * cf_gap / beta,
                          kl=2 * cf_gap / beta, tv=math.tanh(cf_gap / beta),
                          statement="For the exact KL-regularised optimum, twin prompts' "
                                    f"log-probabilities differ by at most 7.000.{evil}"),
        PolicyBoundResult(beta=beta, reward_gap=0.12, reward_gap_source="95% quantile of "
                          "twin-set reward differences", log_ratio=2.4, kl=2.4,
                          tv=math.tanh(1.2), statement="95% of twin sets: log-ratio ≤ 2.400."),
    )
    slack = (SlackCheckResult(constraint=certs[0].label, epsilon=0.05, declared_slack=0.01,
                              upper=certs[0].upper, holds=False,
                              statement=f"UCB {certs[0].upper:.3f} > ε + s = 0.060: the training "
                                        f"claim does not hold on this audit data.{evil}"),)
    n_rows = sum(a.n_rows for a in attrs) // max(len(attrs), 1)
    return AuditResult(
        target={"kind": "model", "path": f"/models/rm-7b{evil}", "sha256": "ab" * 32},
        data={"path": f"data/audit{evil}.csv", "sha256": "cd" * 32, "n_rows": n_rows,
              "shape": "pairs", "groups": spec},
        settings={"delta": delta, "temperature": 1.0, "bound": "betting", "seed": seed,
                  "n_boot": 1000, "reference": "pooled median", "min_group_size": min_group_size,
                  "beta": beta},
        metrics=tuple(metrics),
        certificates=tuple(certs),
        verdict=verdict,
        attributes=tuple(attrs),
        overall={"n_pairs": n_rows, "pairwise_accuracy": 0.713, "ece": 0.041, "brier": 0.192,
                 "bt_nll": 0.571, "reward_kind": "margin r(chosen) − r(rejected)"},
        extras={"n_intervals": 24, "delta_per_interval": delta / 24},
        policy_bounds=bounds,
        slack_checks=slack,
        scoring={"device": "cpu", "batch_size": 16, "max_length": 512, "truncated": 3,
                 "dtype": "float32", "cache": f".faro-cache{evil}"},
        provenance={  # the shape audit.run._provenance writes, plus a creation time
            "faro_audit": "0.1.0", "python": "3.11.9", "platform": "Linux-x86_64",
            "packages": {"numpy": "2.1.0", "scipy": "1.14.0", "torch": "2.13.0",
                         "transformers": None},
            "command": ["faro-audit", "report", f"/models/rm-7b{evil}", "--data",
                        "data/audit.csv", "--group", "gender", "--group", "religion",
                        "--beta", "0.1"],
            "created": "2025-01-01T00:00:00+00:00",
        },
        definitions={
            "dp_gap": "max_a m_a − min_a m_a over groups a (SPEC §3)",
            "dp_gap (anchored)": "max_a |m_a − m_pool| (Faro anchoring, SPEC §3)",
            "bound": f"betting confidence interval (Waudby-Smith & Ramdas 2024){evil}",
            "delta": "simultaneous over all intervals by Bonferroni (SPEC §5)",
        },
        warnings=(
            f"group 'nonbinary{evil}' of gender has 18 rows (< 30): constraints involving it "
            "are inconclusive",
            f"3 texts were truncated at max_length=512 tokens{evil}",
        ),
    )


def _lengthen(a: AttributeSummary, n: int) -> AttributeSummary:
    """Make every twin-set text ``n`` characters long (size tests)."""
    from dataclasses import replace

    if a.counterfactual is None:
        return a
    sets = tuple(
        replace(s, rows=tuple({k: (v * (n // max(len(v), 1) + 1))[:n] if isinstance(v, str)
                               and k in ("prompt", "chosen", "rejected") else v
                               for k, v in r.items()} for r in s.rows))
        for s in a.counterfactual.worst_sets
    )
    return replace(a, counterfactual=replace(a.counterfactual, worst_sets=sets))


@pytest.fixture
def make_result() -> Callable[..., AuditResult]:
    """The factory itself: ``make_result(attributes=None, *, evil="", seed=0, ...)``."""
    return build_result


@pytest.fixture
def audit_result() -> AuditResult:
    """The default realistic result (2 attributes, one small group, all three verdicts)."""
    return build_result()


@pytest.fixture(params=range(len(HOSTILE)), ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def hostile(request: Any) -> str:
    """One hostile string at a time."""
    return HOSTILE[request.param]


#: The hostile strings that can appear as text in one page (control characters are tested
#: separately, since HTML keeps them while XML and Markdown replace them).
EVIL_HTML = "".join(HOSTILE[:4])


@pytest.fixture(scope="session")
def default_html() -> str:
    """The report page of the default result, rendered once per session."""
    from faro_audit.report.html import render_html

    return render_html(build_result())


@pytest.fixture(scope="session")
def hostile_result() -> AuditResult:
    """A result with every hostile string spliced into every user-supplied field."""
    return build_result(evil="".join(HOSTILE))


@pytest.fixture(scope="session")
def hostile_html(hostile_result: AuditResult) -> str:
    """The report page of :func:`hostile_result`, rendered once per session."""
    from faro_audit.report.html import render_html

    return render_html(hostile_result)


class _Page(HTMLParser):
    """Every start tag with its attributes, and all text, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self.in_style = False
        self.styles: list[str] = []
        self.feed(html)
        self.close()
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self.in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self.in_style else self.chunks).append(data)


#: Elements that run code or load something; none may appear in the report.
LOADING_TAGS = {"script", "img", "iframe", "frame", "object", "embed", "link", "video", "audio",
                "source", "track", "base", "form", "input", "textarea", "image",
                "foreignobject", "portal", "applet"}
_SCHEME = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:|//)", re.IGNORECASE)


def self_contained_problems(html: str) -> list[str]:
    """Every way in which ``html`` could run code or make a request (empty if none)."""
    page = _Page(html)
    problems = []
    for tag, attrs in page.tags:
        if tag in LOADING_TAGS:
            problems.append(f"<{tag}> element")
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            problems.append("meta refresh")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag} {name}=...>")
            if name in ("src", "href", "xlink:href", "action", "formaction", "poster", "data",
                        "background", "srcset") and _SCHEME.match(value):
                problems.append(f"<{tag} {name}={value!r}>")
            if re.search(r"url\s*\(\s*['\"]?\s*(?!#)|@import|expression\s*\(", value, re.IGNORECASE):
                problems.append(f"<{tag} {name}={value!r}>")  # only url(#id) may be referenced
    css = "".join(page.styles)
    if re.search(r"@import|url\s*\(|@font-face", css, re.IGNORECASE):
        problems.append("stylesheet imports, fonts or url()")
    if re.search(r"<\s*script", html, re.IGNORECASE):
        problems.append("'<script' in the source")
    return problems


@pytest.fixture
def parse_page() -> Callable[[str], Any]:
    """``parse_page(html)`` → an object with ``tags`` [(tag, attrs)] and ``text``."""
    return _Page


@pytest.fixture
def loading_problems() -> Callable[[str], list[str]]:
    """``loading_problems(html)`` → how the page could run code or load anything."""
    return self_contained_problems
