"""Click simulation: user models, relevance -> click probability, interventions, seeded sampling.

Sessions are drawn from a ranking (a TREC run, or a ranker's output: a RUN frame ``qid, docid, score``)
and per-(query, document) click probabilities given examination, usually derived from relevance labels:

- ``graded`` (Ai et al. 2018): ``P(click | examined, y) = eps + (1 - eps) (2^y - 1) / (2^y_max - 1)``,
  default eps = 0.1 and y_max = the largest label in the qrels (2 for MQ2008);
- ``binary`` (Joachims et al. 2017): ``eps_plus`` (default 1.0) if ``y >= threshold`` (default 1) else
  ``eps_minus`` (default 0.1). Joachims et al. binarised Yahoo's 0-4 labels at 3; pass ``threshold=3`` there.

Documents of the ranking without a qrel count as label 0 (not relevant).

User models (registry :data:`USER_MODELS`, names with parameters such as ``"pbm(eta=2)"``):

- ``pbm(eta=1.0)``: position k examined with ``(1/k)^eta`` (Joachims et al. 2017), independently of clicks;
- ``cascade``: the user scans from the top and leaves after the first click (Craswell et al. 2008);
- ``dbn(gamma=0.9)``: after no click, or a click that does not satisfy, the user goes on with ``gamma``; a
  click satisfies with the document's satisfaction (Chapelle and Zhang 2009). From labels, satisfaction is
  the graded mapping without noise, ``(2^y - 1) / (2^y_max - 1)``;
- ``ubm(eta=1.0)``: position r is examined with ``gamma[r, r']`` where r' is the previous click (0 = none;
  Dupret and Piwowarski 2008); by default ``gamma[r, r'] = (1 / (r - r'))^eta``, which is PBM's
  ``(1/r)^eta`` until the first click. A full matrix can be given.

Interventions (Joachims et al. 2017; Wang et al. 2016), applied to the top ``top`` results before the user
sees them, with the original position kept in the log's ``original_position`` column:

- ``swap``: each session draws a partner k uniformly from 1..n (n = results shown) and swaps positions 1
  and k; k = 1 leaves the ranking as it is (the control arm);
- ``randomize(k=None)``: the first k results (default: all shown) in uniformly random order (RandTop-k).

Determinism: sessions are drawn in fixed blocks of :data:`BLOCK` sessions, block b from
``numpy.random.SeedSequence(seed).spawn(...)[b]`` (PCG64), so the same seed and inputs give the same log,
bit for bit, whatever the number of threads (``n_jobs`` only decides how many blocks run at once).

References
----------
Ai, Bi, Luo, Guo, Croft. Unbiased learning to rank with unbiased propensity estimation. SIGIR 2018.
Joachims, Swaminathan, Schnabel. Unbiased learning-to-rank with biased feedback. WSDM 2017.
Chapelle, Zhang. A dynamic Bayesian network click model for web search ranking. WWW 2009.
Dupret, Piwowarski. A user browsing model to predict search engine click data. SIGIR 2008.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ltr.clicks.log import ORIGINAL_POSITION, RANKER, ClickLog, SerpMatrix
from ltr.errors import ConfigError, DataError, SchemaError
from ltr.naming import check_params, format_spec, parse_spec, select
from ltr.schema import DOCID, LABEL, QID, SCORE, require_columns

__all__ = ["BLOCK", "USER_MODELS", "MAPPINGS", "INTERVENTIONS", "Graded", "Binary", "PBMUser", "CascadeUser",
           "DBNUser", "UBMUser", "Swap", "Randomize", "get_user_model", "get_mapping", "get_intervention",
           "click_probabilities", "rankings_from_run", "Rankings", "simulate", "simulate_from_qrels"]

BLOCK = 1 << 16
"""Sessions per random block (fixed: the output must not depend on the number of threads)."""

ATTRACTIVENESS, SATISFACTION = "attractiveness", "satisfaction"


# ---------------------------------------------------------------------------------------------------
# Small named objects with printable, parseable identities (like the objective and metric registries)
# ---------------------------------------------------------------------------------------------------
class _Named:
    name: ClassVar[str] = ""

    def _params(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def __repr__(self) -> str:
        defaults = {k: f.default for k, f in self.__dataclass_fields__.items()}
        return format_spec(self.name, self._params(), defaults=defaults)


def _from_spec(spec, table: dict, what: str):
    if not isinstance(spec, str):
        if any(isinstance(spec, cls) for cls in table.values()):
            return spec
        raise ConfigError(f"a {what} must be a name such as {sorted(table)[0]!r} or one of "
                          f"{[c.__name__ for c in table.values()]}, got {type(spec).__name__}")
    parsed = parse_spec(spec, what=what)
    cls = select(table, parsed.name, what=what)
    check_params(parsed.params, list(cls.__dataclass_fields__), owner=f"{what} {parsed.name!r}")
    return cls(**parsed.params)


def _unit(value, key, owner, *, open_low=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0 or value > 1 or (open_low and value == 0):
        raise ConfigError(f"The {key!r} parameter of {owner} must be a float in "
                          f"{'(0, 1]' if open_low else '[0, 1]'}. Got {value!r} instead.")
    return float(value)


# ---------------------------------------------------------------------------------------------------
# Relevance -> click probability given examination
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Graded(_Named):
    """``eps + (1 - eps) (2^y - 1) / (2^y_max - 1)`` (Ai et al. 2018); y_max None = the largest label."""

    name: ClassVar[str] = "graded"
    eps: float = 0.1
    y_max: float | None = None

    def __post_init__(self):
        _unit(self.eps, "eps", "graded")

    def __call__(self, labels: np.ndarray, y_max: float) -> np.ndarray:
        y_max = self.y_max if self.y_max is not None else y_max
        if y_max <= 0:
            return np.full(labels.shape, self.eps)
        return self.eps + (1 - self.eps) * (np.exp2(labels) - 1) / (2.0 ** y_max - 1)


@dataclass(frozen=True, repr=False)
class Binary(_Named):
    """``eps_plus`` if ``y >= threshold`` else ``eps_minus`` (Joachims et al. 2017)."""

    name: ClassVar[str] = "binary"
    eps_plus: float = 1.0
    eps_minus: float = 0.1
    threshold: float = 1

    def __post_init__(self):
        _unit(self.eps_plus, "eps_plus", "binary")
        _unit(self.eps_minus, "eps_minus", "binary")

    def __call__(self, labels: np.ndarray, y_max: float) -> np.ndarray:
        return np.where(labels >= self.threshold, self.eps_plus, self.eps_minus)


MAPPINGS = {"graded": Graded, "binary": Binary}
"""Relevance -> click-probability mappings by name."""


def get_mapping(spec) -> Graded | Binary:
    """``"graded"``, ``"graded(eps=0.2, y_max=4)"``, ``"binary(eps_minus=0.05)"`` or a mapping object."""
    return _from_spec(spec, MAPPINGS, "relevance mapping")


def click_probabilities(pairs: pd.DataFrame, qrels: pd.DataFrame, *, mapping="graded") -> pd.DataFrame:
    """Attractiveness (and, for DBN users, satisfaction) of each (qid, docid) from relevance labels.

    Parameters
    ----------
    pairs : DataFrame with qid, docid
        The documents that can be shown (e.g. a run).
    qrels : DataFrame with qid, docid, label
        Pairs without a qrel get label 0.
    mapping : str or mapping object
        ``"graded"`` (default, eps = 0.1) or ``"binary"``; see the module docstring.

    Returns
    -------
    DataFrame
        qid, docid, label, attractiveness, satisfaction (``(2^y - 1) / (2^y_max - 1)``).
    """
    require_columns(pairs, (QID, DOCID), caller="click_probabilities")
    require_columns(qrels, (QID, DOCID, LABEL), caller="click_probabilities")
    fn = get_mapping(mapping)
    keys = pairs[[QID, DOCID]].astype(str).drop_duplicates()
    q = qrels[[QID, DOCID, LABEL]].astype({QID: str, DOCID: str})
    merged = keys.merge(q.drop_duplicates([QID, DOCID]), on=[QID, DOCID], how="left")
    labels = merged[LABEL].fillna(0.0).to_numpy(dtype=np.float64)
    if np.any(labels < 0):
        raise DataError(f"click_probabilities: labels must be >= 0, found {labels.min()}; shift the qrels first")
    y_max = float(q[LABEL].max()) if len(q) else 0.0
    y_max_used = fn.y_max if isinstance(fn, Graded) and fn.y_max is not None else y_max
    merged[LABEL] = labels
    merged[ATTRACTIVENESS] = np.clip(fn(labels, y_max), 0.0, 1.0)
    merged[SATISFACTION] = (np.clip((np.exp2(labels) - 1) / (2.0 ** y_max_used - 1), 0.0, 1.0)
                            if y_max_used > 0 else 0.0)
    merged.attrs["mapping"] = repr(fn)
    merged.attrs["y_max"] = y_max_used
    return merged.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------
# User models
# ---------------------------------------------------------------------------------------------------
class _User(_Named):
    streams: ClassVar[int] = 1          # uniform draws per position

    def examination(self, top: int) -> np.ndarray | None:
        """True examination probability per position (position-based users), else None."""
        return None


@dataclass(frozen=True, repr=False)
class PBMUser(_User):
    """Position-based user: examines position k with ``(1/k)^eta``, clicks with the attractiveness."""

    name: ClassVar[str] = "pbm"
    eta: float = 1.0

    def __post_init__(self):
        if isinstance(self.eta, bool) or not isinstance(self.eta, (int, float)) or not math.isfinite(self.eta) \
                or self.eta < 0:
            raise ConfigError(f"The 'eta' parameter of pbm must be a float >= 0. Got {self.eta!r} instead.")

    def examination(self, top: int) -> np.ndarray:
        return (1.0 / np.arange(1, top + 1)) ** float(self.eta)

    def clicks(self, attr, sat, length, u) -> np.ndarray:
        width = attr.shape[1]
        return u[0] < attr * self.examination(width)[None, :]


@dataclass(frozen=True, repr=False)
class CascadeUser(_User):
    """Cascade user: scans from the top, clicks with the attractiveness, leaves after the first click."""

    name: ClassVar[str] = "cascade"

    def clicks(self, attr, sat, length, u) -> np.ndarray:
        n, width = attr.shape
        out = np.zeros((n, width), dtype=bool)
        alive = np.ones(n, dtype=bool)
        for r in range(width):
            c = alive & (u[0][:, r] < attr[:, r])
            out[:, r] = c
            alive &= ~c
        return out


@dataclass(frozen=True, repr=False)
class DBNUser(_User):
    """DBN user: continues with ``gamma`` after no click or an unsatisfying click; a click satisfies with
    the document's satisfaction, and a satisfied user leaves."""

    name: ClassVar[str] = "dbn"
    streams: ClassVar[int] = 3
    gamma: float = 0.9

    def __post_init__(self):
        _unit(self.gamma, "gamma", "dbn")

    def clicks(self, attr, sat, length, u) -> np.ndarray:
        n, width = attr.shape
        out = np.zeros((n, width), dtype=bool)
        alive = np.ones(n, dtype=bool)
        for r in range(width):
            c = alive & (u[0][:, r] < attr[:, r])
            out[:, r] = c
            satisfied = c & (u[1][:, r] < sat[:, r])
            alive &= ~satisfied & (u[2][:, r] < self.gamma)
        return out


@dataclass(frozen=True, repr=False)
class UBMUser(_User):
    """UBM user: examines position r with ``gamma[r, r']``, r' the previous click (0 = none).

    ``gamma`` None: ``(1 / (r - r'))^eta``. Otherwise a nested list or array of shape (n, n) with
    ``gamma[r - 1][r']`` (column 0 = no click above), positions beyond it refused.
    """

    name: ClassVar[str] = "ubm"
    eta: float = 1.0
    gamma: tuple | None = None

    def __post_init__(self):
        if self.gamma is not None:
            g = np.asarray(self.gamma, dtype=np.float64)
            if g.ndim != 2 or g.shape[0] != g.shape[1] or np.any((g < 0) | (g > 1)):
                raise ConfigError("The 'gamma' parameter of ubm must be a square matrix of probabilities "
                                  "gamma[r-1][r'] (column 0 = no click above)")
            object.__setattr__(self, "gamma", tuple(map(tuple, g.tolist())))

    def matrix(self, width: int) -> np.ndarray:
        if self.gamma is None:
            r = np.arange(1, width + 1)[:, None]
            j = np.arange(width)[None, :]
            dist = np.where(j < r, r - j, 1)
            return (1.0 / dist) ** float(self.eta)
        g = np.asarray(self.gamma)
        if g.shape[0] < width:
            raise ConfigError(f"ubm's gamma matrix covers {g.shape[0]} positions but {width} are shown; give "
                              f"a larger matrix or a smaller top")
        return g[:width, :width]

    def examination(self, top: int) -> np.ndarray:
        """Examination with no click above (``gamma[r, 0]``)."""
        return self.matrix(top)[:, 0]

    def clicks(self, attr, sat, length, u) -> np.ndarray:
        n, width = attr.shape
        g = self.matrix(width)
        out = np.zeros((n, width), dtype=bool)
        prev = np.zeros(n, dtype=np.int64)
        for r in range(width):
            c = u[0][:, r] < attr[:, r] * g[r, prev]
            out[:, r] = c
            prev = np.where(c, r + 1, prev)
        return out


USER_MODELS = {"pbm": PBMUser, "cascade": CascadeUser, "dbn": DBNUser, "ubm": UBMUser}
"""Simulated user models by name."""


def get_user_model(spec):
    """``"pbm"``, ``"pbm(eta=2)"``, ``"dbn(gamma=0.7)"``, ... or a user-model object."""
    return _from_spec(spec, USER_MODELS, "user model")


# ---------------------------------------------------------------------------------------------------
# Interventions
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Swap(_Named):
    """Swap positions 1 and k, k uniform in 1..n (k = 1: unchanged, the control arm); Joachims et al. 2017."""

    name: ClassVar[str] = "swap"

    def permute(self, length: np.ndarray, width: int, rng: np.random.Generator) -> np.ndarray:
        n = len(length)
        partner = np.floor(rng.random(n) * length).astype(np.int64)    # 0-based, uniform in 0..len-1
        order = np.tile(np.arange(width), (n, 1))
        rows = np.arange(n)
        order[rows, 0] = partner
        order[rows, partner] = 0
        return order


@dataclass(frozen=True, repr=False)
class Randomize(_Named):
    """The first k results (None: all shown) in uniformly random order (RandTop-k)."""

    name: ClassVar[str] = "randomize"
    k: int | None = None

    def __post_init__(self):
        if self.k is not None and (isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 2):
            raise ConfigError(f"The 'k' parameter of randomize must be None or an int >= 2. Got {self.k!r} instead.")

    def permute(self, length: np.ndarray, width: int, rng: np.random.Generator) -> np.ndarray:
        n = len(length)
        keys = rng.random((n, width))
        k = np.minimum(length, width if self.k is None else self.k)
        # positions at or beyond k keep their place: give them keys above every random one, in order
        cols = np.arange(width)[None, :]
        keys = np.where(cols < k[:, None], keys, 2.0 + cols)
        return np.argsort(keys, axis=1, kind="stable")


INTERVENTIONS = {"swap": Swap, "randomize": Randomize}
"""Interventions by name."""


def get_intervention(spec):
    """None, ``"swap"``, ``"randomize"``, ``"randomize(k=5)"`` or an intervention object."""
    if spec is None:
        return None
    return _from_spec(spec, INTERVENTIONS, "intervention")


# ---------------------------------------------------------------------------------------------------
# Rankings and simulation
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Rankings:
    """Top-``top`` rankings of each query as dense arrays (what the simulator samples from).

    Attributes
    ----------
    queries : ndarray of str
    docs : ndarray of shape (n_queries, top), int64
        Index into ``docids``; -1 past a query's last document.
    length : ndarray of shape (n_queries,)
    docids : ndarray of str
    ranker : str
    """

    queries: np.ndarray
    docs: np.ndarray
    length: np.ndarray
    docids: np.ndarray
    ranker: str = "run"


def rankings_from_run(run: pd.DataFrame, *, top: int = 10, name: str = "run") -> Rankings:
    """Per query, the ``top`` documents by descending score; ties by descending docid (trec_eval's order).

    Queries keep their order of first appearance in the run.
    """
    require_columns(run, (QID, DOCID, SCORE), caller="rankings_from_run")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ConfigError(f"top must be an int >= 1, got {top!r}")
    if run.empty:
        raise DataError(f"the run {name!r} is empty: nothing to show")
    qids = run[QID].astype(str).to_numpy()
    docids = run[DOCID].astype(str).to_numpy()
    scores = pd.to_numeric(run[SCORE], errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(scores).any():
        raise DataError(f"the run {name!r} has non-numeric or NaN scores (first at row "
                        f"{int(np.flatnonzero(np.isnan(scores))[0])})")
    q_codes, q_uniq = pd.factorize(qids, sort=False)
    d_codes, d_uniq = pd.factorize(docids, sort=False)
    dup = pd.Series(q_codes.astype(np.int64) * len(d_uniq) + d_codes).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"the run {name!r} ranks document {docids[row]!r} twice for query {qids[row]!r} "
                        f"(row {row}); a ranking shows each document once")
    # descending docid as a string: order by the rank of the docid among sorted docids, reversed
    doc_rank = np.argsort(np.argsort(np.asarray(d_uniq, dtype=object).astype(str), kind="stable"), kind="stable")
    order = np.lexsort((-doc_rank[d_codes], -scores, q_codes))
    q_sorted = q_codes[order]
    starts = np.flatnonzero(np.r_[True, q_sorted[1:] != q_sorted[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    within = np.arange(len(order)) - np.repeat(starts, counts)
    keep = within < top
    nq = len(q_uniq)
    docs = np.full((nq, top), -1, dtype=np.int64)
    docs[q_sorted[keep], within[keep]] = d_codes[order][keep]
    length = np.minimum(np.bincount(q_codes, minlength=nq), top).astype(np.int64)
    return Rankings(queries=np.asarray(q_uniq, dtype=object), docs=docs, length=length,
                    docids=np.asarray(d_uniq, dtype=object), ranker=name)


def _pair_probabilities(rk: Rankings, probabilities: pd.DataFrame, need_sat: bool):
    """Attractiveness (and satisfaction) aligned with ``rk.docs``; refuses documents without one."""
    require_columns(probabilities, (QID, DOCID, ATTRACTIVENESS), caller="simulate")
    if need_sat and SATISFACTION not in probabilities.columns:
        raise SchemaError("a DBN user needs a 'satisfaction' column in the click probabilities "
                          "(click_probabilities() adds one from the labels)")
    index = pd.MultiIndex.from_arrays([probabilities[QID].astype(str), probabilities[DOCID].astype(str)])
    rows = np.repeat(np.arange(len(rk.queries)), rk.docs.shape[1])
    flat = rk.docs.ravel()
    shown = flat >= 0
    look = pd.MultiIndex.from_arrays([rk.queries[rows[shown]], rk.docids[flat[shown]]])
    pos = index.get_indexer(look)
    if np.any(pos < 0):
        i = int(np.flatnonzero(pos < 0)[0])
        raise DataError(f"no click probability for {int((pos < 0).sum())} shown (qid, docid) pairs, e.g. "
                        f"({look[i][0]!r}, {look[i][1]!r}); give every document of the rankings an "
                        f"attractiveness (click_probabilities() fills unjudged ones with label 0)")

    def table(column):
        values = pd.to_numeric(probabilities[column], errors="coerce").to_numpy(dtype=np.float64)
        if np.any(~np.isfinite(values) | (values < 0) | (values > 1)):
            raise DataError(f"{column} must be probabilities in [0, 1]")
        out = np.zeros(flat.shape)
        out[shown] = values[pos]
        return out.reshape(rk.docs.shape)

    return table(ATTRACTIVENESS), (table(SATISFACTION) if need_sat else None)


def _block(b, n_sessions, seed, tables, user, intervention, query_weights, top):
    """One block of sessions: query, ranker, intervention and clicks, from the block's own generator.

    ``tables`` holds per ranker (pair ids, attractiveness, satisfaction or None, lengths), each indexed by
    query; padding has pair -1 and attractiveness 0, so no click can fall past a SERP's end.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(b,))))
    nq = len(tables[0][3])
    if query_weights is None:
        q = np.floor(rng.random(n_sessions) * nq).astype(np.int64)
    else:
        q = np.searchsorted(np.cumsum(query_weights), rng.random(n_sessions) * query_weights.sum(), side="right")
        q = np.minimum(q, nq - 1)
    if len(tables) == 1:
        r = np.zeros(n_sessions, np.int64)
        pair_t, attr_t, sat_t, len_t = tables[0]
        pair, attr, length = pair_t[q], attr_t[q], len_t[q]
        sat = sat_t[q] if sat_t is not None else None
    else:
        r = np.floor(rng.random(n_sessions) * len(tables)).astype(np.int64)
        pair = np.empty((n_sessions, top), dtype=np.int64)
        attr = np.empty((n_sessions, top))
        sat = np.zeros((n_sessions, top)) if tables[0][2] is not None else None
        length = np.empty(n_sessions, dtype=np.int64)
        for i, (pair_t, attr_t, sat_t, len_t) in enumerate(tables):
            sel = r == i
            qs = q[sel]
            pair[sel], attr[sel], length[sel] = pair_t[qs], attr_t[qs], len_t[qs]
            if sat is not None:
                sat[sel] = sat_t[qs]
    original = None
    if intervention is not None:
        order = intervention.permute(length, top, rng)
        rows = np.arange(n_sessions)[:, None]
        pair, attr = pair[rows, order], attr[rows, order]
        if sat is not None:
            sat = sat[rows, order]
        original = (order + 1).astype(np.int32)
    u = [rng.random((n_sessions, top)) for _ in range(user.streams)]
    clicks = user.clicks(attr, sat, length, u)
    return q, r, pair, clicks, length, original


def simulate(rankings, probabilities: pd.DataFrame, *, user="pbm", sessions: int, top: int = 10, seed: int = 0,
             intervention=None, query_weights=None, n_jobs: int = 2) -> ClickLog:
    """Sample sessions of users clicking on the top results of one or several rankers.

    Parameters
    ----------
    rankings : RUN frame, Rankings, or dict name -> RUN frame
        The ranking(s) shown. With several rankers every session picks one uniformly; they must rank the
        same queries. The log's ``ranker`` column then says which.
    probabilities : DataFrame with qid, docid, attractiveness [, satisfaction]
        Click probability given examination of every document that can be shown (and, for DBN users, the
        probability that a click satisfies), e.g. from :func:`click_probabilities`.
    user : str or user model, default "pbm"
        ``"pbm(eta=1)"``, ``"cascade"``, ``"dbn(gamma=0.9)"``, ``"ubm(eta=1)"``.
    sessions : int
        Number of sessions (one SERP each).
    top : int, default 10
        Results shown per SERP (fewer if a query has fewer documents).
    seed : int, default 0
    intervention : None, str or intervention
        ``"swap"`` or ``"randomize(k=...)"``; the log then has ``original_position``.
    query_weights : array of shape (n_queries,), optional
        Relative query frequencies in the order of the rankings' queries (default uniform).
    n_jobs : int, default 2
        Threads drawing blocks at once (the result does not depend on it).

    Returns
    -------
    ClickLog
        Sessions ``"0"``, ``"1"``, ...; ``source`` records the user model, intervention, sessions and seed.
    """
    user = get_user_model(user)
    intervention = get_intervention(intervention)
    if isinstance(sessions, bool) or not isinstance(sessions, (int, np.integer)) or sessions < 1:
        raise ConfigError(f"sessions must be an int >= 1, got {sessions!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be an int >= 0, got {seed!r}")
    if isinstance(rankings, Rankings):
        rankers = [rankings]
    elif isinstance(rankings, dict):
        if not rankings:
            raise DataError("simulate: no rankers given")
        rankers = [rankings_from_run(run, top=top, name=str(name)) for name, run in rankings.items()]
    else:
        rankers = [rankings_from_run(rankings, top=top)]
    if len(rankers) > 1:
        # one docid table for every ranker
        all_docs = pd.Index(np.concatenate([rk.docids for rk in rankers])).unique()
        rankers = [Rankings(queries=rk.queries, length=rk.length, ranker=rk.ranker,
                            docids=np.asarray(all_docs, dtype=object),
                            docs=np.where(rk.docs >= 0, all_docs.get_indexer(rk.docids)[np.maximum(rk.docs, 0)], -1))
                   for rk in rankers]
    top = rankers[0].docs.shape[1]
    base = rankers[0]
    for rk in rankers[1:]:
        if rk.docs.shape[1] != top or list(rk.queries) != list(base.queries):
            raise DataError(f"rankers {base.ranker!r} and {rk.ranker!r} must rank the same queries in the same "
                            f"order with the same top")
    need_sat = isinstance(user, DBNUser)
    if query_weights is not None:
        query_weights = np.asarray(query_weights, dtype=np.float64)
        if query_weights.shape != (len(base.queries),) or np.any(query_weights < 0) or query_weights.sum() <= 0:
            raise ConfigError(f"query_weights must be {len(base.queries)} non-negative numbers (one per query, "
                              f"in the rankings' order) with a positive sum")
    # Step 1: one pair id per (query, document) of any ranker's top; the tables the blocks gather from
    n_docs = len(base.docids)
    keys = [np.where(rk.docs >= 0, np.arange(len(rk.queries))[:, None] * n_docs + np.maximum(rk.docs, 0), -1)
            for rk in rankers]
    all_keys = np.concatenate([k[k >= 0] for k in keys])
    uniq = np.unique(all_keys)
    tables = []
    for rk, k in zip(rankers, keys):
        pair_t = np.where(k >= 0, np.searchsorted(uniq, np.maximum(k, 0)), -1)
        attr_t, sat_t = _pair_probabilities(rk, probabilities, need_sat)
        tables.append((pair_t, attr_t, sat_t, rk.length))
    # Step 2: the sessions, block by block
    n_blocks = (int(sessions) + BLOCK - 1) // BLOCK
    sizes = [min(BLOCK, int(sessions) - b * BLOCK) for b in range(n_blocks)]

    def run_block(b):
        return _block(b, sizes[b], int(seed), tables, user, intervention, query_weights, top)

    if n_jobs > 1 and n_blocks > 1:
        with ThreadPoolExecutor(max_workers=int(n_jobs)) as pool:
            parts = list(pool.map(run_block, range(n_blocks)))
    else:
        parts = [run_block(b) for b in range(n_blocks)]
    q, r, pair, clicks, length = (np.concatenate([p[i] for p in parts]) for i in range(5))
    # keep only the pairs some session showed (a bincount and a gather: O(impressions))
    shown = np.zeros(len(uniq) + 1, dtype=bool)
    shown[pair.ravel()] = True                       # index -1 (padding) marks the extra last slot
    shown = shown[:-1]
    remap = np.r_[np.cumsum(shown) - 1, -1]
    pair = remap[pair]
    uniq = uniq[shown]
    serps = SerpMatrix(pair=pair, click=clicks, length=length, query=q,
                       queries=np.asarray(base.queries, dtype=object),
                       pair_qid=np.asarray(base.queries, dtype=object)[uniq // n_docs],
                       pair_docid=np.asarray(base.docids, dtype=object)[uniq % n_docs])
    extra = {}
    if intervention is not None:
        extra[ORIGINAL_POSITION] = np.concatenate([p[5] for p in parts])
    if len(rankers) > 1:
        names = [rk.ranker for rk in rankers]
        order = np.argsort(names, kind="stable")                  # categories sorted, as a file read gives
        rank_of = np.empty(len(names), dtype=np.int64)
        rank_of[order] = np.arange(len(names))
        extra[RANKER] = (rank_of[r], [names[i] for i in order])
    source = (f"simulated(user={user!r}, sessions={int(sessions)}, top={top}, seed={int(seed)}"
              + (f", intervention={intervention!r}" if intervention is not None else "") + ")")
    return ClickLog.from_matrix(serps, extra=extra, source=source)


def simulate_from_qrels(run, qrels: pd.DataFrame, *, user="pbm", mapping="graded", sessions: int, top: int = 10,
                        seed: int = 0, intervention=None, query_weights=None, n_jobs: int = 2) -> ClickLog:
    """Clicks of simulated users on the top of ``run`` (a RUN frame or dict of them), from relevance labels.

    Click probabilities come from :func:`click_probabilities` (``mapping``: ``"graded"`` with eps = 0.1 and
    y_max = the largest label, or ``"binary"``); everything else as :func:`simulate`.

    Examples
    --------
    >>> log = simulate_from_qrels(run, qrels, user="pbm(eta=1)", sessions=100_000, seed=0)  # doctest: +SKIP
    """
    runs = run if isinstance(run, dict) else {"run": run}
    pairs = pd.concat([r[[QID, DOCID]] for r in runs.values()], ignore_index=True)
    probs = click_probabilities(pairs, qrels, mapping=mapping)
    return simulate(run, probs, user=user, sessions=sessions, top=top, seed=seed, intervention=intervention,
                    query_weights=query_weights, n_jobs=n_jobs)
