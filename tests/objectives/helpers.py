"""Random query groups with ties, grades and real-valued labels, shared by the objective tests."""

from __future__ import annotations

import numpy as np


def random_groups(seed: int, n_queries: int = 12, max_size: int = 15, *, kind: str = "graded",
                  tie_scores: bool = False):
    """(labels, scores, group_sizes): sizes 1..max_size (a one-document query included), tied labels."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_size + 1, size=n_queries)
    sizes[0] = 1                                    # a query with one document
    n = int(sizes.sum())
    if kind == "graded":
        labels = rng.integers(0, 4, size=n).astype(np.float64)
    elif kind == "binary":
        labels = rng.integers(0, 2, size=n).astype(np.float64)
    else:                                           # real-valued, with ties
        labels = np.round(rng.normal(size=n), 1)
    scores = rng.normal(scale=2.0, size=n)
    if tie_scores:
        scores = np.round(scores)                   # many tied scores
    return labels, scores, sizes
