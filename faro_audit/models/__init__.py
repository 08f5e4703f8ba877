"""Model loaders and scoring: reward models, policies and Python callables (SPEC §1, §9).

Everything here loads lazily: ``import faro_audit.models`` imports neither torch nor
transformers; they load when a Hugging Face model is loaded.

Public API
----------
load_scorer
    Turn a TARGET (model directory or ``module:function``) into a :class:`Scorer`.
score_table
    Add ``reward_chosen``/``reward_rejected`` or ``reward`` to an :class:`AuditTable`, with an
    on-disk cache that resumes interrupted runs, and return :class:`ScoringInfo`.
generate_policy_table
    Sample responses from a policy for each audit prompt and score them with a reward model.
is_model_dir
    True when a path is a model directory (holds ``config.json``).

Modules: ``safety`` (checks before loading), ``hf_loading``, ``formatting`` (chat template /
pair / concatenation), ``batching``, ``hf_reward``, ``policy``, ``callable``, ``resolve``,
``fingerprint``, ``cache``, ``scoring``, ``generation``; ``tiny`` builds tiny models and
tokenizers from configs for tests, benchmarks and the sample models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faro_audit._lazy import lazy_exports

if TYPE_CHECKING:
    from faro_audit.models.base import BatchResult, Scorer
    from faro_audit.models.generation import generate_policy_table
    from faro_audit.models.resolve import check_target, load_scorer
    from faro_audit.models.safety import is_model_dir
    from faro_audit.models.scoring import ScoringInfo, score_table

_EXPORTS: dict[str, str] = {
    "Scorer": "faro_audit.models.base",
    "BatchResult": "faro_audit.models.base",
    "load_scorer": "faro_audit.models.resolve",
    "check_target": "faro_audit.models.resolve",
    "is_model_dir": "faro_audit.models.safety",
    "score_table": "faro_audit.models.scoring",
    "ScoringInfo": "faro_audit.models.scoring",
    "generate_policy_table": "faro_audit.models.generation",
}

__all__ = [
    "BatchResult", "Scorer", "ScoringInfo", "check_target", "generate_policy_table",
    "is_model_dir", "load_scorer", "score_table",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
