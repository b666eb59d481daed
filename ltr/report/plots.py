"""Report plots (matplotlib, drawn off-screen with the Agg canvas).

Every function takes a tidy frame, returns a :class:`matplotlib.figure.Figure` of a fixed size and, when
``path`` is given, saves it as PNG. Figures are built with ``matplotlib.figure.Figure`` directly, never
with ``pyplot``: no global state, no GUI backend, nothing to close, safe in threads and on servers.

=====================================  ====================================================
function                               input frame
=====================================  ====================================================
:func:`plot_metric_at_k`               per-query ``[system, qid, metric, value]`` (several cutoffs)
:func:`plot_per_query_delta`           per-query ``[system, qid, metric, value]``
:func:`plot_training_curves`           ``[system, iteration, split, metric, value]``
:func:`plot_feature_importance`        ``[system, feature, importance]``
:func:`plot_recall_at_k`               ``[k, recall]`` (optionally ``system``)
:func:`plot_stage_cost`                ``[stage, seconds_per_query, feature_computations_per_query]``
=====================================  ====================================================
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ltr.errors import DataError, UnknownNameError
from ltr.naming import format_spec, parse_spec, select
from ltr.schema import QID, require_columns

__all__ = ["plot_metric_at_k", "plot_per_query_delta", "plot_training_curves", "plot_feature_importance",
           "plot_recall_at_k", "plot_stage_cost", "figure_to_png", "metric_families"]

WIDTH = 8.0          # inches; every figure is this wide so that reports line up
PANEL_HEIGHT = 3.2   # inches per row of panels
DPI = 110
_UP, _DOWN = "#2a9d55", "#c8453c"


def _figure(n_panels: int, *, cols: int = 1, height: float = PANEL_HEIGHT,
            share: bool = False, layout: str | None = "constrained") -> tuple[Figure, list]:
    cols = max(1, min(cols, n_panels))
    rows = int(np.ceil(n_panels / cols))
    fig = Figure(figsize=(WIDTH, height * rows), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=share, sharey=share).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _finish(fig: Figure, path) -> Figure:
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for embedding in HTML)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _systems(frame: pd.DataFrame, systems=None) -> list[str]:
    present = list(dict.fromkeys(frame["system"].astype(str)))
    if systems is None:
        return present
    table = dict.fromkeys(present)
    return [s for s in systems if select(table, s, what="system") is None]


def _check_frame(frame, columns, caller):
    require_columns(frame, columns, caller=caller)
    if len(frame) == 0:
        raise DataError(f"{caller} got an empty frame: nothing to plot")


def metric_families(metrics) -> dict[str, list[tuple[int, str]]]:
    """Group metric names by everything but the cutoff: ``{"nDCG": [(5, "nDCG@5"), (10, "nDCG@10")]}``.

    Names without a cutoff, or that do not parse, are left out. Cutoffs are sorted.
    """
    families: dict[str, list[tuple[int, str]]] = {}
    for name in metrics:
        try:
            spec = parse_spec(str(name), what="metric")
        except UnknownNameError:
            continue
        if spec.cutoff is None:
            continue
        families.setdefault(format_spec(spec.name, spec.params), []).append((spec.cutoff, str(name)))
    return {k: sorted(v) for k, v in families.items()}


def plot_metric_at_k(per_query: pd.DataFrame, *, systems=None, families=None, path=None) -> Figure:
    """Mean metric@k against k, one line per system, one panel per metric family (e.g. nDCG, P).

    Parameters
    ----------
    per_query : DataFrame with columns system, qid, metric, value
        Metric names such as ``nDCG@5``, ``nDCG@10``; families with at least two cutoffs are drawn.
    systems : list of str, optional
        Systems to draw, in this order (default: all, in order of appearance).
    families : list of str, optional
        Families to draw (default: every family with two or more cutoffs).
    path : path-like, optional
        Save the figure there as PNG.
    """
    _check_frame(per_query, ["system", QID, "metric", "value"], "plot_metric_at_k")
    found = {k: v for k, v in metric_families(dict.fromkeys(per_query["metric"].astype(str))).items()
             if len(v) >= 2}
    if families is not None:
        found = {f: select(found, f, what="metric family with two or more cutoffs") for f in families}
    if not found:
        raise DataError("plot_metric_at_k needs metrics at two or more cutoffs of one family, "
                        "e.g. nDCG@5 and nDCG@10; got " + str(sorted(set(per_query["metric"].astype(str)))))
    systems = _systems(per_query, systems)
    means = per_query.groupby(["system", "metric"], sort=False)["value"].mean()
    fig, axes = _figure(len(found), cols=2 if len(found) > 1 else 1)
    for ax, (family, cutoffs) in zip(axes, found.items()):
        ks = [k for k, _ in cutoffs]
        for system in systems:
            ys = [means.get((system, name), np.nan) for _, name in cutoffs]
            ax.plot(ks, ys, marker="o", label=system)
        ax.set_xscale("log" if max(ks) / min(ks) >= 20 else "linear")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("cutoff k")
        ax.set_ylabel(f"mean {family}@k")
        ax.set_title(f"{family}@k")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    return _finish(fig, path)


def plot_per_query_delta(per_query: pd.DataFrame, *, baseline: str, metric: str, systems=None,
                         path=None) -> Figure:
    """Per-query differences against the baseline, sorted (a "waterfall"), one panel per system.

    Bars above zero (green) are queries where the system beats the baseline, below zero (red) where it
    loses; the title gives the mean difference and win/tie/loss counts. Queries are paired on qid; only
    queries both have are drawn.
    """
    _check_frame(per_query, ["system", QID, "metric", "value"], "plot_per_query_delta")
    frame = per_query[per_query["metric"].astype(str) == str(metric)]
    if frame.empty:
        raise UnknownNameError(f"plot_per_query_delta: no values for metric {metric!r}; metrics present: "
                               f"{sorted(set(per_query['metric'].astype(str)))}")
    wide = frame.pivot_table(index=QID, columns="system", values="value", aggfunc="mean", sort=False)
    select(dict.fromkeys(wide.columns), baseline, what="baseline system")
    others = [s for s in _systems(frame, systems) if s != baseline]
    if not others:
        raise DataError("plot_per_query_delta needs at least one system besides the baseline")
    # one shared scale, so that panels compare at a glance; shorter panels when there are many systems
    # fixed margins rather than constrained layout: the layout solver costs more than drawing here
    panel = 2.6 if len(others) <= 4 else 1.9
    fig, axes = _figure(len(others), height=panel, share=True, layout=None)
    total = panel * len(others)
    fig.subplots_adjust(left=0.09, right=0.98, top=1 - 0.32 / total, bottom=0.5 / total,
                        hspace=0.45 / (panel - 0.45))
    for ax, system in zip(axes, others):
        pair = wide[[system, baseline]].dropna()
        delta = np.sort((pair[system] - pair[baseline]).to_numpy())[::-1]
        # two filled step patches (wins, losses) instead of one bar per query: one artist each, so a
        # figure of 14 systems x 800 queries draws in a fraction of a second
        edges = np.arange(delta.size + 1) - 0.5
        ax.stairs(np.where(delta > 0, delta, 0.0), edges, fill=True, color=_UP, label="wins")
        ax.stairs(np.where(delta < 0, delta, 0.0), edges, fill=True, color=_DOWN, label="losses")
        ax.axhline(0, color="black", linewidth=0.8)
        mean = delta.mean() if delta.size else np.nan
        ax.axhline(mean, color="#333333", linewidth=0.8, linestyle="--")
        w, l = int((delta > 0).sum()), int((delta < 0).sum())
        ax.set_title(f"{system} − {baseline}: mean Δ{metric} = {mean:+.4f}  "
                     f"(wins {w}, ties {delta.size - w - l}, losses {l})", fontsize="medium")
        ax.set_xlim(-0.5, max(delta.size, 1) - 0.5)
        ax.set_ylabel(f"Δ {metric}")
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xlabel("queries, sorted by difference")
    return _finish(fig, path)


def plot_training_curves(curves: pd.DataFrame, *, systems=None, metrics=None, path=None) -> Figure:
    """Training and validation curves: metric value per boosting iteration, one panel per metric,
    one colour per system, one line style per split (e.g. train solid, valid dashed).

    Parameters
    ----------
    curves : DataFrame with columns system, iteration, split, metric, value
    """
    _check_frame(curves, ["system", "iteration", "split", "metric", "value"], "plot_training_curves")
    present = list(dict.fromkeys(curves["metric"].astype(str)))
    metrics = present if metrics is None else [m for m in metrics
                                               if select(dict.fromkeys(present), m, what="metric") is None]
    systems = _systems(curves, systems)
    splits = list(dict.fromkeys(curves["split"].astype(str)))
    styles = ["-", "--", ":", "-."]
    colors = {s: f"C{i % 10}" for i, s in enumerate(systems)}
    fig, axes = _figure(len(metrics), cols=2 if len(metrics) > 1 else 1)
    for ax, metric in zip(axes, metrics):
        sub = curves[curves["metric"].astype(str) == metric]
        for system in systems:
            for j, split in enumerate(splits):
                line = sub[(sub["system"].astype(str) == system) & (sub["split"].astype(str) == split)]
                if line.empty:
                    continue
                line = line.sort_values("iteration", kind="stable")
                ax.plot(line["iteration"], line["value"], color=colors[system],
                        linestyle=styles[j % len(styles)], label=f"{system} ({split})")
        ax.set_xlabel("iteration")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    return _finish(fig, path)


def plot_feature_importance(importance: pd.DataFrame, *, top_k: int = 20, normalize: bool = True,
                            systems=None, path=None) -> Figure:
    """Top-``top_k`` features by importance, horizontal bars, one panel per system.

    Parameters
    ----------
    importance : DataFrame with columns system, feature, importance
    top_k : int, default=20
    normalize : bool, default=True
        Show each system's importances as shares of its total (comparable across models and backends).
    """
    _check_frame(importance, ["system", "feature", "importance"], "plot_feature_importance")
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise DataError(f"The 'top_k' parameter of plot_feature_importance must be an int >= 1. Got {top_k!r}.")
    systems = _systems(importance, systems)
    n_bars = min(top_k, importance.groupby("system")["feature"].nunique().max())
    fig, axes = _figure(len(systems), cols=min(2, len(systems)), height=max(2.4, 0.22 * n_bars + 1.0))
    for ax, system in zip(axes, systems):
        sub = importance[importance["system"].astype(str) == system]
        values = sub.groupby("feature", sort=False)["importance"].sum()
        if normalize and values.sum() > 0:
            values = values / values.sum()
        top = values.sort_values(ascending=False, kind="stable").head(top_k)[::-1]
        ax.barh(np.arange(len(top)), top.to_numpy(), color="C0")
        ax.set_yticks(np.arange(len(top)), [str(f) for f in top.index], fontsize="small")
        ax.set_xlabel("share of total importance" if normalize else "importance")
        ax.set_title(system)
        ax.grid(axis="x", alpha=0.3)
    return _finish(fig, path)


def plot_recall_at_k(recall: pd.DataFrame, *, path=None) -> Figure:
    """First-stage recall@k against the candidate depth k (log scale when k spans a wide range).

    Parameters
    ----------
    recall : DataFrame with columns k, recall (and optionally system, for one line per first stage)
    """
    _check_frame(recall, ["k", "recall"], "plot_recall_at_k")
    fig, (ax,) = _figure(1)
    groups = recall.groupby("system", sort=False) if "system" in recall.columns else [("", recall)]
    for name, sub in groups:
        sub = sub.sort_values("k", kind="stable")
        ax.plot(sub["k"], sub["recall"], marker="o", label=str(name) or None)
    ks = np.sort(recall["k"].unique())
    if ks[0] > 0 and ks[-1] / ks[0] >= 20:
        ax.set_xscale("log")
    ax.set_xticks(ks, [str(int(k)) if float(k).is_integer() else str(k) for k in ks])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("candidates per query (k)")
    ax.set_ylabel("recall@k")
    ax.set_title("First-stage recall@k")
    ax.grid(alpha=0.3)
    if "system" in recall.columns:
        ax.legend(fontsize="small")
    return _finish(fig, path)


def plot_stage_cost(cost: pd.DataFrame, *, path=None) -> Figure:
    """Per-stage cost of a cascade: seconds per query and feature computations per query, side by side.

    Parameters
    ----------
    cost : DataFrame with columns stage, seconds_per_query, feature_computations_per_query
        Stages in pipeline order (drawn top to bottom).
    """
    _check_frame(cost, ["stage", "seconds_per_query", "feature_computations_per_query"], "plot_stage_cost")
    stages = [str(s) for s in cost["stage"]]
    fig, axes = _figure(2, cols=2, height=max(2.4, 0.35 * len(stages) + 1.2))
    y = np.arange(len(stages))[::-1]
    for ax, column, label, color in [
            (axes[0], "seconds_per_query", "milliseconds per query", "C1"),
            (axes[1], "feature_computations_per_query", "feature computations per query", "C2")]:
        values = cost[column].to_numpy(dtype=float) * (1000.0 if column == "seconds_per_query" else 1.0)
        ax.barh(y, values, color=color)
        ax.set_yticks(y, stages)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
        for yi, v in zip(y, values):
            ax.annotate(f"{v:,.0f}" if v >= 100 else f"{v:.3g}", (v, yi), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize="small")
        ax.margins(x=0.15)
    axes[0].set_title("time")
    axes[1].set_title("feature computations")
    return _finish(fig, path)
