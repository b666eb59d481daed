"""Click training sets (ltr.clicks.training): the join to features, both shapes, and the IPS estimate's
unbiasedness on PBM-simulated logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.clicks import aggregate
from ltr.clicks.simulate import PBMUser, simulate
from ltr.clicks.training import click_training_set, true_label_set
from ltr.errors import ConfigError, DataError
from ltr.objectives.unbiased import ips_labels
from ltr.ranking import RankingDataset


def synthetic(n_queries=40, n_docs=15, seed=0):
    """Features, a production run (noisy relevance) and click probabilities a = P(click | examined)."""
    rng = np.random.default_rng(seed)
    n = n_queries * n_docs
    X = rng.normal(size=(n, 5)).astype(np.float32)
    labels = np.clip(np.round(X[:, 0] + rng.normal(scale=0.5, size=n)), 0, 2)
    qids = np.repeat([f"q{i:02d}" for i in range(n_queries)], n_docs)
    docids = np.array([f"d{j}" for j in range(n_docs)] * n_queries, dtype=object)
    feats = RankingDataset(X, labels, qids, docids, name="synthetic")
    run = pd.DataFrame({"qid": qids, "docid": docids, "score": labels + rng.normal(size=n)})
    probs = pd.DataFrame({"qid": qids, "docid": docids,
                          "attractiveness": 0.05 + 0.9 * (2 ** labels - 1) / 3})
    return feats, run, probs


def test_aggregated_counts_equal_the_logs_own_aggregate():
    """Oracle: ltr.clicks.aggregate (a pandas groupby on the impression frame) per (qid, docid, position)."""
    feats, run, probs = synthetic()
    log = simulate(run, probs, user="pbm(eta=1)", sessions=3000, top=10, seed=1, n_jobs=1)
    ds = click_training_set(log, feats, propensities=PBMUser(eta=1).examination(10))
    assert ds.positions is None and ds.clicks.n_positions == 10
    ref = aggregate(log, by=("qid", "docid", "position"))
    got = {}
    for r in range(len(ds)):
        for k in np.flatnonzero(ds.clicks.impressions[r]):
            got[(ds.qids[r], ds.docids[r], k + 1)] = (ds.clicks.impressions[r, k], ds.clicks.clicks[r, k])
    want = {(q, d, int(p)): (n, c) for q, d, p, n, c in ref.itertuples(index=False)}
    assert got == want
    # rows: the shown pairs only, in the features' row order, labels = CTR
    shown = aggregate(log, by=("qid", "docid"))
    assert len(ds) == len(shown) == 40 * 10
    order = pd.MultiIndex.from_arrays([feats.qids, feats.docids]).get_indexer(
        pd.MultiIndex.from_arrays([ds.qids, ds.docids]))
    assert np.all(np.diff(order) > 0)
    np.testing.assert_array_equal(ds.X, feats.X[order])
    np.testing.assert_allclose(ds.labels, ds.clicks.clicks.sum(1) / ds.clicks.impressions.sum(1))


def test_per_impression_rows_are_the_log_in_display_order():
    """Oracle: the log's own impression frame, row for row; features looked up by (qid, docid)."""
    feats, run, probs = synthetic()
    log = simulate(run, probs, user="pbm(eta=1)", sessions=500, top=10, seed=2, n_jobs=1)
    ds = click_training_set(log, feats, aggregate=False)
    f = log.frame
    assert len(ds) == len(f) and ds.n_queries == log.n_serps == 500
    np.testing.assert_array_equal(ds.positions, f["position"].to_numpy())
    np.testing.assert_array_equal(ds.labels, f["click"].to_numpy())
    np.testing.assert_array_equal(ds.docids, f["docid"].astype(str).to_numpy())
    np.testing.assert_array_equal(ds.qids, (f["qid"].astype(str) + "|" + f["session"].astype(str)).to_numpy())
    rows = pd.MultiIndex.from_arrays([feats.qids, feats.docids]).get_indexer(
        pd.MultiIndex.from_arrays([f["qid"].astype(str), f["docid"].astype(str)]))
    np.testing.assert_array_equal(ds.X, feats.X[rows])
    assert ds.clicks is None
    with pytest.raises(ConfigError, match="propensities are kept by aggregated click sets only"):
        click_training_set(log, feats, aggregate=False, propensities=np.ones(10))


def test_unknown_pairs_are_refused_and_unshown_documents_kept_on_request():
    feats, run, probs = synthetic()
    log = simulate(run, probs, user="pbm", sessions=400, top=10, seed=3, n_jobs=1)
    partial = feats.subset_queries(feats.unique_qids[1:])
    with pytest.raises(DataError, match=r"pairs of the click log .* have no feature row in synthetic"):
        click_training_set(log, partial)
    ds = click_training_set(log, feats, include_unshown=True, propensities=np.ones(10))
    assert len(ds) == len(feats)                      # every document of the 40 logged queries
    unshown = ds.clicks.impressions.sum(1) == 0
    assert unshown.sum() == 40 * 5 and np.all(ds.labels[unshown] == 0)
    full = true_label_set(ds, feats)
    np.testing.assert_array_equal(full.labels, feats.labels)
    assert full.clicks is None
    same = true_label_set(log, feats)                 # the shown pairs' rows, in one call from the log
    assert len(same) == 400 and np.array_equal(same.X, click_training_set(log, feats).X)
    with pytest.raises(ConfigError, match="per-impression set"):
        true_label_set(click_training_set(log, feats, aggregate=False), feats)


@pytest.mark.slow
def test_ips_estimate_is_unbiased_for_click_probability_given_examination():
    """Oracle: the simulator's truth a = P(click | examined) and the estimator's own variance.

    PBM users (eta = 1) on fixed top-10 rankings, 400,000 sessions over 40 queries (about 10^4 impressions
    per shown document), true propensities, no clipping. Restricted to shown documents (the 5 of each
    query below the top 10 have no impression: IPS says nothing about them). For each shown (qid, docid),
    ``z = (a_hat - a) / sd`` with ``Var(a_hat) = sum_k N_k a p_k (1 - a p_k) / p_k^2 / N^2``; under
    unbiasedness the 400 z are (nearly) independent standard normals, so ``sum z^2`` must lie in the
    central 99.9% of chi-square(400) and ``mean z`` within 3.29 / sqrt(400). The naive click rate fails
    the same test (power check)."""
    from scipy import stats
    feats, run, probs = synthetic()
    p = PBMUser(eta=1).examination(10)
    log = simulate(run, probs, user="pbm(eta=1)", sessions=400_000, top=10, seed=11, n_jobs=1)
    ds = click_training_set(log, feats, propensities=p, include_unshown=True)
    shown = ds.clicks.impressions.sum(1) > 0
    assert shown.sum() == 400
    a_hat = ips_labels(ds.clicks, ds.group_sizes)[shown]
    truth = pd.MultiIndex.from_arrays([probs["qid"], probs["docid"]])
    a = probs["attractiveness"].to_numpy()[truth.get_indexer(pd.MultiIndex.from_arrays([ds.qids, ds.docids]))][shown]
    N = ds.clicks.impressions[shown]
    var = (N * (a[:, None] * p * (1 - a[:, None] * p)) / p ** 2).sum(1) / N.sum(1) ** 2
    z = (a_hat - a) / np.sqrt(var)
    m = len(z)
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], m)
    assert lo < float(np.sum(z ** 2)) < hi, (float(np.sum(z ** 2)), lo, hi)
    assert abs(float(z.mean())) < 3.29 / np.sqrt(m)
    naive = ds.labels[shown]
    z_naive = (naive - a) / np.sqrt(var)
    assert float(np.sum(z_naive ** 2)) > hi
