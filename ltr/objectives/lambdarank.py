"""LambdaRank / LambdaMART: LightGBM's ``lambdarank``, XGBoost's ``rank:ndcg`` and ``rank:map``, and our reference."""

from __future__ import annotations

import numpy as np

from ltr.errors import ConfigError, GroupError, LabelError
from ltr.objectives.base import (
    Objective, apply_weights, boolean, check_grades, choice, grad_inputs, optional_float, positive_float,
    positive_int, quantize, quantize_edges, register, where,
)

__all__ = ["LambdaRank", "LambdaRankMAP", "LambdaRankRef", "default_label_gain"]

#: LightGBM's ``DCGCalculator::DefaultLabelGain``: 2^i - 1 for i = 0..30.
_LGB_DEFAULT_GAIN = tuple(float(2 ** i - 1) for i in range(31))
#: LightGBM's ``DCGCalculator::kMaxPosition``: rows per query its lambdarank accepts.
_LGB_MAX_QUERY = 10000
#: XGBoost's ``ltr::MaxRel()``: the largest grade its exponential gain takes.
_XGB_MAX_EXP_GRADE = 31


def default_label_gain() -> tuple[float, ...]:
    """LightGBM's default gain table, ``2^i - 1`` for grades 0..30."""
    return _LGB_DEFAULT_GAIN


#: Parameters of XGBoost's pair construction, shared by lambdarank and lambdarank_map.
_PAIR_SPEC = {"pair_method": ("topk", choice("topk", "mean")), "pairs_per_sample": (1, positive_int)}


def _check_pair_method(obj: Objective, default_truncation: int) -> None:
    p = obj.params
    if p["pair_method"] == "mean" and p["truncation_level"] != default_truncation:
        raise ConfigError(f"objective {obj!r}: truncation_level applies to pair_method='topk' only; "
                          f"pair_method='mean' samples pairs_per_sample pairs per document over the whole list. "
                          f"Drop truncation_level or use pair_method='topk'.")
    if p["pair_method"] == "topk" and p["pairs_per_sample"] != 1:
        raise ConfigError(f"objective {obj!r}: pairs_per_sample applies to pair_method='mean' only; with 'topk' "
                          f"the pairs are those with a document in the top truncation_level.")


def _xgb_pair_params(obj: Objective) -> dict:
    p = obj.params
    if p["pair_method"] == "mean":
        return {"lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": p["pairs_per_sample"]}
    return {"lambdarank_pair_method": "topk", "lambdarank_num_pair_per_sample": p["truncation_level"]}


def _label_gain(value, key, owner):
    if value is None:
        return None
    try:
        gains = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"The {key!r} parameter of {owner} must be None or a tuple of gains, one per grade "
                          f"(e.g. (0, 1, 3, 7)). Got {value!r} instead.") from None
    if len(gains) < 2 or any(not np.isfinite(g) or g < 0 for g in gains):
        raise ConfigError(f"The {key!r} parameter of {owner} must be None or a tuple of at least two finite "
                          f"gains >= 0, one per grade. Got {value!r} instead.")
    return gains


class _LambdaParams(Objective):
    """Parameters and label checks shared by ``lambdarank`` and ``lambdarank_ref``."""

    family = "pairwise"
    label_kinds = frozenset({"binary", "graded"})
    _spec = {
        "truncation_level": (30, positive_int),
        "norm": (True, boolean),
        "label_gain": (None, _label_gain),
        "sigmoid": (1.0, positive_float),
        "quantize": (None, quantize_edges),
    }

    def gains(self) -> tuple[float, ...]:
        return self.params["label_gain"] or _LGB_DEFAULT_GAIN

    def transform_labels(self, labels, *, backend: str) -> np.ndarray:
        return quantize(labels, self.params["quantize"])

    def _max_grade(self, backend: str) -> tuple[int | None, str, str]:
        gain = self.params["label_gain"]
        if gain is None:
            fix = ("Pass label_gain with one gain per grade (e.g. label_gain=tuple(2**i - 1 for i in range(k + 1)) "
                   "or a linear tuple(range(k + 1))), or quantise with quantize=(...).")
            if backend == "xgboost" and not self.is_custom(backend):
                return _XGB_MAX_EXP_GRADE, "XGBoost's exponential gain 2^y - 1 stops at 31", fix
            return len(_LGB_DEFAULT_GAIN) - 1, "LightGBM's default label_gain 2^i - 1 has 31 entries", fix
        return (len(gain) - 1, f"label_gain has {len(gain)} entries",
                "Give label_gain one entry per grade, or quantise with quantize=(...).")

    def _check_kind(self, y, sizes, backend):
        max_grade, why, fix = self._max_grade(backend)
        check_grades(self, y, sizes, max_grade, backend=backend, why_max=why, fix_max=fix)
        if backend == "lightgbm" and sizes.size and sizes.max() > _LGB_MAX_QUERY and not self.is_custom(backend):
            q = int(np.argmax(sizes))
            raise GroupError(f"LightGBM's lambdarank takes at most {_LGB_MAX_QUERY} documents per query "
                             f"(DCGCalculator::kMaxPosition); query #{q} has {int(sizes[q])}. Cut the candidate "
                             f"lists (e.g. the first stage's top 1000) or use objective 'lambdarank_ref'.")

    def grad_hess(self, labels, scores, group_sizes, weights=None, *, use_numba=True):
        """LightGBM's LambdaRank gradient and hessian at ``scores`` (see :class:`LambdaRankRef`).

        Parameters
        ----------
        labels : array-like of shape (n_samples,)
            Integer grades as handed to the backend (after ``transform_labels``).
        scores : array-like of shape (n_samples,)
        group_sizes : array-like of int, summing to n_samples
        weights : array-like of shape (n_samples,), optional
            Per row, multiplied into the row's gradient and hessian after normalisation (as LightGBM).
        use_numba : bool, default=True
            False runs the numpy reference (:func:`ltr.objectives.lambdarank_numpy`).

        Returns
        -------
        grad, hess : ndarray of shape (n_samples,), float64
        """
        y, s, sizes, offsets = grad_inputs(labels, scores, group_sizes)
        gain = self.gains()
        if y.size and (y.max() > len(gain) - 1 or y.min() < 0 or np.any(np.floor(y) != y)):
            check_grades(self, y, sizes, len(gain) - 1, backend="the reference implementation",
                          why_max=f"the gain table has {len(gain)} entries", fix_max="Pass label_gain.")
        p = self.params
        from ltr.objectives._kernels import lambdarank_grad_hess   # numba loads on first use, not with the registry
        grad, hess = lambdarank_grad_hess(y, s, offsets, gain, p["truncation_level"], p["norm"], p["sigmoid"],
                                          use_numba=use_numba)
        return apply_weights(grad, hess, weights)


@register
class LambdaRank(_LambdaParams):
    r"""LambdaRank for nDCG (LambdaMART with trees), run by the backend's own implementation.

    Each label-discordant pair with at least one document in the current top ``truncation_level`` gets
    the RankNet gradient weighted by :math:`|\Delta \mathrm{nDCG}|`, the change in nDCG@truncation_level
    if the two swapped places (gain ``label_gain[y]``, discount :math:`1/\log_2(2 + r)`):

    .. math::

        \lambda_{ij} = -\frac{\sigma\, |\Delta \mathrm{nDCG}_{ij}|}{1 + e^{\sigma (s_i - s_j)}}

    Parameters
    ----------
    truncation_level : int, default=30
        LightGBM ``lambdarank_truncation_level``; XGBoost ``lambdarank_num_pair_per_sample`` with
        ``lambdarank_pair_method='topk'``.
    norm : bool, default=True
        LightGBM ``lambdarank_norm`` (divide :math:`|\Delta \mathrm{nDCG}|` by :math:`0.01 + |s_i - s_j|`
        and scale the query by :math:`\log_2(1 + L)/L`, :math:`L` the sum of its lambdas); XGBoost
        ``lambdarank_score_normalization`` and ``lambdarank_normalization`` together.
    label_gain : tuple of float or None, default=None
        Gain per grade. None is LightGBM's default :math:`2^y - 1` (grades 0..30; XGBoost's
        ``ndcg_exp_gain=True`` takes 0..31). On XGBoost only None and the linear ``(0, 1, 2, ...)``
        (``ndcg_exp_gain=False``) exist.
    sigmoid : float, default=1.0
        LightGBM ``sigmoid``; XGBoost has none (must be 1).
    quantize : tuple of float or None, default=None
        Thresholds turning real labels into grades (grade = number of thresholds <= label). Without it,
        non-integer labels are refused, never cast.
    pair_method : {"topk", "mean"}, default="topk"
        XGBoost's ``lambdarank_pair_method``. ``"topk"`` is LightGBM's truncation (all pairs with a
        document in the top ``truncation_level``); ``"mean"`` (XGBoost only) samples ``pairs_per_sample``
        pairs per document over the whole list, and with ``norm`` divides by that number.
    pairs_per_sample : int, default=1
        ``lambdarank_num_pair_per_sample`` for ``pair_method="mean"``.

    Notes
    -----
    :meth:`grad_hess` computes LightGBM's gradients (our reference, :class:`LambdaRankRef`), for
    introspection; the backends do not expose theirs. XGBoost's ``rank:ndcg`` under this mapping has
    the same gradients (tested to 1e-4) except for its hessian (:math:`2 p (1 - p)`, twice LightGBM's),
    its exact logistic function (LightGBM reads a table of 2^20 bins) and its float32 scores. On
    XGBoost the ranking weights are per query.

    References
    ----------
    Burges, C. (2010). From RankNet to LambdaRank to LambdaMART: An overview. MSR-TR-2010-82.
    Wu, Q., Burges, C., Svore, K., Gao, J. (2010). Adapting boosting for information retrieval measures.
    Information Retrieval 13(3). doi:10.1007/s10791-009-9112-1
    """

    name = "lambdarank"
    backends = ("lightgbm", "xgboost")
    native = {"lightgbm": "lambdarank", "xgboost": "rank:ndcg"}
    _spec = {**_LambdaParams._spec, **_PAIR_SPEC}

    def _validate(self):
        _check_pair_method(self, 30)

    def _linear_gain(self) -> bool:
        gain = self.params["label_gain"]
        return gain is not None and gain == tuple(float(i) for i in range(len(gain)))

    def _unsupported(self, backend):
        out = []
        if backend == "lightgbm" and self.params["pair_method"] == "mean":
            out.append("pair_method='mean': LightGBM's lambdarank has no pair sampling (it is XGBoost's); use "
                       "backend='xgboost' or pair_method='topk'")
        if backend == "xgboost":
            if self.params["sigmoid"] != 1.0:
                out.append(f"sigmoid={self.params['sigmoid']!r}: XGBoost's rank:ndcg has no sigmoid scale; "
                           f"use sigmoid=1.0 or backend='lightgbm'")
            if self.params["label_gain"] is not None and not self._linear_gain():
                out.append("label_gain: XGBoost offers only the exponential gain 2^y - 1 (label_gain=None) or "
                           "the linear one (label_gain=(0, 1, 2, ...), ndcg_exp_gain=False); use "
                           "backend='lightgbm' for other tables")
        return out

    def _max_grade(self, backend):
        if backend == "xgboost" and self._linear_gain():
            return (len(self.params["label_gain"]) - 1, f"label_gain has {len(self.params['label_gain'])} entries",
                    "Give label_gain one entry per grade, or quantise with quantize=(...).")
        return super()._max_grade(backend)

    def _native_params(self, backend, *, labels, group_sizes):
        p = self.params
        if backend == "lightgbm":
            out = {"objective": "lambdarank", "lambdarank_truncation_level": p["truncation_level"],
                   "lambdarank_norm": p["norm"], "sigmoid": p["sigmoid"]}
            if p["label_gain"] is not None:
                out["label_gain"] = list(p["label_gain"])
            return out
        return {"objective": "rank:ndcg", **_xgb_pair_params(self),
                "lambdarank_normalization": p["norm"], "lambdarank_score_normalization": p["norm"],
                "lambdarank_unbiased": False, "ndcg_exp_gain": p["label_gain"] is None}

    def grad_hess(self, labels, scores, group_sizes, weights=None, *, use_numba=True):
        """LightGBM's LambdaRank gradient and hessian at ``scores`` (see :class:`LambdaRankRef`).

        Not available for ``pair_method='mean'``, whose pairs XGBoost samples with its own generator.
        """
        if self.params["pair_method"] == "mean":
            raise NotImplementedError(f"objective {self!r} samples pairs with XGBoost's random generator; ltr "
                                      f"has no reference gradient for it (pair_method='topk' has one)")
        return super().grad_hess(labels, scores, group_sizes, weights, use_numba=use_numba)

    def _notes(self, backend):
        if backend == "lightgbm":
            notes = ["pairs with at least one document in the top truncation_level by current score; "
                     "LightGBM's lambdarank rejects queries of more than 10000 documents"]
            if self.params["label_gain"] is None:
                notes.append("label_gain: LightGBM's default 2^i - 1, i = 0..30 (also used by its ndcg metric)")
            return notes
        return ["LightGBM's lambdarank_norm maps to XGBoost's lambdarank_score_normalization (divide by "
                "|s_i - s_j| + 0.01) and lambdarank_normalization (log2(1 + L) / L) together",
                "XGBoost's hessian is 2 p(1-p) |dNDCG|, twice LightGBM's; it uses the exact logistic "
                "function (LightGBM a 2^20-bin table) and float32 scores; otherwise the gradients are "
                "LightGBM's (tested: one XGBoost round equals one round on ltr's reference with doubled "
                "hessian to 1e-4)",
                "grad_hess (introspection) computes LightGBM's convention, not XGBoost's"]


@register
class LambdaRankRef(_LambdaParams):
    r"""Our LambdaRank: LightGBM's ``lambdarank`` gradients, computed by ltr and trained as a custom objective.

    A line-by-line reproduction of ``LambdarankNDCG::GetGradientsForOneQuery`` (LightGBM 4,
    ``src/objective/rank_objective.hpp``), so that its results can be compared with the built-in one
    and its parts changed in research. Per query, documents are sorted by score (descending, ties in row
    order); for ranks :math:`i < j`, :math:`i <` ``truncation_level``, with different labels (``h`` the
    higher label, ``l`` the lower, :math:`\Delta s = s_h - s_l`):

    .. math::

        \delta = \frac{(G_{y_h} - G_{y_l})\,|D_{r_h} - D_{r_l}|}{\mathrm{maxDCG@k}}, \quad
        \delta \leftarrow \frac{\delta}{0.01 + |\Delta s|} \text{ (norm)}, \quad
        \rho = \frac{1}{1 + e^{\sigma \Delta s}},

        g_h \mathrel{-}= \sigma \delta \rho, \quad g_l \mathrel{+}= \sigma \delta \rho, \quad
        h_h, h_l \mathrel{+}= \sigma^2 \delta \rho (1 - \rho),

    with :math:`D_r = 1/\log_2(2 + r)`, and with ``norm`` the query scaled by :math:`\log_2(1 + L)/L`,
    :math:`L = \sum 2 \sigma \delta \rho`. The score normalisation is skipped when all scores of the
    query are equal; :math:`\rho` is read from LightGBM's 2^20-bin table. Differences from LightGBM:
    we accumulate in float64 (LightGBM in float32), so the two agree to float32 precision.

    Parameters are those of :class:`LambdaRank`, with LightGBM's defaults.

    References
    ----------
    Burges, C. (2010). From RankNet to LambdaRank to LambdaMART: An overview. MSR-TR-2010-82.
    LightGBM, ``src/objective/rank_objective.hpp`` (v4).
    """

    name = "lambdarank_ref"
    backends = ("lightgbm", "xgboost")
    native = {}

    def _notes(self, backend):
        return ["custom objective reproducing LightGBM's lambdarank gradients (numba kernel; numpy reference "
                "ltr.objectives.lambdarank_numpy)"]


def _binary_threshold(value, key, owner):
    return optional_float(value, key, owner)


@register
class LambdaRankMAP(Objective):
    r"""LambdaRank for mean average precision: XGBoost's ``rank:map`` (LightGBM has none).

    The RankNet gradient of each pair weighted by :math:`|\Delta \mathrm{AP}|`, the change in average
    precision if the two documents swapped places. Labels must be binary (XGBoost checks); graded
    labels need ``threshold`` (relevant = label >= threshold).

    Parameters
    ----------
    truncation_level : int, default=32
        ``lambdarank_num_pair_per_sample`` with ``lambdarank_pair_method='topk'`` (XGBoost's default 32).
    norm : bool, default=True
        ``lambdarank_normalization`` and ``lambdarank_score_normalization``.
    threshold : float or None, default=None
        Binarise graded or real labels: relevant = label >= threshold.
    pair_method, pairs_per_sample
        As for :class:`LambdaRank`.

    References
    ----------
    Burges, C. (2010). From RankNet to LambdaRank to LambdaMART: An overview. MSR-TR-2010-82.
    """

    name = "lambdarank_map"
    family = "pairwise"
    backends = ("xgboost",)
    label_kinds = frozenset({"binary"})
    native = {"xgboost": "rank:map"}
    _spec = {"truncation_level": (32, positive_int), "norm": (True, boolean),
             "threshold": (None, _binary_threshold), **_PAIR_SPEC}

    def _validate(self):
        _check_pair_method(self, 32)

    def transform_labels(self, labels, *, backend: str) -> np.ndarray:
        y = np.asarray(labels, dtype=np.float64)
        t = self.params["threshold"]
        return y if t is None else (y >= t).astype(np.float64)

    def _check_kind(self, y, sizes, backend):
        bad = np.flatnonzero((y != 0) & (y != 1))
        if bad.size:
            row = int(bad[0])
            raise LabelError(f"objective {self!r} needs binary labels 0/1 (XGBoost's rank:map); got "
                             f"{float(y[row]):g} in {where(row, sizes)}. Binarise explicitly with "
                             f"get_objective('lambdarank_map(threshold=1)') (relevant = label >= 1).")

    def _native_params(self, backend, *, labels, group_sizes):
        p = self.params
        return {"objective": "rank:map", **_xgb_pair_params(self),
                "lambdarank_normalization": p["norm"], "lambdarank_score_normalization": p["norm"],
                "lambdarank_unbiased": False}
