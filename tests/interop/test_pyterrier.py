"""Our first stage, features and rankers inside PyTerrier (issue 16 item 1), checked in a real ``pt.Experiment``.

Oracles: PyTerrier itself. ``pt.Experiment`` evaluates the runs with ir_measures (pytrec_eval, i.e. trec_eval)
and tests them with scipy's ``ttest_rel`` / ``wilcoxon``; on the same runs its per-query values and means must
equal :func:`ltr.metrics.evaluate`'s and its p-values :mod:`ltr.stats`'. Its operators (``>>``, ``**``, ``%``)
and ``pt.model.add_ranks`` define what composing and ranking mean. No Java is started (asserted).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pt = pytest.importorskip("pyterrier")

from ltr.datasets.synthetic import make_synthetic_web  # noqa: E402
from ltr.errors import FeatureMismatchError, SchemaError  # noqa: E402
from ltr.interop.pyterrier import (FeatureTransformer, FirstStageRetriever, RankerEstimator, qrels_of,  # noqa: E402
                                   run_of, topics_of)
from ltr.metrics import evaluate  # noqa: E402
from ltr.stats import paired_t_test, wilcoxon_test  # noqa: E402

MEASURES = ["ndcg_cut_10", "map", "P_10", "recip_rank"]


@pytest.fixture(scope="module")
def web():
    return make_synthetic_web(n_docs=1500, n_queries=60, seed=0)


@pytest.fixture(scope="module")
def setup(web):
    """BM25 top 50 >> (BM25 score ** lexical ** recency/length) >> LambdaMART, trained through PyTerrier's own
    ``Compose.fit`` on 30 queries, early-stopped on 10, and judged on 20."""
    topics, qrels = topics_of(web), qrels_of(web)
    qids = sorted(topics["qid"])
    split = {"train": qids[:30], "valid": qids[30:40], "test": qids[40:]}
    t = {k: topics[topics["qid"].isin(v)].reset_index(drop=True) for k, v in split.items()}
    q = {k: qrels[qrels["qid"].isin(v)].reset_index(drop=True) for k, v in split.items()}
    bm25 = FirstStageRetriever("bm25(k=50)", web)
    lexical = FeatureTransformer(["bm25(field='title')", "tfidf(field='body')"], web)
    other = FeatureTransformer(["recency", "length(field='body')"], web)
    names = ["first_stage"] + lexical.feature_names_out() + other.feature_names_out()
    ranker = RankerEstimator(objective="lambdarank", n_estimators=40, learning_rate=0.1, early_stopping_rounds=10,
                             eval_metric="nDCG@10", n_jobs=1, feature_names=names)
    pipeline = bm25 >> (pt.Transformer.identity() ** lexical ** other) >> ranker
    pipeline.fit(t["train"], q["train"], t["valid"], q["valid"])
    return dict(web=web, topics=t, qrels=q, bm25=bm25, lexical=lexical, other=other, ranker=ranker,
                pipeline=pipeline, names=names)


def _ours(qrels, results, measures):
    per_query = evaluate(qrels.rename(columns={"docno": "docid"}), run_of(results), measures)
    return per_query.pivot(index="qid", columns="metric", values="value")[measures]


def test_bm25_is_a_pyterrier_retriever_with_zero_based_ranks(setup):
    """The first stage's output is a PyTerrier result frame (validated by pt.validate), ranks 0-based
    (pt.model.FIRST_RANK), the same documents and scores as our own retrieve() (ranks shifted by one)."""
    bm25, topics, web = setup["bm25"], setup["topics"]["test"], setup["web"]
    res = bm25.transform(topics)
    pt.validate.result_frame(res, extra_columns=["query", "score", "rank"])
    assert list(res.columns) == ["qid", "query", "query_time", "docno", "score", "rank"]
    assert res.groupby("qid")["rank"].min().eq(pt.model.FIRST_RANK).all() and pt.model.FIRST_RANK == 0
    ours = bm25.first_stage.retrieve(web.queries[web.queries["qid"].isin(topics["qid"])][["qid", "query"]])
    assert res["docno"].tolist() == ours["docid"].tolist()
    assert np.array_equal(res["score"].to_numpy(), ours["score"].to_numpy())
    assert np.array_equal(res["rank"].to_numpy(), ours["rank"].to_numpy() - 1)
    # PyTerrier's own ranking of our scores gives the same ranks (ties in row order)
    again = pt.model.add_ranks(res.drop(columns="rank").copy())
    assert np.array_equal(again["rank"].to_numpy(), res["rank"].to_numpy())
    assert set(res["qid"]) == set(topics["qid"])        # every test query retrieved (the Experiment needs it)


def test_feature_union_concatenates_our_features_in_order(setup):
    """``a ** b`` (PyTerrier's FeatureUnion) holds a's columns then b's, equal to our FeatureSet's own values;
    ``identity()`` contributes the first-stage score."""
    bm25, lexical, other, topics = setup["bm25"], setup["lexical"], setup["other"], setup["topics"]["test"]
    res = bm25.transform(topics)
    union = (bm25 >> (pt.Transformer.identity() ** lexical ** other)).transform(topics)
    X = np.stack(union["features"].to_numpy())
    assert X.shape == (len(res), len(setup["names"]))
    merged = res.merge(union[["qid", "docno", "features"]], on=["qid", "docno"])
    X = np.stack(merged["features"].to_numpy())
    assert np.array_equal(X[:, 0], merged["score"].to_numpy())
    pairs = merged.rename(columns={"docno": "docid"})
    direct = pd.concat([lexical.feature_set.transform(pairs), other.feature_set.transform(pairs)], axis=1)
    assert np.array_equal(X[:, 1:], direct.to_numpy(dtype=np.float64))
    assert lexical.feature_names_out()[0] == "bm25__title"


def test_the_ranker_reranks_with_pyterrier_ranks(setup):
    """After re-ranking: our model's scores, ranks recomputed 0-based by score (pt.model.add_ranks), rows
    sorted by qid then rank; a cut-off (``% 5``) keeps the best 5 of each query."""
    pipeline, topics, ranker = setup["pipeline"], setup["topics"]["test"], setup["ranker"]
    res = pipeline.transform(topics)
    pt.validate.result_frame(res, extra_columns=["score", "rank", "features"])
    for _, group in res.groupby("qid", sort=False):
        assert group["rank"].tolist() == list(range(len(group)))
        assert (np.diff(group["score"].to_numpy()) <= 0).all()
    X = np.stack(res["features"].to_numpy()).astype(np.float32)
    assert np.array_equal(res["score"].to_numpy(), ranker.ranker.predict_scores(
        pd.DataFrame(X, columns=setup["names"]).assign(qid=res["qid"].to_numpy())))
    assert list(ranker.ranker.feature_names_in_) == setup["names"]
    top = (pipeline % 5).transform(topics)
    assert top.groupby("qid").size().max() == 5
    assert top["docno"].tolist() == res[res["rank"] < 5]["docno"].tolist()


@pytest.mark.parametrize("test, ours", [("t", paired_t_test), ("wilcoxon", wilcoxon_test)])
def test_pt_experiment_agrees_with_ltr_metrics_and_stats(setup, test, ours):
    """Inside a real ``pt.Experiment`` (trec_eval names): per query and in the mean, its values equal
    ltr.metrics.evaluate's on the same runs (to 1e-12), and its p-values (scipy's paired t-test / Wilcoxon
    against the baseline) equal ltr.stats' (to 1e-10)."""
    topics, qrels = setup["topics"]["test"], setup["qrels"]["test"]
    systems = {"bm25": setup["bm25"], "ltr": setup["pipeline"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        means = pt.Experiment(list(systems.values()), topics, qrels, MEASURES, names=list(systems), baseline=0,
                              test=test, validate="error")
        per_query = pt.Experiment(list(systems.values()), topics, qrels, MEASURES, names=list(systems),
                                  perquery=True)
    means = means.set_index("name")
    values = {name: _ours(qrels, system.transform(topics), MEASURES) for name, system in systems.items()}
    for name in systems:
        theirs = per_query[per_query["name"] == name].pivot(index="qid", columns="measure", values="value")
        assert sorted(theirs.index) == sorted(values[name].index) and len(theirs) == len(topics)
        for m in MEASURES:
            np.testing.assert_allclose(values[name].loc[theirs.index, m].to_numpy(), theirs[m].to_numpy(),
                                       rtol=0, atol=1e-12, err_msg=f"{name} {m}")
            assert means.loc[name, m] == pytest.approx(values[name][m].mean(), abs=1e-12)
    assert means.loc["ltr", "ndcg_cut_10"] != means.loc["bm25", "ndcg_cut_10"]   # a real comparison
    for m in MEASURES:
        a, b = values["ltr"][m], values["bm25"][m].loc[values["ltr"].index]
        assert means.loc["ltr", f"{m} p-value"] == pytest.approx(ours(a.to_numpy(), b.to_numpy()).pvalue,
                                                                rel=1e-10, abs=1e-14)
        assert means.loc["ltr", f"{m} +"] == int((a > b).sum()) and means.loc["ltr", f"{m} -"] == int((a < b).sum())
    assert not pt.java.started()                      # none of this needed Java


def test_pt_measures_objects_and_pt_apply_outputs(setup):
    """``pt.measures`` objects name the same measures; a ``pt.apply`` stage's output (no rank column) is
    re-ranked by our ranker, which adds the ranks."""
    topics, qrels = setup["topics"]["test"], setup["qrels"]["test"]
    feats = setup["bm25"] >> (pt.Transformer.identity() ** setup["lexical"] ** setup["other"])
    no_rank = feats >> pt.apply.generic(lambda df: df.drop(columns=["rank"]))
    assert "rank" not in no_rank.transform(topics).columns
    pipeline = no_rank >> setup["ranker"]
    res = pipeline.transform(topics)
    assert res.groupby("qid")["rank"].min().eq(0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        table = pt.Experiment([pipeline], topics, qrels, [pt.measures.nDCG @ 10, pt.measures.AP], names=["ltr"])
    ours = _ours(qrels, res, ["nDCG@10", "AP"]).mean()
    assert table.loc[0, "nDCG@10"] == pytest.approx(ours["nDCG@10"], abs=1e-12)
    assert table.loc[0, "AP"] == pytest.approx(ours["AP"], abs=1e-12)


def test_bad_frames_are_refused_with_what_to_do(setup):
    bm25, lexical, ranker, topics = setup["bm25"], setup["lexical"], setup["ranker"], setup["topics"]["test"]
    res = bm25.transform(topics)
    with pytest.raises(SchemaError, match="use FeatureTransformer"):
        bm25.transform(res)
    with pytest.raises(SchemaError, match="1 repeated qids in its topics"):
        bm25.transform(pd.concat([topics, topics.iloc[:1]]))
    with pytest.raises(SchemaError, match=r"join feature extractors with \*\*"):
        lexical.transform(lexical.transform(res))
    with pytest.raises(FeatureMismatchError, match=f"trained on {len(setup['names'])} features but the frame's "
                                                   f"'features' hold 2"):
        ranker.transform(lexical.transform(res))
    with pytest.raises(pt.validate.InputValidationError):
        ranker.transform(res)                     # no features at all: PyTerrier's own validation error
    empty = (bm25 >> (pt.Transformer.identity() ** lexical ** setup["other"]) >> ranker).transform(topics.iloc[:0])
    assert len(empty) == 0 and {"score", "rank"} <= set(empty.columns)


REPO = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=600)


def test_the_readme_snippet_runs_as_written():
    """Oracle: the table the README prints under its PyTerrier snippet (the comment lines after print)."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## PyTerrier pipelines"):]
    start = section.index("```python\n") + 10
    code = section[start:section.index("\n```", start)]
    expected = [ln[2:] for ln in code.splitlines() if ln.startswith("# ")]
    done = _python(code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == expected


def test_without_pyterrier_the_bridge_says_how_to_install_it():
    """``import ltr.interop`` is free (loads no PyTerrier); the bridge without PyTerrier names the extra."""
    done = _python("import sys, ltr.interop; print('pyterrier' in sys.modules); sys.modules['pyterrier'] = None\n"
                   "try:\n    import ltr.interop.pyterrier\nexcept ImportError as err:\n    print(err)")
    assert done.returncode == 0, done.stderr[-2000:]
    loaded, message = done.stdout.splitlines()
    assert loaded == "False" and "pip install 'ltr[pyterrier]'" in message and "Java is not needed" in message


def test_the_estimator_trains_what_our_own_ranker_trains(setup):
    """Oracle: our Ranker fitted directly on RankingDatasets built here from the same frames (labels joined on
    (qid, docid), unjudged = 0, queries in order of appearance) gives the same scores to the bit."""
    from ltr.models import Ranker
    from ltr.ranking import RankingDataset

    feats = setup["bm25"] >> (pt.Transformer.identity() ** setup["lexical"] ** setup["other"])
    data = {}
    for role in ("train", "valid"):
        res = feats.transform(setup["topics"][role])
        res = res.iloc[np.argsort(pd.factorize(res["qid"])[0], kind="stable")]
        labels = res.merge(setup["qrels"][role], on=["qid", "docno"], how="left")["label"].fillna(0).to_numpy()
        assert labels.max() > 0
        data[role] = RankingDataset(np.stack(res["features"].to_numpy()), labels, res["qid"].to_numpy(),
                                    res["docno"].to_numpy(), setup["names"])
    direct = Ranker(**setup["ranker"].ranker.get_params()).fit(data["train"], valid=data["valid"])
    test = feats.transform(setup["topics"]["test"])
    X = pd.DataFrame(np.stack(test["features"].to_numpy()), columns=setup["names"]).assign(qid=test["qid"].to_numpy())
    assert np.array_equal(direct.predict_scores(X), setup["ranker"].ranker.predict_scores(X))
    assert direct.best_iteration_ == setup["ranker"].ranker.best_iteration_
