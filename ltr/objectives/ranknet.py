"""Pairwise RankNet: the logistic loss on every label-discordant pair of a query."""

from __future__ import annotations

import numpy as np

from ltr.objectives.base import (
    Objective, apply_weights, boolean, grad_inputs, integer, optional_positive_int, positive_float, register,
)

__all__ = ["RankNet"]


@register
class RankNet(Objective):
    r"""RankNet (Burges et al., 2005): pairwise logistic loss over all label-discordant pairs of a query.

    .. math::

        L = \sum_q \sum_{(i, j) \in q,\; y_i > y_j} \log\bigl(1 + e^{-a (s_i - s_j)}\bigr)

    With :math:`p_{ij} = \sigma(a (s_i - s_j))` (logistic), each pair adds :math:`a (p_{ij} - 1)` to the
    gradient of :math:`i`, :math:`-a (p_{ij} - 1)` to that of :math:`j`, and :math:`a^2 p_{ij}(1 - p_{ij})`
    to both hessians. That hessian is the exact diagonal of the Hessian of :math:`L`. Pairs with equal
    labels contribute nothing; only the order of the two labels matters, so real-valued labels are fine.
    A query with one document (or with all labels equal) contributes nothing.

    Parameters
    ----------
    sigma : float, default=1.0
        The scale :math:`a` of the score difference.
    normalize : bool, default=False
        Divide each query's gradients and hessians by its number of label-discordant pairs (so every
        query weighs the same whatever its size). Off by default, as in the lecture notes.
    pairs_per_doc : int or None, default=None
        None: every label-discordant pair (cost per query quadratic in its size). ``k``: a sampled, unbiased
        estimate from about ``k`` pairs per document (cost linear in the query's size). Each document draws
        ``k`` partners uniformly, with replacement, among the documents of its query with another label
        (all of them, once each, if it has at most ``k``); a draw of ``b`` by ``a`` adds the pair's terms
        to both with weight :math:`1 / (c_a + c_b)`, :math:`c_x = \min(k / m_x, 1)`, :math:`m_x` the number
        of partners of :math:`x`. So every discordant pair counts once in expectation: **the expected
        gradient and hessian are exactly the full ones** (the estimate's variance falls as :math:`1/k`),
        and a query whose documents all have at most ``k`` partners gets its full gradient. The pairs are
        redrawn at every boosting iteration (the stream is seeded with ``seed``, the query's index and its
        current scores), and the same inputs give the same bits. LightGBM only (XGBoost samples pairs
        itself: ``lambdarank_pair_method='mean'``).
    seed : int, default=0
        Seed of the pair sampling (unused without ``pairs_per_doc``). Independent of the Ranker's
        ``random_state``, which objectives do not see.

    Backends
    --------
    lightgbm
        Custom objective (LightGBM has no pure pairwise objective).
    xgboost
        Native ``rank:pairwise`` configured as all-pairs RankNet: ``lambdarank_pair_method='topk'`` with
        ``lambdarank_num_pair_per_sample`` = the largest query (``topk`` then pairs every rank ``i``
        below that bound with every ``j > i``: all pairs), ``lambdarank_normalization=False``,
        ``lambdarank_score_normalization=False`` (XGBoost >= 3 divides by ``|s_i - s_j| + 0.01``
        otherwise), ``lambdarank_unbiased=False``. XGBoost's gradient is this one; its hessian is
        **twice** this one (``2 p (1 - p)``, ``lambdarank_obj.h``: ``LambdaGrad``), so its Newton step is
        half ours: XGBoost with ``(eta, reg_lambda, min_child_weight)`` grows the trees of our RankNet with
        ``(eta / 2, reg_lambda / 2, min_child_weight / 2)``. XGBoost has no scale, so ``sigma`` must be 1
        there, and no per-query pair normalisation equivalent to ``normalize=True``.

    Weights are per row, applied as LightGBM applies them: each document's gradient and hessian are
    multiplied by its weight (XGBoost's ranking weights are per query).

    References
    ----------
    Burges, C. et al. (2005). Learning to rank using gradient descent. ICML. doi:10.1145/1102351.1102363
    Burges, C. (2010). From RankNet to LambdaRank to LambdaMART: An overview. MSR-TR-2010-82.

    Examples
    --------
    >>> import numpy as np
    >>> g, h = RankNet().grad_hess(np.array([1.0, 0.0]), np.zeros(2), [2])
    >>> g.tolist(), h.tolist()
    ([-0.5, 0.5], [0.25, 0.25])
    """

    name = "ranknet"
    family = "pairwise"
    backends = ("lightgbm", "xgboost")
    label_kinds = frozenset({"binary", "graded", "real"})
    native = {"xgboost": "rank:pairwise"}
    _spec = {"sigma": (1.0, positive_float), "normalize": (False, boolean),
             "pairs_per_doc": (None, optional_positive_int), "seed": (0, integer)}

    def _validate(self):
        if self.params["seed"] < 0:
            from ltr.errors import ConfigError
            raise ConfigError(f"The 'seed' parameter of objective 'ranknet' must be an int >= 0. Got "
                              f"{self.params['seed']!r} instead.")

    def _unsupported(self, backend):
        out = []
        if backend == "xgboost":
            if self.params["pairs_per_doc"] is not None:
                out.append(f"pairs_per_doc={self.params['pairs_per_doc']!r} is ltr's pair sampler, a custom "
                           f"LightGBM objective; XGBoost samples pairs itself (params={{'lambdarank_pair_method': "
                           f"'mean', 'lambdarank_num_pair_per_sample': k}} with objective 'lambdarank' or its "
                           f"rank:pairwise), so use backend='lightgbm' or drop pairs_per_doc")
            if self.params["sigma"] != 1.0:
                out.append(f"sigma={self.params['sigma']!r}: XGBoost's rank:pairwise has no scale (sigma is 1); "
                           f"use backend='lightgbm' or sigma=1.0")
            if self.params["normalize"]:
                out.append("normalize=True: XGBoost normalises by pair count only when it samples pairs "
                           "(lambdarank_pair_method='mean'), which is not all-pairs RankNet; use "
                           "backend='lightgbm'")
        return out

    def _native_params(self, backend, *, labels, group_sizes):
        if group_sizes is not None:
            sizes = np.asarray(group_sizes, dtype=np.int64)
            n_pairs = int(sizes.max()) if sizes.size else 1
        else:
            n_pairs = "<size of the largest query>"
        return {
            "objective": "rank:pairwise",
            "lambdarank_pair_method": "topk",
            "lambdarank_num_pair_per_sample": n_pairs,
            "lambdarank_normalization": False,
            "lambdarank_score_normalization": False,
            "lambdarank_unbiased": False,
        }

    def _notes(self, backend):
        if backend == "xgboost":
            return ["all-pairs RankNet: with pair_method 'topk' and num_pair_per_sample >= the largest query, "
                    "XGBoost pairs every document with every other document of its query",
                    "gradient identical to ltr's ranknet; XGBoost's hessian is 2 p(1-p), twice ltr's, so its "
                    "leaf values are half: (eta, reg_lambda, min_child_weight) on XGBoost = (eta/2, "
                    "reg_lambda/2, min_child_weight/2) with ltr's ranknet",
                    "XGBoost ranking weights are per query (one per group), normalised to mean 1"]
        if self.params["pairs_per_doc"] is not None:
            return [f"sampled pairs: about {self.params['pairs_per_doc']} label-discordant partners per document, "
                    f"redrawn every iteration (seed {self.params['seed']}), weighted so that the expected "
                    f"gradient and hessian are the all-pairs ones; numba kernel (reference: "
                    f"ltr.objectives.ranknet_sampled_reference)"]
        return ["all label-discordant pairs of each query; numba kernel (numpy reference: "
                "ltr.objectives.ranknet_numpy)"]

    def grad_hess(self, labels, scores, group_sizes, weights=None, *, use_numba=True):
        """Gradient and hessian of the summed pairwise logistic loss (see the class docstring).

        Parameters
        ----------
        labels : array-like of shape (n_samples,)
        scores : array-like of shape (n_samples,)
        group_sizes : array-like of int, summing to n_samples
        weights : array-like of shape (n_samples,), optional
        use_numba : bool, default=True
            False runs the reference (:func:`ltr.objectives.ranknet_numpy`, or
            :func:`ltr.objectives.ranknet_sampled_reference` with ``pairs_per_doc``).

        Returns
        -------
        grad, hess : ndarray of shape (n_samples,), float64
        """
        y, s, _, offsets = grad_inputs(labels, scores, group_sizes)
        # numba loads on first use, not with the registry
        from ltr.objectives._kernels import ranknet_grad_hess, ranknet_sampled_grad_hess
        p = self.params
        if p["pairs_per_doc"] is not None:
            grad, hess = ranknet_sampled_grad_hess(y, s, offsets, p["sigma"], p["normalize"], p["pairs_per_doc"],
                                                   p["seed"], use_numba=use_numba)
        else:
            grad, hess = ranknet_grad_hess(y, s, offsets, p["sigma"], p["normalize"], use_numba=use_numba)
        return apply_weights(grad, hess, weights)
