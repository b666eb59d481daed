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
