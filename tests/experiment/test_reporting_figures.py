"""Figures and tables of an experiment's report (ltr.experiment.reporting.build_report).

Oracles: the report's own summary frame (the lead figure's systems and order), the HTML and Markdown
structure (what comes first, what is absent), and the PNG bytes drawn in one process.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ltr.experiment import load_experiment, run_experiment
from ltr.experiment.reporting import build_report
from tests.experiment.conftest import write_small_experiment


@pytest.fixture(scope="module")
def untuned(tmp_path_factory) -> Path:
    """A finished experiment with tuning.budget = 1 (no search)."""
    root = tmp_path_factory.mktemp("reporting")
    toml = write_small_experiment(root / "data", seeds=(0,), objectives=("lambdarank", "regression"), budget=1)
    return run_experiment(load_experiment(toml), root / "out", progress=False, build_report=False)


def test_the_report_opens_with_each_systems_mean_and_interval(untuned, tmp_path, monkeypatch):
    """Issue 11 (new user): the report opens with one figure of each system's mean and confidence interval on
    the primary metric; in the HTML it comes before the summary table, in the Markdown it is the first image;
    report.html stays one self-contained file."""
    monkeypatch.setenv("LTR_REPORT_PROCESSES", "1")
    out = shutil.copytree(untuned, tmp_path / "out")
    build_report(out)
    html = (out / "report.html").read_text()
    first_img = html.index("<img ")
    assert first_img < html.index("<h2>Summary</h2>")
    assert re.match(r'<img alt="Mean nDCG@10 per system" src="data:image/png;base64,', html[first_img:])
    assert "the baseline lightgbm/lambdarank" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html) and "<script" not in html
    md = (out / "report.md").read_text()
    assert md.index("![Mean nDCG@10 per system](figures/Mean_nDCG_at_10_per_system.png)") < md.index("## Summary")
    assert (out / "figures" / "Mean_nDCG_at_10_per_system.png").is_file()


def test_budget_one_has_no_tuning_table(untuned, tmp_path, monkeypatch):
    """Issue 11 (new user): with tuning.budget = 1 the report showed a tuning table of "–" and
    "1 configurations"; now a note says no search ran, and there is no tuning table."""
    monkeypatch.setenv("LTR_REPORT_PROCESSES", "1")
    out = shutil.copytree(untuned, tmp_path / "out")
    build_report(out)
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert "No tuning (tuning.budget = 1)" in text
        assert "1 configurations" not in text and "Tuning</h2>" not in text and "## Tuning" not in text


def test_figures_do_not_depend_on_the_number_of_processes(untuned, tmp_path, monkeypatch):
    """Determinism: every figure file is byte-identical drawn in 1 or in 3 processes; oracle: the 1-process
    drawing."""
    folders = {}
    for n in ("1", "3"):
        monkeypatch.setenv("LTR_REPORT_PROCESSES", n)
        folders[n] = shutil.copytree(untuned, tmp_path / f"out{n}")
        build_report(folders[n])
    names = sorted(p.name for p in (folders["1"] / "figures").glob("*.png"))
    assert len(names) >= 4 and names == sorted(p.name for p in (folders["3"] / "figures").glob("*.png"))
    for name in names:
        assert (folders["1"] / "figures" / name).read_bytes() == (folders["3"] / "figures" / name).read_bytes(), name
    assert (folders["1"] / "report.html").read_bytes() == (folders["3"] / "report.html").read_bytes()


def test_saved_ndcg_at_k_equals_the_values_recomputed_from_the_run_files(untuned):
    """Each cell saves nDCG@k of the report's curve while it runs (ndcg_at_k.csv, recorded in cell.json); the
    report reads them. Oracle: the same curve recomputed from the run files and the saved qrels, as for a
    folder written before the cells saved it: equal values, in the same order. The curve of each cell is also
    trec_eval's (pytrec_eval's ndcg_cut) on its run file."""
    import json

    import numpy as np
    import pandas as pd
    import pytrec_eval

    from ltr.experiment import integrity
    from ltr.experiment.reporting import experiment_cells, metric_at_k
    from ltr.experiment.curve import CURVE_CUTOFFS, CURVE_FILE
    from ltr.experiment.spec import Experiment
    manifest = integrity.read_manifest(untuned)
    cells = experiment_cells(untuned, manifest, Experiment.from_dict(manifest["experiment"]))
    assert cells and all(str((d / CURVE_FILE).relative_to(untuned)) in info["files"] for d, info in cells)
    saved = metric_at_k(untuned, cells)
    old_style = [(d, {**info, "files": {k: v for k, v in info["files"].items() if not k.endswith(CURVE_FILE)}})
                 for d, info in cells]
    pd.testing.assert_frame_equal(saved, metric_at_k(untuned, old_style))
    folder, info = next((d, i) for d, i in cells if any(k.endswith(".trec") for k in i["files"]))
    run_file = untuned / next(k for k in info["files"] if k.endswith(".trec"))
    qrels_file = untuned / "qrels" / f"{info['fold']}.qrels"
    with open(qrels_file) as f:
        qrels = pytrec_eval.parse_qrel(f)
    with open(run_file) as f:
        run = pytrec_eval.parse_run(f)
    cuts = ",".join(map(str, CURVE_CUTOFFS))
    oracle = pytrec_eval.RelevanceEvaluator(qrels, {f"ndcg_cut.{cuts}"}).evaluate(run)
    ours = pd.read_csv(folder / CURVE_FILE, dtype={"qid": str})
    for row in ours.itertuples(index=False):
        k = row.metric.split("@")[1]
        assert np.isclose(row.value, oracle[row.qid][f"ndcg_cut_{k}"], rtol=0, atol=1e-12), row
    assert json.loads((folder / "cell.json").read_text())["files"][str((folder / CURVE_FILE).relative_to(untuned))]
