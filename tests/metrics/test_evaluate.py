"""evaluate() and aggregate(): frame contract, agreement with compute(), and every error message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.errors import ConfigError, DataError, LabelError, SchemaError, UnknownNameError
from ltr.metrics import aggregate, evaluate, parse_metric


@pytest.fixture
def qrels():
    return pd.DataFrame({"qid": ["2", "2", "10", "10", "7"], "docid": ["a", "b", "a", "c", "x"],
                         "label": [1, 0, 2, 0, 1]})


@pytest.fixture
def run():
    return pd.DataFrame({"qid": ["10", "10", "2", "2", "2", "99"], "docid": ["a", "c", "b", "a", "z", "a"],
                         "score": [0.1, 0.9, 3.0, 2.0, 1.0, 5.0]})


def test_frame_contract(qrels, run, path):
    """Oracle: hand-computed values; qids str in byte order, metrics in the given order and spelling."""
    names = ["RR", parse_metric("P@1"), "ndcg@2"]
    out = evaluate(qrels, run, names)
    assert list(out.columns) == ["qid", "metric", "value"]
    assert out.qid.tolist() == ["10", "10", "10", "2", "2", "2"]        # "10" < "2" in byte order
    assert out.metric.tolist() == ["RR", "P@1", "ndcg@2"] * 2
    assert out.qid.map(type).eq(str).all() and out.value.dtype == np.float64
    by = out.set_index(["qid", "metric"])["value"]
    assert by[("10", "RR")] == 0.5 and by[("2", "RR")] == 0.5
    assert by[("10", "P@1")] == 0.0
    assert by[("10", "ndcg@2")] == pytest.approx((2 / np.log2(3)) / 2)


def test_numeric_ids_are_read_as_strings(qrels, run, path):
    """Oracle: the same run with integer qids gives the same frame (ids are strings)."""
    as_int = lambda f: f.assign(qid=f.qid.astype(int))  # noqa: E731
    pd.testing.assert_frame_equal(evaluate(as_int(qrels), as_int(run), ["AP"]), evaluate(qrels, run, ["AP"]))


def test_pandas_string_columns(qrels, run, path):
    """Oracle: object and pandas string dtypes give the same frame."""
    s = lambda f: f.astype({"qid": "string", "docid": "string"})  # noqa: E731
    pd.testing.assert_frame_equal(evaluate(s(qrels), s(run), ["AP", "nDCG@3"]), evaluate(qrels, run, ["AP", "nDCG@3"]))


def test_evaluate_agrees_with_compute_on_a_complete_candidate_set(path):
    """Oracle: Metric.compute; when the qrels judge every candidate, evaluate() and compute() coincide."""
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 20, 30)
    n = int(sizes.sum())
    qids = np.repeat([f"q{i:02d}" for i in range(len(sizes))], sizes)
    docids = np.array([f"d{i}" for i in rng.permutation(n)], dtype=object)
    labels = rng.integers(0, 4, n).astype(float)
    scores = rng.integers(0, 5, n).astype(float)
    frame = pd.DataFrame({"qid": qids, "docid": docids, "label": labels, "score": scores})
    names = ["nDCG@5", "AP", "RR", "ERR@10", "P(rel=2)@3", "Bpref", "nDCG(ties='average')@3", "AP(ties='row')"]
    out = evaluate(frame[["qid", "docid", "label"]], frame[["qid", "docid", "score"]], names)
    for name in names:
        got = out[out.metric == name]["value"].to_numpy()
        expected = parse_metric(name).compute(labels, scores, sizes, docids)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15, err_msg=name)


def test_ties_row_follows_run_row_order():
    """Oracle: definition; with ties='row' the earlier run row ranks first among equal scores."""
    qrels = pd.DataFrame({"qid": ["1"], "docid": ["a"], "label": [1]})
    run = pd.DataFrame({"qid": ["1", "1"], "docid": ["a", "b"], "score": [1.0, 1.0]})
    out = evaluate(qrels, run, ["RR", "RR(ties='row')"]).set_index("metric")["value"]
    assert out["RR"] == 0.5 and out["RR(ties='row')"] == 1.0


def test_aggregate_means_in_given_order(qrels, run):
    """Oracle: pandas groupby mean; index keeps the order of the metrics."""
    out = evaluate(qrels, run, ["P@1", "AP"])
    means = aggregate(out)
    assert means.index.tolist() == ["P@1", "AP"]
    assert means["AP"] == pytest.approx(out[out.metric == "AP"].value.mean())
    zero = aggregate(evaluate(qrels, run, ["P@1", "AP"], missing_queries="zero"))
    assert zero["AP"] == pytest.approx(out[out.metric == "AP"].value.sum() / 3)


def test_errors(qrels, run, path):
    """Oracle: each message names the offending qid/docid or column and says how to fix it."""
    with pytest.raises(DataError, match=r"the run has 1 duplicate \(qid, docid\) pairs, e.g. qid '2' docid "
                                        r"'a'; trec_eval refuses them: keep one row per pair"):
        evaluate(qrels, pd.concat([run, run.iloc[[3]]]), ["AP"])
    with pytest.raises(DataError, match=r"No qids in common between the run \(1 queries, e.g. \['5'\]\) and "
                                        r"the qrels \(3 queries, e.g. \['2', '10', '7'\]\)"):
        evaluate(qrels, run.assign(qid="5"), ["AP"])
    with pytest.raises(DataError, match=r"the run has 1 NaN scores, e.g. qid '2' docid 'b'"):
        evaluate(qrels, run.assign(score=[0.1, 0.9, np.nan, 2.0, 1.0, 5.0]), ["AP"])
    with pytest.raises(LabelError, match=r"the qrels have 1 NaN labels, e.g. qid '10' docid 'a'"):
        evaluate(qrels.assign(label=[1, 0, np.nan, 0, 1]), run, ["AP"])
    with pytest.raises(DataError, match=r"the qrels judge a document twice, e.g. qid '2' docid 'a'"):
        evaluate(pd.concat([qrels, qrels.iloc[[0]]]), run, ["AP"])
    with pytest.raises(SchemaError, match=r"evaluate \(run\) needs columns \['score'\] \(found \['qid', 'docid'\]\)"):
        evaluate(qrels, run[["qid", "docid"]], ["AP"])
    with pytest.raises(UnknownNameError, match=r"Unknown missing_queries rule 'drop'. Choose from \['skip', 'zero'\]"):
        evaluate(qrels, run, ["AP"], missing_queries="drop")
    with pytest.raises(DataError, match=r"the run has 1 missing docids, first at row 1; every row needs a docid"):
        evaluate(qrels, run.assign(docid=["a", None, "b", "a", "z", "a"]), ["AP"])
    with pytest.raises(DataError, match=r"the qrels have 1 missing qids, first at row 0"):
        evaluate(qrels.assign(qid=[None, "2", "10", "10", "7"]), run, ["AP"])
    with pytest.raises(LabelError, match=r"the qrels' labels must be numbers; found 'high'"):
        evaluate(qrels.assign(label=["1", "0", "high", "0", "1"]), run, ["AP"])
    with pytest.raises(DataError, match=r"the run's scores must be numbers; found 'x'"):
        evaluate(qrels, run.assign(score=[0.1, "x", 3.0, 2.0, 1.0, 5.0]), ["AP"])
    with pytest.raises(ConfigError, match=r"metric 'AP' is given twice"):
        evaluate(qrels, run, ["AP", "AP"])
    with pytest.raises(ConfigError, match=r"evaluate needs at least one metric"):
        evaluate(qrels, run, [])
    with pytest.raises(UnknownNameError, match=r"Unknown metric 'NDCG10'"):
        evaluate(qrels, run, ["NDCG10"])


def test_single_metric_string(qrels, run):
    """Oracle: a single name is a list of one."""
    pd.testing.assert_frame_equal(evaluate(qrels, run, "AP"), evaluate(qrels, run, ["AP"]))
