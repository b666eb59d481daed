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
