"""The one place where :mod:`ltr.models.export` and :mod:`ltr.models.explain` read a fitted Ranker.

Both need the same few facts about a trained model: the native booster, the backend's name, the objective,
the feature names in order and the number of trees used for prediction. Reading them here, and nowhere
else, means a change of the Ranker's attribute names is absorbed in this module alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltr.errors import NotFittedError


@dataclass(frozen=True)
class FittedModel:
    """What a fitted Ranker predicts with."""

    booster: Any                    # lightgbm.Booster or xgboost.Booster
    backend: str                    # "lightgbm" or "xgboost"
    objective: Any                  # ltr.objectives.Objective
    feature_names: list[str]
    n_trees: int                    # iterations (boosting rounds) used for prediction
    ranker: Any                     # the Ranker itself, for its native predictions


def fitted_model(ranker) -> FittedModel:
    """The fitted state of ``ranker`` (NotFittedError if it has not been fitted or loaded)."""
    if not hasattr(ranker, "model_"):
        raise NotFittedError("this Ranker is not fitted yet: call fit(train, valid) or Ranker.load(dir) first")
    backend = getattr(ranker, "backend_", None)
    if backend is None:
        backend = ranker.backend
    backend = backend if isinstance(backend, str) else backend.name
    names = ranker.feature_names_in_
    return FittedModel(booster=ranker.model_, backend=backend, objective=ranker.objective_,
                       feature_names=[str(n) for n in names], n_trees=int(ranker.best_iteration_), ranker=ranker)


def load_model_dir(model_dir):
    """A Ranker read from a directory written by ``Ranker.save`` (its manifest is checked there)."""
    from ltr.models.ranker import Ranker
    return Ranker.load(Path(model_dir))
