"""Calibration on real trained models (issue 13, item 6), the CI-sized version of
benchmarks/bench_calibration_real.py: A/A pairs of LightGBM lambdarank with disjoint seed sets.

Oracle: the binomial distribution. Two systems of one objective differ only by their seeds, so a test that
generalises over training seeds (the run-level test) must reject such a pair with probability at most alpha;
over R independent pairs its rejection count lies in the central 95% binomial interval of alpha (or the test
is miscalibrated). Effects equal to the MDE the report states are detected with the stated power.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr import stats as S
from ltr.metrics import evaluate
from ltr.models import Ranker
from ltr.ranking import RankingDataset
from tests.experiment.conftest import make_letor

PAIRS, SEEDS, FOLDS = 20, 2, 3   # 3 folds x 2 seeds per system: C(4, 2)^3 = 216 labelings, floor 2/216


def _qrels(ds: RankingDataset) -> pd.DataFrame:
    return pd.DataFrame({"qid": ds.qids.astype(str), "docid": [f"d{i}" for i in range(len(ds))],
                         "label": ds.labels})


def _run(ds: RankingDataset, scores) -> pd.DataFrame:
    return pd.DataFrame({"qid": ds.qids.astype(str), "docid": [f"d{i}" for i in range(len(ds))],
                         "score": scores})


@pytest.fixture(scope="module")
def aa_pairs() -> pd.DataFrame:
    """Per-query nDCG@10 of PAIRS A/A pairs: fold f trains on its own queries and tests on its own."""
    frames = []
    for f in range(FOLDS):
        train = make_letor(60, 10 + f, prefix=f"f{f}t", n_docs=10)
        test = make_letor(30, 20 + f, prefix=f"f{f}q", n_docs=10)
        qrels = _qrels(test)
        for m in range(2 * PAIRS * SEEDS):
            ranker = Ranker(objective="lambdarank", backend="lightgbm", n_estimators=5, learning_rate=0.3,
                            num_leaves=7, min_child_samples=5, subsample=0.7, colsample=0.7, n_jobs=1,
                            random_state=1000 + m, early_stopping_rounds=None).fit(train)
            values = evaluate(qrels, _run(test, ranker.predict_scores(test)), ["nDCG@10"])
            block = m // SEEDS
            frames.append(pd.DataFrame({"pair": block // 2, "system": "AB"[block % 2], "fold": f"f{f}",
                                        "seed": 1000 + m, "qid": values["qid"], "value": values["value"]}))
    return pd.concat(frames, ignore_index=True)


def test_run_level_test_is_calibrated_on_real_aa_pairs(aa_pairs):
    """The run-level test's A/A false-positive count over 20 pairs of real models lies in the binomial 95%
    interval of alpha = 0.05; the seeds really change the models (the test is not vacuous); the per-query
    test's A/A rate is computed as the seed noise it is conditional on (no bound asserted: it is not a
    calibration check)."""
    runs = aa_pairs.groupby(["pair", "system", "fold", "seed"])["value"].mean()
    assert runs.groupby("fold").std().min() > 0, "seeds changed nothing: the A/A pairs would be identical"
    results = S.calibrate_pairs(aa_pairs, tests=("run_level", "paired_t"), seed=0)
    summary = S.summarize_calibration(results).set_index("test")
    run_level = summary.loc["run_level"]
    assert run_level["n"] == PAIRS
    assert run_level["within"], summary
    assert 0.0 <= summary.loc["paired_t", "rate"] <= 1.0


def test_effects_at_the_stated_mde_are_detected_at_the_stated_power(aa_pairs):
    """Power statement on real seed noise: each pair's A runs are shifted by the MDE that mde_run_level states
    for that pair (80% power at 0.05); the run-level test detects the shift in a share of pairs within the
    binomial 95% interval of 0.8."""
    runs = S.run_values(aa_pairs, runs=("pair", "system", "fold", "seed"))
    detected = []
    for _, sub in runs.groupby("pair"):
        a, b = sub[sub["system"] == "A"], sub[sub["system"] == "B"]
        mde = S.mde_run_level(a["value"].to_numpy(), b["value"].to_numpy(), folds_a=a["fold"].to_numpy(),
                              folds_b=b["fold"].to_numpy(), n_simulations=400, seed=0).effect
        assert np.isfinite(mde) and mde > 0
        res = S.run_level_test(a["value"].to_numpy() + mde, b["value"].to_numpy(), folds_a=a["fold"].to_numpy(),
                               folds_b=b["fold"].to_numpy())
        detected.append(res.pvalue)
    check = S.rejection_rate(detected, alpha=0.05, expected=0.8)
    assert check.within, check
