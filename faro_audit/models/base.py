"""The :class:`Scorer` protocol every loader returns, and the pieces scorers share.

A scorer maps ``(prompts, responses)`` to one float reward per response, in input order.
Scorers that can score in batches also expose :meth:`score_batches`, which yields
:class:`BatchResult` objects as each batch finishes, so that :func:`score_table` can write
the on-disk cache as it goes (an interrupted run resumes where it stopped).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Scorer(Protocol):
    """What :func:`faro_audit.models.load_scorer` returns.

    Attributes
    ----------
    fingerprint
        SHA-256 hex digest of everything that determines the scores: the weights' hash, the
        model configuration, the tokenizer files, and the scoring settings (template,
        ``max_length``, dtype, β, reference model). Two scorers with the same fingerprint give
        the same scores; the score cache is keyed by it.
    """

    fingerprint: str

    def describe(self) -> dict[str, Any]:
        """``{"kind", "path", "sha256", "settings", ...}`` for reports (SPEC §8 ``target``)."""
        ...

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """One float64 reward per ``(prompt, response)``, in input order."""
        ...


@dataclass(frozen=True)
class BatchResult:
    """Scores of one finished batch.

    Attributes
    ----------
    indices
        Positions of the batch's texts in the lists given to ``score_batches``.
    scores
        float64 rewards, aligned with ``indices``.
    truncated
        Whether each text was cut to ``max_length`` tokens before scoring.
    """

    indices: np.ndarray
    scores: np.ndarray
    truncated: np.ndarray


@dataclass(frozen=True)
class ScoreSettings:
    """Scoring settings of a Hugging Face scorer.

    Only ``template``, ``max_length``, ``dtype`` and the policy settings enter the
    fingerprint: the device and the batch size do not change the scores beyond floating-point
    noise, which :func:`score_table` measures (``batch_invariance_max_abs_diff``).
    """

    template: str
    max_length: int
    dtype: str
    device: str
    batch_size: int
    extra: dict[str, Any] = field(default_factory=dict)

    def fingerprint_part(self) -> dict[str, Any]:
        """The settings that determine the scores."""
        return {"template": self.template, "max_length": self.max_length, "dtype": self.dtype,
                **self.extra}

    def as_dict(self) -> dict[str, Any]:
        return {"template": self.template, "max_length": self.max_length, "dtype": self.dtype,
                "device": self.device, "batch_size": self.batch_size, **self.extra}


def check_texts(prompts: Sequence[str], responses: Sequence[str]) -> None:
    """Raise :class:`FaroInputError` unless both are equally long sequences of strings."""
    from faro_audit.errors import FaroInputError

    if len(prompts) != len(responses):
        raise FaroInputError(
            f"score(): got {len(prompts)} prompts but {len(responses)} responses; pass one "
            "prompt per response"
        )
    for name, seq in (("prompts", prompts), ("responses", responses)):
        for i, value in enumerate(seq):
            if not isinstance(value, str):
                raise FaroInputError(
                    f"score(): {name}[{i}] is {type(value).__name__} ({value!r:.40}), not a "
                    "string; fill or drop missing texts first"
                )


def iter_batches(scorer: Scorer, prompts: Sequence[str], responses: Sequence[str],
                 *, batch_size: int = 32) -> Iterator[BatchResult]:
    """The scorer's own ``score_batches`` if it has one, else ``score`` on fixed-size chunks."""
    own = getattr(scorer, "score_batches", None)
    if callable(own):
        yield from own(prompts, responses)
        return
    n = len(prompts)
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(n, start + batch_size))
        scores = np.asarray(scorer.score([prompts[i] for i in idx], [responses[i] for i in idx]),
                            dtype=np.float64)
        yield BatchResult(idx, scores, np.zeros(len(idx), dtype=bool))
