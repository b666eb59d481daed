"""`ltr clicks simulate | fit | summary | report` (in-process through ltr.cli.main)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ltr.cli import main
from ltr.clicks import read_clicks
from ltr.io import write_qrels, write_run
from tests.conftest import shared_path


@pytest.fixture
def trec(tmp_path):
    rng = np.random.default_rng(0)
    run = pd.DataFrame({"qid": np.repeat([f"{i}" for i in range(20)], 12),
                        "docid": [f"d{j}" for j in range(240)], "score": rng.random(240)})
    write_run(run, tmp_path / "run.txt")
    write_qrels(run[["qid", "docid"]].assign(label=rng.integers(0, 3, 240).astype(float)), tmp_path / "qrels.txt")
    return tmp_path


@pytest.mark.parametrize("suffix", ["parquet", "tsv", "jsonl"])
def test_simulate_writes_the_log_in_the_suffixs_format(trec, suffix, capsys):
    out = trec / f"log.{suffix}"
    argv = ["clicks", "simulate", "--run", str(trec / "run.txt"), "--qrels", str(trec / "qrels.txt"),
            "--model", "pbm", "--eta", "1.0", "--top", "10", "--sessions", "3000", "--seed", "7", "--out", str(out)]
    assert main(argv) == 0
    assert "3,000 sessions" in capsys.readouterr().out
    log = read_clicks(out)
    assert log.n_serps == 3000 and set(log.serp_sizes()) == {10}
    assert main(argv) == 0
    assert read_clicks(out).frame.equals(log.frame)                     # same seed, same log


def test_fit_json_has_the_issues_keys(trec, capsys):
    log = trec / "log.parquet"
    assert main(["clicks", "simulate", "--run", str(trec / "run.txt"), "--qrels", str(trec / "qrels.txt"),
                 "--model", "pbm", "--sessions", "20000", "--seed", "1", "--out", str(log),
                 "--intervention", "randomize"]) == 0
    capsys.readouterr()
    assert main(["clicks", "fit", str(log), "--model", "pbm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"model", "examination", "log_likelihood", "perplexity"} <= set(out)
    assert out["model"] == "pbm" and len(out["examination"]) == 10 and out["identified"] is True
    assert out["examination_relative"][0] == 1.0 and out["examination_relative"][1] == pytest.approx(0.5, abs=0.05)
    assert out["evaluated_on"].startswith("train")


def test_fit_says_when_examination_is_not_identified(trec, capsys):
    log = trec / "fixed.tsv"
    assert main(["clicks", "simulate", "--run", str(trec / "run.txt"), "--qrels", str(trec / "qrels.txt"),
                 "--model", "pbm", "--sessions", "2000", "--seed", "1", "--out", str(log)]) == 0
    capsys.readouterr()
    assert main(["clicks", "fit", str(log), "--model", "pbm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["examination"] is None and out["identified"] is False
    assert "only the products examination x attractiveness are identified" in out["identification"]
    assert main(["clicks", "fit", str(log), "--model", "pbm"]) == 0
    assert "not identified" in capsys.readouterr().out


def test_fit_on_the_yandex_sample_matches_pyclick(capsys):
    """Oracle: SOURCE.md (PyClick, DBN with 5 EM iterations on trainSample)."""
    folder = shared_path("yandex-clicks-sample")
    assert main(["clicks", "fit", str(folder / "trainSample"), "--model", "dbn", "--iterations", "5",
                 "--test", str(folder / "testSample"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "dbn(iterations=5)" and out["examination"] is None
    assert out["log_likelihood"] == pytest.approx(-0.359352, abs=1e-6)
    assert out["perplexity"] == pytest.approx(1.438764, abs=1e-6)
    assert out["rank_parameters"]["cont"] == pytest.approx(0.997827, abs=1e-6)
    assert out["train"]["drops"]["clicks_not_shown"] == 417


def test_summary_and_report(trec, tmp_path, capsys):
    log = trec / "log.jsonl"
    assert main(["clicks", "simulate", "--run", str(trec / "run.txt"), "--qrels", str(trec / "qrels.txt"),
                 "--model", "dbn", "--gamma", "0.8", "--noise", "binary", "--sessions", "500", "--seed", "2",
                 "--out", str(log)]) == 0
    capsys.readouterr()
    assert main(["clicks", "summary", str(log), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["serps"] == 500 and len(s["ctr_by_position"]) == 10
    assert main(["clicks", "report", str(log), "--test", str(log), "--model", "pbm", "--model", "sdbn",
                 "--out", str(tmp_path / "rep"), "--quiet"]) == 0
    assert (tmp_path / "rep" / "report.html").exists()


@pytest.mark.parametrize("argv, message", [
    (["--model", "cascade", "--eta", "2"], "--eta applies to the pbm and ubm users, not 'cascade'"),
    (["--model", "pbm", "--gamma", "0.5"], "--gamma applies to the dbn user"),
    (["--model", "pbm", "--noise", "graded(eps=3)"], "The 'eps' parameter of graded must be a float in"),
])
def test_simulate_errors_are_one_line(trec, argv, message, capsys):
    base = ["clicks", "simulate", "--run", str(trec / "run.txt"), "--qrels", str(trec / "qrels.txt"),
            "--sessions", "10", "--seed", "0", "--out", str(trec / "x.parquet")]
    assert main(base + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ltr clicks: error:") and message in err and len(err.strip().splitlines()) == 1


def test_fit_errors_name_the_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("session\tqid\tdocid\tposition\tclick\ns\tq\ta\t0\t1\n")
    assert main(["clicks", "fit", str(bad), "--model", "pbm"]) == 2
    assert "bad.tsv:2: position 0 of session 's' is 0 or negative" in capsys.readouterr().err
    assert main(["clicks", "fit", str(bad), "--model", "pmb"]) == 2
    assert "Unknown click model 'pmb'" in capsys.readouterr().err
