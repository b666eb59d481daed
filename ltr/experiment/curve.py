"""The report's nDCG@k curve (nDCG at :data:`CURVE_CUTOFFS`, trec_eval's conventions), saved by each cell.

Each cell computes it from the run and qrels files it has just written and saves it as :data:`CURVE_FILE`, so
that a report reads small files instead of parsing every run file again (folders written before ltr saved
it are recomputed from their run files: :func:`ltr.experiment.reporting.metric_at_k`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

CURVE_FILE = "ndcg_at_k.csv"
CURVE_CUTOFFS = (1, 3, 5, 10, 20)
CURVE_METRICS = tuple(f"nDCG@{k}" for k in CURVE_CUTOFFS)


def curve_values(qrels_path: Path, run_path: Path) -> pd.DataFrame:
    """``qid, metric, value`` of nDCG@k at :data:`CURVE_CUTOFFS` for a saved run and its fold's saved qrels
    (read from the files, so equal to what reading them back gives)."""
    from ltr.io import read_qrels, read_run
    from ltr.metrics import evaluate
    return evaluate(read_qrels(qrels_path), read_run(run_path), list(CURVE_METRICS))
