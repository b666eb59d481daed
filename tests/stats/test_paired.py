"""Tests of ltr.stats.paired: paired t, Wilcoxon and randomization tests, the test registry and specs.

Oracles: scipy.stats (ttest_rel, wilcoxon, permutation_test), plus slow loops over the definitions where
scipy has no equivalent (sign-flip enumeration in exact integer arithmetic).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats as ss

from ltr import stats as S
from ltr.errors import UnknownNameError


def _pairs(n, *, discrete=False, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.random(n), rng.random(n)
    if discrete:                              # P@10-like values: many zero differences and tied |d|
        a, b = np.round(a, 1), np.round(b, 1)
    return a, b


CASES = [(n, disc, seed) for n in (5, 9, 13, 20, 45, 51, 120) for disc in (False, True) for seed in (0, 1)]


@pytest.mark.parametrize("n,discrete,seed", CASES)
def test_paired_t_matches_scipy(n, discrete, seed):
    """Oracle: scipy.stats.ttest_rel."""
    a, b = _pairs(n, discrete=discrete, seed=seed)
    ours = S.paired_t_test(a, b)
    ref = ss.ttest_rel(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-10)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-10)
    assert ours.n == n


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
@pytest.mark.parametrize("method", ["auto", "approx", "exact"])
@pytest.mark.parametrize("n,discrete,seed", CASES)
def test_wilcoxon_matches_scipy(n, discrete, seed, zero_method, method):
    """Oracle: scipy.stats.wilcoxon with the same zero_method and method (approx = 'asymptotic')."""
    a, b = _pairs(n, discrete=discrete, seed=seed)
    if zero_method == "wilcox" and not np.any(a != b):
        pytest.skip("all differences zero")
    ours = S.wilcoxon_test(a, b, zero_method=zero_method, method=method)
    with np.errstate(all="ignore"):
        ref = ss.wilcoxon(a, b, zero_method=zero_method, method="asymptotic" if method == "approx" else method)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-10)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-10)


def test_wilcoxon_continuity_correction_matches_scipy():
    """Oracle: scipy.stats.wilcoxon(correction=True, method='asymptotic')."""
    a, b = _pairs(80, discrete=True, seed=3)
    ours = S.wilcoxon_test(a, b, method="approx", correction=True)
    ref = ss.wilcoxon(a, b, method="asymptotic", correction=True)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-10)


def _mean_stat(x, y, axis=-1):
    return np.mean(x - y, axis=axis)


@pytest.mark.parametrize("n", [2, 5, 10, 13])
def test_randomization_exact_matches_scipy_permutation_test(n):
    """Oracle: scipy.stats.permutation_test(permutation_type='samples'), exact when 2**n <= n_resamples."""
    a, b = _pairs(n, seed=n)
    ours = S.randomization_test(a, b, n_resamples=10_000)
    ref = ss.permutation_test((a, b), _mean_stat, permutation_type="samples", n_resamples=10_000,
                              vectorized=True)
    assert ours.method == "exact"
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-10)


def test_randomization_exact_with_tied_differences_matches_integer_enumeration():
    """Oracle: enumeration of all 2^n sign flips in exact integer arithmetic (values in tenths), where
    float rounding would otherwise split ties such as 0.3 - 0.1 vs 0.2."""
    rng = np.random.default_rng(4)
    ia, ib = rng.integers(0, 11, 12), rng.integers(0, 11, 12)     # tenths, like P@10
    d = ia - ib
    observed = abs(int(d.sum()))
    hits = sum(abs(sum(s * x for s, x in zip(signs, d))) >= observed
               for signs in itertools.product((1, -1), repeat=d.size))
    ours = S.randomization_test(ia / 10, ib / 10, n_resamples=2 ** 12)
    assert ours.method == "exact"
    assert ours.pvalue == pytest.approx(hits / 2 ** 12, abs=1e-12)


def test_randomization_monte_carlo_close_to_exact_and_deterministic():
    """Oracle: the exact enumeration (2^16 flips) of the same data; Monte-Carlo is within 4 standard errors."""
    a, b = _pairs(16, seed=7)
    exact = S.randomization_test(a, b, n_resamples=2 ** 16)
    mc = S.randomization_test(a, b, n_resamples=20_000, seed=3)
    assert exact.method == "exact" and mc.method == "monte-carlo"
    se = np.sqrt(exact.pvalue * (1 - exact.pvalue) / 20_000)
    assert abs(mc.pvalue - exact.pvalue) < 4 * se + 1e-4
    assert S.randomization_test(a, b, n_resamples=20_000, seed=3) == mc
    assert S.randomization_test(a, b, n_resamples=20_000, seed=4) != mc


def test_randomization_monte_carlo_never_zero():
    """Definition (Phipson & Smyth 2010): p = (1 + hits) / (1 + B) > 0 even for a huge effect."""
    a = np.linspace(0.5, 1.0, 200)
    res = S.randomization_test(a, a - 0.4, n_resamples=999)
    assert res.pvalue == pytest.approx(1 / 1000)


def test_randomization_exact_enumeration_in_chunks():
    """Oracle: scipy.stats.permutation_test, exact for n = 15 (2^15 sign vectors, more than one chunk)."""
    a, b = _pairs(15, seed=15)
    ours = S.randomization_test(a, b, n_resamples=2 ** 15)
    ref = ss.permutation_test((a, b), _mean_stat, permutation_type="samples", n_resamples=2 ** 15,
                              vectorized=True)
    assert ours.method == "exact"
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-10)


def test_identical_inputs_give_p_one():
    """Documented convention: every difference 0 -> p = 1, statistic 0, d_z 0, zero-width CI."""
    a = np.random.default_rng(0).random(30)
    for test in S.TESTS.values():
        res = test(a, a.copy())
        assert res.pvalue == 1.0 and res.statistic == 0.0
    assert S.cohens_dz(a, a) == 0.0
    assert S.bootstrap_ci(a - a) == S.ConfidenceInterval(0.0, 0.0, 0.0, 0.95, "percentile")
    assert S.wilcoxon_test(a, a, zero_method="pratt").pvalue == 1.0


def test_constant_nonzero_differences():
    """Definition: s_d = 0 with a non-zero mean: t = d_z = +inf, p = 0."""
    a = np.arange(10) / 4                      # binary fractions: a + 0.5 - a is exactly 0.5
    assert S.paired_t_test(a + 0.5, a) == S.PairedTestResult(np.inf, 0.0, 10, "t")
    assert S.cohens_dz(a, a + 0.5) == -np.inf


def test_paired_test_dispatch():
    """paired_test(name) gives the same result as calling the registered function."""
    a, b = _pairs(30, seed=9)
    assert S.paired_test(a, b, test="paired_t") == S.paired_t_test(a, b)
    assert S.paired_test(a, b, test="wilcoxon") == S.wilcoxon_test(a, b)
    assert S.paired_test(a, b, test="randomization", seed=5, n_resamples=500) == S.randomization_test(
        a, b, n_resamples=500, seed=5)


def test_test_specs_with_options():
    """A spec carries the test's options; unknown options and values are refused before any data is read."""
    a, b = _pairs(40, discrete=True, seed=2)
    assert S.paired_test(a, b, test="wilcoxon(zero_method='pratt')") == S.wilcoxon_test(a, b, zero_method="pratt")
    assert S.paired_test(a, b, test="randomization(n_resamples=300)", seed=1) == S.randomization_test(
        a, b, n_resamples=300, seed=1)
    assert S.describe_test("wilcoxon(zero_method='zsplit')") == "Wilcoxon signed-rank test (zero_method='zsplit')"
    with pytest.raises(UnknownNameError, match=r"statistical test 'wilcoxon' got unknown parameters \['zero'\]"):
        S.resolve_test("wilcoxon(zero=1)")
    with pytest.raises(UnknownNameError, match="Unknown Wilcoxon zero_method 'prat'.*Did you mean 'pratt'"):
        S.resolve_test("wilcoxon(zero_method='prat')")
    with pytest.raises(UnknownNameError, match=r"statistical test 'paired_t' got unknown parameters \['seed'\]"):
        S.resolve_test("paired_t(seed=1)")
