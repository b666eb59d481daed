"""Tests of a Report's renderings: plain text, Markdown, LaTeX, self-contained HTML and save().

Oracles: the structure of each format (table shapes, booktabs rules, escaping, inline images) checked
against the summary frame; bold and marks decided by hand on a frame built to have a clear winner.
"""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from ltr.report import compare
from ltr.report.plots import plot_stage_cost
from ltr.report.tables import Cell, escape_latex, render_latex, render_markdown

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report():
    """40 queries; 'rank_xendcg' clearly better than the baseline, 'bad_model' clearly worse, 'same' equal."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.6, 40)
    rows = []
    for metric, scale in (("nDCG@5", 0.9), ("nDCG@10", 1.0)):
        for system, shift in (("lambdarank", 0.0), ("rank_xendcg", 0.2), ("bad_model", -0.15), ("same", 0.0)):
            noise = 0.0 if system in ("lambdarank", "same") else rng.normal(0, 0.02, 40)
            vals = np.clip(scale * base + shift + noise, 0, 1)
            rows += [(system, f"q{i}", metric, v) for i, v in enumerate(vals)]
    frame = pd.DataFrame(rows, columns=["system", "qid", "metric", "value"])
    return compare(frame, baseline="lambdarank", n_resamples=300, title="Objectives on test_data")


def test_significance_and_best_by_hand(report):
    """Oracle: by construction rank_xendcg is best and significantly better, bad_model significantly worse."""
    f = report.to_frame().set_index(["system", "metric"])
    for metric in report.metrics:
        assert f.loc[("rank_xendcg", metric), "significant"] and f.loc[("rank_xendcg", metric), "delta"] > 0
        assert f.loc[("bad_model", metric), "significant"] and f.loc[("bad_model", metric), "delta"] < 0
        assert not f.loc[("same", metric), "significant"]
    best = report._best(4)
    assert best == {("rank_xendcg", "nDCG@5"), ("rank_xendcg", "nDCG@10")}


def test_markdown_shape_bold_and_marks(report):
    """Markdown: summary table systems x metrics, best in bold, ▲/▼ marks, a legend naming test and alpha."""
    md = report.to_markdown()
    summary = md.split("## Summary")[1].split("##")[0]
    table = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(report.systems)                 # header, rule, one row per system
    assert all(line.count("|") == len(report.metrics) + 2 for line in table)
    xendcg = next(line for line in table if "rank\\_xendcg" in line)
    assert xendcg.count("**") == 2 * len(report.metrics) and xendcg.count("▲") == len(report.metrics)
    bad = next(line for line in table if "bad\\_model" in line)
    assert bad.count("▼") == len(report.metrics) and "**" not in bad
    assert "lambdarank (baseline)" in table[2]
    assert "paired t-test" in md and "Holm correction over 3 comparisons per metric" in md and "α = 0.05" in md
    for metric in report.metrics:                                  # one detail table per metric
        assert f"## {metric}" in md
    value = report.to_frame().query("system == 'rank_xendcg' and metric == 'nDCG@10'")["mean"].iloc[0]
    assert f"**{value:.4f}** ▲" in md


def test_plain_text(report):
    """__str__: a fixed-width table whose rows all have the same width as the header rule."""
    text = str(report)
    assert text.startswith("Objectives on test_data")
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "} and line)
    assert "system" in lines[rule - 1] and "rank_xendcg" in text and "▲" in text and "*" in text


def test_latex_structure_and_escaping(report):
    r"""LaTeX: booktabs rules in order, \textbf on the best, escaped underscores, balanced braces."""
    tex = report.to_latex(detail=True)
    tables = re.findall(r"\\begin\{table\}.*?\\end\{table\}", tex, flags=re.S)
    assert len(tables) == 1 + len(report.metrics)
    for t in tables:
        assert t.index(r"\toprule") < t.index(r"\midrule") < t.index(r"\bottomrule")
        assert re.search(r"\\begin\{tabular\}\{l[rlc]+\}", t) and t.count("{") == t.count("}")
        body = t.split(r"\toprule")[1].split(r"\bottomrule")[0]
        ncols = len(re.search(r"\\begin\{tabular\}\{(\w+)\}", t).group(1))
        for line in body.splitlines():
            if line.endswith(r"\\"):
                assert line.count("&") - line.count(r"\&") == ncols - 1
    summary = tables[0]
    assert r"rank\_xendcg & \textbf{" in summary and r"bad\_model" in summary
    assert r"$^{\downarrow}$" in summary and r"$^{\uparrow}$" in summary
    # no unescaped underscore outside math ($d_z$)
    assert not re.search(r"(?<!\\)_", re.sub(r"\$[^$]*\$", "", tex.replace(r"\_", "")))
    assert "% needs \\usepackage{booktabs}" in tex


def test_escape_latex_specials():
    """Oracle: LaTeX's ten special characters, escaped by hand."""
    assert escape_latex(r"a_b&c%d$e#f{g}h~i^j\k") == (r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i"
                                                      r"\textasciicircum{}j\textbackslash{}k")
    tex = render_latex(["name", "x"], [[Cell("x_1"), Cell("0.5", bold=True, mark="up")]])
    assert r"x\_1 & \textbf{0.5}$^{\uparrow}$ \\" in tex


def test_markdown_escapes_pipes():
    """A '|' in a system name must not split the cell."""
    md = render_markdown(["system", "m"], [[Cell("a|b"), Cell("1")]])
    assert md.splitlines()[2] == r"| a\|b | 1 |"


def test_html_is_one_self_contained_file(report):
    """HTML: no external reference, CSS inline, every figure embedded as a decodable PNG."""
    report = compare(report.per_query, baseline="lambdarank", n_resamples=100)   # fresh, no added figures
    import matplotlib.figure
    extra = plot_stage_cost(pd.DataFrame({"stage": ["bm25", "ranker"], "seconds_per_query": [0.001, 0.002],
                                          "feature_computations_per_query": [0, 40]}))
    assert isinstance(extra, matplotlib.figure.Figure)
    report.add_figure("Stage cost", extra, caption="cost per stage")
    html = report.to_html()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    images = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    expected = len(report.figures())
    assert expected == 1 + len(report.metrics) + 1       # metric@k, one delta plot per metric, stage cost
    assert len(images) == expected
    assert all(base64.b64decode(data).startswith(PNG_MAGIC) for _, data in images)
    assert "Stage cost" in [alt for alt, _ in images] and "cost per stage" in html
    assert html.count("<table>") == 1 + len(report.metrics)
    assert '<span class="mark up"' in html and "<strong>" in html


def test_save_writes_every_file(tmp_path, report):
    """save(): report.md/html/tex, summary.csv (round-trips the frame) and the PNGs the Markdown links."""
    paths = report.save(tmp_path / "out")
    for name in ("report.md", "report.html", "report.tex", "summary.csv"):
        assert paths[name].is_file() and paths[name].stat().st_size > 0
    back = pd.read_csv(paths["summary.csv"], dtype={"system": object, "metric": object})
    f = report.to_frame()
    np.testing.assert_array_equal(back[["mean", "p_value", "delta_ci_low"]].to_numpy(),
                                  f[["mean", "p_value", "delta_ci_low"]].to_numpy(float))
    assert list(back["system"]) == list(f["system"])
    md = paths["report.md"].read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == len(report.figures())
    for rel in links:
        png = (tmp_path / "out" / rel).read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert not list((tmp_path / "out").glob(".*.tmp"))            # atomic writes leave no temporaries


def test_long_text_columns_wrap_in_html():
    """Issue 11 (new user): the HTML tuning table's configuration column ran off the page. A text column with a
    cell longer than WRAP_AT characters gets the class "wrap" (which the inline CSS lets break), the other
    columns none; oracle: the rendered classes, counted by hand."""
    from ltr.report.html import CSS
    from ltr.report.tables import WRAP_AT, render_html
    config = ", ".join(f"param_{i}={i / 7:.4g}" for i in range(8))
    assert len(config) > WRAP_AT
    html = render_html(["fold", "system", "best valid nDCG@10", "chosen configuration"],
                       [["fold1", "lightgbm/lambdarank", "0.5123", config], ["fold2", "xgboost/ranknet", "0.5", "x=1"]],
                       align="llrl")
    assert html.count('class="left wrap"') == 3             # header + 2 cells of the configuration column
    assert html.count("wrap") == 3 and '<td class="right">0.5123</td>' in html
    assert re.search(r"td\.wrap \{[^}]*white-space: normal", CSS)


def test_plain_text_marks_have_a_legend(report):
    """Issue 11 (new user): `ltr compare` prints `*` on the best mean; the legend under the table says so, and
    names every significance mark the table uses."""
    text = str(report)
    head = text.split("\n" + report.metrics[0] + "\n", 1)[0]          # the summary, before the detail tables
    table, legend = head.rstrip().rsplit("\n", 1)
    assert "*" in table and "▲" in table and "▼" in table
    assert "*: best mean per metric" in legend
    assert legend.startswith("▲/▼: significantly better/worse than the baseline lambdarank")
