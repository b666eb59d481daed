"""Pointwise objectives: each document scored on its own (binary relevance, grade classes, regression)."""

from __future__ import annotations

import numpy as np

from ltr.errors import DataError, LabelError
from ltr.objectives.base import (
    Objective, apply_weights, check_grades, finite_float, grad_inputs, optional_positive_int, quantize,
    quantize_edges, register, where,
)

__all__ = ["Binary", "Multiclass", "Regression"]


def _logistic(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


@register
class Binary(Objective):
    r"""Binary classification of relevance: relevant = label >= ``threshold``, logistic loss.

    .. math::

        L = \sum_i -r_i \log p_i - (1 - r_i) \log(1 - p_i), \quad p_i = \frac{1}{1 + e^{-s_i}}, \quad
        r_i = [y_i \ge t]

    Gradient :math:`p_i - r_i`, hessian :math:`p_i (1 - p_i)`, as LightGBM ``binary`` (``sigmoid=1``) and
    XGBoost ``binary:logistic``. The ranking score is the raw margin :math:`s_i` (monotone in
    :math:`p_i`). Takes any labels: they are binarised by the threshold, visibly, in
    :meth:`transform_labels`.

    Parameters
    ----------
    threshold : float, default=1.0
        Labels >= threshold are relevant.

    References
    ----------
    Cossock, D., Zhang, T. (2006). Subset ranking using regression. COLT. doi:10.1007/11776420_44
    """

    name = "binary"
    family = "pointwise"
    backends = ("lightgbm", "xgboost")
    label_kinds = frozenset({"binary", "graded", "real"})
    native = {"lightgbm": "binary", "xgboost": "binary:logistic"}
    _spec = {"threshold": (1.0, finite_float)}

    def transform_labels(self, labels, *, backend: str) -> np.ndarray:
        return (np.asarray(labels, dtype=np.float64) >= self.params["threshold"]).astype(np.float64)

    def _notes(self, backend):
        return [f"labels binarised: relevant = label >= {self.params['threshold']:g}",
                "ranking score = raw margin (log-odds)"]

    def grad_hess(self, labels, scores, group_sizes, weights=None):
        """Logistic-loss gradient ``p - r`` and hessian ``p (1 - p)``; ``labels`` are the 0/1 targets."""
        r, s, _, _ = grad_inputs(labels, scores, group_sizes)
        p = _logistic(s)
        return apply_weights(p - r, p * (1.0 - p), weights)


@register
class Multiclass(Objective):
    r"""Multi-class classification over grades 0..k (softmax, cross-entropy); ranking score = expected grade.

    .. math::

        L = -\sum_i \log \pi_{i, y_i}, \quad \pi_{i, c} = \frac{e^{s_{i,c}}}{\sum_{c'} e^{s_{i,c'}}}, \quad
        \mathrm{score}_i = \sum_c c\, \pi_{i,c}

    LightGBM ``multiclass`` and XGBoost ``multi:softprob``, with ``num_class`` = k + 1.

    Parameters
    ----------
    num_class : int or None, default=None
        Number of grades; None takes the largest training grade + 1.
    quantize : tuple of float or None, default=None
        Thresholds turning real labels into grades (grade = number of thresholds <= label).

    References
    ----------
    Li, P., Burges, C., Wu, Q. (2007). McRank: Learning to rank using multiple classification and gradient
    boosting. NeurIPS.
    """

    name = "multiclass"
    family = "pointwise"
    backends = ("lightgbm", "xgboost")
    label_kinds = frozenset({"binary", "graded"})
    native = {"lightgbm": "multiclass", "xgboost": "multi:softprob"}
    _spec = {"num_class": (None, optional_positive_int), "quantize": (None, quantize_edges)}

    def transform_labels(self, labels, *, backend: str) -> np.ndarray:
        return quantize(labels, self.params["quantize"])

    def n_classes(self, labels=None) -> int | None:
        if self.params["num_class"] is not None:
            return self.params["num_class"]
        if labels is None:
            return None
        y = quantize(labels, self.params["quantize"])
        return int(y.max()) + 1 if y.size else None

    def _check_kind(self, y, sizes, backend):
        k = self.params["num_class"]
        check_grades(self, y, sizes, None if k is None else k - 1, backend=backend,
                      why_max=f"num_class={k}", fix_max="Raise num_class, or leave it None to take the "
                                                        "largest grade + 1.")
        if y.size and k is None and y.max() < 1:
            raise LabelError(f"objective {self!r} needs at least two grades; all {y.size} labels are "
                             f"{y[0]:g}. Check the labels, or use 'regression'.")

    def _native_params(self, backend, *, labels, group_sizes):
        k = self.n_classes(labels)
        return {"objective": self.native[backend],
                "num_class": k if k is not None else "<largest grade + 1>"}

    def _notes(self, backend):
        return ["ranking score = expected grade sum_c c * P(c) from the predicted probabilities"]

    def transform_scores(self, raw) -> np.ndarray:
        """Expected grade from class probabilities of shape (n_samples, num_class)."""
        prob = np.asarray(raw, dtype=np.float64)
        if prob.ndim != 2:
            raise DataError(f"objective {self!r} turns class probabilities of shape (n_samples, num_class) into "
                            f"scores; got shape {prob.shape}")
        sums = prob.sum(axis=1)
        if prob.size and (np.any(prob < 0) or not np.allclose(sums, 1.0, atol=1e-6)):
            raise DataError(f"objective {self!r} expects probabilities (rows summing to 1: LightGBM "
                            f"predict(raw_score=False), XGBoost multi:softprob); got rows summing to "
                            f"{sums.min():g}..{sums.max():g}")
        return prob @ np.arange(prob.shape[1], dtype=np.float64)

    def grad_hess(self, labels, scores, group_sizes, weights=None):
        """Softmax cross-entropy: gradient ``pi - onehot``, hessian ``K/(K-1) pi (1 - pi)`` (LightGBM's).

        ``scores`` has shape (n_samples, K); so do the returned arrays. XGBoost's ``multi:softprob``
        uses ``2 pi (1 - pi)`` as hessian.
        """
        y, s, sizes, _ = grad_inputs(labels, scores, group_sizes)
        if s.ndim != 2:
            raise DataError(f"objective {self!r} needs scores of shape (n_samples, num_class); got {s.shape}")
        n_class = s.shape[1]
        if y.size and (y.max() >= n_class or np.any(np.floor(y) != y) or y.min() < 0):
            row = int(np.flatnonzero((y >= n_class) | (np.floor(y) != y) | (y < 0))[0])
            raise LabelError(f"objective {self!r}: label {float(y[row]):g} in {where(row, sizes)} is not a grade "
                             f"0..{n_class - 1}")
        z = s - s.max(axis=1, keepdims=True)
        pi = np.exp(z)
        pi /= pi.sum(axis=1, keepdims=True)
        onehot = np.zeros_like(pi)
        onehot[np.arange(len(y)), y.astype(np.int64)] = 1.0
        factor = n_class / (n_class - 1.0) if n_class > 1 else 1.0
        return apply_weights(pi - onehot, factor * pi * (1.0 - pi), weights)


@register
class Regression(Objective):
    r"""Least-squares regression on the relevance labels.

    .. math::

        L = \tfrac12 \sum_i (s_i - y_i)^2, \quad g_i = s_i - y_i, \quad h_i = 1

    LightGBM ``regression`` and XGBoost ``reg:squarederror``; takes real-valued labels.

    References
    ----------
    Cossock, D., Zhang, T. (2006). Subset ranking using regression. COLT. doi:10.1007/11776420_44
    """

    name = "regression"
    family = "pointwise"
    backends = ("lightgbm", "xgboost")
    label_kinds = frozenset({"binary", "graded", "real"})
    native = {"lightgbm": "regression", "xgboost": "reg:squarederror"}
    _spec = {}

    def grad_hess(self, labels, scores, group_sizes, weights=None):
        """Gradient ``s - y`` and hessian 1."""
        y, s, _, _ = grad_inputs(labels, scores, group_sizes)
        return apply_weights(s - y, np.ones_like(s), weights)
