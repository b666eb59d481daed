"""Every file a report reads is checked against what `ltr run` recorded (issue 11, items 6 and 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ltr.errors import ConfigError, DataError, LTRError
from ltr.experiment import Experiment, load_experiment, run_experiment
from ltr.experiment.reporting import build_report
from tests.experiment.conftest import write_small_experiment


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("integrity")
    toml = write_small_experiment(root / "data", seeds=(0,), objectives=("lambdarank",), budget=2)
    out = run_experiment(load_experiment(toml), root / "out", progress=False, build_report=False)
    return toml, out


def _copy(out: Path, tmp_path: Path) -> Path:
    import shutil
    target = tmp_path / "copy"
    shutil.copytree(out, target)
    return target


def _cli_report(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ltr.cli", "report", str(folder)], capture_output=True, text=True)


@pytest.mark.parametrize("victim, edit, message", [
    ("metrics.csv", lambda p: p.write_text(p.read_text().replace("0.", "0.9", 1)), r"metrics.csv was changed after"),
    ("qrels/all.qrels", lambda p: p.write_text("\n".join(p.read_text().splitlines()[:5]) + "\n"),
     r"all.qrels was changed after"),
    ("manifest.json", lambda p: p.write_text("{not json"), r"manifest.json is damaged"),
    ("curves.csv", lambda p: p.write_bytes(b"\x00\xff garbage"), r"curves.csv does not match its cell's record"),
])
def test_the_report_refuses_files_changed_after_the_run(finished, tmp_path, victim, edit, message):
    """Oracle: the SHA-256 recorded by the run. Before, an edited metrics.csv or a truncated qrels file was
    reported as if a run had produced it, and a damaged manifest or curves.csv crashed with a traceback."""
    _, out = finished
    folder = _copy(out, tmp_path)
    path = folder / victim if "/" in victim or (folder / victim).exists() else \
        next(folder.glob(f"cells/*/*/*/{victim}"))
    edit(path)
    with pytest.raises(LTRError, match=message):
        build_report(folder)
    result = _cli_report(folder)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_untouched_folder_reports(finished, tmp_path):
    _, out = finished
    folder = _copy(out, tmp_path)
    paths = build_report(folder)
    assert all(p.is_file() for p in paths)


def test_an_edited_tuning_file_is_searched_again(finished, tmp_path):
    """Before, an edited configuration in tuning/*.json was used for recomputed cells."""
    toml, out = finished
    folder = _copy(out, tmp_path)
    tuning = next(folder.glob("tuning/*/*.json"))
    record = json.loads(tuning.read_text())
    record["config"]["learning_rate"] = 0.9
    tuning.write_text(json.dumps(record))
    for cell in folder.glob("cells/*/*/*/cell.json"):
        cell.unlink()                                  # force the cells to be recomputed
    run_experiment(load_experiment(toml), folder, progress=False, build_report=False)
    again = json.loads(tuning.read_text())
    assert again["config"]["learning_rate"] != 0.9
    assert (folder / "metrics.csv").read_bytes() == (out / "metrics.csv").read_bytes()


def test_a_leftover_temporary_file_is_removed_and_never_recorded(finished, tmp_path):
    toml, out = finished
    folder = _copy(out, tmp_path)
    model_dir = next(folder.glob("cells/*/*/*/model"))
    (model_dir / ".model.txt.abc123.tmp").write_text("half")
    (model_dir.parent / "cell.json").unlink()
    run_experiment(load_experiment(toml), folder, progress=False, build_report=False)
    assert not list(folder.rglob(".*.tmp"))
    for cell in folder.glob("cells/*/*/*/cell.json"):
        assert not [f for f in json.loads(cell.read_text())["files"] if ".tmp" in f]


def test_test_data_identical_to_the_training_data_is_refused(tmp_path):
    toml = write_small_experiment(tmp_path / "data", seeds=(0,), objectives=("lambdarank",), budget=1)
    exp = load_experiment(toml)
    same = Experiment.from_dict({**exp.to_dict(), "data": {**exp.to_dict()["data"], "test": "train.txt"}},
                                base_dir=toml.parent)
    with pytest.raises(DataError, match=r"fold 'all': the test data are identical to the train data"):
        run_experiment(same, tmp_path / "out", progress=False)


def test_a_toml_file_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1.toml:1: not UTF-8 text \(byte 0xe9\); save the file as UTF-8"):
        load_experiment(path)


def test_queries_without_relevant_documents_are_listed_with_their_rule(tmp_path):
    """Issue 11: such test queries were scored by the norel rule without a word."""
    from ltr.experiment.reporting import queries_without_relevant
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "f1.qrels").write_text("q1 0 d1 1\nq1 0 d2 0\nq2 0 d1 0\nq2 0 d3 0\n")
    lines = queries_without_relevant(tmp_path, ["f1"], ["nDCG@10", "nDCG(gain='exp', norel=1)@10", "AP"])
    assert lines == ["Fold f1: 1 of 2 test queries have no relevant document (q2); nDCG@10, AP score them 0; "
                     "nDCG(gain='exp', norel=1)@10 score them 1 (the metric's norel rule)."]
