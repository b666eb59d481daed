"""The output folder: --overwrite removes only what ltr wrote, changed data is never mixed with old cells,
one writer per folder, no writing through symbolic links, relative paths next to the experiment file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ltr.errors import ConfigError
from ltr.experiment import Experiment, Runner, load_experiment, run_experiment
from ltr.experiment.folder import LOCK_NAME, OutputFolder
from ltr.io import write_letor
from tests.experiment.conftest import make_letor, write_small_experiment


def _tiny(folder: Path, **kwargs) -> Path:
    return write_small_experiment(folder, seeds=(0,), objectives=("lambdarank",), budget=1, **kwargs)


def _run(toml: Path, out: Path, **kwargs) -> Path:
    return run_experiment(load_experiment(toml), out, progress=False, build_report=False, **kwargs)


def test_overwrite_refuses_a_folder_ltr_did_not_write(tmp_path):
    """The trial's case: `--out ~/thesis --overwrite` deleted the thesis. Now it is refused and untouched."""
    toml = _tiny(tmp_path / "data")
    thesis = tmp_path / "thesis"
    (thesis / "chapters").mkdir(parents=True)
    (thesis / "main.tex").write_text("\\documentclass{book}")
    (thesis / "chapters" / "one.tex").write_text("chapter")
    with pytest.raises(ConfigError, match=r"was not written by `ltr run` .*main.tex.*--overwrite only replaces "
                                          r"folders that ltr wrote"):
        _run(toml, thesis, overwrite=True)
    assert (thesis / "main.tex").read_text() == "\\documentclass{book}"
    assert (thesis / "chapters" / "one.tex").is_file()
    with pytest.raises(ConfigError, match=r"is not empty and holds no experiment manifest \(chapters, main.tex"):
        _run(toml, thesis)


def test_overwrite_removes_only_ltr_files(tmp_path):
    toml = _tiny(tmp_path / "data")
    out = _run(toml, tmp_path / "out")
    (out / "notes.txt").write_text("mine")
    other = _tiny(tmp_path / "other", name="other")
    runner = Runner(load_experiment(other), out, overwrite=True, progress=False, build_report=False)
    runner.run()
    assert (out / "notes.txt").read_text() == "mine"
    assert any("kept 1 entries ltr did not write: notes.txt" in m for m in runner.messages)
    assert json.loads((out / "manifest.json").read_text())["experiment"]["name"] == "other"


def test_a_symlinked_subfolder_is_refused_and_nothing_is_written_through_it(tmp_path):
    toml = _tiny(tmp_path / "data")
    out = _run(toml, tmp_path / "out")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep")
    cell_parent = next((out / "cells").glob("*/*"))
    seed_dir = next(cell_parent.glob("seed*"))
    import shutil
    shutil.rmtree(seed_dir)
    seed_dir.symlink_to(outside, target_is_directory=True)
    for overwrite in (False, True):
        with pytest.raises(ConfigError, match=r"holds symbolic links where ltr writes its results .*-> "):
            _run(toml, out, overwrite=overwrite)
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_changed_data_is_refused_then_recomputed_on_request(tmp_path):
    """Resume after the data files changed: the old cells are not kept next to a manifest of the new data."""
    toml = _tiny(tmp_path / "data")
    out = _run(toml, tmp_path / "out")
    before = json.loads((out / "manifest.json").read_text())
    metrics_before = (out / "metrics.csv").read_bytes()
    write_letor(make_letor(20, 99, prefix="t"), tmp_path / "data" / "test.txt")   # new test data
    with pytest.raises(ConfigError, match=r"the data of experiment 'small' changed since .*all/test.*"
                                          r"Pass --overwrite to recompute"):
        _run(toml, out)
    assert json.loads((out / "manifest.json").read_text())["data_hashes"] == before["data_hashes"]
    assert (out / "metrics.csv").read_bytes() == metrics_before
    _run(toml, out, overwrite=True)
    after = json.loads((out / "manifest.json").read_text())
    assert after["data_hashes"]["all/test"] != before["data_hashes"]["all/test"]
    assert (out / "metrics.csv").read_bytes() != metrics_before
    for cell in out.glob("cells/*/*/*/cell.json"):
        assert json.loads(cell.read_text())["identity"] == after["identity"]


def test_a_cell_of_another_identity_is_recomputed(tmp_path):
    """A cell.json copied in from another folder (another experiment or data) is not counted as finished."""
    toml = _tiny(tmp_path / "data")
    out = _run(toml, tmp_path / "out")
    marker = next(out.glob("cells/*/*/*/cell.json"))
    info = json.loads(marker.read_text())
    info["identity"] = "0" * 64
    marker.write_text(json.dumps(info))
    runner = Runner(load_experiment(toml), out, progress=False, build_report=False)
    runner.run()
    assert json.loads(marker.read_text())["identity"] == runner.identity
    assert any("resumed: 1 of 2 cells" in m for m in runner.messages)


def test_a_second_writer_is_refused(tmp_path):
    toml = _tiny(tmp_path / "data")
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from ltr.experiment.folder import OutputFolder
        with OutputFolder({str(out)!r}).lock(what="ltr run of 'first'"):
            print("locked", flush=True)
            sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=rf"is being written by ltr run of 'first' \(pid {holder.pid} .*"
                                              r"one writer per folder"):
            _run(toml, out)
        result = subprocess.run([sys.executable, "-m", "ltr.cli", "report", str(out)], capture_output=True,
                                text=True)
        assert result.returncode == 2 and "is being written by" in result.stderr
    finally:
        holder.communicate("\n", timeout=60)
    _run(toml, out)   # the lock is released with its holder
    assert (out / "metrics.csv").is_file() and (out / LOCK_NAME).is_file()


def test_a_refused_run_leaves_no_folder_behind(tmp_path):
    with pytest.raises(ConfigError):
        with OutputFolder(tmp_path / "new").lock():
            raise ConfigError("refused")
    assert not (tmp_path / "new").exists()


def test_relative_paths_of_a_python_experiment_resolve_next_to_it(tmp_path, monkeypatch):
    data = tmp_path / "project"
    _tiny(data)
    (data / "exp.py").write_text(textwrap.dedent("""
        from ltr.experiment import Experiment
        EXPERIMENT = Experiment(name="py", data={"kind": "letor_files", "train": "train.txt",
                                                 "valid": "vali.txt", "test": "test.txt"},
                                objectives=["lambdarank"], backends=["lightgbm"], seeds=[0],
                                training={"n_estimators": 10, "n_jobs": 1}, tuning={"budget": 1})
        """))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    exp = load_experiment(data / "exp.py")
    assert exp.resolve_path("train.txt") == (data / "train.txt").resolve()
    out = run_experiment(exp, elsewhere / "out", progress=False, build_report=False)
    assert (out / "metrics.csv").is_file()


def test_a_collection_folder_resolves_next_to_the_experiment_file(tmp_path, monkeypatch):
    from ltr.datasets import write_jsonl, make_synthetic_web
    web = make_synthetic_web(n_docs=400, n_queries=4, n_topics=4, seed=0)
    write_jsonl(web, tmp_path / "project" / "web")
    toml = tmp_path / "project" / "exp.toml"
    toml.write_text(textwrap.dedent("""
        name = "folder"
        objectives = ["lambdarank"]
        backends = ["lightgbm"]
        [data]
        kind = "collection"
        collection = "./web"
        features = ["bm25(field='body')"]
        first_stage_k = 11
        """))
    monkeypatch.chdir(tmp_path)
    exp = load_experiment(toml)
    assert exp.collection_source() == str((tmp_path / "project" / "web").resolve())
    bad = toml.with_name("bad.toml")
    bad.write_text(toml.read_text().replace("./web", "./nowhere"))
    with pytest.raises(ConfigError, match=r"no such folder .*nowhere \(relative paths are resolved against"):
        load_experiment(bad)


def test_an_extended_experiment_runs_only_the_new_cells(tmp_path):
    """Issue 10: extending a finished experiment with a seed, a system and a metric keeps every finished cell
    (same cell.json bytes), trains only the new cells, and re-evaluates the old ones' saved runs for the new
    metric; the result equals a fresh run of the extended experiment."""
    toml = _tiny(tmp_path / "data")
    out = _run(toml, tmp_path / "out")
    old_cells = {p: p.read_bytes() for p in out.glob("cells/*/*/*/model/*")}
    exp = load_experiment(toml)
    bigger = Experiment.from_dict({**exp.to_dict(), "seeds": [0, 1], "objectives": ["lambdarank", "ranknet"],
                                   "metrics": ["nDCG@10", "AP", "RR"]}, base_dir=toml.parent)
    runner = Runner(bigger, out, progress=False, build_report=False)
    runner.run()
    assert any("extending the experiment" in m for m in runner.messages)
    assert any("resumed: 2 of 8 cells" in m and "2 re-evaluated" in m for m in runner.messages)
    assert {p: p.read_bytes() for p in old_cells} == old_cells        # models of the old cells untouched
    fresh = run_experiment(bigger, tmp_path / "fresh", progress=False, build_report=False)
    assert (out / "metrics.csv").read_bytes() == (fresh / "metrics.csv").read_bytes()


def test_a_changed_training_setting_is_another_experiment(tmp_path):
    toml = _tiny(tmp_path / "data")
    out = _run(toml, tmp_path / "out")
    exp = load_experiment(toml)
    other = Experiment.from_dict({**exp.to_dict(), "training": {**exp.to_dict()["training"], "learning_rate": 0.3}},
                                 base_dir=toml.parent)
    with pytest.raises(ConfigError, match=r"holds a different experiment .*an experiment that only adds seeds"):
        run_experiment(other, out, progress=False, build_report=False)
