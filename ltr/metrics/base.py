"""Metric objects, their registry and name parsing, and the ranked lists they are computed on.

A metric is a small frozen object whose ``repr`` is its identity: ``nDCG(gain='exp', norel=1)@10``.
:func:`parse_metric` reads such names (ir_measures syntax) and ``parse_metric(repr(m)) == m``.

Every metric computes per-query values from a :class:`Ranking`: the labels of the retrieved documents of
each query in rank order (one contiguous block per query) plus the judged labels of each query's pool
(qrels), from which the ideal ranking and the number of relevant documents come. Two entry points build a
:class:`Ranking`:

- :meth:`Metric.compute` over grouped arrays (a candidate set: the ideal ranking comes from the same
  labels), used in training loops;
- :func:`ltr.metrics.evaluate` over qrels and run frames, with trec_eval's semantics.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from ltr.errors import ConfigError, DataError, LabelError
from ltr.metrics.names import expand_trec_eval, translate
from ltr.naming import check_params, format_spec, parse_spec, select

#: Tie-breaking rules among documents with equal scores.
#: 'docid': scores compared as float32, ties broken by docid in descending byte order (trec_eval).
#: 'row': scores compared as float64, ties keep the input row order (LightGBM's std::stable_sort).
#: 'average': expected value over all orders of the tied documents (McSherry and Najork, ECIR 2008);
#: ties are scores equal in float32, as with 'docid'.
TIES = ("docid", "row", "average")

#: Evaluation conventions a metric can follow (parameter ``convention`` of nDCG, AP and P).
#: 'trec_eval': trec_eval's definitions (the default). 'letor3', 'letor4': the LETOR 3.0 / 4.0 evaluation
#: scripts (Eval-Score-3.0.pl, Eval-Score-4.0.pl) that published LETOR tables use; see :mod:`ltr.metrics.letor`.
CONVENTIONS = ("trec_eval", "letor3", "letor4")

registry: dict[str, type[Metric]] = {}
_canonical: dict[str, type[Metric]] = {}


def register(cls: type[Metric]) -> type[Metric]:
    """Class decorator: register a metric under its ``name`` and ``aliases``."""
    for key in (cls.name, *cls.aliases):
        if key in registry:
            raise RuntimeError(f"metric {key!r} registered twice; this is a bug in ltr, please report it.")
        registry[key] = cls
    _canonical[cls.name] = cls
    return cls


def available_metrics() -> list[str]:
    """Names of the registered metrics (canonical names, then aliases), sorted.

    >>> 'nDCG' in available_metrics()
    True
    """
    return sorted(registry)


def parse_metric(name: str | Metric) -> Metric:
    """Parse an ir_measures-style metric name into a :class:`Metric`.

    Parameters
    ----------
    name : str or Metric
        ``'nDCG@10'``, ``'AP'``, ``'P(rel=2)@5'``, ``"nDCG(gain='exp', norel=1)@10"``, ... A Metric is
        returned unchanged.

    Returns
    -------
    Metric

    Raises
    ------
    UnknownNameError
        The name or one of its parameters is not known; the message lists the valid ones.
    ConfigError
        A parameter value is invalid, or a cutoff is missing/not allowed.

    Examples
    --------
    >>> m = parse_metric("nDCG(gain='exp', norel=1)@10")
    >>> m
    nDCG(gain='exp', norel=1)@10
    >>> parse_metric(repr(m)) == m
    True
    """
    if isinstance(name, Metric):
        return name
    several = expand_trec_eval(name)
    if len(several) > 1:
        raise ConfigError(f"{name!r} names {len(several)} metrics (trec_eval's -m form); give them one at a "
                          f"time: {several} (parse_metrics and `ltr evaluate -m` expand it)")
    spec = translate(parse_spec(name, what="metric"), registry)
    cls = select(registry, spec.name, what="metric")
    return cls(cutoff=spec.cutoff, **spec.params)


def parse_metrics(names, *, what: str = "the metric list") -> dict[str, Metric]:
    """Parse a list of metric names once, refusing two names of the same measure.

    Parameters
    ----------
    names : str, Metric or sequence of them
        Names in any accepted spelling (ours, trec_eval's, ir_measures'); trec_eval's multi-cutoff form
        ``P.5,10`` counts as its names ``P.5`` and ``P.10``.
    what : str
        Who needs the list, for messages (e.g. ``"the experiment"``).

    Returns
    -------
    dict of str -> Metric
        Each name as given (a Metric: its repr) -> its canonical metric, in the order given.

    Raises
    ------
    ConfigError
        The list is empty, or two names are the same measure (``'ndcg@10'`` and ``'ndcg_cut_10'``).

    Examples
    --------
    >>> parse_metrics(["nDCG@10", "map", "P.5,10"])
    {'nDCG@10': nDCG@10, 'map': AP, 'P.5': P@5, 'P.10': P@10}
    >>> parse_metrics(["nDCG@10", "ndcg_cut_10"])
    Traceback (most recent call last):
    ...
    ltr.errors.ConfigError: metrics 'nDCG@10' and 'ndcg_cut_10' are the same measure, nDCG@10; give it once
    """
    if isinstance(names, (str, Metric)):
        names = [names]
    given = []
    for name in names:
        given.extend(expand_trec_eval(name) if isinstance(name, str) else [name])
    if not given:
        raise ConfigError(f"{what} needs at least one metric, e.g. ['nDCG@10', 'AP']")
    out: dict[str, Metric] = {}
    first: dict[Metric, str] = {}
    for name in given:
        key = name if isinstance(name, str) else repr(name)
        metric = parse_metric(name)
        if metric in first:
            same = "is given twice" if first[metric] == key else f"and {key!r} are the same measure, {metric!r}"
            raise ConfigError(f"{'metric' if first[metric] == key else 'metrics'} {first[metric]!r} {same}; "
                              f"give it once")
        first[metric] = key
        out[key] = metric
    return out


def _normalize_number(value):
    """2.0 -> 2 so that equal parameters print the same; bools and non-numbers pass through."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


class Metric:
    """Base class of the metrics: frozen, hashable, ``repr`` is the identity.

    Subclasses set ``name``, ``aliases``, ``defaults`` (parameter -> default, in print order),
    ``cutoff_rule`` ('optional', 'required' or 'none') and ``tie_aware`` (whether ``ties='average'`` is
    supported), and implement ``_values(ranking) -> ndarray`` (one float64 per query).
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[Mapping[str, Any]] = {"ties": "docid"}
    cutoff_rule: ClassVar[str] = "optional"
    tie_aware: ClassVar[bool] = False

    __slots__ = ("_cutoff", "_params")

    def __init__(self, cutoff: int | None = None, **params):
        check_params(params, self.defaults, owner=f"metric {self.name}")
        if cutoff is not None:
            if isinstance(cutoff, bool) or not isinstance(cutoff, (int, np.integer)) or cutoff <= 0:
                raise ConfigError(f"the cutoff of metric {self.name} must be a positive integer, "
                                  f"got {cutoff!r}")
            cutoff = int(cutoff)
        if self.cutoff_rule == "required" and cutoff is None:
            raise ConfigError(f"metric {self.name} needs a cutoff, e.g. '{self.name}@10'")
        if self.cutoff_rule == "none" and cutoff is not None:
            raise ConfigError(f"metric {self.name} takes no cutoff; write '{self.name}' "
                              f"(got '{self.name}@{cutoff}')")
        values = {k: _normalize_number(params.get(k, v)) for k, v in self.defaults.items()}
        if "convention" in values:
            self._check_convention(values, params, cutoff)
        if values.get("ties") not in TIES:
            raise ConfigError(f"ties of metric {self.name} must be one of {list(TIES)}, got {values['ties']!r}")
        if values["ties"] == "average" and not self.tie_aware:
            tie_aware = sorted(c.name for c in _canonical.values() if c.tie_aware)
            raise ConfigError(f"metric {self.name} has no tie-aware (ties='average') version; "
                              f"metrics that have one: {tie_aware}")
        self._check(values)
        object.__setattr__(self, "_cutoff", cutoff)
        object.__setattr__(self, "_params", tuple(values.items()))

    def _check(self, params: dict) -> None:
        """Validate parameter values (subclasses); raise ConfigError."""

    #: Parameters a LETOR convention fixes (name -> the only value it allows); ties are row order.
    _letor_fixed: ClassVar[Mapping[str, Any]] = {}
    #: 'required' or 'none': the cutoff rule under a LETOR convention.
    _letor_cutoff: ClassVar[str] = "required"

    def _check_convention(self, values: dict, given: Mapping[str, Any], cutoff) -> None:
        """Under a LETOR convention: ties become row order and the fixed parameters may not be changed."""
        conv = values["convention"]
        if conv not in CONVENTIONS:
            raise ConfigError(f"convention of metric {self.name} must be one of {list(CONVENTIONS)}, got {conv!r}")
        if conv == "trec_eval":
            return
        fixed = {**self._letor_fixed, "ties": "row"}
        for key, only in fixed.items():
            if key in given and _normalize_number(given[key]) != only:
                raise ConfigError(f"metric {self.name} with convention={conv!r} follows the LETOR script, whose "
                                  f"rules fix {sorted(fixed)} (got {key}={given[key]!r}); drop {key!r}")
        values["ties"] = "row"
        if self._letor_cutoff == "required" and cutoff is None:
            raise ConfigError(f"metric {self.name} with convention={conv!r} needs a cutoff, e.g. "
                              f"\"{self.name}(convention='{conv}')@10\"")
        if self._letor_cutoff == "none" and cutoff is not None:
            raise ConfigError(f"metric {self.name} with convention={conv!r} takes no cutoff (the LETOR script "
                              f"computes it over the whole ranking); write \"{self.name}(convention='{conv}')\"")

    def __setattr__(self, key, value):
        raise AttributeError(f"metric {self!r} is immutable")

    @property
    def cutoff(self) -> int | None:
        """Rank cutoff k (``@k``), or None."""
        return self._cutoff

    @property
    def params(self) -> dict[str, Any]:
        """All parameters, including those at their defaults."""
        return dict(self._params)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        for k, v in object.__getattribute__(self, "_params"):
            if k == key:
                return v
        raise AttributeError(f"metric {type(self).__name__} has no attribute {key!r}")

    def _key(self):
        return (type(self), self._cutoff, self._params)

    def __eq__(self, other):
        return isinstance(other, Metric) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        defaults = self.defaults
        if self.params.get("convention", "trec_eval") != "trec_eval":
            defaults = {**defaults, "ties": "row"}        # implied by the LETOR conventions
        return format_spec(self.name, self.params, self._cutoff, defaults)

    __str__ = __repr__

    def __reduce__(self):
        return (parse_metric, (repr(self),))

    # -- computation ------------------------------------------------------------------------------------

    def compute(self, labels, scores, group_sizes, docids=None) -> np.ndarray:
        """Per-query values over grouped arrays (a candidate set).

        Each contiguous group of rows is one query's scored candidates; the ideal ranking and the number
        of relevant documents come from these same labels. Negative labels count as judged-unknown
        (trec_eval's "in pool but not judged"): gain 0, neither relevant nor judged non-relevant.

        Parameters
        ----------
        labels : array-like of shape (n_samples,)
            Relevance labels (binary, graded or real-valued).
        scores : array-like of shape (n_samples,)
            Model scores; higher ranks first. NaN is refused.
        group_sizes : array-like of int, shape (n_queries,)
            Sizes of the contiguous query blocks; they must sum to n_samples.
        docids : array-like of str, shape (n_samples,), optional
            Used to break ties when ``ties='docid'``. Without them, ties are broken by the row's position
            inside its query, descending, which is what docid order gives for the zero-padded synthetic
            docids of :func:`ltr.datasets.synthetic_docids`.

        Returns
        -------
        ndarray of float64, shape (n_queries,)
        """
        ranking = Ranking.from_groups(labels, scores, group_sizes, docids, ties=self.ties)
        return self._values(ranking)

    def _values(self, ranking: Ranking) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # helpers for subclasses
    def _top(self, ranking: Ranking) -> np.ndarray:
        """Boolean mask of the ranked rows within the cutoff."""
        if self._cutoff is None:
            return np.ones(len(ranking.labels), dtype=bool)
        return ranking.pos < self._cutoff


class RelevanceMixin:
    """Parameter check for metrics with a relevance threshold ``rel``."""

    @staticmethod
    def _check_rel(name, params):
        rel = params["rel"]
        if isinstance(rel, bool) or not isinstance(rel, (int, float)) or not rel > 0:
            raise ConfigError(f"rel of metric {name} must be a number > 0 (documents with label >= rel are "
                              f"relevant), got {rel!r}")


def check_norel(name, params):
    norel = params["norel"]
    if isinstance(norel, bool) or not isinstance(norel, (int, float)) or not 0 <= norel <= 1:
        raise ConfigError(f"norel of metric {name} must be a number in [0, 1] (the value of a query without "
                          f"relevant documents), got {norel!r}")


# ---------------------------------------------------------------------------------------------------------
# Ranked lists
# ---------------------------------------------------------------------------------------------------------

def _segment_index(offsets: np.ndarray) -> np.ndarray:
    sizes = np.diff(offsets)
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _float32_scores(scores: np.ndarray) -> np.ndarray:
    """Scores as trec_eval keeps them (C float); -0.0 becomes 0.0 so that it ties with 0.0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # overflow to +-inf, as a C cast does
        s32 = np.asarray(scores, dtype=np.float64).astype(np.float32)
    return s32 + np.float32(0.0)


def _descending_key(s32: np.ndarray) -> np.ndarray:
    """uint32 keys whose ascending order is the descending order of the float32 scores (no NaN)."""
    bits = s32.view(np.uint32)
    neg = (bits >> np.uint32(31)).astype(bool)
    ascending = np.where(neg, ~bits, bits | np.uint32(0x80000000))
    return ~ascending


def order_within_queries(qidx: np.ndarray, n_queries: int, scores: np.ndarray, ties: str,
                         docid_rank) -> tuple[np.ndarray, np.ndarray | None]:
    """Row order ranking each query's rows, queries in index order; also tie-block ids for 'average'.

    Parameters
    ----------
    qidx : int64 array of shape (n,)
        Query index of each row, in [0, n_queries).
    scores : float64 array of shape (n,)
    ties : {'docid', 'row', 'average'}
    docid_rank : callable(rows) -> int array
        Ranks of the docids of ``rows`` in ascending byte order (only called on tied rows).

    Returns
    -------
    order : int64 array of shape (n,)
    blocks : int64 array of shape (n,) or None
        For 'average', the id of each ranked row's tie block (consecutive ids, increasing in rank order).
    """
    n = len(qidx)
    if ties == "row":
        # lexsort is stable: among equal float64 scores the input row order is kept
        return np.lexsort((-np.asarray(scores, dtype=np.float64), qidx)), None
    # Step 1: sort by (query, float32 score descending) packed into one uint64 key
    key = (qidx.astype(np.uint64) << np.uint64(32)) | _descending_key(_float32_scores(scores)).astype(np.uint64)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    same = skey[1:] == skey[:-1]
    # Step 2: inside blocks of equal (query, score), order by docid descending (trec_eval's strcmp)
    if ties == "docid" and same.any():
        in_tie = np.zeros(n, dtype=bool)
        in_tie[1:] |= same
        in_tie[:-1] |= same
        at = np.flatnonzero(in_tie)
        rows = order[at]
        ranks = np.asarray(docid_rank(rows), dtype=np.int64)
        sub = np.lexsort((-ranks, skey[at]))
        order[at] = rows[sub]
    blocks = None
    if ties == "average":
        blocks = np.cumsum(np.r_[True, ~same]) - 1 if n else np.zeros(0, dtype=np.int64)
    return order, blocks


@dataclass(eq=False)
class Ranking:
    """Ranked lists of several queries plus each query's judged pool.

    Attributes
    ----------
    offsets : int64 array of shape (n_queries + 1,)
        Boundaries of each query's ranked rows.
    labels : float64 array of shape (n,)
        Label of each ranked document, in rank order; 0 for unjudged documents.
    judged : bool array of shape (n,)
        Whether the document has a judgment (label >= 0 in the qrels / candidate labels).
    pool_offsets : int64 array of shape (n_queries + 1,)
    pool_labels : float64 array
        Each query's judged labels (>= 0), sorted in descending order (the ideal ranking).
    blocks : int64 array of shape (n,) or None
        Tie-block id of each ranked row (only for ``ties='average'``).
    max_label : float
        Largest label of the pool (ERR's default maximum grade).
    n_retrieved : int64 array of shape (n_queries,) or None
        Number of retrieved documents per query when the ranked lists hold only the top of each ranking
        (then only metrics with a cutoff no deeper than the lists are computed on it); None: all.
    """

    offsets: np.ndarray
    labels: np.ndarray
    judged: np.ndarray
    pool_offsets: np.ndarray
    pool_labels: np.ndarray
    blocks: np.ndarray | None = None
    max_label: float = 0.0
    n_retrieved: np.ndarray | None = None

    @property
    def n_queries(self) -> int:
        return len(self.offsets) - 1

    @cached_property
    def qidx(self) -> np.ndarray:
        """Query index of each ranked row."""
        return _segment_index(self.offsets)

    @cached_property
    def pos(self) -> np.ndarray:
        """0-based rank of each row inside its query."""
        return np.arange(len(self.labels), dtype=np.int64) - self.offsets[:-1][self.qidx]

    @cached_property
    def num_ret(self) -> np.ndarray:
        return np.diff(self.offsets) if self.n_retrieved is None else self.n_retrieved

    @cached_property
    def pool_qidx(self) -> np.ndarray:
        return _segment_index(self.pool_offsets)

    @cached_property
    def pool_pos(self) -> np.ndarray:
        return np.arange(len(self.pool_labels), dtype=np.int64) - self.pool_offsets[:-1][self.pool_qidx]

    def sum(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Per-query sums of ``values`` over the ranked rows (where ``mask``)."""
        if mask is None:
            return np.bincount(self.qidx, weights=values, minlength=self.n_queries)
        return np.bincount(self.qidx[mask], weights=values[mask], minlength=self.n_queries)

    def num_rel(self, rel: float) -> np.ndarray:
        """Number of judged documents with label >= rel, per query."""
        return np.bincount(self.pool_qidx, weights=self.pool_labels >= rel,
                           minlength=self.n_queries).astype(np.int64)

    def num_judged_nonrel(self, rel: float) -> np.ndarray:
        """Number of judged documents with 0 <= label < rel, per query."""
        return np.bincount(self.pool_qidx, weights=self.pool_labels < rel,
                           minlength=self.n_queries).astype(np.int64)

    def average_ties(self, values: np.ndarray) -> np.ndarray:
        """Replace each value by the mean over its tie block (identity without 'average' ties)."""
        if self.blocks is None or len(values) == 0:
            return values
        nb = int(self.blocks[-1]) + 1
        sums = np.bincount(self.blocks, weights=values, minlength=nb)
        counts = np.bincount(self.blocks, minlength=nb)
        return (sums / counts)[self.blocks]

    def within_cumsum(self, values: np.ndarray) -> np.ndarray:
        """Inclusive cumulative sum of ``values`` inside each query."""
        cs = np.cumsum(values)
        before = np.r_[0, cs][self.offsets[:-1]]
        return cs - before[self.qidx]

    @classmethod
    def from_groups(cls, labels, scores, group_sizes, docids=None, *, ties: str = "docid") -> Ranking:
        """Build the ranking of grouped candidate arrays (see :meth:`Metric.compute`)."""
        labels = np.asarray(labels, dtype=np.float64).ravel()
        scores = np.asarray(scores, dtype=np.float64).ravel()
        n = len(labels)
        if len(scores) != n:
            raise DataError(f"labels and scores must have the same length, got {n} labels and "
                            f"{len(scores)} scores")
        from ltr.schema import check_group_sizes      # here: ltr.schema imports pandas, which `ltr evaluate` avoids
        sizes = check_group_sizes(np.asarray(group_sizes), n, source="the scored candidates")
        offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        qidx = _segment_index(offsets)
        if np.isnan(scores).any():
            row = int(np.flatnonzero(np.isnan(scores))[0])
            raise DataError(f"scores contain NaN ({int(np.isnan(scores).sum())} rows), first at row {row} "
                            f"(query #{int(qidx[row])}); fix the model output or fill them before evaluating")
        if np.isnan(labels).any():
            row = int(np.flatnonzero(np.isnan(labels))[0])
            raise LabelError(f"labels contain NaN ({int(np.isnan(labels).sum())} rows), first at row {row} "
                             f"(query #{int(qidx[row])}); every candidate needs a label")
        if docids is not None:
            docids = np.asarray(docids, dtype=object).ravel()
            if len(docids) != n:
                raise DataError(f"docids must have one entry per row: got {len(docids)} for {n} rows")

            def docid_rank(rows):
                return np.unique(docids[rows].astype(str), return_inverse=True)[1]
        else:
            within = np.arange(n, dtype=np.int64) - offsets[:-1][qidx]

            def docid_rank(rows):
                return within[rows]
        order, blocks = order_within_queries(qidx, len(sizes), scores, ties, docid_rank)
        ranked = labels[order]
        judged = ranked >= 0
        # the pool (ideal ranking): judged labels of each query, descending
        keep = labels >= 0
        pool_q = qidx[keep]
        pool_l = labels[keep]
        porder = np.lexsort((-pool_l, pool_q))
        pool_offsets = np.r_[0, np.cumsum(np.bincount(pool_q, minlength=len(sizes)))].astype(np.int64)
        return cls(offsets=offsets, labels=np.where(judged, ranked, 0.0), judged=judged,
                   pool_offsets=pool_offsets, pool_labels=pool_l[porder], blocks=blocks,
                   max_label=float(pool_l.max()) if len(pool_l) else 0.0)


def gain_values(labels: np.ndarray, gain: str) -> np.ndarray:
    """Gain of each label: 'linear' = the label (trec_eval), 'exp' = 2^label - 1 (Burges et al. 2005).

    Labels below 0 have gain 0 (trec_eval counts only positive gains).
    """
    clipped = np.maximum(labels, 0.0)
    if gain == "linear":
        return clipped
    return np.exp2(clipped) - 1.0


GAINS = ("linear", "exp")


def check_gain(name, params):
    if params["gain"] not in GAINS:
        raise ConfigError(f"gain of metric {name} must be one of {list(GAINS)}, got {params['gain']!r}")


__all__ = ["CONVENTIONS", "Metric", "Ranking", "TIES", "available_metrics", "parse_metric", "parse_metrics",
           "register", "registry"]
