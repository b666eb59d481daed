"""Plots for click-log reports (same figure style as :mod:`ltr.report.plots`): CTR by position, perplexity
by position of several click models, estimated against true propensities.

Every function takes a tidy frame and returns a :class:`matplotlib.figure.Figure` (saved as PNG when ``path``
is given). This module knows nothing of click logs: the frames are built by :mod:`ltr.clicks.report`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ltr.report.plots import _check_frame, _figure, _finish

__all__ = ["plot_ctr_by_position", "plot_perplexity_by_position", "plot_propensities", "plot_metric_by_sessions",
           "plot_propensity_estimates"]


def plot_ctr_by_position(ctr: pd.DataFrame, *, path=None) -> Figure:
    """Click-through rate against position, one line per log (e.g. train and test).

    Parameters
    ----------
    ctr : DataFrame with columns position, ctr (and optionally log, impressions)
        With ``impressions``, 95% normal-approximation intervals ``ctr +- 1.96 sqrt(ctr (1 - ctr) / n)``
        are drawn as bars.
    """
    _check_frame(ctr, ["position", "ctr"], "plot_ctr_by_position")
    fig, (ax,) = _figure(1)
    groups = ctr.groupby("log", sort=False) if "log" in ctr.columns else [("", ctr)]
    for name, sub in groups:
        sub = sub.sort_values("position", kind="stable")
        x, y = sub["position"].to_numpy(), sub["ctr"].to_numpy(dtype=float)
        if "impressions" in sub.columns:
            n = sub["impressions"].to_numpy(dtype=float)
            err = 1.96 * np.sqrt(np.clip(y * (1 - y), 0, None) / np.maximum(n, 1))
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=str(name) or None)
        else:
            ax.plot(x, y, marker="o", label=str(name) or None)
    positions = np.sort(ctr["position"].unique())
    ax.set_xticks(positions, [str(int(p)) for p in positions])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("position")
    ax.set_ylabel("click-through rate")
    ax.set_title("CTR by position")
    ax.grid(alpha=0.3)
    if "log" in ctr.columns:
        ax.legend(fontsize="small")
    return _finish(fig, path)


def plot_perplexity_by_position(perplexity: pd.DataFrame, *, path=None) -> Figure:
    """Held-out perplexity at each position, one line per click model (lower is better; 1 is perfect).

    Parameters
    ----------
    perplexity : DataFrame with columns model, position, perplexity
    """
    _check_frame(perplexity, ["model", "position", "perplexity"], "plot_perplexity_by_position")
    fig, (ax,) = _figure(1, height=3.8)
    for name, sub in perplexity.groupby("model", sort=False):
        sub = sub.sort_values("position", kind="stable")
        ax.plot(sub["position"], sub["perplexity"], marker="o", markersize=4, label=str(name))
    positions = np.sort(perplexity["position"].unique())
    ax.set_xticks(positions, [str(int(p)) for p in positions])
    ax.set_xlabel("position")
    ax.set_ylabel("perplexity")
    ax.set_title("Perplexity by position (held out)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    return _finish(fig, path)


def plot_propensities(propensities: pd.DataFrame, *, path=None) -> Figure:
    """Estimated propensities ``p_k / p_1`` against position, one line per estimator (optionally with
    ``stderr`` bars), and the truth when a row has ``estimator == "truth"`` (dashed, black).

    Parameters
    ----------
    propensities : DataFrame with columns estimator, position, propensity (optionally stderr)
    """
    _check_frame(propensities, ["estimator", "position", "propensity"], "plot_propensities")
    fig, (ax,) = _figure(1)
    for name, sub in propensities.groupby("estimator", sort=False):
        sub = sub.sort_values("position", kind="stable")
        if str(name) == "truth":
            ax.plot(sub["position"], sub["propensity"], "k--", label="truth")
        elif "stderr" in sub.columns and sub["stderr"].notna().any():
            ax.errorbar(sub["position"], sub["propensity"], yerr=1.96 * sub["stderr"].fillna(0), marker="o",
                        capsize=3, label=str(name))
        else:
            ax.plot(sub["position"], sub["propensity"], marker="o", label=str(name))
    positions = np.sort(propensities["position"].unique())
    ax.set_xticks(positions, [str(int(p)) for p in positions])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("position")
    ax.set_ylabel("propensity relative to position 1")
    ax.set_title("Examination propensities")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _finish(fig, path)


def plot_metric_by_sessions(curve: pd.DataFrame, *, metric: str = "nDCG@10", path=None) -> Figure:
    """A metric against the number of sessions (log scale), one line per method, one panel per eta.

    Parameters
    ----------
    curve : DataFrame with columns eta, sessions, method, value
    """
    _check_frame(curve, ["eta", "sessions", "method", "value"], "plot_metric_by_sessions")
    etas = list(dict.fromkeys(curve["eta"]))
    fig, axes = _figure(len(etas), cols=min(len(etas), 3), share=True)
    for ax, eta in zip(axes, etas):
        sub = curve[curve["eta"] == eta]
        for name, g in sub.groupby("method", sort=False):
            g = g.sort_values("sessions", kind="stable")
            style = "k--" if name == "full_information" else ("k:" if name == "production" else "-")
            ax.plot(g["sessions"], g["value"], style, marker="o", label=str(name))
        ax.set_xscale("log")
        ax.set_xlabel("sessions")
        ax.set_title(f"eta = {eta:g}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"true {metric}")
    axes[-1].legend(fontsize="x-small")
    return _finish(fig, path)


def plot_propensity_estimates(propensities: pd.DataFrame, *, path=None) -> Figure:
    """Estimated against true propensities per position, one panel per eta, one line per source (the truth
    dashed black).

    Parameters
    ----------
    propensities : DataFrame with columns eta, source, position, propensity
    """
    _check_frame(propensities, ["eta", "source", "position", "propensity"], "plot_propensity_estimates")
    etas = list(dict.fromkeys(propensities["eta"]))
    fig, axes = _figure(len(etas), cols=min(len(etas), 3), share=True)
    for ax, eta in zip(axes, etas):
        for name, g in propensities[propensities["eta"] == eta].groupby("source", sort=False):
            g = g.sort_values("position", kind="stable")
            if str(name) == "truth":
                ax.plot(g["position"], g["propensity"], "k--", label="truth")
            else:
                ax.plot(g["position"], g["propensity"], marker="o", label=str(name))
        ax.set_ylim(bottom=0)
        ax.set_xlabel("position")
        ax.set_title(f"eta = {eta:g}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("propensity relative to position 1")
    axes[-1].legend(fontsize="x-small")
    return _finish(fig, path)
