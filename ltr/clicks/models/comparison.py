"""Several click models fitted on one log and scored on another, side by side."""

from __future__ import annotations

import pandas as pd

from ltr.clicks.models.base import get_click_model
from ltr.clicks.models.evaluation import evaluate

__all__ = ["compare_click_models"]


def compare_click_models(train, test, models, *, unseen_queries: str = "drop", progress: bool = False
                         ) -> tuple[pd.DataFrame, dict]:
    """Fit each model on ``train`` and score it on ``test``.

    Parameters
    ----------
    train, test : ClickLog
    models : list of str or ClickModel
        Names such as ``["gctr", "pbm", "dbn(iterations=5)"]``.

    Returns
    -------
    (table, fitted)
        ``table``: one row per model with log_likelihood, perplexity, conditional_perplexity, fit_seconds and
        ``perplexity@k`` columns; ``fitted``: model repr -> fitted model.
    """
    import time

    from tqdm.auto import tqdm

    rows, fitted = [], {}
    specs = [get_click_model(s) for s in models]
    for model in tqdm(specs, desc="click models", disable=not progress):
        t0 = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - t0
        score = evaluate(model, test, unseen_queries=unseen_queries)
        row = {"model": score.model, "log_likelihood": score.log_likelihood, "perplexity": score.perplexity,
               "conditional_perplexity": score.conditional_perplexity, "fit_seconds": seconds,
               "serps": score.serps, "unseen_pairs": score.unseen_pairs}
        for k, v in enumerate(score.perplexity_at, start=1):
            row[f"perplexity@{k}"] = v
        rows.append(row)
        fitted[score.model] = model
    return pd.DataFrame(rows), fitted
