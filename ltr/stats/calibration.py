r"""Calibration: do the tests reject as often as they claim? (issue 13, item 6)

A calibrated test rejects a true null at rate alpha. Given many comparisons whose truth is known (A/A pairs:
one objective trained with disjoint seed sets; or pairs with an injected effect of known size), compare the
observed rejection count with the binomial distribution:

.. math::
    K \sim \text{Binomial}(R, \pi_0), \qquad [k_{lo}, k_{hi}] = \text{the central 95\% interval of } K,

with :math:`\pi_0 = \alpha` under the null and :math:`\pi_0 =` the stated power at an effect equal to the
stated MDE. :func:`calibrate_pairs` runs the tests on a frame of pairs (real runs or
:func:`~ltr.stats.simulate.simulate_experiment`'s), :func:`summarize_calibration` counts the rejections per
test and says whether they lie in the interval, :func:`rejection_rate` does it for one vector of p-values.

Read an A/A rejection rate of the per-query test (``paired_t`` and the other tests of :data:`ltr.stats.TESTS`)
with care: that test is conditional on the trained models, so two seed sets of one objective are two
different systems to it, and its A/A rate measures the seed noise it does not account for, not a
miscalibration. The run-level test treats the seeds as random and must be within the interval.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ltr.errors import DataError, SchemaError
from ltr.stats._checks import _check_int, _check_probability, _check_resamples, _rng

__all__ = ["RateCheck", "rejection_rate", "calibrate_pairs", "summarize_calibration"]


class RateCheck(NamedTuple):
    """Rejections of R comparisons against the binomial interval of the expected rate."""

    n: int
    rejected: int
    rate: float
    expected: float
    low: float
    high: float
    within: bool


def rejection_rate(pvalues, *, alpha: float = 0.05, expected: float | None = None,
                   confidence: float = 0.95) -> RateCheck:
    r"""The share of ``pvalues <= alpha`` and the central binomial interval of the expected rate.

    Parameters
    ----------
    pvalues : array-like of shape (R,)
        One p-value per comparison (NaN: the comparison is left out and not counted).
    alpha : float, default=0.05
    expected : float, optional
        The rate a calibrated test shows: ``alpha`` (the default) for true nulls, the stated power (0.8) for
        effects equal to the stated MDE.
    confidence : float, default=0.95

    Returns
    -------
    RateCheck
        ``low`` and ``high`` are the :math:`(1 \mp \text{confidence})/2` quantiles of
        :math:`\text{Binomial}(R, \text{expected}) / R`; ``within`` says whether the observed rate lies in them.

    Examples
    --------
    >>> rejection_rate([0.01, 0.2, 0.5, 0.9] * 25)
    RateCheck(n=100, rejected=25, rate=0.25, expected=0.05, low=0.01, high=0.1, within=False)
    """
    from scipy import stats as sps

    alpha = _check_probability(alpha, "alpha", "rejection_rate")
    expected = alpha if expected is None else _check_probability(expected, "expected", "rejection_rate")
    confidence = _check_probability(confidence, "confidence", "rejection_rate")
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    p = p[~np.isnan(p)]
    if p.size == 0:
        raise DataError("rejection_rate needs at least one p-value")
    n = int(p.size)
    rejected = int(np.count_nonzero(p <= alpha))
    lo, hi = sps.binom.ppf([(1 - confidence) / 2, (1 + confidence) / 2], n, expected)
    rate = rejected / n
    return RateCheck(n, rejected, rate, expected, float(lo) / n, float(hi) / n, bool(lo <= rejected <= hi))


def calibrate_pairs(per_query, *, pair: str = "pair", baseline: str = "B", tests=("run_level", "paired_t"),
                    alpha: float = 0.05, mde: bool = False, power: float = 0.8, n_simulations: int = 1000,
                    n_resamples: int = 10_000, seed: int = 0, progress: bool = False):
    """Run each test on each pair of systems: frame in (per-query values), frame out (one row per pair and test).

    Parameters
    ----------
    per_query : pandas.DataFrame
        Rows ``pair, system, fold, seed, qid, value``: each ``pair`` holds two systems, ``baseline`` and one
        other (A/A pairs: the same objective with disjoint seeds, the other named e.g. ``"A"``). Every run of a
        pair's fold is evaluated on the same queries.
    pair : str, default="pair"
    baseline : str, default="B"
        The system tested against in every pair (``delta`` is the other's minus the baseline's).
    tests : sequence of str, default=("run_level", "paired_t")
        ``"run_level"`` (:func:`~ltr.stats.runlevel.run_level_test` on the runs' mean values) and any spec of
        :data:`ltr.stats.TESTS` (on the per-query values averaged over each system's seeds, queries of all
        folds pooled, as the experiment report pairs them).
    alpha, power : float
        Used for the MDE only.
    mde : bool, default=False
        Also compute each comparison's minimal detectable effect (:mod:`ltr.stats.power`), as the power
        statement of a report would.
    n_simulations, n_resamples : int
    seed : int, default=0
        Pairs get independent random labelings (derived from ``seed``), except that pairs whose labelings are
        all enumerated share them (no randomness there).
    progress : bool, default=False
        Show a tqdm progress bar over the pairs (with ``mde=True`` this can take minutes).

    Returns
    -------
    pandas.DataFrame
        ``pair, test, system, baseline, delta, p_value, n`` (queries, or runs for ``run_level``) and ``mde``
        when asked; pairs in sorted order, tests in the given order.
    """
    import pandas as pd

    from ltr.stats.paired import paired_test, resolve_test
    from ltr.stats.power import mde_paired, mde_run_level
    from ltr.stats.runlevel import _arrange, _pvalues, run_values

    caller = "calibrate_pairs"
    if not isinstance(per_query, pd.DataFrame):
        raise SchemaError(f"{caller} needs a pandas DataFrame, got {type(per_query).__name__}")
    missing = [c for c in (pair, "system", "fold", "seed", "qid", "value") if c not in per_query.columns]
    if missing:
        raise SchemaError(f"{caller} needs columns {missing} (found {list(per_query.columns)})")
    tests = list(tests)
    for t in tests:
        if t != "run_level":
            resolve_test(t)
    n_resamples = _check_resamples(n_resamples, caller)
    n_simulations = _check_int(n_simulations, "n_simulations", caller)
    systems = per_query.groupby(pair)["system"].unique()
    for key, names in systems.items():
        others = [s for s in names if s != baseline]
        if baseline not in names or len(others) != 1:
            raise DataError(f"{caller}: pair {key!r} has systems {sorted(map(str, names))}; every pair needs the "
                            f"baseline {baseline!r} and exactly one other system")
    keys = sorted(systems.index)
    other_of = {key: next(s for s in systems[key] if s != baseline) for key in keys}
    rows = {key: [] for key in keys}
    seeds = dict(zip(keys, _rng(seed).integers(2 ** 63, size=len(keys)).tolist()))
    if "run_level" in tests:
        runs = run_values(per_query, runs=(pair, "system", "fold", "seed"))
        # numpy views of the runs, one slice per pair (pandas per pair costs more than the tests)
        codes = {key: i for i, key in enumerate(keys)}
        pair_code = runs[pair].map(codes).to_numpy()
        order_runs = np.argsort(pair_code, kind="stable")
        bounds = np.searchsorted(pair_code[order_runs], np.arange(len(keys) + 1))
        is_base = (runs["system"] == baseline).to_numpy()[order_runs]
        folds = runs["fold"].to_numpy()[order_runs]
        vals = runs["value"].to_numpy(dtype=np.float64)[order_runs]
        arranged = {}
        for key in keys:
            sl = slice(bounds[codes[key]], bounds[codes[key] + 1])
            base, fold, v = is_base[sl], folds[sl], vals[sl]
            parts = (v[~base], v[base], fold[~base], fold[base])
            arranged[key] = (parts, *_arrange(*parts, caller="run_level_test")[:2])
        # pairs whose labelings are all enumerated: one batch per design
        designs: dict = {}
        for key, (_, values, layout) in arranged.items():
            tag = tuple(layout.sizes) if layout.is_exact(n_resamples) else ("mc", key)
            designs.setdefault(tag, []).append(key)
        for members in _bar(designs.values(), progress, "run-level tests", len(designs)):
            layout = arranged[members[0]][2]
            values = np.stack([arranged[key][1] for key in members], axis=1)
            observed, p, _ = _pvalues(values, layout, n_resamples, seeds[members[0]])
            for j, key in enumerate(members):
                row = dict(test="run_level", delta=float(observed[j]), p_value=float(min(p[j], 1.0)),
                           n=layout.n_runs)
                if mde:
                    a, b, fa, fb = arranged[key][0]
                    row["mde"] = mde_run_level(a, b, folds_a=fa, folds_b=fb, alpha=alpha, power=power,
                                               n_simulations=n_simulations, n_resamples=n_resamples,
                                               seed=seeds[key]).effect
                rows[key].append(row)
    paired_specs = [t for t in tests if t != "run_level"]
    if paired_specs:
        averaged = per_query.groupby([pair, "system", "qid"], sort=True)["value"].mean()
        frame = averaged.reset_index()
        frame["is_base"] = frame["system"] == baseline
        wide = frame.pivot_table(index=[pair, "qid"], columns="is_base", values="value", aggfunc="first",
                                 dropna=False, observed=True)
        other_values, base_values = wide[False].to_numpy(), wide[True].to_numpy()
        pair_of = wide.index.get_level_values(0)
        starts = {key: (i, j) for key, i, j in _slices(pair_of)}
        for key in _bar(keys, progress, "per-query tests", len(keys)):
            i, j = starts[key]
            a, b = other_values[i:j], base_values[i:j]
            holes = np.isnan(a) | np.isnan(b)
            if holes.any():
                raise DataError(f"{caller}: in pair {key!r}, {int(holes.sum())} queries have values of only one "
                                f"system; both systems must be evaluated on the same queries")
            for spec in paired_specs:
                res = paired_test(a, b, test=spec, n_resamples=n_resamples, seed=seeds[key])
                row = dict(test=spec, delta=float(a.mean() - b.mean()), p_value=res.pvalue, n=a.size)
                if mde:
                    row["mde"] = mde_paired(a, b, test=spec, alpha=alpha, power=power, n_simulations=n_simulations,
                                            n_resamples=n_resamples, seed=seeds[key]).effect
                rows[key].append(row)
    order = {t: i for i, t in enumerate(tests)}
    out = [{pair: key, "system": other_of[key], "baseline": baseline, **row}
           for key in keys for row in sorted(rows[key], key=lambda r: order[r["test"]])]
    columns = [pair, "test", "system", "baseline", "delta", "p_value", "n"] + (["mde"] if mde else [])
    return pd.DataFrame(out)[columns]


def _bar(items, progress: bool, desc: str, total: int):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, unit="pair")


def _slices(labels):
    """(label, start, stop) of each run of equal consecutive labels."""
    labels = list(labels)
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            yield labels[start], start, i
            start = i


def summarize_calibration(results, *, alpha: float = 0.05, expected: float | None = None,
                          confidence: float = 0.95):
    """:func:`rejection_rate` per test of :func:`calibrate_pairs`'s frame: ``test, n, rejected, rate, expected,
    low, high, within`` (``expected``: alpha for A/A pairs, the power for pairs with an injected MDE)."""
    import pandas as pd

    rows = []
    for test, sub in results.groupby("test", sort=False):
        rows.append({"test": test, **rejection_rate(sub["p_value"], alpha=alpha, expected=expected,
                                                    confidence=confidence)._asdict()})
    return pd.DataFrame(rows)
