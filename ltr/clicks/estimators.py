"""Counterfactual estimates of a ranker's click metric from a logged click log.

The estimand. A ranker ``pi`` shows the documents of query q in its order; its *click metric* on q is

    V(pi, q) = sum_{r <= top} lambda_r * gamma(q, pi_r(q))

where ``gamma(q, d)`` is the probability that a user who examines d clicks it (the attractiveness of the
position-based model, :mod:`ltr.clicks.simulate`) and ``lambda_r`` a rank weight: ``"dcg"`` (default,
``1 / log2(r + 1)``: a DCG whose gain is the click probability), ``"propensity"`` (the examination
propensities themselves: V is then the expected number of clicks pi would get from the logging users), or
any sequence of ``top`` weights. :func:`click_metric` computes V from known click probabilities (the
simulator's truth); the estimators below compute it from a log that another ranker (the production ranker)
collected, given examination propensities ``p_k`` per position (relative to position 1, as
:class:`ltr.clicks.propensity.Propensities` gives them; with relative propensities every estimate is
``p_1`` times the absolute one, which changes no comparison).

Per (query, document) of the log, with ``n_q`` the SERPs of q, ``N_qd`` the impressions of d, ``C_qd`` its
clicks and ``S_qd = sum_i c_i / p_{k_i}`` (its clicks weighted by the inverse propensity of where they
happened):

``ips`` (Joachims et al. 2017; the item-position IPS of Li et al. 2018)
    ``gamma_hat = S_qd / n_q``. Unbiased for gamma(q, d) under PBM when d was shown in every SERP of q (a
    deterministic logging ranker); a document shown in a share s of the SERPs is estimated by
    ``s * gamma``, and one never shown by 0. Optional clipping ``p -> max(p, clip)`` (Joachims et al. 2017)
    trades that unbiasedness for variance.
``snips`` (self-normalised IPS)
    The IPS value of each query rescaled so that the inverse-propensity weights of its clicks average one:
    ``V_snips(q) = V_ips(q) * C_q / sum_{clicks of q} 1 / p_k`` (the normalisation ULTR toolkits apply to
    the weights of clicked documents). It is a consistent estimator of ``V(pi, q) * kappa_q`` with
    ``kappa_q = sum_d rho_d gamma_d / sum_d gamma_d`` (rho_d: d's mean propensity in the log), a factor that
    depends on the query and the logging ranker but not on pi: it ranks the rankers of one query as IPS
    does, with less variance, and weights the queries differently.
``cm`` (click-model based, the "direct method")
    ``gamma_hat`` = the position-based model's maximum-likelihood attractiveness with the examination fixed
    at the given propensities (EM, Chuklin et al. 2015 section 3.3; with one position per document its
    closed form is ``min(CTR / p, 1)``). Biased where the cap binds, lower variance.
``dr`` (doubly robust)
    A reward model ``gamma_model(q, d)`` (any (qid, docid, attractiveness) frame: e.g. a regression of the
    IPS targets on features, which reaches documents the log never showed; default the ``cm`` estimates)
    corrected by the IPS residual on the impressions: ``gamma_hat = gamma_model + (S_qd - N_qd gamma_model)
    / N_qd`` where d was shown, ``gamma_model`` where it was not. Where d was shown the correction replaces
    the model entirely (``S_qd / N_qd``, unbiased whatever the model, also for documents shown in only some
    SERPs); where it was not, only the model speaks.

Which documents a method can learn about: IPS, SNIPS and CM only know the documents the logging ranker
showed (propensity 0 for the others: Oosterhuis and de Rijke 2020); DR extrapolates to the others through
its reward model, and is only as right there as that model. :func:`coverage` says, per query, which share
of a ranker's top was ever shown.

References
----------
Joachims, Swaminathan, Schnabel. Unbiased learning-to-rank with biased feedback. WSDM 2017.
Li, Kim, Kveton, Muthukrishnan, Vinay, Wen. Offline evaluation of ranking policies with click models. KDD 2018.
Dudik, Langford, Li. Doubly robust policy evaluation and learning. ICML 2011.
Oosterhuis, de Rijke. Policy-aware unbiased learning to rank for top-k rankings. SIGIR 2020.
Chuklin, Markov, de Rijke. Click Models for Web Search. Morgan & Claypool, 2015.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltr.clicks.log import ClickLog, SerpMatrix, as_serps
from ltr.clicks.simulate import ATTRACTIVENESS, rankings_from_run
from ltr.errors import ConfigError, DataError, SchemaError
from ltr.naming import select
from ltr.schema import DOCID, QID, require_columns

__all__ = ["ESTIMATORS", "WEIGHTS", "PairStatistics", "pair_statistics", "rank_weights", "click_metric",
           "estimate_click_metric", "estimate_all", "coverage", "attractiveness_estimates"]

ESTIMATORS = {
    "ips": "inverse propensity scoring per SERP of the query (unbiased for documents shown in every SERP)",
    "snips": "IPS with each query's click weights self-normalised (consistent for V * kappa_q, see the module)",
    "cm": "position-based click model's attractiveness with the examination fixed at the propensities",
    "dr": "doubly robust: a reward model corrected by the IPS residual where the document was shown",
}
"""Estimator names and what each estimates."""

WEIGHTS = {"dcg": "1 / log2(r + 1)", "propensity": "the examination propensity of rank r (expected clicks)"}
"""Named rank weights ``lambda_r``."""

ESTIMATE = "estimate"


def rank_weights(weights, top: int, propensities=None) -> np.ndarray:
    """``lambda_1 .. lambda_top`` from a name of :data:`WEIGHTS` or a sequence of ``top`` numbers."""
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ConfigError(f"top must be an int >= 1, got {top!r}")
    if isinstance(weights, str):
        select(WEIGHTS, weights, what="rank weights")
        if weights == "dcg":
            return 1.0 / np.log2(np.arange(2, top + 2))
        if propensities is None:
            raise ConfigError("weights='propensity' needs the propensities")
        p = _propensity_values(propensities)
        if len(p) < top:
            raise ConfigError(f"weights='propensity' needs propensities for ranks 1..{top}, got {len(p)}")
        return p[:top].copy()
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (top,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ConfigError(f"weights must be 'dcg', 'propensity' or {top} finite numbers >= 0 (one per rank), "
                          f"got {weights!r}")
    return w


def _propensity_values(propensities) -> np.ndarray:
    values = getattr(propensities, "values", propensities)
    p = np.asarray(values, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ConfigError(f"propensities must be positive finite numbers, one per position 1..n (a Propensities "
                          f"or an array), got {values!r}; a position of propensity 0 is never examined and "
                          f"no estimator can correct it")
    return p


@dataclass(frozen=True, eq=False)
class PairStatistics:
    """The sufficient statistics of a log for the estimators, per (query, document) shown.

    Attributes
    ----------
    qid, docid : ndarray of str
        The pairs shown at least once.
    impressions, clicks : ndarray of int64
        ``N_qd`` and ``C_qd``.
    weighted_clicks : ndarray of float64
        ``S_qd = sum over clicks of 1 / p_k`` (clipped propensities).
    exposure : ndarray of float64
        ``sum over impressions of p_k`` (the document's expected examinations, clipped propensities).
    query_serps : Series
        ``n_q``, SERPs per query (index qid).
    counts : DataFrame
        pair index, position (1-based), impressions, clicks: for the click-model estimate.
    propensities : ndarray
        The (clipped) propensities used, per position.
    """

    qid: np.ndarray
    docid: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    weighted_clicks: np.ndarray
    exposure: np.ndarray
    query_serps: pd.Series
    counts: pd.DataFrame
    propensities: np.ndarray

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({QID: self.qid, DOCID: self.docid, "impressions": self.impressions,
                             "clicks": self.clicks, "weighted_clicks": self.weighted_clicks,
                             "exposure": self.exposure})


def pair_statistics(log, propensities, *, clip: float | None = None) -> PairStatistics:
    """Per shown (query, document): impressions, clicks, inverse-propensity-weighted clicks and exposure.

    Parameters
    ----------
    log : ClickLog or SerpMatrix
    propensities : Propensities or array of shape (n_positions,)
        Examination per position 1..n (n at least the log's deepest position).
    clip : float in (0, 1], optional
        Propensities below ``clip`` count as ``clip`` (Joachims et al. 2017's clipping); None: no clipping.
    """
    if not isinstance(log, (ClickLog, SerpMatrix)):
        raise SchemaError(f"the estimators take a ClickLog (or its SerpMatrix), got {type(log).__name__}")
    m = as_serps(log)
    if m.n_serps == 0:
        raise DataError("the click log has no SERPs: nothing to estimate from")
    p = _propensity_values(propensities)
    if clip is not None:
        if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not 0 < clip <= 1:
            raise ConfigError(f"clip must be a float in (0, 1] or None, got {clip!r}")
        p = np.maximum(p, float(clip))
    width = m.max_len
    if len(p) < width:
        raise ConfigError(f"the log shows positions up to {width}, but propensities cover 1..{len(p)}; give one "
                          f"propensity per position shown")
    mask = m.mask
    pair = m.pair[mask]
    pos = np.nonzero(mask)[1]
    clk = m.click[mask]
    n = m.n_pairs
    impressions = np.bincount(pair, minlength=n).astype(np.int64)
    clicks = np.bincount(pair, weights=clk, minlength=n).astype(np.int64)
    weighted = np.bincount(pair, weights=clk / p[pos], minlength=n)
    exposure = np.bincount(pair, weights=p[pos], minlength=n)
    key = (pair.astype(np.int64) * width + pos) * 2 + clk.astype(np.int64)
    uniq, count = np.unique(key, return_counts=True)
    counts = pd.DataFrame({"pair": uniq // 2 // width, "position": uniq // 2 % width + 1,
                           "click": (uniq % 2).astype(bool), "n": count.astype(np.int64)})
    serps = pd.Series(np.bincount(m.query, minlength=len(m.queries)).astype(np.int64),
                      index=pd.Index(np.asarray(m.queries, dtype=object), name=QID))
    shown = impressions > 0
    keep = np.flatnonzero(shown)
    remap = np.full(n, -1)
    remap[keep] = np.arange(len(keep))
    counts["pair"] = remap[counts["pair"].to_numpy()]
    return PairStatistics(qid=np.asarray(m.pair_qid, dtype=object)[keep],
                          docid=np.asarray(m.pair_docid, dtype=object)[keep], impressions=impressions[keep],
                          clicks=clicks[keep], weighted_clicks=weighted[keep], exposure=exposure[keep],
                          query_serps=serps[serps > 0], counts=counts, propensities=p)


def attractiveness_estimates(stats: PairStatistics, *, iterations: int = 200) -> np.ndarray:
    """PBM maximum-likelihood attractiveness per shown pair with the examination fixed at the propensities.

    EM on ``P(click) = p_k * alpha`` with p known: for an impression without a click the posterior that the
    document is attractive is ``(1 - p_k) alpha / (1 - p_k alpha)``; ``alpha <- (C + sum of those) / N``.
    Starts at ``min(CTR / mean p, 1)`` (the closed form when every impression has one propensity, which EM
    keeps) and stays in [0, 1].
    """
    p = stats.propensities
    c = stats.counts
    pair = c["pair"].to_numpy()
    pk = p[c["position"].to_numpy() - 1]
    clicked = c["click"].to_numpy()
    n = c["n"].to_numpy().astype(np.float64)
    size = len(stats.qid)
    N = stats.impressions.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.clip(stats.clicks / stats.exposure, 0.0, 1.0)
    for _ in range(int(iterations)):
        a = alpha[pair]
        post = np.where(clicked, 1.0, (1.0 - pk) * a / np.maximum(1.0 - pk * a, 1e-300)) * n
        alpha = np.bincount(pair, weights=post, minlength=size) / N
    # a pair shown at one position only: EM's fixed point in closed form (EM approaches it slowly at the cap)
    one = pd.Series(c["position"].to_numpy()).groupby(pair).nunique().reindex(range(size)).to_numpy() == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha[one] = np.clip(stats.clicks[one] / stats.exposure[one], 0.0, 1.0)
    return alpha


def _ranked(run: pd.DataFrame, top: int) -> pd.DataFrame:
    """qid, docid, rank (1..top) of a run's top (ties by descending docid, as trec_eval and the simulator)."""
    require_columns(run, (QID, DOCID, "score"), caller="estimate_click_metric")
    rk = rankings_from_run(run, top=top, name="ranker")
    rows, cols = np.nonzero(rk.docs >= 0)
    return pd.DataFrame({QID: rk.queries[rows], DOCID: rk.docids[rk.docs[rows, cols]], "rank": cols + 1})


def click_metric(run: pd.DataFrame, probabilities: pd.DataFrame, *, weights="dcg", top: int = 10,
                 propensities=None) -> pd.DataFrame:
    """The true click metric ``V(pi, q)`` of a run from known click probabilities (e.g. the simulator's).

    Parameters
    ----------
    run : RUN frame (qid, docid, score)
    probabilities : DataFrame with qid, docid, attractiveness
        Documents without a row count as attractiveness 0.
    weights, top, propensities
        As :func:`estimate_click_metric`.

    Returns
    -------
    DataFrame
        qid, value: one row per query of the run.
    """
    require_columns(probabilities, (QID, DOCID, ATTRACTIVENESS), caller="click_metric")
    lam = rank_weights(weights, top, propensities)
    ranked = _ranked(run, top)
    probs = probabilities[[QID, DOCID, ATTRACTIVENESS]].astype({QID: str, DOCID: str})
    merged = ranked.merge(probs.drop_duplicates([QID, DOCID]), on=[QID, DOCID], how="left")
    merged["v"] = lam[merged["rank"].to_numpy() - 1] * merged[ATTRACTIVENESS].fillna(0.0).to_numpy()
    out = merged.groupby(QID, sort=False)["v"].sum().rename("value").reset_index()
    return out


def coverage(log, run: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """Per query of the log and the run: the share of the run's top ``top`` that the log ever showed."""
    m = as_serps(log)
    ranked = _ranked(run, top)
    shown = pd.MultiIndex.from_arrays([np.asarray(m.pair_qid, dtype=object), np.asarray(m.pair_docid, dtype=object)])
    ranked["shown"] = shown.get_indexer(pd.MultiIndex.from_arrays([ranked[QID], ranked[DOCID]])) >= 0
    logged = set(np.asarray(m.queries, dtype=object)[np.unique(m.query)])
    ranked = ranked[ranked[QID].isin(logged)]
    return ranked.groupby(QID, sort=False)["shown"].mean().rename("coverage").reset_index()


def _gamma(estimator, stats: PairStatistics, model: pd.DataFrame | None, unshown: float):
    """Per-pair estimate for shown pairs and the value of unshown pairs (a lookup frame, or a constant)."""
    n_q = stats.query_serps.reindex(stats.qid).to_numpy().astype(np.float64)
    if estimator in ("ips", "snips"):
        return stats.weighted_clicks / n_q, None
    alpha = attractiveness_estimates(stats)
    if estimator == "cm":
        return alpha, None
    # dr: the model where nothing was shown, the IPS residual correction where something was
    if model is None:
        reward = pd.DataFrame({QID: stats.qid, DOCID: stats.docid, ATTRACTIVENESS: alpha})
    else:
        require_columns(model, (QID, DOCID, ATTRACTIVENESS), caller="estimate_click_metric(estimator='dr')")
        reward = model[[QID, DOCID, ATTRACTIVENESS]].astype({QID: str, DOCID: str})
        if reward.duplicated([QID, DOCID]).any():
            raise DataError("the dr reward model lists a (qid, docid) more than once")
        values = pd.to_numeric(reward[ATTRACTIVENESS], errors="coerce").to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise DataError("the dr reward model has non-numeric or non-finite attractiveness values")
    index = pd.MultiIndex.from_arrays([reward[QID].to_numpy(dtype=object), reward[DOCID].to_numpy(dtype=object)])
    where = index.get_indexer(pd.MultiIndex.from_arrays([stats.qid, stats.docid]))
    g_model = np.where(where >= 0, reward[ATTRACTIVENESS].to_numpy(dtype=np.float64)[np.maximum(where, 0)], unshown)
    N = stats.impressions.astype(np.float64)
    # the residual sum_i (c_i - p_k g) / p_k = S - N g, averaged over the impressions (so, S / N)
    shown_gamma = g_model + (stats.weighted_clicks - N * g_model) / N
    return shown_gamma, reward


def estimate_click_metric(log, run: pd.DataFrame, propensities, *, estimator: str = "ips", weights="dcg",
                          top: int = 10, clip: float | None = None, model: pd.DataFrame | None = None,
                          unshown: float = 0.0, stats: PairStatistics | None = None) -> pd.DataFrame:
    """Estimate ``V(pi, q)`` of the ranker that produced ``run`` from a click log another ranker collected.

    Parameters
    ----------
    log : ClickLog
        The logged sessions (any ranker, any user; the estimators assume position-based examination).
    run : RUN frame (qid, docid, score)
        The ranker under evaluation, on (at least) the log's queries.
    propensities : Propensities or array
        Examination per position (true or estimated; see :mod:`ltr.clicks.propensity`).
    estimator : {"ips", "snips", "cm", "dr"}, default "ips"
        See the module docstring and :data:`ESTIMATORS`.
    weights : "dcg", "propensity" or sequence of ``top`` floats, default "dcg"
    top : int, default 10
    clip : float, optional
        Propensity clipping (IPS, SNIPS, DR's correction).
    model : DataFrame with qid, docid, attractiveness, optional
        DR's reward model (default: the ``cm`` estimates on shown pairs, ``unshown`` elsewhere).
    unshown : float, default 0.0
        Value of a document the log never showed, for ``cm`` and for ``dr`` pairs its model lacks.
    stats : PairStatistics, optional
        Precomputed :func:`pair_statistics` of (log, propensities, clip), to evaluate many rankers at once.

    Returns
    -------
    DataFrame
        qid, estimate: one row per query that is both in the log and in the run, in the log's query order.
    """
    select(ESTIMATORS, estimator, what="click-metric estimator")
    if isinstance(unshown, bool) or not isinstance(unshown, (int, float)) or not np.isfinite(unshown):
        raise ConfigError(f"unshown must be a finite number, got {unshown!r}")
    if stats is None:
        stats = pair_statistics(log, propensities, clip=clip)
    lam = rank_weights(weights, top, stats.propensities if propensities is None else propensities)
    gamma, reward = _gamma(estimator, stats, model, float(unshown))
    ranked = _ranked(run, top)
    queries = stats.query_serps.index
    ranked = ranked[ranked[QID].isin(set(queries))]
    index = pd.MultiIndex.from_arrays([stats.qid, stats.docid])
    where = index.get_indexer(pd.MultiIndex.from_arrays([ranked[QID].to_numpy(dtype=object),
                                                         ranked[DOCID].to_numpy(dtype=object)]))
    g = np.where(where >= 0, gamma[np.maximum(where, 0)], float(unshown))
    if reward is not None:      # dr: unshown documents take the reward model's value
        r_index = pd.MultiIndex.from_arrays([reward[QID].to_numpy(dtype=object), reward[DOCID].to_numpy(dtype=object)])
        r_where = r_index.get_indexer(pd.MultiIndex.from_arrays([ranked[QID].to_numpy(dtype=object),
                                                                 ranked[DOCID].to_numpy(dtype=object)]))
        r_val = reward[ATTRACTIVENESS].to_numpy(dtype=np.float64)
        fill = np.where(r_where >= 0, r_val[np.maximum(r_where, 0)], float(unshown))
        g = np.where(where >= 0, g, fill)
    ranked = ranked.assign(v=lam[ranked["rank"].to_numpy() - 1] * g)
    per_q = ranked.groupby(QID, sort=False)["v"].sum()
    in_run = [q for q in queries if q in per_q.index]
    out = pd.DataFrame({QID: pd.Series(in_run, dtype=object), ESTIMATE: per_q.reindex(in_run).to_numpy()})
    if estimator == "snips":
        q_of = pd.Series(stats.qid)
        C = pd.Series(stats.clicks).groupby(q_of).sum()
        S = pd.Series(stats.weighted_clicks).groupby(q_of).sum()
        factor = (C / S).reindex(in_run).fillna(0.0).to_numpy()
        out[ESTIMATE] = out[ESTIMATE].to_numpy() * factor
    if out.empty:
        raise DataError("the run ranks none of the log's queries: nothing to estimate (give the run of the "
                        "ranker under evaluation on the logged queries)")
    return out


def estimate_all(log, runs: dict, propensities, *, estimators=tuple(ESTIMATORS), weights="dcg", top: int = 10,
                 clip: float | None = None, model: pd.DataFrame | None = None, unshown: float = 0.0
                 ) -> pd.DataFrame:
    """Every estimator on every run: system, estimator, qid, estimate (the log's statistics computed once)."""
    if not isinstance(runs, dict) or not runs:
        raise ConfigError("runs must be a non-empty dict of system name -> RUN frame")
    stats = pair_statistics(log, propensities, clip=clip)
    parts = []
    for name, run in runs.items():
        for est in estimators:
            frame = estimate_click_metric(log, run, propensities, estimator=est, weights=weights, top=top,
                                          model=model, unshown=unshown, stats=stats)
            parts.append(frame.assign(system=str(name), estimator=est))
    out = pd.concat(parts, ignore_index=True)
    return out[["system", "estimator", QID, ESTIMATE]]
