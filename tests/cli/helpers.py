"""Synthetic scores files for CLI tests (seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def pairs_scores(n_per_group: int, *, bias: float = 0.0, groups=("f", "m"), seed: int = 0,
                 twins: bool = False) -> pd.DataFrame:
    """Pairs with margins ~ N(1, 1); the last group's margins are shifted down by ``bias``."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, g in enumerate(groups):
        shift = -bias if k == len(groups) - 1 else 0.0
        d = rng.normal(1.0 + shift, 1.0, n_per_group)
        for i in range(n_per_group):
            rows.append({
                "prompt": f"prompt {i} about {g}", "chosen": f"good answer {i}", "rejected": f"bad answer {i}",
                "group": g, "reward_chosen": float(d[i]), "reward_rejected": 0.0,
                **({"cf_id": f"t{i}"} if twins else {}),
            })
    return pd.DataFrame(rows)


def write(df: pd.DataFrame, tmp_path: Path, name: str = "scores.csv") -> str:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)
