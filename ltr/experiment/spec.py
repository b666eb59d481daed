"""The experiment declaration: one typed, frozen object, written as a Python script or a TOML file.

Every name (data kind, collection, extractors, first stage, objectives, backends, metrics, statistical test,
correction, search-space parameters) is resolved in ``__post_init__``, so a typo fails before any training,
with the valid choices listed.

A TOML file holds the same keys as :class:`Experiment`; the ``data``, ``training`` and ``tuning`` tables
become :class:`DataSpec`, :class:`TrainingSpec` and :class:`TuningSpec`::

    name = "mq2008-objectives"
    objectives = ["lambdarank", "ranknet", "rank_xendcg", "regression"]
    backends = ["lightgbm", "xgboost"]
    metrics = ["nDCG@10", "AP"]
    baseline = "lightgbm/lambdarank"
    seeds = [0, 1, 2]

    [data]
    kind = "letor"
    path = "../../shared/data/letor4-mq2008/MQ2008"   # relative to this file

    [training]
    n_estimators = 1000

    [tuning]
    budget = 8

Systems are named ``backend/objective`` (e.g. ``xgboost/ranknet``), the objective in its printed form.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltr.errors import ConfigError, LTRError
from ltr.naming import check_params, parse_spec, select

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BACKENDS = ("lightgbm", "xgboost")

#: The system name of the first stage's own ranking in experiments on raw collections.
FIRST_STAGE_SYSTEM = "first-stage/bm25"

DATA_KINDS = {
    "letor": "LETOR fold layout: <path>/Fold*/{train,vali,test}.txt",
    "letor_files": "explicit LETOR/SVMlight files: train, test and optional valid (else a query hold-out)",
    "collection": "a raw collection (name from ltr.datasets) through a first stage and a feature set",
}

#: The documented default search space: each entry is (kind, low, high) sampled per configuration.
#: "log" samples uniformly in log space, "int" uniformly among integers, "float" uniformly.
#: One configuration draws every entry; a backend takes the entries it has (:data:`BACKEND_PARAMS`), so
#: LightGBM models differ in leaves and leaf size, XGBoost models in depth.
DEFAULT_SPACE: dict[str, tuple[str, float, float]] = {
    "learning_rate": ("log", 0.02, 0.2),
    "reg_lambda": ("log", 1e-3, 10.0),
    "num_leaves": ("int", 7, 63),
    "min_child_samples": ("int", 5, 100),
    "max_depth": ("int", 3, 8),
}

#: Ranker settings that exist on one backend only (the Ranker refuses the others on XGBoost).
BACKEND_PARAMS = {"num_leaves": ("lightgbm",), "min_child_samples": ("lightgbm",), "max_depth": ("xgboost",)}

_SPACE_KINDS = ("log", "int", "float")


def _unknown_keys(given, allowed, owner: str) -> None:
    check_params(given, allowed, owner=owner, what="keys", error=ConfigError)


def _check_type(value, types, what: str):
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        names = " or ".join(t.__name__ for t in _as_tuple(types))
        raise ConfigError(f"{what} must be {names}, got {type(value).__name__} {value!r}")
    return value


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _check_collection_names(exp) -> None:
    """Resolve the collection and extractor names of a collection declaration (before any work)."""
    from features import get_extractor
    from ltr.datasets.loaders import available_collections
    source = exp.collection_source()
    if not Path(source).is_dir():
        if os.sep in source or (os.altsep and os.altsep in source):
            raise ConfigError(f"data.collection: no such folder {source} (relative paths are resolved against "
                              f"the experiment file's folder {exp.base_dir})")
        name = parse_spec(source, what="collection").name
        select(dict.fromkeys(available_collections()), name, what="collection")
    for spec in exp.data.features:
        get_extractor(spec)


def _from_mapping(cls, value, owner: str):
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"{owner} must be a table (dict), got {type(value).__name__} {value!r}")
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    _unknown_keys(value, names, owner)
    return cls(**value)


@dataclass(frozen=True)
class DataSpec:
    """Where the data come from.

    Parameters
    ----------
    kind : {"letor", "letor_files", "collection"}
    path : str
        ``letor``: the folder holding ``Fold1..FoldN``. Relative paths are resolved against the experiment
        file's folder (``ltr run`` of a ``.py`` file sets it to that file's folder too; an Experiment built
        in your own code resolves against ``base_dir``, default the working directory).
    folds : list of str, optional
        ``letor``: the folds to run (default all, e.g. ``["Fold1"]``).
    train, test, valid : str
        ``letor_files``: explicit files. Without ``valid``, ``holdout`` of the training queries are held out
        for validation (a seeded permutation of the qids).
    holdout : float
        Fraction of training queries held out for validation when there is no validation file.
    collection : str
        ``collection``: a collection name with parameters, e.g. ``"synthetic-web(seed=0)"`` or ``"cacm"``.
    features : list of str
        ``collection``: extractor specs, e.g. ``["bm25(field='body')", "recency", "pagerank"]``.
    first_stage_k : int
        ``collection``: candidates per query from the BM25 first stage (10 < k < 10,000).
    splits : str
        ``collection``: ``"kfold(k=5)"`` (query-level k-fold) or ``"time(test_fraction=0.3)"`` (older queries
        train, newer test; needs query times).
    negatives : str
        ``collection``: training candidates: ``"all"`` (the first-stage top-k), ``"random(n=20)"``,
        ``"hard(n=20)"`` or ``"mix(n=20, hard_ratio=0.5)"``; evaluation candidates are never altered.
    normalize : str or None
        ``collection``: per-query feature normalisation (``"zscore"``, ``"minmax"``) or None.
    seed : int
        Seed of hold-outs and splits.
    """

    kind: str = "letor"
    path: str | None = None
    folds: tuple[str, ...] | None = None
    train: str | None = None
    test: str | None = None
    valid: str | None = None
    holdout: float = 0.2
    collection: str | None = None
    features: tuple[str, ...] = ()
    first_stage_k: int = 100
    splits: str = "kfold(k=5)"
    negatives: str = "all"
    normalize: str | None = None
    seed: int = 0

    def __post_init__(self):
        select(DATA_KINDS, self.kind, what="data kind")
        if self.folds is not None:
            object.__setattr__(self, "folds", tuple(self.folds))
        object.__setattr__(self, "features", tuple(self.features))
        needs = {"letor": ("path",), "letor_files": ("train", "test"), "collection": ("collection",)}[self.kind]
        missing = [k for k in needs if getattr(self, k) is None]
        if missing:
            raise ConfigError(f"data of kind {self.kind!r} needs {missing}")
        if not 0.0 < float(self.holdout) < 1.0:
            raise ConfigError(f"data.holdout must be a fraction in (0, 1), got {self.holdout!r}")
        if self.kind == "collection":
            if not 10 < int(self.first_stage_k) < 10_000:
                raise ConfigError(f"data.first_stage_k must be in 10 < k < 10,000, got {self.first_stage_k}")
            split = parse_spec(self.splits, what="split")
            select({"kfold": 1, "time": 1}, split.name, what="split")
            neg = parse_spec(self.negatives, what="negative strategy")
            select({"all": 1, "random": 1, "hard": 1, "mix": 1}, neg.name, what="negative strategy")
            if not self.features:
                raise ConfigError("data of kind 'collection' needs a non-empty features list")


@dataclass(frozen=True)
class TrainingSpec:
    """Settings shared by every model of the comparison (the tuned ones come from :class:`TuningSpec`).

    The defaults subsample rows and features (0.8) so that seeds matter: with deterministic training and no
    subsampling, LightGBM and XGBoost return the same model for every seed.
    """

    n_estimators: int = 1000
    early_stopping_rounds: int = 50
    eval_metric: str = "nDCG(gain='exp', norel=1, ties='row')@10"   # LightGBM's own ndcg@10, exactly
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 20
    max_depth: int = 6
    reg_lambda: float = 0.0
    subsample: float = 0.8
    colsample: float = 0.8
    n_jobs: int = 2
    params: dict = field(default_factory=dict)
    # None = in this process; "local", a Dask scheduler address or a dict: see ltr.models.distributed
    cluster: str | dict | None = None

    def ranker_kwargs(self, backend: str, config: dict | None = None, *, seed: int = 0) -> dict:
        """Keyword arguments of :class:`ltr.models.Ranker` for ``backend``, with a tuned ``config`` applied."""
        values = {k: getattr(self, k) for k in ("learning_rate", "num_leaves", "min_child_samples", "max_depth",
                                                "reg_lambda")}
        values.update(config or {})
        kwargs = {k: v for k, v in values.items() if backend in BACKEND_PARAMS.get(k, (backend,))}
        kwargs.update(n_estimators=self.n_estimators, early_stopping_rounds=self.early_stopping_rounds,
                      eval_metric=self.eval_metric, subsample=self.subsample, colsample=self.colsample,
                      n_jobs=self.n_jobs, random_state=seed, params=dict(self.params) or None)
        if self.cluster is not None:
            kwargs["cluster"] = dict(self.cluster) if isinstance(self.cluster, dict) else self.cluster
        return kwargs

    def __post_init__(self):
        _check_type(self.n_estimators, int, "training.n_estimators")
        _check_type(self.early_stopping_rounds, int, "training.early_stopping_rounds")
        if self.cluster is not None and not isinstance(self.cluster, (str, dict)):
            raise ConfigError(f"training.cluster must be omitted (in-process), 'local', a Dask scheduler address "
                              f"such as 'tcp://10.0.0.1:8786', or a table of settings; got {self.cluster!r}")
        for name in ("num_leaves", "min_child_samples", "max_depth"):
            _check_type(getattr(self, name), int, f"training.{name}")
        for name in ("learning_rate", "subsample", "colsample", "reg_lambda"):
            _check_type(getattr(self, name), (int, float), f"training.{name}")
        if not 0 < self.subsample <= 1 or not 0 < self.colsample <= 1:
            raise ConfigError("training.subsample and training.colsample must be in (0, 1]")
        from ltr.metrics import parse_metric
        parse_metric(self.eval_metric)


@dataclass(frozen=True)
class TuningSpec:
    """Random search with the same budget for every (fold, objective, backend).

    Parameters
    ----------
    budget : int
        Configurations tried per fold, objective and backend (default 8). 1 means "no tuning": the training
        settings are used as they are.
    seed : int
        Seed of the search. The same configurations are drawn for every system of a fold, so each objective
        and backend sees exactly the same candidates.
    space : dict
        ``{parameter: [kind, low, high]}`` with kind ``log``, ``int`` or ``float``; defaults to
        :data:`DEFAULT_SPACE`. Parameters are the Ranker's common keyword arguments.
    """

    budget: int = 8
    seed: int = 0
    space: dict = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_SPACE.items()})

    def __post_init__(self):
        _check_type(self.budget, int, "tuning.budget")
        if self.budget < 1:
            raise ConfigError(f"tuning.budget must be >= 1, got {self.budget}")
        allowed = {f.name for f in dataclasses.fields(TrainingSpec)} - {"params", "n_jobs", "eval_metric",
                                                                        "n_estimators", "early_stopping_rounds"}
        _unknown_keys(self.space, allowed, "tuning.space")
        for name, spec in self.space.items():
            if not isinstance(spec, (list, tuple)) or len(spec) != 3 or spec[0] not in _SPACE_KINDS:
                raise ConfigError(f"tuning.space[{name!r}] must be [kind, low, high] with kind in "
                                  f"{list(_SPACE_KINDS)}, got {spec!r}")
            if not spec[1] <= spec[2]:
                raise ConfigError(f"tuning.space[{name!r}]: low {spec[1]} > high {spec[2]}")


@dataclass(frozen=True)
class Experiment:
    """A comparison of objectives x backends on one data set, with seeds, tuning, metrics and statistics.

    Parameters
    ----------
    name : str
    data : DataSpec or dict
    objectives : list of str
        Objective specs (``ltr.objectives``), e.g. ``"lambdarank(truncation_level=20)"``.
    backends : list of str
        ``"lightgbm"`` and/or ``"xgboost"``. Combinations a backend does not support are skipped and listed in
        the manifest.
    metrics : list of str
        Harness metric names (``ltr.metrics``), reported per query.
    baseline : str
        The system the others are tested against, ``"backend/objective"``.
    seeds : list of int
        Training seeds (row/feature subsampling); the per-query value of a system is the mean over seeds.
    test, correction, alpha : str, str, float
        Paired test (``ltr.stats.TESTS``) and multiple-testing correction (``ltr.stats.CORRECTIONS``) across
        the non-baseline systems of each metric.
    training, tuning : TrainingSpec, TuningSpec or dict
    expected : dict, optional
        Regression guard ``{"nDCG@10": [value, tolerance]}`` on the baseline's mean, checked after the run.
    base_dir : str
        Folder against which relative data paths are resolved (set by :meth:`from_toml`).
    """

    name: str
    data: DataSpec
    objectives: tuple[str, ...]
    backends: tuple[str, ...] = BACKENDS
    metrics: tuple[str, ...] = ("nDCG@10", "nDCG(gain='exp', norel=1)@10", "AP", "RR", "P@10")
    baseline: str | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    test: str = "paired_t"
    correction: str = "holm"
    alpha: float = 0.05
    training: TrainingSpec = field(default_factory=TrainingSpec)
    tuning: TuningSpec = field(default_factory=TuningSpec)
    expected: dict | None = None
    base_dir: str = "."

    def __post_init__(self):
        from ltr import stats
        from ltr.metrics import parse_metric
        from ltr.objectives import get_objective

        _check_type(self.name, str, "name")
        object.__setattr__(self, "data", _from_mapping(DataSpec, self.data, "data"))
        object.__setattr__(self, "training", _from_mapping(TrainingSpec, self.training, "training"))
        object.__setattr__(self, "tuning", _from_mapping(TuningSpec, self.tuning, "tuning"))
        for key in ("objectives", "backends", "metrics", "seeds"):
            value = getattr(self, key)
            if isinstance(value, (str, int)) or not value:
                raise ConfigError(f"{key} must be a non-empty list, got {value!r}")
            object.__setattr__(self, key, tuple(value))
        for b in self.backends:
            select(dict.fromkeys(BACKENDS), b, what="backend")
        objectives = tuple(repr(get_objective(o)) for o in self.objectives)
        if len(set(objectives)) != len(objectives):
            raise ConfigError(f"objectives lists the same objective twice: {list(objectives)}")
        object.__setattr__(self, "objectives", objectives)
        for m in self.metrics:
            parse_metric(m)
        for s in self.seeds:
            _check_type(s, int, "each seed")
        stats.resolve_test(self.test)
        stats.get_correction(self.correction)
        if self.data.kind == "collection":
            _check_collection_names(self)
        systems = self.systems()
        if not systems:
            raise ConfigError("no (backend, objective) combination is supported; see the objectives' backends")
        if self.baseline is None:
            object.__setattr__(self, "baseline", systems[0])
        elif self.baseline in self.fixed_systems():
            pass
        else:
            backend, _, obj = self.baseline.partition("/")
            canonical = f"{backend}/{repr(get_objective(obj))}" if obj else self.baseline
            select(dict.fromkeys(self.fixed_systems() + systems), canonical, what="baseline system")
            object.__setattr__(self, "baseline", canonical)
        if self.expected is not None:
            for metric, pair in self.expected.items():
                if metric not in self.metrics:
                    raise ConfigError(f"expected names metric {metric!r}, which is not in metrics "
                                      f"{list(self.metrics)}")
                if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                    raise ConfigError(f"expected[{metric!r}] must be [value, tolerance], got {pair!r}")

    # -- derived -----------------------------------------------------------------------------------
    def systems(self) -> list[str]:
        """``backend/objective`` names of the supported combinations, in declaration order."""
        from ltr.objectives import get_objective
        return [f"{b}/{o}" for o in self.objectives for b in self.backends if b in get_objective(o).backends]

    def fixed_systems(self) -> list[str]:
        """Systems that are not trained: the first stage alone, in experiments on raw collections."""
        return [FIRST_STAGE_SYSTEM] if self.data.kind == "collection" else []

    def skipped(self) -> list[str]:
        """Combinations left out because the backend does not offer the objective."""
        from ltr.objectives import get_objective
        return [f"{b}/{o}" for o in self.objectives for b in self.backends
                if b not in get_objective(o).backends]

    def resolve_path(self, path: str | None) -> Path | None:
        if path is None:
            return None
        p = Path(path).expanduser()
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()

    def collection_source(self) -> str | None:
        """``data.collection`` as given when it names a registered collection; a folder path resolved against
        :attr:`base_dir` otherwise (so an experiment file finds its data wherever it is run from)."""
        text = self.data.collection
        if text is None:
            return None
        from ltr.datasets.loaders import available_collections
        looks_like_path = os.sep in text or bool(os.altsep and os.altsep in text) or text.startswith(".")
        if not looks_like_path:
            try:
                if parse_spec(text, what="collection").name in available_collections():
                    return text
            except LTRError:
                pass
        candidate = self.resolve_path(text)
        return str(candidate) if looks_like_path or candidate.is_dir() else text

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/TOML-able) that :meth:`from_dict` reads back into an equal experiment."""
        out = dataclasses.asdict(self)
        out.pop("base_dir")
        return _jsonable(out)

    def fingerprint(self) -> str:
        """SHA-256 of the resolved declaration (what decides whether an output folder holds this experiment)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, *, base_dir: str | Path = ".", source: str = "experiment") -> "Experiment":
        if not isinstance(data, dict):
            raise ConfigError(f"{source} must be a table of keys, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)} - {"base_dir"}
        _unknown_keys(data, names, source)
        missing = [k for k in ("name", "data", "objectives") if k not in data]
        if missing:
            raise ConfigError(f"{source} lacks the required keys {missing}")
        try:
            return cls(**data, base_dir=str(base_dir))
        except TypeError as exc:  # wrong types that dataclass construction itself rejects
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_toml(cls, path: str | Path) -> "Experiment":
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"experiment file {path} does not exist")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        try:
            return cls.from_dict(data, base_dir=path.resolve().parent, source=str(path))
        except LTRError as exc:
            if str(path) in str(exc):
                raise
            raise type(exc)(f"{path}: {exc}") from None

    def to_toml(self) -> str:
        """The declaration as TOML text (the one config format)."""
        return _dump_toml(self.to_dict())


def slug(system: str) -> str:
    """A file-name-safe form of a system name: ``lightgbm/lambdarank(truncation_level=20)`` ->
    ``lightgbm-lambdarank_truncation_level=20``."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9.=+-]", "_", system.replace("/", "-"))).strip("_")


def load_experiment(target: str | Path) -> Experiment:
    """An experiment from a ``.toml`` file or a Python file defining ``EXPERIMENT``."""
    path = Path(target)
    if path.suffix == ".toml":
        return Experiment.from_toml(path)
    if path.suffix == ".py":
        if not path.is_file():
            raise ConfigError(f"experiment file {path} does not exist")
        import importlib.util
        spec = importlib.util.spec_from_file_location(f"_ltr_experiment_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        exp = getattr(module, "EXPERIMENT", None)
        if not isinstance(exp, Experiment):
            raise ConfigError(f"{path} must define EXPERIMENT = Experiment(...)")
        if exp.base_dir == ".":   # relative data paths mean: next to the experiment file, as in TOML
            exp = dataclasses.replace(exp, base_dir=str(path.resolve().parent))
        return exp
    raise ConfigError(f"an experiment is a .toml or .py file, got {path}")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise ConfigError(f"cannot write {v!r} to TOML")


def _dump_toml(data: dict) -> str:
    lines, tables = [], []
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, dict) and k in ("data", "training", "tuning"):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    for name, table in tables:
        lines.append(f"\n[{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None)
    return "\n".join(lines) + "\n"
