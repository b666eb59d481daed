"""The interface every backend implements, and the records passed to and from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ltr.errors import ConfigError

#: The largest seed (``Ranker(random_state=...)``, LightGBM's ``*_seed`` parameters) ltr accepts: 2^31 - 1.
#: LightGBM's seeds are C ints and seed ``s`` trains what ``s mod 2^31`` trains; XGBoost reduces its seed
#: modulo 2^32 (both measured, tests/models/test_backends.py). Beyond it two different seeds would silently
#: give one model, so larger seeds are refused rather than folded; one range serves both backends, so that a
#: list of seeds means the same on each.
MAX_SEED = 2**31 - 1


def check_seed(value, what: str) -> int:
    """``value`` if it is an int in [0, MAX_SEED]; a ConfigError naming the range otherwise."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value <= MAX_SEED
    if not ok:
        raise ConfigError(f"{what} must be an int in [0, {MAX_SEED}] (2^31 - 1: LightGBM's seeds are 32-bit "
                          f"signed ints and XGBoost's are taken modulo 2^32, so a larger seed would silently "
                          f"repeat a smaller one). Got {value!r} instead.")
    return int(value)


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
    metrics: list                   # [(display name, Metric)], first drives ltr's early stopping
    valid: tuple | None = None      # (X, labels, backend_labels, group_sizes) or None
    record: bool = False
    callbacks: list = field(default_factory=list)   # ltr.models.callbacks callables (early stopping included)
    weights: np.ndarray | None = None               # per-row training weights (RankingDataset.weights)
    valid_weights: np.ndarray | None = None         # per-row validation weights (weight the harness metric)
    positions: np.ndarray | None = None             # 1-based display positions (objective.needs_positions)


@dataclass
class Trained:
    """A trained model as the Ranker keeps it."""

    model: Any                      # lightgbm.Booster or xgboost.Booster
    best_iteration: int             # number of trees used for prediction (1-based count)
    n_iterations: int               # number of trees trained
    evals_result: dict = field(default_factory=dict)
    recorder: Any = None
    position_bias: dict | None = None   # position-aware objectives: the biases the backend estimated


class Backend:
    """Adapter to one GBDT library; one instance per library lives in the registry
    (:func:`ltr.models.backends.register_backend`).

    Attributes
    ----------
    name : str
        Registry name (``"lightgbm"``).
    library : str
        The Python distribution it needs (``"lightgbm"``), as pip names it and as reports list versions.
    model_file : str
        File name of the saved model inside a model directory.
    supports_cluster : bool
        Whether ``Ranker(cluster=...)`` can train it on Dask (:meth:`train_on_cluster`).
    """

    name: str = ""
    library: str = ""
    model_file: str = ""
    supports_cluster: bool = False

    def __repr__(self) -> str:
        return f"<backend {self.name!r}>"

    def version(self) -> str:
        raise NotImplementedError

    def check_params(self, user_params: dict, objective=None) -> dict:
        """``user_params`` (``Ranker(params=...)``) with aliases replaced by the names the Ranker uses.

        Refuses (UnknownNameError, listing the valid names) a name the library does not have and (ConfigError)
        one the Ranker sets itself; given the ``objective``, also every value the library refuses, by the
        library's own check. For declarations: ``get_backend(name).check_params(params, get_objective(spec))``
        fails before any data are read."""
        raise NotImplementedError

    def train_on_cluster(self, client, spec: TrainSpec, parts: list, n_rounds: int, settings: dict):
        """Train ``n_rounds`` on the Dask partitions ``parts``; returns the native model."""
        raise NotImplementedError(f"backend {self.name!r} cannot train on a Dask cluster")

    def check_model_file(self, data: bytes, *, path, n_features: int) -> None:
        """Refuse a model file whose structure the native loader could crash on (ModelFormatError)."""
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
