"""Export a fitted Ranker for serving: an ONNX graph plus a manifest naming the features in order.

>>> result = export_onnx("models/lambdarank", "ranker.onnx")          # doctest: +SKIP
>>> result.manifest["feature_names"][:3], result.checks[0]["rows_over_tolerance"]   # doctest: +SKIP
(['f1', 'f2', 'f3'], 0)
>>> score_onnx("ranker.onnx", test)          # float64 scores, one per row of a RankingDataset  # doctest: +SKIP

What the graph computes
-----------------------
Input ``features``: float64 ``[N, n_features]`` in the manifest's ``feature_names`` order. Output ``score``:
float64 ``[N]``, the score :meth:`Ranker.predict_scores` gives (higher ranks higher): the trees' raw margin
for ranking, regression and custom objectives (``lambdarank``, ``rank_xendcg``, ``ranknet``,
``lambdarank_ref``, ...), the probability for ``binary``, the expected grade for ``multiclass``.

Exact by construction, and checked:

- The trees are written from each backend's own dump (:mod:`ltr.models.export._trees`) with **float64
  thresholds and leaf values** (``ai.onnx.ml`` opset 5 ``TreeEnsemble``; opset 3 ``TreeEnsembleRegressor``
  with ``*_as_tensor`` attributes on request). onnxmltools 1.16 stores thresholds as float32, so a feature
  lying between the float32 and the float64 threshold takes the other branch; and it converts XGBoost
  rankers as binary classifiers or not at all. XGBoost models are written as regression ensembles with
  their ``base_score`` (from ``save_config``) as intercept.
- The graph rounds its input to float32 first, as the Ranker does (its feature matrix is float32); XGBoost
  also compares in float32, so its float32 thresholds are then exact.
- A normalisation of the features (:class:`FeatureNormalization`, from a :class:`features.FeatureSet`) can be
  put inside the graph; per query, one call of the graph must hold exactly one query's documents.
- :func:`export_onnx` runs the graph with onnxruntime against the backend's own predictions on probe rows
  placed on every split threshold and its float32 neighbours (and NaN), and on ``check_data`` when given,
  and refuses to write a graph whose scores differ by more than ``tolerance`` (ExportError).

Every objective of :mod:`ltr.objectives` exports on both backends. Refused, with the reason: LightGBM
linear trees, categorical splits, ``zero_as_missing``, random-forest averaging; XGBoost ``dart`` and
``gblinear`` boosters (see :mod:`ltr.models.export._trees`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ltr.errors import ConfigError, ExportError, FeatureMismatchError, ModelFormatError, SchemaError
from ltr.models._fitted import fitted_model, load_model_dir
from ltr.models.export.normalization import FeatureNormalization

__all__ = ["ExportResult", "FORMATS", "FeatureNormalization", "export_model", "export_onnx", "manifest_path",
           "probe_rows", "read_export_manifest", "score_onnx"]

FORMAT, FORMAT_VERSION = "ltr-onnx", 1
#: ``ltr export --format`` choices -> exporter.
FORMATS = ("onnx",)
DEFAULT_TOLERANCE = 1e-5
_META_MANIFEST, _META_FEATURES = "ltr_manifest", "ltr_feature_names"


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote and what it checked."""

    path: Path
    manifest_path: Path
    manifest: dict
    checks: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"wrote {self.path} ({self.manifest['trees']} trees, {self.manifest['n_features']} features, "
                 f"ai.onnx.ml opset {self.manifest['opset']['ai.onnx.ml']}) and {self.manifest_path}"]
        for c in self.checks:
            lines.append(f"  checked on {c['data']}: {c['rows']} rows, max |onnx - native| = "
                         f"{c['max_abs_diff']:.3g}, {c['rows_over_tolerance']} rows over {c['tolerance']:g}")
        return "\n".join(lines)


def manifest_path(onnx_path) -> Path:
    """The manifest next to an exported file: ``ranker.onnx`` -> ``ranker.manifest.json``."""
    return Path(onnx_path).with_suffix(".manifest.json")


# --------------------------------------------------------------------------------------------------
# checks against the backend
# --------------------------------------------------------------------------------------------------

def _session(model_bytes: bytes, n_threads: int = 1):
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ConfigError(f"running an exported model needs onnxruntime, which is not installed ({err}). "
                          f"Install the extra with `pip install 'ltr[onnx]'`") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = n_threads      # one thread: the same summation order on every run
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def _run(session, X: np.ndarray, qids=None) -> np.ndarray:
    """Scores of ``X``; with ``qids``, one call per query (its rows in their order), as a per-query graph
    needs."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if qids is None:
        return session.run(None, {"features": X})[0].astype(np.float64).reshape(-1)
    import pandas as pd
    out = np.empty(len(X))
    codes, _ = pd.factorize(np.asarray(qids))
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for rows in np.split(order, bounds) if len(order) else []:
        out[rows] = session.run(None, {"features": X[rows]})[0].reshape(-1)
    return out


def _native(fitted, X: np.ndarray) -> np.ndarray:
    from ltr.ranking import RankingDataset
    ds = RankingDataset(X, np.zeros(len(X)), np.repeat("q", len(X)), feature_names=fitted.feature_names,
                        name="export check rows")
    return fitted.ranker.predict_scores(ds)


def _compare(native: np.ndarray, onnx_scores: np.ndarray, tolerance: float, what: str) -> dict:
    diff = np.abs(native - onnx_scores)
    both_nan = np.isnan(native) & np.isnan(onnx_scores)
    diff = np.where(both_nan, 0.0, diff)
    over = ~(diff <= tolerance)                       # NaN on one side only counts as over
    return {"data": what, "rows": int(len(diff)), "max_abs_diff": float(np.nanmax(diff)) if diff.size else 0.0,
            "rows_over_tolerance": int(over.sum()), "tolerance": float(tolerance)}


def probe_rows(ensemble, n_rows: int = 2048, *, seed: int = 0) -> np.ndarray:
    """Rows whose features sit on the model's split thresholds, on their float32 neighbours, or are NaN.

    Each entry of a row is drawn from its feature's candidates: for every threshold ``t`` the float32
    values just below, at and just above ``float32(t)`` (where a float32 threshold and a float64 one would
    send a row different ways), plus NaN (1 in 16). Features without splits are 0.
    """
    rng = np.random.default_rng(seed)
    X = np.zeros((n_rows, ensemble.n_features), dtype=np.float32)
    for f, thr in ensemble.thresholds_by_feature().items():
        t32 = thr.astype(np.float32)
        cands = np.unique(np.concatenate([np.nextafter(t32, np.float32(-np.inf)), t32,
                                          np.nextafter(t32, np.float32(np.inf))]))
        cands = cands[np.isfinite(cands)]
        X[:, f] = cands[rng.integers(0, len(cands), n_rows)]
        X[rng.random(n_rows) < 1 / 16, f] = np.nan
    return X


# --------------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------------

def _resolve_normalization(normalization, source_manifest: dict | None, feature_names):
    if isinstance(normalization, str) and normalization == "auto":
        recorded = (source_manifest or {}).get("feature_normalization")
        return None if recorded is None else FeatureNormalization.from_dict(
            recorded, source="the model manifest's feature_normalization").aligned(feature_names)
    if normalization is None:
        return None
    if isinstance(normalization, FeatureNormalization):
        return normalization.aligned(feature_names)
    if isinstance(normalization, dict):
        return FeatureNormalization.from_dict(normalization).aligned(feature_names)
    if hasattr(normalization, "feature_names_out") and hasattr(normalization, "normalize"):
        return FeatureNormalization.from_feature_set(normalization, feature_names)
    raise ConfigError(f"normalization must be 'auto', None, a FeatureNormalization, a dict or a fitted "
                      f"FeatureSet; got {type(normalization).__name__}")


def _check_dataset(data, feature_names):
    from ltr.ranking import RankingDataset
    if isinstance(data, RankingDataset):
        ds = data
    else:
        import pandas as pd
        if not isinstance(data, pd.DataFrame):
            raise SchemaError(f"check_data must be a RankingDataset or a FEATURES DataFrame; got "
                              f"{type(data).__name__}")
        missing = [f for f in feature_names if f not in data.columns]
        if missing:
            raise FeatureMismatchError(f"check_data lacks the model's feature columns {missing[:10]}")
        ds = RankingDataset.from_frame(data, feature_names, name="check_data")
    if list(ds.feature_names) != list(feature_names):
        raise FeatureMismatchError(f"check_data's features {ds.feature_names[:10]} are not the model's "
                                   f"{list(feature_names)[:10]} (names and order must match)")
    return ds


def export_onnx(model, out, *, normalization="auto", ml_opset: int = 5, check_data=None,
                tolerance: float = DEFAULT_TOLERANCE, n_probe_rows: int = 2048, seed: int = 0) -> ExportResult:
    """Write ``model`` as an ONNX graph ``out`` and its manifest ``out.with_suffix('.manifest.json')``.

    Parameters
    ----------
    model : Ranker or path
        A fitted Ranker, or a model directory written by ``Ranker.save``.
    out : path
        The ``.onnx`` file to write (atomically, as is the manifest).
    normalization : "auto", None, FeatureNormalization, dict or FeatureSet, default="auto"
        The feature normalisation to put inside the graph. ``"auto"`` takes the model directory manifest's
        ``feature_normalization`` entry if it has one (none otherwise); None puts none (the graph expects
        the features as the model was trained on them).
    ml_opset : {5, 3}, default=5
        5: ``TreeEnsemble``, float64 end to end (onnxruntime >= 1.21). 3: ``TreeEnsembleRegressor`` with
        float64 thresholds and leaves but a float32 output, for older runtimes.
    check_data : RankingDataset or DataFrame, optional
        Rows to compare the graph with the backend on (before normalisation when ``normalization`` is set),
        in addition to the probe rows.
    tolerance : float, default=1e-5
        Largest accepted |onnx - native| per row; any row over it raises ExportError and nothing is written.
    n_probe_rows : int, default=2048
    seed : int, default=0
        Seed of the probe rows.

    Returns
    -------
    ExportResult
        Paths, manifest and the checks (rows, max |onnx - native|, rows over tolerance).

    Raises
    ------
    ExportError
        A model the format cannot express (the message says what and why), or scores over tolerance.
    ConfigError
        onnx / onnxruntime not installed, a bad ``ml_opset`` or normalisation.
    """
    from ltr.atomic import atomic_write, write_json
    from ltr.models.export._graph import INPUT, OPSET, OUTPUT, build_model
    from ltr.models.export._trees import read_ensemble

    # Step 1: the fitted model, and its directory's manifest when exported from one
    source_manifest, source = None, {}
    if isinstance(model, (str, Path)):
        model_dir = Path(model)
        ranker = load_model_dir(model_dir)
        source_manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
        source = {"model_dir": str(model_dir), "model_file": source_manifest.get("model_file"),
                  "model_sha256": source_manifest.get("model_sha256"),
                  "train_fingerprint": source_manifest.get("train_fingerprint")}
    else:
        ranker = model
    fitted = fitted_model(ranker)
    names = fitted.feature_names
    norm = _resolve_normalization(normalization, source_manifest, names)

    # Step 2: trees from the backend's own dump, and the graphs (with and without the normalisation)
    ensemble = read_ensemble(fitted.booster, fitted.backend, fitted.n_trees, fitted.objective)
    if ensemble.n_features != len(names):
        raise ModelFormatError(f"the {fitted.backend} model has {ensemble.n_features} features but the Ranker "
                               f"lists {len(names)} names")
    output = {"margin": "raw margin (sum of the trees)", "logistic": "probability of relevance (sigmoid of the "
              "margin)", "expected_grade": "expected grade sum_c c * softmax(margin)_c"}[ensemble.output]
    rows_per_call = "one query" if norm is not None and norm.scope == "query" else "any"
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "file": Path(out).name,
        "feature_names": list(names),
        "n_features": len(names),
        "input": {"name": INPUT, "dtype": "float64", "shape": ["N", len(names)],
                  "note": "rounded to float32 inside the graph, as the Ranker's feature matrix is"},
        "output": {"name": OUTPUT, "dtype": "float64", "shape": ["N"], "meaning": output,
                   "higher_is_better": True},
        "rows_per_call": rows_per_call,
        "normalization": None if norm is None else norm.to_dict(),
        "normalization_description": None if norm is None else norm.describe(),
        "objective": repr(fitted.objective),
        "backend": fitted.backend,
        "native_objective": ensemble.native_objective,
        "iterations": fitted.n_trees,
        "trees": len(ensemble.trees),
        "opset": {"": OPSET, "ai.onnx.ml": ml_opset},
        "operator": "TreeEnsemble" if ml_opset == 5 else "TreeEnsembleRegressor",
        "thresholds": "float64", "leaf_values": "float64",
        "score_precision": "float64" if ml_opset == 5 else "float32 (TreeEnsembleRegressor's output type)",
        "notes": list(ensemble.notes),
        "source": source,
        "versions": _versions(fitted),
    }
    embedded = {k: v for k, v in manifest.items() if k != "checks"}
    metadata = {_META_MANIFEST: json.dumps(embedded, sort_keys=True), _META_FEATURES: json.dumps(list(names))}
    doc = (f"ltr ranker: {fitted.backend}/{fitted.objective!r}, {len(ensemble.trees)} trees; input "
           f"'{INPUT}' float64 [N, {len(names)}] in the order of metadata '{_META_FEATURES}'")
    graph = build_model(ensemble, normalization=norm, ml_opset=ml_opset, metadata=metadata, doc=doc)
    data = graph.SerializeToString()

    # Step 3: the graph against the backend, before anything is written
    checks = []
    X = probe_rows(ensemble, n_probe_rows, seed=seed)
    trees_only = data if norm is None else build_model(ensemble, ml_opset=ml_opset).SerializeToString()
    checks.append(_compare(_native(fitted, X), _run(_session(trees_only), X), tolerance,
                           f"{n_probe_rows} probe rows on the split thresholds (seed {seed})"))
    if norm is not None:
        qids = np.repeat(np.arange(max(1, n_probe_rows // 32)), 32)[:n_probe_rows].astype(str)
        native = _native(fitted, norm.apply(X, qids))
        checks.append(_compare(native, _run(_session(data), X, qids if rows_per_call == "one query" else None),
                               tolerance, f"the probe rows through the normalisation ({norm.describe()})"))
    if check_data is not None:
        ds = _check_dataset(check_data, names)
        Xc = ds.dense_X()
        native = _native(fitted, Xc if norm is None else norm.apply(Xc, ds.qids))
        checks.append(_compare(native, _run(_session(data), Xc, ds.qids if rows_per_call == "one query" else None),
                               tolerance, f"{ds.name} ({len(ds)} rows, {ds.n_queries} queries)"))
    bad = [c for c in checks if c["rows_over_tolerance"]]
    if bad:
        c = bad[0]
        raise ExportError(f"the exported graph differs from the {fitted.backend} model on {c['rows_over_tolerance']} "
                          f"of {c['rows']} rows of {c['data']} (max |difference| {c['max_abs_diff']:.3g} > "
                          f"tolerance {c['tolerance']:g}); nothing was written. This is a bug in ltr; please "
                          f"report it with the model")

    # Step 4: write the graph, then the manifest (with the graph's hash and the checks)
    out = Path(out)
    with atomic_write(out, "wb") as handle:
        handle.write(data)
    manifest["sha256"] = hashlib.sha256(data).hexdigest()
    manifest["checks"] = checks
    mpath = manifest_path(out)
    write_json(mpath, manifest)
    return ExportResult(out, mpath, manifest, checks)


def export_model(model, out, *, format: str = "onnx", **options) -> ExportResult:
    """Dispatch to the exporter of ``format`` (one of :data:`FORMATS`); ``ltr export`` calls this."""
    from ltr.naming import select
    exporter = select({"onnx": export_onnx}, format, what="export format")
    return exporter(model, out, **options)


def _versions(fitted) -> dict:
    import importlib.metadata as md
    out = {}
    for pkg in ("ltr", fitted.backend, "onnx", "onnxruntime"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


# --------------------------------------------------------------------------------------------------
# reading and scoring
# --------------------------------------------------------------------------------------------------

def read_export_manifest(path) -> dict:
    """The manifest of an exported file (``ranker.onnx`` or ``ranker.manifest.json``); its sha256 is checked."""
    path = Path(path)
    onnx_file = path if path.suffix == ".onnx" else None
    mpath = manifest_path(path) if onnx_file is not None else path
    if not mpath.is_file():
        raise ModelFormatError(f"{mpath}: no manifest next to the exported model (ltr export writes "
                               f"<name>.manifest.json beside <name>.onnx)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFormatError(f"{mpath}: is not valid JSON ({err}); export the model again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFormatError(f"{mpath}: not an ltr export manifest (format {FORMAT!r})")
    onnx_file = onnx_file or mpath.parent / manifest["file"]
    if not onnx_file.is_file():
        raise ModelFormatError(f"{onnx_file}: the exported model named by {mpath} is missing")
    digest = hashlib.sha256(onnx_file.read_bytes()).hexdigest()
    if digest != manifest.get("sha256"):
        raise ModelFormatError(f"{onnx_file}: SHA-256 {digest} does not match the manifest's "
                               f"{manifest.get('sha256')}; the file changed after export: export it again")
    manifest["_path"] = str(onnx_file)
    return manifest


def score_onnx(path, data, *, n_threads: int = 1) -> np.ndarray:
    """Score ``data`` with an exported graph through onnxruntime, checking the features against its manifest.

    Parameters
    ----------
    path : path
        The ``.onnx`` file written by :func:`export_onnx` (its manifest beside it).
    data : RankingDataset or DataFrame
        Features named as in the manifest (a frame may have them in any order and other columns besides;
        a RankingDataset must have them in order). A per-query graph is called once per query.
    n_threads : int, default=1

    Returns
    -------
    ndarray of shape (n_rows,), float64
    """
    from ltr.ranking import RankingDataset
    manifest = read_export_manifest(path)
    names = manifest["feature_names"]
    if isinstance(data, RankingDataset):
        if list(data.feature_names) != names:
            raise FeatureMismatchError(f"{data.name} has features {data.feature_names[:10]} but the exported "
                                       f"model expects {names[:10]} (names and order)")
        X, qids = data.dense_X(), data.qids
    else:
        import pandas as pd
        if not isinstance(data, pd.DataFrame):
            raise SchemaError(f"score_onnx needs a RankingDataset or a DataFrame; got {type(data).__name__}")
        missing = [f for f in names if f not in data.columns]
        if missing:
            raise FeatureMismatchError(f"the frame lacks the exported model's features {missing[:10]}")
        X = data[names].to_numpy(dtype=np.float64)
        qids = data["qid"].to_numpy() if "qid" in data.columns else None
    if manifest["rows_per_call"] == "one query" and qids is None:
        raise SchemaError("this graph normalises per query: score_onnx needs a qid column to call it once per "
                          "query")
    session = _session(Path(manifest["_path"]).read_bytes(), n_threads)
    return _run(session, X, qids if manifest["rows_per_call"] == "one query" else None)
