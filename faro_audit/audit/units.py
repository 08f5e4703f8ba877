"""Independent units of an audit table: rows linked by any shared code (cluster, twin set)."""

from __future__ import annotations

import numpy as np


def connected_units(*codes: np.ndarray) -> np.ndarray:
    """Unit of each row, numbered in order of first appearance.

    Two rows are in one unit when they share a code in any of ``codes`` (integer arrays of one
    code per row, e.g. cluster and twin-set codes), directly or through other rows: the
    connected components of the bipartite graph rows–codes.
    """
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = codes[0].size
    offset = n
    rows, cols = [], []
    for c in codes:
        c = pd.factorize(pd.Series(c))[0]
        rows.append(np.arange(n))
        cols.append(offset + c)
        offset += int(c.max()) + 1 if n else 0
    r, k = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(r.size), (r, k)), shape=(offset, offset))
    _, comp = connected_components(graph, directed=False)
    return pd.factorize(comp[:n])[0]
