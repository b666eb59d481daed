"""Tests of ltr.stats.power: minimal detectable effects.

Oracles: statsmodels.stats.power.TTestPower.solve_power (the paired t-test's exact power), the
t-approximation of Webber, Moffat & Zobel (2008) computed here from scipy's t quantiles, and, for the
simulated MDEs, fresh experiments drawn in the test from the population the data came from (a slow loop)
whose rejection rate at the MDE must be 80% within its binomial interval.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss

from ltr import stats as S
from ltr.errors import DataError, UnknownNameError

power_mod = pytest.importorskip("statsmodels.stats.power")


def _pairs(n, *, seed=0, sd=0.2):
    rng = np.random.default_rng(seed)
    base = rng.normal(0.5, 0.2, n)
    return base + rng.normal(0, sd / np.sqrt(2), n), base + rng.normal(0, sd / np.sqrt(2), n)


@pytest.mark.parametrize("n", [5, 12, 50, 200, 784])
@pytest.mark.parametrize("family_size,correction", [(1, "holm"), (9, "holm"), (45, "bonferroni"), (4, "none")])
def test_paired_t_mde_matches_statsmodels(n, family_size, correction):
    """Oracle: statsmodels' TTestPower at the per-comparison level alpha / m (alpha for 'none'): its power at our
    MDE (in sd units) is 0.8 to 1e-9, and its solve_power agrees to its own solver's tolerance (1e-5)."""
    a, b = _pairs(n, seed=n)
    res = S.mde_paired(a, b, alpha=0.05, family_size=family_size, correction=correction)
    level = 0.05 if correction == "none" else 0.05 / family_size
    d = power_mod.TTestPower().solve_power(nobs=n, alpha=level, power=0.8, alternative="two-sided")
    sd = np.std(a - b, ddof=1)
    assert res.effect == pytest.approx(d * sd, rel=1e-5)
    assert power_mod.TTestPower().power(res.effect / sd, n, level, alternative="two-sided") == pytest.approx(
        0.8, abs=1e-9)
    assert (res.alpha, res.family_alpha, res.family_size, res.method, res.n) == (
        pytest.approx(level), 0.05, family_size, "noncentral t", n)


@pytest.mark.parametrize("n", [10, 30, 200])
def test_webber_approximation(n):
    """Oracle: (t_{1-a/2, n-1} + t_{0.8, n-1}) * sd / sqrt(n) from scipy's quantiles (Webber et al. 2008); within
    1% of the exact noncentral-t MDE from n = 30 on."""
    a, b = _pairs(n, seed=1)
    sd = np.std(a - b, ddof=1)
    approx = S.mde_paired(a, b, method="approx")
    assert approx.effect == pytest.approx((ss.t.ppf(0.975, n - 1) + ss.t.ppf(0.8, n - 1)) * sd / np.sqrt(n),
                                          rel=1e-12)
    if n >= 30:
        assert approx.effect == pytest.approx(S.mde_paired(a, b).effect, rel=0.01)


def test_family_sets_the_level():
    """Definition: Holm over 5 comparisons at 0.05 is judged at 0.01, like one comparison at 0.01."""
    a, b = _pairs(100)
    assert S.mde_paired(a, b, family_size=5).effect == pytest.approx(S.mde_paired(a, b, alpha=0.01).effect)
    assert S.mde_paired(a, b, family_size=5).effect > S.mde_paired(a, b).effect


def _detection_rate_paired(test, effect, *, n, sd, R, seed, **kw):
    """Fresh experiments from N(effect, sd^2) differences, tested one by one."""
    rng = np.random.default_rng(seed)
    hits = 0
    for r in range(R):
        d = rng.normal(effect, sd, n)
        hits += S.paired_test(d, np.zeros(n), test=test, seed=r, **kw).pvalue <= 0.05
    return hits


def test_randomization_mde_by_simulation_detects_at_the_stated_power():
    """Oracle: 400 fresh experiments from the population (normal differences with the data's sd), shifted by the
    simulated MDE, tested with the randomization test: rejections within the binomial 95% interval of 0.8.
    Also: close to the t-test's MDE (the two tests are nearly equivalent on normal data)."""
    n = 60
    a, b = _pairs(n, seed=3, sd=0.1)
    res = S.mde_paired(a, b, test="randomization", n_simulations=400, n_resamples=1_000, seed=0)
    assert res.method == "simulation" and res.test == "randomization" and res.n_simulations == 400
    assert res.effect == pytest.approx(S.mde_paired(a, b).effect, rel=0.08)
    assert S.mde_paired(a, b, test="randomization", n_simulations=400, n_resamples=1_000, seed=0) == res
    sd = np.std(a - b, ddof=1)
    R = 400
    hits = _detection_rate_paired("randomization", res.effect, n=n, sd=sd, R=R, seed=9, n_resamples=1_000)
    lo, hi = ss.binom.ppf([0.005, 0.995], R, 0.8)      # 99%: the MDE itself is estimated from 400 experiments
    assert lo <= hits <= hi, f"{hits} of {R} detected"


def test_generic_simulation_for_other_tests():
    """The Wilcoxon test's MDE by simulation (bisection over the registered test): deterministic, and about the
    t-test's on normal data (asymptotic relative efficiency 0.955, so about 2% larger)."""
    a, b = _pairs(40, seed=4)
    w = S.mde_paired(a, b, test="wilcoxon", n_simulations=60, seed=1)
    assert w == S.mde_paired(a, b, test="wilcoxon", n_simulations=60, seed=1)
    assert w.effect == pytest.approx(S.mde_paired(a, b).effect, rel=0.15)


def test_no_variance_and_no_possible_rejection():
    """Edge cases: identical differences detect any shift (MDE 0); a sign-flip test on 4 queries has a floor of
    2/16 and cannot reject at 0.05 (MDE inf)."""
    a = np.linspace(0, 1, 20)
    assert S.mde_paired(a, a).effect == 0.0
    assert S.mde_paired([0.1, 0.2, 0.3, 0.4], [0.2, 0.1, 0.5, 0.3], test="randomization").effect == np.inf


def _run_design(k, n_folds, *, seed, sd=0.01, shift=0.0):
    rng = np.random.default_rng(seed)
    folds = np.repeat([f"f{f}" for f in range(n_folds)], k)
    offsets = np.repeat(rng.normal(0, 0.05, n_folds), k)          # fold difficulty, shared by both systems
    a = 0.6 + offsets + rng.normal(0, sd, k * n_folds) + shift
    b = 0.6 + offsets + rng.normal(0, sd, k * n_folds)
    return a, b, folds


def test_run_level_mde_detects_at_the_stated_power():
    """Oracle: 300 fresh designs (5 seeds per system in each of 3 folds, fold offsets, seed noise with the sd
    the data estimate) with A shifted by the MDE, each tested with run_level_test: rejections within the
    binomial 99% interval of 0.8."""
    a, b, folds = _run_design(5, 3, seed=0)
    res = S.mde_run_level(a, b, folds_a=folds, folds_b=folds, n_simulations=400, n_resamples=1_000, seed=0)
    assert res.test == "run_level" and np.isfinite(res.effect)
    cells = np.concatenate([a.reshape(3, 5) - a.reshape(3, 5).mean(1, keepdims=True),
                            b.reshape(3, 5) - b.reshape(3, 5).mean(1, keepdims=True)])
    sd = np.sqrt(np.sum(cells ** 2) / (30 - 6))
    R, hits = 300, 0
    for r in range(R):
        x, y, f = _run_design(5, 3, seed=1000 + r, sd=sd, shift=res.effect)
        hits += S.run_level_test(x, y, folds_a=f, folds_b=f, n_resamples=1_000, seed=r).pvalue <= 0.05
    lo, hi = ss.binom.ppf([0.005, 0.995], R, 0.8)
    assert lo <= hits <= hi, f"{hits} of {R} detected"


def test_run_level_mde_is_infinite_below_the_floor_and_needs_two_runs_in_a_cell():
    """3 + 3 runs in one fold: floor 0.1 > 0.05, MDE inf; with 4 + 4 it is finite; one run per cell: no seed
    noise to estimate, a typed error."""
    a, b, _ = _run_design(3, 1, seed=2)
    assert S.mde_run_level(a, b).effect == np.inf
    a, b, _ = _run_design(4, 1, seed=2)
    assert np.isfinite(S.mde_run_level(a, b, n_simulations=100).effect)
    with pytest.raises(DataError, match="every \\(fold, system\\) has a single run"):
        S.mde_run_level(np.arange(6.0), np.arange(6.0) + 1, folds_a=list("uvwxyz"), folds_b=list("uvwxyz"))


def test_tukey_mde_detects_at_the_stated_power():
    """Oracle: 200 fresh null matrices from the population (query difficulty + noise) with system 0 shifted by
    its MDE against system 1, each tested with tukey_hsd: rejections of that pair within the binomial 99%
    interval of 0.8."""
    rng = np.random.default_rng(0)
    n, k = 40, 4

    def matrix(rng):
        return rng.normal(0, 0.2, (n, 1)) + rng.normal(0.5, 0.1, (n, k))

    frame = S.mde_tukey(matrix(rng), n_simulations=400, n_resamples=1_000, seed=0)
    assert list(frame.columns) == ["system_a", "system_b", "mde"] and len(frame) == 6
    effect = frame.mde[0]
    R, hits = 200, 0
    for r in range(R):
        x = matrix(rng)
        x[:, 0] += effect
        hits += S.tukey_hsd(x, n_resamples=1_000, seed=r).p_value[0] <= 0.05
    lo, hi = ss.binom.ppf([0.005, 0.995], R, 0.8)
    assert lo <= hits <= hi, f"{hits} of {R} detected"


def test_bad_parameters_are_typed_errors():
    """Parameters are checked with messages that say what was expected."""
    a, b = _pairs(10)
    with pytest.raises(DataError, match="'power' parameter of mde_paired must be a float in \\(0, 1\\)"):
        S.mde_paired(a, b, power=80)
    with pytest.raises(DataError, match="'family_size' parameter of mde_paired must be an int >= 1"):
        S.mde_paired(a, b, family_size=0)
    with pytest.raises(UnknownNameError, match="Unknown multiple-testing correction 'holms'"):
        S.mde_paired(a, b, correction="holms")
    with pytest.raises(UnknownNameError, match="Unknown MDE method 'exact'"):
        S.mde_paired(a, b, method="exact")
    with pytest.raises(DataError, match="method='approx' is for the paired t-test"):
        S.mde_paired(a, b, test="randomization", method="approx")


def test_a_rank_test_below_its_floor_has_no_detectable_effect():
    """Oracle: the exact signed-rank test's smallest two-sided p-value, 2 / 2^n = 0.125 for n = 4 (> 0.05):
    no shift can be detected, so the MDE is infinite (and found without a search: the report's tables ask
    for it on small query sets)."""
    a, b = np.array([0.1, 0.5, 0.3, 0.9]), np.array([0.2, 0.4, 0.1, 0.5])
    assert ss.wilcoxon(np.arange(1.0, 5.0)).pvalue == pytest.approx(0.125)
    assert S.mde_paired(a, b, test="wilcoxon").effect == float("inf")
    assert np.isfinite(S.mde_paired(np.arange(12.0) / 10, np.zeros(12), test="wilcoxon", n_simulations=50).effect)


def test_shift_counts_numba_equals_numpy_and_the_definition():
    """Oracle: the count of the definition, |x_lj + delta c_l| >= threshold_j, by a Python loop; the numba
    kernel and the numpy reference give it exactly, ties at the threshold included."""
    from ltr.stats import _shift
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 40)).round(1)            # rounded: many draws sit exactly on a threshold
    c = rng.integers(-3, 4, 300).astype(float)
    for delta in (0.0, 0.1, -0.25):
        threshold = np.abs(x[7] + delta * c[7])           # row 7 reaches each threshold exactly
        expected = np.array([sum(abs(x[l, j] + delta * c[l]) >= threshold[j] for l in range(300))
                             for j in range(40)])
        np.testing.assert_array_equal(_shift.shift_counts_numpy(x, c, threshold, delta), expected)
        np.testing.assert_array_equal(_shift.shift_counts(x, c, threshold, delta), expected)
