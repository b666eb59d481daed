"""Click simulation: determinism, CTR per position against its expectation (joint tests), interventions,
relevance mappings, rankings, errors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ltr.clicks import write_clicks
from ltr.clicks.models import get_click_model
from ltr.clicks.simulate import (Binary, Graded, UBMUser, click_probabilities, get_user_model, rankings_from_run,
                                 simulate, simulate_from_qrels)
from ltr.errors import ConfigError, DataError, SchemaError, UnknownNameError
from tests.clicks.conftest import random_probabilities, random_run


@pytest.fixture(scope="module")
def world():
    run = random_run(25, 12, seed=7)
    return run, random_probabilities(run, seed=7)


def _bytes(log):
    buf = io.BytesIO()
    import pyarrow.parquet as pq
    from ltr.clicks.files import parquet_table
    pq.write_table(parquet_table(log), buf)
    return buf.getvalue()


@pytest.mark.parametrize("user", ["pbm(eta=2)", "cascade", "dbn(gamma=0.6)", "ubm"])
def test_same_seed_same_log_whatever_the_threads(world, user):
    """Two random blocks (70,000 sessions > BLOCK): one thread or two give the same SERPs and clicks."""
    run, probs = world
    a = simulate(run, probs, user=user, sessions=70_000, seed=3, n_jobs=1, intervention="swap")
    b = simulate(run, probs, user=user, sessions=70_000, seed=3, n_jobs=2, intervention="swap")
    for name in ("pair", "click", "length", "query"):
        assert np.array_equal(getattr(a.serps, name), getattr(b.serps, name))
    assert np.array_equal(a._extra["original_position"], b._extra["original_position"])
    c = simulate(run, probs, user=user, sessions=70_000, seed=4, n_jobs=2, intervention="swap")
    assert not np.array_equal(a.serps.click, c.serps.click)


def test_same_seed_same_bytes(world):
    run, probs = world
    a = simulate(run, probs, user="dbn", sessions=5000, seed=3, n_jobs=1, intervention="randomize")
    b = simulate(run, probs, user="dbn", sessions=5000, seed=3, n_jobs=2, intervention="randomize")
    assert _bytes(a) == _bytes(b)


def _expected_click_vectors(run, probs, user, top):
    """Per query: the exact P(C_k = 1) under the user model with the true parameters. PBM in closed form;
    the other models through our click-model formulas (themselves checked against PyClick and by
    enumeration), fed the true parameters."""
    rk = rankings_from_run(run, top=top)
    index = pd.MultiIndex.from_arrays([probs["qid"], probs["docid"]])
    look = pd.MultiIndex.from_arrays([np.repeat(rk.queries, top), rk.docids[rk.docs.ravel()]])
    a = probs["attractiveness"].to_numpy()[index.get_indexer(look)].reshape(rk.docs.shape)
    s = probs["satisfaction"].to_numpy()[index.get_indexer(look)].reshape(rk.docs.shape)
    user = get_user_model(user)
    k = np.arange(top)
    if user.name == "pbm":
        return a * user.examination(top)[None, :]
    if user.name == "cascade":
        return a * np.cumprod(np.c_[np.ones(len(a)), 1 - a[:, :-1]], axis=1)
    if user.name == "dbn":
        from ltr.clicks.models.dbn import _cascade_click_probs
        return _cascade_click_probs(a, s, user.gamma)
    ubm = get_click_model("ubm")
    ubm.attr_ = np.r_[a.ravel(), 0.5]
    ubm.gamma_ = user.matrix(top)
    idx = (np.arange(len(a))[:, None] * top + k[None, :])
    from ltr.clicks import SerpMatrix
    m = SerpMatrix(pair=idx, click=np.zeros(a.shape, bool), length=np.full(len(a), top),
                   query=np.arange(len(a)), queries=rk.queries, pair_qid=np.repeat(rk.queries, top),
                   pair_docid=rk.docids[rk.docs.ravel()])
    return ubm._click_probs(m, idx)


@pytest.mark.parametrize("user", ["pbm(eta=1)", "pbm(eta=2)", "cascade", "dbn(gamma=0.7)", "ubm(eta=1.5)"])
def test_ctr_per_position_agrees_with_its_expectation_in_one_joint_test(world, user):
    """Oracle: the exact expected CTR per position (queries uniform). One joint test over the 10 positions:
    T = N d' S^-1 d with d the difference of the mean click vectors and S the covariance of a session's
    click vector (PBM: exact, from the parameters; other users: the sample covariance); T ~ chi2(10).
    Deterministic (fixed seed); the test fails if p < 1e-3."""
    run, probs = world
    n = 100_000
    log = simulate(run, probs, user=user, sessions=n, seed=21)
    clicks = log.serps.click.astype(float)
    per_query = _expected_click_vectors(run, probs, user, 10)
    mu = per_query.mean(axis=0)
    if user.startswith("pbm"):
        # clicks are independent given the query: E[c_k c_j] = mean_q p_k p_j (k != j), E[c_k^2] = mean_q p_k
        second = (per_query[:, :, None] * per_query[:, None, :]).mean(axis=0)
        np.fill_diagonal(second, mu)
        cov = second - np.outer(mu, mu)
    else:
        cov = np.cov(clicks, rowvar=False)
    d = clicks.mean(axis=0) - mu
    t = n * d @ np.linalg.solve(cov, d)
    p = stats.chi2.sf(t, df=10)
    assert p > 1e-3, (t, p)


def test_swap_intervention(world):
    """Oracle: the definition (partner k uniform in 1..n; positions 1 and k exchanged; k = 1 the control)."""
    run, probs = world
    log = simulate(run, probs, user="pbm", sessions=50_000, seed=1, intervention="swap")
    f = log.frame
    orig = f["original_position"].to_numpy(dtype=int).reshape(-1, 10)
    partner = orig[:, 0]
    rows = np.arange(len(orig))
    assert np.all(orig[rows, partner - 1] == 1)
    untouched = np.ones_like(orig, dtype=bool)
    untouched[:, 0] = False
    untouched[rows, partner - 1] = False
    assert np.all(orig[untouched] == np.tile(np.arange(1, 11), (len(orig), 1))[untouched])
    counts = np.bincount(partner, minlength=11)[1:]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_randomize_intervention(world):
    run, probs = world
    log = simulate(run, probs, user="pbm", sessions=20_000, seed=1, intervention="randomize(k=4)")
    orig = log.frame["original_position"].to_numpy(dtype=int).reshape(-1, 10)
    assert np.all(np.sort(orig[:, :4], axis=1) == np.arange(1, 5))
    assert np.all(orig[:, 4:] == np.arange(5, 11))
    counts = np.bincount(orig[:, 0], minlength=5)[1:]           # which original position lands on top
    assert stats.chisquare(counts).pvalue > 1e-3


def test_graded_and_binary_mappings():
    """Oracle: the formulas of Ai et al. 2018 and Joachims et al. 2017."""
    pairs = pd.DataFrame({"qid": ["q"] * 4, "docid": ["a", "b", "c", "unjudged"]})
    qrels = pd.DataFrame({"qid": ["q"] * 3, "docid": ["a", "b", "c"], "label": [0, 1, 2]})
    g = click_probabilities(pairs, qrels)
    assert g["attractiveness"].tolist() == pytest.approx([0.1, 0.1 + 0.9 * 1 / 3, 1.0, 0.1])
    assert g["satisfaction"].tolist() == pytest.approx([0.0, 1 / 3, 1.0, 0.0])
    assert g.attrs == {"mapping": "graded", "y_max": 2.0}
    g4 = click_probabilities(pairs, qrels, mapping="graded(eps=0.2, y_max=4)")
    assert g4["attractiveness"].tolist() == pytest.approx([0.2, 0.2 + 0.8 / 15, 0.2 + 0.8 * 3 / 15, 0.2])
    b = click_probabilities(pairs, qrels, mapping="binary")
    assert b["attractiveness"].tolist() == [0.1, 1.0, 1.0, 0.1]
    assert click_probabilities(pairs, qrels, mapping=Binary(threshold=2))["attractiveness"].tolist() == \
        [0.1, 0.1, 1.0, 0.1]
    assert repr(Graded(eps=0.2)) == "graded(eps=0.2)"
    with pytest.raises(ConfigError, match=r"The 'eps' parameter of graded must be a float in \[0, 1\]"):
        Graded(eps=1.5)
    with pytest.raises(UnknownNameError, match="Unknown relevance mapping 'linear'"):
        click_probabilities(pairs, qrels, mapping="linear")


def test_rankings_sort_by_score_then_docid_descending():
    run = pd.DataFrame({"qid": ["q"] * 4, "docid": ["a", "c", "b", "d"], "score": [1.0, 2.0, 2.0, 0.5]})
    rk = rankings_from_run(run, top=3)
    assert rk.docids[rk.docs[0]].tolist() == ["c", "b", "a"]
    with pytest.raises(DataError, match="ranks document 'a' twice for query 'q'"):
        rankings_from_run(pd.concat([run, run.iloc[:1]]), top=3)


def test_short_queries_give_short_serps():
    run = random_run(3, 4, seed=0)
    log = simulate(run, random_probabilities(run), sessions=200, top=10, seed=0)
    assert set(log.serp_sizes().tolist()) == {4}
    assert log.summary().ctr_by_position["position"].tolist() == [1, 2, 3, 4]


def test_several_rankers_are_named_in_the_log(world):
    run, probs = world
    other = run.assign(score=-run["score"])
    log = simulate({"prod": run, "new": other}, probs, sessions=4000, seed=0)
    f = log.frame
    assert set(f["ranker"].unique()) == {"prod", "new"}
    first = f[f["position"] == 1]
    for name, sub in first.groupby("ranker", observed=True):
        expected = rankings_from_run(run if name == "prod" else other, top=1)
        tops = dict(zip(expected.queries, expected.docids[expected.docs[:, 0]]))
        assert all(tops[q] == d for q, d in zip(sub["qid"].astype(str), sub["docid"].astype(str)))


def test_simulate_from_qrels_and_errors(world, tmp_path):
    run, probs = world
    qrels = run[["qid", "docid"]].assign(label=np.arange(len(run)) % 3)
    log = simulate_from_qrels(run, qrels, user="pbm(eta=1)", sessions=1000, seed=0)
    write_clicks(log, tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"no click probability for \d+ shown \(qid, docid\) pairs"):
        simulate(run, probs.iloc[5:], sessions=10, seed=0)
    with pytest.raises(SchemaError, match="a DBN user needs a 'satisfaction' column"):
        simulate(run, probs.drop(columns="satisfaction"), user="dbn", sessions=10, seed=0)
    with pytest.raises(ConfigError, match="sessions must be an int >= 1"):
        simulate(run, probs, sessions=0, seed=0)
    with pytest.raises(UnknownNameError, match=r"Unknown user model 'pmb'.*'pbm'"):
        simulate(run, probs, user="pmb", sessions=10, seed=0)
    with pytest.raises(UnknownNameError, match=r"user model 'pbm' got unknown parameters \['gamma'\]"):
        simulate(run, probs, user="pbm(gamma=1)", sessions=10, seed=0)
    with pytest.raises(ConfigError, match=r"The 'gamma' parameter of dbn must be a float in \[0, 1\]"):
        simulate(run, probs, user="dbn(gamma=2)", sessions=10, seed=0)
    with pytest.raises(ConfigError, match="ubm's gamma matrix covers 2 positions but 10 are shown"):
        simulate(run, probs, user=UBMUser(gamma=((1, 0), (0.5, 0.5))), sessions=10, seed=0)
