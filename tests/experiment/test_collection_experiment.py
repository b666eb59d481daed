"""An experiment on a raw collection: first stage, candidates, features, re-rankers, end-to-end evaluation."""

from __future__ import annotations

import json

import pandas as pd

from ltr.experiment import Experiment, run_experiment
from ltr.experiment.data import prepare
from ltr.experiment.spec import FIRST_STAGE_SYSTEM
from ltr.io import read_qrels
from ltr.metrics import evaluate

SMALL_WEB = "synthetic-web(n_docs=2000, n_queries=40, seed=3)"


def _experiment(**overrides) -> Experiment:
    spec = dict(name="small-web", data={"kind": "collection", "collection": SMALL_WEB,
                                        "features": ["bm25(field='body')", "match(field='body')", "recency",
                                                     "pagerank"],
                                        "first_stage_k": 50, "splits": "kfold(k=2)"},
                objectives=["lambdarank", "regression"], backends=["lightgbm"], seeds=[0],
                metrics=["nDCG@10", "AP"], baseline=FIRST_STAGE_SYSTEM,
                training={"n_estimators": 40, "learning_rate": 0.2, "n_jobs": 1}, tuning={"budget": 1})
    spec.update(overrides)
    return Experiment(**spec)


def test_collection_folds_keep_evaluation_sets_and_full_qrels():
    exp = _experiment()
    data = prepare(exp)
    assert [f.name for f in data.folds] == ["fold1", "fold2"]
    test_queries = set()
    for fold in data.folds:
        assert fold.missing_queries == "zero"
        assert set(fold.test.unique_qids) <= set(fold.qrels["qid"])
        assert not set(fold.test.unique_qids) & set(fold.train.unique_qids)
        assert not set(fold.valid.unique_qids) & set(fold.train.unique_qids)
        # evaluation candidates are exactly the first-stage top 50
        first = fold.fixed_runs[FIRST_STAGE_SYSTEM]
        assert first.groupby("qid").size().max() <= 50
        cand = pd.DataFrame({"qid": fold.test.qids, "docid": fold.test.docids})
        assert cand.merge(first, on=["qid", "docid"]).shape[0] == len(cand)
        test_queries |= set(fold.qrels["qid"])
    assert "recency__age_days" in data.folds[0].train.feature_names
    assert data.tables["first_stage_recall"]["recall"].is_monotonic_increasing
    assert any("ceiling" in n for n in data.notes)


def test_collection_experiment_end_to_end(tmp_path):
    """End-to-end values use the full qrels: recomputed from the run files, they equal metrics.csv."""
    out = run_experiment(_experiment(), tmp_path / "out", progress=False)
    metrics = pd.read_csv(out / "metrics.csv", dtype={"qid": str})
    assert set(metrics["backend"] + "/" + metrics["objective"]) == {FIRST_STAGE_SYSTEM, "lightgbm/lambdarank",
                                                                     "lightgbm/regression"}
    for fold in ("fold1", "fold2"):
        qrels = read_qrels(out / "qrels" / f"{fold}.qrels")
        run = pd.read_csv(next((out / "runs" / fold).glob("first-stage-bm25.trec")), sep=" ", header=None,
                          names=["qid", "q0", "docid", "rank", "score", "tag"], dtype={"qid": str, "docid": str})
        values = evaluate(qrels, run[["qid", "docid", "score"]], ["AP"], missing_queries="zero")
        mine = metrics[(metrics["fold"] == fold) & (metrics["objective"] == "bm25") & (metrics["metric"] == "AP")]
        assert mine["value"].sum() == values["value"].sum()
    assert (out / "tables" / "first_stage_recall.csv").is_file()
    report = (out / "report.md").read_text()
    assert "First-stage recall@k" in report and "ceiling" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["feature_groups"]["pagerank__pagerank"] == "pagerank"
    assert list((out / "cache").rglob("*.npz"))  # the feature matrix, reused by a resumed run


def test_the_recall_note_is_at_the_declared_depth():
    """Issue 10: with first_stage_k = 37 (not one of the default recall depths) the note said recall@37 but
    gave the value at the deepest default depth below it. Oracle: recall_at_k of the first stage's run (future
    documents removed, as the experiment does) at exactly 37, and the recall table's row for 37."""
    import re

    from features.recency import future_mask
    from ltr.datasets import load_collection
    from ltr.pipeline import BM25Retriever, recall_at_k
    name = "synthetic-web(n_docs=600, n_queries=20, n_topics=4, seed=1)"
    exp = _experiment(data={"kind": "collection", "collection": name, "features": ["bm25(field='body')"],
                            "first_stage_k": 37, "splits": "kfold(k=2)"})
    data = prepare(exp)
    note = next(n for n in data.notes if "ceiling" in n)
    value = float(re.search(r"recall@37 = ([0-9.]+)", note).group(1))
    web = load_collection(name).judged_queries()
    run = BM25Retriever(k=600).fit(web).retrieve(web.queries)
    run = run[~future_mask(run.merge(web.queries[["qid", "query_time"]], on="qid"), web)].drop(columns="rank")
    expected = recall_at_k(run, web.qrels, ks=(37,), n_docs=600)["recall"].iloc[0]
    assert value == round(expected, 4)
    table = data.tables["first_stage_recall"].set_index("k")
    assert table.loc[37, "recall"] == expected
