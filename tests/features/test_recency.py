"""The ``recency`` extractor and ``future_mask``."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from features.base import check_extractor, get_extractor
from features.recency import Recency, future_mask
from ltr.collection import Collection
from ltr.errors import ConfigError, DataError

DOC_TIMES = {"d1": "2020-01-01", "d2": "2021-06-15", "d3": None, "d4": "2023-03-01", "d5": "2019-12-31",
             "d6": "2022-02-02"}  # the tiny collection's timestamps


def _age_by_hand(doc_ts: str | None, query_ts: str) -> float:
    """Oracle: the standard library's datetime arithmetic."""
    if doc_ts is None:
        return float("nan")
    d = datetime.fromisoformat(doc_ts).replace(tzinfo=UTC)
    q = datetime.fromisoformat(query_ts).replace(tzinfo=UTC)
    return (q - d).total_seconds() / 86400.0


def test_contract(tiny_collection, tiny_pairs):
    """Contract: features.base.check_extractor (default and non-default parameters)."""
    check_extractor(Recency(), tiny_collection, tiny_pairs)
    check_extractor(get_extractor("recency(half_life_days=30.0, reference_time='2030-01-01')"), tiny_collection,
                    tiny_pairs)


def test_values_against_datetime(tiny_collection, tiny_pairs):
    """Oracle: datetime arithmetic; log, decay and the flag from their formulas."""
    r = Recency(half_life_days=100.0).fit(tiny_collection)
    out = r.transform(tiny_pairs)
    docs = DOC_TIMES
    queries = {"q1": "2022-01-01", "q2": "2023-01-01", "q3": "2024-01-01"}
    age = np.array([_age_by_hand(docs[d], queries[q]) for q, d in zip(tiny_pairs["qid"], tiny_pairs["docid"])])
    np.testing.assert_array_equal(out["recency__age_days"].to_numpy(), age.astype(np.float32))
    np.testing.assert_allclose(out["recency__log_age_days"], np.sign(age) * np.log1p(np.abs(age)), rtol=1e-6)
    np.testing.assert_allclose(out["recency__decay"], 0.5 ** (age / 100.0), rtol=1e-6)
    np.testing.assert_array_equal(out["recency__is_future"], np.where(np.isnan(age), np.nan, age < 0))
    # the missing timestamp of d3 gives NaN in every column, never 0
    assert out[tiny_pairs["docid"] == "d3"].isna().all().all()
    assert r.time_source_ == "query_time"


def test_query_time_precedence(tiny_collection, tiny_pairs):
    """Rule: pairs' query_time > collection's query_time by qid > reference_time (parameter, then collection)."""
    pairs = tiny_pairs[["qid", "docid"]]
    r = Recency().fit(tiny_collection)
    # without the pairs' column, the collection's per-qid times give the same features
    pd.testing.assert_frame_equal(r.transform(pairs), r.transform(tiny_pairs))
    # the pairs' own column wins over the collection's
    moved = tiny_pairs.assign(query_time=pd.Timestamp("2030-01-01", tz="UTC"))
    expected = np.array([_age_by_hand(DOC_TIMES[d], "2030-01-01") for d in pairs["docid"]])
    np.testing.assert_array_equal(r.transform(moved)["recency__age_days"], expected.astype(np.float32))
    # a NaT in the pairs' column falls back to the collection's time for that qid
    holey = tiny_pairs.copy()
    holey.loc[holey.index[:5], "query_time"] = pd.NaT
    pd.testing.assert_frame_equal(r.transform(holey), r.transform(tiny_pairs))


def test_reference_time_when_queries_have_no_time(tiny_collection, tiny_pairs):
    """Rule: without query times, age is taken against the collection's reference_time, and time_source_ says so."""
    c = tiny_collection
    untimed = Collection("untimed", c.documents, c.queries[["qid", "query"]], c.qrels, c.fields, c.links,
                         reference_time=pd.Timestamp("1990-06-01", tz="UTC"))
    pairs = tiny_pairs[["qid", "docid"]]
    r = Recency().fit(untimed)
    assert r.time_source_ == "collection reference_time 1990-06-01"
    d1 = r.transform(pairs)[pairs["docid"] == "d1"]["recency__age_days"]
    assert (d1 == np.float32(_age_by_hand("2020-01-01", "1990-06-01"))).all()
    assert (r.transform(pairs)[pairs["docid"] != "d3"]["recency__is_future"] == 1).all()
    p = Recency(reference_time="2025-01-01").fit(untimed)
    assert p.time_source_ == "reference_time parameter 2025-01-01"
    # no time at all: NaN features, and the attribute says so
    timeless = Collection("timeless", c.documents, c.queries[["qid", "query"]], c.qrels, c.fields)
    r = Recency().fit(timeless)
    assert r.time_source_.startswith("none")
    assert r.transform(pairs).isna().all().all()


def test_future_mask(tiny_collection, tiny_pairs):
    """Rule: future documents are flagged; documents without a timestamp are not."""
    mask = future_mask(tiny_pairs, tiny_collection)
    future = {("q1", "d4"), ("q1", "d6"), ("q2", "d4")}
    expected = [(q, d) in future for q, d in zip(tiny_pairs["qid"], tiny_pairs["docid"])]
    assert mask.dtype == bool and mask.tolist() == expected


def test_errors(tiny_collection):
    """Messages: bad parameters, a collection without timestamps, unknown docids."""
    with pytest.raises(ConfigError, match=r"'half_life_days' parameter of Recency must be a float > 0. Got 0"):
        Recency(half_life_days=0).fit(tiny_collection)
    with pytest.raises(ConfigError, match=r"'reference_time' parameter of Recency must be a date .* Got 'soon'"):
        Recency(reference_time="soon").fit(tiny_collection)
    c = tiny_collection
    bare = Collection("nodates", c.documents.drop(columns="timestamp"), c.queries, c.qrels, c.fields)
    with pytest.raises(ConfigError, match=r"Collection 'nodates' has no document timestamps"):
        Recency().fit(bare)
    assert not future_mask(pd.DataFrame({"qid": ["q1"], "docid": ["d1"]}), bare).any()
    with pytest.raises(DataError, match=r"Recency.transform: 1 document ids .* \['nope'\]"):
        Recency().fit(c).transform(pd.DataFrame({"qid": ["q1"], "docid": ["nope"]}))
