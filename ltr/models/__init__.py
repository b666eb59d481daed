"""Floor 5: the Ranker (fit / predict / save / load) over LightGBM and XGBoost, the backend registry, the
training callbacks, and the file verbs the CLI calls (``train_files``, ``predict_file``).

Importing this package is cheap: each name loads its module on first use (the Ranker pulls scikit-learn,
which costs about 1.7 s), so ``from ltr.models.backends import available_backends`` does not.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "DEFAULT_EVAL_METRIC": "ltr.models.ranker",
    "MAX_SEED": "ltr.models.ranker",
    "Ranker": "ltr.models.ranker",
    "label_kind": "ltr.models.ranker",
    "Recorder": "ltr.models.callbacks",
    "pair_counts": "ltr.models.callbacks",
    "available_backends": "ltr.models.backends",
    "get_backend": "ltr.models.backends",
    "register_backend": "ltr.models.backends",
    "predict_file": "ltr.models.files",
    "train_files": "ltr.models.files",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
