"""Calibration on simulated experiments (issue 13, item 6), at a CI budget; the full counts are in
benchmarks/bench_calibration_null.py.

Oracle: the binomial distribution of the number of rejections among R comparisons whose truth is known: A/A
pairs (one objective, disjoint seed sets) must be rejected at rate alpha = 0.05 by a calibrated test, pairs with
an injected effect equal to their stated MDE at the stated power 0.8. The simulated experiments have the
structure of a real one (ltr.stats.simulate): queries with their own difficulty, folds with disjoint test
queries, systems x seeds with whole-run and per-query seed noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from ltr import stats as S
from ltr.stats.calibration import calibrate_pairs, rejection_rate, summarize_calibration


def _pairs(R, *, effect=None, **kw):
    """R pairs (systems 2r and 2r+1 of one simulated experiment: the query effects cancel within a pair, so the
    pairs are independent); the pair's "A" may get an injected effect on half of each fold's queries."""
    shifts = None
    if effect is not None:
        shifts = np.zeros(2 * R)
        shifts[0::2] = effect
    frame = S.simulate_experiment(n_systems=2 * R, effect=0.0 if shifts is None else shifts, effect_fraction=0.5,
                                  **kw)
    index = frame["system"].str[1:].astype(int)
    frame["pair"] = index // 2
    frame["system"] = np.where(index % 2 == 0, "A", "B")
    return frame


DESIGN = dict(n_queries=100, n_folds=2, seeds_per_system=4, query_sd=0.2, run_query_sd=0.1)


@pytest.mark.parametrize("design,n_resamples", [
    (DESIGN, 10_000),                                            # 2 folds x (4 + 4): 4,900 labelings, exact
    (dict(DESIGN, n_folds=5, seeds_per_system=3), 2_000),         # 5 folds x (3 + 3): Monte Carlo
])
def test_run_level_false_positive_rate_is_alpha_and_the_per_query_test_is_not(design, n_resamples):
    """A/A pairs with large whole-run seed noise (run_sd = 0.02, twice the standard error of a query mean
    difference): the run-level test rejects at alpha (within the binomial 95% interval); the per-query paired
    t-test on seed-averaged values rejects far more often, which is the seed noise it is conditional on."""
    R = 300 if n_resamples == 10_000 else 150
    results = calibrate_pairs(_pairs(R, run_sd=0.02, seed=1, **design), n_resamples=n_resamples)
    summary = summarize_calibration(results).set_index("test")
    assert summary.loc["run_level", "within"], summary
    assert summary.loc["paired_t", "rate"] > max(2 * 0.05, summary.loc["paired_t", "high"]), summary


def test_per_query_test_is_calibrated_when_runs_carry_no_seed_shift():
    """Without whole-run seed noise (run_sd = 0) the per-query differences of an A/A pair are independent across
    queries, so the paired t-test is calibrated too; its A/A rate rises with the whole-run noise."""
    rates = []
    for run_sd in (0.0, 0.005, 0.02):
        results = calibrate_pairs(_pairs(300, run_sd=run_sd, seed=2, **DESIGN), tests=["paired_t"])
        rates.append(rejection_rate(results.p_value))
    assert rates[0].within, rates[0]
    assert rates[0].rate < rates[1].rate < rates[2].rate


@pytest.mark.slow
@pytest.mark.parametrize("test,run_sd,R,n_simulations", [
    ("run_level", 0.02, 80, 150),          # with whole-run seed noise: the run-level test's null is true
    ("paired_t", 0.0, 200, 1),             # without it: the per-query tests' null is true
    ("randomization", 0.0, 60, 150),
])
def test_injected_effects_are_detected_at_the_stated_power(test, run_sd, R, n_simulations):
    """Each pair gets an effect equal to its stated MDE (80% power at 0.05): a shift of 2 x MDE on half of each
    fold's queries of A, so A's mean rises by the MDE. The MDE is the one the data with the effect state (a
    shift on half the queries also adds variance to the per-query differences): computed on the A/A data, then
    twice more on the data with the effect injected, the same experiment redrawn with the same seed. The
    rejections lie in the binomial 95% interval of 0.8."""
    kw = dict(DESIGN, run_sd=run_sd, seed=3)
    effect = None
    for _ in range(3 if test != "run_level" else 1):       # run level: the shift moves whole runs, no new variance
        stated = calibrate_pairs(_pairs(R, effect=effect, **kw), tests=[test], mde=True,
                                 n_simulations=n_simulations, n_resamples=2_000)
        mde = stated.sort_values("pair")["mde"].to_numpy()
        assert np.all(np.isfinite(mde)) and np.all(mde > 0)
        effect = 2 * mde
    injected = calibrate_pairs(_pairs(R, effect=effect, **kw), tests=[test], n_resamples=2_000)
    check = rejection_rate(injected.p_value, expected=0.8)
    assert check.within, check
