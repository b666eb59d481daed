"""Save/load: the backend's own model file + manifest.json; tampering and missing files are refused."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from ltr.errors import ModelFormatError
from ltr.models import Ranker


@pytest.fixture(scope="module", params=[("lambdarank", "lightgbm"), ("ranknet", "lightgbm"),
                                        ("lambdarank", "xgboost")])
def saved(request, data, tmp_path_factory):
    objective, backend = request.param
    train, valid, _ = data
    ranker = Ranker(objective=objective, backend=backend, n_estimators=30, early_stopping_rounds=5, record=True,
                    n_jobs=1).fit(train, valid)
    path = tmp_path_factory.mktemp(f"{objective}-{backend}")
    ranker.save(path)
    return ranker, path


def test_round_trip_gives_identical_scores_and_state(saved, data):
    """Oracle: the fitted ranker itself; the reloaded one predicts bit-identical scores."""
    ranker, path = saved
    test = data[2]
    loaded = Ranker.load(path)
    assert loaded.predict_scores(test).tobytes() == ranker.predict_scores(test).tobytes()
    assert loaded.get_params() == {**ranker.get_params(), "objective": repr(ranker.objective_)}
    assert loaded.objective_ == ranker.objective_
    assert loaded.best_iteration_ == ranker.best_iteration_
    assert list(loaded.feature_names_in_) == list(ranker.feature_names_in_)
    assert loaded.evals_result_ == ranker.evals_result_
    assert loaded.history_.attrs == ranker.history_.attrs
    assert loaded.history_["mean_abs_lambda"].tolist() == pytest.approx(
        ranker.history_["mean_abs_lambda"].tolist(), nan_ok=True)


def test_manifest_contents_and_no_pickle(saved, data):
    ranker, path = saved
    manifest = json.loads((path / "manifest.json").read_text())
    model_file = path / manifest["model_file"]
    assert manifest["model_sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert manifest["feature_names"] == data[0].feature_names and manifest["n_features"] == 8
    assert manifest["objective"] == repr(ranker.objective_)
    assert manifest["train_fingerprint"] == data[0].fingerprint()
    assert manifest["valid_fingerprint"] == data[1].fingerprint()
    assert manifest["label_kind"] == "graded"
    assert manifest["best_iteration"] == ranker.best_iteration_
    assert ranker.backend in manifest["versions"] and "numpy" in manifest["versions"]
    assert manifest["model_file"] in ("model.txt", "model.json")
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in path.iterdir())


def _copy(path, tmp_path):
    import shutil
    dest = tmp_path / "copy"
    shutil.copytree(path, dest)
    return dest


def test_tampered_model_file_is_refused(saved, tmp_path):
    _, path = saved
    dest = _copy(path, tmp_path)
    manifest = json.loads((dest / "manifest.json").read_text())
    model = dest / manifest["model_file"]
    model.write_bytes(model.read_bytes().replace(b"0", b"1", 1))
    with pytest.raises(ModelFormatError, match=r"SHA-256 .* does not match the manifest's"):
        Ranker.load(dest)


def test_missing_or_broken_manifest_is_refused(saved, tmp_path):
    _, path = saved
    dest = _copy(path, tmp_path)
    (dest / "manifest.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="is not valid JSON"):
        Ranker.load(dest)
    (dest / "manifest.json").unlink()
    with pytest.raises(ModelFormatError, match="no manifest.json; this is not a model directory"):
        Ranker.load(dest)
    with pytest.raises(ModelFormatError, match="no such model directory"):
        Ranker.load(tmp_path / "nowhere")


def test_manifest_with_wrong_feature_count_is_refused(saved, tmp_path):
    _, path = saved
    dest = _copy(path, tmp_path)
    manifest = json.loads((dest / "manifest.json").read_text())
    manifest["feature_names"] = manifest["feature_names"][:-1]
    manifest["n_features"] -= 1
    (dest / "manifest.json").write_text(json.dumps(manifest))
    # refused by the structure check, before the native loader reads the model
    with pytest.raises(ModelFormatError, match=r"(means 8 features|num_feature is 8), but the manifest lists 7"):
        Ranker.load(dest)
    manifest["n_features"] = 3
    (dest / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="lists 7 feature names but n_features is 3"):
        Ranker.load(dest)


def test_missing_model_file_and_missing_fields(saved, tmp_path):
    _, path = saved
    dest = _copy(path, tmp_path)
    manifest = json.loads((dest / "manifest.json").read_text())
    (dest / manifest["model_file"]).unlink()
    with pytest.raises(ModelFormatError, match="named by the manifest is missing"):
        Ranker.load(dest)
    del manifest["model_sha256"]
    (dest / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match=r"lacks the fields \['model_sha256'\]"):
        Ranker.load(dest)


def test_loaded_model_checks_features_at_predict(saved, data):
    from ltr.errors import FeatureMismatchError
    _, path = saved
    loaded = Ranker.load(path)
    with pytest.raises(FeatureMismatchError):
        loaded.predict(data[2].to_frame().drop(columns=["feat_0"]))
    assert np.isfinite(loaded.predict(data[2])["score"]).all()
