"""What the backends share while training (internal): harness-metric evaluation, the introspection
recorder, the thread budget of our kernels. The public callbacks are in :mod:`ltr.models.callbacks`.

Early stopping uses *our* metrics (``ltr.metrics``), computed on the validation candidate sets at every
boosting iteration, so that the metric that picks the iteration is the one the harness reports; the rule is
LightGBM's and XGBoost's (:func:`ltr.models.callbacks.early_stopping`). :class:`HarnessEval` adapts a list
of metrics to each backend's custom-metric callback.

:class:`Recorder` records, per iteration, the number of label-discordant pairs a pairwise/listwise
objective can use (within its truncation level) and the mean absolute gradient ("lambda") at the
current training scores. The backends do not expose the gradients of their built-in objectives, so for
those the gradients are recomputed with the objective's reference implementation (``grad_hess``); the
``history_`` frame says so in ``history.attrs["lambda_source"]``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["HarnessEval", "Recorder", "kernel_threads", "pair_counts", "scores_from_prediction"]


@contextlib.contextmanager
def kernel_threads(n: int):
    """Run our compiled (numba ``prange``) gradient kernels on at most ``n`` threads inside the block, so
    that ``Ranker(n_jobs=n)`` bounds the threads of the backend *and* of a custom objective."""
    try:
        import numba
    except ImportError:          # the numpy reference path is single-threaded
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def scores_from_prediction(objective, prediction: np.ndarray, n_rows: int) -> np.ndarray:
    """One float64 ranking score per row from a backend prediction (raw margin or transformed output).

    Multi-output predictions (multiclass probabilities) arrive either as ``(n_rows, k)`` or flattened;
    they are reshaped and handed to ``objective.transform_scores``.
    """
    pred = np.asarray(prediction, dtype=np.float64)
    if pred.ndim == 1 and pred.size != n_rows and n_rows and pred.size % n_rows == 0:
        pred = pred.reshape(n_rows, -1)
    return np.asarray(objective.transform_scores(pred), dtype=np.float64).reshape(-1)


@dataclass
class _EvalSet:
    name: str
    labels: np.ndarray
    group_sizes: np.ndarray
    query_weights: np.ndarray | None = None


def query_weights(weights, group_sizes) -> np.ndarray | None:
    """One weight per query, the mean of its rows' weights: LightGBM's ``Metadata::CalculateQueryWeights``,
    which weights its ranking metrics (a query-constant weight is that weight). LightGBM keeps weights as
    float32 and so does this mean, so that the default early-stopping metric stays LightGBM's ``ndcg``."""
    if weights is None:
        return None
    sizes = np.asarray(group_sizes, dtype=np.int64)
    if not sizes.size:
        return np.zeros(0)
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    w32 = np.asarray(weights, dtype=np.float32).astype(np.float64)
    return (np.add.reduceat(w32, starts) / sizes).astype(np.float32).astype(np.float64)


@dataclass
class HarnessEval:
    """Mean of harness metrics over the queries of an evaluation set, as a backend custom metric.

    Parameters
    ----------
    metrics : list of (str, Metric)
        Display name (as the user wrote it) and the parsed metric; the first one drives early stopping.
    objective : Objective
        Turns a backend prediction into ranking scores (``transform_scores``).
    """

    metrics: list
    objective: Any
    sets: dict = field(default_factory=dict)

    def add(self, key: Any, name: str, labels: np.ndarray, group_sizes: np.ndarray, weights=None) -> None:
        """Register an evaluation set; with per-row ``weights`` the metric is the mean over queries weighted
        by :func:`query_weights` (as LightGBM weights its ``ndcg`` metric)."""
        self.sets[id(key)] = _EvalSet(name, labels, group_sizes, query_weights(weights, group_sizes))

    def values(self, prediction: np.ndarray, key: Any) -> list[tuple[str, float]]:
        ev = self.sets[id(key)]
        scores = scores_from_prediction(self.objective, prediction, len(ev.labels))
        out = []
        for name, metric in self.metrics:
            per_query = metric.compute(ev.labels, scores, ev.group_sizes)
            if ev.query_weights is None:
                out.append((name, float(np.mean(per_query))))
            else:
                out.append((name, float(np.sum(per_query * ev.query_weights) / np.sum(ev.query_weights))))
        return out

    # LightGBM: feval(preds, eval_data) -> list of (name, value, is_higher_better)
    def lightgbm(self, preds, dataset):
        return [(name, value, True) for name, value in self.values(preds, dataset)]

    # XGBoost: custom_metric(predt, dmatrix) -> list of (name, value); XGBoost splits its evaluation
    # log on whitespace, so names travel without spaces and are restored by :meth:`restore_names`
    @staticmethod
    def xgboost_name(name: str) -> str:
        return "".join(name.split())

    def xgboost(self, predt, dmatrix):
        return [(self.xgboost_name(name), value) for name, value in self.values(predt, dmatrix)]

    def restore_names(self, evals_result: dict) -> dict:
        back = {self.xgboost_name(name): name for name, _ in self.metrics}
        return {ds: {back.get(m, m): v for m, v in curves.items()} for ds, curves in evals_result.items()}


def pair_counts(labels: np.ndarray, scores: np.ndarray, group_sizes: np.ndarray,
                truncation_level: int | None) -> tuple[int, int, int]:
    """Count pairs of documents of one query: all, label-discordant, and discordant within the truncation.

    A discordant pair (different labels) is *effective* for a truncated objective (LightGBM's lambdarank)
    when at least one of its documents is ranked within the top ``truncation_level`` by the current scores
    (descending, ties in row order). Without truncation every discordant pair is effective (RankNet).

    Returns
    -------
    (n_pairs, n_discordant, n_effective) : tuple of int
    """
    sizes = np.asarray(group_sizes, dtype=np.int64)
    n = len(labels)
    if n == 0:
        return 0, 0, 0
    group = np.repeat(np.arange(len(sizes)), sizes)
    _, lab_code = np.unique(labels, return_inverse=True)
    n_lab = int(lab_code.max()) + 1

    def discordant(mask):
        # pairs with different labels = (m^2 - sum over labels of count^2) / 2, per query
        m = np.bincount(group[mask], minlength=len(sizes)).astype(np.int64)
        c = np.bincount(group[mask] * n_lab + lab_code[mask], minlength=len(sizes) * n_lab).astype(np.int64)
        return (int(np.sum(m * m)) - int(np.sum(c * c))) // 2

    n_pairs = int(np.sum(sizes * (sizes - 1) // 2))
    all_mask = np.ones(n, dtype=bool)
    n_disc = discordant(all_mask)
    if truncation_level is None:
        return n_pairs, n_disc, n_disc
    order = np.lexsort((np.arange(n), -np.asarray(scores, dtype=np.float64), group))
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts      # order keeps groups in place, so starts align
    below = rank >= int(truncation_level)
    return n_pairs, n_disc, n_disc - discordant(below)


class Recorder:
    """Per-iteration introspection of what an objective pushes (``Ranker(record=True)``).

    After boosting iteration ``t`` (``t`` trees), at the current training scores ``s``:

    - ``pairs_discordant``: pairs of documents of one query with different labels;
    - ``pairs_effective``: those a truncated objective uses (at least one document in the top
      ``truncation_level`` by ``s``), all of them without truncation;
    - ``mean_abs_lambda``: mean over documents of ``|g_i|``, ``g = objective.grad_hess(labels, s)[0]``,
      the gradient the next tree is fitted to.

    ``lambda_source`` says whether ``g`` is the gradient the backend trained on (custom objectives) or a
    recomputation by our reference implementation (built-in objectives, whose gradients the backends do
    not expose).
    """

    def __init__(self, objective, labels, group_sizes, *, custom: bool):
        self.objective, self.labels, self.group_sizes = objective, labels, group_sizes
        self.truncation = objective.params.get("truncation_level") if hasattr(objective, "params") else None
        self.rows: list[dict] = []
        if custom:
            self.lambda_source = (f"the gradients of {objective!r} that the backend trained on "
                                  f"(our grad_hess, used as the custom objective)")
        else:
            self.lambda_source = (f"recomputed by ltr's reference implementation of {objective!r} at the "
                                  f"current training scores; the backend's built-in gradients are not "
                                  f"exposed and were not read")
        self._grad_ok = True

    def record(self, iteration: int, raw_scores: np.ndarray) -> None:
        scores = np.asarray(raw_scores, dtype=np.float64)
        if scores.ndim == 2 and self._grad_ok:
            self._grad_ok = False
            self.lambda_source = (f"not available: {self.objective!r} has one score per class; mean |lambda| "
                                  f"is recorded for single-output objectives only")
        mean_abs = np.nan
        if self._grad_ok:
            try:
                grad, _ = self.objective.grad_hess(self.labels, scores, self.group_sizes)
                mean_abs = float(np.mean(np.abs(grad))) if len(grad) else 0.0
            except NotImplementedError:
                self._grad_ok = False
                self.lambda_source = f"not available: {self.objective!r} has no reference gradient"
        if scores.ndim == 2:        # class margins -> probabilities -> the objective's ranking score
            prob = np.exp(scores - scores.max(axis=1, keepdims=True))
            rank_scores = scores_from_prediction(self.objective, prob / prob.sum(axis=1, keepdims=True),
                                                 len(self.labels))
        else:
            rank_scores = scores
        n_pairs, n_disc, n_eff = pair_counts(self.labels, rank_scores, self.group_sizes, self.truncation)
        self.rows.append({"iteration": iteration, "pairs": n_pairs, "pairs_discordant": n_disc,
                          "pairs_effective": n_eff, "mean_abs_lambda": mean_abs})

    def history(self, evals_result: dict):
        import pandas as pd
        frame = pd.DataFrame(self.rows, columns=["iteration", "pairs", "pairs_discordant", "pairs_effective",
                                                 "mean_abs_lambda"])
        for set_name, curves in evals_result.items():
            for metric_name, values in curves.items():
                col = f"{set_name}:{metric_name}"
                vals = np.full(len(frame), np.nan)
                k = min(len(values), len(frame))
                vals[:k] = values[:k]
                frame[col] = vals
        frame.attrs["lambda_source"] = self.lambda_source
        frame.attrs["note"] = ("row t: state after t trees; mean_abs_lambda is " + self.lambda_source)
        return frame
