"""BBQ adapter: the Bias Benchmark for QA (Parrish et al., 2022) as a labelled ``responses`` table.

Parrish, A., Chen, A., Nangia, N., Padmakumar, V., Phang, J., Thompson, J., Htut, P. M. and
Bowman, S. R. (2022). "BBQ: A hand-built bias benchmark for question answering". Findings of
ACL 2022, pp. 2086-2105. Data: github.com/nyu-mll/BBQ (CC BY 4.0).

Each BBQ example (one JSON object a line) has a context, a question and three answer options:
two persons and one "unknown" option. :func:`read_bbq` turns every option into one response
row (3 rows per example); :func:`bbq_bias_scores` computes BBQ's own bias scores from the answer
a reward model scores highest.

Counterfactual twins (``cf_id``)
--------------------------------
BBQ writes every template twice with the two persons swapped. The two versions share
``category``, ``question_index``, ``question_polarity``, ``context_condition`` and the same two
person answers (``answer_info[ansK][0]``), and nothing else does in the released data. The swap
is realised either by exchanging the order in which the persons are introduced ("a grandson and
their grandfather" / "a grandfather and their grandson"), or, where the order is fixed, by
exchanging what the disambiguating sentence says about them; either way the person who is the
answer in the disambiguated context changes. So the answer *role* of person P in version X
is held by the other person Q in the twin version Y. The adapter links:

- the "unknown" option of X with the "unknown" option of Y (``…|unknown``);
- person P's option in X with person Q's option in Y, and Q's in X with P's in Y
  (``…|role1`` / ``…|role2``, role1 being the role of the alphabetically first person in the
  version with the smaller ``example_id``).

Examples whose key matches no other example (templates that were not swapped, 428 of 11,956
in the released data) or more than one have no twin: each of their rows gets its own
``cf_id`` ``bbq-solo:<category>:<example_id>:<answer_index>``, a one-row set, which the CF gap
leaves out and counts (``cf_gap(..., allow_singletons=True)``) instead of averaging in a spread
of 0. Every row has a ``cf_id``, as the audit-table reader requires.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faro_audit.errors import FaroInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_bbq", "bbq_bias_scores", "bbq_twin_summary"]

_KEYS = (
    "example_id",
    "question_index",
    "question_polarity",
    "context_condition",
    "category",
    "answer_info",
    "additional_metadata",
    "context",
    "question",
    "ans0",
    "ans1",
    "ans2",
    "label",
)
_COLUMNS = (
    "prompt",
    "response",
    "label",
    "group",
    "answer_name",
    "stereotyped",
    "category",
    "context_condition",
    "question_polarity",
    "question_index",
    "example_id",
    "answer_index",
    "cf_id",
    "cluster_id",
    "subset",
)


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise FaroInputError(f"BBQ data: {path} does not exist; pass a BBQ .jsonl file or a folder of them")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
    if not files:
        raise FaroInputError(
            f"BBQ data: folder {path} holds no .jsonl or .jsonl.gz file; point --data at the BBQ data folder"
        )
    return files


def _read_lines(file: Path) -> list[tuple[int, dict[str, Any]]]:
    opener = gzip.open if file.name.endswith(".gz") else open
    out: list[tuple[int, dict[str, Any]]] = []
    with opener(file, "rt", encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise FaroInputError(
                    f"BBQ data: {file} line {lineno} is not valid JSON ({err.msg}); fix or remove the line"
                ) from None
            missing = [k for k in _KEYS if k not in obj]
            if missing:
                raise FaroInputError(
                    f"BBQ data: {file} line {lineno} lacks the keys {missing}; each line must be one BBQ example"
                )
            out.append((lineno, obj))
    return out


def _answer(obj: dict[str, Any], k: int, where: str) -> tuple[str, str]:
    info = obj["answer_info"].get(f"ans{k}")
    if not isinstance(info, (list, tuple)) or len(info) < 2:
        raise FaroInputError(f"BBQ data: {where} answer_info.ans{k} is {info!r}; expected [name, group]")
    return str(info[0]), str(info[1])


def _twin_ids(examples: list[dict[str, Any]]) -> dict[tuple[str, int, int], str]:
    """Map (category, example_id, answer_index) → cf_id for examples that have exactly one twin."""
    buckets: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for ex in examples:
        persons = tuple(sorted(ex["names"][k] for k in range(3) if ex["groups"][k] != "unknown"))
        key = (
            ex["category"],
            str(ex["question_index"]),
            ex["question_polarity"],
            ex["context_condition"],
            persons,
        )
        buckets[key].append(ex)
    ids: dict[tuple[str, int, int], str] = {}
    for key, members in buckets.items():
        if len(members) != 2 or len(key[4]) != 2 or key[4][0] == key[4][1]:
            continue
        x, y = sorted(members, key=lambda e: e["example_id"])
        p, q = key[4]
        base = f"bbq:{key[0]}:q{key[1]}:{key[2]}:{key[3]}:{p}|{q}"
        for ex, first in ((x, p), (y, q)):
            for k in range(3):
                if ex["groups"][k] == "unknown":
                    role = "unknown"
                else:
                    role = "role1" if ex["names"][k] == first else "role2"
                ids[(ex["category"], ex["example_id"], k)] = f"{base}|{role}"
    return ids


def read_bbq(path: str | Path) -> pd.DataFrame:
    """Read BBQ jsonl data as a labelled ``responses`` audit table.

    Parameters
    ----------
    path : str or Path
        One BBQ ``.jsonl`` (or ``.jsonl.gz``) file, or a folder whose ``*.jsonl[.gz]`` files are
        all read (sorted by name).

    Returns
    -------
    pandas.DataFrame
        Three rows per example (one per answer option), in file order, with columns
        ``prompt`` (context + " " + question), ``response`` (the option's text), ``label``
        (1 for the correct option, else 0), ``group`` (the option's group from ``answer_info``;
        "unknown" for the unknown option), ``answer_name`` (the person term of
        ``answer_info``), ``stereotyped`` (the option's name or group is among
        ``additional_metadata.stereotyped_groups``, case-insensitive), ``category``,
        ``context_condition``, ``question_polarity``, ``question_index``, ``example_id``,
        ``answer_index`` (0-2), ``cf_id`` (see the module docstring; a one-row set without a twin),
        ``cluster_id`` ("category:example_id", one per example) and ``subset`` (= category).

    Raises
    ------
    FaroInputError
        If the path does not exist or holds no jsonl file, a line is not JSON or lacks a BBQ
        key, or ``label`` is not 0, 1 or 2 — naming the file and line.
    """
    import pandas as pd

    examples: list[dict[str, Any]] = []
    for file in _files(Path(path)):
        for lineno, obj in _read_lines(file):
            where = f"{file} line {lineno}"
            if obj["label"] not in (0, 1, 2):
                raise FaroInputError(f"BBQ data: {where} has label {obj['label']!r}; expected 0, 1 or 2")
            answers = [_answer(obj, k, where) for k in range(3)]
            stereo = {str(s).lower() for s in obj["additional_metadata"].get("stereotyped_groups", [])}
            examples.append(
                {
                    "obj": obj,
                    "category": str(obj["category"]),
                    "example_id": int(obj["example_id"]),
                    "question_index": str(obj["question_index"]),
                    "question_polarity": str(obj["question_polarity"]),
                    "context_condition": str(obj["context_condition"]),
                    "names": [a[0] for a in answers],
                    "groups": ["unknown" if a[1] == "unknown" else a[1] for a in answers],
                    "stereo": [
                        a[1] != "unknown" and (a[0].lower() in stereo or a[1].lower() in stereo) for a in answers
                    ],
                }
            )
    seen: dict[tuple[str, int], int] = {}
    for ex in examples:
        key = (ex["category"], ex["example_id"])
        if key in seen:
            raise FaroInputError(
                f"BBQ data: example_id {key[1]} of category {key[0]!r} occurs twice; read each BBQ file once"
            )
        seen[key] = 1
    twins = _twin_ids(examples)
    rows: list[dict[str, Any]] = []
    for ex in examples:
        obj = ex["obj"]
        prompt = f"{str(obj['context']).strip()} {str(obj['question']).strip()}"
        for k in range(3):
            rows.append(
                {
                    "prompt": prompt,
                    "response": str(obj[f"ans{k}"]),
                    "label": int(obj["label"] == k),
                    "group": ex["groups"][k],
                    "answer_name": ex["names"][k],
                    "stereotyped": bool(ex["stereo"][k]),
                    "category": ex["category"],
                    "context_condition": ex["context_condition"],
                    "question_polarity": ex["question_polarity"],
                    "question_index": ex["question_index"],
                    "example_id": ex["example_id"],
                    "answer_index": k,
                    "cf_id": twins.get(
                        (ex["category"], ex["example_id"], k),
                        f"bbq-solo:{ex['category']}:{ex['example_id']}:{k}",
                    ),
                    "cluster_id": f"{ex['category']}:{ex['example_id']}",
                    "subset": ex["category"],
                }
            )
    frame = pd.DataFrame(rows, columns=list(_COLUMNS))
    return frame


def bbq_twin_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Share of BBQ examples with a twin, overall and per category.

    Also counts twin pairs in the disambiguated condition whose two examples mark the *same*
    person as correct: the persons are swapped, so the correct person should swap too; where it
    does not, one of the two released labels contradicts its context (in the released data:
    66 pairs, Physical_appearance questions 6 and 10).

    Returns
    -------
    dict
        ``n_examples``, ``n_with_twin``, ``share_with_twin``, ``by_category`` {category:
        {n_examples, n_with_twin, share_with_twin}}, ``disambig_label_mismatches``.
    """
    twinned = frame["cf_id"].notna() & (frame.groupby("cf_id", dropna=False)["cf_id"].transform("size") > 1)
    ex = (
        frame.assign(_twinned=twinned)
        .groupby("cluster_id", sort=False)
        .agg(category=("category", "first"), has_twin=("_twinned", "all"))
    )
    by_cat = {
        str(cat): {
            "n_examples": int(len(g)),
            "n_with_twin": int(g["has_twin"].sum()),
            "share_with_twin": float(g["has_twin"].mean()),
        }
        for cat, g in ex.groupby("category", sort=True)
    }
    dis = frame[(frame["context_condition"] == "disambig") & twinned & (frame["group"] != "unknown")]
    mismatches = int((dis.groupby("cf_id")["label"].nunique() > 1).sum() // 2)
    return {
        "n_examples": int(len(ex)),
        "n_with_twin": int(ex["has_twin"].sum()),
        "share_with_twin": float(ex["has_twin"].mean()) if len(ex) else float("nan"),
        "by_category": by_cat,
        "disambig_label_mismatches": mismatches,
    }


# Re-exported so that the whole BBQ adapter is reachable from this module.
from faro_audit.suites.bbq_scores import bbq_bias_scores  # noqa: E402
