"""The production-ranker protocol (Joachims et al. 2017; Ai et al. 2018) in one call."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.clicks.protocol import production_protocol
from ltr.errors import ConfigError
from ltr.ranking import RankingDataset


@pytest.fixture(scope="module")
def letor():
    rng = np.random.default_rng(0)
    nq, nd = 60, 15
    X = rng.normal(size=(nq * nd, 6)).astype(np.float32)
    labels = np.clip(np.round(X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=nq * nd)), 0, 2)
    return RankingDataset(X, labels, np.repeat([f"q{i}" for i in range(nq)], nd), name="toy")


def test_one_call_splits_trains_ranks_and_simulates(letor):
    """Oracle: the protocol's definition: disjoint query sets, the production ranker's own top 10 shown,
    clicks only on click queries, true propensities (1/k)^eta."""
    out = production_protocol(letor, sessions=5000, fraction=0.05, user="pbm(eta=2)", seed=3,
                              ranker={"n_estimators": 20})
    assert len(out.production_qids) == 3 and len(out.click_qids) == 57
    assert not set(out.production_qids) & set(out.click_qids)
    assert set(out.log.frame["qid"].astype(str)) <= set(out.click_qids)
    assert np.allclose(out.propensities, (1.0 / np.arange(1, 11)) ** 2)
    # the SERPs show the production ranking's top 10 (no intervention)
    run = out.production_run
    f = out.log.frame
    first = f[f["session"] == f["session"].iloc[0]]
    q = first["qid"].iloc[0]
    top = run[run["qid"] == q].sort_values(["score", "docid"], ascending=[False, False])["docid"].head(10)
    assert first["docid"].astype(str).tolist() == top.tolist()
    assert out.config["ranker"]["n_estimators"] == 20 and out.config["production_queries"] == 3
    assert out.config["mapping"] == "graded(y_max=2.0)"
    assert out.probabilities["attractiveness"].between(0.1, 1.0).all()
    # same seed, same log
    again = production_protocol(letor, sessions=5000, fraction=0.05, user="pbm(eta=2)", seed=3,
                                ranker={"n_estimators": 20})
    assert np.array_equal(again.log.serps.click, out.log.serps.click)


def test_reads_a_letor_file_and_checks_its_arguments(letor, tmp_path):
    from ltr.io import write_letor
    path = tmp_path / "train.txt"
    write_letor(letor, path)
    out = production_protocol(path, sessions=500, seed=0, ranker={"n_estimators": 5}, intervention="swap")
    assert out.config["production_queries"] == 1 and "original_position" in out.log.frame.columns
    with pytest.raises(ConfigError, match=r"fraction must be a float in \(0, 1\)"):
        production_protocol(letor, sessions=10, fraction=1.5)
    with pytest.raises(ConfigError, match="ranker must be a dict"):
        production_protocol(letor, sessions=10, ranker="lambdarank")
