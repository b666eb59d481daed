"""Tests of ltr.stats.simulate: the simulated experiments have the structure the module docstring states.

Oracles: the model's own moments (the variance of run means and of per-query differences, computed from the
formulas by hand), and the difference of two experiments drawn with the same seed (the injected effect
exactly, on exactly the stated queries).
"""

from __future__ import annotations

import numpy as np
import pytest

from ltr import stats as S
from ltr.errors import DataError


def test_layout_folds_seeds_and_ids():
    """Disjoint fold queries, every run on its fold's queries, disjoint seeds per system, sorted rows."""
    frame = S.simulate_experiment(n_queries=23, n_folds=4, n_systems=3, seeds_per_system=2, seed=0)
    assert list(frame.columns) == ["fold", "system", "seed", "qid", "value"]
    assert len(frame) == 23 * 3 * 2
    per_fold = frame.groupby("fold")["qid"].unique()
    assert sum(len(q) for q in per_fold) == 23 and len(set(np.concatenate(per_fold.to_list()))) == 23
    assert sorted(len(q) for q in per_fold) == [5, 6, 6, 6]
    seeds = frame.groupby("system")["seed"].unique()
    assert [list(s) for s in seeds] == [[0, 1], [2, 3], [4, 5]]
    assert frame.equals(frame.sort_values(["fold", "system", "seed", "qid"], ignore_index=True))
    assert frame.equals(S.simulate_experiment(n_queries=23, n_folds=4, n_systems=3, seeds_per_system=2, seed=0))


@pytest.mark.parametrize("fraction", [0.0, 0.3, 1.0])
def test_injected_effect_is_exactly_the_stated_shift(fraction):
    """Oracle: the same seed without the effect; the difference is the shift on the effect queries of the
    effect system, in every run, and 0 elsewhere; round(fraction * fold size) queries per fold."""
    kw = dict(n_queries=40, n_folds=2, n_systems=2, seeds_per_system=3, seed=5, effect_fraction=fraction)
    null = S.simulate_experiment(**kw)
    shifted = S.simulate_experiment(effect=0.07, effect_system=1, **kw)
    chosen = set(shifted.attrs["effect_qids"])
    assert len(chosen) == 2 * round(fraction * 20)
    expected = np.where((shifted.system == "s1") & shifted.qid.isin(chosen), 0.07, 0.0)
    np.testing.assert_allclose(shifted.value - null.value, expected, atol=1e-12)
    per_system = S.simulate_experiment(effect=[0.0, 0.07], **kw)
    np.testing.assert_allclose(per_system.value, shifted.value, atol=0)


def test_variance_components():
    """Oracle: the model's moments. Within a (fold, system) the run means vary with variance
    run_sd^2 + run_query_sd^2 / n_f; the per-query difference of two systems' runs has variance
    2 (system_query_sd^2 + run_query_sd^2) around the runs' shifts."""
    frame = S.simulate_experiment(n_queries=200, n_folds=2, n_systems=2, seeds_per_system=200, run_sd=0.03,
                                  run_query_sd=0.1, system_query_sd=0.05, seed=1)
    runs = S.run_values(frame)
    within = runs.groupby(["fold", "system"])["value"].var(ddof=1).mean()
    assert within == pytest.approx(0.03 ** 2 + 0.1 ** 2 / 100, rel=0.1)
    one = frame[frame.seed.isin([0, 200])].pivot(index="qid", columns="system", values="value")
    d = one["s0"] - one["s1"]
    folds = frame.drop_duplicates("qid").set_index("qid")["fold"]
    d = d - d.groupby(folds).transform("mean")                       # remove the two runs' shifts
    assert d.var() == pytest.approx(2 * (0.05 ** 2 + 0.1 ** 2), rel=0.2)


def test_seed_averaged_is_the_mean_over_each_systems_runs():
    """Oracle: numpy mean over the seeds of each (system, query)."""
    frame = S.simulate_experiment(n_queries=10, n_folds=2, seeds_per_system=3, seed=2)
    avg = S.seed_averaged(frame)
    cube = frame.sort_values(["system", "qid", "seed"]).value.to_numpy().reshape(2, 10, 3)
    np.testing.assert_allclose(avg.value.to_numpy(), cube.mean(axis=2).ravel(), atol=1e-15)


def test_bad_parameters_are_typed_errors():
    """Parameters are checked."""
    with pytest.raises(DataError, match="'run_sd' parameter of simulate_experiment must be a float >= 0"):
        S.simulate_experiment(run_sd=-1)
    with pytest.raises(DataError, match="3 queries cannot fill 5 folds"):
        S.simulate_experiment(n_queries=3)
    with pytest.raises(DataError, match=r"one float per system \(2\). Got shape \(3,\)"):
        S.simulate_experiment(effect=[0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="'effect_fraction' parameter"):
        S.simulate_experiment(effect_fraction=1.5)
