"""A small LETOR-like experiment that trains in seconds, for the runner's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ltr.ranking import RankingDataset
from ltr.io import write_letor


def make_letor(n_queries: int, seed: int, *, prefix: str, n_docs: int = 12, n_features: int = 6) -> RankingDataset:
    """Graded labels from a noisy linear utility of the features (so that models learn something)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_queries * n_docs, n_features)).astype(np.float32)
    utility = X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=len(X))
    labels = np.digitize(utility, [0.0, 0.8, 1.6]).astype(float)
    qids = np.repeat([f"{prefix}{i}" for i in range(n_queries)], n_docs)
    return RankingDataset(X, labels, qids)


def write_small_experiment(folder: Path, *, seeds=(0, 1), objectives=("lambdarank", "ranknet", "regression"),
                           budget: int = 2, name: str = "small") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for role, n, seed in (("train", 40, 1), ("vali", 15, 2), ("test", 20, 3)):
        write_letor(make_letor(n, seed, prefix=f"{role[0]}"), folder / f"{role}.txt")
    toml = folder / "small.toml"
    toml.write_text(f"""
name = "{name}"
objectives = {list(objectives)!r}
backends = ["lightgbm", "xgboost"]
metrics = ["nDCG@10", "AP"]
seeds = {list(seeds)!r}

[data]
kind = "letor_files"
train = "train.txt"
valid = "vali.txt"
test = "test.txt"

[training]
n_estimators = 30
early_stopping_rounds = 10
learning_rate = 0.2
n_jobs = 1

[tuning]
budget = {budget}
""".replace("'", '"'))
    return toml


@pytest.fixture
def small_experiment(tmp_path) -> Path:
    return write_small_experiment(tmp_path / "data")
