r"""Run-level permutation test: training randomness as random, folds as fixed blocks.

The per-query tests of :mod:`ltr.stats.paired` are conditional on the trained models: queries are the only
random units, so two seeds of one objective are two different systems to them, and a gap that is pure seed
noise can be "significant". The test here asks the other question: *across training seeds and folds*, does
system A score higher than system B? Its replicate is a whole trained run, one value per (system, fold,
seed), e.g. the mean metric over the fold's test queries (:func:`run_values` makes them from per-query rows).

Design
------
- **Folds are fixed blocks.** Cross-validation folds share most of their training data, so they are not
  independent replicates (Nadeau & Bengio 2003); the test compares runs only within a fold and never treats
  the folds as a sample.
- **Seeds are not paired.** Seed *s* of objective A and seed *s* of objective B draw unrelated models (the
  same seed drives different randomness in different objectives), so nothing here pairs runs across
  systems: the systems may have different seeds and different numbers of runs, and renaming or reordering
  a system's seeds changes nothing.
- **Statistic**: :math:`T = \frac1F \sum_f (\bar a_f - \bar b_f)`, the difference of A's and B's mean run
  value within fold *f*, averaged over the *F* folds.
- **Null distribution**: under H0 the :math:`n_{a,f} + n_{b,f}` runs of fold *f* are exchangeable, so every
  relabeling that gives :math:`n_{a,f}` of them to A is equally likely, independently per fold. There are
  :math:`N = \prod_f \binom{n_{a,f} + n_{b,f}}{n_{a,f}}` labelings. Two-sided:
  :math:`p = \#\{\ell : |T_\ell| \ge |T|\} / N` over all labelings when :math:`N \le` ``n_resamples``
  (exact), else :math:`p = (1 + \#\{b : |T^*_b| \ge |T|\}) / (1 + B)` over *B* seeded random labelings
  (Phipson & Smyth 2010: never 0, a valid test).
- **Floor**: the smallest p-value the test can return, :math:`(1 + [n_{a,f} = n_{b,f}\ \forall f]) / N`
  exact (the mirror labeling, all labels swapped, attains the same :math:`|T|`), :math:`1/(B+1)` by Monte
  Carlo. With 3 seeds per system and one fold, :math:`N = \binom{6}{3} = 20` and the floor is 0.1: the test
  cannot reject at 0.05 whatever the data. :func:`run_level_floor` gives the floor of a design and
  :func:`seeds_needed` the seeds per system a design needs to be able to reject at all.

Why a permutation test and not a crossed mixed model
----------------------------------------------------
The model :math:`y_{qsr} = \mu + \beta_{\text{system}} + u_q + v_{s,r} + \varepsilon` with random query
effects :math:`u_q` and random run effects :math:`v_{s,r}` (``y ~ system + (1|query) + (1|system:seed)``)
would generalise over queries and seeds at once, but (1) statsmodels' ``MixedLM`` has one grouping factor,
so the crossed effects need its variance-component workaround (one group, ``vc_formula`` with a dummy
column per query and per run), which is slow at hundreds of queries and fragile in convergence; (2) its
Wald/likelihood-ratio p-values rest on asymptotics in the number of runs, which is what is small here (3-10
seeds), so its level at 6-20 runs is itself unknown; (3) the folds, which overlap, would need another term.
The permutation test is exact at any number of runs (its level is alpha by construction, which the
calibration benchmark confirms), needs no distributional assumption, and states its own floor. What it does
not do is generalise over queries: it is conditional on each fold's test queries, the mirror image of the
per-query test, which is conditional on the models. Report both.

Assumption: within a fold the runs of A and B are exchangeable under H0; runs of different folds may be
dependent in any way that does not link one run of fold *f* to one run of fold *g* (each fold's models are
trained anew). If one seed does tie a system's models across folds, average each seed over the folds and
test those per-seed values as one fold (fewer labelings, fewer assumptions).

References
----------
.. [1] C. Nadeau, Y. Bengio. "Inference for the generalization error." Machine Learning 52, 2003.
   doi:10.1023/A:1024068626366
.. [2] B. Phipson, G. K. Smyth. "Permutation p-values should never be zero." Stat. Appl. Genet. Mol.
   Biol. 9, 2010. doi:10.2202/1544-6115.1585
.. [3] R. A. Fisher. "The Design of Experiments." 1935 (the randomization test); E. J. G. Pitman,
   "Significance tests which may be applied to samples from any populations", JRSS Suppl. 4, 1937.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from ltr.errors import DataError, SchemaError
from ltr.stats._checks import _BATCH, _check_int, _check_resamples, _rng, _sample
from ltr.stats.corrections import _plain, per_comparison_alpha

__all__ = ["RunLevelResult", "RunLevelFloor", "run_level_test", "run_level_floor", "seeds_needed",
           "run_values", "run_level_table", "RUN_COLUMNS"]

#: The columns of a run-level frame: one row per (system, fold, seed) [and metric].
RUN_COLUMNS = ("system", "fold", "seed", "value")


class RunLevelResult(NamedTuple):
    """Outcome of :func:`run_level_test`.

    Attributes
    ----------
    statistic : float
        :math:`T`, the mean over folds of (mean of A's runs - mean of B's runs) in the fold.
    pvalue : float
        Two-sided p-value in [0, 1].
    n_runs_a, n_runs_b : int
        Runs of each system over all folds.
    n_folds : int
    n_labelings : int
        Distinct within-fold relabelings, :math:`\\prod_f \\binom{n_{a,f} + n_{b,f}}{n_{a,f}}`.
    p_floor : float
        The smallest p-value this test can return with these run counts and ``n_resamples``.
    method : str
        "exact" (every labeling) or "monte-carlo".
    """

    statistic: float
    pvalue: float
    n_runs_a: int
    n_runs_b: int
    n_folds: int
    n_labelings: int
    p_floor: float
    method: str


class RunLevelFloor(NamedTuple):
    """What a run-level design can resolve: its labelings, its smallest p-value and how it is computed."""

    n_labelings: int
    p_floor: float
    method: str


# --------------------------------------------------------------------------------------------- layout ---

class _Layout:
    """Runs ordered fold by fold, A's runs then B's within a fold; ``sizes[f] = (n_a, n_b)``."""

    def __init__(self, sizes):
        self.sizes = [(int(na), int(nb)) for na, nb in sizes]
        self.counts = [math.comb(na + nb, na) for na, nb in self.sizes]
        self.n_labelings = math.prod(self.counts)
        self.mirror = all(na == nb for na, nb in self.sizes)
        self.n_runs = sum(na + nb for na, nb in self.sizes)
        self.starts = np.cumsum([0] + [na + nb for na, nb in self.sizes])[:-1]
        self.n_folds = len(self.sizes)

    def observed_weights(self) -> np.ndarray:
        """w with :math:`T = w \\cdot v`: :math:`1/(F n_a)` on A's runs, :math:`-1/(F n_b)` on B's."""
        w = np.empty(self.n_runs)
        for (na, nb), s in zip(self.sizes, self.starts):
            w[s:s + na] = 1.0 / (self.n_folds * na)
            w[s + na:s + na + nb] = -1.0 / (self.n_folds * nb)
        return w

    def is_exact(self, n_resamples: int) -> bool:
        return self.n_labelings <= n_resamples

    def floor(self, n_resamples: int) -> float:
        if self.is_exact(n_resamples):
            return (1 + self.mirror) / self.n_labelings
        return 1.0 / (n_resamples + 1)

    def _fold_tables(self) -> list[np.ndarray]:
        """Per fold, every labeling's weights on the fold's runs: shape (C(n_a + n_b, n_a), n_a + n_b)."""
        tables = []
        for na, nb in self.sizes:
            m = na + nb
            table = np.full((math.comb(m, na), m), -1.0 / (self.n_folds * nb))
            for row, chosen in enumerate(itertools.combinations(range(m), na)):
                table[row, list(chosen)] = 1.0 / (self.n_folds * na)
            tables.append(table)
        return tables

    def weight_chunks(self, n_resamples: int, seed):
        """Yield the labelings' weight matrices (rows, n_runs) in chunks: every labeling when exact (the
        first is the observed one), else ``n_resamples`` random ones.

        Random labelings: per chunk one ``rng.random((rows, n_runs))`` (row-major, so the stream does not
        depend on the chunk size); within each fold the runs with the n_a smallest keys go to A.
        """
        if self.is_exact(n_resamples):
            tables = self._fold_tables()
            radices = np.array(self.counts, dtype=np.int64)
            for start in range(0, self.n_labelings, _BATCH * 4):
                codes = np.arange(start, min(start + _BATCH * 4, self.n_labelings), dtype=np.int64)
                parts = []
                # mixed-radix digits of the labeling's index: one combination per fold
                for f in range(self.n_folds - 1, -1, -1):
                    parts.append(tables[f][codes % radices[f]])
                    codes = codes // radices[f]
                yield np.concatenate(parts[::-1], axis=1)
            return
        rng = _rng(seed)
        for start in range(0, n_resamples, _BATCH):
            rows = min(_BATCH, n_resamples - start)
            keys = rng.random((rows, self.n_runs))
            w = np.empty((rows, self.n_runs))
            for (na, nb), s in zip(self.sizes, self.starts):
                block = keys[:, s:s + na + nb]
                rank = np.argsort(np.argsort(block, axis=1, kind="stable"), axis=1, kind="stable")
                w[:, s:s + na + nb] = np.where(rank < na, 1.0 / (self.n_folds * na), -1.0 / (self.n_folds * nb))
            yield w


def _tolerance(values: np.ndarray) -> float:
    """Two labelings whose statistics are equal in exact arithmetic can differ in their last bits; a
    statistic within this of the observed one counts as "as extreme" (as in the randomization test)."""
    return 64 * max(values.shape[0], 1) * np.finfo(float).eps * float(np.abs(values).max(initial=0.0))


def _pvalues(values: np.ndarray, layout: _Layout, n_resamples: int, seed) -> tuple[np.ndarray, np.ndarray, str]:
    """Statistics and two-sided p-values of each column of ``values`` (n_runs, k), the columns sharing the
    labelings (the power simulation tests k simulated experiments at once)."""
    w0 = layout.observed_weights()
    observed = w0 @ values
    tol = _tolerance(values)
    target = np.abs(observed) - tol
    count = np.zeros(values.shape[1], dtype=np.int64)
    for w in layout.weight_chunks(n_resamples, seed):
        count += np.count_nonzero(np.abs(w @ values) >= target, axis=0)
    if layout.is_exact(n_resamples):
        return observed, count / layout.n_labelings, "exact"
    return observed, (count + 1) / (n_resamples + 1), "monte-carlo"


# ------------------------------------------------------------------------------------------------ input ---

def _group_by_fold(values, folds, *, name: str, caller: str) -> dict:
    v = _sample(values, caller=caller, name=name, min_size=1, unit="run")
    if folds is None:
        return {0: v}
    labels = np.asarray(folds, dtype=object)
    if labels.ndim != 1 or labels.size != v.size:
        raise DataError(f"{caller}: folds_{name} must give one fold per run of {name}: {name} has {v.size} "
                        f"values but folds_{name} has shape {labels.shape}")
    out: dict = {}
    for label, x in zip(labels.tolist(), v):
        out.setdefault(label, []).append(x)
    return {label: np.asarray(x) for label, x in out.items()}


def _arrange(a, b, folds_a, folds_b, *, caller: str) -> tuple[np.ndarray, _Layout, list]:
    """Values ordered fold by fold (folds sorted by their printed form), A's runs then B's, each system's runs
    sorted by value: the order is canonical, so the answer does not depend on how runs were listed."""
    ga = _group_by_fold(a, folds_a, name="a", caller=caller)
    gb = _group_by_fold(b, folds_b, name="b", caller=caller)
    only_a = [f for f in ga if f not in gb]
    only_b = [f for f in gb if f not in ga]
    if only_a or only_b:
        side = (f"fold {only_a[0]!r} has runs of a but none of b" if only_a
                else f"fold {only_b[0]!r} has runs of b but none of a")
        raise DataError(f"{caller} compares runs within each fold, so every fold needs runs of both systems: "
                        f"{side}. Drop the fold or train the missing runs.")
    folds = sorted(ga, key=lambda f: (str(type(f)), str(f)))
    values = np.concatenate([np.concatenate([np.sort(ga[f]), np.sort(gb[f])]) for f in folds])
    layout = _Layout([(ga[f].size, gb[f].size) for f in folds])
    return values, layout, folds


# ------------------------------------------------------------------------------------------------- test ---

def run_level_test(a, b, *, folds_a=None, folds_b=None, n_resamples: int = 10_000, seed=0) -> RunLevelResult:
    r"""Permutation test of whole-run system labels within folds: is A better than B across training runs?

    See the module docstring for the design (folds as blocks, no pairing of seeds, why not a mixed model).

    .. math::
        T = \frac1F \sum_{f=1}^F \Big(\frac{1}{n_{a,f}}\sum_{r} a_{f,r} - \frac{1}{n_{b,f}}\sum_r b_{f,r}\Big),
        \qquad p = \frac{\#\{\ell : |T_\ell| \ge |T|\}}{N} \text{ (exact) or }
        \frac{1 + \#\{b : |T^*_b| \ge |T|\}}{1 + B} \text{ (Monte Carlo)}

    Parameters
    ----------
    a, b : array-like of shape (n_runs_a,), (n_runs_b,)
        Run-level values of each system: one per trained run (fold, seed), e.g. the mean of a metric over the
        fold's test queries. The systems need not have the same seeds or the same number of runs.
    folds_a, folds_b : array-like of shape (n_runs_a,), (n_runs_b,), optional
        The fold of each run (any labels); omitted: all runs are one fold. Every fold needs at least one run
        of each system.
    n_resamples : int, default=10_000
        The labelings are enumerated when there are at most ``n_resamples`` of them (``method="exact"``),
        otherwise ``n_resamples`` random labelings are drawn.
    seed : int or numpy.random.Generator, default=0
        Seed of the random labelings; same seed and values, same p-value.

    Returns
    -------
    RunLevelResult
        Identical runs give T = 0 and p = 1. ``p_floor`` above the level you test at means the test cannot
        reject, whatever the data: add seeds (:func:`seeds_needed`).

    Examples
    --------
    Three seeds per system in one fold: 20 labelings, floor 2/20.

    >>> r = run_level_test([0.71, 0.72, 0.73], [0.61, 0.62, 0.63])
    >>> r.n_labelings, r.pvalue, r.p_floor
    (20, 0.1, 0.1)
    """
    n_resamples = _check_resamples(n_resamples, "run_level_test")
    values, layout, _ = _arrange(a, b, folds_a, folds_b, caller="run_level_test")
    observed, p, method = _pvalues(values[:, None], layout, n_resamples, seed)
    n_a = sum(na for na, _ in layout.sizes)
    return RunLevelResult(float(observed[0]), float(min(p[0], 1.0)), n_a, layout.n_runs - n_a, layout.n_folds,
                          layout.n_labelings, layout.floor(n_resamples), method)


def _run_level_batch(a, b, *, folds_a=None, folds_b=None, n_resamples: int = 10_000, seed=0):
    """:func:`run_level_test` of each column of ``a`` (n_runs_a, k) against the same column of ``b``, the
    columns sharing one set of labelings (calibration runs thousands of simulated experiments this way):
    ``(statistics, pvalues, layout floor, method)``. Column j gets exactly ``run_level_test(a[:, j], b[:, j])``
    when the labelings are enumerated, and a test with the same labelings otherwise."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    columns, layout = [], None
    for j in range(a.shape[1]):
        values, layout, _ = _arrange(a[:, j], b[:, j], folds_a, folds_b, caller="run_level_test")
        columns.append(values)
    observed, p, method = _pvalues(np.stack(columns, axis=1), layout, n_resamples, seed)
    return observed, np.minimum(p, 1.0), layout.floor(n_resamples), method


def _per_fold(x, n_folds: int, name: str, caller: str) -> list[int]:
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        sizes = [int(x)] * n_folds
    else:
        try:
            sizes = [int(v) for v in x]
        except (TypeError, ValueError):
            raise DataError(f"{caller}: {name} must be an int or one int per fold, got {x!r}") from None
        if len(sizes) != n_folds:
            raise DataError(f"{caller}: {name} gives {len(sizes)} run counts but n_folds is {n_folds}")
    if any(s < 1 for s in sizes):
        raise DataError(f"{caller}: every fold needs at least one run of each system, got {name}={x!r}")
    return sizes


def run_level_floor(n_a, n_b, *, n_folds: int = 1, n_resamples: int = 10_000) -> RunLevelFloor:
    r"""The number of labelings and the smallest attainable p-value of a run-level design.

    Parameters
    ----------
    n_a, n_b : int or sequence of int
        Runs (seeds) of each system per fold: one int for every fold, or one per fold.
    n_folds : int, default=1
    n_resamples : int, default=10_000
        As in :func:`run_level_test`.

    Returns
    -------
    RunLevelFloor
        ``p_floor`` is :math:`(1 + [n_a = n_b \text{ in every fold}]) / N` when the N labelings are enumerated,
        :math:`1 / (B + 1)` by Monte Carlo.

    Examples
    --------
    >>> run_level_floor(3, 3)
    RunLevelFloor(n_labelings=20, p_floor=0.1, method='exact')
    >>> run_level_floor(3, 3, n_folds=5).method
    'monte-carlo'
    """
    n_folds = _check_int(n_folds, "n_folds", "run_level_floor")
    n_resamples = _check_resamples(n_resamples, "run_level_floor")
    layout = _Layout(zip(_per_fold(n_a, n_folds, "n_a", "run_level_floor"),
                         _per_fold(n_b, n_folds, "n_b", "run_level_floor")))
    return RunLevelFloor(layout.n_labelings, layout.floor(n_resamples),
                         "exact" if layout.is_exact(n_resamples) else "monte-carlo")


def seeds_needed(alpha: float = 0.05, *, n_folds: int = 1, family_size: int = 1, correction: str = "holm",
                 n_resamples: int = 10_000, max_seeds: int = 100) -> int:
    r"""The fewest seeds per system (the same in every fold) for which the run-level test *can* reject.

    The smallest p-value of the design (:func:`run_level_floor` with ``k`` runs of each system in each fold)
    must reach the per-comparison level of the family, :func:`~ltr.stats.corrections.per_comparison_alpha`
    (:math:`\alpha/m` for Holm and Bonferroni). Being able to reject is necessary, not sufficient: how large
    an effect the design detects is :func:`ltr.stats.power.mde_run_level`'s question.

    Parameters
    ----------
    alpha : float, default=0.05
    n_folds : int, default=1
    family_size : int, default=1
        Comparisons in the correction family.
    correction : str, default="holm"
    n_resamples : int, default=10_000
    max_seeds : int, default=100

    Returns
    -------
    int

    Examples
    --------
    >>> seeds_needed(0.05)                      # C(8, 4) = 70 labelings: floor 2/70 < 0.05
    4
    >>> seeds_needed(0.05, family_size=20)      # 0.0025: C(12, 6) = 924, floor 0.0022
    6
    >>> seeds_needed(0.05, n_folds=5, family_size=20)
    2
    """
    level = per_comparison_alpha(alpha, family_size, correction)
    n_folds = _check_int(n_folds, "n_folds", "seeds_needed")
    n_resamples = _check_resamples(n_resamples, "seeds_needed")
    max_seeds = _check_int(max_seeds, "max_seeds", "seeds_needed")
    if 1.0 / (n_resamples + 1) > level:
        raise DataError(f"seeds_needed: with n_resamples={n_resamples} the Monte-Carlo p-value cannot go below "
                        f"{1 / (n_resamples + 1):.2g}, above the per-comparison level {level:.3g}; raise "
                        f"n_resamples to at least {math.ceil(1 / level)}")
    for k in range(1, max_seeds + 1):
        if run_level_floor(k, k, n_folds=n_folds, n_resamples=n_resamples).p_floor <= level:
            return k
    raise DataError(f"seeds_needed: no design with at most {max_seeds} seeds per system reaches the level "
                    f"{level:.3g}; raise max_seeds")


# ----------------------------------------------------------------------------------------------- frames ---

def run_values(per_query, *, value: str = "value", runs=("system", "fold", "seed")):
    """Run-level values from per-query rows: the mean of each run's values over its queries.

    Parameters
    ----------
    per_query : pandas.DataFrame
        Long rows ``(system, fold, seed, qid, value)``, optionally with ``metric`` (``metrics.csv`` with its
        ``system`` column). A run is one ``runs`` key.
    value : str, default="value"
    runs : sequence of str, default=("system", "fold", "seed")
        The columns that identify a run.

    Returns
    -------
    pandas.DataFrame
        One row per run (and metric): the ``runs`` columns [and ``metric``], ``value`` (the mean over the
        run's queries) and ``n_queries``, in sorted key order.

    Raises
    ------
    DataError
        Non-finite values, a (run, query) listed twice, or runs of one fold (and metric) evaluated on different
        queries: their means would not be comparable; the message names the run and the counts.
    """
    import pandas as pd

    if not isinstance(per_query, pd.DataFrame):
        raise SchemaError(f"run_values needs a pandas DataFrame, got {type(per_query).__name__}")
    runs = list(runs)
    extra = ["metric"] if "metric" in per_query.columns else []
    needed = [*runs, "qid", value]
    missing = [c for c in needed if c not in per_query.columns]
    if missing:
        hint = (" (metrics.csv names a system by its objective and backend: add "
                "system = backend + '/' + objective)" if "system" in missing else "")
        raise SchemaError(f"run_values needs columns {missing} (found {list(per_query.columns)}){hint}")
    vals = pd.to_numeric(per_query[value], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(vals))
    if bad.size:
        raise DataError(f"run_values: column {value!r} holds {bad.size} non-finite or non-numeric values (first "
                        f"at row {_plain(per_query.index[bad[0]])!r}: {_plain(per_query[value].iloc[bad[0]])!r})")
    frame = per_query[[*extra, *runs, "qid"]].copy()
    frame[value] = vals
    keys = [*extra, *runs]
    dup = frame.duplicated([*keys, "qid"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise DataError(f"run_values: query {row['qid']!r} appears twice in run "
                        f"{dict(zip(keys, row[keys].tolist()))}; each run has one value per query")
    grouped = frame.groupby(keys, sort=True, dropna=False)
    out = grouped[value].agg(["mean", "size"]).reset_index().rename(columns={"mean": value, "size": "n_queries"})
    # every run of a fold (and metric) must cover the same queries: each (block, qid) is in every run of the block
    block = [*extra, "fold"] if "fold" in runs else extra
    runs_per_block = (out.groupby(block, sort=False, dropna=False).size() if block
                      else pd.Series([len(out)]))
    having = (frame.groupby([*block, "qid"], sort=False, dropna=False).size() if block
              else frame.groupby("qid", sort=False).size())
    expected = runs_per_block.reindex(having.index.droplevel("qid")).to_numpy() if block \
        else np.full(len(having), len(out))
    short = np.flatnonzero(having.to_numpy() < expected)
    if short.size:
        where = having.index[short[0]]
        qid = where[-1] if block else where
        key = dict(zip(block, where[:-1] if isinstance(where, tuple) else ()))
        sub = frame
        for col, val in key.items():
            sub = sub[sub[col] == val]
        with_q = sub[sub["qid"] == qid].groupby(keys, dropna=False).size().index
        lacking = [r for r in sub.groupby(keys, dropna=False).size().index if r not in set(with_q)]
        run = dict(zip(keys, lacking[0] if isinstance(lacking[0], tuple) else (lacking[0],)))
        raise DataError(f"run_values: run {run} has no value for query {qid!r}, which other runs of "
                        f"{key or 'the frame'} have ({short.size} such (query, block) gaps); runs compared "
                        f"within a fold must be evaluated on the same queries")
    return out


def run_level_table(runs, *, baseline: str, systems=None, value: str = "value", n_resamples: int = 10_000,
                    seed=0):
    """:func:`run_level_test` of every system against the baseline, for every metric: frame in, frame out.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run: ``system``, ``fold``, ``seed``, ``value`` [, ``metric``] (:func:`run_values`'s
        output). Without a ``fold`` column all runs are one fold.
    baseline : str
        The system the others are compared with.
    systems : sequence of str, optional
        The systems to compare (default: every other system, in order of appearance).
    value, n_resamples, seed
        As in :func:`run_level_test` (every comparison uses the same seed).

    Returns
    -------
    pandas.DataFrame
        One row per (metric, system): ``metric`` (if present), ``system``, ``baseline``, ``delta`` (the
        statistic T), ``p_raw`` (uncorrected: pass the frame to :func:`~ltr.stats.corrections.correct_family`),
        ``n_runs``, ``n_baseline_runs``, ``n_folds``, ``n_labelings``, ``p_floor``, ``method``.
    """
    import pandas as pd

    if not isinstance(runs, pd.DataFrame):
        raise SchemaError(f"run_level_table needs a pandas DataFrame, got {type(runs).__name__}")
    missing = [c for c in ("system", "seed", value) if c not in runs.columns]
    if missing:
        raise SchemaError(f"run_level_table needs columns {missing} (found {list(runs.columns)}); make run-level "
                          f"values from per-query rows with run_values()")
    has_metric = "metric" in runs.columns
    has_fold = "fold" in runs.columns
    key = [c for c in ("metric", "system", "fold", "seed") if c in runs.columns]
    dup = runs.duplicated(key)
    if dup.any():
        raise DataError(f"run_level_table: run {dict(zip(key, runs.loc[dup, key].iloc[0].tolist()))} is listed "
                        f"twice; one row per run")
    names = list(dict.fromkeys(runs["system"].tolist()))
    if baseline not in names:
        raise DataError(f"run_level_table: baseline {baseline!r} has no runs (systems: {names})")
    systems = [s for s in names if s != baseline] if systems is None else list(systems)
    unknown = [s for s in systems if s not in names]
    if unknown:
        raise DataError(f"run_level_table: systems {unknown} have no runs (systems: {names})")
    metrics = list(dict.fromkeys(runs["metric"].tolist())) if has_metric else [None]
    rows = []
    for metric in metrics:
        sub = runs[runs["metric"] == metric] if has_metric else runs
        base = sub[sub["system"] == baseline]
        for system in systems:
            other = sub[sub["system"] == system]
            if other.empty or base.empty:
                raise DataError(f"run_level_table: no runs of {system if other.empty else baseline!r}"
                                f"{f' for metric {metric!r}' if has_metric else ''}")
            res = run_level_test(other[value].to_numpy(), base[value].to_numpy(),
                                 folds_a=other["fold"].to_numpy() if has_fold else None,
                                 folds_b=base["fold"].to_numpy() if has_fold else None,
                                 n_resamples=n_resamples, seed=seed)
            row = {"metric": metric} if has_metric else {}
            row.update(system=system, baseline=baseline, delta=res.statistic, p_raw=res.pvalue,
                       n_runs=res.n_runs_a, n_baseline_runs=res.n_runs_b, n_folds=res.n_folds,
                       n_labelings=res.n_labelings if res.n_labelings < 2 ** 63 else float(res.n_labelings),
                       p_floor=res.p_floor, method=res.method)
            rows.append(row)
    return pd.DataFrame(rows)
