"""Tests of ltr.pipeline.cascade on a small synthetic web. Oracles: the configuration rules (errors), the
first stage's own run (a cascade keeps exactly its top-k documents), a hand recount of the feature
computations, a second run (determinism), and the stage rankers called directly on the same features."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from features.base import FeatureSet
from ltr.errors import ConfigError, NotFittedError
from ltr.models import Ranker
from ltr.pipeline import BM25Retriever, Cascade, Stage, build_candidates, query_kfold
from ltr.pipeline.candidates import attach_queries

pytestmark = pytest.mark.filterwarnings("ignore:.*retrieved no document:UserWarning")


def _ranker(n=20):
    return Ranker(n_estimators=n, learning_rate=0.1, early_stopping_rounds=None, n_jobs=1, random_state=0,
                  params={"min_data_in_leaf": 5})


def _two_stage(**kw):
    return Cascade([Stage("cheap", _ranker(), FeatureSet(["bm25(field='title')", "bm25(field='body')"]), cutoff=20),
                    Stage("full", _ranker(), FeatureSet(["pagerank", "recency"]), cutoff=10)],
                   first_stage=BM25Retriever(field="body"), first_k=50, **kw)


@pytest.fixture(scope="module")
def fitted(small_web):
    fold = query_kfold(small_web.queries.qid, 3, seed=0)[0]
    cascade = _two_stage(valid_fraction=0.0).fit(small_web, fold.train)
    test_q = small_web.queries[small_web.queries.qid.isin(set(fold.test))]
    return cascade, test_q


def test_cutoffs_must_not_grow():
    """Oracle: the configuration rule, with the message naming both stages."""
    with pytest.raises(ConfigError, match=r"stage 'full' keeps 50 documents per query but stage 'cheap' "
                                          r"\(cutoff=20\) passes on only 20: cut-offs must not grow"):
        Cascade([Stage("cheap", _ranker(), ["bm25"], cutoff=20), Stage("full", _ranker(), ["pagerank"], cutoff=50)],
                first_stage=BM25Retriever(), first_k=100)
    with pytest.raises(ConfigError, match=r"stage 'cheap' keeps 200 .* the first stage \(first_k=100\)"):
        Cascade([Stage("cheap", _ranker(), ["bm25"], cutoff=200)], first_stage=BM25Retriever(), first_k=100)


def test_features_not_computed():
    """Oracle: the configuration rule. A stage using a feature no stage up to it computes is named."""
    with pytest.raises(ConfigError, match=r"stage 'cheap' uses features \['pagerank__pagerank'\] that were not "
                                          r"computed by it or an earlier stage"):
        Cascade([Stage("cheap", _ranker(), ["bm25"], cutoff=20, feature_names=["bm25__body", "pagerank__pagerank"]),
                 Stage("full", _ranker(), ["pagerank"])], first_stage=BM25Retriever(), first_k=100)
    with pytest.raises(ConfigError, match=r"computes features \['bm25__body'\] that an earlier stage already"):
        Cascade([Stage("a", _ranker(), ["bm25"], cutoff=20), Stage("b", _ranker(), ["bm25"])],
                first_stage=BM25Retriever(), first_k=100)
    with pytest.raises(NotFittedError, match=r"call fit"):
        _two_stage().run(pd.DataFrame({"qid": ["1"], "query": ["x"]}))


def test_run_keeps_first_stage_top_k(fitted, small_web):
    """Oracle: the first stage's own run. The cascade re-ranks exactly BM25's top-50 and keeps 10 of them."""
    cascade, test_q = fitted
    run = cascade.run(test_q)
    bm25 = BM25Retriever(field="body").fit(small_web).retrieve(test_q, 50)
    top = bm25.groupby("qid").docid.apply(set)
    for qid, g in run.groupby("qid"):
        assert len(g) == min(10, len(top[qid])) and set(g.docid) <= top[qid]
        assert g["rank"].tolist() == list(range(1, len(g) + 1)) and g.score.is_monotonic_decreasing
    assert set(run.stage) == {"full"}
    assert list(run.columns) == ["qid", "docid", "score", "rank", "stage"]


def test_final_scores_equal_direct_prediction(fitted, small_web):
    """Oracle: the fitted stage rankers called directly. Stage 1 scores BM25's top-50, keeps 20; the final
    ranker's scores on those 20 equal the cascade's scores."""
    cascade, test_q = fitted
    run = cascade.run(test_q)
    first = BM25Retriever(field="body").fit(small_web).retrieve(test_q, 50)
    pairs = attach_queries(first.rename(columns={"score": "first_stage_score"}), test_q)
    s1, s2 = cascade.stages
    f1 = pd.concat([pairs, s1.features.transform(pairs)], axis=1)
    f1["s"] = cascade.rankers_["cheap"].predict_scores(f1[cascade.feature_names_["cheap"]].assign(
        qid=f1.qid, docid=f1.docid))
    kept = (f1.sort_values(["qid", "s"], ascending=[True, False], kind="stable").groupby("qid").head(20))
    f2 = pd.concat([kept, s2.features.transform(kept)], axis=1)
    f2 = f2.sort_values("qid", kind="stable")
    f2["s2"] = cascade.rankers_["full"].predict_scores(f2[["qid", "docid"] + cascade.feature_names_["full"]])
    expected = f2.set_index(["qid", "docid"])["s2"]
    got = run.set_index(["qid", "docid"])["score"]
    np.testing.assert_array_equal(got.to_numpy(), expected.reindex(got.index).to_numpy())


def test_costs(fitted):
    """Oracle: a hand recount. Feature computations per query = documents in x features of the stage."""
    cascade, test_q = fitted
    run, costs = cascade.run_with_costs(test_q)
    costs = costs.set_index("stage")
    assert list(costs.index) == ["first_stage", "cheap", "full"]
    n_q = len(test_q)
    assert costs.loc["cheap", "feature_computations_per_query"] == pytest.approx(
        costs.loc["cheap", "docs_per_query"] * 2)
    assert costs.loc["full", "feature_computations_per_query"] == pytest.approx(
        costs.loc["full", "docs_per_query"] * 8)
    kept_by_cheap = run.groupby("qid").size()  # <= 20 each; the full stage received min(20, retrieved)
    assert costs.loc["full", "docs_per_query"] * n_q >= kept_by_cheap.sum()
    assert (costs.seconds_per_query >= 0).all() and costs.loc["first_stage", "docs_per_query"] == 2000


def test_keep_dropped_and_determinism(fitted, small_web):
    """Oracle: the first stage's top-50 and a second run. keep_dropped appends the dropped documents below
    the kept ones (same 50 documents per query, kept 10 first); two runs are identical."""
    cascade, test_q = fitted
    short = cascade.run(test_q)
    full = cascade.run(test_q, keep_dropped=True)
    pd.testing.assert_frame_equal(cascade.run(test_q, keep_dropped=True), full)
    for qid, g in full.groupby("qid", sort=False):
        head = short[short.qid == qid]
        assert g.docid.tolist()[:len(head)] == head.docid.tolist()
        # model scores may tie; the placeholders of dropped documents are strictly below every kept score
        assert g.score.is_monotonic_decreasing
        tail = g.iloc[len(head):]
        assert tail.empty or tail.score.max() < head.score.min()
        assert g.stage.tolist() == sorted(g.stage.tolist(), key=["full", "cheap"].index)
    bm25 = BM25Retriever(field="body").fit(small_web).retrieve(test_q, 50)
    assert full.groupby("qid").docid.apply(set).equals(bm25.groupby("qid").docid.apply(set))


def test_cross_fitted_training(small_web):
    """Oracle: the training summary. With cv=3 the second stage still trains on the 20 documents the first
    stage keeps per training query, and validation queries are held out by query."""
    fold = query_kfold(small_web.queries.qid, 3, seed=0)[0]
    cascade = _two_stage(cv=3, valid_fraction=0.25).fit(small_web, fold.train)
    s = cascade.train_summary_.set_index("stage")
    assert s.loc["full", "train_rows"] <= 20 * s.loc["full", "train_queries"]
    assert s.loc["cheap", "valid_queries"] == round(0.25 * len(fold.train))
    assert s.loc["cheap", "train_queries"] + s.loc["cheap", "valid_queries"] <= len(fold.train)


def test_training_strategy_reaches_stage_one(small_web):
    """Oracle: build_candidates itself. Stage 1's training rows are the strategy's candidates."""
    fold = query_kfold(small_web.queries.qid, 3, seed=0)[0]
    cascade = Cascade([Stage("only", _ranker(), ["bm25"])], first_stage=BM25Retriever(field="body"), first_k=30,
                      negatives="random", n_negatives=7, valid_fraction=0.0).fit(small_web, fold.train)
    q = small_web.queries[small_web.queries.qid.isin(set(fold.train))]
    run = BM25Retriever(field="body").fit(small_web).retrieve(q, 30)
    cand = build_candidates(run, small_web.qrels, k=30, mode="train", negatives="random", n_negatives=7,
                            docids=small_web.docids)
    sizes = cand.groupby("qid").size()
    assert cascade.train_summary_.loc[0, "train_rows"] == sizes[sizes >= 2].sum()


def test_global_normalisation_learned_from_training_pairs(small_web):
    """Oracle: FeatureSet itself. A stage whose FeatureSet normalises globally learns its statistics from the
    training candidates (fit(collection, pairs)), so the cascade trains and runs; its mean equals the mean of
    the raw feature over those candidates."""
    fold = query_kfold(small_web.queries.qid, 3, seed=0)[0]
    fs = FeatureSet(["bm25(field='body')"], normalize="zscore", scope="global")
    cascade = Cascade([Stage("only", _ranker(), fs)], first_stage=BM25Retriever(field="body"), first_k=30,
                      valid_fraction=0.0).fit(small_web, fold.train)
    q = small_web.queries[small_web.queries.qid.isin(set(fold.train))]
    cand = build_candidates(BM25Retriever(field="body").fit(small_web).retrieve(q, 30), small_web.qrels, k=30,
                            queries=q)
    raw = FeatureSet(["bm25(field='body')"]).fit(small_web).transform(cand)
    assert fs.norm_params_[0][0] == pytest.approx(float(raw.iloc[:, 0].mean()), rel=1e-6)
    run = cascade.run(small_web.queries[small_web.queries.qid.isin(set(fold.test))])
    assert len(run) > 0


def test_first_stage_score_as_a_feature_and_empty_queries(small_web):
    """Oracle: the first stage's own scores. A stage may use 'first_stage_score'; with it alone, a monotone
    model cannot reorder BM25 beyond ties, so the kept set is BM25's top-10. Queries that retrieve nothing
    come back with no rows (and a warning), the others are unaffected."""
    fold = query_kfold(small_web.queries.qid, 3, seed=0)[0]
    ranker = Ranker(n_estimators=20, learning_rate=0.1, early_stopping_rounds=None, n_jobs=1, random_state=0,
                    params={"min_data_in_leaf": 5, "monotone_constraints": [1]})
    cascade = Cascade([Stage("bm25_only", ranker, ["bm25"], cutoff=10, feature_names=["first_stage_score"])],
                      first_stage=BM25Retriever(field="body"), first_k=50, valid_fraction=0.0)
    cascade.fit(small_web, fold.train)
    test_q = small_web.queries[small_web.queries.qid.isin(set(fold.test))].copy()
    test_q.loc[test_q.index[0], "query"] = "the of and"  # stop words only
    with pytest.warns(UserWarning, match=r"1 of \d+ queries retrieved no document"):
        run = cascade.run(test_q)
    assert test_q.qid.iloc[0] not in set(run.qid)
    bm25 = BM25Retriever(field="body").fit(small_web)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        top = bm25.retrieve(test_q, 50)
    for qid, g in run.groupby("qid"):
        ref = top[top.qid == qid]
        tenth = ref.score.iloc[min(10, len(ref)) - 1]
        assert set(g.docid) <= set(ref[ref.score >= tenth].docid)
    empty = cascade.run(test_q.iloc[:1])
    assert empty.empty and list(empty.columns) == ["qid", "docid", "score", "rank", "stage"]


def test_stage_bad_input():
    """Oracle: the error messages."""
    with pytest.raises(ConfigError, match=r"'cutoff' parameter of Stage 's' must be an integer >= 1 or None"):
        Stage("s", _ranker(), ["bm25"], cutoff=0)
    with pytest.raises(ConfigError, match=r"needs a ranker with fit\(\) and predict_scores\(\)"):
        Stage("s", object(), ["bm25"])
    with pytest.raises(ConfigError, match=r"names must be unique"):
        Cascade([Stage("s", _ranker(), ["bm25"]), Stage("s", _ranker(), ["pagerank"])], first_stage=BM25Retriever())


def test_run_does_not_change_the_cascade(fitted):
    """Oracle: the cascade's attributes before and after two runs; both runs are equal."""
    cascade, test_q = fitted
    before = dict(vars(cascade))
    first = cascade.run(test_q)
    second = cascade.run(test_q)
    assert vars(cascade).keys() == before.keys() and all(vars(cascade)[k] is v for k, v in before.items())
    pd.testing.assert_frame_equal(first, second)
