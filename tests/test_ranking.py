"""RankingDataset: weights (per row, per query through with_query_weights, carried by take/subset_queries), and the
helpers whose cost grows with the data: the fingerprint and the synthetic docids.

Oracles: hashlib over the arrays' bytes (the fingerprint's definition); the zero-padded row numbers written
out by hand; tracemalloc's count of the bytes allocated (neither may copy X or make one str per row).
"""

from __future__ import annotations

import hashlib
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ltr.errors import DataError, SchemaError
from ltr.ranking import RankingDataset, synthetic_docids


def _ds(weights=None):
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    return RankingDataset(X, [0, 1, 2, 0, 1, 0], ["a", "a", "a", "b", "b", "c"], weights=weights)


def test_per_row_and_per_query_weights():
    ds = _ds([1, 2, 3, 4, 5, 6])
    assert ds.weights.dtype == np.float64 and ds.weights.tolist() == [1, 2, 3, 4, 5, 6]
    by_query = ds.with_query_weights({"a": 2.0, "b": 0.5, "c": 1.0})
    assert by_query.weights.tolist() == [2, 2, 2, 0.5, 0.5, 1]
    assert ds.with_query_weights(np.array([2.0, 0.5, 1.0])).weights.tolist() == by_query.weights.tolist()
    assert ds.with_query_weights(pd.Series({"a": 2.0, "b": 0.5, "c": 1.0})).weights.tolist() == by_query.weights.tolist()
    part = by_query.subset_queries(["b", "c"])
    assert part.weights.tolist() == [0.5, 0.5, 1] and part.qids.tolist() == ["b", "b", "c"]
    assert by_query.take([3, 4]).weights.tolist() == [0.5, 0.5]


def test_weights_are_validated():
    with pytest.raises(SchemaError, match=r"weights must have shape \(6,\), one per row; got shape \(3,\)"):
        _ds([1, 2, 3])
    with pytest.raises(DataError, match=r"weights must be finite and >= 0; row 1 has -1\.0 \(1 such rows\)"):
        _ds([1, -1, 1, 1, 1, 1])
    with pytest.raises(DataError, match=r"row 0 has nan"):
        _ds([np.nan, 1, 1, 1, 1, 1])
    with pytest.raises(DataError, match=r"every weight is 0"):
        _ds(np.zeros(6))
    with pytest.raises(DataError, match=r"query weights name no weight for 1 queries \(first: 'c'\)"):
        _ds().with_query_weights({"a": 1.0, "b": 1.0})
    with pytest.raises(SchemaError, match=r"2 query weights for 3 queries"):
        _ds().with_query_weights([1.0, 2.0])


def test_fingerprint_keeps_unweighted_data_unchanged_and_sees_weights():
    """Unweighted data keep the fingerprint they had before weights existed (results folders stay valid);
    weights change it."""
    plain, weighted = _ds(), _ds(np.ones(6))
    assert plain.fingerprint() == _ds().fingerprint() != weighted.fingerprint()
    assert weighted.fingerprint() != _ds(np.full(6, 2.0)).fingerprint()


def test_from_frame_reads_a_weight_column():
    frame = _ds().to_frame().assign(w=[1.0, 1, 1, 2, 2, 3])
    ds = RankingDataset.from_frame(frame, weight="w")
    assert ds.weights.tolist() == [1, 1, 1, 2, 2, 3] and ds.feature_names == ["f1", "f2"]
    with pytest.raises(SchemaError, match=r"lacks the weight column 'wt'"):
        RankingDataset.from_frame(frame, weight="wt")


def _reference_fingerprint(ds: RankingDataset) -> str:
    h = hashlib.sha256()
    parts = (ds.X.indptr, ds.X.indices, ds.X.data) if sp.issparse(ds.X) else (ds.X,)
    for part in parts:
        h.update(part.tobytes())
    h.update(ds.labels.tobytes())
    for arr in (ds.qids, ds.docids, np.asarray(ds.feature_names, dtype=object)):
        h.update("\x1f".join(arr.tolist()).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def test_fingerprint_is_the_hash_of_the_bytes_and_copies_nothing():
    """Oracle: hashlib on .tobytes() of each part; tracemalloc (X is 40 MB; the fingerprint used to copy it)."""
    rng = np.random.default_rng(0)
    X = rng.random((100_000, 100)).astype(np.float32)
    ds = RankingDataset(X, rng.integers(0, 3, 100_000).astype(float), np.repeat(np.arange(1000).astype(str), 100))
    assert ds.fingerprint() == _reference_fingerprint(ds)
    tracemalloc.start()
    try:
        ds.fingerprint()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 10, peak
    small = RankingDataset(sp.csr_matrix(X[:50]), ds.labels[:50], ds.qids[:50])
    assert small.fingerprint() == _reference_fingerprint(small)


def test_synthetic_docids_share_one_string_per_position():
    """Oracle: the row numbers within each query, zero-padded to the widest (written out)."""
    assert synthetic_docids([2, 11, 1]).tolist() == ["00", "01"] + [f"{i:02d}" for i in range(11)] + ["00"]
    ids = synthetic_docids([1000] * 200)
    assert ids[0] is ids[1000] and len({id(x) for x in ids}) == 1000
