"""Save and load a fitted Ranker: the backend's own model file plus ``manifest.json``. Never pickle.

Layout of a model directory::

    manifest.json      what the model is and how it was made (see below); written last
    model.txt          LightGBM text model (Booster.model_to_string), or
    model.json         XGBoost JSON model (Booster.save_raw("json"))
    history.csv        per-iteration introspection, when the Ranker was fitted with record=True

The manifest holds the format version, the Ranker's parameters (objective as its printed name), the
objective, backend and native parameters, the feature names in order, the label kind, library versions,
SHA-256 fingerprints of the training and validation data, the best iteration and the SHA-256 of the model
file. :func:`load_ranker` refuses a directory whose manifest is missing, unreadable, of another format,
or does not match the model file (hash, feature count, number of trees), and checks the model file's
structure before LightGBM or XGBoost parse it (``Backend.check_model_file``: tree counts, child and
feature indices in range, array lengths), so that a crafted file is a ModelFormatError, not a crash.
Model folders are still trusted input: see the README's "Trusted input".
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ltr.errors import LTRError, ModelFormatError
from ltr.atomic import atomic_write, write_json
from ltr.models.backends import get_backend
from ltr.objectives import get_objective

FORMAT, FORMAT_VERSION = "ltr-ranker", 1
MANIFEST = "manifest.json"
_REQUIRED = ("format", "format_version", "ranker_params", "objective", "backend", "feature_names",
             "n_features", "best_iteration", "n_iterations", "model_file", "model_sha256")


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def save_ranker(ranker, path) -> Path:
    """Write ``ranker`` (fitted) into directory ``path`` (created if needed; files replaced atomically)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    backend = ranker.backend_                      # fitted state only: set_params after fit changes nothing
    data = backend.to_bytes(ranker.model_)
    with atomic_write(path / backend.model_file, "wb") as handle:
        handle.write(data)
    params = dict(ranker._fit_params)              # the hyperparameters the model was fitted with
    params["eval_metric"] = (list(params["eval_metric"]) if isinstance(params["eval_metric"], (list, tuple))
                             else params["eval_metric"])
    history_file = None
    if getattr(ranker, "history_", None) is not None:
        history_file = "history.csv"
        with atomic_write(path / history_file) as handle:
            ranker.history_.to_csv(handle, index=False)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ranker_params": _json_safe(params),
        "objective": repr(ranker.objective_),
        "objective_family": ranker.objective_.family,
        "backend": backend.name,
        "backend_params": _json_safe(ranker.backend_params_),
        "backend_description": ranker.objective_.describe(backend.name),
        "feature_names": [str(f) for f in ranker.feature_names_in_],
        "n_features": int(ranker.n_features_in_),
        "label_kind": ranker.label_kind_,
        "versions": ranker.versions(),
        "train_fingerprint": ranker.train_fingerprint_,
        "valid_fingerprint": ranker.valid_fingerprint_,
        "best_iteration": int(ranker.best_iteration_),
        "n_iterations": int(ranker.n_iterations_),
        "evals_result": _json_safe(ranker.evals_result_),
        "history_file": history_file,
        "history_attrs": dict(ranker.history_.attrs) if history_file else None,
        "distributed": _json_safe(getattr(ranker, "distributed_", None)),
        "position_bias": _json_safe(getattr(ranker, "position_bias_", None)),
        "model_file": backend.model_file,
        "model_sha256": hashlib.sha256(data).hexdigest(),
    }
    write_json(path / MANIFEST, manifest)
    return path


def _fail(path, message):
    raise ModelFormatError(f"{path}: {message}")


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _manifest_backend(manifest: dict, manifest_path):
    try:
        return get_backend(str(manifest["backend"]))
    except LTRError as err:
        _fail(manifest_path, f"names a backend ltr does not have: {err}")


def _manifest_features(manifest: dict, manifest_path) -> list[str]:
    """The manifest's feature list: strings, unique, as many as n_features."""
    names, n = manifest["feature_names"], manifest["n_features"]
    if not isinstance(names, list) or not all(isinstance(f, str) for f in names):
        _fail(manifest_path, "feature_names must be a list of strings")
    if not _is_count(n) or len(names) != n:
        _fail(manifest_path, f"lists {len(names)} feature names but n_features is {n!r}")
    if len(set(names)) != len(names):
        dup = next(f for i, f in enumerate(names) if f in names[:i])
        _fail(manifest_path, f"lists the feature {dup!r} twice")
    return names


def load_ranker(path, cls):
    """Read a model directory written by :func:`save_ranker` into a new ``cls`` (a Ranker)."""
    path = Path(path)
    if not path.is_dir():
        _fail(path, "no such model directory (expected a directory written by Ranker.save)")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        _fail(path, f"no {MANIFEST}; this is not a model directory written by Ranker.save (a model file "
                    f"alone is not enough: the manifest records the features and objective it needs)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        _fail(manifest_path, f"is not valid JSON ({err}); the manifest is damaged: save the model again")
    if not isinstance(manifest, dict):
        _fail(manifest_path, "must hold a JSON object")
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        _fail(manifest_path, f"lacks the fields {missing}; save the model again")
    if manifest["format"] != FORMAT or manifest["format_version"] != FORMAT_VERSION:
        _fail(manifest_path, f"is format {manifest['format']!r} version {manifest['format_version']!r}; this "
                             f"ltr reads {FORMAT!r} version {FORMAT_VERSION}")
    backend = _manifest_backend(manifest, manifest_path)
    model_path = path / str(manifest["model_file"])
    if manifest["model_file"] != backend.model_file or not model_path.is_file():
        _fail(path, f"model file {manifest['model_file']!r} named by the manifest is missing (a "
                    f"{backend.name} model is stored as {backend.model_file!r})")
    data = model_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["model_sha256"]:
        _fail(model_path, f"SHA-256 {digest} does not match the manifest's {manifest['model_sha256']}: the "
                          f"model file was changed after saving; restore it or save the model again")
    names = _manifest_features(manifest, manifest_path)
    for key in ("best_iteration", "n_iterations"):
        if not _is_count(manifest[key]):
            _fail(manifest_path, f"{key} must be a non-negative integer, got {manifest[key]!r}")
    # The model file's structure, before the native loader parses it: a crafted file (the SHA-256 above is
    # as easy to rewrite as the model) must not crash LightGBM or XGBoost
    backend.check_model_file(data, path=model_path, n_features=len(names))
    try:
        model = backend.from_bytes(data)
    except Exception as err:  # noqa: BLE001 - each library has its own parse error; re-raised typed
        _fail(model_path, f"{backend.name} cannot read this model: {' '.join(str(err).split())[:300]}")
    if backend.n_features(model) != len(names):
        _fail(path, f"the model has {backend.n_features(model)} features but the manifest lists {len(names)}")
    n_trees = backend.n_trees(model)
    if n_trees != manifest["n_iterations"] or not 0 < manifest["best_iteration"] <= n_trees:
        _fail(path, f"the model has {n_trees} trees but the manifest says {manifest['n_iterations']} (best "
                    f"{manifest['best_iteration']})")
    params = manifest["ranker_params"]
    allowed = cls().get_params()
    if not isinstance(params, dict) or any(k not in allowed for k in params):
        unknown = sorted(set(params) - set(allowed)) if isinstance(params, dict) else params
        _fail(manifest_path, f"ranker_params must be a JSON object of Ranker parameters; got {unknown!r}")
    ranker = cls(**params)
    ranker.model_ = model
    ranker.backend_ = backend
    try:
        ranker.objective_ = get_objective(manifest["objective"])
    except LTRError as err:
        _fail(manifest_path, f"names an objective ltr cannot build: {err}")
    ranker.best_iteration_ = int(manifest["best_iteration"])
    ranker.n_iterations_ = int(manifest["n_iterations"])
    ranker.evals_result_ = manifest.get("evals_result") or {}
    ranker.feature_names_in_ = np.asarray(names, dtype=object)
    ranker.n_features_in_ = len(names)
    ranker.label_kind_ = manifest.get("label_kind")
    ranker.train_fingerprint_ = manifest.get("train_fingerprint")
    ranker.valid_fingerprint_ = manifest.get("valid_fingerprint")
    ranker.backend_params_ = manifest.get("backend_params") or {}
    ranker.distributed_ = manifest.get("distributed")
    bias = manifest.get("position_bias")
    ranker.position_bias_ = bias if isinstance(bias, dict) else None
    ranker.history_ = None
    if manifest.get("history_file") == "history.csv" and (path / "history.csv").is_file():
        import pandas as pd
        try:
            ranker.history_ = pd.read_csv(path / "history.csv")
        except (ValueError, UnicodeDecodeError) as err:
            _fail(path / "history.csv", f"cannot be read as CSV ({' '.join(str(err).split())[:200]})")
        if isinstance(manifest.get("history_attrs"), dict):
            ranker.history_.attrs.update(manifest["history_attrs"])
    ranker._fit_params = {**ranker.get_params(), "objective": repr(ranker.objective_), "backend": backend.name}
    return ranker
