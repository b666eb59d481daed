"""The click experiment kind on tiny sizes: declaration, `ltr run` end to end, resume, report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ltr.errors import ConfigError, UnknownNameError
from ltr.experiment import load_experiment
from ltr.experiment.clicks import ClickExperiment, ClickRunner
from ltr.io import write_letor
from tests.experiment.conftest import make_letor

REPO = Path(__file__).resolve().parents[2]

TINY = """
name = "tiny-clicks"
metrics = ["nDCG@10", "AP"]
seeds = [0]

[data]
kind = "letor_files"
train = "train.txt"
valid = "vali.txt"
test = "test.txt"

[clicks]
methods = ["naive", "ips_ranknet", "unbiased_lambdamart", "full_information", "production"]
baseline = "naive"
etas = [2.0]
sessions = [300]
fraction = 0.1
top = 5

[training]
n_estimators = 8
learning_rate = 0.3
n_jobs = 1

[protocol]
control = true
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clicks")
    for role, n, seed in (("train", 30, 1), ("vali", 5, 2), ("test", 12, 3)):
        write_letor(make_letor(n, seed, prefix=role[0], n_docs=10, n_features=4), folder / f"{role}.txt")
    (folder / "tiny.toml").write_text(TINY)
    from ltr.cli import main
    out = folder / "out"
    assert main(["run", str(folder / "tiny.toml"), "--out", str(out), "--quiet"]) == 0
    return folder, out


def test_ltr_run_writes_a_click_experiment_folder(tiny):
    """`ltr run` on a TOML with a [clicks] table runs the click experiment: manifest of kind clicks, one
    finished cell per method, true-label metrics of the test queries, estimates of every estimator plus the
    simulator's truth, and a report with the protocol's sections."""
    folder, out = tiny
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "clicks" and manifest["status"] == "finished"
    metrics = pd.read_csv(out / "metrics.csv", dtype={"qid": str})
    assert set(metrics["method"]) == {"naive", "ips_ranknet", "unbiased_lambdamart", "full_information",
                                      "production", "naive (control)"}
    assert set(metrics["qid"]) == {f"t{i}" for i in range(12)}          # held-out test queries, true labels
    est = pd.read_csv(out / "estimates.csv", dtype={"qid": str})
    assert set(est["estimator"]) == {"ips", "snips", "cm", "dr", "truth"}
    cells = sorted(out.glob("cells/*/*/*/seed*/cell.json"))
    assert len(cells) == 6                                              # five methods and the A/A control
    info = json.loads(cells[0].read_text())
    assert 0 < info["log"]["share_of_documents_shown"] <= 1
    report = (out / "report.md").read_text()
    assert "naive (control)" in report and "outside the correction family" in report
    for section in ("Data and protocol", "True nDCG@10 per condition", "Gap recovered",
                    "Counterfactual estimates against the true metric", "What click methods could learn about"):
        assert section in report
    bias = json.loads((out / "cells/all/eta2-n300/unbiased_lambdamart/seed0/position_bias.json").read_text())
    assert bias["true_propensities"][1] == pytest.approx(0.25)
    assert bias["position_bias"] is not None


def test_resume_keeps_finished_cells(tiny):
    """A second run of the same experiment recomputes nothing (cells are kept by identity and checksums)."""
    folder, out = tiny
    before = {p: p.stat().st_mtime_ns for p in out.glob("cells/*/*/*/seed*/cell.json")}
    runner = ClickRunner(load_experiment(folder / "tiny.toml"), out, progress=False, build_report=False)
    runner.run()
    assert any("resumed: 6 of 6" in m for m in runner.messages)
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_declaration_round_trip_and_errors(tiny):
    """The TOML written to the folder reads back into the same declaration; bad declarations are typed errors."""
    folder, out = tiny
    exp = load_experiment(folder / "tiny.toml")
    text = exp.to_toml()
    (folder / "round.toml").write_text(text)
    assert load_experiment(folder / "round.toml").fingerprint() == exp.fingerprint()
    base = {"name": "x", "data": {"kind": "letor_files", "train": "a", "test": "b"}}
    with pytest.raises(UnknownNameError, match="click method"):
        ClickExperiment.from_dict({**base, "clicks": {"methods": ["nave"]}})
    with pytest.raises(ConfigError, match="baseline"):
        ClickExperiment.from_dict({**base, "clicks": {"methods": ["production", "naive"], "baseline": "production"}})
    with pytest.raises(ConfigError, match="unknown"):
        ClickExperiment.from_dict({**base, "clicks": {}, "objectives": ["lambdarank"]})
    with pytest.raises(ConfigError, match="sessions"):
        ClickExperiment.from_dict({**base, "clicks": {"sessions": [0]}})


@pytest.mark.parametrize("name", ["clicks_mq2008.toml", "clicks_mq2008_small.toml", "clicks_synthetic_web.toml",
                                  "clicks_synthetic_web_small.toml", "clicks_mq2008_claim.toml"])
def test_shipped_click_experiments_parse(name):
    """The shipped click experiments are valid declarations (parsed, every name resolved, without data)."""
    exp = load_experiment(REPO / "experiments" / name)
    assert isinstance(exp, ClickExperiment)
    assert "full_information" in exp.clicks.methods and exp.clicks.baseline == "naive"


def test_readme_click_estimator_snippet_runs():
    """The README's "Learning from clicks, part 2" Python snippet runs as written; its IPS estimate of the
    ranker is within 5% of the truth it prints (every document of the 8 is shown: top = 8)."""
    import contextlib
    import io
    import re
    readme = (REPO / "README.md").read_text()
    part = readme.split("## Learning from clicks, part 2")[1]
    code = re.search(r"```python\n(.*?)```", part, re.S).group(1)
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, "README.md", "exec"), scope)
    est = scope["estimates"]
    ips = est[(est["system"] == "ranker") & (est["estimator"] == "ips")]["estimate"].mean()
    truth = scope["click_metric"](scope["ranker"], scope["probs"], top=8)["value"].mean()
    assert abs(ips - truth) < 0.05 * truth


def test_ltr_report_rebuilds_a_click_report(tiny):
    """`ltr report DIR` on a click folder rebuilds its report; the ordinary build_report points to it."""
    from ltr.cli import main
    from ltr.experiment.reporting import build_report
    folder, out = tiny
    (out / "report.md").unlink()
    assert main(["report", str(out)]) == 0
    assert "Gap recovered" in (out / "report.md").read_text()
    with pytest.raises(ConfigError, match="click experiment"):
        build_report(out)
