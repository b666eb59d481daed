"""Recency: the document's age at query time, its exponential decay, and a flag for documents from the future.

Which time is "now" for a pair, in order of precedence:

1. the pairs' ``query_time`` column, when the pairs carry one (rows where it is NaT fall through);
2. the collection's ``queries.query_time`` of the pair's qid, when the collection has query times;
3. the ``reference_time`` parameter, else the collection's ``reference_time`` (a documented date per
   loader, for collections whose queries carry no time, such as CACM and Cranfield).

After ``fit``, ``time_source_`` says which one applies (``"query_time"``, or e.g.
``"collection reference_time 1980-01-01"``), so that a report can state against what age was measured.

Leak rule: a document newer than the query time (``recency__is_future == 1``) could not have been seen
when the query was issued. With time-ordered splits the pipeline must drop such candidates from training
(and from evaluation, when simulating a live system); :func:`future_mask` gives the rows to drop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.base import FeatureExtractor, register
from features.pagerank import lookup_docs
from ltr.collection import TIMESTAMP, Collection
from ltr.errors import ConfigError
from ltr.schema import DOCID, QID, QUERY_TIME

__all__ = ["Recency", "future_mask"]

_DAY = pd.Timedelta(days=1)


def _utc(values) -> pd.DatetimeIndex:
    """Times as UTC (naive times are taken to be UTC)."""
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True))


def _naive_utc(values) -> np.ndarray:
    """Times as naive-UTC ``datetime64[ns]`` (NaT where missing), for exact integer arithmetic."""
    return _utc(values).tz_convert(None).as_unit("ns").to_numpy().copy()  # writable (pandas views are not)


@register
class Recency(FeatureExtractor):
    """Age of the document at query time.

    Features (``recency__<feature>``), with :math:`a` the age in days (query time minus document
    timestamp, fractional, negative for a document newer than the query):

    - ``age_days``: :math:`a`;
    - ``log_age_days``: :math:`\\operatorname{sign}(a) \\ln(1 + |a|)` (``log1p(a)`` for the usual
      :math:`a \\ge 0`, and defined for future documents too);
    - ``decay``: :math:`0.5^{a / h}` with :math:`h` = ``half_life_days`` (1 at age 0, 0.5 at age
      :math:`h`; above 1 for future documents);
    - ``is_future``: 1 when :math:`a < 0`, else 0.

    A document without a timestamp, or a pair without any query or reference time, gets NaN in every
    column (never a silent 0). A pair whose docid is not in the collection raises :class:`DataError`.

    Parameters
    ----------
    half_life_days : float, default=365.0
        Age at which ``decay`` is 0.5.
    reference_time : str or None, default=None
        "Now" for queries without a time, e.g. ``"2024-01-01"`` (UTC). Default: the collection's
        ``reference_time``.

    Attributes
    ----------
    time_source_ : str
        ``"query_time"``, ``"collection reference_time <date>"``, ``"reference_time parameter <date>"``,
        or a combination when only some queries carry a time.
    """

    name = "recency"
    requires = (QID, DOCID)

    def __init__(self, *, half_life_days: float = 365.0, reference_time: str | None = None):
        self.half_life_days, self.reference_time = half_life_days, reference_time

    def fit(self, collection: Collection) -> Recency:
        h = self.half_life_days
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not np.isfinite(h) or h <= 0:
            raise ConfigError(f"The 'half_life_days' parameter of Recency must be a float > 0. Got {h!r} instead.")
        if not collection.has_timestamps:
            raise ConfigError(f"Collection {collection.name!r} has no document timestamps, so recency is "
                              f"undefined; drop the 'recency' extractor for it")
        # Step 1: what "now" is when a query carries no time
        if self.reference_time is not None:
            try:
                ref = _utc([self.reference_time])[0]
            except (ValueError, TypeError):
                raise ConfigError(f"The 'reference_time' parameter of Recency must be a date such as "
                                  f"'2024-01-01'. Got {self.reference_time!r} instead.") from None
            ref_name = f"reference_time parameter {ref.date()}"
        elif collection.reference_time is not None:
            ref = _utc([collection.reference_time])[0]
            ref_name = f"collection reference_time {ref.date()}"
        else:
            ref, ref_name = pd.NaT, None
        # Step 2: per-query times from the collection
        if collection.has_query_times:
            qtimes = pd.Series(_utc(collection.queries[QUERY_TIME]), index=collection.queries[QID].to_numpy())
        else:
            qtimes = pd.Series(pd.DatetimeIndex([], tz="UTC"), index=pd.Index([], dtype=object))
        n_timed = int(qtimes.notna().sum())
        n_queries = len(collection.queries)
        if n_queries and n_timed == n_queries:
            source = "query_time"
        elif n_timed:
            source = f"query_time where present, else {ref_name or 'none (NaN features)'}"
        else:
            source = ref_name or "none: no query times and no reference_time (NaN features)"
        self.reference_time_ = ref
        self.query_times_ = qtimes
        self.timestamps_ = pd.Series(_utc(collection.documents[TIMESTAMP]),
                                     index=pd.Index(collection.documents[DOCID].to_numpy(), name=DOCID))
        self.time_source_ = source
        return self

    def feature_names_out(self) -> list[str]:
        return [f"{self.name}__{f}" for f in ("age_days", "log_age_days", "decay", "is_future")]

    def _query_times(self, pairs: pd.DataFrame) -> np.ndarray:
        """Each pair's "now" as naive-UTC datetime64[ns] (NaT where unknown), by the module's precedence."""
        times = np.full(len(pairs), np.datetime64("NaT"), dtype="datetime64[ns]")
        if QUERY_TIME in pairs.columns:
            times = _naive_utc(pairs[QUERY_TIME].to_numpy())
        missing = np.isnat(times)
        if missing.any() and len(self.query_times_):
            pos = self.query_times_.index.get_indexer(pairs[QID].to_numpy()[missing])
            known = _naive_utc(self.query_times_.to_numpy())
            times[np.flatnonzero(missing)[pos >= 0]] = known[pos[pos >= 0]]
            missing = np.isnat(times)
        if missing.any() and not pd.isna(self.reference_time_):
            times[missing] = _naive_utc([self.reference_time_])[0]
        return times

    def age_days(self, pairs: pd.DataFrame) -> np.ndarray:
        """Age of each pair's document in days at its query time (float64, NaN where unknown)."""
        self._check_fitted("timestamps_")
        self._check_pairs(pairs)
        pos = lookup_docs(self.timestamps_.to_frame(), pairs[DOCID].to_numpy(), owner="Recency.transform")
        doc_times = _naive_utc(self.timestamps_.to_numpy())[pos]
        delta = self._query_times(pairs) - doc_times  # NaT propagates
        return delta / np.timedelta64(1, "D")  # float64 days, NaN where NaT

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        age = self.age_days(pairs).astype(np.float64)
        with np.errstate(invalid="ignore"):
            log_age = np.sign(age) * np.log1p(np.abs(age))
            decay = np.power(0.5, age / float(self.half_life_days))
            future = np.where(np.isnan(age), np.nan, (age < 0).astype(np.float64))
        return self._frame(dict(zip(self.feature_names_out(), (age, log_age, decay, future))), pairs)


def future_mask(pairs: pd.DataFrame, collection: Collection, *, reference_time: str | None = None) -> np.ndarray:
    """Rows of ``pairs`` whose document is newer than the query time (to drop from training).

    Uses the same time rules as :class:`Recency`. Documents without a timestamp are *not* flagged (their
    age is unknown); collections without timestamps give an all-False mask.

    Parameters
    ----------
    pairs : DataFrame with ``qid``, ``docid`` (and optionally ``query_time``)
    collection : Collection
    reference_time : str, optional
        As in :class:`Recency`.

    Returns
    -------
    ndarray of bool of shape (len(pairs),)
    """
    if not collection.has_timestamps:
        return np.zeros(len(pairs), dtype=bool)
    age = Recency(reference_time=reference_time).fit(collection).age_days(pairs)
    return np.asarray(age < 0, dtype=bool)  # NaN < 0 is False
