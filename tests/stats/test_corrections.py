"""Tests of ltr.stats.corrections. Oracle: statsmodels.stats.multitest.multipletests."""

from __future__ import annotations

import numpy as np
import pytest

from ltr import stats as S

multitest = pytest.importorskip("statsmodels.stats.multitest")


@pytest.fixture(autouse=True)
def _no_gc_in_multipletests(monkeypatch):
    """statsmodels' multipletests calls gc.collect() on every call (a quarter of a second in a large test
    process); collecting garbage does not change its values, so the oracle runs without it here."""
    monkeypatch.setattr("gc.collect", lambda *args: 0)


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh", "fdr_by"])
@pytest.mark.parametrize("seed", range(4))
def test_corrections_match_statsmodels(method, seed):
    """Oracle: statsmodels.stats.multitest.multipletests(p, method=method)[1]."""
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.random(7) ** 3, [0.01, 0.01, 1.0, 0.0]])   # ties and the edges
    rng.shuffle(p)
    ours = S.correct_pvalues(p, method)
    ref = multitest.multipletests(p, method=method)[1]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_correction_none_keeps_and_nan_is_outside_the_family():
    """Definition: 'none' returns the input; NaNs stay NaN and do not count in m (statsmodels on the rest)."""
    p = np.array([0.01, np.nan, 0.04, 0.03])
    np.testing.assert_array_equal(S.correct_pvalues(p, "none"), p)
    out = S.correct_pvalues(p, "holm")
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2, 3]], multitest.multipletests(p[[0, 2, 3]], method="holm")[1])


def test_correct_family_matches_correct_pvalues_per_family():
    """Oracle: statsmodels' multipletests run on each family's rows by hand; NaN rows stay NaN, outside m."""
    import pandas as pd

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"system": np.tile(["a", "b", "c", "base"], 3),
                          "metric": np.repeat(["nDCG@10", "AP", "P@10"], 4),
                          "p_raw": rng.random(12) ** 2})
    frame.loc[frame.system == "base", "p_raw"] = np.nan
    frame = frame.sample(frac=1.0, random_state=0)                  # any row order
    for family in (None, "metric", ["metric"], ["system", "metric"]):
        out = S.correct_family(frame, family=family, method="holm")
        assert out.index.equals(frame.index) and list(out.columns) == [*frame.columns, "p_value", "family_size"]
        keys = [] if family is None else [family] if isinstance(family, str) else family
        groups = [g.index for _, g in frame.groupby(keys)] if keys else [frame.index]
        for idx in groups:
            p = frame.loc[idx, "p_raw"]
            ok = p.notna()
            ref = multitest.multipletests(p[ok], method="holm")[1] if ok.any() else []
            np.testing.assert_allclose(out.loc[p.index[ok], "p_value"], ref, atol=1e-12)
            assert out.loc[p.index[~ok], "p_value"].isna().all()
            assert (out.loc[idx, "family_size"] == int(ok.sum())).all()


def test_correct_family_keeps_missing_keys_and_refuses_bad_input():
    """A NaN family key is its own family (never dropped); bad columns and values are typed errors."""
    import pandas as pd

    from ltr.errors import DataError, SchemaError

    frame = pd.DataFrame({"metric": ["AP", None, None], "p_raw": [0.01, 0.02, 0.03]})
    out = S.correct_family(frame, family="metric", method="bonferroni")
    np.testing.assert_allclose(out.p_value, [0.01, 0.04, 0.06])
    with pytest.raises(SchemaError, match=r"correct_family needs columns \['family'\]"):
        S.correct_family(frame, family="family")
    with pytest.raises(DataError, match=r"column 'p_raw' holds 1 values that are not p-values in \[0, 1\] "
                                        r"\(first at row 1: 1.5\)"):
        S.correct_family(frame.assign(p_raw=[0.1, 1.5, 0.2]))


@pytest.mark.parametrize("m", [1, 2, 7, 45])
def test_per_comparison_alpha(m):
    """Oracle: statsmodels' multipletests rejects a family's smallest p-value just below the level and not
    just above it (the other m - 1 p-values at 1)."""
    assert S.per_comparison_alpha(0.05, m, "none") == 0.05
    for method in ("bonferroni", "holm", "fdr_bh", "fdr_by"):
        level = S.per_comparison_alpha(0.05, m, method)

        def rejects(p, method=method):
            return multitest.multipletests([p] + [1.0] * (m - 1), alpha=0.05, method=method)[0][0]

        assert rejects(level * (1 - 1e-9)) and not rejects(level * (1 + 1e-6))
