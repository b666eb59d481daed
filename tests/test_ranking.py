"""RankingDataset weights: per row, per query through with_query_weights, carried by take/subset_queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.errors import DataError, SchemaError
from ltr.ranking import RankingDataset


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
