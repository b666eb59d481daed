"""Compare systems on per-query values against a baseline: :func:`compare` -> :class:`Report`.

The input is the long per-query frame every evaluation produces, with one more column naming the system:
``DataFrame[system, qid, metric, value]``. Queries are paired on ``qid`` within each metric.

Decisions (documented here once, repeated in the docstrings):

- **Missing queries.** By default (``missing="error"``) every system must have exactly the baseline's
  queries for each metric; otherwise a :class:`~ltr.errors.DataError` names the system, the metric and the
  qids, and says how to proceed. ``missing="intersect"`` compares all systems on the queries they all have
  (per metric) and records what was dropped in :attr:`Report.warnings` (shown in every rendering).
  Silently averaging systems over different query sets is the classic way to report a wrong winner.
- **Family for the correction.** ``family="metric"`` (default): for each metric, the family is the
  comparisons of the non-baseline systems with the baseline (one table = one family, as papers present
  them). ``family="all"``: one family over all non-baseline systems x metrics (stricter). The baseline's
  comparison with itself is never in the family.
- **Intervals.** ``ci_low``/``ci_high`` bootstrap the mean of a system's per-query values;
  ``delta_ci_low``/``delta_ci_high`` bootstrap the mean paired difference (queries resampled with their
  pair). All intervals of one metric use the same resampled queries (same seed).
- **Direction.** Higher is better for every metric; ``delta = mean(system) - mean(baseline)``; a win is a
  query where the system's value exceeds the baseline's by more than ``tie_tolerance``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ltr import stats
from ltr.errors import DataError, SchemaError
from ltr.atomic import atomic_write
from ltr.naming import select
from ltr.report import plots as _plots
from ltr.report.html import figure_block, render_document
from ltr.report.tables import (MARKS, Cell, escape_latex, format_number, format_pvalue, render_html,
                               render_latex, render_markdown, render_plain)
from ltr.schema import QID, as_id_array, require_columns

__all__ = ["Report", "compare", "compare_runs", "compare_experiments", "SUMMARY_COLUMNS"]

SYSTEM, METRIC, VALUE = "system", "metric", "value"
PER_QUERY = (SYSTEM, QID, METRIC, VALUE)

SUMMARY_COLUMNS = ["system", "metric", "n_queries", "mean", "ci_low", "ci_high", "delta", "delta_ci_low",
                   "delta_ci_high", "p_raw", "p_value", "significant", "effect_size", "wins", "ties",
                   "losses", "family", "family_size", "mde", "tost_p"]
"""Columns of :meth:`Report.to_frame`, in order. ``family`` names the row's correction family (``"primary"``,
``"exploratory: <metric>"``, ``"metric: <metric>"``, ``"all"``, ``"baseline"``, or ``"outside: <system> / <metric>"`` for a system kept
out of every family, such as an A/A control, whose p-value stays uncorrected); ``family_size`` is its *m*;
``mde`` the minimal detectable effect of the per-query test at the declared power and the family's
per-comparison level (:func:`ltr.stats.mde_paired`); ``tost_p`` the paired TOST p-value when an equivalence
margin is declared (NaN otherwise)."""

_MISSING = {"error": "refuse systems whose queries differ from the baseline's",
            "intersect": "compare on the queries all systems have"}
_FAMILIES = {"metric": "per metric, across the non-baseline systems",
             "all": "across all non-baseline systems and metrics",
             "primary": "the primary metric across the non-baseline systems; the other metrics exploratory"}
_CI_METHODS = {"percentile": "percentile", "bca": "BCa"}


def _check_unit(value, name: str, *, caller: str = "compare") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise DataError(f"The {name!r} parameter of {caller} must be a float in (0, 1). Got {value!r}.")
    return float(value)


def _show(qids, limit: int = 5) -> str:
    qids = list(qids)
    more = f" and {len(qids) - limit} more" if len(qids) > limit else ""
    return f"{qids[:limit]}{more}"


def _prepare(per_query: pd.DataFrame, *, caller: str) -> pd.DataFrame:
    """Validate a per-query frame and return a clean copy (ids as str, values float64)."""
    require_columns(per_query, PER_QUERY, caller=caller)
    frame = pd.DataFrame({
        SYSTEM: as_id_array(per_query[SYSTEM].to_numpy()),
        QID: as_id_array(per_query[QID].to_numpy()),
        METRIC: as_id_array(per_query[METRIC].to_numpy()),
    })
    values = pd.to_numeric(per_query[VALUE], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{caller}: {bad.size} per-query values are missing or not finite numbers; first at "
                        f"system {frame[SYSTEM][i]!r}, qid {frame[QID][i]!r}, metric {frame[METRIC][i]!r}: "
                        f"{per_query[VALUE].iloc[i]!r}")
    frame[VALUE] = values
    dup = frame.duplicated([SYSTEM, QID, METRIC], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        raise DataError(f"{caller}: {int(dup.sum())} rows repeat a (system, qid, metric); first: "
                        f"({first[SYSTEM]!r}, {first[QID]!r}, {first[METRIC]!r}). Give one value per query, "
                        f"e.g. the mean over seeds: frame.groupby(['system', 'qid', 'metric'], sort=False)"
                        f"['value'].mean().reset_index()")
    return frame


class Report:
    """The outcome of :func:`compare`: a tidy summary frame plus everything needed to render it.

    Attributes
    ----------
    frame : DataFrame
        One row per (system, metric), columns :data:`SUMMARY_COLUMNS` (use :meth:`to_frame`).
    per_query : DataFrame
        The paired values the statistics were computed on: system, qid, metric, value.
    baseline, test, correction, family, missing, ci_method : str
    alpha, confidence : float
    n_resamples, seed : int
    warnings : tuple of str
        What was dropped (``missing="intersect"``) or otherwise deserves a reader's attention.
    title : str
    """

    def __init__(self, frame: pd.DataFrame, per_query: pd.DataFrame, *, baseline: str, test: str,
                 correction: str, alpha: float, confidence: float, n_resamples: int, seed: int,
                 family: str, missing: str, ci_method: str, warnings: Sequence[str] = (),
                 title: str = "System comparison", primary: str | None = None, outside_family: Sequence[str] = (),
                 power: float = 0.8, equivalence_margin: float | None = None):
        self.frame, self.per_query = frame, per_query
        self.primary, self.outside_family = primary, tuple(outside_family)
        self.power, self.equivalence_margin = power, equivalence_margin
        #: Sentences shown first in every rendering: what was tested and what it found (set by the caller).
        self.headline: tuple[str, ...] = ()
        self.baseline, self.test, self.correction = baseline, test, correction
        self.alpha, self.confidence, self.n_resamples, self.seed = alpha, confidence, n_resamples, seed
        self.family, self.missing, self.ci_method = family, missing, ci_method
        self.warnings = tuple(warnings)
        self.title = title
        self._figures: list[tuple[str, bytes, str | None]] = []
        self._sections: list[tuple[str, tuple[str, ...], pd.DataFrame | None, str | None]] = []
        self._default_figures: list[tuple[str, bytes, str | None]] | None = None
        self._lead: list[int] = []      # indices into _figures of the figures that open the report
        self._renderer: _plots.Renderer | None = None     # set by start_figures: jobs drawn as they are added
        self._default_futures: list | None = None

    # -------------------------------------------------------------------------------------- access ---
    @property
    def systems(self) -> list[str]:
        """Systems in table order (baseline first)."""
        return list(dict.fromkeys(self.frame[SYSTEM]))

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.frame[METRIC]))

    def to_frame(self) -> pd.DataFrame:
        """The summary as a tidy frame (a copy): one row per (system, metric), :data:`SUMMARY_COLUMNS`."""
        return self.frame.copy()

    def __repr__(self) -> str:
        return (f"Report(systems={self.systems}, metrics={self.metrics}, baseline={self.baseline!r}, "
                f"test={self.test!r}, correction={self.correction!r})")

    # ------------------------------------------------------------------------------------- figures ---
    def add_figure(self, title: str, figure, *, caption: str | None = None, lead: bool = False) -> "Report":
        """Attach a figure (a matplotlib Figure, PNG bytes, a PNG file path, a :class:`~ltr.report.plots.FigureJob`
        to draw later, or what :meth:`ltr.report.plots.Renderer.submit` returned) to the HTML and saved report.

        Use it for plots the per-query values cannot give: training curves, feature importance,
        first-stage recall, stage cost (:mod:`ltr.report.plots`). A ``FigureJob`` is drawn with the default
        figures by :meth:`draw_figures` (in parallel processes if asked). With ``lead=True`` the figure opens
        the report (before the summary table) instead of joining the figures at the end, as
        :meth:`add_lead_figure` does. Returns the report itself.
        """
        if lead:
            self._lead.append(len(self._figures))
        if isinstance(figure, _plots.FigureJob):
            pending = self._renderer.submit(figure) if self._renderer is not None else figure
            self._figures.append((str(title), pending, caption))
            return self
        if hasattr(figure, "result"):          # a job already handed to a Renderer: collected when drawn
            self._figures.append((str(title), figure, caption))
            return self
        if hasattr(figure, "savefig"):
            png = _plots.figure_to_png(figure)
        elif isinstance(figure, (bytes, bytearray)):
            png = bytes(figure)
        else:
            path = Path(figure)
            if not path.is_file():
                raise DataError(f"add_figure: {str(path)!r} is not a file; pass a matplotlib Figure, PNG bytes "
                                f"or the path of a PNG file")
            png = path.read_bytes()
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise DataError(f"add_figure({title!r}): the image is not a PNG")
        self._figures.append((str(title), png, caption))
        return self

    def add_section(self, title: str, *, notes: Sequence[str] = (), table: pd.DataFrame | None = None,
                    caption: str | None = None) -> "Report":
        """Attach a section (bullet ``notes`` and/or a ``table``) shown after the metric tables in the
        Markdown and HTML renderings, e.g. the data and protocol notes of an experiment. Returns the report."""
        if table is not None and not isinstance(table, pd.DataFrame):
            raise SchemaError(f"add_section({title!r}): table must be a DataFrame, got {type(table).__name__}")
        self._sections.append((str(title), tuple(map(str, notes)), table, caption))
        return self

    @staticmethod
    def _section_rows(table: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]], str]:
        """Header, formatted rows and alignment (text columns left, numbers right) of a section table."""
        rows = [[format_number(v, digits) if isinstance(v, float) else str(v) for v in row]
                for row in table.itertuples(index=False)]
        align = "".join("r" if pd.api.types.is_numeric_dtype(table[c]) else "l" for c in table.columns)
        return [str(c) for c in table.columns], rows, align

    def figure_files(self, *, plots: bool = True) -> dict[str, str]:
        """The relative path :meth:`save` writes each figure to, by title (``figures/<slug>.png``)."""
        paths, used = {}, set()
        for title, _, _ in self.figures(plots=plots):
            name = _slug(title)
            while name in used:
                name += "_"
            used.add(name)
            paths[title] = f"figures/{name}.png"
        return paths

    def default_figure_jobs(self) -> list[tuple[str, "_plots.FigureJob", str | None]]:
        """``(title, job, caption)`` of the figures drawn from the per-query values: metric@k curves (when a
        metric has several cutoffs) and, per metric, the sorted per-query differences against the baseline."""
        jobs = []
        families = {k: v for k, v in _plots.metric_families(self.metrics).items() if len(v) >= 2}
        if families:
            jobs.append(("Metric@k", _plots.figure_job("plot_metric_at_k", per_query=self.per_query,
                                                       systems=self.systems),
                         "Mean metric@k per system, at each cutoff evaluated."))
        if len(self.systems) > 1:
            for metric in self.metrics:
                jobs.append((f"Per-query Δ {metric}",
                             _plots.figure_job("plot_per_query_delta", per_query=self.per_query,
                                               baseline=self.baseline, metric=metric, systems=self.systems,
                                               weight=len(self.systems) - 1),
                             f"Per-query difference in {metric} against the baseline {self.baseline}, "
                             f"sorted; green: the system wins, red: it loses."))
        return jobs

    def start_figures(self, renderer: "_plots.Renderer", *, plots: bool = True) -> "Report":
        """Hand every figure not drawn yet (the default ones if ``plots``, and the figure jobs added so far
        or later) to ``renderer`` (:class:`ltr.report.plots.Renderer`), which draws them while the caller
        goes on computing; :meth:`draw_figures` then collects them. Returns the report itself."""
        self._renderer = renderer
        if plots and self._default_figures is None and self._default_futures is None:
            self._default_futures = [(t, renderer.submit(job), c) for t, job, c in self.default_figure_jobs()]
        self._figures = [(t, renderer.submit(job), c) if isinstance(job, _plots.FigureJob) else (t, job, c)
                         for t, job, c in self._figures]
        return self

    def draw_figures(self, *, plots: bool = True, processes: int | None = 1) -> "Report":
        """Draw every figure not drawn yet (the default ones if ``plots``, and the figure jobs added) at
        once, in ``processes`` processes (``None``: every CPU; :func:`ltr.report.plots.render`), and collect
        those handed to :meth:`start_figures`' renderer. The bytes do not depend on ``processes``. Returns the
        report itself."""
        if self._default_futures is not None:
            self._default_figures = [(t, future.result(), c) for t, future, c in self._default_futures]
            self._default_futures = None
        self._figures = [(t, png.result(), c) if hasattr(png, "result") else (t, png, c)
                         for t, png, c in self._figures]
        self._renderer = None
        defaults = self.default_figure_jobs() if plots and self._default_figures is None else None
        pending = [(None, t, job, c) for t, job, c in defaults or []]
        pending += [(i, t, job, c) for i, (t, job, c) in enumerate(self._figures)
                    if isinstance(job, _plots.FigureJob)]
        pngs = _plots.render([job for _, _, job, _ in pending], processes=processes) if pending else []
        if defaults is not None:
            self._default_figures = [(t, png, c) for (i, t, _, c), png in zip(pending, pngs) if i is None]
        for (i, t, _, c), png in zip(pending, pngs):
            if i is not None:
                self._figures[i] = (t, png, c)
        return self

    def add_lead_figure(self, metric: str | None = None, *, controls: Sequence[str] = ()) -> "Report":
        """Open the report with one figure: each system's mean and confidence interval on ``metric`` (default: the
        first metric), the baseline marked and its mean drawn through every row, the A/A ``controls`` hollow
        (:func:`ltr.report.plots.plot_system_means`). Drawn with the other figures. Returns the report itself."""
        if metric is None:
            metric = self.metrics[0]
        select(dict.fromkeys(self.metrics), str(metric), what="metric")
        metric = str(metric)
        rows = self.frame[self.frame[METRIC] == metric][[SYSTEM, "mean", "ci_low", "ci_high"]]
        job = _plots.figure_job("plot_system_means", summary=rows.reset_index(drop=True), metric=metric,
                                baseline=self.baseline, controls=tuple(controls), confidence=self.confidence)
        pct = f"{self.confidence * 100:g}%"
        return self.add_figure(f"Mean {metric} per system", job, lead=True,
                               caption=f"Mean {metric} of each system with its {pct} bootstrap confidence interval "
                                       f"({self.frame[self.frame[METRIC] == metric]['n_queries'].max()} queries); "
                                       f"dashed: the baseline {self.baseline}'s mean"
                                       + ("; hollow grey: the A/A control (the baseline retrained with other "
                                          "seeds), the noise floor." if len(controls) else "."))

    def lead_figures(self) -> list[tuple[str, bytes, str | None]]:
        """The figures that open the report (:meth:`add_lead_figure`), drawn."""
        self.draw_figures(plots=False)
        return [self._figures[i] for i in self._lead]

    def default_figures(self) -> list[tuple[str, bytes, str | None]]:
        """The default figures (:meth:`default_figure_jobs`) as PNG bytes. Drawn once, cached."""
        if self._default_figures is None:
            self.draw_figures(plots=True)
        return list(self._default_figures)

    def figures(self, *, plots: bool = True) -> list[tuple[str, bytes, str | None]]:
        """All figures: those opening the report, the default ones (if ``plots``), then those added with
        :meth:`add_figure`."""
        self.draw_figures(plots=plots)
        lead = set(self._lead)
        return (self.lead_figures() + (self.default_figures() if plots else [])
                + [f for i, f in enumerate(self._figures) if i not in lead])

    # ----------------------------------------------------------------------------------- rendering ---
    def _legend(self) -> str:
        test = stats.describe_test(self.test)
        corr = stats.CORRECTION_LABELS[self.correction]
        n_family = self._family_size()
        where = {"metric": "per metric", "all": "in all",
                 "primary": f"on the primary metric {self.primary}"}[self.family]
        family = (f"{corr} over {n_family} comparison{'s' if n_family != 1 else ''} {where}"
                  if self.correction != "none" else corr)
        if self.outside_family:
            family += f"; {', '.join(self.outside_family)} outside the family (uncorrected p)"
        used = {m for m in self._marks().values() if m}
        marks = "/".join(MARKS[m][0] for m in ("up", "down", "diff") if m in used) or "▲/▼"
        meaning = {"up": "better", "down": "worse", "diff": "different (zero mean difference)"}
        words = "/".join(meaning[m] for m in ("up", "down", "diff") if m in used) or "better/worse"
        return (f"{marks}: significantly {words} than the baseline {self.baseline} ({test}, {family}, "
                f"α = {self.alpha:g}). Bold: best mean per metric. CIs: {self.confidence * 100:g}% bootstrap "
                f"({_CI_METHODS[self.ci_method]}, {self.n_resamples:,} resamples, seed {self.seed})."
                + self._power_legend())

    def _power_legend(self) -> str:
        text = (f" MDE: the smallest true difference the per-query test detects with {self.power:.0%} power at "
                f"the family's per-comparison level; a comparison that is not significant is not evidence of no "
                f"difference, only that none larger than its MDE was likely missed")
        if self.equivalence_margin is not None:
            text += (f"; equivalence (TOST, margin ±{self.equivalence_margin:g}) is the only test of "
                     f"\"no difference\"")
        else:
            text += " (a claim of no difference needs an equivalence margin: TOST)"
        if self.family == "primary":
            text += f". Metrics other than the primary {self.primary} are exploratory (corrected per metric)"
        return text + "."

    def _family_size(self) -> int:
        rows = self.frame[self.frame["family"].isin(["primary", "all"]) | self.frame["family"].str.startswith(
            "metric:")] if "family" in self.frame else self.frame.iloc[0:0]
        if rows.empty:
            return 0
        return int(rows["family_size"].max())

    def _meta(self) -> str:
        n = sorted(set(self.frame["n_queries"]))
        nq = f"{n[0]} queries" if len(n) == 1 else f"{n[0]}–{n[-1]} queries (by metric)"
        ns, nm = len(self.systems), len(self.metrics)
        return (f"Baseline: {self.baseline} · {ns} system{'s' if ns != 1 else ''} · "
                f"{nm} metric{'s' if nm != 1 else ''} · {nq} · "
                f"test: {stats.describe_test(self.test)} · correction: {stats.CORRECTION_LABELS[self.correction]} "
                f"({_FAMILIES[self.family]})" + (f" · primary metric: {self.primary}" if self.primary else ""))

    def _marks(self) -> dict[tuple[str, str], str]:
        out = {}
        for row in self.frame.itertuples(index=False):
            mark = ""
            if row.significant:
                mark = "up" if row.delta > 0 else "down" if row.delta < 0 else "diff"
            out[(row.system, row.metric)] = mark
        return out

    def _best(self, digits: int) -> set[tuple[str, str]]:
        """(system, metric) pairs whose mean, as displayed, is the highest of the metric (ties all bold)."""
        best = set()
        for metric, sub in self.frame.groupby(METRIC, sort=False):
            shown = sub["mean"].round(digits)
            top = shown.max()
            best |= {(s, metric) for s, v in zip(sub[SYSTEM], shown) if v == top}
        return best

    def _system_label(self, system: str) -> str:
        if system == self.baseline:
            return f"{system} (baseline)"
        return f"{system} [not in family]" if system in self.outside_family else system

    def _metric_title(self, metric: str) -> str:
        if self.family == "primary":
            return f"{metric} (primary)" if metric == self.primary else f"{metric} (exploratory)"
        return metric

    def _overview(self, digits: int, *, latex: bool = False) -> tuple[list[str], list[list[Cell]]]:
        marks, best = self._marks(), self._best(digits)
        values = self.frame.set_index([SYSTEM, METRIC])["mean"]
        header = ["system", *self.metrics]
        rows = []
        for system in self.systems:
            row = [Cell(self._system_label(system))]
            for metric in self.metrics:
                v = values.get((system, metric), np.nan)
                row.append(Cell(_num(v, digits, latex), (system, metric) in best, marks.get((system, metric), "")))
            rows.append(row)
        return header, rows

    def _detail(self, metric: str, digits: int, *, latex: bool = False) -> tuple[list[str], list[list[Cell]]]:
        marks, best = self._marks(), self._best(digits)
        pct = f"{self.confidence * 100:g}%"
        corr = "" if self.correction == "none" else f" ({self.correction})"
        mde = f"MDE ({self.power:.0%})"
        if latex:
            header = ["system", "mean", rf"{pct} CI".replace("%", r"\%"), r"$\Delta$",
                      rf"$\Delta$ {pct} CI".replace("%", r"\%"), rf"$p${escape_latex(corr)}", "$d_z$", "W/T/L",
                      escape_latex(mde)]
        else:
            header = ["system", "mean", f"{pct} CI", "Δ", f"Δ {pct} CI", f"p{corr}", "d_z", "W/T/L", mde]
        tost = self.equivalence_margin is not None
        if tost:
            header.append(rf"TOST $p$ ($\pm${self.equivalence_margin:g})" if latex
                          else f"TOST p (±{self.equivalence_margin:g})")
        rows = []
        for r in self.frame[self.frame[METRIC] == metric].itertuples(index=False):
            is_base = r.system == self.baseline
            rows.append([
                Cell(self._system_label(r.system)),
                Cell(_num(r.mean, digits, latex), (r.system, metric) in best, marks.get((r.system, metric), "")),
                Cell(f"[{_num(r.ci_low, digits, latex)}, {_num(r.ci_high, digits, latex)}]"),
                Cell("–" if is_base and not latex else "--" if is_base else _signed(r.delta, digits, latex)),
                Cell("" if is_base else f"[{_signed(r.delta_ci_low, digits, latex)}, "
                                        f"{_signed(r.delta_ci_high, digits, latex)}]"),
                Cell("" if is_base else format_pvalue(r.p_value)),
                Cell("" if is_base else _num(r.effect_size, 2, latex)),
                Cell("" if is_base else f"{r.wins}/{r.ties}/{r.losses}"),
                Cell("" if is_base else _num(r.mde, digits, latex)),
            ] + ([Cell("" if is_base else format_pvalue(r.tost_p))] if tost else []))
        return header, rows

    def _detail_align(self) -> str:
        return "lrrrrrrrr" + ("r" if self.equivalence_margin is not None else "")

    def __str__(self) -> str:
        digits = 4
        parts = [self.title, self._meta(), *self.headline, "", render_plain(*self._overview(digits)),
                 self._legend().replace("Bold: best", "*: best")]
        parts += [f"!! {w}" for w in self.warnings]
        for metric in self.metrics:
            parts += ["", self._metric_title(metric), render_plain(*self._detail(metric, digits), align=self._detail_align())]
        return "\n".join(parts)

    def to_markdown(self, *, digits: int = 4, figure_paths: Mapping[str, str] | None = None) -> str:
        """Markdown: a summary table (systems x metrics, best in **bold**, ▲/▼ marks, legend line) and one
        detail table per metric (mean, CI, Δ, Δ CI, corrected p, d_z, W/T/L).

        ``figure_paths`` maps figure titles to relative image paths to link (as :meth:`save` does).
        """
        parts = [f"# {self.title}", "", self._meta(), ""]
        parts += [f"**{self.headline[0]}**", ""] + [f"{h}" for h in self.headline[1:]] + [""] if self.headline else []
        parts += [f"> **Warning:** {w}" for w in self.warnings]
        if self.warnings:
            parts.append("")
        lead = [t for t, _, _ in self.lead_figures()] if figure_paths else []
        for title in lead:
            if title in figure_paths:
                parts += [f"![{title}]({figure_paths[title]})", ""]
        parts += ["## Summary", "", render_markdown(*self._overview(digits)), "", self._legend(), ""]
        for metric in self.metrics:
            parts += [f"## {self._metric_title(metric)}", "", render_markdown(*self._detail(metric, digits), align=self._detail_align()), ""]
        for title, notes, table, caption in self._sections:
            parts += [f"## {title}", ""]
            parts += [f"- {n}" for n in notes] + ([""] if notes else [])
            parts += [caption, ""] if caption else []
            if table is not None:
                header, rows, align = self._section_rows(table, digits)
                parts += [render_markdown(header, rows, align=align), ""]
        rest = {t: rel for t, rel in (figure_paths or {}).items() if t not in lead}
        if rest:
            parts += ["## Figures", ""]
            for title, rel in rest.items():
                parts += [f"![{title}]({rel})", ""]
        return "\n".join(parts).rstrip() + "\n"

    def to_latex(self, *, digits: int = 4, detail: bool = False, label: str = "tab:comparison") -> str:
        r"""Paste-ready LaTeX (``\usepackage{booktabs}``): the summary table with ``\textbf`` on the best
        mean per metric and :math:`^\uparrow`/:math:`^\downarrow` significance marks, the legend as caption.

        With ``detail=True``, one table per metric follows (mean, CI, Δ, Δ CI, p, d_z, W/T/L).
        """
        caption = escape_latex(self._legend())
        for key in ("up", "down", "diff"):
            caption = caption.replace(MARKS[key][0], MARKS[key][1])
        caption = _latex_text(caption)
        header, rows = self._overview(digits, latex=True)
        out = ["% needs \\usepackage{booktabs}"]
        if self.headline:
            out.append("\n".join(_latex_text(escape_latex(h)) for h in self.headline))
        out.append(render_latex(header, rows, caption=caption, label=label, midrule_after=1))
        if detail:
            for i, metric in enumerate(self.metrics):
                header, rows = self._detail(metric, digits, latex=True)
                out.append(render_latex(header, rows, align=self._detail_align(), escape_header=False,
                                        caption=f"{escape_latex(self._metric_title(metric))}: detail against the baseline "
                                                f"{escape_latex(self.baseline)}.",
                                        label=f"{label}-{_slug(metric).replace('_', '-')}", midrule_after=1))
            for title, notes, table, caption in self._sections:
                if table is None or table.empty:
                    continue
                sec_header, sec_rows, align = self._section_rows(table, digits)
                sec_rows = [[c.replace("∞", "inf").replace("±", "+-") for c in row] for row in sec_rows]
                text = _latex_text(escape_latex(title + (": " + caption if caption else "")))
                out.append(render_latex(sec_header, sec_rows, align=align, caption=text,
                                        label=f"{label}-{_slug(title).replace('_', '-').lower()}"))
        return "\n\n".join(out) + "\n"

    def to_html(self, *, digits: int = 4, plots: bool = True) -> str:
        """One self-contained HTML document: inline CSS, the tables, and the figures embedded as PNG."""
        import html as _h
        body = [f"<h1>{_h.escape(self.title)}</h1>", f'<p class="meta">{_h.escape(self._meta())}</p>']
        body += [f'<p class="headline"><strong>{_h.escape(h)}</strong></p>' if i == 0 else f"<p>{_h.escape(h)}</p>"
                 for i, h in enumerate(self.headline)]
        body += [f'<div class="warning">{_h.escape(w)}</div>' for w in self.warnings]
        figures = self.figures(plots=plots)
        lead = self.lead_figures()
        body += [figure_block(png, title=title, caption=caption) for title, png, caption in lead]
        figures = figures[len(lead):]
        body += ["<h2>Summary</h2>", '<div class="scroll">', render_html(*self._overview(digits)), "</div>",
                 f'<p class="legend">{_h.escape(self._legend())}</p>']
        for metric in self.metrics:
            body += [f"<h2>{_h.escape(self._metric_title(metric))}</h2>", '<div class="scroll">',
                     render_html(*self._detail(metric, digits), align=self._detail_align()), "</div>"]
        for title, notes, table, caption in self._sections:
            body.append(f"<h2>{_h.escape(title)}</h2>")
            if notes:
                body.append("<ul>" + "".join(f"<li>{_h.escape(n)}</li>" for n in notes) + "</ul>")
            if caption:
                body.append(f'<p class="legend">{_h.escape(caption)}</p>')
            if table is not None:
                header, rows, align = self._section_rows(table, digits)
                body += ['<div class="scroll">', render_html(header, rows, align=align), "</div>"]
        if figures:
            body.append("<h2>Figures</h2>")
            body += [figure_block(png, title=title, caption=caption) for title, png, caption in figures]
        return render_document(self.title, "\n".join(body))

    def save(self, directory, *, digits: int = 4, plots: bool = True) -> dict[str, Path]:
        """Write ``report.md``, ``report.html``, ``report.tex``, ``summary.csv`` and ``figures/*.png`` into
        ``directory`` (created if needed), each file atomically. Returns the paths by name."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        figure_paths = self.figure_files(plots=plots)
        for title, png, _ in self.figures(plots=plots):
            rel = figure_paths[title]
            with atomic_write(directory / rel, "wb") as handle:
                handle.write(png)
            paths[rel] = directory / rel
        outputs = {
            "report.md": self.to_markdown(digits=digits, figure_paths=figure_paths),
            "report.html": self.to_html(digits=digits, plots=plots),
            "report.tex": self.to_latex(digits=digits, detail=True),
            "summary.csv": self.frame.to_csv(index=False, lineterminator="\n"),
        }
        for name, text in outputs.items():
            with atomic_write(directory / name) as handle:
                handle.write(text)
            paths[name] = directory / name
        return paths


def _latex_text(text: str) -> str:
    """Greek letters and symbols of the report's sentences as LaTeX math (after :func:`escape_latex`)."""
    for char, tex in (("α", r"$\alpha$"), ("Δ", r"$\Delta$"), ("±", r"$\pm$"), ("∞", r"$\infty$"),
                      ("×", r"$\times$")):
        text = text.replace(char, tex)
    return text


def _num(value, digits: int, latex: bool) -> str:
    if latex and (value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))):
        return "--" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return format_number(value, digits)


def _signed(value, digits: int, latex: bool) -> str:
    text = _num(value, digits, latex)
    return "+" + text if isinstance(value, float) and value > 0 and not math.isinf(value) else text


def _slug(text: str) -> str:
    text = str(text).replace("@", "_at_")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "figure"


# -------------------------------------------------------------------------------------------- compare ---

def compare(per_query: pd.DataFrame, *, baseline: str, metrics: Sequence[str] | None = None,
            test: str = "paired_t", correction: str = "holm", alpha: float = 0.05, confidence: float = 0.95,
            n_resamples: int = 10_000, seed: int = 0, missing: str = "error", family: str = "metric",
            tie_tolerance: float = 0.0, ci_method: str = "percentile",
            title: str = "System comparison", primary: str | None = None, outside_family: Sequence[str] = (),
            power: float = 0.8, equivalence_margin: float | None = None) -> Report:
    r"""Compare every system with a baseline on paired per-query values.

    Parameters
    ----------
    per_query : DataFrame with columns system, qid, metric, value
        One finite value per (system, qid, metric) (aggregate seeds first, e.g. by their mean).
    baseline : str
        The system the others are compared with; shown first.
    metrics : list of str, optional
        Metrics to report, in this order (default: all, in order of appearance).
    test : {"paired_t", "wilcoxon", "randomization"}, default="paired_t"
        Paired two-sided test (:data:`ltr.stats.TESTS`), optionally with options:
        ``"wilcoxon(zero_method='pratt')"``, ``"randomization(n_resamples=100000)"``.
    correction : {"holm", "bonferroni", "fdr_bh", "fdr_by", "none"}, default="holm"
        Multiple-testing correction over the family (see ``family``).
    alpha : float, default=0.05
        A comparison is significant when its corrected p-value is <= alpha.
    confidence : float, default=0.95
        Level of the bootstrap intervals.
    n_resamples : int, default=10_000
        Bootstrap resamples, and sign flips of the randomization test.
    seed : int, default=0
        Seed of every resampling; same inputs and seed, same report bit for bit.
    missing : {"error", "intersect"}, default="error"
        What to do when systems do not have the same queries for a metric: refuse, naming the qids, or
        compare on the queries all systems share and record a warning.
    family : {"metric", "all", "primary"}, default="metric"
        The correction's family: per metric, across the non-baseline systems; across all non-baseline
        systems and metrics; or ``"primary"``: the ``primary`` metric across the non-baseline systems (the
        claim), every other metric corrected on its own and marked exploratory. The baseline's comparison
        with itself is never part of it.
    tie_tolerance : float, default=0.0
        A query is a tie when ``|system - baseline| <= tie_tolerance``.
    ci_method : {"percentile", "bca"}, default="percentile"
    title : str
        Title of the rendered report.
    primary : str, optional
        The primary metric (default: the first of ``metrics``); its family is the claim with
        ``family="primary"``.
    outside_family : sequence of str, default=()
        Systems shown and tested but kept out of every correction family (their p-values stay uncorrected),
        e.g. an A/A control: the noise floor, not a claim.
    power : float, default=0.8
        The power of the minimal detectable effect reported for every comparison (:func:`ltr.stats.mde_paired`
        for the chosen test, at the family's per-comparison level: alpha/m for Holm and Bonferroni).
    equivalence_margin : float, optional
        With a margin, every comparison also gets the paired TOST p-value (:func:`ltr.stats.tost_paired`):
        equivalence within ±margin is the only "no difference" a report states.

    Returns
    -------
    Report
        ``report.to_frame()`` has one row per (system, metric): n_queries, mean, ci_low, ci_high,
        delta (mean difference against the baseline), delta_ci_low, delta_ci_high, p_raw, p_value
        (corrected), significant, effect_size (Cohen's d_z), wins, ties, losses. The baseline's own row
        has delta 0 and missing (NaN / <NA>) comparison columns.

    Examples
    --------
    >>> import pandas as pd
    >>> pq = pd.DataFrame({"system": ["a"] * 3 + ["b"] * 3, "qid": ["1", "2", "3"] * 2,
    ...                    "metric": "nDCG@10", "value": [0.2, 0.5, 0.4, 0.3, 0.6, 0.4]})
    >>> report = compare(pq, baseline="a")
    >>> row = report.to_frame().iloc[1]
    >>> row["system"], round(float(row["delta"]), 4), int(row["wins"]), int(row["ties"]), int(row["losses"])
    ('b', 0.0667, 2, 1, 0)

    References
    ----------
    M. D. Smucker, J. Allan, B. Carterette, "A comparison of statistical significance tests for information
    retrieval evaluation", CIKM 2007; T. Sakai, "Statistical reform in information retrieval?", SIGIR Forum
    48(1), 2014 (effect sizes and intervals next to p-values).
    """
    # Step 1: resolve every name and parameter before any work
    stats.resolve_test(test)
    stats.get_correction(correction)
    select(_MISSING, missing, what="missing-query policy")
    select(_FAMILIES, family, what="correction family")
    power = _check_unit(power, "power")
    if equivalence_margin is not None and (isinstance(equivalence_margin, bool) or not isinstance(
            equivalence_margin, (int, float)) or not equivalence_margin > 0):
        raise DataError(f"The 'equivalence_margin' parameter of compare must be a float > 0 or None. Got "
                        f"{equivalence_margin!r}.")
    select(_CI_METHODS, ci_method, what="bootstrap method")
    alpha = _check_unit(alpha, "alpha")
    confidence = _check_unit(confidence, "confidence")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise DataError(f"The 'n_resamples' parameter of compare must be an int >= 1. Got {n_resamples!r}.")
    if isinstance(tie_tolerance, bool) or not isinstance(tie_tolerance, (int, float)) or not tie_tolerance >= 0:
        raise DataError(f"The 'tie_tolerance' parameter of compare must be a float >= 0. Got {tie_tolerance!r}.")
    frame = _prepare(per_query, caller="compare")
    if frame.empty:
        raise DataError("compare got no per-query values (an empty frame)")

    # Step 2: systems (baseline first) and metrics, in order of appearance
    present = list(dict.fromkeys(frame[SYSTEM]))
    baseline = str(baseline)
    select(dict.fromkeys(present), baseline, what="baseline system")
    systems = [baseline] + [s for s in present if s != baseline]
    present_metrics = list(dict.fromkeys(frame[METRIC]))
    if metrics is None:
        metrics = present_metrics
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        metrics = [str(m) for m in metrics]
        for m in metrics:
            select(dict.fromkeys(present_metrics), m, what="metric")
        if len(set(metrics)) != len(metrics):
            raise DataError(f"compare: metrics listed twice in {metrics}")

    if primary is None:
        primary = metrics[0]
    else:
        primary = str(primary)
        select(dict.fromkeys(metrics), primary, what="primary metric")
    outside_family = tuple(str(s) for s in outside_family)
    for s in outside_family:
        select(dict.fromkeys(systems), s, what="system outside the family")
    if baseline in outside_family:
        raise DataError(f"compare: the baseline {baseline!r} cannot be outside_family (it is never in a family)")

    # Step 3: pair queries per metric
    notes: list[str] = []
    paired: list[pd.DataFrame] = []
    matrices: dict[str, tuple[list[str], np.ndarray]] = {}
    for metric in metrics:
        sub = frame[frame[METRIC] == metric]
        by_system = {s: g for s, g in sub.groupby(SYSTEM, sort=False)}
        absent = [s for s in systems if s not in by_system]
        if absent:
            raise DataError(f"compare: systems {absent} have no values for metric {metric!r}; "
                            f"evaluate every system on the same metrics or pass metrics=[...]")
        base_q = list(by_system[baseline][QID])
        base_set = set(base_q)
        common = base_set
        for s in systems[1:]:
            qs = set(by_system[s][QID])
            lacking = [q for q in base_q if q not in qs]
            extra = sorted(qs - base_set)
            if missing == "error" and (lacking or extra):
                what = []
                if lacking:
                    what.append(f"lacks {len(lacking)} of the baseline's {len(base_q)} queries "
                                f"(qids {_show(lacking)})")
                if extra:
                    what.append(f"has {len(extra)} queries the baseline {baseline!r} lacks (qids {_show(extra)})")
                raise DataError(f"compare: system {s!r} {' and '.join(what)} for metric {metric!r}. Evaluate "
                                f"all systems on the same queries, or pass missing='intersect' to compare on "
                                f"the queries all systems have.")
            common = common & qs
        qids = [q for q in base_q if q in common]
        if len(qids) < 2:
            raise DataError(f"compare: only {len(qids)} queries in common for metric {metric!r}; a paired "
                            f"comparison needs at least 2")
        dropped = {s: len(by_system[s]) - len(qids) for s in systems if len(by_system[s]) != len(qids)}
        if dropped:
            notes.append(f"{metric}: compared on the {len(qids)} queries all systems have; dropped " +
                         ", ".join(f"{n} of {s}'s" for s, n in dropped.items()) + " queries.")
        wide = sub.pivot(index=QID, columns=SYSTEM, values=VALUE).loc[qids, systems]
        matrix = wide.to_numpy(dtype=np.float64)
        matrices[metric] = (qids, matrix)
        long = wide.reset_index().melt(id_vars=QID, var_name=SYSTEM, value_name=VALUE)
        long[METRIC] = metric
        paired.append(long[[SYSTEM, QID, METRIC, VALUE]])
    for note in notes:
        warnings.warn(note, stacklevel=2)

    # Step 4: statistics per metric
    rows = []
    for metric in metrics:
        qids, matrix = matrices[metric]
        base = matrix[:, 0]
        means = stats._bootstrap_intervals(matrix, confidence=confidence, n_resamples=n_resamples, seed=seed,
                                           method=ci_method)
        diffs = matrix[:, 1:] - base[:, None]
        deltas = (stats._bootstrap_intervals(diffs, confidence=confidence, n_resamples=n_resamples,
                                             seed=seed, method=ci_method) if diffs.shape[1] else [])
        for j, system in enumerate(systems):
            row = {"system": system, "metric": metric, "n_queries": len(qids), "mean": means[j].estimate,
                   "ci_low": means[j].low, "ci_high": means[j].high}
            if j == 0:
                row.update(delta=0.0, delta_ci_low=np.nan, delta_ci_high=np.nan, p_raw=np.nan,
                           effect_size=np.nan, wins=pd.NA, ties=pd.NA, losses=pd.NA, tost_p=np.nan)
            else:
                a = matrix[:, j]
                res = stats.paired_test(a, base, test=test, n_resamples=n_resamples, seed=seed)
                wtl = stats.win_tie_loss(a, base, tol=tie_tolerance)
                row.update(delta=float(a.mean() - base.mean()), delta_ci_low=deltas[j - 1].low,
                           delta_ci_high=deltas[j - 1].high, p_raw=res.pvalue,
                           effect_size=stats.cohens_dz(a, base), wins=wtl.wins, ties=wtl.ties,
                           losses=wtl.losses,
                           tost_p=(np.nan if equivalence_margin is None
                                   else stats.tost_paired(a, base, margin=equivalence_margin).pvalue))
            rows.append(row)
    summary = pd.DataFrame(rows)

    # Step 5: correction over the family (the baseline's rows are NaN and stay out of it; systems outside the
    # family each form a family of one: uncorrected)
    summary["family"] = [_family_key(family, primary, s, m, baseline, outside_family)
                         for s, m in zip(summary[SYSTEM], summary[METRIC])]
    summary = stats.correct_family(summary, family="family", method=correction, p="p_raw", out="p_value")
    summary["significant"] = (summary["p_value"] <= alpha).fillna(False).astype(bool)
    # Step 6: the minimal detectable effect of each comparison at its family's per-comparison level
    # (the paired t-test's is analytic; a simulated one, for the other tests, costs seconds per comparison and
    # is computed for the primary metric only)
    mdes = []
    simulated = stats.resolve_test(test)[0] != "paired_t"
    if simulated and len(metrics) > 1:
        notes.append(f"MDE of the {stats.describe_test(test)} (by simulation) computed for the primary metric "
                     f"{primary} only")
    for system, metric, size in zip(summary[SYSTEM], summary[METRIC], summary["family_size"]):
        if system == baseline or (simulated and metric != primary):
            mdes.append(np.nan)
            continue
        qids, matrix = matrices[metric]
        j = systems.index(system)
        mdes.append(stats.mde_paired(matrix[:, j], matrix[:, 0], test=test, alpha=alpha, power=power,
                                     family_size=max(int(size), 1), correction=correction,
                                     n_resamples=n_resamples, seed=seed).effect)
    summary["mde"] = mdes
    for col in ("wins", "ties", "losses"):
        summary[col] = summary[col].astype("Int64")
    summary["system"] = summary["system"].astype(object)
    summary["metric"] = summary["metric"].astype(object)
    summary = summary[SUMMARY_COLUMNS]
    per_query_used = pd.concat(paired, ignore_index=True)
    return Report(summary, per_query_used, baseline=baseline, test=test, correction=correction, alpha=alpha,
                  confidence=confidence, n_resamples=int(n_resamples), seed=seed, family=family,
                  missing=missing, ci_method=ci_method, warnings=notes, title=title, primary=primary,
                  outside_family=outside_family, power=power, equivalence_margin=equivalence_margin)


def _family_key(family: str, primary: str, system: str, metric: str, baseline: str, outside: tuple) -> str:
    """The correction family of one (system, metric) row (see :data:`SUMMARY_COLUMNS`)."""
    if system == baseline:
        return "baseline"
    if system in outside:
        return f"outside: {system} / {metric}"
    if family == "all":
        return "all"
    if family == "primary":
        return "primary" if metric == primary else f"exploratory: {metric}"
    return f"metric: {metric}"


def compare_runs(qrels: pd.DataFrame, runs: Mapping[str, pd.DataFrame], metrics: Sequence[str], *,
                 baseline: str, missing_queries: str = "zero", **kwargs) -> Report:
    """Evaluate each run with :func:`ltr.metrics.evaluate` and :func:`compare` them.

    Parameters
    ----------
    qrels : DataFrame with columns qid, docid, label
    runs : dict of system name -> RUN frame (qid, docid, score)
    metrics : list of str
        Metric names (``"nDCG@10"``, ``"AP"``, ...), evaluated with the harness's defaults (trec_eval's
        conventions unless the name says otherwise).
    baseline : str
        One of ``runs``.
    missing_queries : {"zero", "skip"}, default="zero"
        Passed to :func:`ltr.metrics.evaluate`. "zero" (trec_eval ``-c``) scores every qrels query for
        every run, a run that retrieved nothing for a query getting 0 there: all systems are then paired
        on the same queries, which is what a fair comparison needs. "skip" (trec_eval's default) evaluates
        each run on its own queries only; runs that differ are then refused by :func:`compare` unless
        ``missing="intersect"``.
    **kwargs
        Passed to :func:`compare` (test, correction, alpha, missing, ...).
    """
    from ltr.metrics import evaluate   # floor 3; imported here so that ltr.report loads without it

    if not isinstance(runs, Mapping) or not runs:
        raise DataError("compare_runs needs runs as a non-empty dict {system name: RUN frame}")
    select(dict.fromkeys(map(str, runs)), str(baseline), what="baseline system")
    if isinstance(metrics, str):
        metrics = [metrics]
    frames = []
    for name, run in runs.items():
        values = evaluate(qrels, run, list(metrics), missing_queries=missing_queries)
        require_columns(values, (QID, METRIC, VALUE), caller="compare_runs (output of ltr.metrics.evaluate)")
        frames.append(values.assign(system=str(name))[[SYSTEM, QID, METRIC, VALUE]])
    kwargs.setdefault("metrics", [str(m) for m in metrics])
    return compare(pd.concat(frames, ignore_index=True), baseline=baseline, **kwargs)


def compare_experiments(per_query_a: pd.DataFrame, per_query_b: pd.DataFrame, *,
                        labels: tuple[str, str] = ("A", "B"), baseline: str | None = None, **kwargs) -> Report:
    """Compare two finished experiments on the queries and metrics they have in common.

    Each input is a per-query frame ``[system, qid, metric, value]`` (or ``[qid, metric, value]`` for a
    single system). Systems are renamed ``"<label>/<system>"`` (just ``"<label>"`` without a system column)
    so that equal names in both experiments stay apart, then all of them are compared with ``baseline``
    (default: the first system of A) on the common queries and metrics; what was left out is listed in
    :attr:`Report.warnings`.

    Parameters
    ----------
    per_query_a, per_query_b : DataFrame
    labels : (str, str), default=("A", "B")
        Prefixes naming the two experiments (e.g. their directories).
    baseline : str, optional
        A renamed system, e.g. ``"A/lambdarank"``.
    **kwargs
        Passed to :func:`compare` (``missing`` is always "intersect").
    """
    if len(labels) != 2 or labels[0] == labels[1]:
        raise DataError(f"compare_experiments needs two different labels, got {labels!r}")
    renamed = []
    for frame, label in zip((per_query_a, per_query_b), labels):
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"compare_experiments needs pandas DataFrames, got {type(frame).__name__}")
        if SYSTEM in frame.columns:
            names = as_id_array(frame[SYSTEM].to_numpy())
            frame = frame.assign(system=[f"{label}/{s}" for s in names])
        else:
            frame = frame.assign(system=str(label))
        renamed.append(_prepare(frame, caller=f"compare_experiments ({label})"))
    a, b = renamed
    notes = []
    metrics = [m for m in dict.fromkeys(a[METRIC]) if m in set(b[METRIC])]
    if not metrics:
        raise DataError(f"compare_experiments: no metric in common between {labels[0]} "
                        f"({sorted(set(a[METRIC]))}) and {labels[1]} ({sorted(set(b[METRIC]))})")
    left_out = sorted((set(a[METRIC]) | set(b[METRIC])) - set(metrics))
    if left_out:
        notes.append(f"metrics not in both experiments, left out: {left_out}")
    qa, qb = set(a[QID]), set(b[QID])
    common = qa & qb
    if len(common) < 2:
        raise DataError(f"compare_experiments: {len(common)} queries in common between {labels[0]} "
                        f"({len(qa)} queries) and {labels[1]} ({len(qb)} queries); need at least 2")
    if common != qa or common != qb:
        notes.append(f"compared on the {len(common)} queries both experiments have ({len(qa - common)} of "
                     f"{labels[0]}'s and {len(qb - common)} of {labels[1]}'s left out)")
    both = pd.concat([a, b], ignore_index=True)
    both = both[both[QID].isin(common) & both[METRIC].isin(metrics)]
    if baseline is None:
        baseline = a[SYSTEM].iloc[0]
    kwargs["missing"] = "intersect"
    kwargs.setdefault("metrics", metrics)
    kwargs.setdefault("title", f"{labels[0]} vs {labels[1]}")
    report = compare(both, baseline=baseline, **kwargs)
    report.warnings = tuple(notes) + report.warnings
    return report
