"""The package ltr.stats: its public names, typed errors for bad input, names built from the registries."""

from __future__ import annotations

import numpy as np
import pytest

from ltr import stats as S
from ltr.errors import DataError, UnknownNameError


def test_unknown_names_list_choices():
    """Messages are built from the registries."""
    with pytest.raises(UnknownNameError, match=r"Unknown statistical test 'ttest'. Choose from "
                                               r"\['paired_t', 'randomization', 'wilcoxon'\]"):
        S.get_test("ttest")
    with pytest.raises(UnknownNameError, match=r"Unknown multiple-testing correction 'bh'. Choose from "
                                               r"\['bonferroni', 'fdr_bh', 'fdr_by', 'holm', 'none'\]"):
        S.correct_pvalues([0.1], "bh")
    with pytest.raises(UnknownNameError, match="Unknown Wilcoxon zero_method 'zero'"):
        S.wilcoxon_test([1, 2], [2, 1], zero_method="zero")
    with pytest.raises(UnknownNameError, match="Unknown bootstrap method 'BCa'"):
        S.bootstrap_ci([1, 2, 3], method="BCa")


def test_bad_input_is_a_typed_error():
    """Bad input: unpaired lengths, NaN, too few values, bad p-values, bad parameters."""
    with pytest.raises(DataError, match="a has 3 values but b has 2"):
        S.paired_t_test([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match=r"1 non-finite values \(first at position 1: nan\)"):
        S.wilcoxon_test([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(DataError, match="at least 2 paired values, got 1"):
        S.randomization_test([1], [2])
    with pytest.raises(DataError, match=r"p-values in \[0, 1\]"):
        S.correct_pvalues([0.5, 1.5])
    with pytest.raises(DataError, match="'n_resamples' parameter of randomization_test must be an int >= 1"):
        S.randomization_test([1, 2], [2, 1], n_resamples=0)
    with pytest.raises(DataError, match=r"'confidence' parameter of bootstrap_ci must be a float in \(0, 1\)"):
        S.bootstrap_ci([1, 2], confidence=95)
    with pytest.raises(DataError, match="one-dimensional"):
        S.cohens_dz([[1, 2]], [[1, 2]])


PUBLIC_BEFORE_ISSUE_13 = ["TESTS", "CORRECTIONS", "CORRECTION_LABELS", "TEST_LABELS", "resolve_test", "describe_test",
                          "get_test", "get_correction", "correct_pvalues", "paired_test", "paired_t_test",
                          "wilcoxon_test", "randomization_test", "bootstrap_ci", "cohens_dz", "win_tie_loss",
                          "PairedTestResult", "ConfidenceInterval", "WinTieLoss", "_bootstrap_intervals"]


def test_every_public_name_imports_from_the_package():
    """The split into modules kept every name ltr.stats had (and report's private _bootstrap_intervals);
    __all__ lists only names that exist."""
    for name in PUBLIC_BEFORE_ISSUE_13:
        assert hasattr(S, name), name
    assert all(hasattr(S, name) for name in S.__all__)
    assert len(set(S.__all__)) == len(S.__all__)


def test_import_is_cheap():
    """A fresh interpreter: importing ltr.stats loads neither scipy nor numba nor statsmodels."""
    import subprocess
    import sys

    code = "import sys, ltr.stats; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('scipy', 'numba', 'statsmodels', 'matplotlib')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_test_has_a_scope():
    """Every registered per-query test, the Tukey HSD and the run-level test say what they generalise over."""
    assert set(S.SCOPES) == {*S.TESTS, "tukey_hsd", "run_level"}
    assert S.SCOPES["paired_t"] == "on these queries with these trained models"
    assert S.SCOPES["run_level"].startswith("across training seeds and folds")
