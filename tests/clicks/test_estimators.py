"""Counterfactual click-metric estimators against brute-force oracles and the simulator's known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ltr.clicks import ClickLog
from ltr.clicks.estimators import (attractiveness_estimates, click_metric, coverage, estimate_all,
                                   estimate_click_metric, pair_statistics, rank_weights)
from ltr.clicks.simulate import simulate
from ltr.errors import ConfigError, DataError, SchemaError, UnknownNameError
from tests.clicks.conftest import impressions, random_probabilities, random_run

ETA = 1.5
TOP = 6


def _brute_ranking(run, top):
    """Per query, docids in descending score (ties by descending docid), by a plain Python sort."""
    out = {}
    for q, g in run.groupby("qid", sort=False):
        items = sorted(zip(g["score"], g["docid"]), key=lambda t: (-t[0], tuple(-ord(ch) for ch in t[1])))
        out[q] = [d for _, d in items][:top]
    return out


@pytest.fixture(scope="module")
def world():
    """A logging ranker, a ranker under evaluation that shows some documents the log never showed, PBM clicks."""
    log_run = random_run(n_queries=25, n_docs=12, seed=3)
    probs = random_probabilities(log_run, seed=3)
    target = random_run(n_queries=25, n_docs=12, seed=11)
    log = simulate(log_run, probs, user=f"pbm(eta={ETA})", sessions=300_000, top=TOP, seed=5, n_jobs=1)
    p = (1.0 / np.arange(1, TOP + 1)) ** ETA
    return log_run, probs, target, log, p


def _truth_on_shown(target, probs, log_run, lam, top):
    """Oracle: sum over the target's top of lambda_r * gamma, counting only documents the logger shows."""
    gamma = {(q, d): a for q, d, a in zip(probs["qid"], probs["docid"], probs["attractiveness"])}
    shown = _brute_ranking(log_run, top)
    rk = _brute_ranking(target, top)
    out = {}
    for q, docs in rk.items():
        out[q] = sum(lam[r] * gamma[(q, d)] for r, d in enumerate(docs) if d in set(shown[q]))
    return out, shown, rk, gamma


def test_ips_is_unbiased_at_large_n_with_variance_derived_tolerance(world):
    """Oracle: the brute-force value of the target ranker over the documents the logger shows, and the exact
    variance of the per-SERP IPS term under PBM (clicks independent given the ranking):
    Var(Y) = sum_d (lambda_d / p_d)^2 p_d gamma_d (1 - p_d gamma_d). Each query's estimate is within 4.5
    standard errors and the mean over queries within 4 (no clipping)."""
    log_run, probs, target, log, p = world
    lam = rank_weights("dcg", TOP)
    truth, shown, rk, gamma = _truth_on_shown(target, probs, log_run, lam, TOP)
    est = estimate_click_metric(log, target, p, estimator="ips", weights="dcg", top=TOP)
    n_q = pd.Series(log.serps.query).map(dict(enumerate(log.serps.queries))).value_counts()
    z, total_var, diffs = [], 0.0, []
    for q, value in zip(est["qid"], est["estimate"]):
        var = 0.0
        for r, d in enumerate(rk[q]):
            if d in shown[q]:
                k = shown[q].index(d)
                pg = p[k] * gamma[(q, d)]
                var += (lam[r] / p[k]) ** 2 * pg * (1 - pg)
        se2 = var / n_q[q]
        z.append((value - truth[q]) / math.sqrt(se2))
        total_var += se2
        diffs.append(value - truth[q])
    assert len(z) == 25
    assert np.max(np.abs(z)) < 4.5
    mean_z = np.mean(diffs) / (math.sqrt(total_var) / len(diffs))
    assert abs(mean_z) < 4.0


def test_snips_converges_to_the_stated_limit(world):
    """Oracle: the module's limit V(pi, q) * kappa_q, kappa_q = sum_d p_d gamma_d / sum_d gamma_d over the
    documents shown, from the simulator's truth; tolerance from the delta method on the three per-SERP means
    (value, clicks, inverse-propensity clicks), 4.5 standard errors."""
    log_run, probs, target, log, p = world
    lam = rank_weights("dcg", TOP)
    truth, shown, rk, gamma = _truth_on_shown(target, probs, log_run, lam, TOP)
    est = estimate_click_metric(log, target, p, estimator="snips", top=TOP).set_index("qid")["estimate"]
    m = log.serps
    queries = np.asarray(m.queries, dtype=object)
    pair_q, pair_d = np.asarray(m.pair_qid, dtype=object), np.asarray(m.pair_docid, dtype=object)
    for qi in range(0, 25, 5):                 # five queries, each SERP's terms by brute force
        q = queries[qi]
        rows = np.flatnonzero(m.query == qi)
        rank_of = {d: r for r, d in enumerate(rk[q])}
        Y, C, B = [], [], []
        for s in rows:
            y = c = b = 0.0
            for k in range(m.length[s]):
                if m.click[s, k]:
                    d = pair_d[m.pair[s, k]]
                    assert pair_q[m.pair[s, k]] == q
                    if d in rank_of:
                        y += lam[rank_of[d]] / p[k]
                    c += 1
                    b += 1 / p[k]
            Y.append(y), C.append(c), B.append(b)
        Y, C, B = map(np.asarray, (Y, C, B))
        kappa = sum(p[k] * gamma[(q, d)] for k, d in enumerate(shown[q])) / sum(gamma[(q, d)] for d in shown[q])
        limit = truth[q] * kappa
        means = np.array([Y.mean(), C.mean(), B.mean()])
        grad = np.array([means[1] / means[2], means[0] / means[2], -means[0] * means[1] / means[2] ** 2])
        cov = np.cov(np.vstack([Y, C, B])) / len(Y)
        se = math.sqrt(grad @ cov @ grad)
        assert est[q] == pytest.approx(means[0] * means[1] / means[2], rel=1e-12)
        assert abs(est[q] - limit) < 4.5 * se


def test_cm_is_the_closed_form_for_a_fixed_ranking(world):
    """Oracle: with one position per document, PBM's MLE attractiveness given the examination is
    min(CTR / p, 1); the estimate is sum lambda_r alpha over the shown documents of the target's top."""
    log_run, probs, target, log, p = world
    stats = pair_statistics(log, p)
    ctr = stats.clicks / stats.impressions
    pos = {(q, d): k for q, docs in _brute_ranking(log_run, TOP).items() for k, d in enumerate(docs)}
    expected = np.array([min(c / p[pos[(q, d)]], 1.0) for q, d, c in zip(stats.qid, stats.docid, ctr)])
    np.testing.assert_allclose(attractiveness_estimates(stats), expected, rtol=1e-12)


def test_cm_maximises_the_likelihood_when_positions_vary():
    """Oracle: scipy's bounded scalar minimiser of the PBM negative log-likelihood of one document shown at
    three positions with known examination."""
    from scipy.optimize import minimize_scalar
    p = np.array([1.0, 0.5, 0.25])
    rows, rng = [], np.random.default_rng(0)
    for s in range(300):
        k = s % 3
        for j in range(3):
            doc = "a" if j == k else f"o{(j - k) % 3}"
            click = int(rng.random() < p[j] * (0.6 if doc == "a" else 0.3))
            rows.append((f"s{s}", "q", doc, j + 1, click))
    log = ClickLog.from_frame(impressions(rows))
    stats = pair_statistics(log, p)
    alpha = attractiveness_estimates(stats, iterations=2000)
    c = stats.counts
    for i, doc in enumerate(stats.docid):
        sub = c[c["pair"] == i]
        pk = p[sub["position"].to_numpy() - 1]

        def nll(a):
            return -np.sum(sub["n"] * np.where(sub["click"], np.log(pk * a), np.log(1 - pk * a)))

        best = minimize_scalar(nll, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-10}).x
        assert alpha[i] == pytest.approx(best, abs=1e-6), doc


def test_small_log_by_hand():
    """Oracle: the definitions evaluated by hand on a two-SERP log (p = [1, 0.5], dcg weights 1, 1/log2 3)."""
    log = ClickLog.from_frame(impressions([("s1", "q", "a", 1, 1), ("s1", "q", "b", 2, 1),
                                           ("s2", "q", "a", 1, 0), ("s2", "q", "b", 2, 1)]))
    p = [1.0, 0.5]
    run = pd.DataFrame({"qid": ["q"] * 3, "docid": ["a", "b", "c"], "score": [1.0, 2.0, 0.0]})   # b, a, c
    lam = [1.0, 1 / math.log2(3)]
    ips = estimate_click_metric(log, run, p, estimator="ips", top=2)["estimate"].item()
    # gamma(a) = 1/2, gamma(b) = (2 + 2) / 2 = 2
    assert ips == pytest.approx(lam[0] * 2.0 + lam[1] * 0.5)
    snips = estimate_click_metric(log, run, p, estimator="snips", top=2)["estimate"].item()
    assert snips == pytest.approx(ips * 3 / (1 + 2 + 2))
    cm = estimate_click_metric(log, run, p, estimator="cm", top=2)["estimate"].item()
    assert cm == pytest.approx(lam[0] * 1.0 + lam[1] * 0.5)         # b capped at 1
    model = pd.DataFrame({"qid": ["q", "q", "q"], "docid": ["a", "b", "c"], "attractiveness": [0.9, 0.9, 0.4]})
    run_c = pd.DataFrame({"qid": ["q"] * 3, "docid": ["a", "b", "c"], "score": [0.0, 1.0, 2.0]})  # c, b, a
    dr = estimate_click_metric(log, run_c, p, estimator="dr", model=model, top=2)["estimate"].item()
    assert dr == pytest.approx(lam[0] * 0.4 + lam[1] * 2.0)          # c from the model, b from its clicks
    cov = coverage(log, run_c, top=2)
    assert cov["coverage"].item() == 0.5


def test_click_metric_truth_and_estimate_all(world):
    """Oracle: the brute-force value over all documents of the target's top (documents not shown included)."""
    log_run, probs, target, log, p = world
    lam = rank_weights("propensity", TOP, p)
    truth = click_metric(target, probs, weights="propensity", top=TOP, propensities=p).set_index("qid")["value"]
    rk = _brute_ranking(target, TOP)
    gamma = {(q, d): a for q, d, a in zip(probs["qid"], probs["docid"], probs["attractiveness"])}
    for q, docs in rk.items():
        assert truth[q] == pytest.approx(sum(lam[r] * gamma[(q, d)] for r, d in enumerate(docs)), rel=1e-12)
    both = estimate_all(log, {"target": target, "logger": log_run}, p)
    assert set(both["estimator"]) == {"ips", "snips", "cm", "dr"}
    assert len(both) == 2 * 4 * 25


def test_errors_are_typed():
    """Bad input: typed errors saying what was expected."""
    log = ClickLog.from_frame(impressions([("s1", "q", "a", 1, 1), ("s1", "q", "b", 2, 0)]))
    run = pd.DataFrame({"qid": ["q"], "docid": ["a"], "score": [1.0]})
    with pytest.raises(ConfigError, match="propensities cover 1..1"):
        estimate_click_metric(log, run, [1.0])
    with pytest.raises(ConfigError, match="propensity 0"):
        estimate_click_metric(log, run, [1.0, 0.0])
    with pytest.raises(UnknownNameError, match="estimator"):
        estimate_click_metric(log, run, [1.0, 0.5], estimator="ipw")
    with pytest.raises(ConfigError, match="clip"):
        estimate_click_metric(log, run, [1.0, 0.5], clip=2.0)
    with pytest.raises(SchemaError):
        estimate_click_metric("log", run, [1.0, 0.5])
    other = pd.DataFrame({"qid": ["zz"], "docid": ["a"], "score": [1.0]})
    with pytest.raises(DataError, match="none of the log's queries"):
        estimate_click_metric(log, other, [1.0, 0.5])
