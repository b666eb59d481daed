r"""Power: the minimal detectable effect (MDE) of a comparison, before anyone reads "no difference" into it.

For a test, a level and the variance the data show, the MDE is the smallest true difference the test detects
with the declared power (80% by default). A non-significant comparison is reported with its MDE ("no
difference larger than the MDE is likely to have been missed"), never as "no difference" (that needs an
equivalence test, :func:`ltr.stats.equivalence.tost_paired`). There is deliberately no "observed power"
(the power at the observed difference): it is a function of the p-value and adds nothing (Hoenig & Heisey
2001).

The level
---------
A comparison is judged at its family's per-comparison level, :func:`~ltr.stats.corrections.per_comparison_alpha`:
:math:`\alpha/m` for Holm and Bonferroni over a family of *m* comparisons (the level of Holm's first step,
the conservative choice), the same for Benjamini-Hochberg's first discovery, :math:`\alpha` without
correction. The randomised Tukey HSD controls the family itself and uses :math:`\alpha`.

Methods
-------
- **Paired t-test, analytic** (:func:`mde_paired`, ``test="paired_t"``). Webber, Moffat & Zobel (2008) give
  the t-approximation :math:`\text{MDE} = (t_{1-\alpha/2,\,n-1} + t_{\pi,\,n-1})\, s_d/\sqrt n` with
  :math:`\pi` the power (``method="approx"``). The default ``method="noncentral"`` solves the exact two-sided
  power of the t-test, :math:`P(|T'| > t_{1-\alpha/2,\,n-1}) = \pi` with :math:`T'` noncentral t of
  :math:`n-1` degrees of freedom and noncentrality :math:`\delta\sqrt n / s_d`, which is what
  ``statsmodels.stats.power.TTestPower.solve_power`` computes; the approximation is within 1% of it for
  n >= 30.
- **By simulation** (the randomization test, any other registered paired test, the run-level test, the
  Tukey HSD). The observed data are centred so that the null holds exactly (the differences, the run values
  of each (fold, system), or each system's column), then a candidate effect :math:`\delta` is added back:

  * paired tests: per-query differences :math:`d_i - \bar d` (scaled by :math:`\sqrt{n/(n-1)}`), resampled
    with replacement (n queries per simulated experiment), plus :math:`\delta`;
  * run-level test: the runs' residuals from their (fold, system) means (scaled by
    :math:`\sqrt{m/(m-1)}` for a group of m runs), pooled over folds and systems (one seed-noise variance),
    resampled into the design's (fold, system) cells, plus :math:`\delta` on A's runs;
  * Tukey HSD: the queries x systems matrix with every column centred, plus :math:`\delta` on system a's
    column. The sampling distribution of :math:`d_{ab}` comes from resampling queries; the critical values
    come from the randomised max-range null of the centred matrix with the shift (computed once per
    :math:`\delta`, not per resample: the permutation null of a resample is close to that of the sample,
    and recomputing it would cost ``n_simulations`` full HSD tests per :math:`\delta`).

  Each simulated experiment is tested at the per-comparison level with the test's own null (sign flips,
  within-fold relabelings or row permutations: ``n_resamples`` of them, or all when there are fewer);
  power(:math:`\delta`) is the share rejected. The same resamples and the same flips serve every
  :math:`\delta` (common random numbers), so power(:math:`\delta`) is a fixed function of the seed, and the
  MDE is found by bisection: the bracket :math:`(0, \delta_{hi}]` (from a normal approximation, doubled
  until the power is reached) is halved 12 times, keeping the half whose upper end reaches the power. The
  returned MDE is the smallest evaluated effect that reaches the power (within 2^-12 of the bracket).
  Deterministic for a fixed seed.

If the test cannot reject at the level whatever the data (a permutation floor above it, e.g. 3 seeds per
system in one fold), the MDE is ``inf``.

References
----------
.. [1] W. Webber, A. Moffat, J. Zobel. "Statistical power in retrieval experimentation." CIKM 2008.
   doi:10.1145/1458082.1458158
.. [2] J. Cohen. "Statistical Power Analysis for the Behavioral Sciences." 2nd ed., 1988.
.. [3] J. M. Hoenig, D. M. Heisey. "The abuse of power: the pervasive fallacy of power calculations for
   data analysis." The American Statistician 55(1), 2001. doi:10.1198/000313001300339897
.. [4] B. Efron, R. J. Tibshirani. "An Introduction to the Bootstrap." 1993 (resampling residuals, ch. 9).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from ltr.errors import DataError
from ltr.naming import select
from ltr.stats._checks import _BATCH, _check_int, _check_probability, _check_resamples, _paired, _rng
from ltr.stats._dist import nct_sf, t_ppf
from ltr.stats._shift import shift_counts
from ltr.stats.corrections import get_correction, per_comparison_alpha

__all__ = ["DetectableEffect", "mde_paired", "mde_run_level", "mde_tukey", "PAIRED_T_METHODS"]

#: How :func:`mde_paired` computes the paired t-test's MDE.
PAIRED_T_METHODS = {
    "noncentral": "exact two-sided power of the t-test (noncentral t)",
    "approx": "t-approximation (Webber, Moffat & Zobel 2008)",
    "simulation": "simulation",
}

# the power search: bisection steps (relative precision 2^-12 of the first bracket), doublings of the bracket
_ROUNDS = 12
_MAX_DOUBLINGS = 40
# null statistics of all simulated experiments kept in memory when there are at most this many (else recomputed)
_CACHE_CELLS = 16_000_000


class DetectableEffect(NamedTuple):
    """The minimal detectable effect of one comparison.

    Attributes
    ----------
    effect : float
        The MDE, in the units of the values (e.g. nDCG@10 points): the smallest true difference detected with
        probability ``power`` at level ``alpha``. ``inf`` if the test cannot reject at that level at all;
        0.0 if the values show no variance.
    power : float
        The power the MDE is computed for.
    alpha : float
        The per-comparison level used (:func:`~ltr.stats.corrections.per_comparison_alpha`).
    family_alpha : float
        The declared level of the family.
    family_size : int
    correction : str
    test : str
        The test the MDE is for ("paired_t", "randomization", "wilcoxon", "run_level", "tukey_hsd").
    method : str
        How it was computed: "noncentral t", "t-approximation (Webber et al. 2008)" or "simulation".
    n : int
        Queries (paired tests) or runs (run-level test) of the data it was computed from.
    n_simulations : int
        Simulated experiments per power evaluation (0 when analytic).
    """

    effect: float
    power: float
    alpha: float
    family_alpha: float
    family_size: int
    correction: str
    test: str
    method: str
    n: int
    n_simulations: int


# ---------------------------------------------------------------------------------------- the search ---

def _search(power_at: Callable[[np.ndarray], np.ndarray], guess: float, target: float, *, points: int = 1,
            rounds: int = _ROUNDS) -> float:
    """The smallest evaluated effect with power_at(effect) >= target (see the module docstring)."""
    hi = guess
    for _ in range(_MAX_DOUBLINGS):
        if power_at(np.array([hi]))[0] >= target:
            break
        hi *= 2
    else:
        return float("inf")
    lo = 0.0
    for _ in range(rounds):
        grid = lo + (hi - lo) * np.arange(1, points + 1) / (points + 1)
        reached = np.flatnonzero(power_at(grid) >= target)
        if reached.size:
            first = reached[0]
            lo, hi = (grid[first - 1] if first else lo), grid[first]
        else:
            lo = grid[-1]
    return float(hi)


def _cached(chunks: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]], n_null: int, k: int):
    """The chunks as a list computed once when they fit in memory, else the function that recomputes them."""
    if n_null * k > _CACHE_CELLS:
        return chunks
    stored = list(chunks())
    return lambda: iter(stored)


def _shift_power(chunks: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]], observed: np.ndarray,
                 slope: float, scale: float, n_terms: int, deltas: np.ndarray, level: float, exact: bool,
                 n_null: int) -> np.ndarray:
    r"""Power at each effect of ``deltas`` for k simulated experiments tested against shared null draws.

    At effect :math:`\delta`, experiment j's statistic is ``observed[j] + slope * delta`` and null draw l's
    is ``X[l, j] + c[l] * delta``, with ``(X, c)`` the chunks of null draws. Two-sided: a null draw counts
    when its absolute value reaches the observed one (within the rounding tolerance of the sums).
    """
    counts = np.zeros((deltas.size, observed.size), dtype=np.int64)
    thresholds = [np.abs(observed + slope * delta) - 64 * n_terms * np.finfo(float).eps * (scale + abs(delta))
                  for delta in deltas]
    for x, c in chunks():
        for g, delta in enumerate(deltas):
            counts[g] += shift_counts(x, c, thresholds[g], delta)
    p = counts / n_null if exact else (counts + 1) / (n_null + 1)
    return np.mean(p <= level, axis=1)


def _levels(alpha, power, family_size, correction, caller):
    alpha = _check_probability(alpha, "alpha", caller)
    power = _check_probability(power, "power", caller)
    family_size = _check_int(family_size, "family_size", caller)
    get_correction(correction)
    return alpha, power, family_size, per_comparison_alpha(alpha, family_size, correction)


# ------------------------------------------------------------------------------------------- paired ---

def _t_mde(sd: float, n: int, level: float, power: float, method: str) -> float:
    from scipy import optimize

    df = n - 1
    crit = t_ppf(1 - level / 2, df)
    approx = (crit + t_ppf(power, df)) * sd / np.sqrt(n)
    if method == "approx" or sd == 0:
        return float(approx)

    def gap(effect):
        nc = effect * np.sqrt(n) / sd
        # the lower tail P(T' < -crit) as the upper tail of -T' (scipy's nct.cdf returns NaN far in the tail)
        return nct_sf(crit, df, nc) + nct_sf(crit, df, -nc) - power

    hi = approx
    while gap(hi) < 0:
        hi *= 2
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-14 * max(sd, 1e-300), rtol=1e-12))


def _sign_chunks(n: int, n_resamples: int, seed) -> tuple[Callable[[], Iterator[np.ndarray]], bool, int]:
    """Sign vectors (rows, n) of +-1: all 2^n when 2^n <= n_resamples, else n_resamples random ones (the
    same on every call of the returned function)."""
    if n < 63 and 2 ** n <= n_resamples:
        def every():
            for start in range(0, 2 ** n, _BATCH * 8):
                codes = np.arange(start, min(start + _BATCH * 8, 2 ** n), dtype=np.int64)
                yield 1.0 - 2.0 * ((codes[:, None] >> np.arange(n, dtype=np.int64)) & 1)
        return every, True, 2 ** n
    fixed = int(_rng(seed).integers(2 ** 63))

    def random():
        rng = np.random.default_rng(fixed)
        n_bytes = (n + 7) // 8
        for start in range(0, n_resamples, _BATCH):
            rows = min(_BATCH, n_resamples - start)
            raw = np.frombuffer(rng.bytes(rows * n_bytes), dtype=np.uint8).reshape(rows, n_bytes)
            yield 1.0 - 2.0 * np.unpackbits(raw, axis=1, count=n).astype(np.float64)
    return random, False, n_resamples


def mde_paired(a, b, *, test: str = "paired_t", alpha: float = 0.05, power: float = 0.8, family_size: int = 1,
               correction: str = "holm", method: str | None = None, n_simulations: int = 1000,
               n_resamples: int = 10_000, seed=0) -> DetectableEffect:
    r"""The minimal detectable effect of a paired per-query comparison (see the module docstring).

    Parameters
    ----------
    a, b : array-like of shape (n_queries,)
        The paired per-query values of the comparison (their spread is the variance used).
    test : str, default="paired_t"
        A spec of :data:`ltr.stats.TESTS` (``"paired_t"``, ``"randomization"``, ``"wilcoxon(...)"``).
    alpha : float, default=0.05
        The family's level.
    power : float, default=0.8
    family_size : int, default=1
        Comparisons in the correction family (``correct_family``'s ``family_size``).
    correction : str, default="holm"
        The family's correction: sets the per-comparison level.
    method : {"noncentral", "approx", "simulation"}, optional
        For the paired t-test: the exact noncentral-t power (default), the t-approximation of Webber et al.
        (2008), or simulation. Other tests are always simulated.
    n_simulations : int, default=1000
        Simulated experiments per power evaluation (the power estimate's standard error is
        :math:`\sqrt{0.8 \cdot 0.2 / 1000} \approx 0.013`).
    n_resamples : int, default=10_000
        Sign flips of the randomization test in each simulated experiment (use what the real test uses).
    seed : int or numpy.random.Generator, default=0

    Returns
    -------
    DetectableEffect

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(0.5, 0.2, 200), rng.normal(0.5, 0.2, 200)
    >>> round(mde_paired(a, b).effect, 4), round(mde_paired(a, b, method="approx").effect, 4)
    (0.0579, 0.0579)
    >>> round(mde_paired(a, b, family_size=5).effect, 4)      # Holm over 5: judged at 0.01
    0.0709
    """
    from ltr.stats.paired import TESTS, resolve_test

    caller = "mde_paired"
    alpha, power, family_size, level = _levels(alpha, power, family_size, correction, caller)
    name, options = resolve_test(test)
    if method is not None:
        select(PAIRED_T_METHODS, method, what="MDE method")
        if name != "paired_t" and method != "simulation":
            raise DataError(f"{caller}: method={method!r} is for the paired t-test; the {name!r} test's MDE is "
                            f"computed by simulation (pass method='simulation' or leave it out)")
    method = method or ("noncentral" if name == "paired_t" else "simulation")
    d = _paired(a, b, caller=caller)
    n = d.size
    sd = float(d.std(ddof=1))
    common = dict(power=power, alpha=level, family_alpha=alpha, family_size=family_size, correction=correction,
                  test=name, n=n)
    if method != "simulation":
        label = "noncentral t" if method == "noncentral" else "t-approximation (Webber et al. 2008)"
        return DetectableEffect(_t_mde(sd, n, level, power, method), method=label, n_simulations=0, **common)
    n_simulations = _check_int(n_simulations, "n_simulations", caller)
    n_resamples = _check_resamples(n_resamples, caller)
    if name == "randomization":
        n_resamples = options.get("n_resamples", n_resamples)
        seed = options.get("seed", seed)
    rng = _rng(seed)
    centred = (d - d.mean()) * np.sqrt(n / (n - 1))
    # Step 1: the simulated experiments (resampled queries), shared by every candidate effect
    replicates = np.empty((n, n_simulations))
    for start in range(0, n_simulations, _BATCH):
        cols = min(_BATCH, n_simulations - start)
        replicates[:, start:start + cols] = centred[rng.integers(0, n, size=(cols, n))].T
    guess = 1.5 * _t_mde(max(sd, 1e-12), n, level, power, "approx") if n > 1 else 1.0
    if sd == 0:
        return DetectableEffect(0.0, method="simulation", n_simulations=n_simulations, **common)
    if name == "randomization":
        # Step 2: the sign flips, shared by every simulated experiment and every effect
        flips, exact, n_null = _sign_chunks(n, n_resamples, rng)
        if (2.0 / n_null if exact else 1.0 / (n_null + 1)) > level:
            return DetectableEffect(float("inf"), method="simulation", n_simulations=n_simulations, **common)
        sums = replicates.sum(axis=0)
        scale = float(np.abs(replicates).max())

        def chunks():
            for s in flips():
                yield s @ replicates, s.sum(axis=1)

        stored = _cached(chunks, n_null, n_simulations)

        def power_at(deltas):
            return _shift_power(stored, sums, float(n), scale, n, deltas, level, exact, n_null)

        effect = _search(power_at, guess, power)
    else:
        fn = TESTS[name]
        zeros = np.zeros(n)
        opts = dict(options)
        # the test's floor: distinct differences all of one sign give its smallest p-value (e.g. 2 / 2^n for
        # the exact signed-rank test); above the level no effect is detectable, so do not search for one
        if fn(np.arange(1.0, n + 1.0), zeros, **opts).pvalue > level:
            return DetectableEffect(float("inf"), method="simulation", n_simulations=n_simulations, **common)

        def power_at(deltas):
            out = []
            for delta in deltas:
                hits = sum(fn(replicates[:, j] + delta, zeros, **opts).pvalue <= level for j in range(n_simulations))
                out.append(hits / n_simulations)
            return np.array(out)

        effect = _search(power_at, guess, power)
    return DetectableEffect(effect, method="simulation", n_simulations=n_simulations, **common)


# ---------------------------------------------------------------------------------------- run level ---

def mde_run_level(a, b, *, folds_a=None, folds_b=None, alpha: float = 0.05, power: float = 0.8,
                  family_size: int = 1, correction: str = "holm", n_simulations: int = 1000,
                  n_resamples: int = 10_000, seed=0) -> DetectableEffect:
    r"""The minimal detectable effect of :func:`ltr.stats.runlevel.run_level_test` on this design, by simulation.

    The design is the data's: the same folds and the same number of runs of each system per fold. The seed
    noise is the pooled residual variance of the runs around their (fold, system) means (see the module
    docstring); each simulated experiment redraws every run from the pooled residuals, adds the candidate
    effect to A's runs and is tested with the run-level test's own labelings.

    Parameters
    ----------
    a, b, folds_a, folds_b
        As in :func:`~ltr.stats.runlevel.run_level_test`. Some (fold, system) cell needs at least two runs (the
        seed noise is estimated from runs of the same system in the same fold).
    alpha, power, family_size, correction, n_simulations, n_resamples, seed
        As in :func:`mde_paired`.

    Returns
    -------
    DetectableEffect
        ``effect`` is ``inf`` when the design's floor (:func:`~ltr.stats.runlevel.run_level_floor`) is above
        the per-comparison level: add seeds (:func:`~ltr.stats.runlevel.seeds_needed`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> folds = np.repeat(["f1", "f2", "f3"], 5)              # 5 seeds per system in each of 3 folds
    >>> a, b = rng.normal(0.6, 0.01, 15), rng.normal(0.6, 0.01, 15)
    >>> r = mde_run_level(a, b, folds_a=folds, folds_b=folds, n_simulations=200, n_resamples=2000)
    >>> round(r.effect, 4)
    0.0096
    >>> mde_run_level(a[:3], b[:3], n_simulations=200).effect   # 3 + 3 runs in one fold: floor 0.1
    inf
    """
    from ltr.stats.runlevel import _arrange

    caller = "mde_run_level"
    alpha, power, family_size, level = _levels(alpha, power, family_size, correction, caller)
    n_simulations = _check_int(n_simulations, "n_simulations", caller)
    n_resamples = _check_resamples(n_resamples, caller)
    values, layout, _ = _arrange(a, b, folds_a, folds_b, caller=caller)
    common = dict(power=power, alpha=level, family_alpha=alpha, family_size=family_size, correction=correction,
                  test="run_level", method="simulation", n=layout.n_runs, n_simulations=n_simulations)
    if layout.floor(n_resamples) > level:
        return DetectableEffect(float("inf"), **common)
    # Step 1: residuals of the runs around their (fold, system) means, pooled
    pool, is_a = [], np.zeros(layout.n_runs)
    for (na, nb), s in zip(layout.sizes, layout.starts):
        is_a[s:s + na] = 1.0
        for lo, m in ((s, na), (s + na, nb)):
            if m >= 2:
                cell = values[lo:lo + m]
                pool.append((cell - cell.mean()) * np.sqrt(m / (m - 1)))
    if not pool:
        raise DataError(f"{caller} estimates the seed noise from runs of one system in one fold, but every "
                        f"(fold, system) has a single run; train at least two seeds of a system per fold")
    pool = np.concatenate(pool)
    if not np.any(pool):
        return DetectableEffect(0.0, **common)
    sd = float(np.sqrt(np.mean(pool ** 2)))
    # Step 2: the simulated experiments and the labelings, shared by every candidate effect
    rng = _rng(seed)
    replicates = pool[rng.integers(0, pool.size, size=(n_simulations, layout.n_runs))].T   # (n_runs, k)
    label_seed = int(rng.integers(2 ** 63))
    w0 = layout.observed_weights()
    observed = w0 @ replicates
    exact = layout.is_exact(n_resamples)
    n_null = layout.n_labelings if exact else n_resamples
    scale = float(np.abs(replicates).max())

    def chunks():
        for w in layout.weight_chunks(n_resamples, label_seed):
            yield w @ replicates, w @ is_a

    stored = _cached(chunks, n_null, n_simulations)

    def power_at(deltas):
        return _shift_power(stored, observed, 1.0, scale, layout.n_runs, deltas, level, exact, n_null)

    se = sd * np.sqrt(sum(1 / na + 1 / nb for na, nb in layout.sizes)) / layout.n_folds
    from scipy import special

    guess = 1.5 * float(special.ndtri(1 - level / 2) + special.ndtri(power)) * se
    return DetectableEffect(_search(power_at, guess, power), **common)


# -------------------------------------------------------------------------------------------- Tukey ---

def mde_tukey(data, *, systems=None, value: str = "value", pairs=None, alpha: float = 0.05, power: float = 0.8,
              n_simulations: int = 1000, n_resamples: int = 10_000, seed=0):
    r"""The minimal detectable effect of every pair of the randomised Tukey HSD (:func:`ltr.stats.tukey.tukey_hsd`).

    By simulation (see the module docstring): the effect is added to ``system_a``'s column of the centred
    matrix; the critical value at each candidate effect comes from the randomised max-range null of that
    matrix, the sampling variability of the pair's difference from ``n_simulations`` resamples of the
    queries. ``alpha`` is the family's level (the HSD controls the family-wise error rate itself).

    Parameters
    ----------
    data, systems, value
        As in :func:`~ltr.stats.tukey.tukey_hsd`.
    pairs : sequence of (str, str), optional
        The pairs to compute (each as ``tukey_hsd`` orders it, or reversed); default: every pair.
    alpha, power, n_simulations, n_resamples, seed
        As in :func:`mde_paired`.

    Returns
    -------
    pandas.DataFrame
        One row per pair, in :func:`~ltr.stats.tukey.tukey_hsd`'s order: ``system_a``, ``system_b``, ``mde``;
        ``attrs`` hold ``alpha``, ``power``, ``n_simulations``, ``n_resamples`` and ``method``.
    """
    import pandas as pd

    from ltr.stats.tukey import _count_at_least, _null_means, tukey_hsd

    caller = "mde_tukey"
    alpha = _check_probability(alpha, "alpha", caller)
    power = _check_probability(power, "power", caller)
    n_simulations = _check_int(n_simulations, "n_simulations", caller)
    n_resamples = _check_resamples(n_resamples, caller)
    # the HSD's own input handling (frame or matrix, names, holes) through a cheap run
    table = tukey_hsd(data, systems=systems, value=value, n_resamples=1)
    names = list(dict.fromkeys([*table["system_a"], *table["system_b"]]))
    wanted = None
    if pairs is not None:
        wanted = set()
        for pa, pb in pairs:
            if pa not in names or pb not in names or pa == pb:
                raise DataError(f"{caller}: pair ({pa!r}, {pb!r}) is not a pair of two of the systems {names}")
            wanted.add((min(names.index(pa), names.index(pb)), max(names.index(pa), names.index(pb))))
    if isinstance(data, pd.DataFrame):
        wide = data[data["system"].isin(names)].pivot(index="qid", columns="system", values=value)
        x = wide[names].to_numpy(dtype=np.float64)
    else:
        x = np.asarray(data, dtype=np.float64)
    n, k = x.shape
    x0 = x - x.mean(axis=0)
    rng = _rng(seed)
    # Step 1: resampled queries -> the sampling distribution of every pair's difference under the null
    idx = rng.integers(0, n, size=(n_simulations, n))
    boot = np.stack([x0[:, j][idx].mean(axis=1) for j in range(k)], axis=1)        # (n_simulations, k)
    # Step 2: the permutation null of the centred matrix, with where each column's values land
    null, shares, method = _null_means(x0, n_resamples, int(rng.integers(2 ** 63)), counts=True)
    exact = method == "exact"
    n_null = null.shape[0]
    scale = float(np.abs(x0).max(initial=0.0))
    from scipy import special

    # the k! relabelings of the systems shared by every query all reach the observed range
    floor = math.factorial(k) / n_null if exact else 1.0 / (n_null + 1)
    out, kept = [], []
    for a, b in zip(*np.triu_indices(k, k=1)):
        if wanted is not None and (a, b) not in wanted:
            continue
        kept.append((names[a], names[b]))
        d0 = boot[:, a] - boot[:, b]
        if floor > alpha:
            out.append(float("inf"))
            continue

        def power_at(deltas, a=a, d0=d0):
            result = np.empty(deltas.size)
            for g, delta in enumerate(deltas):
                shifted = null + delta * shares[:, a, :]
                ranges = shifted.max(axis=1) - shifted.min(axis=1)
                tol = 64 * n * np.finfo(float).eps * (scale + abs(delta))
                count = _count_at_least(ranges, np.abs(d0 + delta), tol)
                p = count / n_null if exact else (count + 1) / (n_null + 1)
                result[g] = np.mean(p <= alpha)
            return result

        se = float(np.std(d0, ddof=1))
        z = float(special.ndtri(1 - alpha / (k * (k - 1))) + special.ndtri(power))
        guess = 1.5 * z * se if se > 0 else max(scale, 1e-6)
        out.append(_search(power_at, guess, power))
    frame = pd.DataFrame({"system_a": [p[0] for p in kept], "system_b": [p[1] for p in kept], "mde": out})
    frame.attrs.update(alpha=alpha, power=power, n_simulations=n_simulations, n_resamples=n_resamples,
                       method=f"simulation ({method} permutation null)")
    return frame
