"""Paired significance tests, bootstrap intervals, effect sizes and multiple-testing corrections.

Everything here works on *paired per-query values*: ``a[i]`` and ``b[i]`` are the scores of two systems on
the same query ``i`` (same qids, same order). The report layer (:mod:`ltr.report`) pairs the queries; this
module only checks that the two arrays have the same length and hold finite numbers.

Conventions
-----------
- Two-sided tests only; ``a - b`` is the difference tested (positive: ``a`` is better).
- Identical inputs (every difference exactly 0) give ``pvalue == 1.0`` and ``statistic == 0.0`` for every
  test, never NaN: "no evidence of a difference" is what such data say, and a NaN would break the
  multiple-testing correction of the whole family.
- Resampling is deterministic given ``seed`` (``numpy.random.default_rng(seed)``), whatever the batch size.
- Tests and corrections are kept in registries (:data:`TESTS`, :data:`CORRECTIONS`); an unknown name fails
  with the list of valid ones (:func:`get_test`, :func:`get_correction`).

References
----------
.. [1] M. D. Smucker, J. Allan, B. Carterette. "A comparison of statistical significance tests for
   information retrieval evaluation." CIKM 2007. doi:10.1145/1321440.1321528
.. [2] B. Efron, R. J. Tibshirani. "An Introduction to the Bootstrap." Chapman & Hall, 1993 (ch. 13-14).
.. [3] J. Cohen. "Statistical Power Analysis for the Behavioral Sciences." 2nd ed., 1988 (d_z, sec. 2.3.5).
.. [4] S. Holm. "A simple sequentially rejective multiple test procedure." Scand. J. Statist. 6, 1979.
.. [5] Y. Benjamini, Y. Hochberg. "Controlling the false discovery rate." JRSS B 57, 1995.
.. [6] B. Phipson, G. K. Smyth. "Permutation p-values should never be zero." Stat. Appl. Genet. Mol.
   Biol. 9, 2010. doi:10.2202/1544-6115.1585
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy import special
from scipy import stats as _sps

from ltr.errors import DataError, UnknownNameError
from ltr.naming import check_params, format_spec, parse_spec, select

__all__ = [
    "PairedTestResult", "ConfidenceInterval", "WinTieLoss",
    "paired_t_test", "wilcoxon_test", "randomization_test", "bootstrap_ci", "cohens_dz", "win_tie_loss",
    "correct_pvalues", "paired_test", "get_test", "resolve_test", "describe_test", "get_correction", "TESTS", "CORRECTIONS", "TEST_LABELS",
    "CORRECTION_LABELS",
]

# Rows of sign flips / bootstrap resamples drawn at once: bounds memory (batch x n float64) without
# changing results (numpy Generators yield the same stream whatever the batch shape).
_BATCH = 2_000


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


class ConfidenceInterval(NamedTuple):
    """A bootstrap confidence interval of the mean: ``low <= estimate <= high`` in all but degenerate cases."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str


class WinTieLoss(NamedTuple):
    """Counts of queries where ``a`` beats, ties or loses to ``b``."""

    wins: int
    ties: int
    losses: int


# ---------------------------------------------------------------------------------------------- input ---

def _paired(a, b, *, caller: str) -> np.ndarray:
    """Validate two paired samples and return the differences ``a - b`` (float64)."""
    a = _sample(a, caller=caller, name="a")
    b = _sample(b, caller=caller, name="b")
    if a.shape != b.shape:
        raise DataError(f"{caller} needs paired values: a has {a.size} values but b has {b.size}. "
                        f"Pair them on qid first (same queries, same order).")
    return a - b


def _sample(x, *, caller: str, name: str = "values", min_size: int = 2) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{caller}: {name} must be numbers, got {type(x).__name__}") from None
    if arr.ndim != 1:
        raise DataError(f"{caller}: {name} must be one-dimensional (one value per query), "
                        f"got shape {arr.shape}")
    if arr.size < min_size:
        raise DataError(f"{caller} needs at least {min_size} paired values, got {arr.size}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataError(f"{caller}: {name} holds {bad.size} non-finite values (first at position "
                        f"{int(bad[0])}: {arr[bad[0]]}); per-query values must be finite numbers")
    return arr


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_resamples(n_resamples, caller: str) -> int:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise DataError(f"The 'n_resamples' parameter of {caller} must be an int >= 1. Got {n_resamples!r}.")
    return int(n_resamples)


def _check_confidence(confidence, caller: str) -> float:
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise DataError(f"The 'confidence' parameter of {caller} must be a float in (0, 1). "
                        f"Got {confidence!r}.")
    return float(confidence)


# ---------------------------------------------------------------------------------------------- tests ---

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
    p = 2.0 * _sps.t.sf(abs(t), n - 1)
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
    zeros = d == 0
    used = ~zeros if zero_method == "wilcox" else np.ones(d.size, bool)
    absd = np.abs(d[used])
    ranks = np.zeros(d.size)
    ranks[used] = _sps.rankdata(absd, method="average")
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
    r_plus, r_minus, mean, sd, ranks, used, count, has_ties = _wilcoxon_parts(d, zero_method)
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
        z = (r_plus - mean) / sd
        if correction:
            z -= np.sign(z) * 0.5 / sd
        p = 2.0 * _sps.norm.sf(abs(z))
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


# ------------------------------------------------------------------------------------------ bootstrap ---

def _bootstrap_means(x: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_resamples`` resamples of the rows of ``x`` (n, k): shape (n_resamples, k).

    Draws ``rng.integers(0, n, (n_resamples, n))`` in batches of rows, as ``scipy.stats.bootstrap`` does, so
    the resamples are the same as scipy's for the same Generator; all k columns share them.
    """
    n, k = x.shape
    out = np.empty((n_resamples, k))
    for start in range(0, n_resamples, _BATCH):
        rows = min(_BATCH, n_resamples - start)
        idx = rng.integers(0, n, size=(rows, n))
        for j in range(k):   # per column, so that column j gets bit for bit bootstrap_ci(x[:, j])
            out[start:start + rows, j] = x[:, j][idx].mean(axis=1)
    return out


_CI_METHODS = {"percentile": None, "bca": None}


def bootstrap_ci(values, *, confidence: float = 0.95, n_resamples: int = 10_000, seed=0,
                 method: str = "percentile") -> ConfidenceInterval:
    r"""Bootstrap confidence interval of the mean of ``values``.

    Pass per-query values for the CI of a system's mean, or paired differences ``a - b`` for the CI of
    the mean difference (the paired bootstrap: queries are resampled with their pair).

    Resamples :math:`x^{*b}` draw n indices uniformly with replacement;
    :math:`\hat\theta^{*b} = \overline{x^{*b}}`. With :math:`\alpha = (1 - \text{confidence})/2`:

    - "percentile": the :math:`\alpha` and :math:`1-\alpha` quantiles (linear interpolation) of
      :math:`\hat\theta^{*}`.
    - "bca" (bias-corrected and accelerated, Efron & Tibshirani 1993, eq. 14.10):
      :math:`z_0 = \Phi^{-1}(\text{share of } \hat\theta^{*} < \hat\theta, \text{ties count half})`,
      acceleration :math:`\hat a = \sum U_i^3 / (6 (\sum U_i^2)^{3/2})` from the jackknife
      :math:`U_i = (n-1)(\bar\theta_{(\cdot)} - \hat\theta_{(i)})`, and quantile levels
      :math:`\Phi\big(z_0 + \frac{z_0 + z_q}{1 - \hat a (z_0 + z_q)}\big)` for :math:`q = \alpha, 1-\alpha`.

    Parameters
    ----------
    values : array-like of shape (n_queries,)
        At least 2 finite values.
    confidence : float, default=0.95
    n_resamples : int, default=10_000
    seed : int or numpy.random.Generator, default=0
    method : {"percentile", "bca"}, default="percentile"

    Returns
    -------
    ConfidenceInterval
        ``estimate`` is the sample mean. Constant values give ``low == high == estimate``.

    Notes
    -----
    Draws the same resamples as ``scipy.stats.bootstrap(..., rng=np.random.default_rng(seed))`` and agrees
    with it to 1e-10; implemented here to be fast (means of index matrices, in batches).
    """
    x = _sample(values, caller="bootstrap_ci")
    return _bootstrap_intervals(x[:, None], confidence=confidence, n_resamples=n_resamples, seed=seed,
                                method=method)[0]


def _bootstrap_intervals(x: np.ndarray, *, confidence: float, n_resamples: int, seed,
                         method: str) -> list[ConfidenceInterval]:
    """:func:`bootstrap_ci` of each column of ``x`` (n, k), the columns sharing the resampled queries.

    Column j gets exactly ``bootstrap_ci(x[:, j], seed=seed, ...)``: the resamples depend only on the
    seed and n.
    """
    select(_CI_METHODS, method, what="bootstrap method")
    confidence = _check_confidence(confidence, "bootstrap_ci")
    n_resamples = _check_resamples(n_resamples, "bootstrap_ci")
    n, k = x.shape
    estimates = x.mean(axis=0)
    constant = np.all(x == x[:1], axis=0)
    theta = _bootstrap_means(x, n_resamples, _rng(seed)) if not constant.all() else None
    alpha = (1 - confidence) / 2
    out = []
    for j in range(k):
        estimate = float(estimates[j])
        if constant[j]:
            out.append(ConfidenceInterval(estimate, estimate, estimate, confidence, method))
            continue
        th = theta[:, j]
        if method == "percentile":
            levels = np.array([alpha, 1 - alpha])
        else:
            # Step 1: bias correction from the share of resampled means below the estimate (ties count half)
            share = (np.count_nonzero(th < estimate) + np.count_nonzero(th <= estimate)) / (2 * th.size)
            z0 = special.ndtri(share)
            # Step 2: acceleration from the jackknife means (mean without query i)
            col = x[:, j]
            jack = (col.sum() - col) / (n - 1)
            u = (n - 1) * (jack.mean() - jack)
            a_hat = (np.sum(u ** 3) / n ** 3) / (6 * (np.sum(u ** 2) / n ** 2) ** 1.5)
            # Step 3: adjusted quantile levels
            z = special.ndtri(np.array([alpha, 1 - alpha]))
            levels = special.ndtr(z0 + (z0 + z) / (1 - a_hat * (z0 + z)))
            if not np.all(np.isfinite(levels)):
                raise DataError("bootstrap_ci(method='bca') cannot be computed for these values (a "
                                "degenerate bootstrap distribution); use method='percentile'")
        low, high = np.quantile(th, levels)
        out.append(ConfidenceInterval(estimate, float(low), float(high), confidence, method))
    return out


# ------------------------------------------------------------------------------------ effect, counts ---

def cohens_dz(a, b) -> float:
    r"""Cohen's :math:`d_z` for paired samples: :math:`\bar d / s_d` with :math:`d = a - b`, :math:`s_d` the
    sample standard deviation (ddof = 1).

    Identical inputs give 0.0; constant non-zero differences give +-inf (no spread at all).

    References
    ----------
    J. Cohen, "Statistical Power Analysis for the Behavioral Sciences", 1988, sec. 2.3.5 (eq. 2.3.5);
    D. Lakens, "Calculating and reporting effect sizes", Front. Psychol. 4:863, 2013 (eq. 6).
    """
    d = _paired(a, b, caller="cohens_dz")
    if not d.any():
        return 0.0
    sd = d.std(ddof=1)
    mean = d.mean()
    if sd == 0:
        return float(np.copysign(np.inf, mean))
    return float(mean / sd)


def win_tie_loss(a, b, *, tol: float = 0.0) -> WinTieLoss:
    """Count queries where ``a`` wins (``a - b > tol``), ties (``|a - b| <= tol``) or loses (``a - b < -tol``).

    Examples
    --------
    >>> win_tie_loss([0.5, 0.2, 0.3], [0.4, 0.2, 0.9])
    WinTieLoss(wins=1, ties=1, losses=1)
    """
    if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not tol >= 0:
        raise DataError(f"The 'tol' parameter of win_tie_loss must be a float >= 0. Got {tol!r}.")
    a = _sample(a, caller="win_tie_loss", name="a", min_size=0)
    b = _sample(b, caller="win_tie_loss", name="b", min_size=0)
    if a.shape != b.shape:
        raise DataError(f"win_tie_loss needs paired values: a has {a.size} values but b has {b.size}")
    d = a - b
    wins = int(np.count_nonzero(d > tol))
    losses = int(np.count_nonzero(d < -tol))
    return WinTieLoss(wins, d.size - wins - losses, losses)


# ----------------------------------------------------------------------------------------- correction ---

def _none(p: np.ndarray) -> np.ndarray:
    return p.copy()


def _bonferroni(p: np.ndarray) -> np.ndarray:
    """:math:`\\tilde p_i = \\min(1, m p_i)`."""
    return np.minimum(1.0, p * p.size)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down: :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)})`."""
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def _bh(p: np.ndarray, *, by: bool = False) -> np.ndarray:
    """Benjamini-Hochberg step-up: :math:`\\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)} / j)`;
    Benjamini-Yekutieli multiplies by :math:`\\sum_{k=1}^m 1/k`."""
    m = p.size
    order = np.argsort(p, kind="stable")
    ranks = np.arange(1, m + 1)
    factor = np.sum(1.0 / ranks) if by else 1.0
    adj = np.minimum.accumulate((p[order] * m * factor / ranks)[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(1.0, adj)
    return out


def _by(p: np.ndarray) -> np.ndarray:
    return _bh(p, by=True)


CORRECTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": _none,
    "bonferroni": _bonferroni,
    "holm": _holm,
    "fdr_bh": _bh,
    "fdr_by": _by,
}
"""Registry of multiple-testing corrections (statsmodels' names)."""

CORRECTION_LABELS = {"none": "no correction", "bonferroni": "Bonferroni correction",
                     "holm": "Holm correction", "fdr_bh": "Benjamini-Hochberg FDR correction",
                     "fdr_by": "Benjamini-Yekutieli FDR correction"}


def get_correction(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The correction registered as ``name``; an unknown name lists the valid ones."""
    return select(CORRECTIONS, name, what="multiple-testing correction")


def correct_pvalues(pvalues, method: str = "holm") -> np.ndarray:
    r"""Adjust a family of p-values for multiple testing.

    The family is what the caller passes: when comparing systems against a baseline, pass the p-values of
    the non-baseline systems only (the baseline is not compared with itself). Adjusted p-values are
    compared with alpha directly (reject where :math:`\tilde p \le \alpha`).

    Parameters
    ----------
    pvalues : array-like of shape (m,)
        Raw p-values in [0, 1]. NaN entries (tests that could not run) are left NaN and are not part
        of the family.
    method : {"holm", "bonferroni", "fdr_bh", "fdr_by", "none"}, default="holm"
        Holm (1979) step-down FWER, Bonferroni FWER, Benjamini-Hochberg (1995) FDR,
        Benjamini-Yekutieli (2001) FDR under dependence, or none.

    Returns
    -------
    numpy.ndarray of shape (m,)
        Adjusted p-values, in the input order. Same values as
        ``statsmodels.stats.multitest.multipletests(p, method=method)[1]``.
    """
    fn = get_correction(method)
    try:
        p = np.asarray(pvalues, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise DataError(f"correct_pvalues needs numbers, got {pvalues!r}") from None
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise DataError(f"correct_pvalues needs p-values in [0, 1], got {p[ok][(p[ok] < 0) | (p[ok] > 1)][:5]}")
    out = np.full(p.shape, np.nan)
    if ok.any():
        out[ok] = fn(p[ok])
    return out

