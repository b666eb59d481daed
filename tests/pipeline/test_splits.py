"""Tests of ltr.pipeline.splits. Oracles: set algebra on the qids (each query tested exactly once, train and
test disjoint), and the time order itself (max train time < min test time)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.errors import ConfigError, DataError, SchemaError
from ltr.pipeline.splits import query_kfold, time_ordered_split


def test_kfold_partitions_queries():
    """Oracle: set algebra. Every distinct qid is in exactly one test fold; train = all - test."""
    qids = np.repeat([f"q{i}" for i in range(23)], 3)  # rows, not queries
    folds = query_kfold(qids, k=5, seed=1)
    assert [f.name for f in folds] == [f"fold{i}" for i in range(1, 6)]
    all_q = {f"q{i}" for i in range(23)}
    tested = [q for f in folds for q in f.test]
    assert sorted(tested) == sorted(all_q)
    for f in folds:
        assert set(f.train) | set(f.test) == all_q and not set(f.train) & set(f.test)
        assert len(f.test) in (4, 5)
        assert all(type(q) is str for q in f.train)


def test_kfold_deterministic_and_seeded():
    """Oracle: same seed gives identical folds; another seed gives different ones."""
    qids = [str(i) for i in range(50)]
    a, b = query_kfold(qids, 5, seed=0), query_kfold(qids, 5, seed=0)
    assert all(np.array_equal(x.test, y.test) for x, y in zip(a, b))
    c = query_kfold(qids, 5, seed=1)
    assert any(not np.array_equal(x.test, y.test) for x, y in zip(a, c))


@pytest.mark.parametrize("k, msg", [(1, r"must be an integer >= 2\. Got 1"),
                                    (4, r"cannot make 4 folds from 3 distinct queries: pass k <= 3"),
                                    (2.5, r"Got 2\.5 instead")])
def test_kfold_bad_k(k, msg):
    """Oracle: the error messages (bad input rule)."""
    with pytest.raises(ConfigError, match=msg):
        query_kfold(["a", "b", "c"], k=k)


def _queries(times):
    return pd.DataFrame({"qid": [f"q{i}" for i in range(len(times))],
                         "query_time": pd.to_datetime(times, utc=True)})


def test_time_split_train_strictly_older():
    """Oracle: the query times. Every training query is strictly older than every test query."""
    times = ["2020-01-05", "2020-01-01", "2020-03-01", "2020-02-01", "2020-02-01", "2020-04-01",
             "2020-01-20", "2020-05-01", "2020-05-02", "2020-02-15"]
    q = _queries(times)
    split = time_ordered_split(q, test_fraction=0.3)
    t = q.set_index("qid")["query_time"]
    assert t[list(split.train)].max() < t[list(split.test)].min()
    assert set(split.train) | set(split.test) == set(q.qid)
    assert len(split.test) == 3
    assert list(split.test) == ["q5", "q7", "q8"]  # the three newest, oldest first


def test_time_split_ties_go_to_test():
    """Oracle: a hand count. The boundary falls inside a tie; all tied queries move to the test side."""
    q = _queries(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-03", "2020-01-03"])
    split = time_ordered_split(q, test_fraction=0.4)  # ceil(2) newest would split the 3-way tie
    assert sorted(split.test) == ["q2", "q3", "q4"] and sorted(split.train) == ["q0", "q1"]


def test_time_split_errors():
    """Oracle: the error messages for collections without query times and missing times."""
    with pytest.raises(SchemaError, match=r"carry no time; use query_kfold"):
        time_ordered_split(pd.DataFrame({"qid": ["1"], "query": ["x"]}))
    q = _queries(["2020-01-01", None, "2020-01-03"])
    with pytest.raises(DataError, match=r"1 queries have no 'query_time', e.g. \['q1'\]"):
        time_ordered_split(q)
    with pytest.raises(DataError, match=r"oldest time"):
        time_ordered_split(_queries(["2020-01-01"] * 4), test_fraction=0.5)
    with pytest.raises(ConfigError, match=r"test_fraction.*Got 1\.5"):
        time_ordered_split(_queries(["2020-01-01", "2020-01-02"]), test_fraction=1.5)


def test_letor_folds_reads_the_layout(tmp_path):
    """Oracle: hand-written LETOR files. Fold1..Fold2 in numeric order, each with its train/vali/test queries;
    a fold without test.txt is an error naming it."""
    from ltr.pipeline.splits import letor_folds

    lines = {"train": "2 qid:1 1:0.5 2:1\n0 qid:1 1:0.1 2:0\n1 qid:2 1:0.3 2:0.2\n",
             "vali": "1 qid:3 1:0.2 2:0.1\n0 qid:3 1:0.9 2:0.4\n",
             "test": "0 qid:4 1:0.7 2:0.3\n1 qid:4 1:0.6 2:0.8\n"}
    for fold in ("Fold1", "Fold2"):
        (tmp_path / fold).mkdir()
        for part, text in lines.items():
            (tmp_path / fold / f"{part}.txt").write_text(text)
    folds = letor_folds(tmp_path)
    assert [name for name, _ in folds] == ["Fold1", "Fold2"]
    parts = folds[0][1]
    assert parts["train"].unique_qids.tolist() == ["1", "2"] and parts["test"].unique_qids.tolist() == ["4"]
    assert parts["vali"].n_queries == 1 and parts["train"].labels.tolist() == [2.0, 0.0, 1.0]
    (tmp_path / "Fold2" / "test.txt").unlink()
    with pytest.raises(DataError, match=r"test\.txt"):
        letor_folds(tmp_path)
