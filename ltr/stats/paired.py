"""Paired per-query significance tests: Student's paired t, Wilcoxon signed-rank, Fisher's randomization.

Everything here works on *paired per-query values*: ``a[i]`` and ``b[i]`` are the scores of two systems on
the same query ``i`` (same qids, same order). The report layer (:mod:`ltr.report`) pairs the queries; this
module only checks that the two arrays have the same length and hold finite numbers.

These tests are *conditional on the trained models*: the queries are the only random units, so two seeds
of one objective are two different systems to them. For inference across training seeds and folds use
:mod:`ltr.stats.runlevel`.

Conventions
-----------
- Two-sided tests only; ``a - b`` is the difference tested (positive: ``a`` is better).
- Identical inputs (every difference exactly 0) give ``pvalue == 1.0`` and ``statistic == 0.0`` for every
  test, never NaN: "no evidence of a difference" is what such data say, and a NaN would break the
  multiple-testing correction of the whole family.
- Resampling is deterministic given ``seed`` (``numpy.random.default_rng(seed)``), whatever the batch size.
- The tests are kept in a registry (:data:`TESTS`); an unknown name fails with the list of valid ones
  (:func:`get_test`).

References
----------
.. [1] M. D. Smucker, J. Allan, B. Carterette. "A comparison of statistical significance tests for
   information retrieval evaluation." CIKM 2007. doi:10.1145/1321440.1321528
.. [2] F. Wilcoxon. "Individual comparisons by ranking methods." Biometrics Bulletin 1(6), 1945.
.. [3] B. Phipson, G. K. Smyth. "Permutation p-values should never be zero." Stat. Appl. Genet. Mol.
   Biol. 9, 2010. doi:10.2202/1544-6115.1585
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ltr.errors import DataError, UnknownNameError
from ltr.naming import check_params, format_spec, parse_spec, select
from ltr.stats._checks import _BATCH, _check_resamples, _paired, _rng
from ltr.stats._dist import t_sf

__all__ = ["PairedTestResult", "paired_t_test", "wilcoxon_test", "randomization_test", "paired_test",
           "get_test", "resolve_test", "describe_test", "TESTS", "TEST_LABELS"]


class PairedTestResult(NamedTuple):
    """Outcome of a paired two-sided test.

    Attributes
    ----------
    statistic : float
        The test's statistic (t for the t-test, min(R+, R-) for Wilcoxon as scipy reports it, the mean
        difference ``mean(a - b)`` for the randomization test).
    pvalue : float
        Two-sided p-value in [0, 1].
    n : int
        Number of pairs.
    method : str
        How the p-value was obtained: "t", "exact", "permutation", "normal" or "monte-carlo".
    """

    statistic: float
    pvalue: float
    n: int
    method: str



def paired_t_test(a, b) -> PairedTestResult:
    r"""Student's paired t-test (two-sided).

    .. math::
        d_i = a_i - b_i,\quad t = \frac{\bar d}{s_d / \sqrt{n}},\quad
        s_d^2 = \frac{1}{n-1}\sum_i (d_i - \bar d)^2,\quad p = 2\,P(T_{n-1} \ge |t|)

    Parameters
    ----------
    a, b : array-like of shape (n_queries,)
        Paired per-query values, ``n_queries >= 2``.

    Returns
    -------
    PairedTestResult
        ``statistic`` is t. Identical inputs give t = 0, p = 1. Constant non-zero differences
        (``s_d = 0``) give t = +-inf, p = 0.

    Examples
    --------
    >>> round(paired_t_test([0.5, 0.6, 0.7], [0.4, 0.6, 0.5]).pvalue, 4)
    0.2254

    References
    ----------
    Same statistic and p-value as ``scipy.stats.ttest_rel`` (Smucker et al., CIKM 2007).
    """
    d = _paired(a, b, caller="paired_t_test")
    n = d.size
    if not d.any():
        return PairedTestResult(0.0, 1.0, n, "t")
    mean = d.mean()
    sd = d.std(ddof=1)
    if sd == 0:
        return PairedTestResult(float(np.copysign(np.inf, mean)), 0.0, n, "t")
    t = mean / (sd / np.sqrt(n))
    p = 2.0 * t_sf(abs(t), n - 1)
    return PairedTestResult(float(t), float(min(p, 1.0)), n, "t")


def _wilcoxon_pmf(n: int) -> np.ndarray:
    """Null distribution of R+ for n untied non-zero differences: P(R+ = k), k = 0 .. n(n+1)/2.

    Dynamic programming over ranks: each rank 1..n joins R+ with probability 1/2.
    """
    pmf = np.zeros(n * (n + 1) // 2 + 1)
    pmf[0] = 1.0
    top = 0
    for r in range(1, n + 1):
        pmf[r:top + r + 1] = 0.5 * (pmf[r:top + r + 1] + pmf[:top + 1])
        pmf[:r] *= 0.5
        top += r
    return pmf


def _wilcoxon_parts(d: np.ndarray, zero_method: str):
    """R+, R-, the normal approximation's mean and sd, the ranks and the 'used' mask."""
    from scipy import stats as sps

    zeros = d == 0
    used = ~zeros if zero_method == "wilcox" else np.ones(d.size, bool)
    absd = np.abs(d[used])
    ranks = np.zeros(d.size)
    ranks[used] = sps.rankdata(absd, method="average")
    count = int(used.sum())
    r_plus = float(ranks[d > 0].sum())
    r_minus = float(ranks[d < 0].sum())
    _, tie_sizes = np.unique(absd, return_counts=True)
    n0 = int(zeros.sum())
    has_ties = bool((tie_sizes > 1).any())
    mean = count * (count + 1) / 4
    var = count * (count + 1) * (2 * count + 1)
    if zero_method == "zsplit":
        half = ranks[zeros].sum() / 2
        r_plus += half
        r_minus += half
    elif zero_method == "pratt":
        # Cureton (1967): R+ excludes the zeros' ranks, so its mean and variance drop their share
        mean -= n0 * (n0 + 1) / 4
        var -= n0 * (n0 + 1) * (2 * n0 + 1)
        if n0:
            tie_sizes = tie_sizes[1:]   # the zeros' tie group (the smallest |d|) is not corrected for
    ties = tie_sizes.astype(np.float64)
    sd = np.sqrt((var - np.sum(ties ** 3 - ties) / 2) / 24)
    return r_plus, r_minus, mean, sd, ranks, used, count, has_ties


_ZERO_METHODS = {"wilcox": "drop zero differences", "pratt": "rank zeros, then drop them (Pratt 1959)",
                 "zsplit": "split the zeros' ranks between R+ and R-"}
_WILCOXON_METHODS = {"auto": None, "exact": None, "approx": None}
_MAX_EXACT_WILCOXON = 1000   # the exact null distribution costs O(n^3) time


def wilcoxon_test(a, b, *, zero_method: str = "wilcox", method: str = "auto",
                  correction: bool = False) -> PairedTestResult:
    r"""Wilcoxon signed-rank test (two-sided) on the differences ``d = a - b``.

    Ranks :math:`r_i` of :math:`|d_i|` (average ranks for ties); :math:`R^+ = \sum_{d_i>0} r_i`,
    :math:`R^- = \sum_{d_i<0} r_i`. Under H0 each rank's sign is a fair coin. The normal approximation uses

    .. math::
        z = \frac{R^+ - n(n+1)/4}{\sqrt{\left(n(n+1)(2n+1) - \tfrac12\sum_g (t_g^3 - t_g)\right)/24}}

    with :math:`t_g` the sizes of the groups of tied :math:`|d|`.

    Parameters
    ----------
    a, b : array-like of shape (n_queries,)
        Paired per-query values.
    zero_method : {"wilcox", "pratt", "zsplit"}, default="wilcox"
        Zero differences (ties between the systems, frequent in IR): "wilcox" drops them; "pratt" ranks
        them with the others, then leaves their ranks out of R+ (and adjusts mean and variance, Cureton
        1967); "zsplit" gives half of their rank sum to R+ and half to R-.
    method : {"auto", "exact", "approx"}, default="auto"
        "exact": the exact null distribution of R+ (exact only without ties or zeros; otherwise R+ is
        rounded conservatively, as scipy does). "approx": the normal approximation above. "auto" follows
        ``scipy.stats.wilcoxon``: exact for at most 50 pairs without ties or zeros; with ties or zeros and at
        most 13 pairs, an exact enumeration of all :math:`2^n` sign flips (the permutation null); otherwise
        the normal approximation.
    correction : bool, default=False
        Continuity correction (0.5 towards the mean) in the normal approximation.

    Returns
    -------
    PairedTestResult
        ``statistic`` is :math:`\min(R^+, R^-)` (as scipy reports it). Identical inputs give p = 1.

    References
    ----------
    F. Wilcoxon, "Individual comparisons by ranking methods", Biometrics Bulletin 1(6), 1945.
    J. W. Pratt, "Remarks on zeros and ties in the Wilcoxon signed rank procedures", JASA 54, 1959.
    Agrees with ``scipy.stats.wilcoxon`` (same parameters) to 1e-10.
    """
    select(_ZERO_METHODS, zero_method, what="Wilcoxon zero_method")
    select(_WILCOXON_METHODS, method, what="Wilcoxon method")
    d = _paired(a, b, caller="wilcoxon_test")
    n_total = d.size
    if not d.any():
        return PairedTestResult(0.0, 1.0, n_total, "exact")
    r_plus, r_minus, mean, sd, ranks, _, count, has_ties = _wilcoxon_parts(d, zero_method)
    statistic = float(min(r_plus, r_minus))
    n_zero = int((d == 0).sum())
    if method == "auto":
        if n_total > 50:
            method = "approx"
        elif not (has_ties or n_zero):
            method = "exact"
        elif n_total <= 13:
            method = "permutation"
        else:
            method = "approx"
    if method == "approx":
        if sd == 0:
            return PairedTestResult(statistic, 1.0, n_total, "normal")
        from scipy import special

        z = (r_plus - mean) / sd
        if correction:
            z -= np.sign(z) * 0.5 / sd
        p = 2.0 * special.ndtr(-abs(z))
        return PairedTestResult(statistic, float(min(p, 1.0)), n_total, "normal")
    if method == "exact":
        if count > _MAX_EXACT_WILCOXON:
            raise DataError(f"wilcoxon_test(method='exact') supports up to {_MAX_EXACT_WILCOXON} non-zero "
                            f"differences, got {count}; use method='approx' (the normal approximation is "
                            f"accurate far below that size)")
        pmf = _wilcoxon_pmf(count)
        cdf = np.cumsum(pmf)
        sf = np.cumsum(pmf[::-1])[::-1]
        hi = int(np.floor(r_plus))
        lo = int(np.ceil(r_plus))
        p_greater = sf[hi] if hi < sf.size else 0.0
        p_less = cdf[lo] if lo < cdf.size else 1.0
        return PairedTestResult(statistic, float(np.clip(2 * min(p_greater, p_less), 0, 1)), n_total, "exact")
    # permutation: every sign pattern of the differences; ranks of |d| do not change under sign flips
    signs = _all_signs(n_total)                                    # (2^n, n) of +-1
    flipped = signs * d
    null = (flipped > 0) @ ranks
    if zero_method == "zsplit":
        null = null + ranks[d == 0].sum() / 2
    observed = float(ranks[d > 0].sum() + (ranks[d == 0].sum() / 2 if zero_method == "zsplit" else 0.0))
    gamma = abs(observed) * 100 * np.finfo(float).eps
    p_greater = np.count_nonzero(null >= observed - gamma) / null.size
    p_less = np.count_nonzero(null <= observed + gamma) / null.size
    return PairedTestResult(statistic, float(min(2 * min(p_greater, p_less), 1.0)), n_total, "permutation")


def _all_signs(n: int) -> np.ndarray:
    """All 2^n sign vectors, row k = the bits of k (bit set -> -1)."""
    bits = (np.arange(2 ** n, dtype=np.int64)[:, None] >> np.arange(n, dtype=np.int64)) & 1
    return 1.0 - 2.0 * bits


def randomization_test(a, b, *, n_resamples: int = 10_000, seed=0) -> PairedTestResult:
    r"""Fisher's paired randomization (permutation) test, two-sided, on the mean difference.

    Under H0 the labels "a" and "b" are exchangeable within each query, i.e. each difference
    :math:`d_i = a_i - b_i` keeps or flips its sign with probability 1/2. With :math:`T = \frac1n\sum_i
    s_i d_i` over sign vectors :math:`s`, the two-sided p-value is the share of sign vectors with
    :math:`|T| \ge |\bar d|` (Smucker et al. 2007).

    Parameters
    ----------
    a, b : array-like of shape (n_queries,)
        Paired per-query values.
    n_resamples : int, default=10_000
        When :math:`2^n \le` ``n_resamples`` all :math:`2^n` sign vectors are enumerated and the p-value is
        exact (``method="exact"``, as ``scipy.stats.permutation_test`` decides). Otherwise ``n_resamples``
        random sign vectors are drawn and :math:`p = (1 + \#\{|T^*| \ge |\bar d|\}) / (1 + B)`
        (Phipson & Smyth 2010: never 0, and a valid test).
    seed : int or numpy.random.Generator, default=0
        Seed of the sign flips; same seed, same p-value.

    Returns
    -------
    PairedTestResult
        ``statistic`` is the mean difference. Identical inputs give p = 1.

    Notes
    -----
    Sums of differently ordered floats differ in their last bits, so two sign patterns with the same
    exact sum (frequent in IR, where differences such as 0.1 repeat) could be told apart by rounding.
    A statistic within :math:`64\,n\,\epsilon \max|d|` of the observed one counts as "as extreme".
    The sign flips are random bits (``Generator.bytes``), so for the same ``seed`` and number of queries
    every pair of systems sees the same flips.
    """
    n_resamples = _check_resamples(n_resamples, "randomization_test")
    d = _paired(a, b, caller="randomization_test")
    pvalue, method = _randomization_pvalues(d[:, None], n_resamples, seed)
    return PairedTestResult(float(d.mean()), float(pvalue[0]), d.size, method)


def _randomization_pvalues(diffs: np.ndarray, n_resamples: int, seed) -> tuple[np.ndarray, str]:
    """Two-sided sign-flip p-values of each column of ``diffs`` (n_queries, k), sharing the flips."""
    n, k = diffs.shape
    totals = np.abs(diffs.sum(axis=0))
    # tolerance on |sum|, see randomization_test's Notes
    target = totals - 64 * n * np.finfo(float).eps * np.abs(diffs).max(axis=0)
    identical = ~diffs.any(axis=0)
    if n < 63 and 2 ** n <= n_resamples:
        # every sign vector, in chunks of rows so that memory stays bounded for large n_resamples
        count = np.zeros(k, dtype=np.int64)
        for start in range(0, 2 ** n, _BATCH * 8):
            codes = np.arange(start, min(start + _BATCH * 8, 2 ** n), dtype=np.int64)
            signs = 1.0 - 2.0 * ((codes[:, None] >> np.arange(n, dtype=np.int64)) & 1)
            count += np.count_nonzero(np.abs(signs @ diffs) >= target, axis=0)
        p = count / 2 ** n
        method = "exact"
    else:
        rng = _rng(seed)
        n_bytes = (n + 7) // 8
        count = np.zeros(k, dtype=np.int64)
        sums = diffs.sum(axis=0)
        for start in range(0, n_resamples, _BATCH):
            rows = min(_BATCH, n_resamples - start)
            raw = np.frombuffer(rng.bytes(rows * n_bytes), dtype=np.uint8).reshape(rows, n_bytes)
            flipped = np.unpackbits(raw, axis=1, count=n).astype(np.float64)
            # a flipped difference moves the sum by -2 d_i
            count += np.count_nonzero(np.abs(sums - 2.0 * (flipped @ diffs)) >= target, axis=0)
        p = (count + 1) / (n_resamples + 1)
        method = "monte-carlo"
    return np.where(identical, 1.0, p), method


TESTS: dict[str, Callable[..., PairedTestResult]] = {
    "paired_t": paired_t_test,
    "wilcoxon": wilcoxon_test,
    "randomization": randomization_test,
}
"""Registry of paired tests by name (the names the experiment declaration and :func:`ltr.report.compare` use)."""

TEST_LABELS = {"paired_t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank test",
               "randomization": "Fisher randomization test"}


# options each test accepts in a spec such as "wilcoxon(zero_method='pratt')"
_TEST_OPTIONS = {"paired_t": (), "wilcoxon": ("zero_method", "method", "correction"),
                 "randomization": ("n_resamples", "seed")}


def get_test(name: str) -> Callable[..., PairedTestResult]:
    """The paired test registered as ``name``; an unknown name lists the valid ones."""
    return select(TESTS, name, what="statistical test")


def resolve_test(spec: str) -> tuple[str, dict]:
    """Parse and validate a test spec such as ``"wilcoxon"`` or ``"wilcoxon(zero_method='pratt')"``.

    Returns ``(name, options)``; unknown names, options or option values fail here, before any data is
    touched (the experiment declaration resolves its test this way).

    >>> resolve_test("wilcoxon(zero_method='pratt')")
    ('wilcoxon', {'zero_method': 'pratt'})
    """
    parsed = parse_spec(spec, what="statistical test")
    get_test(parsed.name)
    if parsed.cutoff is not None:
        raise UnknownNameError(f"a statistical test takes no cutoff: {spec!r}")
    check_params(parsed.params, _TEST_OPTIONS[parsed.name], owner=f"statistical test {parsed.name!r}")
    options = dict(parsed.params)
    if "zero_method" in options:
        select(_ZERO_METHODS, options["zero_method"], what="Wilcoxon zero_method")
    if "method" in options:
        select(_WILCOXON_METHODS, options["method"], what="Wilcoxon method")
    if "n_resamples" in options:
        _check_resamples(options["n_resamples"], "randomization_test")
    return parsed.name, options


def describe_test(spec: str) -> str:
    """Human-readable name of a test spec: ``"Wilcoxon signed-rank test (zero_method='pratt')"``."""
    name, options = resolve_test(spec)
    text = TEST_LABELS[name]
    if options:
        text += " (" + format_spec("", options)[1:-1] + ")"
    return text


def paired_test(a, b, *, test: str = "paired_t", n_resamples: int = 10_000, seed=0) -> PairedTestResult:
    """Run the test named by the spec ``test`` (a uniform entry point for reports).

    ``n_resamples`` and ``seed`` apply to the randomization test unless the spec sets them
    (``"randomization(n_resamples=100000)"``); options in the spec are passed to the test.
    """
    name, options = resolve_test(test)
    if name == "randomization":
        options = {"n_resamples": n_resamples, "seed": seed, **options}
    return TESTS[name](a, b, **options)

