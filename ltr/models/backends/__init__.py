"""Backend adapters: one module per GBDT library, behind one small interface (:class:`Backend`).

A backend turns the Ranker's common settings into native parameters, trains with a harness metric for
early stopping, predicts with the best iteration, and reads/writes the library's own model format.
The registry :data:`BACKENDS` is the one list of valid backend names (error messages are built from it).
"""

from __future__ import annotations

from ltr.models.backends._base import Backend, Trained, TrainSpec
from ltr.models.backends._lightgbm import LightGBMBackend
from ltr.models.backends._xgboost import XGBoostBackend
from ltr.naming import select

BACKENDS: dict[str, Backend] = {"lightgbm": LightGBMBackend(), "xgboost": XGBoostBackend()}


def get_backend(name: str) -> Backend:
    """The backend called ``name``; an unknown name lists the valid ones."""
    return select(BACKENDS, name, what="backend")


def available_backends() -> list[str]:
    return sorted(BACKENDS)


__all__ = ["BACKENDS", "Backend", "TrainSpec", "Trained", "available_backends", "get_backend"]
