"""Tests of ltr.stats.runlevel: the permutation test of whole runs within folds, its floor, seeds_needed,
run_values and run_level_table.

Oracles: a brute-force enumeration of every within-fold relabeling in exact rational arithmetic (a slow loop
written here; also as a derandomized hypothesis property over small designs), scipy.stats.permutation_test(permutation_type='independent') for one fold, math.comb for the
numbers of labelings, and pandas groupby loops for the frames.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from ltr import stats as S
from ltr.errors import DataError, SchemaError
from ltr.stats.runlevel import _run_level_batch


def _design(sizes, *, seed=0, hundredths=False):
    """Run values of A and B with their folds: ``sizes`` is one (n_a, n_b) per fold."""
    rng = np.random.default_rng(seed)
    a, b, fa, fb = [], [], [], []
    for f, (na, nb) in enumerate(sizes):
        va, vb = rng.normal(0.6, 0.02, na), rng.normal(0.59, 0.02, nb)
        if hundredths:                         # coarse values: many exactly tied statistics
            va, vb = np.round(va, 2), np.round(vb, 2)
        a += list(va)
        b += list(vb)
        fa += [f"fold{f}"] * na
        fb += [f"fold{f}"] * nb
    return np.array(a), np.array(b), np.array(fa), np.array(fb)


def _brute_force_p(a, b, fa, fb):
    """Every within-fold relabeling, T in exact fractions (values read as decimals): the count of |T_l| >= |T|."""
    folds = sorted(set(fa))
    blocks = []
    for f in folds:
        runs = [Fraction(str(v)) for v in a[fa == f]] + [Fraction(str(v)) for v in b[fb == f]]
        blocks.append((runs, int(np.sum(fa == f))))

    def statistic(choice):
        total = Fraction(0)
        for (runs, na), chosen in zip(blocks, choice):
            in_a = [runs[i] for i in chosen]
            in_b = [runs[i] for i in range(len(runs)) if i not in chosen]
            total += sum(in_a) / len(in_a) - sum(in_b) / len(in_b)
        return total / len(blocks)

    observed = statistic([tuple(range(na)) for _, na in blocks])
    options = [list(itertools.combinations(range(len(runs)), na)) for runs, na in blocks]
    hits = total = 0
    for choice in itertools.product(*options):
        total += 1
        hits += abs(statistic(choice)) >= abs(observed)
    return float(observed), hits / total, total


@pytest.mark.parametrize("sizes", [[(3, 3)], [(2, 3), (3, 2)], [(1, 2), (2, 2), (3, 1)], [(4, 2)], [(1, 1)] * 5])
@pytest.mark.parametrize("hundredths", [False, True])
def test_exact_matches_brute_force_enumeration(sizes, hundredths):
    """Oracle: every relabeling enumerated in a slow loop, with exact rational arithmetic (so that tied
    statistics, frequent with values in hundredths, tie exactly)."""
    a, b, fa, fb = _design(sizes, seed=len(sizes), hundredths=hundredths)
    ours = S.run_level_test(a, b, folds_a=fa, folds_b=fb)
    statistic, p, total = _brute_force_p(a, b, fa, fb)
    assert ours.method == "exact"
    assert ours.n_labelings == total == math.prod(math.comb(na + nb, na) for na, nb in sizes)
    assert ours.statistic == pytest.approx(statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(p, abs=1e-12)
    assert (ours.n_runs_a, ours.n_runs_b, ours.n_folds) == (len(a), len(b), len(sizes))


@pytest.mark.parametrize("k", [3, 4, 6])
def test_one_fold_matches_scipy_independent_permutation_test(k):
    """Oracle: scipy.stats.permutation_test(permutation_type='independent'), exact (all C(2k, k) partitions);
    with n_a = n_b the null is symmetric, so scipy's doubled smaller tail equals our |T*| >= |T| count."""
    rng = np.random.default_rng(k)
    a, b = rng.normal(0.61, 0.02, k), rng.normal(0.6, 0.02, k)
    ref = ss.permutation_test((a, b), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                              permutation_type="independent", n_resamples=10_000, vectorized=True)
    ours = S.run_level_test(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, abs=1e-12)


def test_monte_carlo_close_to_exact_deterministic_and_never_zero():
    """Oracle: the exact enumeration of the same design (C(10,5)^2 = 63,504 labelings); Monte Carlo with 20,000
    is within 4 standard errors, same seed same p, another seed another p; p >= 1/(B+1)."""
    a, b, fa, fb = _design([(5, 5), (5, 5)], seed=3)
    exact = S.run_level_test(a, b, folds_a=fa, folds_b=fb, n_resamples=70_000)
    mc = S.run_level_test(a, b, folds_a=fa, folds_b=fb, n_resamples=20_000, seed=1)
    assert exact.method == "exact" and mc.method == "monte-carlo"
    se = np.sqrt(exact.pvalue * (1 - exact.pvalue) / 20_000)
    assert abs(mc.pvalue - exact.pvalue) < 4 * se + 1e-4
    assert S.run_level_test(a, b, folds_a=fa, folds_b=fb, n_resamples=20_000, seed=1) == mc
    assert S.run_level_test(a, b, folds_a=fa, folds_b=fb, n_resamples=20_000, seed=2) != mc
    far = S.run_level_test(a + 1, b, folds_a=fa, folds_b=fb, n_resamples=999)
    assert far.pvalue == far.p_floor == pytest.approx(1 / 1000)


def test_seeds_are_not_paired_and_run_order_does_not_matter():
    """Definition (the pairing rule): the test sees each system's runs of a fold as a set. Reordering the
    runs, the folds, or renaming the seeds (in the frame) leaves the answer, exact or Monte Carlo, unchanged."""
    a, b, fa, fb = _design([(3, 4), (3, 3), (2, 3)], seed=5)
    rng = np.random.default_rng(0)
    ia, ib = rng.permutation(a.size), rng.permutation(b.size)
    for n_resamples in (10_000, 500):
        first = S.run_level_test(a, b, folds_a=fa, folds_b=fb, n_resamples=n_resamples)
        again = S.run_level_test(a[ia], b[ib], folds_a=fa[ia], folds_b=fb[ib], n_resamples=n_resamples)
        assert first == again
    runs = pd.DataFrame({"system": ["A"] * a.size + ["B"] * b.size, "fold": list(fa) + list(fb),
                         "seed": list(range(a.size)) + list(range(b.size)), "value": list(a) + list(b)})
    renamed = runs.copy()
    renamed.loc[renamed.system == "B", "seed"] = rng.permutation(np.arange(100, 100 + b.size))
    t1 = S.run_level_table(runs, baseline="B")
    t2 = S.run_level_table(renamed.sample(frac=1.0, random_state=1), baseline="B")
    pd.testing.assert_frame_equal(t1, t2)


def test_floor_three_seeds_one_fold_cannot_reject():
    """Definition: 3 + 3 runs in one fold have C(6, 3) = 20 labelings; the most extreme data reach only 2/20
    (the observed and the mirror labeling), so no comparison can be significant at 0.05 / 20."""
    r = S.run_level_test([0.71, 0.72, 0.73], [0.61, 0.62, 0.63])
    assert (r.n_labelings, r.p_floor, r.pvalue) == (20, 0.1, 0.1)
    assert S.run_level_floor(3, 3) == S.RunLevelFloor(20, 0.1, "exact")
    assert S.run_level_floor(3, 3).p_floor > S.per_comparison_alpha(0.05, 20, "holm")
    # unequal sizes: no mirror labeling, the floor is 1/N and the most extreme data attain it
    r = S.run_level_test([0.9, 0.91, 0.92], [0.1, 0.2])
    assert r.n_labelings == 10 and r.p_floor == pytest.approx(0.1) and r.pvalue == pytest.approx(0.1)
    assert S.run_level_floor([2, 3], [2, 3], n_folds=2) == S.RunLevelFloor(6 * 20, 2 / 120, "exact")
    assert S.run_level_floor(3, 3, n_folds=5) == S.RunLevelFloor(20 ** 5, 1 / 10_001, "monte-carlo")


@pytest.mark.parametrize("alpha", [0.05, 0.01])
@pytest.mark.parametrize("family_size", [1, 5, 20, 45])
@pytest.mark.parametrize("n_folds", [1, 3, 5])
def test_seeds_needed_is_the_smallest_design_whose_floor_reaches_the_level(alpha, family_size, n_folds):
    """Oracle: the floor computed here from math.comb: 2 / C(2k, k)^F when enumerated, 1/(B+1) otherwise,
    against alpha / m; k is the first that reaches it."""
    B = 10_000
    level = alpha / family_size

    def floor(k):
        n = math.comb(2 * k, k) ** n_folds
        return 2 / n if n <= B else 1 / (B + 1)

    k = S.seeds_needed(alpha, n_folds=n_folds, family_size=family_size, correction="holm", n_resamples=B)
    assert floor(k) <= level
    assert k == 1 or floor(k - 1) > level


def test_seeds_needed_refuses_impossible_levels():
    """The Monte-Carlo floor 1/(B+1) must reach the level; the message says which n_resamples does."""
    with pytest.raises(DataError, match="raise n_resamples to at least 2000"):
        S.seeds_needed(0.05, family_size=100, n_resamples=999)
    with pytest.raises(DataError, match="raise max_seeds"):
        S.seeds_needed(0.05, family_size=20, max_seeds=3)


def test_batch_equals_one_test_per_column():
    """Invariant: the internal batch (many simulated experiments sharing labelings) gives each column exactly
    run_level_test of that column when enumerated, and the same labelings' test by Monte Carlo."""
    rng = np.random.default_rng(4)
    fa = fb = np.repeat(["x", "y"], 3)
    a, b = rng.normal(0, 1, (6, 7)), rng.normal(0, 1, (6, 7))
    stats, p, floor, method = _run_level_batch(a, b, folds_a=fa, folds_b=fb)
    assert method == "exact" and floor == 2 / 400
    for j in range(7):
        one = S.run_level_test(a[:, j], b[:, j], folds_a=fa, folds_b=fb)
        assert (stats[j], p[j]) == (pytest.approx(one.statistic, abs=1e-15), pytest.approx(one.pvalue, abs=1e-15))
    _, p_mc, _, method = _run_level_batch(a, b, folds_a=fa, folds_b=fb, n_resamples=300, seed=2)
    assert method == "monte-carlo"
    np.testing.assert_allclose(p_mc, [S.run_level_test(a[:, j], b[:, j], folds_a=fa, folds_b=fb, n_resamples=300,
                                                       seed=2).pvalue for j in range(7)])


def test_identical_runs_give_p_one():
    """Convention shared with the paired tests: no difference at all, p = 1 and T = 0."""
    r = S.run_level_test([0.5] * 4, [0.5] * 4)
    assert r.pvalue == 1.0 and r.statistic == 0.0


def _per_query_frame():
    frame = S.simulate_experiment(n_queries=30, n_folds=3, n_systems=3, seeds_per_system=2, seed=1)
    frame["metric"] = "nDCG@10"
    other = frame.copy()
    other["metric"] = "AP"
    other["value"] = other["value"] ** 2
    return pd.concat([frame, other], ignore_index=True)


def test_run_values_is_the_mean_over_each_runs_queries():
    """Oracle: a dict loop over the rows."""
    frame = _per_query_frame()
    ours = S.run_values(frame)
    sums: dict = {}
    for row in frame.itertuples(index=False):
        key = (row.metric, row.system, row.fold, row.seed)
        total, count = sums.get(key, (0.0, 0))
        sums[key] = (total + row.value, count + 1)
    assert len(ours) == len(sums)
    for row in ours.itertuples(index=False):
        total, count = sums[(row.metric, row.system, row.fold, row.seed)]
        assert row.value == pytest.approx(total / count, abs=1e-12) and row.n_queries == count
    assert list(ours.columns) == ["metric", "system", "fold", "seed", "value", "n_queries"]


def test_run_level_table_equals_run_level_test_per_system_and_metric():
    """Oracle: run_level_test called on each (metric, system) by hand."""
    runs = S.run_values(_per_query_frame())
    table = S.run_level_table(runs, baseline="s0", n_resamples=2_000, seed=3)
    assert list(table[["metric", "system"]].itertuples(index=False, name=None)) == [
        ("AP", "s1"), ("AP", "s2"), ("nDCG@10", "s1"), ("nDCG@10", "s2")]
    for row in table.itertuples(index=False):
        sub = runs[runs.metric == row.metric]
        a, b = sub[sub.system == row.system], sub[sub.system == "s0"]
        ref = S.run_level_test(a.value, b.value, folds_a=a.fold, folds_b=b.fold, n_resamples=2_000, seed=3)
        assert (row.delta, row.p_raw, row.n_labelings, row.p_floor, row.method) == (
            ref.statistic, ref.pvalue, ref.n_labelings, ref.p_floor, ref.method)
    corrected = S.correct_family(table, family="metric", method="holm")
    assert corrected["family_size"].tolist() == [2, 2, 2, 2]


def test_bad_input_is_a_typed_error():
    """Bad input names what arrived and how to fix it."""
    with pytest.raises(DataError, match="fold 'f2' has runs of a but none of b"):
        S.run_level_test([1, 2, 3], [1, 2], folds_a=["f1", "f1", "f2"], folds_b=["f1", "f1"])
    with pytest.raises(DataError, match="folds_a must give one fold per run of a: a has 3 values"):
        S.run_level_test([1, 2, 3], [1, 2], folds_a=["f1"])
    with pytest.raises(DataError, match=r"b holds 1 non-finite values \(first at position 1: nan\); per-run"):
        S.run_level_test([1, 2], [1, np.nan])
    with pytest.raises(DataError, match=r"needs at least 1 values in a \(one per run\), got 0"):
        S.run_level_test([], [1, 2])
    with pytest.raises(DataError, match="'n_resamples' parameter of run_level_test must be an int >= 1"):
        S.run_level_test([1, 2], [1, 2], n_resamples=0)
    frame = _per_query_frame()
    with pytest.raises(SchemaError, match=r"run_values needs columns \['system'\].*add system = backend"):
        S.run_values(frame.drop(columns="system"))
    with pytest.raises(DataError, match="query 'q0000' appears twice in run"):
        S.run_values(pd.concat([frame, frame.iloc[:1]]))
    holed = frame.drop(index=frame.index[(frame.system == "s1") & (frame.seed == 2) & (frame.qid == "q0003")
                                         & (frame.metric == "AP")])
    with pytest.raises(DataError, match=r"run \{'metric': 'AP', 'system': 's1', 'fold': 'fold1', 'seed': 2\} has "
                                        r"no value for query 'q0003'"):
        S.run_values(holed)
    runs = S.run_values(frame)
    with pytest.raises(DataError, match=r"baseline 'x' has no runs \(systems: \['s0', 's1', 's2'\]\)"):
        S.run_level_table(runs, baseline="x")
    with pytest.raises(DataError, match="is listed twice"):
        S.run_level_table(pd.concat([runs, runs.iloc[:1]]), baseline="s0")

_values = st.integers(0, 20).map(lambda v: v / 20)                  # coarse: ties between statistics
_fold = st.tuples(st.lists(_values, min_size=1, max_size=3), st.lists(_values, min_size=1, max_size=3))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_fold, min_size=1, max_size=3))
def test_property_exact_p_equals_brute_force(folds):
    """Property (hypothesis, derandomized): on any small design with tied values, the exact p-value equals the
    brute-force enumeration in rational arithmetic, and the floor never exceeds it."""
    a = np.array([v for va, _ in folds for v in va])
    b = np.array([v for _, vb in folds for v in vb])
    fa = np.array([f"f{i}" for i, (va, _) in enumerate(folds) for _ in va])
    fb = np.array([f"f{i}" for i, (_, vb) in enumerate(folds) for _ in vb])
    ours = S.run_level_test(a, b, folds_a=fa, folds_b=fb)
    statistic, p, total = _brute_force_p(a, b, fa, fb)
    assert ours.n_labelings == total
    assert ours.pvalue == pytest.approx(p, abs=1e-12)
    assert ours.statistic == pytest.approx(statistic, abs=1e-12)
    assert ours.p_floor <= ours.pvalue + 1e-12
