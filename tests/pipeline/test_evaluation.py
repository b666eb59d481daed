"""Tests of ltr.pipeline.evaluation. Oracles: pytrec_eval (trec_eval) on the full qrels for end-to-end
figures (queries without rows scored 0, as trec_eval -c) and on qrels reduced to the candidates' own labels for
candidate-only figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.errors import DataError
from ltr.pipeline import build_candidates, evaluate_candidates, evaluate_end_to_end, evaluate_pipeline

pytrec_eval = pytest.importorskip("pytrec_eval")

METRICS = {"nDCG@10": "ndcg_cut_10", "AP": "map", "P@5": "P_5"}


def _data(seed=0):
    rng = np.random.default_rng(seed)
    run, qrels = [], []
    for q in range(12):
        docs = [f"d{i}" for i in range(40)]
        scores = rng.permutation(40) + rng.random(40) * 0.1
        run += [(f"q{q}", d, s) for d, s in zip(docs, scores)]
        # relevant documents inside and outside the run (d40.. are never retrieved)
        rel = rng.choice(60, size=8, replace=False)
        qrels += [(f"q{q}", f"d{i}", float(rng.integers(1, 4))) for i in rel]
    qrels += [("q99", "d1", 1.0)]  # a query the run did not retrieve anything for
    return (pd.DataFrame(run, columns=["qid", "docid", "score"]),
            pd.DataFrame(qrels, columns=["qid", "docid", "label"]))


def _trec(qrels, run, measures):
    ev = pytrec_eval.RelevanceEvaluator({q: {d: int(l) for d, l in zip(g.docid, g.label)}
                                         for q, g in qrels.groupby("qid")}, set(measures))
    return ev.evaluate({q: dict(zip(g.docid, g.score.astype(float))) for q, g in run.groupby("qid")})


def test_end_to_end_equals_trec_eval_with_missing_as_zero():
    """Oracle: pytrec_eval on the full qrels; q99 (no rows in the run) scores 0 in every metric."""
    run, qrels = _data()
    out = evaluate_end_to_end(run, qrels, list(METRICS))
    assert set(out.scope) == {"end_to_end"}
    res = _trec(qrels, run, {"ndcg_cut", "map", "P"})
    for name, trec in METRICS.items():
        got = out[out.metric == name].set_index("qid").value
        assert got["q99"] == 0.0
        for q, r in res.items():
            assert got[q] == pytest.approx(r[trec], abs=1e-12)


def test_candidates_scope_uses_candidate_labels_only():
    """Oracle: pytrec_eval with the qrels reduced to the candidates' labels. Candidate-only figures are at
    least the end-to-end ones here (relevant documents outside the run are ignored), and labelled."""
    run, qrels = _data()
    cand = build_candidates(run, qrels, k=40)
    scored = cand.merge(run, on=["qid", "docid"])
    out = evaluate_candidates(scored, ["nDCG@10", "AP"])
    assert set(out.metric) == {"nDCG@10[candidates]", "AP[candidates]"} and set(out.scope) == {"candidates"}
    reduced = cand[["qid", "docid", "label"]]
    res = _trec(reduced[reduced.label > 0], run, {"ndcg_cut", "map"})
    got = out[out.metric == "AP[candidates]"].set_index("qid").value
    for q, r in res.items():
        assert got[q] == pytest.approx(r["map"], abs=1e-12)
    e2e = evaluate_end_to_end(run, qrels, ["AP"]).set_index("qid").value
    assert (got.reindex(e2e.index).dropna() >= e2e.reindex(got.index).dropna() - 1e-12).all()


def test_pipeline_reports_both_scopes_apart():
    """Oracle: the two functions above. evaluate_pipeline is their concatenation restricted to qids."""
    run, qrels = _data()
    cand = build_candidates(run, qrels, k=20)
    qids = ["q1", "q2", "q99"]
    out = evaluate_pipeline(run, qrels, ["nDCG@10"], qids=qids, candidates=cand)
    e2e = out[out.scope == "end_to_end"]
    assert sorted(e2e.qid) == qids
    pd.testing.assert_frame_equal(e2e.reset_index(drop=True),
                                  evaluate_end_to_end(run, qrels, ["nDCG@10"], qids=qids))
    assert set(out[out.scope == "candidates"].metric) == {"nDCG@10[candidates]"}
    with pytest.raises(DataError, match=r"none of the 1 evaluated queries has qrels"):
        evaluate_end_to_end(run, qrels, ["AP"], qids=["nope"])
