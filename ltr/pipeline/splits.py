"""Query-level splits: k-fold by query, the LETOR fold layout, and time-ordered splits.

Every split is over *queries*, never rows: all the candidates of a query fall on the same side, so a
ranker is never scored on a query it has seen (the leak that row-level splits of a ranking data set make).

- :func:`query_kfold` deals the distinct qids into ``k`` folds after a seeded permutation;
- :func:`letor_folds` reads the LETOR ``Fold1..FoldN/{train,vali,test}.txt`` layout;
- :func:`time_ordered_split` trains on the older queries and tests on the newer ones, so that recency
  features are evaluated without leaking the future (only for collections whose queries carry a time);
- :func:`holdout_queries` holds out a fraction of the training queries for validation (the one hold-out rule
  of the experiments, the cascades and the LETOR files without a validation file).

Declared splits (``"kfold(k=5)"``, ``"time(test_fraction=0.2)"``) are objects of :data:`SPLITTERS`, built by
:func:`get_splitter`, which checks every parameter when the experiment is declared.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ltr.errors import ConfigError, DataError, SchemaError
from ltr.naming import check_params, format_spec, parse_spec, select
from ltr.schema import QID, QUERY_TIME, as_id_array, require_columns


class QuerySplit(NamedTuple):
    """One split of the queries: ``name`` (``"fold1"``, ``"time"``), ``train`` and ``test`` qids (str arrays).

    ``train`` and ``test`` are disjoint and keep the order in which the qids were given.
    """

    name: str
    train: np.ndarray
    test: np.ndarray


def _unique_in_order(qids) -> np.ndarray:
    ids = as_id_array(qids)
    if len(ids) == 0:
        return ids
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]


def query_kfold(qids, k: int = 5, *, seed: int = 0) -> list[QuerySplit]:
    """Split the distinct ``qids`` into ``k`` folds; fold ``i`` tests on its queries, trains on the rest.

    The distinct qids (in order of first appearance) are permuted with ``numpy.random.default_rng(seed)``
    and dealt into ``k`` folds whose sizes differ by at most one (``numpy.array_split``). Each query is in
    exactly one test fold. Same qids and seed: same folds, bit for bit.

    Parameters
    ----------
    qids : array-like of str
        Query ids; repeats (one per candidate row) are allowed and collapse to one query.
    k : int, default=5
        Number of folds, ``2 <= k <= n_queries``.
    seed : int, default=0

    Returns
    -------
    list of QuerySplit
        ``QuerySplit("fold1", train_qids, test_qids)``, ... with qids in their order of first appearance.

    Examples
    --------
    >>> folds = query_kfold(["a", "b", "c", "d"], k=2, seed=0)
    >>> sorted(q for f in folds for q in f.test)
    ['a', 'b', 'c', 'd']
    """
    uniq = _unique_in_order(qids)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ConfigError(f"The 'k' parameter of query_kfold must be an integer >= 2. Got {k!r} instead.")
    if k > len(uniq):
        raise ConfigError(f"query_kfold cannot make {k} folds from {len(uniq)} distinct queries: "
                          f"pass k <= {len(uniq)}")
    order = np.random.default_rng(seed).permutation(len(uniq))
    position = np.empty(len(uniq), dtype=np.int64)
    for fold, members in enumerate(np.array_split(order, k)):
        position[members] = fold
    return [QuerySplit(f"fold{i + 1}", uniq[position != i], uniq[position == i]) for i in range(k)]


def letor_folds(folder, **read_kwargs) -> list[tuple[str, dict]]:
    """The LETOR layout ``folder/Fold1..FoldN/{train,vali,test}.txt`` as ranking data sets.

    A thin alias of :func:`ltr.io.read_letor_folds` (the one LETOR reader), kept here so that every kind of
    split is found in one module. Returns ``[(fold_name, {"train": ds, "vali": ds or None, "test": ds}),
    ...]``; a missing file is an error naming it. ``read_kwargs`` go to :func:`ltr.io.read_letor`.
    """
    from ltr.io import read_letor_folds  # floor 2; imported lazily so splits work without the IO extras

    return read_letor_folds(folder, **read_kwargs)


def time_ordered_split(queries: pd.DataFrame, time_column: str = QUERY_TIME, test_fraction: float = 0.2,
                       ) -> QuerySplit:
    """Train on the older queries, test on the newer ones.

    The queries are ordered by time (ties by qid, for a deterministic order); the newest
    ``ceil(test_fraction * n)`` form the test set. Queries sharing the time of the oldest test query all go
    to the test set, so that **every training query is strictly older than every test query** (nothing a
    test query could not have known is learned).

    Parameters
    ----------
    queries : DataFrame
        ``qid`` and ``time_column`` (datetime-like or numeric).
    time_column : str, default="query_time"
    test_fraction : float, default=0.2
        In (0, 1).

    Returns
    -------
    QuerySplit
        ``QuerySplit("time", train_qids, test_qids)``, each ordered from oldest to newest.

    Raises
    ------
    SchemaError
        The queries carry no time (the classic collections CACM, Cranfield and NPL have none): use
        :func:`query_kfold` for them.
    DataError
        Some queries have a missing time, or all queries share one time.
    """
    if isinstance(queries, pd.DataFrame) and time_column not in queries.columns:
        raise SchemaError(f"time_ordered_split needs a query time column {time_column!r} (found "
                          f"{list(queries.columns)}): this collection's queries carry no time; use "
                          f"query_kfold for a random split by query instead")
    require_columns(queries, (QID, time_column), caller="time_ordered_split")
    if not isinstance(test_fraction, (float, int)) or not 0 < test_fraction < 1:
        raise ConfigError(f"The 'test_fraction' parameter of time_ordered_split must be a float in (0, 1). "
                          f"Got {test_fraction!r} instead.")
    qids = as_id_array(queries[QID].to_numpy())
    if len(set(qids.tolist())) != len(qids):
        raise DataError("time_ordered_split needs one row per query; duplicated qids "
                        f"{pd.Index(qids)[pd.Index(qids).duplicated()].unique()[:5].tolist()}")
    times = queries[time_column]
    missing = times.isna().to_numpy()
    if missing.any():
        raise DataError(f"time_ordered_split: {int(missing.sum())} queries have no {time_column!r}, e.g. "
                        f"{qids[missing][:5].tolist()}; give them a time or drop them")
    n = len(qids)
    if n < 2:
        raise DataError(f"time_ordered_split needs at least 2 queries, got {n}")
    keys = times.to_numpy()
    order = np.lexsort((qids, keys))          # by time, then qid
    qids_sorted, keys_sorted = qids[order], keys[order]
    n_test = int(np.ceil(test_fraction * n))
    cut = n - n_test
    # every query with the boundary time goes to the test side (train strictly older than test)
    cut = int(np.searchsorted(keys_sorted, keys_sorted[cut], side="left"))
    if cut == 0:
        raise DataError(f"time_ordered_split: the query at the train/test boundary has the oldest time "
                        f"({keys_sorted[0]}), so no query is strictly older than the test set; "
                        f"use a smaller test_fraction or query_kfold")
    return QuerySplit("time", qids_sorted[:cut], qids_sorted[cut:])


def holdout_queries(qids, fraction: float, *, seed: int = 0, times=None) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``fraction`` of the distinct ``qids`` for validation; returns ``(kept, held_out)``.

    ``n_valid = max(1, round(fraction * n))`` queries (at most ``n - 1``) are held out: a seeded
    ``numpy.random.default_rng(seed)`` permutation of the qids in their order of first appearance (as
    ``../shared/data/REFERENCE.md`` holds out MSLR queries), or, when ``times`` gives each qid's time, the
    newest ones (ties by qid), so that validation never looks into the future of training. Both outputs keep
    the input order.

    >>> kept, held = holdout_queries(["a", "b", "c", "d", "e"], 0.2, seed=0)
    >>> len(kept), len(held)
    (4, 1)
    """
    uniq = _unique_in_order(qids)
    n = len(uniq)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ConfigError(f"The hold-out fraction must be a float in (0, 1). Got {fraction!r} instead.")
    if n < 2:
        raise DataError(f"holding out validation queries needs at least 2 training queries, got {n}")
    n_valid = min(max(1, int(round(fraction * n))), n - 1)
    if times is None:
        chosen = uniq[np.random.default_rng(seed).permutation(n)[:n_valid]]
    else:
        times = np.asarray(times)
        if len(times) != n:
            raise DataError(f"holdout_queries got {n} distinct qids but {len(times)} times")
        chosen = uniq[np.lexsort((uniq.astype(str), times))[-n_valid:]]
    held = np.isin(uniq, chosen)
    return uniq[~held], uniq[held]


@dataclass(frozen=True)
class KFold:
    """``kfold(k=5)``: :func:`query_kfold` over the judged queries."""

    k: int = 5
    name = "kfold"
    needs_time = False

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 2:
            raise ConfigError(f"The 'k' parameter of split 'kfold' must be an integer >= 2. Got {self.k!r} "
                              f"instead.")

    def split(self, queries: pd.DataFrame, *, seed: int = 0) -> list[QuerySplit]:
        return query_kfold(queries[QID].to_numpy(), self.k, seed=seed)


@dataclass(frozen=True)
class TimeSplit:
    """``time(test_fraction=0.2)``: :func:`time_ordered_split` (needs query times)."""

    test_fraction: float = 0.2
    name = "time"
    needs_time = True

    def __post_init__(self):
        f = self.test_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
            raise ConfigError(f"The 'test_fraction' parameter of split 'time' must be a float in (0, 1). Got "
                              f"{f!r} instead.")

    def split(self, queries: pd.DataFrame, *, seed: int = 0) -> list[QuerySplit]:
        return [time_ordered_split(queries, QUERY_TIME, self.test_fraction)]


#: Declarable splits by name.
SPLITTERS: dict[str, type] = {KFold.name: KFold, TimeSplit.name: TimeSplit}


def get_splitter(spec) -> KFold | TimeSplit:
    """A split from its printed form (``"kfold(k=3)"``); unknown names and parameters list the valid ones.

    >>> get_splitter("kfold(k=3)")
    KFold(k=3)
    >>> splitter_spec(get_splitter("kfold"))
    'kfold'
    """
    if isinstance(spec, tuple(SPLITTERS.values())):
        return spec
    parsed = parse_spec(spec, what="split")
    cls = select(SPLITTERS, parsed.name, what="split")
    if parsed.cutoff is not None:
        raise ConfigError(f"split {spec!r} takes no @cutoff; write e.g. 'kfold(k=5)'")
    check_params(parsed.params, {f.name: f.default for f in dataclasses.fields(cls)}, owner=f"split {parsed.name!r}")
    return cls(**parsed.params)


def splitter_spec(splitter) -> str:
    """The printed form of a split (parameters at their defaults omitted)."""
    params = dataclasses.asdict(splitter)
    defaults = {f.name: f.default for f in dataclasses.fields(splitter)}
    return format_spec(splitter.name, params, defaults=defaults)
