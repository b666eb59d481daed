"""Tests of ltr.pipeline.candidates. Oracles: hand-built runs and qrels whose candidate sets are worked out
by hand (which documents, which source, which label), and set algebra for the random strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.errors import ConfigError, DataError, UnknownNameError
from ltr.pipeline.candidates import attach_queries, build_candidates, candidate_summary, order_run, top_k


def _run():
    # q1: d1..d8 with descending scores; q2: 4 documents, a tie between b and c
    rows = [("q1", f"d{i}", 10.0 - i) for i in range(1, 9)]
    rows += [("q2", "a", 3.0), ("q2", "c", 2.0), ("q2", "b", 2.0), ("q2", "d", 1.0)]
    frame = pd.DataFrame(rows, columns=["qid", "docid", "score"])
    return frame.iloc[np.random.default_rng(0).permutation(len(frame))].reset_index(drop=True)


def _qrels():
    return pd.DataFrame({"qid": ["q1", "q1", "q1", "q1", "q2"],
                         "docid": ["d2", "d6", "x9", "d3", "b"],
                         "label": [2.0, 1.0, 1.0, 0.0, 1.0]})


def test_order_run_trec_eval_ties():
    """Oracle: trec_eval's rule by hand. Descending score, ties by docid descending ('c' before 'b')."""
    out = order_run(_run())
    q2 = out[out.qid == "q2"]
    assert q2.docid.tolist() == ["a", "c", "b", "d"] and q2["rank"].tolist() == [1, 2, 3, 4]
    assert out[out.qid == "q1"].docid.tolist() == [f"d{i}" for i in range(1, 9)]


def test_eval_candidates_are_top_k_with_labels():
    """Oracle: hand-worked top-4. Labels from the qrels, unjudged -> 0 and counted in the notes."""
    c = build_candidates(_run(), _qrels(), k=4)
    q1 = c[c.qid == "q1"]
    assert q1.docid.tolist() == ["d1", "d2", "d3", "d4"]
    assert q1.label.tolist() == [0.0, 2.0, 0.0, 0.0]
    assert set(c.source) == {"first_stage"}
    assert c.qid.tolist()[:4] == ["q1"] * 4 or c.qid.tolist()[:4] == ["q2"] * 4
    # 8 candidates, 3 judged (d2, d3, b): 5 unjudged assumed non-relevant
    assert c.attrs["n_assumed_nonrelevant"] == 5
    assert "5 of 8 candidates have no qrels entry and are assumed non-relevant" in c.attrs["notes"][0]
    assert c.label.dtype == np.float64 and c.docid.dtype == object


def test_eval_complete_judgments_note():
    """Oracle: the flag. With complete labels nothing is 'assumed'."""
    c = build_candidates(_run(), _qrels(), k=4, complete_judgments=True)
    assert c.attrs["n_assumed_nonrelevant"] == 0 and "complete" in c.attrs["notes"][0]


def test_eval_refuses_training_options():
    """Oracle: the bad-input rule. Evaluation sets are never altered by a training strategy."""
    with pytest.raises(ConfigError, match=r"never altered by a training strategy"):
        build_candidates(_run(), _qrels(), k=4, negatives="hard")
    with pytest.raises(ConfigError, match=r"never altered"):
        build_candidates(_run(), _qrels(), k=4, add_judged=True)


def test_train_all_and_judged():
    """Oracle: hand-worked. add_judged adds d6 and x9 (missed by the top-4) with source 'judged'."""
    c = build_candidates(_run(), _qrels(), k=4, mode="train", add_judged=True)
    q1 = c[c.qid == "q1"]
    assert q1.docid.tolist() == ["d1", "d2", "d3", "d4", "d6", "x9"]
    assert q1.source.tolist() == ["first_stage"] * 4 + ["judged"] * 2
    assert q1.label.tolist() == [0.0, 2.0, 0.0, 0.0, 1.0, 1.0]
    assert q1["rank"].tolist()[:5] == [1.0, 2.0, 3.0, 4.0, 6.0] and np.isnan(q1["rank"].iloc[5])
    assert np.isnan(q1.first_stage_score.iloc[5]) and q1.first_stage_score.iloc[0] == 9.0


def test_train_hard_negatives_are_top_ranked_nonrelevant():
    """Oracle: hand-worked. Hard negatives of q1 = the 2 highest-ranked non-relevant documents (d1, d3)."""
    c = build_candidates(_run(), _qrels(), k=4, mode="train", negatives="hard", n_negatives=2)
    q1 = c[c.qid == "q1"]
    assert q1.docid.tolist() == ["d1", "d2", "d3"]
    assert q1.source.tolist() == ["hard", "first_stage", "hard"]
    # with a budget larger than the top-k, hard negatives continue down the run (d4, d5, d7)
    c = build_candidates(_run(), _qrels(), k=2, mode="train", negatives="hard", n_negatives=4)
    assert c[c.qid == "q1"].docid.tolist() == ["d1", "d2", "d3", "d4", "d5"]


def test_train_random_negatives():
    """Oracle: set algebra. Random negatives avoid relevant documents and the positives, come from the
    collection, are reproducible for a seed and do not depend on which other queries are present."""
    docids = [f"d{i}" for i in range(1, 9)] + ["x9", "a", "b", "c", "d"] + [f"z{i}" for i in range(200)]
    c = build_candidates(_run(), _qrels(), k=4, mode="train", negatives="random", n_negatives=5, docids=docids)
    q1 = c[c.qid == "q1"]
    rnd = q1[q1.source == "random"]
    assert len(rnd) == 5 and not set(rnd.docid) & {"d2", "d6", "x9"}
    assert set(rnd.docid) <= set(docids) and rnd.label.eq(0).all()
    again = build_candidates(_run(), _qrels(), k=4, mode="train", negatives="random", n_negatives=5,
                             docids=docids)
    pd.testing.assert_frame_equal(c, again)
    only_q1 = build_candidates(_run()[lambda f: f.qid == "q1"], _qrels(), k=4, mode="train",
                               negatives="random", n_negatives=5, docids=docids)
    assert only_q1.docid.tolist() == q1.docid.tolist()
    other = build_candidates(_run(), _qrels(), k=4, mode="train", negatives="random", n_negatives=5,
                             docids=docids, seed=1)
    assert other.docid.tolist() != c.docid.tolist()


def test_train_mix_ratio():
    """Oracle: hand count. mix with 4 negatives and hard_ratio 0.5 gives 2 hard + 2 random."""
    docids = [f"d{i}" for i in range(1, 9)] + [f"z{i}" for i in range(100)]
    c = build_candidates(_run(), _qrels(), k=4, mode="train", negatives="mix", n_negatives=4,
                         hard_ratio=0.5, docids=docids)
    q1 = c[c.qid == "q1"]
    assert (q1.source == "hard").sum() == 2 and (q1.source == "random").sum() == 2
    assert set(q1[q1.source == "hard"].docid) == {"d1", "d3"}
    summary = candidate_summary(c)
    assert set(summary.source) == {"first_stage", "hard", "random"}


def test_bad_input():
    """Oracle: the error messages."""
    with pytest.raises(UnknownNameError, match=r"Unknown negative strategy 'hardest'. Choose from "
                                               r"\['all', 'hard', 'mix', 'random'\]"):
        build_candidates(_run(), _qrels(), mode="train", negatives="hardest")
    with pytest.raises(ConfigError, match=r"pass docids=collection.docids"):
        build_candidates(_run(), _qrels(), k=2, mode="train", negatives="random", n_negatives=2)
    with pytest.raises(ConfigError, match=r"'k' parameter must be an integer >= 1"):
        build_candidates(_run(), _qrels(), k=0)
    dup = pd.concat([_run(), _run().head(1)])
    with pytest.raises(DataError, match=r"lists a document twice"):
        build_candidates(dup, _qrels())


def test_attach_queries_keeps_index_and_order():
    """Oracle: the input frame. Index and order are kept; a missing query is named."""
    pairs = top_k(_run(), 2)
    pairs.index = pd.RangeIndex(10, 10 + len(pairs))
    queries = pd.DataFrame({"qid": ["q2", "q1"], "query": ["two", "one"]})
    out = attach_queries(pairs, queries)
    expected = [{"q1": "one", "q2": "two"}[q] for q in pairs.qid]
    assert out.index.equals(pairs.index) and out["query"].tolist() == expected
    with pytest.raises(DataError, match=r"have no query text, e.g. \['q2'\]"):
        attach_queries(pairs, queries.iloc[1:])
