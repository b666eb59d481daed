"""Training callbacks: code the Ranker calls at every boosting iteration, the same on LightGBM and XGBoost.

The pattern is LightGBM's (``lightgbm.callback``): a public factory returns a callable object with two
attributes, ``order`` (callbacks run in increasing order) and ``before_iteration`` (True: called before the
iteration's tree is grown, with no evaluation results yet; False: after it). The object is called with a
:class:`CallbackEnv`; it stops training by raising :class:`EarlyStopException`. A plain function works too:
it runs after each iteration, before the built-in callbacks, in the order given (LightGBM's rule).

>>> from ltr.models import Ranker
>>> from ltr.models.callbacks import early_stopping, log_evaluation, record_evaluation
>>> curves = {}
>>> ranker = Ranker(early_stopping_rounds=None)                           # doctest: +SKIP
>>> ranker.fit(train, valid, callbacks=[early_stopping(20, metric="nDCG@10"),
...                                     record_evaluation(curves), log_evaluation(50)])  # doctest: +SKIP

The evaluation results are ltr's harness metrics (``Ranker(eval_metric=...)``, computed by
:mod:`ltr.metrics`) on the validation set (``"valid"``) and, with ``Ranker(record=True)``, on the training
set (``"train"``). LightGBM hands them to the callbacks as computed; XGBoost prints a custom metric with
``"%f"`` (six decimals) in ``Booster.eval_set`` and parses it back before any callback sees it, so on
XGBoost the values are rounded to 1e-6 (so are XGBoost's own early stopping and ``evals_result``).

``Ranker(early_stopping_rounds=k)`` is :func:`early_stopping` ``(k)`` on the first metric of
``eval_metric``: one rule on both backends, the rule of LightGBM's ``early_stopping`` and XGBoost's
``EarlyStopping`` (a strictly better value is an improvement; stop after ``k`` rounds without one; the model
predicts with the best iteration). Training on a Dask cluster (``Ranker(cluster=...)``) runs a fixed number
of rounds and takes no callbacks.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, NamedTuple

from ltr.errors import ConfigError
from ltr.models._harness import Recorder, pair_counts

__all__ = [
    "CallbackEnv", "EarlyStopException", "EvalResult", "Recorder", "early_stopping", "log_evaluation",
    "pair_counts", "record_evaluation",
]


class EvalResult(NamedTuple):
    """One metric on one data set after one iteration (LightGBM's ``EvalResult`` fields)."""

    dataset_name: str           # "valid" or "train"
    metric_name: str            # as written in Ranker(eval_metric=...)
    metric_value: float
    maximize: bool              # True: higher is better (every ltr metric)


@dataclass(frozen=True)
class CallbackEnv:
    """What a callback sees (LightGBM's ``CallbackEnv``, plus the backend's name).

    Attributes
    ----------
    model : lightgbm.Booster or xgboost.Booster
        The model being trained (its trees so far).
    backend : str
        ``"lightgbm"`` or ``"xgboost"``.
    params : dict
        The native training parameters.
    iteration : int
        0-based index of the current iteration; after it, the model has ``iteration + 1`` trees.
    begin_iteration, end_iteration : int
        ``0`` and ``n_estimators``: the iterations run are ``range(begin_iteration, end_iteration)``.
    evaluation_result_list : list of EvalResult
        The harness metrics after this iteration (empty for ``before_iteration`` callbacks and when
        ``fit`` has no validation set and ``record=False``).
    """

    model: Any
    backend: str
    params: dict
    iteration: int
    begin_iteration: int
    end_iteration: int
    evaluation_result_list: list


class EarlyStopException(Exception):
    """Raised by a callback to stop training.

    Parameters
    ----------
    best_iteration : int
        0-based index of the best iteration: the model will predict with ``best_iteration + 1`` trees.
    best_score : list of EvalResult
        The evaluation results at that iteration.
    monitored : EvalResult, optional
        The one result the decision was made on (XGBoost stores it as the model's ``best_score``).
    """

    def __init__(self, best_iteration: int, best_score: list, *, monitored: EvalResult | None = None):
        super().__init__()
        self.best_iteration = int(best_iteration)
        self.best_score = list(best_score)
        self.monitored = monitored


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _EarlyStopping:
    order = 30
    before_iteration = False

    def __init__(self, stopping_rounds: int, metric: str | None, data: str, min_delta: float, verbose: bool):
        self.stopping_rounds, self.metric, self.data = stopping_rounds, metric, data
        self.min_delta, self.verbose = min_delta, verbose
        self._reset()

    def _reset(self):
        self.best_value = -math.inf
        self.best_iteration = -1
        self.best_score: list = []
        self.best_result: EvalResult | None = None

    def _monitored(self, env: CallbackEnv) -> EvalResult:
        on_data = [r for r in env.evaluation_result_list if r.dataset_name == self.data]
        if not on_data:
            names = sorted({r.dataset_name for r in env.evaluation_result_list})
            raise ConfigError(f"early_stopping(data={self.data!r}) found no evaluation results on {self.data!r} "
                              f"(results on {names}); pass valid= to fit, or Ranker(early_stopping_rounds=None)")
        if self.metric is None:
            return on_data[0]
        for result in on_data:
            if result.metric_name == self.metric:
                return result
        raise ConfigError(f"early_stopping(metric={self.metric!r}) is not among the evaluated metrics "
                          f"{[r.metric_name for r in on_data]}; name one of them as written in "
                          f"Ranker(eval_metric=...)")

    def __call__(self, env: CallbackEnv) -> None:
        if env.iteration == env.begin_iteration:
            self._reset()
        result = self._monitored(env)
        higher = result.maximize
        value = result.metric_value if higher else -result.metric_value
        if self.best_iteration < 0 or value > self.best_value + self.min_delta:
            self.best_value, self.best_iteration = value, env.iteration
            self.best_score, self.best_result = list(env.evaluation_result_list), result
        stop = env.iteration - self.best_iteration >= self.stopping_rounds
        last = env.iteration == env.end_iteration - 1
        if stop or last:
            if self.verbose:
                how = "early stopping" if stop else "did not meet early stopping"
                print(f"[{self.best_iteration + 1}] {how}; best {self.best_result.dataset_name}'s "
                      f"{self.best_result.metric_name}: {self.best_result.metric_value:g}", file=sys.stderr)
            raise EarlyStopException(self.best_iteration, self.best_score, monitored=self.best_result)


def early_stopping(stopping_rounds: int, *, metric: str | None = None, data: str = "valid",
                   min_delta: float = 0.0, verbose: bool = False) -> _EarlyStopping:
    """Stop when ``metric`` on ``data`` has not improved for ``stopping_rounds`` iterations.

    An improvement is a value strictly greater than the best so far plus ``min_delta`` (smaller, for a
    metric where lower is better). At the stop, and at the last iteration, the model is set to predict with
    the best iteration (LightGBM keeps only the trees up to it; XGBoost keeps all and records it).

    Parameters
    ----------
    stopping_rounds : int >= 1
    metric : str, optional
        A metric of ``Ranker(eval_metric=...)`` as written there; default: the first one.
    data : {"valid", "train"}, default="valid"
    min_delta : float >= 0, default=0.0
    verbose : bool, default=False
        Print the best iteration when training stops (to stderr).

    Returns
    -------
    callable
        With ``order = 30`` (after :func:`record_evaluation`), ``before_iteration = False``.
    """
    if not _is_int(stopping_rounds) or stopping_rounds < 1:
        raise ConfigError(f"The 'stopping_rounds' parameter of early_stopping must be an int >= 1. "
                          f"Got {stopping_rounds!r} instead.")
    if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or not min_delta >= 0:
        raise ConfigError(f"The 'min_delta' parameter of early_stopping must be a float >= 0. "
                          f"Got {min_delta!r} instead.")
    if data not in ("valid", "train"):
        raise ConfigError(f"The 'data' parameter of early_stopping must be 'valid' or 'train'. Got {data!r} instead.")
    return _EarlyStopping(stopping_rounds, metric, data, float(min_delta), bool(verbose))


class _RecordEvaluation:
    order = 20
    before_iteration = False

    def __init__(self, eval_result: dict):
        self.eval_result = eval_result

    def __call__(self, env: CallbackEnv) -> None:
        if env.iteration == env.begin_iteration:
            self.eval_result.clear()
        for r in env.evaluation_result_list:
            self.eval_result.setdefault(r.dataset_name, {}).setdefault(r.metric_name, []).append(r.metric_value)


def record_evaluation(eval_result: dict) -> _RecordEvaluation:
    """Record every evaluation result into ``eval_result``: ``{data: {metric: [value per iteration]}}``.

    ``eval_result`` is emptied when training starts (as LightGBM's ``record_evaluation``).
    """
    if not isinstance(eval_result, dict):
        raise ConfigError(f"record_evaluation needs a dict to fill; got {type(eval_result).__name__}")
    return _RecordEvaluation(eval_result)


class _LogEvaluation:
    order = 10
    before_iteration = False

    def __init__(self, period: int, stream):
        self.period, self.stream = period, stream

    def __call__(self, env: CallbackEnv) -> None:
        if not env.evaluation_result_list or (env.iteration + 1) % self.period:
            return
        text = "\t".join(f"{r.dataset_name}'s {r.metric_name}: {r.metric_value:g}"
                         for r in env.evaluation_result_list)
        print(f"[{env.iteration + 1}]\t{text}", file=self.stream or sys.stdout, flush=True)


def log_evaluation(period: int = 1, *, stream=None) -> _LogEvaluation:
    """Print the evaluation results every ``period`` iterations (to ``stream``, default stdout)."""
    if not _is_int(period) or period < 1:
        raise ConfigError(f"The 'period' parameter of log_evaluation must be an int >= 1. Got {period!r} instead.")
    return _LogEvaluation(period, stream)


def prepare(callbacks) -> tuple[list, list]:
    """``(before, after)``: the callbacks sorted by ``order``, plain functions first in the order given
    (LightGBM's rule: a callback without ``order`` gets ``i - len(callbacks)``). Used by the backends."""
    if callbacks is None:
        return [], []
    if callable(callbacks) or not isinstance(callbacks, (list, tuple)):
        raise ConfigError(f"fit(callbacks=...) takes a list of callables, e.g. [early_stopping(20)]; got "
                          f"{type(callbacks).__name__}")
    items = []
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise ConfigError(f"fit(callbacks=...) item {i} is not callable: {cb!r}")
        order = getattr(cb, "order", i - len(callbacks))
        items.append((order, i, cb))
    items.sort(key=lambda t: (t[0], t[1]))
    before = [cb for _, _, cb in items if getattr(cb, "before_iteration", False)]
    after = [cb for _, _, cb in items if not getattr(cb, "before_iteration", False)]
    return before, after


def check_callbacks(callbacks, metric_names: list[str]) -> None:
    """Refuse, before training, a callbacks argument that is not a list of callables, or an
    :func:`early_stopping` on a metric that will not be evaluated."""
    prepare(callbacks)
    for cb in callbacks:
        if isinstance(cb, _EarlyStopping) and cb.metric is not None and cb.metric not in metric_names:
            raise ConfigError(f"early_stopping(metric={cb.metric!r}) is not among the evaluated metrics "
                              f"{metric_names}; add it to Ranker(eval_metric=[...]) or name one of them as "
                              f"written there")
