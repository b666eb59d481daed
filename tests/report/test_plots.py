"""Tests of ltr.report.plots: every plot returns a Figure of the fixed width and saves a non-empty PNG.

Oracle: the drawn data read back from the axes (bar heights = sorted per-query differences computed by
hand, line points = means computed by hand) and the PNG signature of the saved file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ltr.errors import DataError, SchemaError, UnknownNameError
from ltr.report import plots as P

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _per_query():
    rows = []
    for system, vals in {"base": [0.2, 0.4, 0.6], "x": [0.5, 0.4, 0.3]}.items():
        for k, scale in ((5, 0.5), (10, 1.0), (20, 1.0)):
            rows += [(system, f"q{i}", f"nDCG@{k}", v * scale) for i, v in enumerate(vals)]
        rows += [(system, f"q{i}", "RR", v) for i, v in enumerate(vals)]
    return pd.DataFrame(rows, columns=["system", "qid", "metric", "value"])


def _saved(fig, path):
    assert isinstance(fig, Figure)
    assert fig.get_size_inches()[0] == pytest.approx(P.WIDTH)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000
    assert P.figure_to_png(fig).startswith(PNG_MAGIC)


def test_metric_at_k(tmp_path):
    """Line points are the per-system means at each cutoff (by hand); RR (no cutoff) is not drawn."""
    fig = P.plot_metric_at_k(_per_query(), path=tmp_path / "k.png")
    _saved(fig, tmp_path / "k.png")
    (ax,) = [a for a in fig.axes if a.get_visible()]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["base"].get_xdata(), [5, 10, 20])
    np.testing.assert_allclose(lines["base"].get_ydata(), [0.2, 0.4, 0.4])
    np.testing.assert_allclose(lines["x"].get_ydata(), [0.2, 0.4, 0.4])
    assert P.metric_families(["nDCG@10", "P(rel=2)@5", "nDCG@5", "AP"]) == {
        "nDCG": [(5, "nDCG@5"), (10, "nDCG@10")], "P(rel=2)": [(5, "P(rel=2)@5")]}
    with pytest.raises(DataError, match="two or more cutoffs"):
        P.plot_metric_at_k(_per_query()[lambda f: f.metric == "RR"])


def test_per_query_delta(tmp_path):
    """Step heights are the sorted differences x - base computed by hand: (0.3, 0, -0.3)."""
    fig = P.plot_per_query_delta(_per_query(), baseline="base", metric="RR", path=tmp_path / "d.png")
    _saved(fig, tmp_path / "d.png")
    wins, losses = (patch.get_data().values for patch in fig.axes[0].patches)
    np.testing.assert_allclose(wins + losses, [0.3, 0.0, -0.3], atol=1e-12)
    assert (wins >= 0).all() and (losses <= 0).all()
    assert "wins 1, ties 1, losses 1" in fig.axes[0].get_title()
    with pytest.raises(UnknownNameError, match="no values for metric 'MAP'"):
        P.plot_per_query_delta(_per_query(), baseline="base", metric="MAP")
    with pytest.raises(UnknownNameError, match="Unknown baseline system 'bas'"):
        P.plot_per_query_delta(_per_query(), baseline="bas", metric="RR")


def test_training_curves(tmp_path):
    """One line per (system, split), in iteration order."""
    rows = [(s, it, split, "nDCG@10", 0.1 * it + (0.05 if split == "train" else 0))
            for s in ("a", "b") for split in ("train", "valid") for it in (3, 1, 2)]
    curves = pd.DataFrame(rows, columns=["system", "iteration", "split", "metric", "value"])
    fig = P.plot_training_curves(curves, path=tmp_path / "t.png")
    _saved(fig, tmp_path / "t.png")
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == {"a (train)", "a (valid)", "b (train)", "b (valid)"}
    np.testing.assert_allclose(lines["a (valid)"].get_xdata(), [1, 2, 3])
    with pytest.raises(SchemaError, match=r"plot_training_curves needs columns \['split'\]"):
        P.plot_training_curves(curves.drop(columns="split"))


def test_feature_importance(tmp_path):
    """Top-k bars hold the largest shares, largest at the top."""
    imp = pd.DataFrame({"system": ["m"] * 4, "feature": ["bm25__body", "recency__age", "url__depth", "pr"],
                        "importance": [50.0, 30.0, 15.0, 5.0]})
    fig = P.plot_feature_importance(imp, top_k=3, path=tmp_path / "i.png")
    _saved(fig, tmp_path / "i.png")
    widths = [bar.get_width() for bar in fig.axes[0].patches]
    np.testing.assert_allclose(widths, [0.15, 0.30, 0.50])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["url__depth", "recency__age", "bm25__body"]
    with pytest.raises(DataError, match="'top_k' parameter of plot_feature_importance must be an int >= 1"):
        P.plot_feature_importance(imp, top_k=0)


def test_recall_and_stage_cost(tmp_path):
    """Recall@k points as given; stage cost bars in milliseconds and feature computations."""
    recall = pd.DataFrame({"k": [10, 100, 1000], "recall": [0.3, 0.7, 0.9]})
    fig = P.plot_recall_at_k(recall, path=tmp_path / "r.png")
    _saved(fig, tmp_path / "r.png")
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.3, 0.7, 0.9])
    cost = pd.DataFrame({"stage": ["bm25", "features", "ranker"], "seconds_per_query": [0.002, 0.010, 0.001],
                         "feature_computations_per_query": [0, 3000, 0]})
    fig = P.plot_stage_cost(cost, path=tmp_path / "c.png")
    _saved(fig, tmp_path / "c.png")
    np.testing.assert_allclose([b.get_width() for b in fig.axes[0].patches], [2.0, 10.0, 1.0])
    with pytest.raises(DataError, match="empty frame"):
        P.plot_stage_cost(cost.iloc[:0])


# ------------------------------------------------------------------------ labels stay on the canvas ---

LONG_SYSTEMS = ["lightgbm/lambdarank_map(threshold=2)", "xgboost/rank:ndcg_with_a_very_long_objective_name",
                "lightgbm/binary(threshold=2) (control)"]
LONG_STAGES = ["bm25 (title+body, k1=0.9, b=0.4) top 1000",
               "features (28) + GBDT re-ranking of 100 with xgboost/lambdarank_map(threshold=2)",
               "ranker"]


def _drawn_text_boxes(fig, monkeypatch):
    """(text, bbox) of every text the Agg renderer actually draws (ticks outside the view are not drawn)."""
    from matplotlib.text import Text
    drawn, original = [], Text.draw

    def spy(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append((self.get_text(), self.get_window_extent(renderer)))
    monkeypatch.setattr(Text, "draw", spy)
    fig.canvas.draw()
    monkeypatch.setattr(Text, "draw", original)
    return drawn


def _assert_inside(fig, monkeypatch):
    drawn = _drawn_text_boxes(fig, monkeypatch)
    assert drawn, "nothing drawn"
    width, height = fig.canvas.get_width_height()
    for text, box in drawn:
        assert box.x0 >= -0.5 and box.y0 >= -0.5 and box.x1 <= width + 0.5 and box.y1 <= height + 0.5, (
            f"{text!r} leaves the {width}x{height} canvas: {box}")
    return drawn


def _long_curves():
    rows = [(s, it, split, metric, 0.5 + 0.01 * it)
            for s in LONG_SYSTEMS for split in ("train", "valid")
            for metric in ("nDCG(gain='exp', judged_only=True)@10", "AP(rel=2)")
            for it in range(1, 60)]
    return pd.DataFrame(rows, columns=["system", "iteration", "split", "metric", "value"])


@pytest.mark.parametrize("figure", ["stage_cost", "training_curves", "metric_at_k", "per_query_delta",
                                    "feature_importance", "recall_at_k", "system_means"])
def test_no_text_leaves_the_canvas(figure, monkeypatch):
    """Issue 11 (new user): the per-stage cost and training-curve figures clipped their labels.

    Oracle: the Agg renderer's own bounding box of every text it draws (titles, tick labels, axis labels,
    legends, the values printed after bars) lies inside the canvas, with long stage, system, metric and
    feature names."""
    per_query = pd.DataFrame([(s, f"q{i}", f"nDCG@{k}", (i * 7 % 5) / 5 + 0.01 * j)
                              for j, s in enumerate(LONG_SYSTEMS) for i in range(30) for k in (5, 10)],
                             columns=["system", "qid", "metric", "value"])
    if figure == "stage_cost":
        fig = P.plot_stage_cost(pd.DataFrame({"stage": LONG_STAGES, "seconds_per_query": [0.0004, 0.21, 0.0001],
                                              "feature_computations_per_query": [0, 123456, 0]}))
    elif figure == "training_curves":
        fig = P.plot_training_curves(_long_curves())
    elif figure == "metric_at_k":
        fig = P.plot_metric_at_k(per_query)
    elif figure == "per_query_delta":
        fig = P.plot_per_query_delta(per_query, baseline=LONG_SYSTEMS[0], metric="nDCG@10")
    elif figure == "feature_importance":
        fig = P.plot_feature_importance(pd.DataFrame(
            {"system": LONG_SYSTEMS[0], "feature": [f"bm25(field='body', k1=0.{i})__score" for i in range(12)],
             "importance": np.arange(12.0) + 1}))
    elif figure == "recall_at_k":
        fig = P.plot_recall_at_k(pd.DataFrame({"system": np.repeat(LONG_STAGES, 3), "k": [10, 100, 1000] * 3,
                                               "recall": [0.3, 0.7, 0.9] * 3}))
    else:
        fig = P.plot_system_means(pd.DataFrame({"system": LONG_SYSTEMS, "mean": [0.4, 0.45, 0.41],
                                                "ci_low": [0.35, 0.4, 0.36], "ci_high": [0.45, 0.5, 0.46]}),
                                  metric="nDCG(gain='exp')@10", baseline=LONG_SYSTEMS[0],
                                  controls=[LONG_SYSTEMS[2]], confidence=0.95)
    drawn = _assert_inside(fig, monkeypatch)
    texts = "\n".join(t for t, _ in drawn)
    if figure == "stage_cost":                              # every stage named (wrapped, not cut)
        assert "ranker" in texts and "xgboost/" in texts and "1000" in texts
    if figure == "training_curves":                         # both legends: systems and splits
        assert all(s in texts for s in LONG_SYSTEMS) and "train" in texts and "valid" in texts


def test_system_means_draws_the_summary(tmp_path):
    """Oracle: the summary frame itself; each system's dot at its mean and its bar from ci_low to ci_high, top
    to bottom in the frame's order; the baseline's mean as a vertical line; the control hollow."""
    summary = pd.DataFrame({"system": ["base", "x", "base (control)"], "mean": [0.5, 0.6, 0.51],
                            "ci_low": [0.45, 0.52, 0.46], "ci_high": [0.55, 0.66, 0.56]})
    fig = P.plot_system_means(summary, metric="nDCG@10", baseline="base", controls=["base (control)"],
                              confidence=0.95, path=tmp_path / "m.png")
    _saved(fig, tmp_path / "m.png")
    ax = fig.axes[0]
    lines = ax.get_lines()
    bars, dots = lines[0:6:2], lines[1:6:2]
    for (low, high, mean), bar, dot, y in zip(summary[["ci_low", "ci_high", "mean"]].to_numpy(), bars, dots,
                                              (2, 1, 0)):
        np.testing.assert_allclose(bar.get_xdata(), [low, high])
        np.testing.assert_allclose(dot.get_xdata(), [mean])
        np.testing.assert_allclose(dot.get_ydata(), [y])
    assert dots[2].get_markerfacecolor() == "white" and dots[0].get_markerfacecolor() != "white"
    np.testing.assert_allclose(lines[6].get_xdata(), [0.5, 0.5])          # the baseline's mean
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["base (baseline)", "x", "base (control)"]
    assert "95% confidence interval" in ax.get_xlabel()
    with pytest.raises(UnknownNameError, match="baseline system 'bse'"):
        P.plot_system_means(summary, metric="nDCG@10", baseline="bse")


# ------------------------------------------------------------------------------- parallel rendering ---

def _jobs():
    per_query = pd.DataFrame([(s, f"q{i}", f"nDCG@{k}", ((i * 7 + j) % 5) / 5)
                              for j, s in enumerate(["a/x", "b/x", "a/y"]) for i in range(40) for k in (5, 10)],
                             columns=["system", "qid", "metric", "value"])
    return [P.figure_job("plot_metric_at_k", per_query=per_query),
            P.figure_job("plot_per_query_delta", per_query=per_query, baseline="a/x", metric="nDCG@10", weight=2),
            P.figure_job("plot_training_curves", curves=_long_curves()),
            P.figure_job("plot_stage_cost", cost=pd.DataFrame({"stage": LONG_STAGES,
                                                               "seconds_per_query": [0.001, 0.2, 0.0],
                                                               "feature_computations_per_query": [0, 9, 0]}))]


def test_render_bytes_do_not_depend_on_the_number_of_processes():
    """Determinism: the PNG bytes of each figure are the same drawn in this process, in 2 or in 3 forked
    workers, and drawn again; oracle: the in-process drawing with figure_to_png."""
    jobs = _jobs()
    direct = [P.figure_to_png(getattr(P, job.function)(**job.kwargs)) for job in jobs]
    assert P.render(jobs, processes=1) == direct
    assert P.render(jobs, processes=2) == direct
    assert P.render(jobs, processes=3) == direct
    assert P.render(jobs[::-1], processes=2) == direct[::-1]
    assert len(set(direct)) == len(direct)


def _training_curves_frame():
    return _long_curves()


@pytest.mark.parametrize("processes", [1, 2])
def test_renderer_draws_while_the_caller_goes_on(processes):
    """Renderer.submit returns at once and result() gives the same bytes as figure_to_png in this process
    (oracle); a Deferred argument is computed where the figure is drawn (in a worker with 2 processes), with
    the bytes of the job given the computed value."""
    jobs = _jobs()
    direct = [P.figure_to_png(getattr(P, job.function)(**job.kwargs)) for job in jobs]
    deferred = P.figure_job("plot_training_curves", curves=P.Deferred(_training_curves_frame))
    with P.Renderer(processes) as renderer:
        assert renderer.parallel == (processes > 1)
        futures = [renderer.submit(job) for job in jobs + [deferred]]
        assert [f.result() for f in futures] == direct + [direct[2]]


def test_report_start_figures_gives_the_figures_of_draw_figures():
    """A Report whose figures were handed to a 2-process Renderer before more were added has the same
    figures, in the same order, as one drawn at the end in this process (oracle)."""
    from ltr.report import compare
    per_query = _jobs()[0].kwargs["per_query"]

    def report():
        out = compare(per_query, baseline="a/x", seed=0)
        out.add_lead_figure("nDCG@10")
        return out

    drawn = report().draw_figures(processes=1).figures()
    early = report()
    with P.Renderer(2) as renderer:
        early.start_figures(renderer)
        early.add_figure("Curves", P.figure_job("plot_training_curves", curves=_long_curves()))
        early.add_figure("Curves, submitted", renderer.submit(P.figure_job("plot_training_curves",
                                                                           curves=_long_curves())))
        early.draw_figures(processes=1)
    late = report()
    late.add_figure("Curves", P.figure_job("plot_training_curves", curves=_long_curves()))
    late.add_figure("Curves, submitted", P.figure_job("plot_training_curves", curves=_long_curves()))
    assert [t for t, _, _ in early.figures()] == [t for t, _, _ in late.figures()]
    assert early.figures() == late.draw_figures(processes=1).figures()
    assert early.figures()[:len(drawn)] == drawn


def test_figure_job_and_processes_errors(monkeypatch):
    """Bad input: an unknown plot function and a bad LTR_REPORT_PROCESSES are typed errors saying what to do."""
    with pytest.raises(UnknownNameError, match="unknown plot function 'plot_pie'"):
        P.figure_job("plot_pie")
    with pytest.raises(DataError, match="give no 'path'"):
        P.figure_job("plot_stage_cost", cost=None, path="x.png")
    monkeypatch.setenv("LTR_REPORT_PROCESSES", "two")
    with pytest.raises(DataError, match="LTR_REPORT_PROCESSES must be a whole number >= 1, got 'two'"):
        P.default_processes()
    monkeypatch.setenv("LTR_REPORT_PROCESSES", "3")
    assert P.default_processes() == 3


def test_system_styles_tell_systems_apart():
    """Colour per objective, marker per backend; no two systems share both (here 5 objectives x 2 backends)."""
    systems = [f"{b}/{o}" for o in ("lambdarank", "ranknet", "rank_xendcg", "regression", "binary") for b in
               ("lightgbm", "xgboost")]
    styles = P.system_styles(systems)
    assert len(set(styles.values())) == len(systems)
    assert styles["lightgbm/ranknet"][0] == styles["xgboost/ranknet"][0]
    assert styles["lightgbm/ranknet"][1] == styles["lightgbm/regression"][1]
    many = P.system_styles([f"s{i}" for i in range(40)])
    assert len(set(many.values())) == 40
