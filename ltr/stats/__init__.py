"""Statistics for comparing rankers: per-query and run-level tests, all-pairs Tukey HSD, power, equivalence,
bootstrap intervals, effect sizes, multiple-testing corrections.

The modules follow the questions a comparison asks:

- :mod:`ltr.stats.paired`: is A better than B *on these queries with these trained models*? (paired t,
  Wilcoxon, Fisher randomization; registry :data:`TESTS`)
- :mod:`ltr.stats.runlevel`: is A better than B *across training seeds and folds*? (a permutation test of
  whole runs within folds; its floor and the seeds it needs)
- :mod:`ltr.stats.tukey`: which systems differ at all? (the all-pairs randomised Tukey HSD)
- :mod:`ltr.stats.power`: how large a difference could the comparison have detected? (minimal detectable
  effects)
- :mod:`ltr.stats.equivalence`: are A and B equivalent within a declared margin? (paired TOST)
- :mod:`ltr.stats.bootstrap`, :mod:`ltr.stats.effect`: by how much? (bootstrap CIs, Cohen's d_z, win/tie/loss)
- :mod:`ltr.stats.corrections`: over which family? (Holm, Bonferroni, BH, BY; registry :data:`CORRECTIONS`;
  families declared on a frame)
- :mod:`ltr.stats.simulate`, :mod:`ltr.stats.calibration`: simulated experiments, and the rejection rates of
  A/A pairs and of injected effects against their binomial intervals, to calibrate all of the above.

Importing :mod:`ltr.stats` is cheap: scipy, pandas' heavier parts and numba load inside the functions that
use them.
"""

from __future__ import annotations

from ltr.stats.bootstrap import ConfidenceInterval, bootstrap_ci
from ltr.stats.calibration import RateCheck, calibrate_pairs, rejection_rate, summarize_calibration
from ltr.stats.bootstrap import _bootstrap_intervals as _bootstrap_intervals  # used by ltr.report
from ltr.stats.corrections import (CORRECTION_LABELS, CORRECTIONS, correct_family, correct_pvalues,
                                   get_correction, per_comparison_alpha)
from ltr.stats.effect import WinTieLoss, cohens_dz, win_tie_loss
from ltr.stats.equivalence import EquivalenceResult, tost_paired
from ltr.stats.paired import (TEST_LABELS, TESTS, PairedTestResult, describe_test, get_test, paired_t_test,
                              paired_test, randomization_test, resolve_test, wilcoxon_test)
from ltr.stats.power import DetectableEffect, mde_paired, mde_run_level, mde_tukey
from ltr.stats.runlevel import (RunLevelFloor, RunLevelResult, run_level_floor, run_level_table, run_level_test,
                                run_values, seeds_needed)
from ltr.stats.scope import QUERY_SCOPE, RUN_SCOPE, SCOPES
from ltr.stats.simulate import seed_averaged, simulate_experiment
from ltr.stats.tukey import tukey_hsd, tukey_matrix

__all__ = [
    "PairedTestResult", "ConfidenceInterval", "WinTieLoss",
    "paired_t_test", "wilcoxon_test", "randomization_test", "bootstrap_ci", "cohens_dz", "win_tie_loss",
    "correct_pvalues", "paired_test", "get_test", "resolve_test", "describe_test", "get_correction", "TESTS",
    "CORRECTIONS", "TEST_LABELS", "CORRECTION_LABELS",
    # issue 13
    "correct_family", "per_comparison_alpha",
    "RunLevelResult", "RunLevelFloor", "run_level_test", "run_level_floor", "seeds_needed", "run_values",
    "run_level_table",
    "tukey_hsd", "tukey_matrix",
    "DetectableEffect", "mde_paired", "mde_run_level", "mde_tukey",
    "EquivalenceResult", "tost_paired",
    "simulate_experiment", "seed_averaged",
    "RateCheck", "rejection_rate", "calibrate_pairs", "summarize_calibration",
    "SCOPES", "QUERY_SCOPE", "RUN_SCOPE",
]
