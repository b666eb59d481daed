"""The Ranker on the MSLR-WEB sample (rankeval's first 5,000 lines of Fold1 train and test).

Split as in ../shared/data/REFERENCE.md: 20% of the 43 training queries (ceil: 9) held out for early
stopping, chosen as the first 9 of ``numpy.random.default_rng(0).permutation`` of the qids in file order.
Settings and conventions as in test_ranker_mq2008.py (T = trec_eval nDCG@10 with docnos = row index inside
the query; L = LightGBM's ndcg@10).
"""

from __future__ import annotations

import math

import lightgbm as lgb
import numpy as np
import pytest

from ltr.models import Ranker
from tests.conftest import shared_path
from tests.reference.test_ranker_mq2008 import L_METRIC, PLAIN, per_query_T

REF_T_LAMBDARANK = 0.3681      # REFERENCE.md, MSLR sample, LightGBM lambdarank, T nDCG@10


def _split():
    from ltr.io import read_letor
    folder = shared_path("mslr-web-sample-rankeval")
    train = read_letor(folder / "msn1.fold1.train.5k.txt")
    test = read_letor(folder / "msn1.fold1.test.5k.txt")
    qids = train.unique_qids
    held = set(np.random.default_rng(0).permutation(qids)[:math.ceil(0.2 * len(qids))].tolist())
    valid = train.subset_queries([q for q in qids if q in held])
    fit = train.subset_queries([q for q in qids if q not in held])
    return fit, valid, test


def test_lambdamart_equals_plain_lightgbm_and_reference_on_mslr_sample():
    """Oracles: a plain lightgbm.train script with the same parameters (same best iteration, identical
    scores, equal T and L) and REFERENCE.md's T nDCG@10 0.3681 (to 1e-4)."""
    fit, valid, test = _split()
    dfit = lgb.Dataset(fit.X, label=fit.labels, group=fit.group_sizes)
    dvalid = lgb.Dataset(valid.X, label=valid.labels, group=valid.group_sizes, reference=dfit)
    plain = lgb.train(PLAIN, dfit, num_boost_round=1000, valid_sets=[dvalid],
                      callbacks=[lgb.early_stopping(50, verbose=False)])
    ranker = Ranker(objective="lambdarank", n_estimators=1000, early_stopping_rounds=50, n_jobs=1).fit(fit, valid)
    assert ranker.best_iteration_ == plain.best_iteration
    ours = ranker.predict_scores(test)
    theirs = plain.predict(test.X, num_iteration=plain.best_iteration)
    np.testing.assert_array_equal(ours, theirs)
    t = per_query_T(test, ours).mean()
    assert t == pytest.approx(REF_T_LAMBDARANK, abs=1e-4)
    assert L_METRIC.compute(test.labels, ours, test.group_sizes).mean() == \
        L_METRIC.compute(test.labels, theirs, test.group_sizes).mean()
