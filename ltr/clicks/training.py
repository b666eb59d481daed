"""Training sets from click logs: a log joined to the features of its (qid, docid) pairs.

Two shapes, one call (:func:`click_training_set`):

- **aggregated** (``aggregate=True``, the default): one row per (qid, docid) shown at least once, in the
  row order of the feature set (each query one block). ``labels`` are the click-through rates
  (clicks / impressions, real in [0, 1]); ``RankingDataset.clicks`` (:class:`ltr.ranking.ClickCounts`) keeps
  the clicks and impressions at every position and the propensities, from which the IPS objectives
  (``ips_binary``, ``ips_ranknet``; :mod:`ltr.objectives.unbiased`) compute their labels. Size: the shown
  pairs (about 10 rows per query of a top-10 log), whatever the number of sessions.
- **per impression** (``aggregate=False``): one row per impression, one group per SERP in display order
  (XGBoost's convention for ``lambdarank_unbiased``), ``labels`` the clicks (0/1), ``positions`` the
  display positions (LightGBM's ``Dataset(position=...)`` for ``lambdarank_position``). Qids are SERP ids
  ``"<qid>|<session>"`` (two SERPs of one query are two groups). Size: the impressions (10^6 top-10
  sessions are 10^7 rows).

Naive click training is either set with an existing objective (``binary``, ``ranknet``, ``lambdarank`` on
the per-impression clicks; ``ranknet`` or ``regression`` on the aggregated click rates).

Which documents a click-trained model can learn about: only those shown (documents below the logged top k
have no impression: propensity 0, outside what IPS corrects; Oosterhuis and de Rijke 2020). The aggregated
set holds only shown documents unless ``include_unshown=True`` (then never-shown documents of the logged
queries come with zero counts and label 0).

Validation and test sets are the caller's choice, stated where used: the true labels of held-out queries
(the LETOR fold's ``vali.txt`` / ``test.txt``), or a click set of held-out queries built the same way.
:func:`true_label_set` gives the full-information counterpart of a click set: the same rows with their true
labels (training on the true labels of the same queries is one call).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltr.clicks.log import ClickLog
from ltr.errors import ConfigError, DataError, SchemaError
from ltr.ranking import ClickCounts, RankingDataset

__all__ = ["click_training_set", "true_label_set", "SERP_SEPARATOR"]

SERP_SEPARATOR = "|"
"""Separator of the SERP ids ``"<qid>|<session>"`` of per-impression click sets."""


def _features(features) -> RankingDataset:
    if isinstance(features, RankingDataset):
        return features
    if isinstance(features, (str, bytes)) or hasattr(features, "__fspath__"):
        from ltr.io import read_letor
        return read_letor(features)
    raise SchemaError(f"features must be a RankingDataset (e.g. ltr.io.read_letor(path)) or a LETOR path; got "
                      f"{type(features).__name__}")


def _propensity_values(propensities, width: int):
    """``(values or None, source)`` from None, an array of p_k / p_1 or a Propensities estimate."""
    if propensities is None:
        return None, ""
    source = "given"
    if hasattr(propensities, "values") and hasattr(propensities, "method"):
        source = f"estimate: {propensities.method}"
        propensities = propensities.values
    p = np.asarray(propensities, dtype=np.float64).reshape(-1)
    if p.shape[0] < width:
        raise ConfigError(f"propensities cover positions 1..{p.shape[0]} but the log shows documents at positions "
                          f"up to {width}; give one propensity per position")
    if np.any(~np.isfinite(p)) or np.any(p < 0):
        raise ConfigError("propensities must be finite and >= 0 (relative examination p_k / p_1)")
    return p[:width], source


def _pair_rows(log: ClickLog, feats: RankingDataset) -> tuple:
    """The SERP matrix and, for every pair of the log, its row in ``feats`` (refusing pairs without one)."""
    if not isinstance(log, ClickLog):
        raise SchemaError(f"click_training_set takes a ClickLog, got {type(log).__name__}")
    m = log.serps
    index = pd.MultiIndex.from_arrays([pd.Index(feats.qids, dtype=object), pd.Index(feats.docids, dtype=object)])
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise DataError(f"{feats.name} has (qid, docid) {dup} on several rows; a click can only be joined to one "
                        f"feature row. Give every document of a query a distinct docid")
    look = pd.MultiIndex.from_arrays([pd.Index(np.asarray(m.pair_qid, dtype=object).astype(str), dtype=object),
                                      pd.Index(np.asarray(m.pair_docid, dtype=object).astype(str), dtype=object)])
    rows = index.get_indexer(look)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        i = int(missing[0])
        raise DataError(f"{missing.size} (qid, docid) pairs of the click log {log.source!r} have no feature row in "
                        f"{feats.name}, e.g. qid {m.pair_qid[i]!r}, docid {m.pair_docid[i]!r}. The log and the "
                        f"features must describe the same documents (a log simulated from another fold?)")
    return m, rows.astype(np.int64)


def click_training_set(log: ClickLog, features, *, aggregate: bool = True, propensities=None,
                       include_unshown: bool = False, name: str | None = None) -> RankingDataset:
    """A training set whose labels are clicks: ``log`` joined to the features of its (qid, docid) pairs.

    Parameters
    ----------
    log : ClickLog
        E.g. ``production_protocol(...).log`` or :func:`ltr.clicks.read_clicks`.
    features : RankingDataset or path
        Features of every shown (qid, docid) (a LETOR fold: :func:`ltr.io.read_letor`). A shown pair without
        a feature row is a DataError naming it.
    aggregate : bool, default True
        One row per shown (qid, docid) with counts per position (True), or one row per impression with
        groups = SERPs in display order (False). See the module docstring.
    propensities : None, array of shape (n_positions,), or ltr.clicks.propensity.Propensities
        Relative examination ``p_k / p_1`` (e.g. ``ProtocolResult.propensities``, the simulator's truth, or
        an estimate); kept in ``ds.clicks`` for the IPS objectives (aggregated sets only).
    include_unshown : bool, default False
        Aggregated sets: also keep the documents of the logged queries that were never shown (zero counts).
    name : str, optional

    Returns
    -------
    RankingDataset
        Aggregated: ``labels`` = CTR, ``clicks`` set, ``positions`` None. Per impression: ``labels`` = click,
        ``positions`` set, ``clicks`` None, qids ``"<qid>|<session>"``.

    Examples
    --------
    >>> out = production_protocol(train, sessions=100_000, user="pbm(eta=1)")              # doctest: +SKIP
    >>> ds = click_training_set(out.log, train, propensities=out.propensities)              # doctest: +SKIP
    >>> Ranker(objective="ips_ranknet").fit(ds, valid=vali)                                 # doctest: +SKIP
    """
    feats = _features(features)
    m, pair_row = _pair_rows(log, feats)
    width = int(m.max_len)
    mask = m.mask
    label = name or f"clicks({log.source}) x {feats.name}"
    if not aggregate:
        if propensities is not None:
            raise ConfigError("propensities are kept by aggregated click sets only (the IPS objectives); a "
                              "per-impression set is for lambdarank_unbiased / lambdarank_position, which "
                              "estimate the position bias themselves")
        if include_unshown:
            raise ConfigError("include_unshown applies to aggregated click sets; a per-impression set has one "
                              "row per document shown")
        pairs = m.pair[mask]                                  # row-major: SERP by SERP, in display order
        rows = pair_row[pairs]
        serp_of = np.repeat(np.arange(m.n_serps), m.length)
        sessions = _serp_sessions(log)
        serp_ids = np.asarray([f"{q}{SERP_SEPARATOR}{s}" for q, s in
                               zip(np.asarray(m.queries, dtype=object)[m.query], sessions)], dtype=object)
        positions = (np.nonzero(mask)[1] + 1).astype(np.int32)
        return RankingDataset(feats.X[rows], m.click[mask].astype(np.float64), serp_ids[serp_of],
                              np.asarray(m.pair_docid, dtype=object)[pairs], list(feats.feature_names),
                              name=label, positions=positions)
    # Step 1: clicks and impressions per (pair, position), one bincount each (O(impressions))
    pos = np.broadcast_to(np.arange(width)[None, :], mask.shape)[mask]
    pairs = m.pair[mask]
    key = pairs * width + pos
    n_pairs = m.n_pairs
    impressions = np.bincount(key, minlength=n_pairs * width).reshape(n_pairs, width)
    clicks = np.bincount(key, weights=m.click[mask], minlength=n_pairs * width).reshape(n_pairs, width)
    # Step 2: rows in the features' order, restricted to the logged queries
    if include_unshown:
        logged = set(np.asarray(m.queries, dtype=object)[np.unique(m.query)].astype(str).tolist())
        keep = np.flatnonzero(np.fromiter((q in logged for q in feats.qids), bool, len(feats.qids)))
    else:
        keep = np.unique(pair_row)
    where = np.full(len(feats.qids), -1, dtype=np.int64)
    where[pair_row] = np.arange(n_pairs)
    src = where[keep]
    shown = src >= 0
    C = np.zeros((len(keep), width), dtype=np.int64)
    N = np.zeros((len(keep), width), dtype=np.int64)
    C[shown] = clicks[src[shown]].astype(np.int64)
    N[shown] = impressions[src[shown]]
    n_shown = N.sum(axis=1)
    ctr = np.where(n_shown > 0, C.sum(axis=1) / np.maximum(n_shown, 1), 0.0)
    values, source = _propensity_values(propensities, width)
    counts = ClickCounts(C, N, values, source)
    ds = feats.take(keep)
    return RankingDataset(ds.X, ctr, ds.qids, ds.docids, list(ds.feature_names), name=label, clicks=counts)


def _serp_sessions(log: ClickLog) -> np.ndarray:
    """One session id (str) per SERP, in SERP order."""
    if log._frame is None and log._matrix is not None:        # a simulated log: no frame built for this
        if log._session_ids is None:
            return np.arange(log._matrix.n_serps).astype(str).astype(object)
        return np.asarray(log._session_ids, dtype=object).astype(str)
    f = log.frame
    starts = np.flatnonzero(f["position"].to_numpy() == 1)
    return np.asarray(f["session"].to_numpy()[starts], dtype=object).astype(str)


def true_label_set(clicks, features, *, include_unshown: bool = False, name: str | None = None) -> RankingDataset:
    """The full-information counterpart of a click set: the same (qid, docid) rows with their true labels.

    Parameters
    ----------
    clicks : RankingDataset (an aggregated click set) or ClickLog
        A log gives the rows :func:`click_training_set` would give it (shown pairs, or every document of the
        logged queries with ``include_unshown``).
    features : RankingDataset or path
        The labelled features (the LETOR fold the log was simulated on).

    Returns
    -------
    RankingDataset
        Same rows and order as the aggregated click set; labels from ``features``; no click data.
    """
    feats = _features(features)
    if isinstance(clicks, ClickLog):
        clicks = click_training_set(clicks, feats, include_unshown=include_unshown)
    if not isinstance(clicks, RankingDataset):
        raise SchemaError(f"true_label_set takes an aggregated click set or a ClickLog, got {type(clicks).__name__}")
    if clicks.positions is not None:
        raise ConfigError("true_label_set takes an aggregated click set (one row per (qid, docid)); a per-impression "
                          "set repeats documents per SERP. Pass the log itself: true_label_set(log, features)")
    index = pd.MultiIndex.from_arrays([pd.Index(feats.qids, dtype=object), pd.Index(feats.docids, dtype=object)])
    rows = index.get_indexer(pd.MultiIndex.from_arrays([pd.Index(clicks.qids, dtype=object),
                                                        pd.Index(clicks.docids, dtype=object)]))
    if np.any(rows < 0):
        i = int(np.flatnonzero(rows < 0)[0])
        raise DataError(f"{int((rows < 0).sum())} rows of {clicks.name} are not in {feats.name}, e.g. qid "
                        f"{clicks.qids[i]!r}, docid {clicks.docids[i]!r}")
    return RankingDataset(clicks.X, feats.labels[rows], clicks.qids, clicks.docids, list(clicks.feature_names),
                          name=name or f"true labels of {clicks.name}")
