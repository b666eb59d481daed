"""What each test generalises over: the words a report's headline uses for its level of inference.

A per-query test (every test of :data:`ltr.stats.TESTS`, and the Tukey HSD) treats the queries as the random
sample and the trained models as fixed; the run-level test treats the training runs as the random sample and
the folds' test queries as fixed. Neither generalises over both.
"""

from __future__ import annotations

from ltr.stats.paired import TESTS

__all__ = ["QUERY_SCOPE", "RUN_SCOPE", "SCOPES"]

#: The scope of the per-query tests.
QUERY_SCOPE = "on these queries with these trained models"
#: The scope of the run-level test.
RUN_SCOPE = "across training seeds and folds, on these test queries"

#: Test name -> the scope of its conclusion (built from the test registry, plus the Tukey HSD and run level).
SCOPES = {**dict.fromkeys(TESTS, QUERY_SCOPE), "tukey_hsd": QUERY_SCOPE, "run_level": RUN_SCOPE}
