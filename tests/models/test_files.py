"""train_files / predict_file: the verbs behind ``ltr train`` and ``ltr predict``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr.errors import ConfigError
from ltr.io import read_letor, read_run, write_letor
from ltr.models import Ranker, predict_file, train_files


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("letor")
    for name, ds in zip(("train", "vali", "test"), data):
        write_letor(ds, folder / f"{name}.txt")
    return folder


def test_train_then_predict_files(files, tmp_path):
    """Oracle: the same Ranker fitted in memory on the files' datasets, and read_run of the written run."""
    model_dir = tmp_path / "lambdamart"
    ranker = train_files(files / "train.txt", "lambdarank", "lightgbm", files / "vali.txt", model_dir,
                         {"n_estimators": "30", "early_stopping_rounds": "5", "n_jobs": "1", "max_bin": "63",
                          "eval_metric": "nDCG@10"})
    assert (ranker.n_estimators, ranker.eval_metric, ranker.params) == (30, "nDCG@10", {"max_bin": 63})
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["backend_params"]["max_bin"] == 63
    train, valid, test = (read_letor(files / f"{n}.txt") for n in ("train", "vali", "test"))
    twin = Ranker(objective="lambdarank", n_estimators=30, early_stopping_rounds=5, n_jobs=1, eval_metric="nDCG@10",
                  params={"max_bin": 63}).fit(train, valid)
    run = predict_file(model_dir, files / "test.txt", tmp_path / "test.run")
    np.testing.assert_array_equal(run["score"].to_numpy(), twin.predict_scores(test))
    back = read_run(tmp_path / "test.run")
    merged = run.merge(back, on=["qid", "docid"], suffixes=("", "_file"))
    assert len(merged) == len(run)
    np.testing.assert_array_equal(merged["score"].to_numpy(), merged["score_file"].to_numpy())
    assert (tmp_path / "test.run").read_text().split("\n", 1)[0].endswith(" lambdamart")


def test_train_files_refuses_reserved_backend_params(files):
    with pytest.raises(ConfigError, match=r"the objective is its own argument \(ltr train --objective NAME\)"):
        train_files(files / "train.txt", "ranknet", "lightgbm", None, None, {"objective": "binary"})
    with pytest.raises(ConfigError, match=r"use Ranker\(eval_metric=\.\.\.\)"):
        train_files(files / "train.txt", "ranknet", "lightgbm", None, None, {"metric": "ndcg"})
