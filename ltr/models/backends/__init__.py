"""Backend adapters: one module per GBDT library, behind one small interface (:class:`Backend`).

A backend turns the Ranker's common settings into native parameters, trains with a harness metric for
early stopping, predicts with the best iteration, and reads/writes the library's own model format.

This module holds **the** registry of backends: every list of backend names in ltr (experiment
declarations, reports, the CLI, error messages) is read from :func:`available_backends`, never written by
hand. A new backend is a :class:`Backend` subclass in its own module, registered here with
:func:`register_backend`. Importing this module imports neither LightGBM nor XGBoost: each adapter imports
its library when it first trains, predicts or loads.

>>> available_backends()
['lightgbm', 'xgboost']
>>> get_backend("lightgbm").library, get_backend("xgboost").model_file
('lightgbm', 'model.json')
"""

from __future__ import annotations

from types import MappingProxyType

from ltr.models.backends._base import MAX_SEED, Backend, Trained, TrainSpec
from ltr.models.backends._lightgbm import LightGBMBackend
from ltr.models.backends._xgboost import XGBoostBackend
from ltr.naming import select

_REGISTRY: dict[str, Backend] = {}

#: Read-only view of the registry, name -> Backend (kept for callers of the old dict).
BACKENDS = MappingProxyType(_REGISTRY)


def register_backend(backend: Backend) -> Backend:
    """Add ``backend`` (an instance) to the registry under ``backend.name``; returns it."""
    if not isinstance(backend, Backend) or not backend.name:
        raise TypeError(f"register_backend needs a named Backend instance, got {backend!r}")
    if backend.name in _REGISTRY:
        raise RuntimeError(f"backend {backend.name!r} registered twice; this is a bug in ltr, please report it")
    _REGISTRY[backend.name] = backend
    return backend


def get_backend(name: str | Backend) -> Backend:
    """The backend called ``name`` (a Backend passes through); an unknown name lists the valid ones."""
    if isinstance(name, Backend):
        return name
    return select(_REGISTRY, name, what="backend")


def available_backends() -> list[str]:
    """Names of the registered backends, sorted."""
    return sorted(_REGISTRY)


register_backend(LightGBMBackend())
register_backend(XGBoostBackend())

__all__ = ["BACKENDS", "Backend", "MAX_SEED", "TrainSpec", "Trained", "available_backends", "get_backend",
           "register_backend"]
