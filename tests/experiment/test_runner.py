"""The runner: outputs, determinism, resume after SIGKILL, refusal of a foreign folder, report numbers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltr.errors import ConfigError
from ltr.experiment import Experiment, load_experiment, run_experiment
from ltr.experiment.reporting import pooled_per_query, read_metrics
from ltr.io import read_qrels, read_run
from ltr.metrics import evaluate
from tests.experiment.conftest import write_small_experiment


def _run(toml: Path, out: Path, **kwargs) -> Path:
    return run_experiment(load_experiment(toml), out, progress=False, **kwargs)


def test_outputs_and_same_seeds_give_identical_results(small_experiment, tmp_path):
    """Two runs of the same experiment give byte-identical run files and metrics.csv."""
    a = _run(small_experiment, tmp_path / "a")
    b = _run(small_experiment, tmp_path / "b", build_report=False)
    for name in ("manifest.json", "metrics.csv", "report.md", "report.html", "report.tex", "experiment.toml"):
        assert (a / name).is_file(), name
    runs_a = sorted(p.relative_to(a) for p in (a / "runs").rglob("*.trec"))
    assert runs_a == sorted(p.relative_to(b) for p in (b / "runs").rglob("*.trec"))
    exp = load_experiment(small_experiment)
    assert len(runs_a) == len(exp.systems()) * len(exp.seeds)
    for rel in runs_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    metrics = pd.read_csv(a / "metrics.csv", dtype={"qid": str})
    assert list(metrics.columns) == ["fold", "objective", "backend", "seed", "qid", "metric", "value"]
    assert metrics["qid"].nunique() == 20
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["status"] == "finished"
    assert set(manifest["data_hashes"]) == {"all/train", "all/valid", "all/test"}
    assert manifest["versions"]["lightgbm"] and manifest["seeds"] == [0, 1]


def test_report_numbers_are_recomputed_from_run_files(small_experiment, tmp_path):
    """Oracle: the harness (ltr.metrics.evaluate) applied to the TREC run files and saved qrels gives the
    means of the report's summary table."""
    out = _run(small_experiment, tmp_path / "r")
    qrels = read_qrels(out / "qrels" / "all.qrels")
    exp = load_experiment(small_experiment)
    summary = pd.read_csv(out / "summary.csv")
    for s in exp.systems():
        system, backend, objective = s.name, s.backend, s.objective_name
        values = []
        for seed in exp.seeds:
            run = read_run(next((out / "runs" / "all").glob(f"{backend}-{objective}-seed{seed}.trec")))
            values.append(evaluate(qrels, run, ["nDCG@10"]).set_index("qid")["value"])
        expected = pd.concat(values, axis=1).mean(axis=1).mean()
        row = summary[(summary["system"] == system) & (summary["metric"] == "nDCG@10")]
        assert row["mean"].iloc[0] == pytest.approx(expected, abs=1e-12)
    pooled = pooled_per_query(read_metrics(out))
    assert pooled.groupby(["system", "metric"]).size().eq(20).all()


def test_resume_skips_finished_cells(small_experiment, tmp_path):
    out = _run(small_experiment, tmp_path / "o", build_report=False)
    stamps = {p: p.stat().st_mtime_ns for p in (out / "cells").rglob("cell.json")}
    _run(small_experiment, out, build_report=False)
    assert {p: p.stat().st_mtime_ns for p in (out / "cells").rglob("cell.json")} == stamps


def test_a_tampered_cell_is_recomputed(small_experiment, tmp_path):
    out = _run(small_experiment, tmp_path / "o", build_report=False)
    before = (out / "metrics.csv").read_bytes()
    victim = next((out / "runs").rglob("*.trec"))
    victim.write_text("garbage\n")
    _run(small_experiment, out, build_report=False)
    assert (out / "metrics.csv").read_bytes() == before
    assert "garbage" not in victim.read_text()


def test_a_folder_holding_another_experiment_is_refused(small_experiment, tmp_path):
    out = _run(small_experiment, tmp_path / "o", build_report=False)
    other = write_small_experiment(tmp_path / "other", seeds=(5,), name="other")
    with pytest.raises(ConfigError, match=r"holds a different experiment \('small'.*--overwrite"):
        _run(other, out)
    _run(other, out, overwrite=True, build_report=False)
    assert json.loads((out / "manifest.json").read_text())["experiment"]["name"] == "other"


def test_missing_data_path_fails_before_any_work(tmp_path):
    exp = Experiment(name="x", data={"kind": "letor_files", "train": "nope.txt", "test": "nope.txt"},
                     objectives=["lambdarank"], base_dir=str(tmp_path), tuning={"budget": 1})
    with pytest.raises(ConfigError, match=r"data.train file .*nope.txt does not exist"):
        run_experiment(exp, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_without_a_validation_file_queries_are_held_out(small_experiment, tmp_path):
    exp = load_experiment(small_experiment)
    data = dict(exp.to_dict()["data"], valid=None, holdout=0.2)
    no_valid = Experiment.from_dict({**exp.to_dict(), "data": data}, base_dir=small_experiment.parent)
    out = run_experiment(no_valid, tmp_path / "held", progress=False, build_report=False)
    notes = json.loads((out / "manifest.json").read_text())["data_notes"]
    assert any("held out" in n for n in notes)


def test_folds_without_validation_data_are_refused_when_tuning_needs_them(tmp_path):
    from tests.experiment.conftest import make_letor
    from ltr.io import write_letor
    fold = tmp_path / "letor" / "Fold1"
    fold.mkdir(parents=True)
    write_letor(make_letor(10, 1, prefix="a"), fold / "train.txt")
    write_letor(make_letor(5, 2, prefix="b"), fold / "test.txt")
    exp = Experiment(name="x", data={"kind": "letor", "path": str(tmp_path / "letor")},
                     objectives=["lambdarank"], tuning={"budget": 3})
    with pytest.raises(ConfigError, match=r"fold 'Fold1' has no validation data, but tuning.budget = 3 needs it"):
        run_experiment(exp, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_then_resume_gives_the_same_metrics(tmp_path, jobs):
    """A run killed with SIGKILL in the middle resumes to the same metrics.csv as an uninterrupted run (with
    one process, and with two worker processes, whose orphans stop before their next cell)."""
    toml = write_small_experiment(tmp_path / "data", seeds=(0, 1, 2), budget=3)
    reference = _run(toml, tmp_path / "ref", build_report=False)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "ltr.cli", "run", str(toml), "--out", str(out), "--quiet", "--jobs", str(jobs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("cells/*/*/*/cell.json"))) < 3:
        time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(out.glob("cells/*/*/*/cell.json")))
    total = len(load_experiment(toml).systems()) * 3
    assert 0 < finished < total
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (out / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()
    assert not list(out.rglob(".*.tmp"))  # a write the kill interrupted left a temporary file: removed
    for ref_run in (reference / "runs").rglob("*.trec"):
        assert (out / ref_run.relative_to(reference)).read_bytes() == ref_run.read_bytes()


def test_cli_reports_errors_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ltr.cli", "run", str(tmp_path / "missing.toml"), "--out",
                             str(tmp_path / "o")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"ltr run: error: experiment file {tmp_path / 'missing.toml'} does not exist"


def test_expected_figures_guard(small_experiment, tmp_path):
    exp = load_experiment(small_experiment)
    guarded = Experiment.from_dict({**exp.to_dict(), "expected": {"nDCG@10": [0.0, 0.01]}},
                                   base_dir=small_experiment.parent)
    with pytest.raises(Exception, match=r"missed the expected figures .* nDCG@10: expected 0.0 \+- 0.01, got 0\.\d+"):
        run_experiment(guarded, tmp_path / "g", progress=False, build_report=False)
    assert (tmp_path / "g" / "metrics.csv").is_file()  # results are kept for inspection


def test_labels_an_objective_cannot_take_fail_before_any_training(small_experiment, tmp_path):
    exp = load_experiment(small_experiment)
    graded = Experiment.from_dict({**exp.to_dict(), "objectives": ["lambdarank", "lambdarank_map"]},
                                  base_dir=small_experiment.parent)
    with pytest.raises(Exception, match=r"xgboost/lambdarank_map cannot train on fold 'all': .*binary labels.*"
                                         r"lambdarank_map\(threshold=1\)"):
        run_experiment(graded, tmp_path / "o", progress=False)
    assert not list((tmp_path / "o").glob("cells/*/*/*/cell.json"))


def test_parallel_cells_give_the_same_bytes(small_experiment, tmp_path):
    """Issue 12: `--jobs 2` runs (fold, system) tasks in two processes; metrics.csv, every run file and every
    model file equal those of one process, byte for byte (oracle: the one-process run)."""
    one = _run(small_experiment, tmp_path / "one", build_report=False)
    two = run_experiment(load_experiment(small_experiment), tmp_path / "two", progress=False, build_report=False,
                         jobs=2)
    assert (one / "metrics.csv").read_bytes() == (two / "metrics.csv").read_bytes()
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file() and p.suffix in (".trec", ".txt",
                                                                                           ".json", ".csv")
                   and p.name not in ("manifest.json",))
    assert files and files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file() and p.suffix in
                                     (".trec", ".txt", ".json", ".csv") and p.name not in ("manifest.json",))
    different = [str(f) for f in files if (one / f).read_bytes() != (two / f).read_bytes()
                 and f.name != "cell.json"]
    assert not different


def test_more_threads_than_cpus_is_warned_before_the_run(small_experiment, tmp_path, monkeypatch):
    """--jobs x [training] n_jobs above the CPUs this process may use is warned at once (measured on the
    synthetic web, 2 cores: --jobs 2 with n_jobs = 2 took ~7x longer per cell than --jobs 1); within the CPUs,
    no warning. Oracle: the arithmetic of the message."""
    import warnings

    from ltr.experiment.runner import Runner

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    exp = load_experiment(small_experiment)
    two_threads = Experiment.from_dict({**exp.to_dict(), "training": {**exp.to_dict()["training"], "n_jobs": 2}},
                                       base_dir=small_experiment.parent)
    with pytest.warns(UserWarning, match=r"--jobs 2 x \[training\] n_jobs = 2 threads exceeds the 2 CPUs .* set "
                                         r"\[training\] n_jobs = 1 or --jobs 1"):
        Runner(two_threads, tmp_path / "a", jobs=2)
    one_thread = Experiment.from_dict({**exp.to_dict(), "training": {**exp.to_dict()["training"], "n_jobs": 1}},
                                      base_dir=small_experiment.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Runner(one_thread, tmp_path / "b", jobs=2)
