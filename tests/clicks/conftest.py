"""Small click logs and rankings shared by the click tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def impressions(rows):
    """Frame from (session, qid, docid, position, click) tuples."""
    return pd.DataFrame(rows, columns=["session", "qid", "docid", "position", "click"])


@pytest.fixture
def small_frame():
    return impressions([
        ("s1", "q1", "a", 1, 1), ("s1", "q1", "b", 2, 0), ("s1", "q1", "c", 3, 1),
        ("s2", "q1", "b", 1, 0), ("s2", "q1", "a", 2, 1),
        ("s3", "q2", "x", 1, 0), ("s3", "q2", "y", 2, 0),
    ])


def random_run(n_queries=30, n_docs=12, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"qid": np.repeat([f"q{i}" for i in range(n_queries)], n_docs),
                         "docid": np.tile([f"d{j}" for j in range(n_docs)], n_queries),
                         "score": rng.random(n_queries * n_docs)})


def random_probabilities(run, seed=0, low=0.05, high=0.95):
    rng = np.random.default_rng(seed + 1)
    out = run[["qid", "docid"]].copy()
    out["attractiveness"] = rng.uniform(low, high, len(out))
    out["satisfaction"] = rng.uniform(0.1, 0.9, len(out))
    return out
