"""The click-log report: summary (sessions, queries, CTR by position, the declared rules applied), click-model
comparison on held-out SERPs (log-likelihood, perplexity, per position) and figures, in the report style of
:mod:`ltr.report` (Markdown and one self-contained HTML file, figures as PNG).

>>> report = click_log_report(train, test=test, models=["gctr", "pbm", "dbn"])   # doctest: +SKIP
>>> report.save("results/clicks")                                                 # doctest: +SKIP
"""

from __future__ import annotations

import html as _html
from pathlib import Path

import pandas as pd

from ltr.atomic import atomic_write
from ltr.clicks.log import DROP_RULES, ClickLog
from ltr.clicks.models import compare_click_models
from ltr.report.html import figure_block, render_document
from ltr.report.tables import Cell, format_number, render_html, render_markdown, render_plain

__all__ = ["DEFAULT_MODELS", "ClickLogReport", "click_log_report"]

DEFAULT_MODELS = ("gctr", "rctr", "dctr", "pbm", "cm", "ubm", "dcm", "sdbn", "dbn", "ccm", "cm(convention='exact')",
                  "dbn(convention='exact')")
"""Every click model PyClick offers for single-query sessions, in PyClick's order, then the two whose
``convention='exact'`` differs from PyClick's figures (CM's conditional probabilities, DBN's E-step)."""


class ClickLogReport:
    """Summary of one or two click logs and, with a test log, a click-model comparison.

    Parameters
    ----------
    train : ClickLog
    test : ClickLog, optional
    comparison : DataFrame, optional
        From :func:`ltr.clicks.models.compare_click_models` (one row per model).
    fitted : dict, optional
        Model repr -> fitted model (for the propensity and identification notes).
    title : str, optional
    """

    def __init__(self, train: ClickLog, *, test: ClickLog | None = None, comparison: pd.DataFrame | None = None,
                 fitted: dict | None = None, title: str | None = None):
        self.train, self.test = train, test
        self.comparison = comparison
        self.fitted = fitted or {}
        self.title = title or f"Click log: {train.source}"
        self.summaries = {"train": train.summary()}
        if test is not None:
            self.summaries["test"] = test.summary()

    # -- tables -------------------------------------------------------------------------------------
    def summary_table(self) -> tuple[list[str], list[list[Cell]]]:
        names = list(self.summaries)
        rows_by = {n: dict(s.rows()) for n, s in self.summaries.items()}
        keys = list(dict.fromkeys(k for n in names for k in rows_by[n]))
        header = [""] + [f"{n} ({self.summaries[n].source})" for n in names]
        return header, [[Cell(k)] + [Cell(rows_by[n].get(k, "–")) for n in names] for k in keys]

    def ctr_frame(self) -> pd.DataFrame:
        parts = []
        for name, s in self.summaries.items():
            parts.append(s.ctr_by_position.assign(log=name))
        return pd.concat(parts, ignore_index=True)

    def ctr_table(self) -> tuple[list[str], list[list[Cell]]]:
        frame = self.ctr_frame()
        wide = frame.pivot_table(index="position", columns="log", values="ctr", sort=False)
        header = ["position"] + [f"CTR {c}" for c in wide.columns]
        return header, [[Cell(str(int(p)))] + [Cell(format_number(float(v))) for v in wide.loc[p]]
                        for p in wide.index]

    def comparison_table(self) -> tuple[list[str], list[list[Cell]]]:
        c = self.comparison
        best_ll = c["log_likelihood"].max()
        best_p = c["perplexity"].min()
        best_cp = c["conditional_perplexity"].min()
        header = ["model", "log-likelihood", "perplexity", "cond. perplexity", "fit (s)"]
        rows = []
        for r in c.itertuples(index=False):
            rows.append([Cell(r.model), Cell(format_number(r.log_likelihood), r.log_likelihood == best_ll),
                         Cell(format_number(r.perplexity), r.perplexity == best_p),
                         Cell(format_number(r.conditional_perplexity), r.conditional_perplexity == best_cp),
                         Cell(f"{r.fit_seconds:.2f}")])
        return header, rows

    def perplexity_frame(self) -> pd.DataFrame:
        c = self.comparison
        cols = [col for col in c.columns if col.startswith("perplexity@")]
        long = c[["model"] + cols].melt(id_vars=["model"], value_vars=cols, var_name="position",
                                        value_name="perplexity")
        long["position"] = long["position"].str.split("@").str[1].astype(int)
        return long

    def perplexity_table(self) -> tuple[list[str], list[list[Cell]]]:
        long = self.perplexity_frame()
        wide = long.pivot_table(index="model", columns="position", values="perplexity", sort=False)
        best = wide.min(axis=0)
        header = ["model"] + [f"@{p}" for p in wide.columns]
        rows = [[Cell(m)] + [Cell(format_number(float(v)), float(v) == float(best[p])) for p, v in wide.loc[m].items()]
                for m in wide.index]
        return header, rows

    def notes(self) -> list[str]:
        out = [f"{k.replace('_', ' ')}: {v}" for k, v in DROP_RULES.items()]
        for name, s in self.summaries.items():
            for line in s.drops.lines():
                out.append(f"{name}: {line}")
        return out

    def model_notes(self) -> list[str]:
        out = ["Log-likelihood, perplexity and conditional perplexity follow PyClick: mean over SERPs of the "
               "mean log-probability per position; perplexity per position 2^(-mean log2 P(C_r = c_r)) with "
               "unconditional probabilities, averaged over positions; test SERPs of queries not seen in "
               "training are left out; unseen (query, document) pairs get 1/2."]
        for name, model in self.fitted.items():
            ident = getattr(model, "identification_", None)
            if ident is None:
                continue
            if ident.identified and hasattr(model, "propensities"):
                props = " ".join(f"{v:.3f}" for v in model.propensities())
                out.append(f"{name}: {ident.note}. Examination relative to position 1: {props}")
            else:
                out.append(f"{name}: {ident.note}")
        return out

    # -- figures ------------------------------------------------------------------------------------
    def figures(self) -> list[tuple[str, bytes, str]]:
        from ltr.report.clicks import plot_ctr_by_position, plot_perplexity_by_position
        from ltr.report.plots import figure_to_png

        ctr = self.ctr_frame()
        figs = [("CTR by position", figure_to_png(plot_ctr_by_position(ctr)),
                 "Click-through rate at each position with 95% intervals (normal approximation).")]
        if self.comparison is not None:
            figs.append(("Perplexity by position", figure_to_png(plot_perplexity_by_position(self.perplexity_frame())),
                         "Held-out perplexity of each click model at each position (lower is better)."))
        return figs

    # -- rendering ----------------------------------------------------------------------------------
    def __str__(self) -> str:
        parts = [self.title, "", render_plain(*self.summary_table()), "", render_plain(*self.ctr_table())]
        if self.comparison is not None:
            parts += ["", render_plain(*self.comparison_table()), "", render_plain(*self.perplexity_table())]
        return "\n".join(parts)

    def to_markdown(self, *, figure_paths: dict | None = None) -> str:
        parts = [f"# {self.title}", "", "## Summary", "", render_markdown(*self.summary_table(), align="lr"
                                                                         + "r" * (len(self.summaries) - 1)), ""]
        parts += ["## CTR by position", "", render_markdown(*self.ctr_table()), ""]
        parts += ["## Declared rules", ""] + [f"- {n}" for n in self.notes()] + [""]
        if self.comparison is not None:
            parts += ["## Click models (held out)", "", render_markdown(*self.comparison_table()), "",
                      "Bold: best (highest log-likelihood, lowest perplexity).", "",
                      "### Perplexity by position", "", render_markdown(*self.perplexity_table()), ""]
            parts += [f"- {n}" for n in self.model_notes()] + [""]
        if figure_paths:
            parts += ["## Figures", ""] + [f"![{t}]({p})\n" for t, p in figure_paths.items()]
        return "\n".join(parts).rstrip() + "\n"

    def to_html(self) -> str:
        e = _html.escape
        body = [f"<h1>{e(self.title)}</h1>", "<h2>Summary</h2>", '<div class="scroll">',
                render_html(*self.summary_table(), align="l" + "r" * len(self.summaries)), "</div>",
                "<h2>CTR by position</h2>", '<div class="scroll">', render_html(*self.ctr_table()), "</div>",
                "<h2>Declared rules</h2>", "<ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes()) + "</ul>"]
        if self.comparison is not None:
            body += ["<h2>Click models (held out)</h2>", '<div class="scroll">',
                     render_html(*self.comparison_table()), "</div>",
                     '<p class="legend">Bold: best (highest log-likelihood, lowest perplexity).</p>',
                     "<h3>Perplexity by position</h3>", '<div class="scroll">',
                     render_html(*self.perplexity_table()), "</div>",
                     "<ul>" + "".join(f"<li>{e(n)}</li>" for n in self.model_notes()) + "</ul>"]
        figs = self.figures()
        body.append("<h2>Figures</h2>")
        body += [figure_block(png, title=t, caption=c) for t, png, c in figs]
        return render_document(self.title, "\n".join(body))

    def save(self, directory) -> dict[str, Path]:
        """Write ``report.md``, ``report.html``, ``summary.json``, ``comparison.csv`` (with a test log) and
        ``figures/*.png``, each atomically. Returns the paths by name."""
        import json

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        figure_paths = {}
        for title, png, _ in self.figures():
            rel = f"figures/{title.lower().replace(' ', '_')}.png"
            with atomic_write(directory / rel, "wb") as fh:
                fh.write(png)
            figure_paths[title] = rel
            paths[rel] = directory / rel
        outputs = {"report.md": self.to_markdown(figure_paths=figure_paths), "report.html": self.to_html(),
                   "summary.json": json.dumps({k: s.to_dict() for k, s in self.summaries.items()}, indent=2,
                                              sort_keys=True, default=str) + "\n"}
        if self.comparison is not None:
            outputs["comparison.csv"] = self.comparison.to_csv(index=False, lineterminator="\n")
        for name, text in outputs.items():
            with atomic_write(directory / name) as fh:
                fh.write(text)
            paths[name] = directory / name
        return paths


def click_log_report(train: ClickLog, *, test: ClickLog | None = None, models=DEFAULT_MODELS,
                     progress: bool = False, title: str | None = None) -> ClickLogReport:
    """Summarise ``train`` (and ``test``); with ``test``, fit ``models`` on train and compare them on test."""
    comparison, fitted = (None, {})
    if test is not None and models:
        comparison, fitted = compare_click_models(train, test, list(models), progress=progress)
    return ClickLogReport(train, test=test, comparison=comparison, fitted=fitted, title=title)
