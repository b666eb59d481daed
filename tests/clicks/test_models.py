"""Click models: contract, registry, internal consistency by enumeration, the exact DBN E-step against a
brute-force posterior, identification, and (slow) parameter recovery from simulated logs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from ltr.clicks import ClickLog, SerpMatrix
from ltr.clicks.models import available_click_models, get_click_model
from ltr.clicks.models.dbn import _estep_exact
from ltr.clicks.models.base import last_click
from ltr.clicks.simulate import simulate
from ltr.errors import ConfigError, DataError, NotFittedError, UnknownNameError
from tests.clicks.conftest import impressions, random_probabilities, random_run

ALL = ["gctr", "rctr", "dctr", "pbm", "cm(convention='exact')", "ubm", "dcm", "sdbn", "dbn",
       "dbn(convention='exact')", "ccm"]


@pytest.fixture(scope="module")
def varied_log():
    """A simulated log with ranking variation and SERPs of 3 to 5 results (some queries have fewer)."""
    run = random_run(8, 5, seed=4)
    run = run[~((run["qid"] == "q1") & run["docid"].isin(["d3", "d4"]))]        # q1 has 3 documents
    probs = random_probabilities(run, seed=4)
    return simulate(run, probs, user="dbn(gamma=0.7)", sessions=3000, top=5, seed=5, intervention="randomize")


def test_registry_has_pyclicks_models_in_lower_case():
    assert available_click_models() == ["ccm", "cm", "dbn", "dcm", "dctr", "gctr", "pbm", "rctr", "sdbn", "ubm"]
    m = get_click_model("DBN(iterations=5, convention='exact')")
    assert repr(m) == "dbn(iterations=5, convention='exact')" and repr(get_click_model(repr(m))) == repr(m)
    with pytest.raises(UnknownNameError, match=r"Unknown click model 'pbn'.*Did you mean 'pbm'"):
        get_click_model("pbn")
    with pytest.raises(UnknownNameError, match=r"pbm got unknown parameters \['iters'\].*'iterations'"):
        get_click_model("pbm(iters=3)")
    with pytest.raises(ConfigError, match=r"The 'iterations' parameter of pbm must be an int >= 1. Got 0"):
        get_click_model("pbm(iterations=0)").fit(ClickLog.from_frame(impressions([("s", "q", "d", 1, 1)])))
    with pytest.raises(ConfigError, match=r"'convention' parameter of dbn must be one of \['exact', 'pyclick'\]"):
        get_click_model("dbn(convention='fast')").fit(ClickLog.from_frame(impressions([("s", "q", "d", 1, 1)])))


def test_not_fitted_is_a_typed_error(varied_log):
    with pytest.raises(NotFittedError, match="pbm click model is not fitted"):
        get_click_model("pbm").click_probabilities(varied_log)


@pytest.mark.parametrize("spec", ALL)
def test_probabilities_are_consistent_by_enumeration(varied_log, spec):
    """Oracle: enumerate every click vector of a SERP; the product of the conditional probabilities is a
    distribution (sums to 1) whose marginals are the unconditional click probabilities."""
    model = get_click_model(spec).fit(varied_log)
    m = varied_log.serps
    for row in (0, int(np.argmin(m.length))):          # a full SERP and a short one
        n = int(m.length[row])
        clicks = np.array(list(itertools.product([False, True], repeat=n)))
        k = len(clicks)
        pair = np.repeat(m.pair[row:row + 1, :n], k, axis=0)
        enum = SerpMatrix(pair=pair, click=clicks, length=np.full(k, n), query=np.repeat(m.query[row:row + 1], k),
                          queries=m.queries, pair_qid=m.pair_qid, pair_docid=m.pair_docid)
        joint = np.prod(model.conditional_probabilities(enum), axis=1)
        tol = 1e-5 if spec.startswith("cm") else 1e-12        # CM gives impossible clicks 1e-6, not 0
        assert joint.sum() == pytest.approx(1.0, abs=tol)
        marginal = (joint[:, None] * clicks).sum(axis=0)
        assert np.allclose(marginal, model.click_probabilities(enum)[0], atol=tol, rtol=0)


@pytest.mark.parametrize("spec", ALL + ["cm"])
def test_scores_are_finite_on_serps_of_different_lengths(varied_log, spec):
    score = get_click_model(spec).fit(varied_log).evaluate(varied_log)
    assert np.isfinite(score.log_likelihood) and np.isfinite(score.perplexity)
    assert len(score.perplexity_at) == 5 and score.serps == varied_log.n_serps
    assert all(p >= 1.0 for p in score.perplexity_at)


def _brute_force_dbn(a, s, g, clicks):
    """Posterior expected counts of DBN by enumerating attraction A_r, satisfaction S_r and continuation
    G_r of every position (Chapelle and Zhang's model: E_1 = 1, C_r = E_r A_r, E_{r+1} = E_r G_r (1 - C_r S_r))."""
    n = len(a)
    total = 0.0
    post_a, post_s = np.zeros(n), np.zeros(n)
    g_num = g_den = 0.0
    for bits in itertools.product([0, 1], repeat=3 * n):
        A, S, G = bits[:n], bits[n:2 * n], bits[2 * n:]
        e, p, ok = 1, 1.0, True
        es, trans = [], []
        for r in range(n):
            c = e * A[r]
            if c != clicks[r]:
                ok = False
                break
            p *= (a[r] if A[r] else 1 - a[r]) * (s[r] if S[r] else 1 - s[r]) * (g if G[r] else 1 - g)
            nxt = e * G[r] * (1 - c * S[r])
            es.append(e)
            trans.append((e * (1 - c * S[r]), nxt))
            e = nxt
        if not ok:
            continue
        total += p
        post_a += p * np.array(A)
        post_s += p * np.array([S[r] * clicks[r] for r in range(n)])
        for r in range(n - 1):                          # transitions r -> r + 1 inside the SERP
            g_den += p * trans[r][0]
            g_num += p * trans[r][1]
    return post_a / total, post_s / total, g_num / total, g_den / total


@pytest.mark.parametrize("clicks", [(0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 1), (1, 1, 0, 0), (0, 0, 0, 1)])
def test_exact_dbn_e_step_equals_brute_force_posterior(clicks):
    """Oracle: the posterior by enumeration of every hidden configuration (2^12 of them)."""
    rng = np.random.default_rng(sum(clicks))
    a, s, g = rng.uniform(0.1, 0.9, 4), rng.uniform(0.1, 0.9, 4), 0.75
    click = np.array([clicks], dtype=bool)
    m = SerpMatrix(pair=np.array([[0, 1, 2, 3]]), click=click, length=np.array([4]), query=np.array([0]),
                   queries=np.array(["q"], dtype=object), pair_qid=np.array(["q"] * 4, dtype=object),
                   pair_docid=np.array(list("abcd"), dtype=object))
    post_a, post_s, g_num, g_den = _estep_exact(a[None, :], s[None, :], g, m, last_click(m), np.ones(1))
    want_a, want_s, want_num, want_den = _brute_force_dbn(a, s, g, clicks)
    assert np.allclose(post_a[0], want_a, atol=1e-12)
    assert np.allclose(np.where(click[0], post_s[0], 0.0), want_s, atol=1e-12)
    assert g_num == pytest.approx(want_num, abs=1e-12) and g_den == pytest.approx(want_den, abs=1e-12)


def test_fixed_rankings_do_not_identify_examination_and_the_code_says_so():
    """One ranking per query: PBM fits, but only products are identified; propensities() refuses."""
    run = random_run(10, 10, seed=1)
    log = simulate(run, random_probabilities(run, seed=1), user="pbm", sessions=2000, seed=0)
    pbm = get_click_model("pbm").fit(log)
    assert not pbm.identification_.identified
    assert len(pbm.identification_.components) == 10
    with pytest.raises(DataError, match="only the products examination x attractiveness are identified"):
        pbm.propensities()
    ubm = get_click_model("ubm").fit(log)
    assert not ubm.identification_.identified
    swapped = simulate(run, random_probabilities(run, seed=1), user="pbm", sessions=2000, seed=0,
                       intervention="swap")
    assert get_click_model("pbm").fit(swapped).identification_.identified


def test_relevance_and_to_dict(varied_log):
    dbn = get_click_model("dbn(iterations=3)").fit(varied_log)
    rel = dbn.relevance()
    assert list(rel.columns) == ["qid", "docid", "attr", "sat"] and len(rel) == varied_log.serps.n_pairs
    d = dbn.to_dict()
    assert d["model"] == "dbn(iterations=3)" and d["iterations"] == 3 and set(d["rank_parameters"]) == {"cont"}


def test_unseen_pairs_and_queries_follow_pyclick():
    """Unseen pairs get 1/2; SERPs of unseen queries are dropped and counted (PyClick's filter_sessions)."""
    train = ClickLog.from_frame(impressions([("s1", "q", "a", 1, 1), ("s1", "q", "b", 2, 0)]))
    test = ClickLog.from_frame(impressions([("t1", "q", "c", 1, 0), ("t1", "q", "a", 2, 1),
                                            ("t2", "other", "a", 1, 1)]))
    dctr = get_click_model("dctr").fit(train)
    score = dctr.evaluate(test)
    assert score.serps == 1 and score.dropped_unseen_query == 1 and score.unseen_pairs == 1
    p = dctr.click_probabilities(test.serps.take([0]))[0]
    assert p.tolist() == [0.5, (1 + 1) / (2 + 1)]
    with pytest.raises(DataError, match="no SERPs to evaluate"):
        dctr.evaluate(ClickLog.from_frame(impressions([("t2", "other", "a", 1, 1)])))


# -- parameter recovery (>= 1e5 simulated sessions) -------------------------------------------------
@pytest.fixture(scope="module")
def truth():
    run = random_run(20, 10, seed=3)
    return run, random_probabilities(run, seed=3)


def _merge(model, probs):
    return model.relevance().merge(probs, on=["qid", "docid"])


@pytest.mark.slow
def test_pbm_recovers_examination_ratios(truth):
    """Oracle: the simulator's (1/k)^eta with eta = 1.5; top-10 randomisation gives the ranking variation
    that identifies the ratios. Tolerance: 0.02 absolute on every ratio; attractiveness x exam@1 within 0.03
    on average (about 5,000 impressions per pair)."""
    run, probs = truth
    log = simulate(run, probs, user="pbm(eta=1.5)", sessions=100_000, seed=11, intervention="randomize")
    pbm = get_click_model("pbm").fit(log)
    true = (1.0 / np.arange(1, 11)) ** 1.5
    assert np.abs(pbm.propensities() - true).max() < 0.02
    rel = _merge(pbm, probs)
    assert np.abs(rel["attr"] * pbm.exam_[0] - rel["attractiveness"]).mean() < 0.03


@pytest.mark.slow
def test_ubm_recovers_examination_ratios(truth):
    """Oracle: gamma[r, r'] = (1 / (r - r'))^eta (eta = 1) of the simulator. Ratios to gamma[1, none] within
    0.03 on the cells with at least 2,000 impressions."""
    run, probs = truth
    log = simulate(run, probs, user="ubm(eta=1)", sessions=100_000, seed=12, intervention="randomize")
    ubm = get_click_model("ubm").fit(log)
    from ltr.clicks.simulate import UBMUser
    true = UBMUser(eta=1.0).matrix(10)
    m = log.serps
    from ltr.clicks.models.ubm import previous_click
    prev = previous_click(m.click)
    counts = np.zeros((10, 10))
    np.add.at(counts, (np.nonzero(m.mask)[1], prev[m.mask]), 1)
    well = counts >= 2000
    assert well.sum() >= 20
    est = ubm.gamma_ / ubm.gamma_[0, 0]
    assert np.abs(est - true)[well].max() < 0.03


@pytest.mark.slow
def test_cascade_model_recovers_attractiveness(truth):
    """Oracle: the simulator's attractiveness; one fixed ranking suffices (the cascade examines every
    position down to the first click). Pairs examined at least 1,000 times are within 4 binomial standard
    errors."""
    run, probs = truth
    log = simulate(run, probs, user="cascade", sessions=100_000, seed=13)
    cm = get_click_model("cm").fit(log)
    rel = _merge(cm, probs)
    m = log.serps
    first = np.where(m.click.any(axis=1), np.argmax(m.click, axis=1), m.length)
    examined = m.mask & (np.arange(m.max_len)[None, :] <= first[:, None])
    n = np.bincount(m.pair[examined], minlength=m.n_pairs)
    rel["n"] = n[cm.pairs_._index.get_indexer(pd.MultiIndex.from_arrays([rel["qid"], rel["docid"]]))]
    well = rel[rel["n"] >= 1000]
    assert len(well) >= 40
    se = np.sqrt(well["attractiveness"] * (1 - well["attractiveness"]) / well["n"])
    assert (np.abs(well["attr"] - well["attractiveness"]) <= 4 * se + 1e-3).all()


@pytest.mark.slow
def test_exact_dbn_recovers_parameters_and_pyclick_rules_do_not(truth):
    """Oracle: the simulator's attractiveness, satisfaction and gamma = 0.8, with swap interventions.
    Exact EM (50 iterations): gamma within 0.005, mean absolute error 0.02 (attractiveness) and 0.04
    (satisfaction). PyClick's update rules drift gamma towards 1 on the same data (a documented
    limitation of convention='pyclick')."""
    run, probs = truth
    log = simulate(run, probs, user="dbn(gamma=0.8)", sessions=100_000, seed=2, intervention="swap")
    exact = get_click_model("dbn(convention='exact')").fit(log)
    rel = _merge(exact, probs)
    assert abs(exact.cont_ - 0.8) < 0.005
    assert np.abs(rel["attr"] - rel["attractiveness"]).mean() < 0.02
    assert np.abs(rel["sat"] - rel["satisfaction"]).mean() < 0.04
    pyclick = get_click_model("dbn(iterations=10)").fit(log)
    assert pyclick.cont_ > 0.95
