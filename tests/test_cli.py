"""The `ltr` command: outputs, exit codes, one-line errors (run in-process through ltr.cli.main)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltr.cli import main
from ltr.io import read_run, write_letor, write_qrels, write_run
from ltr.metrics import evaluate
from tests.experiment.conftest import make_letor, write_small_experiment


@pytest.fixture
def trec_files(tmp_path):
    rng = np.random.default_rng(0)
    qrels = pd.DataFrame({"qid": np.repeat(["1", "2", "10"], 5), "docid": [f"d{i}" for i in range(15)],
                          "label": rng.integers(0, 3, 15).astype(float)})
    run = pd.DataFrame({"qid": np.repeat(["1", "2", "10"], 5), "docid": [f"d{i}" for i in range(15)],
                        "score": rng.normal(size=15)})
    write_qrels(qrels, tmp_path / "qrels.txt")
    write_run(run, tmp_path / "run.txt")
    return tmp_path / "qrels.txt", tmp_path / "run.txt", qrels, run


def test_evaluate_json_uses_the_names_given(trec_files, capsys):
    """Oracle: ltr.metrics.evaluate on the same frames (itself checked against pytrec_eval)."""
    qrels_path, run_path, qrels, run = trec_files
    names = ["nDCG@10", "P(rel=2)@5", "nDCG(gain='exp')@10"]
    argv = ["evaluate", str(qrels_path), str(run_path), "--json", "--per-query"]
    for name in names:
        argv += ["-m", name]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["aggregate"]) == names
    expected = evaluate(qrels, run, names)
    for name in names:
        values = expected[expected["metric"] == name].set_index("qid")["value"]
        assert out["aggregate"][name] == pytest.approx(values.mean(), abs=1e-15)
        for qid, value in values.items():
            assert out["per_query"][qid][name] == pytest.approx(value, abs=1e-15)


def test_evaluate_table_without_per_query(trec_files, capsys):
    qrels_path, run_path, _, _ = trec_files
    assert main(["evaluate", str(qrels_path), str(run_path), "-m", "AP"]) == 0
    out = capsys.readouterr().out
    assert "AP" in out and "all" in out


@pytest.mark.parametrize("argv_tail, message", [
    (["-m", "nDCG@ten"], "cutoff"),
    (["-m", "nDGC@10"], "Unknown metric 'nDGC'"),
])
def test_evaluate_errors_are_one_line(trec_files, capsys, argv_tail, message):
    qrels_path, run_path, _, _ = trec_files
    assert main(["evaluate", str(qrels_path), str(run_path), *argv_tail]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ltr evaluate: error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_evaluate_no_query_in_common(tmp_path, capsys):
    write_qrels(pd.DataFrame({"qid": ["1"], "docid": ["a"], "label": [1.0]}), tmp_path / "q")
    write_run(pd.DataFrame({"qid": ["2"], "docid": ["a"], "score": [1.0]}), tmp_path / "r")
    assert main(["evaluate", str(tmp_path / "q"), str(tmp_path / "r")]) == 2
    assert "in common" in capsys.readouterr().err


def test_evaluate_malformed_run_names_file_and_line(trec_files, tmp_path, capsys):
    qrels_path, _, _, _ = trec_files
    bad = tmp_path / "bad.run"
    bad.write_text("1 Q0 d1 1 0.5 tag\n1 Q0 d2 2 notanumber tag\n")
    assert main(["evaluate", str(qrels_path), str(bad)]) == 2
    assert f"{bad}:2" in capsys.readouterr().err


def test_train_then_predict(tmp_path, capsys):
    """Oracle: the run written by `ltr predict` equals Ranker.load(model).predict on the same file."""
    from ltr.io import read_letor
    from ltr.models import Ranker
    write_letor(make_letor(30, 1, prefix="t"), tmp_path / "train.txt")
    write_letor(make_letor(10, 2, prefix="v"), tmp_path / "vali.txt")
    write_letor(make_letor(10, 3, prefix="s"), tmp_path / "test.txt")
    assert main(["train", str(tmp_path / "train.txt"), "--valid", str(tmp_path / "vali.txt"),
                 "--objective", "ranknet", "--out", str(tmp_path / "model"), "--param", "n_estimators=20",
                 "--param", "n_jobs=1"]) == 0
    assert "trained lightgbm/ranknet" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "model"), str(tmp_path / "test.txt"), "--out",
                 str(tmp_path / "run.txt")]) == 0
    run = read_run(tmp_path / "run.txt")
    expected = Ranker.load(tmp_path / "model").predict(read_letor(tmp_path / "test.txt"))
    merged = run.merge(expected, on=["qid", "docid"], suffixes=("", "_expected"))
    assert len(merged) == len(expected) == 120
    assert np.array_equal(merged["score"].to_numpy(), merged["score_expected"].to_numpy())


def test_train_unknown_objective_lists_choices(tmp_path, capsys):
    write_letor(make_letor(5, 1, prefix="t"), tmp_path / "train.txt")
    assert main(["train", str(tmp_path / "train.txt"), "--objective", "lambdamart", "--out",
                 str(tmp_path / "m")]) == 2
    assert "Unknown objective 'lambdamart'. Choose from [" in capsys.readouterr().err


def test_train_help_states_how_the_defaults_differ_from_the_protocol(capsys):
    """`ltr train` uses the Ranker's defaults (the backends' own), not `ltr run`'s protocol; --help lists every
    setting whose two defaults train differently, with both values read from their sources (the Ranker's
    signature and TrainingSpec), and none whose native value is the same (num_leaves None is LightGBM's 31)."""
    import inspect

    from ltr.experiment.spec import TrainingSpec
    from ltr.models import Ranker
    with pytest.raises(SystemExit) as stop:
        main(["train", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "NOT the experiment protocol's" in out and "--protocol" in out
    ranker = {k: p.default for k, p in inspect.signature(Ranker.__init__).parameters.items()}
    protocol = TrainingSpec()
    for key in ("subsample", "colsample"):
        assert ranker[key] != getattr(protocol, key)
        assert re.search(rf"{key}\s+ltr train: {ranker[key]!r}\s+ltr run: {getattr(protocol, key)!r}\n", out), key
    assert re.search(r"reg_lambda\s+ltr train: None\s+ltr run: 0\.0\s+\(xgboost\)", out)
    assert "num_leaves" not in out.split("differ in:")[1] and "max_depth" not in out.split("differ in:")[1]


def test_train_protocol_uses_the_protocols_settings(tmp_path, capsys):
    """Oracle: Ranker(**TrainingSpec().ranker_kwargs(backend, seed=0)) fitted on the same files (same scores),
    and the Ranker's defaults without --protocol (different scores: subsampling changes the trees)."""
    from ltr.experiment.spec import TrainingSpec
    from ltr.io import read_letor
    from ltr.models import Ranker
    write_letor(make_letor(30, 1, prefix="t"), tmp_path / "train.txt")
    write_letor(make_letor(10, 2, prefix="v"), tmp_path / "vali.txt")
    train, valid = read_letor(tmp_path / "train.txt"), read_letor(tmp_path / "vali.txt")
    scores = {}
    for flag in ([], ["--protocol"]):
        out = tmp_path / ("protocol" if flag else "defaults")
        assert main(["train", str(tmp_path / "train.txt"), "--valid", str(tmp_path / "vali.txt"), "--out", str(out),
                     "--param", "n_estimators=25", "--param", "n_jobs=1", *flag]) == 0
        scores[bool(flag)] = Ranker.load(out).predict_scores(valid)
    kwargs = {**TrainingSpec().ranker_kwargs("lightgbm", seed=0), "n_estimators": 25, "n_jobs": 1}
    expected = Ranker(objective="lambdarank", backend="lightgbm", **kwargs).fit(train, valid).predict_scores(valid)
    np.testing.assert_array_equal(scores[True], expected)
    defaults = Ranker(n_estimators=25, n_jobs=1).fit(train, valid).predict_scores(valid)
    np.testing.assert_array_equal(scores[False], defaults)
    assert not np.array_equal(scores[True], scores[False])


def test_run_report_compare(tmp_path, capsys):
    toml = write_small_experiment(tmp_path / "data", seeds=(0,), objectives=("lambdarank", "regression"),
                                  budget=1)
    assert main(["run", str(toml), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert "report.html" in capsys.readouterr().out
    (tmp_path / "a" / "report.md").unlink()
    assert main(["report", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "report.md").is_file()
    assert main(["run", str(toml), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "ab")]) == 0
    out = capsys.readouterr().out
    assert "a/lightgbm/lambdarank" in out and "b/lightgbm/regression" in out
    assert (tmp_path / "ab" / "report.html").is_file()


def test_info_lists_registries(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LTR_CACHE_DIR", str(tmp_path))
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "ranknet" in out and "nDCG" in out and "pagerank" in out


def test_info_cache_is_the_listing_and_follows_the_source(capsys, tmp_path, monkeypatch):
    """Oracle: info_text(), the listing built from the registries. The cached copy is what `ltr info` prints;
    a changed source file gets a file of its own; an unwritable cache folder still gets the listing."""
    import ltr.cli as cli
    from ltr.objectives import base
    monkeypatch.setenv("LTR_CACHE_DIR", str(tmp_path / "cache"))
    expected = cli.info_text()
    assert "lambdarank_position pairwise" in expected          # the name column fits the longest name
    assert _cli_output(capsys, ["info"]) == expected
    cached = cli.info_cache_path()
    assert cached.read_text(encoding="utf-8") == expected
    monkeypatch.setattr(cli, "info_text", lambda: "rebuilt\n")
    assert _cli_output(capsys, ["info"]) == expected            # read from the cache, not rebuilt
    source = Path(base.__file__)
    if not os.access(source, os.W_OK):
        pytest.skip(f"{source} is read-only here (an installed, not an editable, ltr): its time cannot be moved")
    stat = source.stat()
    try:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        assert cli.info_cache_path() != cached
        assert _cli_output(capsys, ["info"]) == "rebuilt\n"   # an edited registry is listed afresh
    finally:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LTR_CACHE_DIR", str(blocker / "cache"))  # under a regular file: cannot be created
    assert _cli_output(capsys, ["info"]) == "rebuilt\n"
    monkeypatch.delenv("LTR_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    def no_home(cls):
        raise RuntimeError("Could not determine home directory.")      # what pathlib raises without one
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert _cli_output(capsys, ["info"]) == "rebuilt\n"               # no home folder: no cache, the listing


def _cli_output(capsys, argv):
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("seed", range(8))
def test_evaluate_quick_and_frame_paths_print_the_same_bytes(seed, tmp_path, capsys, monkeypatch):
    """Oracle: the frame path (ltr.io readers + ltr.metrics.evaluate, itself checked against pytrec_eval);
    the numpy-only path for small files must print the same bytes, with and without -c, -q and --json."""
    import ltr.cli as cli
    from tests.reference.test_metrics_vs_trec_eval import random_case
    qrels, run = random_case(300 + seed)
    if not set(qrels.qid) & set(run.qid):
        pytest.skip("no common query in this random case")
    write_qrels(qrels, tmp_path / "q")
    write_run(run, tmp_path / "r")
    names = ["ndcg_cut.10", "map", "P.5,10", "recip_rank", "bpref", "nDCG(gain='exp', ties='row')@5",
             "nDCG(ties='average')@3", "RR(rel=2)", "Rprec", "set_recall", "ERR@10"]
    for extra in ([], ["-c"], ["-q"], ["--json", "-q", "-c"]):
        argv = ["evaluate", str(tmp_path / "q"), str(tmp_path / "r"), *extra]
        for name in names:
            argv += ["-m", name]
        calls = []
        real = cli._evaluate_frames
        monkeypatch.setattr(cli, "_evaluate_frames", lambda *a: calls.append(a) or real(*a))
        quick = _cli_output(capsys, argv)
        assert not calls                                  # the numpy-only path answered
        monkeypatch.setattr(cli, "QUICK_MAX_BYTES", -1)
        frames = _cli_output(capsys, argv)
        monkeypatch.undo()
        assert calls and quick == frames


def test_evaluate_prints_num_q_and_keys_by_the_names_given(trec_files, capsys):
    """Oracle: the frames written by the fixture: 3 queries; trec_eval's spellings are kept as typed."""
    qrels_path, run_path, qrels, run = trec_files
    out = _cli_output(capsys, ["evaluate", str(qrels_path), str(run_path), "-m", "ndcg_cut_10", "-m", "P.5,10"])
    lines = [line.split("\t") for line in out.splitlines()]
    assert [(k.strip(), q) for k, q, _ in lines] == [("num_q", "all"), ("ndcg_cut_10", "all"), ("P.5", "all"),
                                                      ("P.10", "all")]
    assert lines[0][2] == "3"
    expected = evaluate(qrels, run, ["nDCG@10"])["value"].mean()
    assert float(lines[1][2]) == pytest.approx(expected, abs=5e-5)


def test_evaluate_refuses_two_names_of_one_measure(trec_files, capsys):
    qrels_path, run_path, _, _ = trec_files
    assert main(["evaluate", str(qrels_path), str(run_path), "-m", "nDCG@10", "-m", "ndcg_cut.10"]) == 2
    err = capsys.readouterr().err
    assert "metrics 'nDCG@10' and 'ndcg_cut.10' are the same measure, nDCG@10" in err


@pytest.mark.parametrize("content, message", [
    ("1 Q0 d1 1 0.5 tag\n1 Q0 d1 2 0.4 tag\n", "duplicate (qid, docid) ('1', 'd1') in the run (lines 1, 2)"),
    ("1 Q0 d1 1 0.5 tag\n1 Q0 d2 2 high tag\n", ":2: expected a number in field 5"),
    ("1 Q0 d1 1 0.5\n", ":1: expected 6 fields"),
])
def test_evaluate_small_malformed_files_get_the_readers_messages(trec_files, tmp_path, capsys, content, message):
    """Oracle: ltr.io's reader messages (file and line); the numpy-only path hands such files to it."""
    qrels_path, _, _, _ = trec_files
    bad = tmp_path / "bad.run"
    bad.write_text(content)
    assert main(["evaluate", str(qrels_path), str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_evaluate_equals_the_trec_eval_binary(tmp_path, capsys):
    """Oracle: the trec_eval 9 binary itself (found as $TREC_EVAL or `trec_eval` on PATH; skipped without):
    every measure and num_q, with and without -c (the run lacks some qrels queries)."""
    import shutil
    import subprocess

    from tests.reference.test_metrics_vs_trec_eval import random_case
    binary = os.environ.get("TREC_EVAL") or shutil.which("trec_eval")
    if not binary:
        pytest.skip("needs the trec_eval binary (build https://github.com/usnistgov/trec_eval and set TREC_EVAL)")
    version = subprocess.run([binary, "-v"], capture_output=True, text=True)
    if "version 9." not in version.stdout + version.stderr:
        pytest.skip(f"needs trec_eval 9 (pytrec_eval's); found {(version.stdout + version.stderr).strip()!r}")
    measures = ["map", "ndcg_cut_10", "P_5", "recip_rank", "bpref", "Rprec", "recall_10", "ndcg", "success_5",
                "map_cut_10", "set_P", "set_recall"]
    for seed in range(10):
        qrels, run = random_case(seed)
        run = run[run.qid != run.qid.iloc[0]]
        if not set(qrels.qid) & set(run.qid):
            continue
        write_qrels(qrels, tmp_path / "q")
        write_run(run, tmp_path / "r")
        for extra in ([], ["-c"]):
            ref = subprocess.run([binary, *extra, "-m", "all_trec", str(tmp_path / "q"), str(tmp_path / "r")],
                                 capture_output=True, text=True, check=True).stdout
            ref = {k: v for k, _, v in (line.split() for line in ref.splitlines())}
            argv = ["evaluate", str(tmp_path / "q"), str(tmp_path / "r"), *extra]
            for m in measures:
                argv += ["-m", m]
            ours = {k.strip(): v for k, _, v in (line.split("\t") for line in _cli_output(capsys, argv).splitlines())}
            assert ours["num_q"] == ref["num_q"]
            for m in measures:
                assert ours[m] == ref[m], (seed, extra, m)


def test_info_reads_the_extractor_registry_without_importing_it(tmp_path):
    """Oracle: features.available() (the registry filled by importing the extractors); `ltr info` reads the
    same names from the source so that it imports neither scikit-learn, scipy, numba nor pandas."""
    import subprocess
    import sys

    from features import available
    from ltr.cli import extractor_names
    assert extractor_names() == available()
    code = ("import sys, io, contextlib; from ltr.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['info'])\n"
            "print(sorted(m for m in ('sklearn', 'scipy', 'numba', 'pandas', 'features') if m in sys.modules))")
    env = {**os.environ, "LTR_CACHE_DIR": str(tmp_path)}       # an empty cache: the listing is built
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env).stdout
    assert out.strip() == "[]"
