"""The ranking dataset: a feature matrix whose rows are grouped by query.

Rows keep their file order. Each query is one contiguous block of rows; qids are never re-sorted
(as strings "106" sorts before "16", so re-sorting would silently reorder a LETOR file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ltr.errors import DataError, GroupError, SchemaError
from ltr.schema import DOCID, FEATURE_DTYPE, LABEL, LABEL_DTYPE, QID, as_id_array, check_group_sizes  # noqa: F401 (re-exported)


def group_sizes_from_qids(qids, *, source: str = "the data") -> np.ndarray:
    """Sizes of the contiguous query blocks of ``qids``, in row order.

    Raises :class:`GroupError` if a query appears in two separate blocks, naming the query and the rows.

    >>> group_sizes_from_qids(["b", "b", "a"]).tolist()
    [2, 1]
    """
    qids = as_id_array(qids)
    n = len(qids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, qids[1:] != qids[:-1]])
    block_qids = qids[starts]
    uniq, first, counts = np.unique(block_qids, return_index=True, return_counts=True)
    if len(uniq) != len(block_qids):
        bad = uniq[counts > 1][0]
        rows = np.flatnonzero(qids == bad)
        gaps = np.flatnonzero(np.diff(rows) > 1)
        raise GroupError(
            f"query {bad!r} in {source} is split into {int(counts[counts > 1][0])} non-contiguous blocks "
            f"(rows {rows[0]}..{rows[gaps[0]]} and {rows[gaps[0] + 1]}..): each query must be one block of "
            f"rows. Fix: sort the rows by qid with a stable sort (e.g. "
            f"frame.sort_values('qid', kind='stable')), which keeps the order inside each query.")
    return np.diff(np.r_[starts, n]).astype(np.int64)


def synthetic_docids(group_sizes) -> np.ndarray:
    """Zero-padded docids ``"<row within query>"`` for files without docids, so byte order = row order.

    >>> synthetic_docids([2, 11])[:3].tolist()
    ['00', '01', '00']
    """
    sizes = np.asarray(group_sizes, dtype=np.int64)
    if sizes.size == 0:
        return np.zeros(0, dtype=object)
    width = max(1, len(str(int(sizes.max()) - 1)))
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    # one str per distinct position, shared by every query (millions of rows, a few thousand strings)
    names = np.array([str(i).zfill(width) for i in range(int(sizes.max()))], dtype=object)
    return names[within]


@dataclass(frozen=True, eq=False)
class ClickCounts:
    """Clicks and impressions of each row of an aggregated click training set, by display position.

    Built by :func:`ltr.clicks.training.click_training_set`; the IPS objectives
    (:mod:`ltr.objectives.unbiased`) derive their training labels from it.

    Attributes
    ----------
    clicks, impressions : ndarray of shape (n_rows, n_positions), int64
        ``clicks[r, k - 1]``: clicks on row r's (qid, docid) while shown at position k; ``impressions``
        the times it was shown there. A row never shown has a row of zeros.
    propensities : ndarray of shape (n_positions,), float64, or None
        Relative examination ``p_k / p_1`` per position (the simulator's truth or an estimate), or None
        when unknown (the IPS objectives then refuse the set).
    source : str
        Where the propensities came from (for reports).
    """

    clicks: np.ndarray
    impressions: np.ndarray
    propensities: np.ndarray | None = None
    source: str = ""

    def __post_init__(self):
        c = np.asarray(self.clicks, dtype=np.int64)
        n = np.asarray(self.impressions, dtype=np.int64)
        if c.ndim != 2 or c.shape != n.shape:
            raise SchemaError(f"ClickCounts: clicks and impressions must be 2-D of one shape (n_rows, "
                              f"n_positions); got {c.shape} and {n.shape}")
        if np.any(c < 0) or np.any(c > n):
            raise DataError("ClickCounts: clicks must be between 0 and the impressions at each position")
        object.__setattr__(self, "clicks", c)
        object.__setattr__(self, "impressions", n)
        if self.propensities is not None:
            p = np.asarray(self.propensities, dtype=np.float64).reshape(-1)
            if p.shape[0] < c.shape[1] or np.any(~np.isfinite(p)) or np.any(p < 0):
                raise DataError(f"ClickCounts: propensities must be {c.shape[1]} finite values >= 0 (one per "
                                f"position 1..{c.shape[1]}); got {p.shape[0]} values")
            object.__setattr__(self, "propensities", p[:c.shape[1]])

    @property
    def n_positions(self) -> int:
        return self.clicks.shape[1]

    def take(self, rows) -> "ClickCounts":
        return ClickCounts(self.clicks[rows], self.impressions[rows], self.propensities, self.source)

    def with_propensities(self, propensities, source: str = "") -> "ClickCounts":
        """The same counts with other propensities (e.g. an estimate instead of the truth)."""
        return ClickCounts(self.clicks, self.impressions, propensities, source)


@dataclass(eq=False)
class RankingDataset:
    """Features, labels and query ids of (query, document) rows grouped by query.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_rows, n_features), float32
    labels : ndarray of shape (n_rows,), float64
        Binary, graded (0..k) or real-valued relevance. NaN where unknown (e.g. a test file without labels
        is not a thing in LETOR, so NaN is refused by the readers).
    qids : ndarray of shape (n_rows,), str
        Each query one contiguous block of rows.
    docids : ndarray of shape (n_rows,), str, optional
        Defaults to zero-padded row numbers within each query (:func:`synthetic_docids`).
    feature_names : list of str, optional
        Defaults to ``"f1".."fN"`` (LETOR feature ids are 1-based).
    name : str
        Where the data came from, used in messages.
    weights : ndarray of shape (n_rows,), float64, optional
        Training weight of each row: finite, >= 0, not all 0 (None: every row weighs 1). A per-query
        weight is the same value on every row of the query (:meth:`with_query_weights` builds that). How a
        backend applies them: LightGBM multiplies each row's gradient and hessian by its weight, for every
        objective (ranking ones included); XGBoost's ranking objectives take one weight per query, so
        there the weights must be constant inside each query (else a DataError), and XGBoost scales them to
        mean 1; XGBoost's pointwise objectives weight rows. A validation set's weights weight the
        early-stopping metric's mean over queries by the mean row weight of each query (LightGBM's rule for
        its ranking metrics). Not written by :meth:`to_frame`.
    positions : ndarray of shape (n_rows,), int32, optional
        1-based display position of each row, for click training sets with one row per impression (each
        query block is one SERP in display order); the position-aware objectives (``lambdarank_unbiased``,
        ``lambdarank_position``) need it. Not written by :meth:`to_frame`.
    clicks : ClickCounts, optional
        Clicks and impressions per display position of each row (aggregated click training sets); the
        IPS objectives derive their labels from it.
    """

    X: np.ndarray | sp.spmatrix
    labels: np.ndarray
    qids: np.ndarray
    docids: np.ndarray | None = None
    feature_names: list[str] | None = None
    name: str = "dataset"
    weights: np.ndarray | None = None
    positions: np.ndarray | None = None
    clicks: ClickCounts | None = None
    group_sizes: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        if sp.issparse(self.X):
            self.X = sp.csr_matrix(self.X, dtype=FEATURE_DTYPE)
        else:
            self.X = np.asarray(self.X, dtype=FEATURE_DTYPE)
            if self.X.ndim != 2:
                raise SchemaError(f"X of {self.name} must be 2-D, got shape {self.X.shape}")
        n = self.X.shape[0]
        self.labels = np.asarray(self.labels, dtype=LABEL_DTYPE).reshape(-1)
        self.qids = as_id_array(self.qids)
        for what, arr in (("labels", self.labels), ("qids", self.qids)):
            if len(arr) != n:
                raise SchemaError(f"{self.name}: X has {n} rows but {what} has {len(arr)}")
        self.group_sizes = group_sizes_from_qids(self.qids, source=self.name)
        if self.docids is None:
            self.docids = synthetic_docids(self.group_sizes)
        else:
            self.docids = as_id_array(self.docids)
            if len(self.docids) != n:
                raise SchemaError(f"{self.name}: X has {n} rows but docids has {len(self.docids)}")
        if self.feature_names is None:
            self.feature_names = [f"f{i + 1}" for i in range(self.X.shape[1])]
        self.feature_names = [str(f) for f in self.feature_names]
        if len(self.feature_names) != self.X.shape[1]:
            raise SchemaError(f"{self.name}: X has {self.X.shape[1]} columns but {len(self.feature_names)} "
                              f"feature names were given")
        if len(set(self.feature_names)) != len(self.feature_names):
            dup = pd.Index(self.feature_names)[pd.Index(self.feature_names).duplicated()].tolist()
            raise SchemaError(f"{self.name}: duplicate feature names {dup}")
        if self.weights is not None:
            self.weights = _check_weights(self.weights, n, self.name)
        if self.positions is not None:
            pos = np.asarray(self.positions)
            if pos.shape != (n,):
                raise SchemaError(f"{self.name}: positions must have shape ({n},), one per row; got {pos.shape}")
            if pos.size and (not np.issubdtype(pos.dtype, np.integer) and np.any(pos != np.round(pos))
                             or pos.min() < 1):
                raise DataError(f"{self.name}: positions must be 1-based integers (1 = top)")
            self.positions = pos.astype(np.int32)
        if self.clicks is not None:
            if not isinstance(self.clicks, ClickCounts):
                raise SchemaError(f"{self.name}: clicks must be a ClickCounts, got {type(self.clicks).__name__}")
            if self.clicks.clicks.shape[0] != n:
                raise SchemaError(f"{self.name}: X has {n} rows but clicks has {self.clicks.clicks.shape[0]}")

    # -- shape -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.X.shape[0]

    @property
    def n_queries(self) -> int:
        return len(self.group_sizes)

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def query_offsets(self) -> np.ndarray:
        """Row offsets of the query blocks, shape (n_queries + 1,)."""
        return np.r_[0, np.cumsum(self.group_sizes)].astype(np.int64)

    @property
    def unique_qids(self) -> np.ndarray:
        """Qids in row order, one per query."""
        return self.qids[self.query_offsets[:-1]]

    def dense_X(self) -> np.ndarray:
        """X as a dense float32 array (sparse input is densified; missing features are 0, as in LETOR)."""
        return self.X.toarray() if sp.issparse(self.X) else self.X

    # -- derived views ---------------------------------------------------------------------------
    def subset_queries(self, qids) -> "RankingDataset":
        """The rows of the given queries, in this dataset's row order."""
        wanted = set(as_id_array(qids).tolist())
        missing = wanted - set(self.unique_qids.tolist())
        if missing:
            raise DataError(f"{self.name} has no queries {sorted(missing)[:10]}")
        mask = np.fromiter((q in wanted for q in self.qids), dtype=bool, count=len(self.qids))
        return self.take(np.flatnonzero(mask))

    def take(self, rows) -> "RankingDataset":
        """A new dataset of the given rows (which must keep each query contiguous)."""
        rows = np.asarray(rows, dtype=np.int64)
        return RankingDataset(self.X[rows], self.labels[rows], self.qids[rows], self.docids[rows],
                              list(self.feature_names), name=self.name,
                              weights=None if self.weights is None else self.weights[rows],
                              positions=None if self.positions is None else self.positions[rows],
                              clicks=None if self.clicks is None else self.clicks.take(rows))

    def with_query_weights(self, weights) -> "RankingDataset":
        """A copy whose rows weigh their query's weight.

        ``weights`` is a mapping ``qid -> weight`` naming every query, or an array of shape (n_queries,) in
        the order of :attr:`unique_qids`.
        """
        if isinstance(weights, dict) or hasattr(weights, "to_dict"):
            table = dict(weights.to_dict() if hasattr(weights, "to_dict") else weights)
            table = {str(k): v for k, v in table.items()}
            missing = [q for q in self.unique_qids.tolist() if q not in table]
            if missing:
                raise DataError(f"{self.name}: query weights name no weight for {len(missing)} queries "
                                f"(first: {missing[0]!r}); give every query a weight")
            per_query = np.array([table[q] for q in self.unique_qids.tolist()], dtype=np.float64)
        else:
            per_query = np.asarray(weights, dtype=np.float64).reshape(-1)
            if per_query.shape[0] != self.n_queries:
                raise SchemaError(f"{self.name}: {per_query.shape[0]} query weights for {self.n_queries} queries")
        return RankingDataset(self.X, self.labels, self.qids, self.docids, list(self.feature_names),
                              name=self.name, weights=np.repeat(per_query, self.group_sizes),
                              positions=self.positions, clicks=self.clicks)

    def to_frame(self) -> pd.DataFrame:
        """A FEATURES frame: qid, docid, label and one float32 column per feature."""
        cols = {QID: pd.Series(self.qids, dtype=object), DOCID: pd.Series(self.docids, dtype=object),
                LABEL: self.labels}
        feats = pd.DataFrame(self.dense_X(), columns=self.feature_names)
        return pd.concat([pd.DataFrame(cols), feats], axis=1)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, feature_names=None, *, label: str | None = LABEL,
                   name: str = "frame", weight: str | None = None) -> "RankingDataset":
        """Build from a FEATURES frame (qid, docid, [label], feature columns) in its row order.

        ``feature_names`` defaults to every column except qid, docid, label, ``weight`` and other object
        columns. A frame without labels gets NaN labels (fine for prediction, refused by training).
        ``weight`` names a column of per-row weights (see :attr:`weights`).
        """
        if QID not in frame.columns:
            raise SchemaError(f"RankingDataset.from_frame needs columns ['qid'] (found {list(frame.columns)})")
        if weight is not None and weight not in frame.columns:
            raise SchemaError(f"{name} lacks the weight column {weight!r} (found {list(frame.columns)})")
        if feature_names is None:
            skip = {QID, DOCID, label, weight}
            feature_names = [c for c in frame.columns
                             if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
        missing = [c for c in feature_names if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name} lacks feature columns {missing} (found {list(frame.columns)})")
        X = frame[list(feature_names)].to_numpy(dtype=FEATURE_DTYPE)
        y = frame[label].to_numpy(dtype=LABEL_DTYPE) if label in frame.columns else np.full(len(frame), np.nan)
        docids = frame[DOCID].to_numpy() if DOCID in frame.columns else None
        w = frame[weight].to_numpy(dtype=np.float64) if weight is not None else None
        return cls(X, y, frame[QID].to_numpy(), docids, list(feature_names), name=name, weights=w)

    def fingerprint(self) -> str:
        """SHA-256 of the content (X, labels, qids, docids, feature names), for manifests and caches."""
        h = hashlib.sha256()
        X = self.X
        # hash the arrays' buffers in place (the same bytes as .tobytes(), without a copy of X)
        if sp.issparse(X):
            for part in (X.indptr, X.indices, X.data):
                h.update(np.ascontiguousarray(part))
        else:
            h.update(np.ascontiguousarray(X))
        h.update(np.ascontiguousarray(self.labels))
        for arr in (self.qids, self.docids, np.asarray(self.feature_names, dtype=object)):
            h.update("\x1f".join(arr.tolist()).encode())
            h.update(b"\x1e")
        if self.weights is not None:          # unweighted data keep the fingerprint they always had
            h.update(b"weights\x1e" + self.weights.tobytes())
        if self.positions is not None:        # likewise for click training sets' positions and counts
            h.update(b"positions\x1e" + self.positions.tobytes())
        if self.clicks is not None:
            c = self.clicks
            h.update(b"clicks\x1e" + c.clicks.tobytes() + c.impressions.tobytes())
            if c.propensities is not None:
                h.update(b"propensities\x1e" + c.propensities.tobytes())
        return h.hexdigest()


def _check_weights(weights, n_rows: int, name: str) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n_rows:
        raise SchemaError(f"{name}: weights must have shape ({n_rows},), one per row; got shape {w.shape}")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise DataError(f"{name}: weights must be finite and >= 0; row {int(bad[0])} has {float(w[bad[0]])!r} "
                        f"({bad.size} such rows)")
    if n_rows and not np.any(w > 0):
        raise DataError(f"{name}: every weight is 0, so nothing would be learned; give some rows a weight > 0")
    return w
