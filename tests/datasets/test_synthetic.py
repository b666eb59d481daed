"""The synthetic web: determinism, sizes, the link graph's tail, labels, hard negatives and the utility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from features.domain import split_url
from features.pagerank import collection_pagerank
from features.recency import future_mask
from ltr.datasets.synthetic import (
    generate_synthetic_web,
    make_synthetic_web,
    utility_factors,
)
from ltr.errors import ConfigError


@pytest.fixture(scope="module")
def web():
    return generate_synthetic_web(seed=0)


@pytest.fixture(scope="module")
def small():
    return generate_synthetic_web(n_docs=3000, n_queries=40, seed=7)


def test_same_seed_same_frames_different_seed_different():
    """Invariant: same seed -> identical frames bit for bit; another seed -> different frames."""
    a = make_synthetic_web(n_docs=1500, n_queries=20, seed=3)
    b = make_synthetic_web(n_docs=1500, n_queries=20, seed=3)
    c = make_synthetic_web(n_docs=1500, n_queries=20, seed=4)
    for name in ("documents", "queries", "qrels", "links"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.documents.equals(c.documents)
    assert not a.qrels.equals(c.qrels)


def test_default_size_and_schema(web):
    """Spec: by default 10,000 documents and 200 queries, every optional part present, complete judgments."""
    c = web.collection
    assert len(c.documents) == 10_000 and len(c.queries) == 200
    assert list(c.documents.columns) == ["docid", "title", "body", "url", "timestamp"]
    assert c.fields == ("title", "body") and c.complete_judgments and c.has_links
    assert c.documents["timestamp"].notna().all() and str(c.documents["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert c.queries["query_time"].notna().all()
    assert c.reference_time == pd.Timestamp("2024-01-01", tz="UTC")
    assert c.documents["docid"].is_unique and c.queries["qid"].is_unique
    assert c.name == "synthetic-web(seed=0)" and c.notes


def test_larger_by_a_parameter():
    """Spec: larger by a parameter."""
    c = make_synthetic_web(n_docs=12_000, n_queries=250, seed=1)
    assert len(c.documents) == 12_000 and len(c.queries) == 250


def test_urls_on_real_public_suffixes(web):
    """Oracle: the Public Suffix List via features.domain.split_url: every URL parses, multi-part and
    private suffixes occur, path depths vary."""
    parts = [split_url(u) for u in web.collection.documents["url"]]
    assert all(p is not None and p.suffix for p in parts)
    suffixes = {p.suffix for p in parts}
    assert {"co.uk", "com", "github.io", "blogspot.com"} <= suffixes
    assert {p.path_depth for p in parts} >= {0, 1, 2, 3, 4}
    assert len({p.registered_domain for p in parts}) >= 150  # the n_sites=200 sites, minus a few tiny ones


def test_heavy_tailed_in_degree(web):
    """Spec: preferential attachment gives a heavy tail: max in-degree >> median, top 1% hold a large share."""
    c = web.collection
    indeg = c.links["target"].value_counts().reindex(c.docids, fill_value=0).to_numpy()
    assert indeg.max() > 50 * np.median(indeg)
    top = np.sort(indeg)[::-1][: len(indeg) // 100]
    assert top.sum() > 0.10 * indeg.sum()  # ten times the share of a uniform in-degree


def test_labels_graded_and_complete(web):
    """Spec: labels 0..4, every grade present, qrels = every label>0 page + the judged hard negatives."""
    qrels = web.collection.qrels
    assert set(qrels["label"].unique()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    zero = qrels[qrels["label"] == 0]
    hard = web.documents.dropna(subset=["hard_negative_for"])
    assert set(zip(zero["qid"], zero["docid"])) == set(zip(hard["hard_negative_for"], hard["docid"]))
    assert not qrels.duplicated(["qid", "docid"]).any()
    per_query = qrels[qrels["label"] > 0].groupby("qid").size()
    assert per_query.median() >= 10 and len(per_query) >= 0.9 * len(web.collection.queries)


def test_hard_negatives_overlap_but_are_not_relevant(web):
    """Spec: hard negatives contain every query word (high overlap) yet are off-topic spam with label 0."""
    c = web.collection
    hard = web.documents.dropna(subset=["hard_negative_for"]).merge(c.documents, on="docid")
    queries = c.queries.set_index("qid")["query"]
    topics = web.queries.set_index("qid")["topic"]
    assert len(hard) == 5 * 200
    for row in hard.itertuples():
        words = queries[row.hard_negative_for].split()
        text = f"{row.title} {row.body}".split()
        assert all(w in text for w in words)
        assert row.is_spam and row.topic != topics[row.hard_negative_for]
    labels = c.qrels.merge(hard, left_on=["qid", "docid"], right_on=["hard_negative_for", "docid"])["label"]
    assert len(labels) == len(hard) and (labels == 0).all()


def test_utility_recomputed_from_the_docstring_formula(small):
    """Oracle: the module docstring's utility, recomputed here from the hidden truth for every judged pair."""
    p = small.params
    c = small.collection
    j = small.judgments.merge(small.queries, on="qid").merge(small.documents, on="docid", suffixes=("", "_doc"))
    j = j.merge(c.documents[["docid", "title", "body", "timestamp"]], on="docid")
    j = j.merge(c.queries[["qid", "query", "query_time"]], on="qid")
    topical = []
    for row in j.itertuples():
        counts = np.array([2 * row.title.split().count(w) + row.body.split().count(w) for w in row.query.split()])
        topical.append(np.mean(counts / (counts + 1.0)))
    np.testing.assert_allclose(j["topical"], topical, rtol=1e-12)
    age = (j["query_time"] - j["timestamp"]).dt.total_seconds().to_numpy() / 86400
    fresh = np.where(age >= 0, 0.5 ** (np.clip(age, 0, None) / p["fresh_half_life_days"]), 0.0)
    np.testing.assert_allclose(j["freshness"], fresh, rtol=1e-12)
    m_a = np.where(j["intent"] == "authority", 1.0, p["auth_weight_other"])
    m_f = np.where(j["intent"] == "fresh", 1.0, 0.0)
    gate = (j["topic"] == j["topic_doc"]) & ~j["is_spam"] & (age >= 0) & (np.asarray(topical) > 0)
    u = gate * (p["w_topic"] * j["topical"] + p["w_auth"] * m_a * j["authority"] + p["w_fresh"] * m_f * fresh) \
        + j["noise"]
    np.testing.assert_allclose(j["utility"], u, rtol=1e-12)
    label = np.where(gate, np.searchsorted(p["label_thresholds"], u, side="right"), 0)
    np.testing.assert_array_equal(j["label"], label)


def test_future_pages_are_not_relevant(web):
    """Rule: pages newer than the query time are label 0 (features.recency.future_mask finds them)."""
    qrels = web.collection.qrels
    assert not future_mask(qrels[qrels["label"] > 0], web.collection).any()


def test_factors_are_observable(web):
    """Sanity for the pipeline's "a ranker learns the factors" test: PageRank tracks the hidden authority,
    and labels rise with each factor among judged relevant pages."""
    pr = collection_pagerank(web.collection)["pagerank"]
    truth = web.documents.set_index("docid").loc[pr.index]
    assert spearmanr(pr, truth["fitness"]).statistic > 0.3
    rel = web.judgments[web.judgments["label"] > 0]
    for factor in ("topical", "authority"):
        assert spearmanr(rel[factor], rel["label"]).statistic > 0.1
    fresh_q = web.queries.loc[web.queries["intent"] == "fresh", "qid"]
    fr = rel[rel["qid"].isin(fresh_q)]
    assert spearmanr(fr["freshness"], fr["label"]).statistic > 0.1
    assert set(utility_factors()) == {"topical", "authority", "freshness"}


@pytest.mark.parametrize("kwargs,match", [
    ({"n_docs": 0}, r"'n_docs' parameter of make_synthetic_web must be an int >= 1. Got 0"),
    ({"fresh_fraction": 0.7, "authority_fraction": 0.6}, r"fresh_fraction \+ authority_fraction must be <= 1"),
    ({"label_thresholds": (1, 0.5, 2, 3)}, r"label_thresholds must be 4 increasing numbers"),
    ({"n_docs": 1000, "n_queries": 200}, r"1000 hard negatives .* leave too few"),
    ({"start": "2024-01-01", "end": "2020-01-01"}, r"start '2024-01-01' must be before end"),
])
def test_bad_parameters(kwargs, match):
    """Messages: each bad parameter names itself and the value."""
    with pytest.raises(ConfigError, match=match):
        make_synthetic_web(**kwargs)


def test_name_round_trips_through_the_registry():
    """Invariant: the collection's name is its printed spec; load_collection(name) rebuilds the same frames."""
    from ltr.datasets import load_collection

    c = make_synthetic_web(n_docs=1200, n_queries=10, seed=5, noise=0.2)
    assert c.name == "synthetic-web(n_docs=1200, n_queries=10, seed=5, noise=0.2)"
    again = load_collection(c.name)
    pd.testing.assert_frame_equal(again.documents, c.documents)
    pd.testing.assert_frame_equal(again.qrels, c.qrels)
