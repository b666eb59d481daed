"""Statistics for comparing rankers: paired per-query tests, run-level tests, bootstrap intervals, effect
sizes, multiple-testing corrections.

The modules follow the questions a comparison asks:

- :mod:`ltr.stats.paired`: is A better than B *on these queries with these trained models*? (paired t,
  Wilcoxon, Fisher randomization; registry :data:`TESTS`)
- :mod:`ltr.stats.bootstrap`, :mod:`ltr.stats.effect`: by how much? (bootstrap CIs, Cohen's d_z, win/tie/loss)
- :mod:`ltr.stats.corrections`: over which family? (Holm, Bonferroni, BH, BY; registry :data:`CORRECTIONS`)

Importing :mod:`ltr.stats` is cheap: scipy loads inside the functions that use it.
"""

from __future__ import annotations

from ltr.stats.bootstrap import ConfidenceInterval, bootstrap_ci
from ltr.stats.bootstrap import _bootstrap_intervals as _bootstrap_intervals  # used by ltr.report
from ltr.stats.corrections import CORRECTION_LABELS, CORRECTIONS, correct_pvalues, get_correction
from ltr.stats.effect import WinTieLoss, cohens_dz, win_tie_loss
from ltr.stats.paired import (TEST_LABELS, TESTS, PairedTestResult, describe_test, get_test, paired_t_test,
                              paired_test, randomization_test, resolve_test, wilcoxon_test)

__all__ = [
    "PairedTestResult", "ConfidenceInterval", "WinTieLoss",
    "paired_t_test", "wilcoxon_test", "randomization_test", "bootstrap_ci", "cohens_dz", "win_tie_loss",
    "correct_pvalues", "paired_test", "get_test", "resolve_test", "describe_test", "get_correction", "TESTS",
    "CORRECTIONS", "TEST_LABELS", "CORRECTION_LABELS",
]
