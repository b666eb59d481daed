"""Click-log plots (ltr.report.clicks): they draw what they are given and refuse empty frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.errors import DataError, SchemaError
from ltr.report.clicks import plot_ctr_by_position, plot_perplexity_by_position, plot_propensities


def test_ctr_plot_has_one_line_per_log_with_intervals(tmp_path):
    frame = pd.DataFrame({"position": [1, 2, 3] * 2, "ctr": [0.4, 0.2, 0.1, 0.5, 0.3, 0.1],
                          "impressions": [100] * 6, "log": ["train"] * 3 + ["test"] * 3})
    fig = plot_ctr_by_position(frame, path=tmp_path / "ctr.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert len(ax.containers) == 2                                   # two error-bar containers
    assert (tmp_path / "ctr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_perplexity_and_propensity_plots():
    perp = pd.DataFrame({"model": ["pbm"] * 3 + ["dbn"] * 3, "position": [1, 2, 3] * 2,
                         "perplexity": [1.8, 1.5, 1.3, 1.9, 1.6, 1.3]})
    fig = plot_perplexity_by_position(perp)
    lines = fig.axes[0].get_lines()
    assert [l.get_label() for l in lines] == ["pbm", "dbn"]
    assert np.allclose(lines[0].get_ydata(), [1.8, 1.5, 1.3])
    props = pd.DataFrame({"estimator": ["truth"] * 3 + ["swap"] * 3, "position": [1, 2, 3] * 2,
                          "propensity": [1, 0.5, 1 / 3, 1, 0.52, 0.31], "stderr": [0, 0, 0, 0, 0.02, 0.02]})
    fig = plot_propensities(props)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["truth", "swap"]


def test_empty_or_incomplete_frames_are_refused():
    with pytest.raises(DataError, match="plot_ctr_by_position got an empty frame"):
        plot_ctr_by_position(pd.DataFrame({"position": [], "ctr": []}))
    with pytest.raises(SchemaError, match=r"plot_perplexity_by_position needs columns \['model'\]"):
        plot_perplexity_by_position(pd.DataFrame({"position": [1], "perplexity": [1.0]}))
