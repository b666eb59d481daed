"""Report plots (matplotlib, drawn off-screen with the Agg canvas).

Every function takes a tidy frame, returns a :class:`matplotlib.figure.Figure` of a fixed width and, when
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
:func:`plot_system_means`              ``[system, mean, ci_low, ci_high]`` (a report's summary, one metric)
=====================================  ====================================================

Layout and speed. Panels are placed on a fixed grid whose margins are measured once from the longest label
they carry (:func:`_grid`), never by a layout engine: matplotlib's constrained layout and ``tight_layout``
measure every artist's extent, repeatedly, and cost more than the drawing itself. Long labels (stage names,
feature names, system names in titles) are measured and given the room they need or wrapped, so that no
text leaves the canvas (tested with the renderer's own bounding boxes). Legends of many series sit below
the panels, outside the data, at a fixed place: matplotlib's ``loc="best"`` searches every data point.

Colours. Systems are told apart by colour *and* marker (:func:`system_styles`): the Okabe-Ito palette
(safe for the common colour-vision deficiencies), one colour per objective and one marker per backend when
names read ``backend/objective``, so that the same objective on two backends is the same colour.
"""

from __future__ import annotations

import io
import os
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import StepPatch

from ltr.errors import DataError, UnknownNameError
from ltr.naming import format_spec, parse_spec, select
from ltr.schema import QID, require_columns

__all__ = ["plot_metric_at_k", "plot_per_query_delta", "plot_training_curves", "plot_feature_importance",
           "plot_recall_at_k", "plot_stage_cost", "plot_system_means", "figure_to_png", "metric_families", "system_styles",
           "FigureJob", "Deferred", "figure_job", "render", "Renderer", "default_processes", "PALETTE", "MARKERS"]

WIDTH = 8.0          # inches; every figure is this wide so that reports line up
PANEL_HEIGHT = 3.2   # inches per row of panels
DPI = 110

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
"""Okabe & Ito's colour-blind-safe qualitative palette (blue, orange, bluish green, vermillion, reddish purple,
sky blue, black); its yellow is left out, too faint for a line on white."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
"""Marker shapes; with the 7 colours, the first 84 systems all differ in colour or shape."""

_UP, _DOWN = "#009E73", "#D55E00"     # wins bluish green, losses vermillion: apart for every colour vision
_FONT = {"small": 8.33, "medium": 10.0, "x-small": 6.94}   # points, matplotlib's default 10 pt scale
_TICK = 10.0          # tick labels and axis labels (rcParams default)
_TITLE = 12.0         # axes titles (rcParams default "large")


def _measure():
    """An Agg renderer to measure text with (cheap: no figure is drawn)."""
    return FigureCanvasAgg(Figure(figsize=(1, 1), dpi=DPI)).get_renderer()


def _text_width(texts, size: float, renderer=None) -> float:
    """Width in inches of the widest of ``texts`` (one line each) at ``size`` points."""
    renderer = renderer or _measure()
    prop = FontProperties(size=size)
    widest = 0.0
    for text in texts:
        for line in str(text).split("\n"):
            if line:
                widest = max(widest, renderer.get_text_width_height_descent(line, prop, ismath=False)[0])
    return widest / DPI


def _wrap(text: str, width: int) -> str:
    """Break a label into lines of at most ``width`` characters: after a space, '/' or ',' where possible,
    inside a word only when one word is longer than a line.

    >>> _wrap("features (28) + GBDT re-ranking of 100 with xgboost/lambdarank_map(threshold=2)", 30)
    'features (28) + GBDT\\nre-ranking of 100 with\\nxgboost/\\nlambdarank_map(threshold=2)'
    """
    text = str(text)
    if len(text) <= width:
        return text
    lines, line = [], ""
    for piece in re.split(r"(?<=[ /,])", text):
        while len(piece) > width:                 # a word longer than a line: cut it
            if line:
                lines.append(line)
                line = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len((line + piece).rstrip()) > width:
            lines.append(line)
            line = piece
        else:
            line += piece
    lines.append(line)
    return "\n".join(part.rstrip() for part in lines if part.strip())


def _plain(text) -> str:
    """A label shown as typed: matplotlib would read ``$...$`` as mathematics."""
    return str(text).replace("$", r"\$")


def _grid(n_panels: int, *, cols: int = 1, panel_height: float = PANEL_HEIGHT, left: float = 0.75,
          right: float = 0.2, top: float = 0.45, bottom: float = 0.6, wspace: float = 0.7,
          hspace: float = 0.75, sharex: bool = False, sharey: bool = False) -> tuple[Figure, list]:
    """A figure of :data:`WIDTH` inches holding ``n_panels`` axes on a grid; every size in inches.

    ``left``/``right``/``top``/``bottom`` are the figure's margins, ``wspace``/``hspace`` the gaps between
    panels, ``panel_height`` each panel's height; the figure is as tall as they add up to.
    """
    cols = max(1, min(cols, n_panels))
    rows = int(np.ceil(n_panels / cols))
    height = top + bottom + rows * panel_height + (rows - 1) * hspace
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    FigureCanvasAgg(fig)
    panel_width = (WIDTH - left - right - (cols - 1) * wspace) / cols
    if panel_width < 1.0:
        raise DataError(f"labels too wide to plot: {cols} panels of {panel_width:.2f} in on a {WIDTH:g} in "
                        f"figure; shorten the names")
    grid = fig.add_gridspec(rows, cols, left=left / WIDTH, right=1 - right / WIDTH, bottom=bottom / height,
                            top=1 - top / height, wspace=wspace / panel_width, hspace=hspace / panel_height)
    axes = grid.subplots(sharex=sharex, sharey=sharey, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _figure(n_panels: int, *, cols: int = 1, height: float = PANEL_HEIGHT,
            share: bool = False, layout: str | None = "constrained") -> tuple[Figure, list]:
    """A figure of :data:`WIDTH` inches with ``n_panels`` axes laid out by matplotlib's constrained layout
    (``height`` inches per row). The click and explanation plots use it; this module's own plots use
    :func:`_grid`, which is faster and measured once."""
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


class FigureJob(NamedTuple):
    """A figure to draw later, perhaps in another process: ``plots.<function>(**kwargs)`` as PNG bytes."""

    function: str
    kwargs: dict
    weight: float = 1.0   # relative drawing time (e.g. panels), to hand the largest figures out first


def figure_job(function: str, *, weight: float = 1.0, **kwargs) -> FigureJob:
    """A :class:`FigureJob` for one of this module's ``plot_*`` functions (checked now, drawn by :func:`render`).

    >>> figure_job("plot_recall_at_k", recall=None).function
    'plot_recall_at_k'
    """
    names = [n for n in __all__ if n.startswith("plot_")]
    if function not in names:
        raise UnknownNameError(f"figure_job: unknown plot function {function!r}; one of {names}")
    if "path" in kwargs:
        raise DataError("figure_job: a job returns PNG bytes; give no 'path'")
    return FigureJob(function, dict(kwargs), float(weight))


class Deferred(NamedTuple):
    """A :class:`FigureJob` argument computed where the figure is drawn, ``function(*args)``: data that takes
    time to compute (run files read and evaluated, say) is then computed by the worker process that draws the
    figure, not by the caller. ``function`` is a module-level function (a worker is sent its name)."""

    function: Callable
    args: tuple = ()


def _draw(job: FigureJob) -> bytes:
    kwargs = {k: v.function(*v.args) if isinstance(v, Deferred) else v for k, v in job.kwargs.items()}
    return figure_to_png(globals()[job.function](**kwargs))


def default_processes() -> int:
    """How many processes :func:`render` uses by default: the ``LTR_REPORT_PROCESSES`` environment variable,
    else the CPUs this process may use (at most 4: beyond that, figures finish before the workers start)."""
    value = os.environ.get("LTR_REPORT_PROCESSES", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise DataError(f"LTR_REPORT_PROCESSES must be a whole number >= 1, got {value!r}; unset it to use "
                            f"every CPU, or set it to 1 to draw the figures in this process")
        return int(value)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):      # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


class _Drawn:
    """A job drawn in this process when its bytes are asked for (the one-process stand-in of a Future)."""

    def __init__(self, job: FigureJob):
        self._job, self._png = job, None

    def result(self) -> bytes:
        if self._png is None:
            self._png = _draw(self._job)
        return self._png


class Renderer:
    """Draws figure jobs (:class:`FigureJob`) in ``processes`` worker processes forked from this one, while this
    process goes on (``submit`` returns at once; ``result()`` of what it returns waits for the PNG bytes).

    Linux only, and only with ``processes > 1`` (``None``: :func:`default_processes`): a forked worker starts
    with matplotlib and the data already loaded, where a spawned one would spend a second importing them.
    Otherwise each job is drawn in this process when its bytes are first asked for. Matplotlib's Agg canvas
    draws the same bytes in any process, so the output does not depend on ``processes`` (tested). The
    workers are forked at the first ``submit``; use it as a context manager (or call :meth:`close`).
    """

    def __init__(self, processes: int | None = None):
        processes = default_processes() if processes is None else int(processes)
        self._pool = None
        if processes > 1 and sys.platform.startswith("linux"):
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))

    @property
    def parallel(self) -> bool:
        """Whether jobs are drawn in worker processes (else here, when their bytes are asked for)."""
        return self._pool is not None

    def submit(self, job: FigureJob):
        if self._pool is None:
            return _Drawn(job)
        with warnings.catch_warnings():
            # Python >= 3.12 warns on fork() when the process has other threads; here they are OpenBLAS's,
            # numba's and pyarrow's, which handle fork, and the workers only draw figures
            warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                                    category=DeprecationWarning)
            return self._pool.submit(_draw, job)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render(jobs, *, processes: int | None = 1) -> list[bytes]:
    """PNG bytes of each :class:`FigureJob`, in order, drawn by a :class:`Renderer` of ``processes``
    processes (``None``: :func:`default_processes`), the largest figures handed out first."""
    jobs = list(jobs)
    processes = default_processes() if processes is None else int(processes)
    with Renderer(max(1, min(processes, len(jobs)))) as renderer:
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i].weight)
        futures = {i: renderer.submit(jobs[i]) for i in order}
        return [futures[i].result() for i in range(len(jobs))]


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


def system_styles(systems) -> dict[str, tuple[str, str]]:
    """``{system: (colour, marker)}``, no two systems alike in both.

    Names of the form ``backend/objective`` get one colour per objective and one marker per backend (the
    same objective on LightGBM and XGBoost: same colour, circle and square) when there are at most
    ``len(PALETTE)`` objectives and ``len(MARKERS)`` backends; a name without ``/`` is an objective of its
    own. Otherwise the i-th system gets colour ``i mod 7`` and marker ``i mod 12``.

    >>> system_styles(["lightgbm/lambdarank", "xgboost/lambdarank"])
    {'lightgbm/lambdarank': ('#0072B2', 'o'), 'xgboost/lambdarank': ('#0072B2', 's')}
    """
    systems = [str(s) for s in dict.fromkeys(map(str, systems))]
    parts = [s.split("/", 1) if "/" in s else ["", s] for s in systems]
    objectives = list(dict.fromkeys(p[1] for p in parts))
    backends = list(dict.fromkeys(p[0] for p in parts))
    if len(objectives) <= len(PALETTE) and len(backends) <= len(MARKERS):
        return {s: (PALETTE[objectives.index(o)], MARKERS[backends.index(b)])
                for s, (b, o) in zip(systems, parts)}
    return {s: (PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]) for i, s in enumerate(systems)}


def _legend_below(fig: Figure, handles, labels, *, bottom: float, title: str | None = None,
                  x: float = 0.5, anchor: str = "upper center", ncol: int | None = None, renderer=None) -> None:
    """A legend centred under the panels whose top is ``bottom`` inches above the figure's lower edge."""
    if ncol is None:
        widest = _text_width(labels, _FONT["small"], renderer) + 0.55      # handle and padding
        ncol = max(1, min(len(labels), int((WIDTH - 0.4) // widest)))
    fig.legend(handles, [_plain(label) for label in labels], loc=anchor, ncol=ncol, fontsize="small",
               title=title, title_fontsize="small", frameon=False,
               bbox_to_anchor=(x, bottom / fig.get_size_inches()[1]), bbox_transform=fig.transFigure,
               columnspacing=1.2, handlelength=2.4)


def _legend_height(n_entries: int, ncol: int, *, title: bool = False) -> float:
    """Inches a legend of ``n_entries`` in ``ncol`` columns (small font) takes."""
    rows = int(np.ceil(n_entries / max(ncol, 1)))
    return 0.2 + rows * 0.205 + (0.2 if title else 0.0)


def _legend_cols(labels, renderer=None, *, width: float = WIDTH - 0.4) -> int:
    widest = _text_width(labels, _FONT["small"], renderer) + 0.55
    return max(1, min(len(labels), int(width // widest)))


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

    Systems differ in colour and marker (:func:`system_styles`); the legend sits under the panels.

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
    styles = system_styles(systems)
    means = per_query.groupby([per_query["system"].astype(str), per_query["metric"].astype(str)],
                              sort=False)["value"].mean()
    renderer = _measure()
    ncol = _legend_cols(systems, renderer)
    legend = _legend_height(len(systems), ncol)
    cols = 2 if len(found) > 1 else 1
    fig, axes = _grid(len(found), cols=cols, bottom=0.55 + legend, top=0.4, left=0.8)
    for ax, (family, cutoffs) in zip(axes, found.items()):
        ks = [k for k, _ in cutoffs]
        for system in systems:
            ys = [means.get((system, name), np.nan) for _, name in cutoffs]
            color, marker = styles[system]
            ax.plot(ks, ys, marker=marker, color=color, markersize=5, linewidth=1.4, label=system)
        ax.set_xscale("log" if max(ks) / min(ks) >= 20 else "linear")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("cutoff k")
        ax.set_ylabel(_plain(f"mean {family}@k"))
        ax.set_title(_plain(f"{family}@k"), y=1.0, pad=6)
        ax.grid(alpha=0.3)
    handles = axes[0].get_lines()
    _legend_below(fig, handles, [h.get_label() for h in handles], bottom=legend, ncol=ncol)
    return _finish(fig, path)


def _delta_title(system: str, baseline: str, metric: str, mean: float, w: int, t: int, l: int,
                 width: float, renderer) -> str:
    """The panel title on one line, or on two when one line would not fit the panel's width."""
    head = f"{system} − {baseline}:"
    tail = f"mean Δ{metric} = {mean:+.4f}  (wins {w}, ties {t}, losses {l})"
    one = f"{head} {tail}"
    if _text_width([one], _FONT["medium"], renderer) <= width:
        return one
    return f"{head}\n{tail}"


def plot_per_query_delta(per_query: pd.DataFrame, *, baseline: str, metric: str, systems=None,
                         path=None) -> Figure:
    """Per-query differences against the baseline, sorted (a "waterfall"), one panel per system.

    Bars above zero (bluish green) are queries where the system beats the baseline, below zero (vermillion)
    where it loses; the title gives the mean difference and win/tie/loss counts (on two lines when the
    system names are long). Queries are paired on qid; only queries both have are drawn. All panels share
    one scale, so that they compare at a glance.
    """
    _check_frame(per_query, ["system", QID, "metric", "value"], "plot_per_query_delta")
    frame = per_query[per_query["metric"].astype(str) == str(metric)]
    if frame.empty:
        raise UnknownNameError(f"plot_per_query_delta: no values for metric {metric!r}; metrics present: "
                               f"{sorted(set(per_query['metric'].astype(str)))}")
    wide = frame.pivot_table(index=frame[QID].astype(str), columns=frame["system"].astype(str), values="value",
                             aggfunc="mean", sort=False)
    select(dict.fromkeys(wide.columns), baseline, what="baseline system")
    others = [s for s in _systems(frame, systems) if s != baseline]
    if not others:
        raise DataError("plot_per_query_delta needs at least one system besides the baseline")
    deltas = {}
    for system in others:
        pair = wide[[system, baseline]].dropna()
        deltas[system] = np.sort((pair[system] - pair[baseline]).to_numpy())[::-1]
    renderer = _measure()
    left, right = 0.75, 0.15
    panel_w = WIDTH - left - right
    titles = {}
    for system, delta in deltas.items():
        mean = delta.mean() if delta.size else np.nan
        w, l = int((delta > 0).sum()), int((delta < 0).sum())
        titles[system] = _delta_title(_plain(system), _plain(baseline), _plain(metric), mean, w,
                                      delta.size - w - l, l, panel_w, renderer)
    lines = max(t.count("\n") + 1 for t in titles.values())
    panel = 2.6 if len(others) <= 4 else 1.9
    title_room = 0.12 + 0.19 * lines
    fig, axes = _grid(len(others), panel_height=panel - title_room, left=left, right=right,
                      top=title_room + 0.05, bottom=0.5, hspace=title_room + 0.08, sharex=True, sharey=True)
    low = min((d.min() for d in deltas.values() if d.size), default=0.0)
    high = max((d.max() for d in deltas.values() if d.size), default=0.0)
    n_max = max((d.size for d in deltas.values()), default=1)
    for ax, system in zip(axes, others):
        delta = deltas[system]
        # two filled step patches (wins, losses) instead of one bar per query, added without matplotlib's
        # per-vertex data-limit update (the limits are set once below): one artist each, so a figure of
        # 14 systems x 800 queries draws in a fraction of a second
        edges = np.arange(delta.size + 1) - 0.5
        for values, color, label in ((np.where(delta > 0, delta, 0.0), _UP, "wins"),
                                     (np.where(delta < 0, delta, 0.0), _DOWN, "losses")):
            ax.add_artist(StepPatch(values, edges, baseline=0, fill=True, facecolor=color, edgecolor=color,
                                    linewidth=0, label=label))
        ax.axhline(0, color="black", linewidth=0.8)
        mean = delta.mean() if delta.size else np.nan
        ax.axhline(mean, color="#333333", linewidth=0.8, linestyle="--")
        ax.set_title(titles[system], fontsize="medium", y=1.0, pad=4)
        ax.set_ylabel(_plain(f"Δ {metric}"))
        ax.grid(axis="y", alpha=0.3)
    pad = 0.05 * max(high - low, 1e-9)
    axes[0].set_ylim(min(low, 0.0) - pad, max(high, 0.0) + pad)
    axes[0].set_xlim(-0.5, max(n_max, 1) - 0.5)
    axes[-1].set_xlabel("queries, sorted by difference")
    return _finish(fig, path)


def plot_training_curves(curves: pd.DataFrame, *, systems=None, metrics=None, path=None) -> Figure:
    """Training and validation curves: metric value per boosting iteration, one panel per metric,
    one colour and marker per system, one line style per split (e.g. train solid, valid dashed).

    Two legends under the panels: the systems (colour and marker) and, when there are several, the splits
    (line style). Each line is labelled ``"<system> (<split>)"``.

    Parameters
    ----------
    curves : DataFrame with columns system, iteration, split, metric, value
    """
    _check_frame(curves, ["system", "iteration", "split", "metric", "value"], "plot_training_curves")
    frame = curves.assign(system=curves["system"].astype(str), split=curves["split"].astype(str),
                          metric=curves["metric"].astype(str))
    present = list(dict.fromkeys(frame["metric"]))
    metrics = present if metrics is None else [m for m in metrics
                                               if select(dict.fromkeys(present), m, what="metric") is None]
    systems = _systems(frame, systems)
    splits = list(dict.fromkeys(frame["split"]))
    line_styles = ["-", "--", ":", "-."]
    styles = system_styles(systems)
    renderer = _measure()
    ncol = _legend_cols(systems, renderer)
    legend = _legend_height(len(systems), ncol, title=True)
    split_legend = _legend_height(1, len(splits), title=True) if len(splits) > 1 else 0.0
    cols = 2 if len(metrics) > 1 else 1
    panel_w = (WIDTH - 0.8 - 0.2 - (cols - 1) * 0.7) / cols
    titles = {m: _wrap(_plain(m), max(20, int(panel_w / _text_width(["n"], _TITLE, renderer)))) for m in metrics}
    title_lines = max(t.count("\n") + 1 for t in titles.values())
    top = 0.2 + 0.22 * title_lines
    fig, axes = _grid(len(metrics), cols=cols, left=0.8, top=top, hspace=0.55 + 0.22 * title_lines,
                      bottom=0.55 + legend + split_legend)
    groups = {key: sub for key, sub in frame.groupby(["metric", "system", "split"], sort=False)}
    for ax, metric in zip(axes, metrics):
        for system in systems:
            color, marker = styles[system]
            for j, split in enumerate(splits):
                line = groups.get((metric, system, split))
                if line is None:
                    continue
                line = line.sort_values("iteration", kind="stable")
                x = line["iteration"].to_numpy()
                ax.plot(x, line["value"].to_numpy(), color=color, linestyle=line_styles[j % len(line_styles)],
                        linewidth=1.2, marker=marker, markersize=4, markevery=max(1, len(x) // 6),
                        label=f"{system} ({split})")
        ax.set_xlabel("iteration")
        ax.set_ylabel(_wrap(_plain(metric), 28), fontsize="medium" if len(metric) <= 28 else "small")
        ax.set_title(titles[metric], y=1.0, pad=6)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=styles[s][0], marker=styles[s][1], markersize=5, linewidth=1.2)
               for s in systems]
    _legend_below(fig, handles, systems, bottom=legend + split_legend, ncol=ncol, title="system")
    if len(splits) > 1:
        handles = [Line2D([], [], color="#555555", linestyle=line_styles[j % len(line_styles)], linewidth=1.2)
                   for j in range(len(splits))]
        _legend_below(fig, handles, splits, bottom=split_legend, ncol=len(splits), title="split")
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
    frame = importance.assign(system=importance["system"].astype(str), feature=importance["feature"].astype(str))
    systems = _systems(frame, systems)
    tops = {}
    for system, sub in frame.groupby("system", sort=False):
        values = sub.groupby("feature", sort=False)["importance"].sum()
        if normalize and values.sum() > 0:
            values = values / values.sum()
        tops[system] = values.sort_values(ascending=False, kind="stable").head(top_k)[::-1]
    n_bars = max(len(tops[s]) for s in systems)
    renderer = _measure()
    labels = [_plain(f) for s in systems for f in tops[s].index]
    label_w = _text_width(labels, _FONT["small"], renderer) + 0.15
    cols = min(2, len(systems))
    titles = {s: _plain(s) for s in systems}
    fig, axes = _grid(len(systems), cols=cols, panel_height=max(1.4, 0.2 * n_bars + 0.2),
                      left=label_w + 0.1, right=0.25, wspace=label_w + 0.3, top=0.35, bottom=0.55, hspace=0.8)
    for ax, system in zip(axes, systems):
        top = tops[system]
        ax.barh(np.arange(len(top)), top.to_numpy(), color=PALETTE[0])
        ax.set_yticks(np.arange(len(top)), [_plain(f) for f in top.index], fontsize="small")
        ax.set_ylim(-0.6, n_bars - 0.4)
        ax.set_xlabel("share of total importance" if normalize else "importance")
        ax.set_title(titles[system], y=1.0, pad=4, fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
    return _finish(fig, path)


def plot_recall_at_k(recall: pd.DataFrame, *, path=None) -> Figure:
    """First-stage recall@k against the candidate depth k (log scale when k spans a wide range).

    Parameters
    ----------
    recall : DataFrame with columns k, recall (and optionally system, for one line per first stage)
    """
    _check_frame(recall, ["k", "recall"], "plot_recall_at_k")
    several = "system" in recall.columns
    groups = list(recall.groupby(recall["system"].astype(str), sort=False)) if several else [("", recall)]
    renderer = _measure()
    names = [name for name, _ in groups]
    ncol = _legend_cols(names, renderer) if several else 1
    legend = _legend_height(len(names), ncol) if several else 0.0
    fig, (ax,) = _grid(1, left=0.8, top=0.4, bottom=0.6 + legend)
    styles = system_styles(names)
    for name, sub in groups:
        sub = sub.sort_values("k", kind="stable")
        color, marker = styles[name]
        ax.plot(sub["k"], sub["recall"], marker=marker, color=color, label=name or None)
    ks = np.sort(recall["k"].unique())
    if ks[0] > 0 and ks[-1] / ks[0] >= 20:
        ax.set_xscale("log")
    ax.set_xticks(ks, [str(int(k)) if float(k).is_integer() else str(k) for k in ks])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("candidates per query (k)")
    ax.set_ylabel("recall@k")
    ax.set_title("First-stage recall@k", y=1.0, pad=6)
    ax.grid(alpha=0.3)
    if several:
        handles = ax.get_lines()
        _legend_below(fig, handles, names, bottom=legend, ncol=ncol)
    return _finish(fig, path)


def plot_stage_cost(cost: pd.DataFrame, *, path=None) -> Figure:
    """Per-stage cost of a cascade: milliseconds per query and feature computations per query, side by side,
    the stages (in pipeline order, top to bottom) named once on the left, long names wrapped.

    Parameters
    ----------
    cost : DataFrame with columns stage, seconds_per_query, feature_computations_per_query
        Stages in pipeline order (drawn top to bottom).
    """
    _check_frame(cost, ["stage", "seconds_per_query", "feature_computations_per_query"], "plot_stage_cost")
    stages = [_wrap(_plain(s), 30) for s in cost["stage"]]
    renderer = _measure()
    label_w = _text_width(stages, _TICK, renderer) + 0.2
    n_lines = sum(s.count("\n") + 1 for s in stages)
    fig, axes = _grid(2, cols=2, panel_height=max(1.6, 0.3 * n_lines + 0.35 * len(stages)), left=label_w,
                      right=0.25, top=0.4, bottom=0.6, wspace=0.35, sharey=True)
    y = np.arange(len(stages))[::-1]
    for ax, column, label, color in [
            (axes[0], "seconds_per_query", "milliseconds per query", PALETTE[1]),
            (axes[1], "feature_computations_per_query", "feature computations per query", PALETTE[2])]:
        values = cost[column].to_numpy(dtype=float) * (1000.0 if column == "seconds_per_query" else 1.0)
        ax.barh(y, values, color=color)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
        texts = [f"{v:,.0f}" if v >= 100 else f"{v:.3g}" for v in values]
        for yi, v, text in zip(y, values, texts):
            ax.annotate(text, (v, yi), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize="small")
        # room for the value printed after the longest bar
        panel_w = (WIDTH - label_w - 0.25 - 0.35) / 2
        room = (_text_width(texts, _FONT["small"], renderer) + 0.15) / panel_w
        top = float(np.nanmax(values)) if np.isfinite(values).any() and np.nanmax(values) > 0 else 1.0
        ax.set_xlim(0, top / max(1 - room - 0.02, 0.3))
    axes[0].set_yticks(y, stages)
    axes[0].set_ylim(-0.6, len(stages) - 0.4)
    axes[1].tick_params(axis="y", left=False)
    axes[0].set_title("time", y=1.0, pad=6)
    axes[1].set_title("feature computations", y=1.0, pad=6)
    return _finish(fig, path)


def plot_system_means(summary: pd.DataFrame, *, metric: str, baseline: str | None = None, controls=(),
                      confidence: float | None = None, path=None) -> Figure:
    """Each system's mean and confidence interval on one metric: a dot and a bar per system, in the frame's
    order from top to bottom, the figure a report opens with.

    The baseline is named "(baseline)" and its mean drawn as a dashed vertical line through every row, so that
    a system's interval crossing it reads at once; A/A controls (``controls``: the baseline retrained with other
    seeds) are drawn hollow in grey and named "(control)": the distance between the baseline and its control is
    the noise floor. Colours and markers are the systems' in every other figure (:func:`system_styles`).

    Parameters
    ----------
    summary : DataFrame with columns system, mean, ci_low, ci_high (one row per system; e.g.
        ``report.to_frame()`` restricted to one metric)
    metric : str, the metric's name, for the axis label
    baseline : str, optional
    controls : names of control systems
    confidence : float, optional, the intervals' level (e.g. 0.95), for the axis label
    """
    _check_frame(summary, ["system", "mean", "ci_low", "ci_high"], "plot_system_means")
    frame = summary.assign(system=summary["system"].astype(str)).drop_duplicates("system")
    systems = list(frame["system"])
    controls = {str(c) for c in controls}
    if baseline is not None:
        select(dict.fromkeys(systems), str(baseline), what="baseline system")
    styles = system_styles([s for s in systems if s not in controls] or systems)
    renderer = _measure()

    def label(system):
        if system == baseline:
            return _plain(f"{system} (baseline)")
        if system in controls and not system.endswith("(control)"):
            return _plain(f"{system} (control)")
        return _plain(system)

    labels = [_wrap(label(s), 40) for s in systems]
    label_w = _text_width(labels, _TICK, renderer) + 0.2
    n_lines = sum(t.count("\n") + 1 for t in labels)
    level = f"{confidence * 100:g}% " if confidence is not None else ""
    fig, (ax,) = _grid(1, panel_height=max(1.2, 0.2 * n_lines + 0.12 * len(systems) + 0.3), left=label_w,
                       right=0.3, top=0.4, bottom=0.6)
    y = np.arange(len(systems))[::-1].astype(float)
    values = frame[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
    for yi, system, (mean, low, high) in zip(y, systems, values):
        if system in controls:
            color, marker, face = "#777777", "o", "white"
        else:
            color, marker = styles[system]
            face = color
        ax.plot([low, high], [yi, yi], color=color, linewidth=2.2, solid_capstyle="butt")
        ax.plot([mean], [yi], marker=marker, markersize=7, color=color, markerfacecolor=face,
                markeredgewidth=1.4, linestyle="none")
    if baseline is not None:
        base_mean = float(values[systems.index(str(baseline)), 0])
        ax.axvline(base_mean, color="#333333", linewidth=0.9, linestyle="--", zorder=0)
    finite = values[np.isfinite(values)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        pad = 0.08 * max(high - low, 1e-6)
        ax.set_xlim(low - pad, high + pad)
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(systems) - 0.4)
    ax.set_xlabel(_plain(f"mean {metric} with its {level}confidence interval"))
    ax.set_title(_plain(f"{metric} per system"), y=1.0, pad=6)
    ax.grid(axis="x", alpha=0.3)
    return _finish(fig, path)
