"""Propensity estimation against the simulator's truth (1/k)^eta, for eta in {0.5, 1, 2}."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.clicks import ClickLog
from ltr.clicks.propensity import (harvest_propensities, randomized_propensities, regression_em_propensities,
                                   swap_propensities)
from ltr.clicks.simulate import simulate
from ltr.errors import DataError, SchemaError
from tests.clicks.conftest import impressions, random_probabilities, random_run

ETAS = [0.5, 1.0, 2.0]


@pytest.fixture(scope="module")
def world():
    run = random_run(100, 15, seed=9)
    return run, random_probabilities(run, seed=9, low=0.2, high=0.9)


def truth(eta, n=10):
    return (1.0 / np.arange(1, n + 1)) ** eta


@pytest.mark.parametrize("eta", ETAS)
def test_swap_propensities_agree_with_the_truth(world, eta):
    """Oracle: the simulator's (1/k)^eta. Tolerance: every position within 4 standard errors (delta method on
    the two binomial rates; 200,000 sessions, about 20,000 per arm) and within 0.02 + 10% of the truth."""
    run, probs = world
    log = simulate(run, probs, user=f"pbm(eta={eta})", sessions=200_000, seed=int(eta * 10), intervention="swap")
    p = swap_propensities(log)
    t = truth(eta)
    assert p.values[0] == 1.0 and p.method == "swap"
    z = np.abs(p.values[1:] - t[1:]) / p.stderr[1:]
    assert z.max() < 4, z
    assert np.all(np.abs(p.values - t) <= 0.02 + 0.1 * t)
    assert p.at([1, 3]).tolist() == [1.0, p.values[2]]


@pytest.mark.parametrize("eta", ETAS)
def test_randomized_propensities_agree_with_the_truth(world, eta):
    """Oracle: as above, top-10 randomisation; every impression counts, so the errors are smaller."""
    run, probs = world
    log = simulate(run, probs, user=f"pbm(eta={eta})", sessions=100_000, seed=5, intervention="randomize")
    p = randomized_propensities(log)
    z = np.abs(p.values[1:] - truth(eta)[1:]) / p.stderr[1:]
    assert z.max() < 4, z


@pytest.mark.parametrize("eta", ETAS)
def test_intervention_harvesting_agrees_with_the_truth(world, eta):
    """Oracle: the truth; logs of two rankers (independent random scores) on the same queries, no
    intervention. Tolerance: 0.01 + 10% of the truth at every position (150,000 sessions)."""
    run, probs = world
    other = run.assign(score=np.random.default_rng(1).random(len(run)))
    log = simulate({"a": run, "b": other}, probs, user=f"pbm(eta={eta})", sessions=150_000, seed=8)
    p = harvest_propensities(log)
    t = truth(eta)
    assert p.values[0] == 1.0
    assert np.all(np.abs(p.values - t) <= 0.01 + 0.1 * t), (p.values, t)


def test_harvesting_on_two_logs_written_apart(world):
    """Two rankers' logs simulated separately (both number their sessions from 0), joined with concat."""
    from ltr.clicks import concat
    run, probs = world
    other = run.assign(score=np.random.default_rng(2).random(len(run)))
    a = simulate(run, probs, user="pbm(eta=1)", sessions=60_000, seed=1)
    b = simulate(other, probs, user="pbm(eta=1)", sessions=60_000, seed=2)
    both = concat([a, b], keys=["prod", "new"])
    assert both.n_serps == 120_000 and set(both.frame["ranker"].unique()) == {"prod", "new"}
    p = harvest_propensities(both)
    assert np.all(np.abs(p.values - truth(1.0)) <= 0.02 + 0.1 * truth(1.0))


def test_harvesting_needs_ranking_variation(world):
    run, probs = world
    log = simulate(run, probs, user="pbm", sessions=5000, seed=0)
    with pytest.raises(DataError, match="no \\(query, document\\) is shown at two different positions"):
        harvest_propensities(log)


@pytest.fixture(scope="module")
def featured():
    """Relevance a logistic function of 5 features; the production ranking correlates with relevance and is
    fixed per query (no ranking variation: only the relevance model can link the positions)."""
    rng = np.random.default_rng(0)
    nq, nd = 150, 10
    X = rng.normal(size=(nq * nd, 5))
    attr = 1 / (1 + np.exp(-(X @ np.array([1.5, -1.0, 0.5, 0.0, 0.8]) - 0.5)))
    qid = np.repeat([f"q{i}" for i in range(nq)], nd)
    docid = np.tile([f"d{j}" for j in range(nd)], nq)
    run = pd.DataFrame({"qid": qid, "docid": docid, "score": attr + rng.normal(scale=0.3, size=nq * nd)})
    probs = pd.DataFrame({"qid": qid, "docid": docid, "attractiveness": attr})
    feats = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)]).assign(qid=qid, docid=docid)
    return run, probs, feats


@pytest.mark.slow
def test_regression_em_identifies_through_features(featured):
    """Oracle: the truth (eta = 1), fixed rankings. Regression EM (GBDT relevance model, defaults) is within
    15% of the truth at every position; without features the same log is refused (not identified)."""
    run, probs, feats = featured
    log = simulate(run, probs, user="pbm(eta=1)", sessions=150_000, seed=1)
    p = regression_em_propensities(log, features=feats)
    t = truth(1.0)
    assert np.all(np.abs(p.values / t - 1) <= 0.15), p.values / t
    assert "relevance is a function of the features only" in p.note
    with pytest.raises(DataError, match="without features: not identified"):
        regression_em_propensities(log)


def test_regression_em_without_features_is_pbm_em(world):
    """Oracle: PBM's own EM; with ranking variation and one free relevance per pair the two agree."""
    from ltr.clicks.models import get_click_model
    run, probs = world
    log = simulate(run, probs, user="pbm(eta=1)", sessions=20_000, seed=3, intervention="randomize")
    p = regression_em_propensities(log, iterations=200)
    pbm = get_click_model("pbm(iterations=200)").fit(log)
    assert np.allclose(p.values, pbm.propensities(), atol=0.02)


def test_errors_name_what_is_missing():
    log = ClickLog.from_frame(impressions([("s", "q", "a", 1, 1), ("s", "q", "b", 2, 0)]))
    with pytest.raises(SchemaError, match="swap_propensities needs the log's 'original_position' column"):
        swap_propensities(log)
    with pytest.raises(SchemaError, match="features need qid and docid columns"):
        regression_em_propensities(log, features=pd.DataFrame({"x": [1.0]}))
