"""compare_runs on real data: MQ2008 Fold1 test, single LETOR features used as rankers.

Oracle: pytrec_eval (trec_eval) per-query values of the same runs fed to compare(); the report's numbers
(means, deltas, p-values, win/tie/loss) must be the same. Real qrels bring what synthetic ones lack:
string qids sorting "10002" < "9", many tied scores (feature values of 0), queries without relevant
documents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.report import compare, compare_runs
from tests.conftest import shared_path

FEATURES = {"bm25_body": 25, "tfidf_body": 20, "pagerank": 41}   # LETOR 4.0 feature ids (1-based)


def test_compare_runs_on_mq2008_fold1_matches_pytrec_eval():
    """Oracle: pytrec_eval ndcg_cut_10 / P_5 / map per query, compared by compare() with the same settings."""
    pytrec_eval = pytest.importorskip("pytrec_eval")
    from ltr.io.letor import read_letor

    data = read_letor(shared_path("letor4-mq2008", "MQ2008", "Fold1", "test.txt"))
    qrels = pd.DataFrame({"qid": data.qids, "docid": data.docids, "label": data.labels})
    runs = {name: pd.DataFrame({"qid": data.qids, "docid": data.docids,
                                "score": np.asarray(data.X[:, fid - 1], dtype=np.float64)})
            for name, fid in FEATURES.items()}
    kw = dict(baseline="bm25_body", test="randomization", n_resamples=2000, seed=1)
    report = compare_runs(qrels, runs, ["nDCG@10", "P@5", "AP"], **kw)

    qrel_dict = {}
    for q, d, l in zip(data.qids, data.docids, data.labels):
        qrel_dict.setdefault(q, {})[d] = int(l)
    evaluator = pytrec_eval.RelevanceEvaluator(qrel_dict, {"ndcg_cut.10", "P.5", "map"})
    rows = []
    for name, run in runs.items():
        run_dict = {}
        for q, d, s in zip(run["qid"], run["docid"], run["score"]):
            run_dict.setdefault(q, {})[d] = float(s)
        for q, m in evaluator.evaluate(run_dict).items():
            rows += [(name, q, "nDCG@10", m["ndcg_cut_10"]), (name, q, "P@5", m["P_5"]), (name, q, "AP", m["map"])]
    expected = compare(pd.DataFrame(rows, columns=["system", "qid", "metric", "value"]),
                       metrics=["nDCG@10", "P@5", "AP"], **kw)

    ours, ref = report.to_frame(), expected.to_frame()
    assert (ours["n_queries"] == len(set(data.qids))).all()
    numeric = ["mean", "delta", "p_raw", "p_value", "effect_size"]
    np.testing.assert_allclose(ours[numeric].to_numpy(float), ref[numeric].to_numpy(float), atol=1e-9)
    assert ours[["wins", "ties", "losses"]].equals(ref[["wins", "ties", "losses"]])
