"""Tables and plots of TreeSHAP explanations, and the sections an experiment report adds from them.

Input: an explanation as :func:`ltr.models.explain.explain` returns it, i.e. any object with

- ``rows``: a frame ``[qid, docid, label, score, raw_score, bias]``, one row per document;
- ``contributions``: a frame of per-feature contributions (columns = feature names), aligned with ``rows``,
  summing with ``bias`` to ``raw_score``;
- ``values``: the feature values, same shape.

(This module sits beside :mod:`ltr.models` on its floor and reads those three frames only.)

=======================================  =====================================================================
function                                 gives
=======================================  =====================================================================
:func:`contribution_importance`          mean |contribution| per feature beside the gain importance (table)
:func:`plot_contribution_importance`     the same as two bar panels (shares of each total)
:func:`query_explanation`                why a query's top documents rank where they do (table)
:func:`plot_query_explanation`           the same, one bar panel per document
:func:`choose_query`                     a query worth showing when none is named
:func:`add_explanation`                  all of the above into a :class:`~ltr.report.Report`
=======================================  =====================================================================

A document's rank depends on its score relative to the other documents of its query, so the per-query views
use contributions relative to the query's mean (``vs_query_mean``): for each document they sum to its raw
score minus the query's mean raw score, and the bias (common to all documents) drops out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltr.errors import DataError, SchemaError
from ltr.report.plots import _UP, _DOWN, _figure, _finish
from ltr.schema import DOCID, LABEL, QID, SCORE

__all__ = ["add_explanation", "choose_query", "contribution_importance", "plot_contribution_importance",
           "plot_query_explanation", "query_explanation"]

_ROWS = (QID, DOCID, LABEL, SCORE, "raw_score", "bias")


def _check(explanation, caller: str):
    for attr in ("rows", "contributions", "values"):
        if not isinstance(getattr(explanation, attr, None), pd.DataFrame):
            raise SchemaError(f"{caller} needs an explanation with frames rows, contributions and values (as "
                              f"ltr.models.explain.explain returns); {attr!r} is missing or not a DataFrame")
    missing = [c for c in _ROWS if c not in explanation.rows.columns]
    if missing:
        raise SchemaError(f"{caller}: the explanation's rows lack columns {missing} (found "
                          f"{list(explanation.rows.columns)})")
    if len(explanation.rows) != len(explanation.contributions):
        raise SchemaError(f"{caller}: {len(explanation.rows)} rows but {len(explanation.contributions)} rows of "
                          f"contributions")
    if len(explanation.rows) == 0:
        raise DataError(f"{caller} got an empty explanation: nothing to show")


def _positive_int(value, name, caller):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"The {name!r} parameter of {caller} must be an int >= 1. Got {value!r} instead.")
    return int(value)


# --------------------------------------------------------------------------------------------------
# global: mean |contribution| beside gain
# --------------------------------------------------------------------------------------------------

def contribution_importance(explanation, gain: pd.Series | None = None) -> pd.DataFrame:
    """Mean |TreeSHAP contribution| per feature, beside the model's total split gain.

    Parameters
    ----------
    explanation : Explanation
    gain : Series, optional
        Total gain per feature (``Ranker.feature_importances_``), indexed by feature name.

    Returns
    -------
    DataFrame
        ``feature, mean_abs_contribution, contribution_share, contribution_rank`` and, with ``gain``,
        ``gain, gain_share, gain_rank``; sorted by mean |contribution|, largest first (ties by feature order).
    """
    _check(explanation, "contribution_importance")
    mean_abs = explanation.contributions.abs().mean()
    table = pd.DataFrame({"feature": [str(f) for f in mean_abs.index],
                          "mean_abs_contribution": mean_abs.to_numpy(dtype=float)})
    total = table["mean_abs_contribution"].sum()
    table["contribution_share"] = table["mean_abs_contribution"] / total if total > 0 else 0.0
    table["contribution_rank"] = table["mean_abs_contribution"].rank(ascending=False, method="min").astype(int)
    if gain is not None:
        g = pd.Series(gain, dtype=float)
        g.index = g.index.astype(str)
        unknown = sorted(set(g.index) - set(table["feature"]))
        if unknown:
            raise SchemaError(f"contribution_importance: gain names features the explanation lacks: {unknown[:10]}")
        table["gain"] = g.reindex(table["feature"]).fillna(0.0).to_numpy()
        gsum = table["gain"].sum()
        table["gain_share"] = table["gain"] / gsum if gsum > 0 else 0.0
        table["gain_rank"] = table["gain"].rank(ascending=False, method="min").astype(int)
    return table.sort_values("mean_abs_contribution", ascending=False, kind="stable").reset_index(drop=True)


def plot_contribution_importance(table: pd.DataFrame, *, top_k: int = 20, title: str | None = None,
                                 path=None):
    """The top-``top_k`` features by mean |contribution|: its share beside the gain share (when present).

    Parameters
    ----------
    table : DataFrame from :func:`contribution_importance`
    """
    if not isinstance(table, pd.DataFrame) or "mean_abs_contribution" not in table.columns:
        raise SchemaError("plot_contribution_importance needs the table of contribution_importance")
    if len(table) == 0:
        raise DataError("plot_contribution_importance got an empty table: nothing to plot")
    top_k = _positive_int(top_k, "top_k", "plot_contribution_importance")
    top = table.head(top_k).iloc[::-1]
    panels = [("contribution_share", "share of mean |SHAP contribution|", "C0")]
    if "gain_share" in table.columns:
        panels.append(("gain_share", "share of total split gain", "C1"))
    fig, axes = _figure(len(panels), cols=len(panels), height=max(2.4, 0.22 * len(top) + 1.0), share=False)
    y = np.arange(len(top))
    for i, (ax, (column, label, color)) in enumerate(zip(axes, panels)):
        ax.barh(y, top[column].to_numpy(dtype=float), color=color)
        ax.set_yticks(y, [str(f) for f in top["feature"]] if i == 0 else [""] * len(y), fontsize="small")
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_title(title or "Feature importance: TreeSHAP")
    if len(axes) > 1:
        axes[1].set_title("gain")
    return _finish(fig, path)


# --------------------------------------------------------------------------------------------------
# one query: why its top documents rank where they do
# --------------------------------------------------------------------------------------------------

def _query(explanation, qid):
    rows = explanation.rows
    mask = (rows[QID].astype(str) == str(qid)).to_numpy()
    if not mask.any():
        known = list(dict.fromkeys(rows[QID].astype(str)))[:10]
        raise DataError(f"query {str(qid)!r} is not in the explanation ({rows[QID].nunique()} queries, e.g. "
                        f"{known})")
    r = rows.loc[mask].reset_index(drop=True)
    c = explanation.contributions.loc[mask].reset_index(drop=True)
    v = explanation.values.loc[mask].reset_index(drop=True)
    relative = c - c.mean(axis=0)
    # rank by score, descending; ties in row order (as the Ranker's run files list them)
    order = np.argsort(-r[SCORE].to_numpy(dtype=float), kind="stable")
    return r, c, v, relative, order


def query_explanation(explanation, qid, *, top_k: int = 5, n_features: int = 5) -> pd.DataFrame:
    """Why the top-``top_k`` documents of query ``qid`` are ranked where they are.

    For each of them, the ``n_features`` features whose contributions set it most apart from the query's
    other documents (largest |contribution - query mean|).

    Returns
    -------
    DataFrame
        One row per (document, feature): ``rank`` (1-based), ``docid``, ``label``, ``score``,
        ``score_vs_query_mean`` (raw score minus the query's mean raw score), ``feature``, ``value``,
        ``contribution``, ``vs_query_mean``. Rows by rank, then by |vs_query_mean|, largest first.
    """
    _check(explanation, "query_explanation")
    top_k = _positive_int(top_k, "top_k", "query_explanation")
    n_features = _positive_int(n_features, "n_features", "query_explanation")
    r, c, v, relative, order = _query(explanation, qid)
    raw = r["raw_score"].to_numpy(dtype=float)
    names = list(c.columns)
    out = []
    for rank, i in enumerate(order[:top_k], start=1):
        rel = relative.iloc[i].to_numpy(dtype=float)
        pick = np.argsort(-np.abs(rel), kind="stable")[:n_features]
        for j in pick:
            out.append({"rank": rank, DOCID: r.at[i, DOCID], LABEL: r.at[i, LABEL], SCORE: float(r.at[i, SCORE]),
                        "score_vs_query_mean": float(raw[i] - raw.mean()), "feature": str(names[j]),
                        "value": float(v.iat[i, j]), "contribution": float(c.iat[i, j]),
                        "vs_query_mean": float(rel[j])})
    return pd.DataFrame(out, columns=["rank", DOCID, LABEL, SCORE, "score_vs_query_mean", "feature", "value",
                                      "contribution", "vs_query_mean"])


def plot_query_explanation(explanation, qid, *, top_k: int = 5, n_features: int = 8, path=None):
    """One panel per top document of ``qid``: its contributions relative to the query's mean, as bars
    (green pushes it up the ranking, red down), for the features that matter most in this query."""
    _check(explanation, "plot_query_explanation")
    top_k = _positive_int(top_k, "top_k", "plot_query_explanation")
    n_features = _positive_int(n_features, "n_features", "plot_query_explanation")
    r, c, v, relative, order = _query(explanation, qid)
    top = order[:top_k]
    # the same features in every panel: those with the largest |relative contribution| over the top documents
    weight = np.abs(relative.iloc[top].to_numpy(dtype=float)).max(axis=0)
    feats = np.argsort(-weight, kind="stable")[:n_features]
    names = [str(relative.columns[j]) for j in feats]
    raw = r["raw_score"].to_numpy(dtype=float)
    fig, axes = _figure(len(top), cols=min(2, len(top)), height=max(2.2, 0.24 * len(feats) + 1.1))
    y = np.arange(len(feats))[::-1]
    span = float(np.abs(relative.iloc[top].to_numpy(dtype=float)[:, feats]).max()) or 1.0
    for k, (ax, i) in enumerate(zip(axes, top)):
        vals = relative.iloc[i].to_numpy(dtype=float)[feats]
        ax.barh(y, vals, color=[_UP if x >= 0 else _DOWN for x in vals])
        ax.axvline(0.0, color="0.3", linewidth=0.8)
        ax.set_xlim(-1.1 * span, 1.1 * span)
        labels = [f"{n} = {v.iat[i, j]:.3g}" for n, j in zip(names, feats)]
        ax.set_yticks(y, labels, fontsize="x-small")
        label = r.at[i, LABEL]
        grade = "?" if pd.isna(label) else f"{label:g}"
        ax.set_title(f"#{k + 1} {r.at[i, DOCID]} (label {grade}): {raw[i] - raw.mean():+.3f} vs query mean",
                     fontsize="small")
        ax.set_xlabel("contribution - query mean", fontsize="small")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Query {qid}: why its top {len(top)} documents rank where they do", fontsize="medium")
    return _finish(fig, path)


def choose_query(explanation, *, top_k: int = 5) -> str:
    """A query to show when none is named: among queries with a relevant document (label > 0) and at least
    ``top_k`` documents, the one with the most documents (first in data order on ties); else the largest."""
    _check(explanation, "choose_query")
    rows = explanation.rows
    stats = rows.groupby(rows[QID].astype(str), sort=False).agg(n=(DOCID, "size"), rel=(LABEL, "max"))
    good = stats[(stats["rel"] > 0) & (stats["n"] >= top_k)]
    pool = good if len(good) else stats
    return str(pool["n"].idxmax())


# --------------------------------------------------------------------------------------------------
# into a report
# --------------------------------------------------------------------------------------------------

def add_explanation(report, explanation, *, gain: pd.Series | None = None, qid=None, top_k: int = 5,
                    n_features: int = 5, system: str | None = None, plots: bool = True, max_features: int = 20):
    """Add the explanation sections (and figures) to ``report``; returns the report.

    Parameters
    ----------
    report : Report
    explanation : Explanation
        Of one model on (part of) its test data.
    gain : Series, optional
        ``Ranker.feature_importances_``, shown beside the mean |contribution|.
    qid : str, optional
        The query whose top documents are explained; default :func:`choose_query`.
    top_k, n_features : int
        Documents and features per document in the query table.
    system : str, optional
        The system's name, used in titles ("lightgbm/lambdarank").
    plots : bool, default=True
        Also add the two figures.
    max_features : int, default=20
        Rows of the importance table.
    """
    name = f" ({system})" if system else ""
    qid = choose_query(explanation, top_k=top_k) if qid is None else str(qid)
    table = contribution_importance(explanation, gain)
    report.add_section(f"Feature importance: TreeSHAP and gain{name}", table=table.head(max_features),
                       caption=f"Mean |TreeSHAP contribution| to the raw score over {len(explanation.rows)} "
                               f"documents (the backend's own pred_contrib), beside the total split gain; "
                               f"shares are of each column's total.")
    report.add_section(f"Why the top documents of query {qid} rank where they do{name}",
                       table=query_explanation(explanation, qid, top_k=top_k, n_features=n_features),
                       caption="For each top document, the features that set it most apart from the query's "
                               "other documents: contribution minus the query's mean contribution "
                               "(vs_query_mean; these sum over all features to score_vs_query_mean).")
    if plots:
        report.add_figure(f"TreeSHAP importance{name}", plot_contribution_importance(table, top_k=max_features),
                          caption="Share of mean |TreeSHAP contribution| beside share of split gain.")
        report.add_figure(f"Query {qid} explained{name}",
                          plot_query_explanation(explanation, qid, top_k=top_k, n_features=max(n_features, 8)),
                          caption="Contribution minus the query's mean, per feature, for its top documents; "
                                  "green pushes a document up the ranking, red down.")
    return report
