"""Resolve a TARGET (SPEC §9) and produce the scored audit table it is audited on.

TARGET is one of: a scores file; a Hugging Face model directory (reward model or policy); a
directory holding ``faro.toml``; a Python callable ``module:function`` / ``file.py:function``.
Precedence of settings: command line > ``faro.toml`` > defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faro_audit.audit.settings import AuditSettings, load_toml, resolve_settings
from faro_audit.errors import FaroInputError, FaroUsageError
from faro_audit.io.readers import file_sha256, read_table, validate_table
from faro_audit.io.table import AuditTable

_DATA_SUFFIX = re.compile(r"\.(csv|tsv|jsonl|ndjson|json|parquet|pq)(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """What is audited: ``kind`` is ``scores``, ``model`` or ``callable``."""

    kind: str
    path: str
    settings: AuditSettings
    config: Mapping[str, Any] = field(default_factory=dict)


def resolve_target(target: str, settings: AuditSettings, cli_overrides: Mapping[str, Any], *,
                   trust_config_code: bool = False) -> Target:
    """Classify TARGET and merge ``faro.toml`` under the command-line options, field by field.

    Parameters
    ----------
    target : str
        TARGET as given on the command line.
    settings : AuditSettings
        The defaults.
    cli_overrides : mapping
        Command-line values (``None``: not given), see :func:`resolve_settings`.
    trust_config_code : bool
        Let a ``faro.toml`` name Python code (``--trust-config-code``); without it such a
        ``faro.toml`` is refused before anything is imported.
    """
    p = Path(target)
    if p.is_dir() and (p / "faro.toml").is_file():
        doc = load_toml(p, trust_code=trust_config_code)
        merged = resolve_settings(cli_overrides, doc, config_path=p / "faro.toml", base=settings)
        inner = doc.get("model") or doc.get("scores")
        if not inner:
            raise FaroUsageError(f"{p / 'faro.toml'}: names neither 'model' nor 'scores'; add one of them")
        kind = "model" if doc.get("model") else "scores"
        return Target(kind, str(inner), merged.validate(), doc)
    settings = resolve_settings(cli_overrides, base=settings).validate()
    if p.is_dir():
        if (p / "config.json").is_file():
            return Target("model", str(p), settings)
        raise FaroInputError(
            f"{p}: is a directory without config.json or faro.toml, so it is neither a Hugging Face "
            "model nor a faro-audit config; point TARGET at a model directory, a scores file or module:function"
        )
    if p.is_file() and _DATA_SUFFIX.search(p.name):
        return Target("scores", str(p), settings)
    if ":" in target and not p.exists():
        return Target("callable", target, settings)
    if not p.exists():
        raise FaroInputError(f"{target}: no such file or directory; TARGET is a model directory, a scores file or module:function")
    raise FaroInputError(
        f"{target}: not a model directory, a scores file (.csv/.jsonl/.parquet) or module:function"
    )


def _audit_table(settings: AuditSettings) -> tuple[AuditTable, dict[str, Any]]:
    """The table a model is audited on: ``--data``, ``--suite`` or the built-in suite."""
    if settings.data and (settings.suite in (None, "file")):
        table = read_table(
            settings.data, group=settings.group, shape=settings.shape,
            drop_missing_groups=settings.drop_missing_groups,
        )
        return table, {"path": settings.data, "sha256": table.sha256, "suite": None}
    from faro_audit.suites.registry import load_suite, suite_info

    name = settings.suite or "default"
    frame, info = load_suite(name, data=settings.data, shape=settings.shape), suite_info(name)
    groups = settings.group or tuple(info["group_columns"])
    scoped = bool(info.get("scoped_groups", False)) and not settings.group
    table = validate_table(
        frame, group=groups, shape=settings.shape, source=f"suite {name!r}",
        drop_missing_groups=settings.drop_missing_groups, scoped_groups=scoped,
    )
    sha = file_sha256(settings.data) if settings.data and os.path.isfile(settings.data) else None
    table = table.with_frame(table.frame, path=settings.data, sha256=sha)
    return table, {"path": settings.data, "sha256": sha, "suite": name, "suite_version": info.get("version")}


def scored_table(target: Target, *, meanwhile: Callable[[], object] | None = None
                 ) -> tuple[AuditTable, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Read or score the audit table of ``target``.

    ``meanwhile`` is called while a model scores (in a worker process on a cold start, see
    :mod:`faro_audit.models.worker`): the CLI imports the audit and report modules there.

    Returns
    -------
    table, target_info, data_info, scoring_info
    """
    s = target.settings
    if target.kind == "scores":
        if not s.group:
            raise FaroUsageError("--group: a scores file needs at least one group column, e.g. --group gender")
        table = read_table(target.path, group=s.group, shape=s.shape, require_scores=True,
                           drop_missing_groups=s.drop_missing_groups)
        check_boot_memory(table, s)
        info = {"kind": "scores", "path": target.path, "sha256": table.sha256}
        return table, info, {"path": target.path, "sha256": table.sha256, "suite": None}, {}
    from faro_audit.models.worker import start_scoring

    table, data_info = _audit_table(s)
    check_boot_memory(table, s)
    load = s.model_options
    job = start_scoring(table, target.path, model_options=load.scorer_kwargs(), **load.cache_kwargs())
    try:
        if meanwhile is not None:
            meanwhile()
        scored, scoring, desc, fingerprint = job.result()
    finally:
        job.stop()  # on an error or Ctrl-C here, the worker must not outlive us
    info = {"kind": desc.get("kind", target.kind), "path": target.path, "sha256": desc.get("sha256"),
            "fingerprint": fingerprint, **{k: v for k, v in desc.items() if k not in ("kind", "path", "sha256")}}
    return scored, info, data_info, _asdict(scoring)


def sequential_scoring(target: Target) -> tuple[
    AuditTable, Callable[[AuditTable], AuditTable], Callable[[], tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]
]:
    """The audit table of ``target``, a function scoring any sub-table of it, and the
    provenance (target, data, scoring info) of what was scored so far (a sequential audit).

    A scores file is already scored: its "scoring" only reveals rows batch by batch. A model
    is loaded once, in this process, and scores each batch (with the score cache).
    """
    s = target.settings
    if target.kind == "scores":
        table, info, data_info, scoring = scored_table(target)
        return table, (lambda t: t), (lambda: (info, data_info, scoring))
    from faro_audit.models import load_scorer, score_table

    table, data_info = _audit_table(s)
    check_boot_memory(table, s)
    load = s.model_options
    scorer = load_scorer(target.path, **load.scorer_kwargs())
    state: dict[str, Any] = {"rows": 0, "scoring": {}}

    def score(sub: AuditTable) -> AuditTable:
        scored, scoring = score_table(sub, scorer, **load.cache_kwargs())
        state["rows"] += len(sub.frame)
        state["scoring"] = {**_asdict(scoring), "rows_scored": state["rows"]}
        return scored

    def infos() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        desc = scorer.describe()
        info = {"kind": desc.get("kind", target.kind), "path": target.path, "sha256": desc.get("sha256"),
                "fingerprint": scorer.fingerprint,
                **{k: v for k, v in desc.items() if k not in ("kind", "path", "sha256")}}
        return info, data_info, dict(state["scoring"])

    return table, score, infos


#: Bytes per bootstrap replicate and group: the replicate arrays of
#: :func:`faro_audit.stats.bootstrap.bootstrap_group_means` (sums and weights of up to 8 outcome
#: columns, held about six times over while the means are formed), 8 bytes a float.
_BOOT_BYTES_PER_GROUP = 8 * 8 * 6


def available_memory() -> int | None:
    """Bytes of memory available now (psutil, else ``os.sysconf``); ``None`` if unknown."""
    try:
        import psutil
    except ImportError:  # optional: fall back to sysconf
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            return int(os.sysconf(pages)) * int(os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            continue
    return None


def boot_bytes(table: AuditTable, n_boot: int) -> int:
    """Estimated peak bytes of the descriptive bootstrap of ``table`` with ``n_boot`` resamples."""
    frame = table.frame
    cols = [c for c in table.group_columns if c in frame.columns]
    counts = [int(frame[c].nunique(dropna=True)) for c in cols]
    if len(cols) > 1:
        counts.append(len(frame[cols].drop_duplicates()))
    groups = max(counts, default=1) + 1  # + the pooled row
    return int(n_boot) * groups * _BOOT_BYTES_PER_GROUP


def check_boot_memory(table: AuditTable, settings: AuditSettings) -> None:
    """Refuse an ``n_boot`` whose bootstrap arrays would not fit in memory (before scoring)."""
    if settings.n_boot <= 0:
        return
    need, have = boot_bytes(table, settings.n_boot), available_memory()
    if have is None or need <= have:
        return
    per = max(1, boot_bytes(table, 1))
    fit = max(0, int(have * 0.5) // per)
    raise FaroUsageError(
        f"{settings.label('n_boot')}: {settings.n_boot} bootstrap resamples need about "
        f"{need / 2**30:.1f} GiB for {table.n_rows} rows, but {have / 2**30:.1f} GiB of memory is "
        f"available; use at most {fit} (1000 is usually enough), or 0 to skip the bootstrap"
    )


def _asdict(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) else dict(obj or {})
