"""File-level verbs behind ``ltr train`` and ``ltr predict``: LETOR/SVMlight files in, a model directory
or a TREC run file out."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pandas as pd

from ltr.errors import ConfigError
from ltr.models.ranker import Ranker

__all__ = ["predict_file", "train_files"]

_RANKER_ARGS = [p for p in inspect.signature(Ranker.__init__).parameters
                if p not in ("self", "params", "objective", "backend")]


def _value(value):
    """A command-line value: Python literal if it reads as one (``0.1``, ``True``, ``None``), else the string."""
    if not isinstance(value, str):
        return value
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _split_params(params: dict | None) -> tuple[dict, dict]:
    settings, native = {}, {}
    for key, value in (params or {}).items():
        if key in ("objective", "backend"):
            raise ConfigError(f"params={{{key!r}: ...}}: the {key} is its own argument (ltr train --{key} NAME), "
                              f"not a parameter")
        (settings if key in _RANKER_ARGS else native)[key] = _value(value)
    return settings, native


def train_files(data_path, objective: str = "lambdarank", backend: str = "lightgbm", valid_path=None,
                out_dir=None, params: dict | None = None, defaults: dict | None = None) -> Ranker:
    """Train a :class:`Ranker` on a LETOR/SVMlight file and save it to ``out_dir``.

    Parameters
    ----------
    data_path : path
        Training file (``label qid:N idx:val ... [#docid = X]``, or LightGBM's format with a ``.query``
        side file).
    objective, backend : str
        As for :class:`Ranker`.
    valid_path : path, optional
        Validation file for early stopping.
    out_dir : path, optional
        Model directory to write (``Ranker.save``); nothing is written when None.
    params : dict, optional
        ``key -> value`` from ``--param key=value``. Keys that are Ranker arguments (``n_estimators``,
        ``learning_rate``, ``eval_metric``, ...) set them; any other key is a backend parameter passed
        through ``Ranker(params=...)``. String values are read as Python literals when they are one.
    defaults : dict, optional
        Ranker settings applied first (``params`` overrides them), e.g. the experiment protocol's
        (``ltr train --protocol``); None keeps the Ranker's own defaults.

    Returns
    -------
    Ranker
        The fitted ranker.
    """
    from ltr.io import read_letor

    settings, native = _split_params(params)
    base = dict(defaults or {})
    native = {**(base.pop("params", None) or {}), **native}
    ranker = Ranker(objective=objective, backend=backend, **{**base, **settings}, params=native or None)
    train = read_letor(data_path)
    valid = read_letor(valid_path) if valid_path is not None else None
    ranker.fit(train, valid=valid)
    if out_dir is not None:
        ranker.save(out_dir)
    return ranker


def predict_file(model_dir, data_path, out_run_path=None, *, tag: str | None = None) -> pd.DataFrame:
    """Score a LETOR/SVMlight file with a saved model and write a TREC run file.

    Returns the RUN frame (qid, docid, score) in the file's row order; the run file lists each query's
    documents by descending score. ``tag`` defaults to the model directory's name.
    """
    from ltr.io import read_letor, write_run

    ranker = Ranker.load(model_dir)
    data = read_letor(data_path)
    run = ranker.predict(data)
    if out_run_path is not None:
        write_run(run, out_run_path, tag=tag or Path(model_dir).name or "ltr")
    return run
