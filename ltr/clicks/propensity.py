"""Position-bias (propensity) estimation: from interventions, by intervention harvesting, by regression EM.

Every estimator returns :class:`Propensities`: examination at each position relative to position 1
(``p_k / p_1``, position 1 = 1), which is what inverse-propensity weighting needs and all that these data
identify (the absolute level is shared with relevance).

- :func:`swap_propensities` (Joachims et al. 2017): logs with the ``swap`` intervention (or any logged
  intervention with ``original_position``). The document the production ranker put first is shown at
  position k in the sessions whose partner is k and at position 1 in the control sessions (partner 1);
  randomisation makes its relevance the same in both, so ``CTR(shown at k) / CTR(shown at 1)`` over those
  documents estimates ``p_k / p_1``. Standard errors by the delta method on the two binomial rates.
- :func:`randomized_propensities`: logs with top-k randomisation; every document is equally likely at
  every randomised position, so ``CTR_k / CTR_1`` over all impressions estimates ``p_k / p_1``.
- :func:`harvest_propensities` (Agarwal et al. 2019): no intervention, but several rankings of the same
  queries (logs of two or more rankers, or any ranking variation). A (query, document) shown at positions
  k and k' by different rankings is a harvested intervention; with weights ``n(q) / n(q, d, k)`` (the
  paper's ``N / sum_i n_i 1[rk_i(d) = k]`` with the query distribution taken per query) the weighted click
  rates satisfy ``E[c(k, k')] = p_k r(k, k')`` with ``r`` symmetric, and the AllPairs extremum estimator
  maximises ``sum_{k != k'} c log(p_k r) + (n - c) log(1 - p_k r)`` with ``p_1 = 1``.
- :func:`regression_em_propensities` (Wang et al. 2018): EM on the position-based model where relevance
  is a function of the features, ``gamma_qd = f(x_qd)``, refitted by a GBDT (LightGBM, cross-entropy on
  the posterior relevance probabilities, the expected-label form of the paper's sampled labels) in every
  M-step. It is identified through that assumption: relevance cannot depend on the position, so positions
  are separated from relevance as far as documents with similar features appear at different positions;
  features that encode the position, or one fixed ranking with per-document relevance, make the split
  arbitrary. Without features (``features=None``) relevance is one free parameter per (query, document),
  which is PBM's EM and needs ranking variation.

References
----------
Joachims, Swaminathan, Schnabel. Unbiased learning-to-rank with biased feedback. WSDM 2017.
Agarwal, Zaitsev, Wang, Li, Najork, Joachims. Estimating position bias without intrusive interventions.
WSDM 2019.
Wang, Golbandi, Bendersky, Metzler, Najork. Position bias estimation for unbiased learning to rank in
personal search. WSDM 2018.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltr.clicks.log import CLICK, ORIGINAL_POSITION, POSITION, ClickLog
from ltr.errors import ConfigError, DataError, SchemaError
from ltr.schema import DOCID, QID

__all__ = ["Propensities", "swap_propensities", "randomized_propensities", "harvest_propensities",
           "regression_em_propensities"]


@dataclass(frozen=True)
class Propensities:
    """Relative examination probability per position: ``values[k - 1] = p_k / p_1``.

    Attributes
    ----------
    values : ndarray of shape (n_positions,)
    stderr : ndarray or None
        Standard error per position where the method gives one.
    method : str
    note : str
        What the estimate assumes (its identification).
    """

    values: np.ndarray
    stderr: np.ndarray | None
    method: str
    note: str

    def at(self, positions) -> np.ndarray:
        """Propensities of 1-based ``positions`` (e.g. a log's position column), for IPS weights."""
        positions = np.asarray(positions)
        if positions.size and (positions.min() < 1 or positions.max() > len(self.values)):
            raise DataError(f"propensities cover positions 1..{len(self.values)}, got {int(positions.min())}.."
                            f"{int(positions.max())}")
        return self.values[positions.astype(np.int64) - 1]

    def to_frame(self) -> pd.DataFrame:
        out = pd.DataFrame({POSITION: np.arange(1, len(self.values) + 1), "propensity": self.values})
        if self.stderr is not None:
            out["stderr"] = self.stderr
        return out

    def to_dict(self) -> dict:
        return {"method": self.method, "propensities": [float(v) for v in self.values],
                "stderr": None if self.stderr is None else [float(v) for v in self.stderr], "note": self.note}


def _require(log: ClickLog, column: str, caller: str, fix: str) -> pd.DataFrame:
    if not isinstance(log, ClickLog):
        raise SchemaError(f"{caller} takes a ClickLog, got {type(log).__name__}")
    frame = log.frame
    if column not in frame.columns:
        raise SchemaError(f"{caller} needs the log's {column!r} column ({fix}); found {list(frame.columns)}")
    return frame


def _ratio_with_se(clicks_k, n_k, clicks_1, n_1):
    with np.errstate(divide="ignore", invalid="ignore"):
        ctr_k, ctr_1 = clicks_k / n_k, clicks_1 / n_1
        ratio = ctr_k / ctr_1
        rel_var = (1 - ctr_k) / (n_k * ctr_k) + (1 - ctr_1) / (n_1 * ctr_1)
        se = ratio * np.sqrt(rel_var)
    return ratio, se


def swap_propensities(log: ClickLog) -> Propensities:
    """``p_k / p_1`` from a swap-intervention log (Joachims et al. 2017); see the module docstring.

    Needs ``original_position`` (the simulators write it; a real swap experiment logs it). Uses the
    impressions of documents whose original position is 1.
    """
    frame = _require(log, ORIGINAL_POSITION, "swap_propensities",
                     "the production ranker's position of each shown document, written by interventions")
    orig = frame[ORIGINAL_POSITION].to_numpy(dtype=np.float64, na_value=np.nan)
    top = orig == 1
    if not top.any():
        raise DataError("swap_propensities: no impression of a document the production ranker put first")
    pos = frame[POSITION].to_numpy()[top]
    clk = frame[CLICK].to_numpy()[top].astype(np.float64)
    width = int(pos.max())
    n = np.bincount(pos, minlength=width + 1)[1:].astype(np.float64)
    c = np.bincount(pos, weights=clk, minlength=width + 1)[1:]
    if n[0] == 0 or c[0] == 0:
        raise DataError("swap_propensities: no control sessions (partner 1) or no clicks at position 1 in them")
    missing = np.flatnonzero(n == 0) + 1
    ratio, se = _ratio_with_se(c, n, c[0], n[0])
    note = ("randomised swap of positions 1 and k (k uniform, k = 1 the control): the first document's "
            "relevance is the same in every arm, so CTR at k over CTR at 1 of that document is p_k / p_1")
    if missing.size:
        note += f"; positions {missing.tolist()} have no swapped impressions (NaN)"
    ratio[0], se[0] = 1.0, 0.0
    return Propensities(values=ratio, stderr=se, method="swap", note=note)


def randomized_propensities(log: ClickLog, *, k: int | None = None) -> Propensities:
    """``CTR_k / CTR_1`` of a log whose top ``k`` (default: every position) was uniformly shuffled."""
    frame = log.frame
    pos = frame[POSITION].to_numpy()
    if k is not None:
        keep = pos <= k
        pos = pos[keep]
        clk = frame[CLICK].to_numpy()[keep].astype(np.float64)
    else:
        clk = frame[CLICK].to_numpy().astype(np.float64)
    width = int(pos.max())
    n = np.bincount(pos, minlength=width + 1)[1:].astype(np.float64)
    c = np.bincount(pos, weights=clk, minlength=width + 1)[1:]
    if c[0] == 0:
        raise DataError("randomized_propensities: no clicks at position 1")
    ratio, se = _ratio_with_se(c, n, c[0], n[0])
    ratio[0], se[0] = 1.0, 0.0
    return Propensities(values=ratio, stderr=se, method="randomized",
                        note="top-k randomisation: every document equally likely at every randomised position, "
                             "so CTR_k / CTR_1 is p_k / p_1 (valid only for the randomised positions)")


def _harvest_counts(log: ClickLog) -> tuple[np.ndarray, np.ndarray, int]:
    """Weighted clicks c(k, k') and weights n(k, k') of the harvested interventions (positions 0-based)."""
    m = log.serps
    width = m.max_len
    mask = m.mask
    serp_q = m.query
    # Step 1: per (pair, position): impressions and clicks; per query: SERPs
    pair = m.pair[mask]
    pos = np.nonzero(mask)[1]
    clk = m.click[mask].astype(np.float64)
    key = pair.astype(np.int64) * width + pos
    uniq, inv = np.unique(key, return_inverse=True)
    n_imp = np.bincount(inv).astype(np.float64)
    n_clk = np.bincount(inv, weights=clk)
    u_pair, u_pos = uniq // width, uniq % width
    serps_per_query = np.bincount(serp_q, minlength=len(m.queries)).astype(np.float64)
    pair_query = pd.Index(m.queries).get_indexer(m.pair_qid)
    weight_q = serps_per_query[pair_query[u_pair]]               # n(q) of the pair's query
    ctr = n_clk / n_imp
    # Step 2: for every pair shown at two or more positions, all ordered (k, k') with k != k'
    order = np.argsort(u_pair, kind="stable")
    u_pair, u_pos, ctr, weight_q = u_pair[order], u_pos[order], ctr[order], weight_q[order]
    starts = np.flatnonzero(np.r_[True, u_pair[1:] != u_pair[:-1]])
    sizes = np.diff(np.r_[starts, len(u_pair)])
    c_kk = np.zeros(width * width)
    n_kk = np.zeros(width * width)
    for size in np.unique(sizes[sizes >= 2]):
        groups = starts[sizes == size]
        idx = groups[:, None] + np.arange(size)[None, :]            # (n_groups, size)
        P, C, W = u_pos[idx], ctr[idx], weight_q[idx]
        a, b = np.nonzero(~np.eye(size, dtype=bool))                 # every ordered pair of distinct slots
        cell = (P[:, a] * width + P[:, b]).ravel()
        c_kk += np.bincount(cell, weights=(W[:, a] * C[:, a]).ravel(), minlength=width * width)
        n_kk += np.bincount(cell, weights=W[:, a].ravel(), minlength=width * width)
    return c_kk.reshape(width, width), n_kk.reshape(width, width), width


def harvest_propensities(log: ClickLog, *, max_iter: int = 2000) -> Propensities:
    """Propensities by intervention harvesting and the AllPairs extremum estimator (Agarwal et al. 2019).

    Needs ranking variation: a (query, document) shown at different positions in different SERPs (logs of
    two or more rankers, or any changing ranking). Refuses logs that do not link every position to
    position 1 through such pairs.
    """
    from scipy.optimize import minimize
    from scipy.sparse.csgraph import connected_components

    c_kk, n_kk, width = _harvest_counts(log)
    linked = (n_kk > 0) | (n_kk.T > 0)
    if not linked.any():
        raise DataError("harvest_propensities: no (query, document) is shown at two different positions, so no "
                        "intervention can be harvested; it needs logs of two or more rankers (or any ranking "
                        "variation) on the same queries")
    _, comp = connected_components(linked.astype(int), directed=False)
    present = np.flatnonzero(linked.any(axis=1))
    if len(set(comp[present].tolist())) > 1 or 0 not in present:
        groups = {}
        for k in present:
            groups.setdefault(int(comp[k]), []).append(int(k) + 1)
        raise DataError(f"harvest_propensities: positions fall into groups that share no harvested intervention "
                        f"({list(groups.values())}); only ratios inside a group are identified")
    # parameters: log p_k for k >= 2 (p_1 = 1), logit r for k < k' with data
    iu = [(a, b) for a in range(width) for b in range(a + 1, width) if n_kk[a, b] > 0 or n_kk[b, a] > 0]
    ia = np.array([a for a, _ in iu], dtype=np.int64)
    ib = np.array([b for _, b in iu], dtype=np.int64)
    n_p = width - 1
    eps = 1e-9
    valid = n_kk > 0

    def unpack(theta):
        logp = np.r_[0.0, theta[:n_p]]
        r = 1.0 / (1.0 + np.exp(-theta[n_p:]))
        R = np.zeros((width, width))
        R[ia, ib] = r
        R[ib, ia] = r
        return logp, r, R

    def objective(theta):
        logp, r, R = unpack(theta)
        p = np.exp(logp)
        x = np.clip(p[:, None] * R, eps, 1 - eps)
        ll = np.where(valid, c_kk * np.log(x) + (n_kk - c_kk) * np.log1p(-x), 0.0).sum()
        dx = np.where(valid, c_kk / x - (n_kk - c_kk) / (1 - x), 0.0)
        g_logp = (dx * p[:, None] * R).sum(axis=1)               # d ll / d log p_k
        g_r = (dx[ia, ib] * p[ia] + dx[ib, ia] * p[ib]) * r * (1 - r)
        return -ll, -np.r_[g_logp[1:], g_r]

    # start: p_k from the CTR ratio of the harvested pairs, r from the pooled rates
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n_kk > 0, c_kk / n_kk, np.nan)
        start_p = np.array([np.nanmean(rate[k]) / np.nanmean(rate[0]) if np.isfinite(np.nanmean(rate[k])) else 0.5
                            for k in range(width)])
    start_p = np.clip(np.nan_to_num(start_p, nan=0.5), 1e-3, 1.0)
    start_r = np.array([np.clip((np.nansum([c_kk[a, b], c_kk[b, a]]) + 0.5)
                                / (np.nansum([n_kk[a, b] * start_p[a], n_kk[b, a] * start_p[b]]) + 1.0), 1e-3, 1 - 1e-3)
                        for a, b in iu])
    theta0 = np.r_[np.log(start_p[1:]), np.log(start_r / (1 - start_r))]
    bounds = [(np.log(1e-6), 0.0)] * n_p + [(None, None)] * len(iu)
    res = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": int(max_iter), "ftol": 1e-14, "gtol": 1e-10})
    if not res.success and "ABNORMAL" not in str(res.message).upper():
        raise DataError(f"harvest_propensities: the optimiser did not converge ({res.message})")
    logp, _, _ = unpack(res.x)
    return Propensities(values=np.exp(logp), stderr=None, method="harvest",
                        note=("intervention harvesting (Agarwal et al. 2019), AllPairs estimator: assumes the "
                              "position-based model and that the rankings differ for reasons unrelated to the "
                              "users; p_1 = 1 and p_k <= 1"))


def regression_em_propensities(log: ClickLog, *, features: pd.DataFrame | None = None, iterations: int = 50,
                               rounds: int = 100, num_leaves: int = 7, learning_rate: float = 0.2,
                               seed: int = 0, n_jobs: int = 1) -> Propensities:
    """Regression EM (Wang et al. 2018): PBM whose relevance is a GBDT of the (query, document) features.

    Parameters
    ----------
    log : ClickLog
    features : DataFrame with qid, docid and numeric feature columns, optional
        One row per (qid, docid) shown (e.g. ``RankingDataset.to_frame()`` without its label). None:
        relevance is one free parameter per pair (PBM's EM; needs ranking variation).
    iterations : int, default 50
        EM iterations.
    rounds, num_leaves, learning_rate : int, int, float, default 100, 7, 0.2
        The GBDT refitted in each M-step (LightGBM, ``objective="cross_entropy"``, weights = impressions per
        pair). Its fit limits the estimate: a relevance model too weak to follow relevance down the ranking
        leaves relevance at low positions too high and their examination too low.
    seed, n_jobs : int, default 0, 1
        LightGBM ``seed`` and ``num_threads`` (deterministic; one thread, since the M-step data are small
        and OpenMP threads spin on a busy machine).

    Raises
    ------
    DataError
        Without features, when the log does not link the positions through shared documents (then only
        products examination x relevance are identified; see :mod:`ltr.clicks.models.identification`).
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"iterations must be an int >= 1, got {iterations!r}")
    m = log.serps
    width = m.max_len
    mask = m.mask
    pair = m.pair[mask]
    pos = np.nonzero(mask)[1]
    clk = m.click[mask].astype(np.int64)
    # impressions counted per (pair, position, click)
    key = (pair.astype(np.int64) * width + pos) * 2 + clk
    uniq, count = np.unique(key, return_counts=True)
    count = count.astype(np.float64)
    c = (uniq % 2).astype(bool)
    up, uk = uniq // 2 // width, uniq // 2 % width
    n_pairs = m.n_pairs
    X = None
    if features is None:
        from ltr.clicks.models.identification import identify
        ident = identify(up, uk, list(range(1, width + 1)))
        if not ident.identified:
            raise DataError(f"regression_em_propensities without features: {ident.note}; or pass features, "
                            f"through which the relevance model links the positions")
    else:
        if QID not in features.columns or DOCID not in features.columns:
            raise SchemaError(f"features need qid and docid columns (found {list(features.columns)})")
        cols = [col for col in features.columns if col not in (QID, DOCID, "label")
                and pd.api.types.is_numeric_dtype(features[col])]
        if not cols:
            raise SchemaError("features have no numeric feature columns besides qid and docid")
        index = pd.MultiIndex.from_arrays([features[QID].astype(str), features[DOCID].astype(str)])
        if index.has_duplicates:
            raise DataError("features list a (qid, docid) more than once")
        where = index.get_indexer(pd.MultiIndex.from_arrays([m.pair_qid, m.pair_docid]))
        shown_pairs = np.unique(up)
        if np.any(where[shown_pairs] < 0):
            i = shown_pairs[where[shown_pairs] < 0][0]
            raise DataError(f"features lack {int((where[shown_pairs] < 0).sum())} shown pairs, e.g. "
                            f"({m.pair_qid[i]!r}, {m.pair_docid[i]!r})")
        X = features[cols].to_numpy(dtype=np.float32)[np.maximum(where, 0)]
    theta = np.full(width, 0.5)
    gamma = np.full(n_pairs, 0.5)
    pair_n = np.bincount(up, weights=count, minlength=n_pairs)
    pos_n = np.bincount(uk, weights=count, minlength=width)
    shown = pair_n > 0
    for _ in range(iterations):
        t, g = theta[uk], gamma[up]
        d = 1.0 - t * g
        post_e = np.where(c, 1.0, t * (1.0 - g) / d) * count
        post_r = np.where(c, 1.0, (1.0 - t) * g / d) * count
        theta = np.bincount(uk, weights=post_e, minlength=width) / np.maximum(pos_n, 1)
        target = np.bincount(up, weights=post_r, minlength=n_pairs) / np.maximum(pair_n, 1)
        if X is None:
            gamma = np.where(shown, target, 0.5)
        else:
            gamma = _fit_relevance(X[shown], target[shown], pair_n[shown], rounds=rounds, num_leaves=num_leaves,
                                   learning_rate=learning_rate, seed=seed, n_jobs=n_jobs, n_all=n_pairs,
                                   X_all=X)
        gamma = np.clip(gamma, 1e-6, 1 - 1e-6)
    note = ("regression EM (Wang et al. 2018): relevance is a function of the features only, so it cannot absorb "
            "position effects; identified as far as similar documents appear at different positions"
            if X is not None else
            "regression EM without features: one relevance per (query, document), i.e. PBM's EM; identified "
            "only through ranking variation")
    return Propensities(values=theta / theta[0], stderr=None, method="regression_em", note=note)


def _fit_relevance(X, target, weight, *, rounds, num_leaves, learning_rate, seed, n_jobs, n_all, X_all):
    import lightgbm as lgb

    params = {"objective": "cross_entropy", "num_leaves": int(num_leaves), "learning_rate": float(learning_rate),
              "min_data_in_leaf": 5, "verbose": -1, "seed": int(seed), "deterministic": True,
              "num_threads": int(n_jobs), "force_row_wise": True}
    data = lgb.Dataset(X, label=np.clip(target, 0.0, 1.0), weight=weight, free_raw_data=False)
    booster = lgb.train(params, data, num_boost_round=int(rounds))
    return booster.predict(X_all)

