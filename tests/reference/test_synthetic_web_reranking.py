"""Re-ranking the synthetic web (complete labels, known utility).

Oracles: the generator's documented utility (``ltr.datasets.synthetic.utility_factors`` names the feature
families that carry each factor) and a paired significance test through the harness
(``ltr.report.compare_runs``, paired t-test, Holm) against BM25 alone on the same candidates.

Setup: ``make_synthetic_web(seed=0)`` (10,000 pages, 200 queries), a time-ordered split (train on the
older half of the queries, test on the newer half; documents newer than a training query are left out of
its training set), BM25 top-200 (body) then LambdaMART (LightGBM, 1 thread) on lexical, link, recency,
domain-prior and URL features. URL features are deliberately *not* part of the utility (a distractor).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from features.base import FeatureSet
from ltr.datasets.synthetic import make_synthetic_web, utility_factors
from ltr.models import Ranker
from ltr.pipeline import BM25Retriever, Cascade, Stage, evaluate_end_to_end, recall_at_k, time_ordered_split
from ltr.report import compare_runs

FEATURES = ["bm25(field='title')", "bm25(field='body')", "match(field='body')", "pagerank", "recency",
            "domain_prior", "url"]
METRICS = ["nDCG@10", "nDCG@20", "AP@100"]
FIRST_K = 200


def _cascade(**kw) -> Cascade:
    ranker = Ranker(n_estimators=300, learning_rate=0.05, early_stopping_rounds=30, n_jobs=1, random_state=0,
                    params={"min_data_in_leaf": 20})
    return Cascade([Stage("lambdamart", ranker, FeatureSet(FEATURES))], first_stage=BM25Retriever(field="body"),
                   first_k=FIRST_K, drop_future=True, valid_fraction=0.2, seed=0, **kw)


@pytest.fixture(scope="module")
def web():
    collection = make_synthetic_web(seed=0)
    split = time_ordered_split(collection.queries, test_fraction=0.5)
    test_q = collection.queries[collection.queries.qid.isin(set(split.test))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bm25 = BM25Retriever(field="body").fit(collection).retrieve(test_q, FIRST_K)
    return collection, split, test_q, bm25


def _family(feature: str, factors: dict) -> str | None:
    extractor = feature.split("__")[0].split("_")[0] if not feature.startswith("domain_prior") else "domain_prior"
    for factor, extractors in factors.items():
        if extractor in extractors:
            return factor
    return None


def test_reranking_beats_bm25_and_learns_the_utility(web, record_property):
    """Oracle: paired t-test (Holm) against BM25 on the same top-200 must give p < 0.05 and delta > 0 on
    nDCG@10; the top features by gain must belong to the utility's factor families (topical, authority,
    freshness), each family represented, and the URL distractor must not lead."""
    collection, split, test_q, bm25 = web
    cascade = _cascade().fit(collection, split.train)
    run = cascade.run(test_q)
    qrels = collection.qrels[collection.qrels.qid.isin(set(split.test))]
    report = compare_runs(qrels, {"bm25": bm25, "lambdamart": run}, METRICS, baseline="bm25")
    table = report.to_frame().set_index(["system", "metric"])
    row = table.loc[("lambdamart", "nDCG@10")]
    figures = {m: (round(float(table.loc[("bm25", m), "mean"]), 4),
                   round(float(table.loc[("lambdamart", m), "mean"]), 4),
                   float(table.loc[("lambdamart", m), "p_value"])) for m in METRICS}
    record_property("synthetic_web_bm25_vs_lambdamart", figures)
    print("\nsynthetic web, test queries (newer half):", figures)
    print(report)
    assert row["delta"] > 0 and row["p_value"] < 0.05
    # the ceiling: no re-ranker of the top-200 passes BM25's recall@200
    ceiling = recall_at_k(bm25, qrels, ks=(FIRST_K,)).recall.iloc[0]
    recall_run = recall_at_k(run, qrels, ks=(FIRST_K,)).recall.iloc[0]
    assert recall_run <= ceiling + 1e-12
    # feature importances point at the generator's factors
    factors = utility_factors()
    gain = cascade.rankers_["lambdamart"].feature_importances_.sort_values(ascending=False, kind="stable")
    top = gain.index[:5].tolist()
    record_property("synthetic_web_top_features", top)
    print("top features by gain:", gain.head(8).round(1).to_dict())
    assert all(_family(f, factors) is not None for f in top), top
    assert {_family(f, factors) for f in gain.index[:8]} >= {"topical", "authority", "freshness"}
    url_share = gain[[f for f in gain.index if f.startswith("url__")]].sum() / gain.sum()
    assert url_share < 0.2


def test_hard_vs_random_negatives_same_eval_set(web, record_property):
    """Oracle: the first stage's run on the test queries. Both training strategies are evaluated on the very
    same candidate lists (identical documents per query); the figures are recorded, not ranked."""
    collection, split, test_q, bm25 = web
    runs, candidate_sets = {}, {}
    for strategy in ("hard", "random"):
        cascade = _cascade(negatives=strategy, n_negatives=30).fit(collection, split.train)
        run = cascade.run(test_q)
        runs[strategy] = run
        candidate_sets[strategy] = run.groupby("qid").docid.apply(frozenset)
        assert cascade.train_summary_.loc[0, "train_rows"] > 0
    pd.testing.assert_series_equal(candidate_sets["hard"], candidate_sets["random"])
    assert candidate_sets["hard"].equals(bm25.groupby("qid").docid.apply(frozenset))
    qrels = collection.qrels[collection.qrels.qid.isin(set(split.test))]
    ev = {s: evaluate_end_to_end(r, qrels, ["nDCG@10"]).value.mean() for s, r in runs.items()}
    record_property("synthetic_web_negatives_nDCG@10", ev)
    print("\nhard vs random negatives (30 per query), test nDCG@10:", ev)
    assert all(np.isfinite(v) for v in ev.values())
