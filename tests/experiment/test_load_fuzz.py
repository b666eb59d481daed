"""Fuzzing the experiment loader: ``load_experiment`` on random bytes and near-valid TOML either gives an
Experiment or raises an :class:`~ltr.errors.LTRError` (never a bare exception or a crash).

Oracle: that contract (issue 11, item 11). The near-valid texts are built from the shipped experiments'
own keys and values, so most of them parse as TOML and reach the declaration's checks. CI runs the
derandomized "ci" hypothesis profile (tests/conftest.py); ``HYPOTHESIS_PROFILE=deep`` ten times more.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ltr.errors import ConfigError, LTRError
from ltr.experiment import Experiment, load_experiment

VALUES = ['"x"', '""', "1", "0", "-1", "1.5", "1e400", "nan", "inf", "true", "[]", '["lambdarank"]',
          '["lambdarank", "rank_xendcg"]', '["lightgbm"]', '["lightgbm", "xgboost"]', '["nDCG@10"]', '["AP", "RR"]',
          '["nDCG@10", "ndcg@10"]', "[0, 1]", "[0, 0]", "[1, 2]", '"lightgbm/lambdarank"', '"first-stage/bm25"',
          '"paired_t"', '"holm"', '"letor"', '"collection"', '"letor_files"', '"cacm"', '"synthetic-web(seed=0)"',
          '"synthetic-web(n_docs=x)"', '"kfold(k=5)"', '"kfold(n=3)"', '"all"', '"random(n=5)"', '"zscore"',
          '["bm25(field=\'body\')"]', '["recency", "pagerank"]', "{}", "{a = 1}", '"\\u00e9"', '"a\\u0000b"',
          "2021-06-15T08:00:00Z", "[[1]]"]
KEYS = ["name", "objectives", "backends", "metrics", "baseline", "seeds", "test", "correction", "kind", "path",
        "collection", "features", "first_stage_k", "splits", "negatives", "normalize", "n_estimators",
        "learning_rate", "early_stopping_rounds", "budget", "train", "test", "valid", "holdout", "seed", "params",
        "expected", "x"]
LINE = st.one_of(st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(KEYS), st.sampled_from(VALUES)),
                 st.sampled_from(["[data]", "[training]", "[tuning]", "[training.params]", "[x]", "[[data]]", "",
                                  "# comment", "=", "name", '"a" = 1']))
TOML_TEXT = st.lists(LINE, max_size=14).map("\n".join)

_BASE = Path(tempfile.mkdtemp(prefix="ltr-toml-fuzz-"))


def _load(data: bytes):
    folder = Path(tempfile.mkdtemp(dir=_BASE))
    path = folder / "exp.toml"
    path.write_bytes(data)
    try:
        return load_experiment(path)
    except LTRError:
        return None


@given(data=st.one_of(st.binary(max_size=200), TOML_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))))
@example(data=b"\x80")   # read with Path.read_text once: a bare UnicodeDecodeError
def test_load_experiment_raises_only_ltr_errors(data):
    exp = _load(data)
    assert exp is None or isinstance(exp, Experiment)


def test_non_utf8_toml():
    """Oracle: the contract (a one-line ConfigError naming file, line and byte); found by
    test_load_experiment_raises_only_ltr_errors (data=b'\\x80') when the file was read with Path.read_text."""
    folder = Path(tempfile.mkdtemp(dir=_BASE))
    path = folder / "exp.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"exp\.toml:1: not UTF-8 text \(byte 0xe9\); save the file as UTF-8"):
        load_experiment(path)


@pytest.mark.parametrize("name", ["mq2008.toml", "cacm.toml", "synthetic_web.toml"])
def test_shipped_experiments_load(name):
    """Oracle: the shipped declarations (the fuzz above must not be all refusals for a trivial reason)."""
    path = Path(__file__).resolve().parents[2] / "experiments" / name
    assert isinstance(_load(path.read_bytes()) or load_experiment(path), Experiment)
