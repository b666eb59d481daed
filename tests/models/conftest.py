"""Small synthetic ranking data for the Ranker tests (LETOR-like: graded labels from a noisy linear model)."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.datasets import RankingDataset


def make_dataset(n_queries: int, *, docs: int = 20, n_features: int = 8, seed: int = 0, prefix: str = "q",
                 labels: str = "graded", name: str = "synthetic") -> RankingDataset:
    """Queries of ``docs`` rows (sizes vary by a few rows), labels 0..2 (or real-valued) from features 0-1."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(max(2, docs - 5), docs + 6, size=n_queries)
    n = int(sizes.sum())
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    signal = X[:, 0] + 0.5 * X[:, 1] + 0.5 * rng.normal(size=n)
    if labels == "graded":
        y = np.clip(np.round(signal), 0, 2)
    elif labels == "real":
        y = signal.astype(np.float64)
    else:
        y = (signal > 0.8).astype(np.float64)
    qids = np.repeat([f"{prefix}{i}" for i in range(n_queries)], sizes)
    docids = np.array([f"d{i}" for i in range(n)], dtype=object)
    return RankingDataset(X, y, qids, docids, [f"feat_{j}" for j in range(n_features)], name=name)


@pytest.fixture(scope="session")
def data():
    """(train, valid, test) with 60 / 20 / 20 queries of about 20 documents and 8 features."""
    return (make_dataset(60, seed=0, prefix="tr", name="train"), make_dataset(20, seed=1, prefix="va", name="valid"),
            make_dataset(20, seed=2, prefix="te", name="test"))


def click_fields(objective, train):
    """The click objectives (ltr.objectives.unbiased) train on click sets: each query block read as one SERP
    in row order (positions 1..n) or, for IPS, its labels as clicks at those positions (propensities 1)."""
    from ltr.objectives import get_objective
    obj = get_objective(objective)
    if not (obj.needs_positions or obj.needs_clicks):
        return train
    from ltr.ranking import ClickCounts
    pos = np.arange(len(train)) - np.repeat(train.query_offsets[:-1], train.group_sizes)
    kw = {"positions": pos + 1} if obj.needs_positions else {}
    if obj.needs_clicks:
        width = int(train.group_sizes.max())
        imp = np.zeros((len(train), width), dtype=np.int64)
        imp[np.arange(len(train)), pos] = 2
        clicks = np.minimum(imp, np.round(train.labels).astype(np.int64)[:, None])
        kw["clicks"] = ClickCounts(clicks, imp, np.ones(width))
    return RankingDataset(train.X, np.minimum(train.labels, 1), train.qids, train.docids, train.feature_names,
                          name=train.name, **kw)
