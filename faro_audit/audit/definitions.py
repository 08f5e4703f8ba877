"""Plain-language statements of the definitions an audit used (shown in every report).

The names they quote (gap methods, verdicts) are :mod:`faro_audit.vocabulary`'s.
"""

from __future__ import annotations

from faro_audit.vocabulary import GAP_METHODS, VERDICTS

_ANCHORED = GAP_METHODS[1]
_CERTIFIED, _VIOLATED, _INCONCLUSIVE = VERDICTS

DEFINITIONS: dict[str, str] = {
    "outcomes": (
        "Rewards are Bradley–Terry log-odds. Fairness is measured on bounded outcomes in [0, 1]: "
        "for pairs, the soft outcome σ(d/T) is the model's probability of preferring the chosen "
        "response (d = r(chosen) − r(rejected)) and the hard outcome 1[d > 0] (ties ½); for "
        "responses, d = r − b with b the reference reward (default: pooled median)."
    ),
    "dp_gap": (
        "Demographic parity gap: between groups, max_a m_a − min_a m_a of the group mean "
        f"outcomes; anchored ({_ANCHORED}), max_a |m_a − m_pool| (Faro's anchoring)."
    ),
    "eo_gap": (
        "Equalized-odds gap: the DP gap within each label class, maximised over classes. For "
        "preference pairs the class is 'the human prefers chosen', so it is the gap in group "
        "accuracy (equal opportunity)."
    ),
    "cf_gap": (
        "Counterfactual gap: the mean over twin sets (rows sharing cf_id, identical but for the "
        "group) of the spread max − min of the outcome; also the flip rate of hard outcomes."
    ),
    "ordinal": "Pairwise accuracy: share of pairs ranked as the human ranked them (ties ½).",
    "cardinal": (
        "Calibration of the model's confidence max(σ(d), 1 − σ(d)): ECE with 15 equal-mass bins, "
        "Brier score and Bradley–Terry negative log-likelihood."
    ),
    "intervals": (
        "Descriptive intervals (decide nothing): 95% bootstrap resampling clusters (prompts or twin "
        "sets) within each group; percentile intervals for group means, and for DP/EO gaps the "
        "simultaneous max-t interval of the signed group contrasts, which also covers a gap of 0."
    ),
    "tests": "Each group against the rest: Welch's t-test on cluster means, Holm-adjusted across groups and metrics.",
    "certificates": (
        "Certificates: each group mean is the weighted row mean, bounded from cluster means weighted "
        "by cluster size. δ is split evenly over the J distinct requested gaps (δ_j = δ/J), half of "
        "δ_j per end of a gap's interval, so each verdict is wrong with probability ≤ δ_j/2 and all "
        "intervals hold together with probability ≥ 1 − δ. Twin sets holding every group once are "
        "bounded from within-set contrasts (paired); other data from the box of group-mean bounds "
        "(unpaired). Bound auto: Clopper–Pearson for unweighted unclustered hard outcomes, betting "
        f"otherwise. {_CERTIFIED}: upper bound ≤ ε; {_VIOLATED}: lower bound > ε; {_INCONCLUSIVE} otherwise "
        "(with the rows per group that would decide it)."
    ),
    "policy_bound": (
        "For the exact KL-regularised optimum π_r ∝ π_ref·exp(r/β): if twin prompts share π_ref and "
        "their rewards differ by at most Δ, then |log π_r(y|x) − log π_r(y|x′)| ≤ 2Δ/β, "
        "KL ≤ 2Δ/β and total variation ≤ tanh(Δ/β)."
    ),
}
