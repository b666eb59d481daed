"""The interface every backend implements, and the records passed to and from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TrainSpec:
    """Everything a backend needs to train one model (numpy inside; no frames)."""

    params: dict                    # native parameters, final (common settings + objective + user params)
    objective: Any                  # Objective
    custom: bool                    # True -> objective.grad_hess is the backend's custom objective
    X: Any                          # float32 dense or CSR, (n_rows, n_features)
    labels: np.ndarray              # original labels (grad_hess and metrics use these)
    backend_labels: np.ndarray      # objective.transform_labels(labels)
    group_sizes: np.ndarray
    n_estimators: int
    early_stopping_rounds: int | None
    metrics: list                   # [(display name, Metric)], first drives early stopping
    valid: tuple | None = None      # (X, labels, backend_labels, group_sizes) or None
    record: bool = False


@dataclass
class Trained:
    """A trained model as the Ranker keeps it."""

    model: Any                      # lightgbm.Booster or xgboost.Booster
    best_iteration: int             # number of trees used for prediction (1-based count)
    n_iterations: int               # number of trees trained
    evals_result: dict = field(default_factory=dict)
    recorder: Any = None


class Backend:
    """Adapter to one GBDT library."""

    name: str = ""
    model_file: str = ""

    def version(self) -> str:
        raise NotImplementedError

    def native_params(self, settings: dict, objective, *, labels, group_sizes) -> tuple[dict, bool]:
        """Native parameters from the Ranker's common ``settings``; returns (params, custom)."""
        raise NotImplementedError

    def train(self, spec: TrainSpec) -> Trained:
        raise NotImplementedError

    def predict_raw(self, model, X, n_trees: int, n_jobs: int) -> np.ndarray:
        """Backend prediction (transformed for built-in objectives, raw margin for custom ones)."""
        raise NotImplementedError

    def to_bytes(self, model) -> bytes:
        raise NotImplementedError

    def from_bytes(self, data: bytes):
        raise NotImplementedError

    def n_features(self, model) -> int:
        raise NotImplementedError

    def n_trees(self, model) -> int:
        raise NotImplementedError

    def importance(self, model, n_trees: int, n_features: int) -> np.ndarray:
        """Total gain of the splits on each feature over the first ``n_trees`` trees."""
        raise NotImplementedError
