"""The click-log report: tables, notes, figures, files."""

from __future__ import annotations

import pytest

from ltr.clicks import read_yandex
from ltr.clicks.report import click_log_report
from ltr.clicks.simulate import simulate
from tests.clicks.conftest import random_probabilities, random_run
from tests.conftest import shared_path


def test_report_on_the_yandex_sample(tmp_path):
    """Oracle: PyClick's figures in SOURCE.md (4 decimals), for the models shown."""
    folder = shared_path("yandex-clicks-sample")
    train, test = read_yandex(folder / "oneQueryTrain"), read_yandex(folder / "oneQueryTest")
    report = click_log_report(train, test=test, models=["gctr", "pbm", "ubm"])
    md = report.to_markdown()
    assert "| pbm | -0.1949 | **1.2392** | 1.2392 |" in md
    assert "| ubm | **-0.1904** | 1.2421 | **1.2342** |" in md
    assert "| pbm | **1.9796** | 1.4865 |" in md           # perplexity at positions 1 and 2
    assert "repeated clicks on one shown document" in md and "74 repeated clicks (in 32 SERPs)" in md
    assert "not identified" in md                         # position 1 shows one document only in oneQueryTrain
    paths = report.save(tmp_path / "r")
    assert {"report.md", "report.html", "summary.json", "comparison.csv",
            "figures/ctr_by_position.png", "figures/perplexity_by_position.png"} <= set(paths)
    html = (tmp_path / "r" / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("data:image/png;base64,") == 2
    assert "pbm" in str(report)


def test_summary_only_report(tmp_path):
    run = random_run(5, 6)
    log = simulate(run, random_probabilities(run), sessions=300, seed=0)
    report = click_log_report(log)
    assert report.comparison is None
    paths = report.save(tmp_path)
    assert "comparison.csv" not in paths and "## Click models" not in (tmp_path / "report.md").read_text()
    with pytest.raises(Exception):
        report.perplexity_frame()
