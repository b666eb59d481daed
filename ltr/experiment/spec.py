"""The experiment declaration: one typed, frozen object, written as a Python script or a TOML file.

Every name (data kind, collection, extractors, first stage, splits, negatives, objectives, backends, metrics,
statistical test, correction, search-space parameters) is resolved in ``__post_init__`` into typed objects
(:class:`~ltr.experiment.systems.System`, the data declaration of :mod:`ltr.experiment.data_specs`,
canonical metric names), so a typo or a parameter a part does not take fails before any training, with the
valid choices listed.

A TOML file holds the same keys as :class:`Experiment`; the ``data``, ``training`` and ``tuning`` tables
become a data declaration (by its ``kind``), :class:`TrainingSpec` and :class:`TuningSpec`::

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
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltr.errors import ConfigError, LTRError
from ltr.experiment.data_specs import DATA_KINDS, CollectionData, DataSpec, LetorFiles, LetorFolds, data_spec  # noqa: F401
from ltr.experiment.systems import (BACKEND_SETTINGS, FIRST_STAGE, FIRST_STAGE_SYSTEM, ControlSystem,  # noqa: F401
                                    FixedSystem, System, available_backends, parse_system, slug)
from ltr.naming import check_params, parse_spec, select
from ltr.params import check_type

#: Compatibility name of :data:`ltr.experiment.systems.BACKEND_SETTINGS`.
BACKEND_PARAMS = BACKEND_SETTINGS

#: The documented default search space: each entry is (kind, low, high) sampled per configuration.
#: "log" samples uniformly in log space, "int" uniformly among integers, "float" uniformly.
#: One configuration draws every entry; a backend takes the entries it has (:data:`BACKEND_SETTINGS`), so
#: LightGBM models differ in leaves and leaf size, XGBoost models in depth.
DEFAULT_SPACE: dict[str, tuple[str, float, float]] = {
    "learning_rate": ("log", 0.02, 0.2),
    "reg_lambda": ("log", 1e-3, 10.0),
    "num_leaves": ("int", 7, 63),
    "min_child_samples": ("int", 5, 100),
    "max_depth": ("int", 3, 8),
}

_SPACE_KINDS = ("log", "int", "float")


def _unknown_keys(given, allowed, owner: str) -> None:
    check_params(given, allowed, owner=owner, what="keys", error=ConfigError)


def _check_collection_names(exp) -> None:
    """The collection of a collection declaration exists (a registered name, or a folder next to the file)."""
    from ltr.datasets.loaders import available_collections
    source = exp.collection_source()
    if not Path(source).is_dir():
        if os.sep in source or (os.altsep and os.altsep in source):
            raise ConfigError(f"data.collection: no such folder {source} (relative paths are resolved against "
                              f"the experiment file's folder {exp.base_dir})")
        name = parse_spec(source, what="collection").name
        select(dict.fromkeys(available_collections()), name, what="collection")


def _from_mapping(cls, value, owner: str):
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"{owner} must be a table (dict), got {type(value).__name__} {value!r}")
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    _unknown_keys(value, names, owner)
    return cls(**value)


def _distinct(values, what: str) -> tuple:
    seen, dup = set(), []
    for v in values:
        if v in seen:
            dup.append(v)
        seen.add(v)
    if dup:
        raise ConfigError(f"{what} lists {sorted(set(map(str, dup)))} more than once; each may appear once "
                          f"(a repeat would run and count every cell twice)")
    return tuple(values)


@dataclass(frozen=True)
class TrainingSpec:
    """Settings shared by every model of the comparison (the tuned ones come from :class:`TuningSpec`).

    The defaults subsample rows and features (0.8) so that seeds matter: with deterministic training and no
    subsampling, LightGBM and XGBoost return the same model for every seed.
    """

    n_estimators: int = 1000
    early_stopping_rounds: int = 50
    eval_metric: str | None = None     # None: the experiment's primary metric, with its conventions
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

    def settings(self, system: System, config: dict | None = None) -> dict:
        """The tunable settings ``system`` trains with: the defaults with a tuned ``config`` applied, only the
        ones its backend has (what the model really used, and what the manifest and reports record)."""
        values = {k: getattr(self, k) for k in ("learning_rate", "num_leaves", "min_child_samples", "max_depth",
                                                "reg_lambda")}
        values.update(config or {})
        return system.own_settings(values)

    def ranker_kwargs(self, system, config: dict | None = None, *, seed: int = 0, eval_metric: str | None = None,
                      backend_params: dict | None = None) -> dict:
        """Keyword arguments of :class:`ltr.models.Ranker` for ``system`` (a System, or a backend name), with a
        tuned ``config`` applied; ``eval_metric`` when ``training.eval_metric`` is not set, and
        ``backend_params`` (e.g. hessian-scaled ones) under the declared ``training.params``."""
        if isinstance(system, str):
            from ltr.objectives import get_objective
            system = System(system, get_objective("lambdarank"))
        kwargs = self.settings(system, config)
        params = {**(backend_params or {}), **self.params}
        kwargs.update(n_estimators=self.n_estimators, early_stopping_rounds=self.early_stopping_rounds,
                      eval_metric=self.eval_metric or eval_metric or "nDCG@10", subsample=self.subsample,
                      colsample=self.colsample, n_jobs=self.n_jobs, random_state=seed, params=params or None)
        if self.cluster is not None:
            kwargs["cluster"] = dict(self.cluster) if isinstance(self.cluster, dict) else self.cluster
        return kwargs

    def __post_init__(self):
        check_type(self.n_estimators, int, "training.n_estimators")
        check_type(self.early_stopping_rounds, int, "training.early_stopping_rounds")
        if self.cluster is not None and not isinstance(self.cluster, (str, dict)):
            raise ConfigError(f"training.cluster must be omitted (in-process), 'local', a Dask scheduler address "
                              f"such as 'tcp://10.0.0.1:8786', or a table of settings; got {self.cluster!r}")
        for name in ("num_leaves", "min_child_samples", "max_depth", "n_jobs"):
            check_type(getattr(self, name), int, f"training.{name}")
        for name in ("learning_rate", "subsample", "colsample", "reg_lambda"):
            check_type(getattr(self, name), (int, float), f"training.{name}")
        if not 0 < self.subsample <= 1 or not 0 < self.colsample <= 1:
            raise ConfigError("training.subsample and training.colsample must be in (0, 1]")
        check_type(self.params, dict, "training.params")
        if self.eval_metric is not None:
            from ltr.metrics import parse_metric
            object.__setattr__(self, "eval_metric", repr(parse_metric(self.eval_metric)))


@dataclass(frozen=True)
class TuningSpec:
    """The hyper-parameter search, with the same budget for every (fold, objective, backend).

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
    sampler : {"random", "tpe"}, default="random"
        ``"random"``: the configurations above. ``"tpe"``: Optuna's Tree-structured Parzen Estimator, one
        study per (fold, system) with the same budget, seeded from ``seed`` and the fold, drawing in the same
        units as the random search (``pip install 'ltr[tune]'``); see :mod:`ltr.experiment.search`.
    """

    budget: int = 8
    seed: int = 0
    space: dict = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_SPACE.items()})
    sampler: str = "random"

    def __post_init__(self):
        from ltr.experiment.search import SAMPLERS, have_optuna
        check_type(self.budget, int, "tuning.budget")
        check_type(self.seed, int, "tuning.seed")
        if self.budget < 1:
            raise ConfigError(f"tuning.budget must be >= 1, got {self.budget}")
        check_type(self.sampler, str, "tuning.sampler")
        select(SAMPLERS, self.sampler, what="tuning sampler")
        if self.sampler == "tpe" and self.budget > 1 and not have_optuna():
            raise ConfigError("tuning.sampler = 'tpe' needs Optuna, which is not installed: pip install "
                              "'ltr[tune]' (or pip install optuna), or use sampler = 'random'")
        check_type(self.space, dict, "tuning.space")
        allowed = {f.name for f in dataclasses.fields(TrainingSpec)} - {"params", "n_jobs", "eval_metric",
                                                                        "n_estimators", "early_stopping_rounds",
                                                                        "cluster"}
        _unknown_keys(self.space, allowed, "tuning.space")
        for name, spec in self.space.items():
            if not isinstance(spec, (list, tuple)) or len(spec) != 3 or spec[0] not in _SPACE_KINDS:
                raise ConfigError(f"tuning.space[{name!r}] must be [kind, low, high] with kind in "
                                  f"{list(_SPACE_KINDS)}, got {spec!r}")
            kind, low, high = spec
            for bound in (low, high):
                if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
                    raise ConfigError(f"tuning.space[{name!r}]: bounds must be finite numbers, got {spec!r}")
            if not low <= high:
                raise ConfigError(f"tuning.space[{name!r}]: low {low} > high {high}")
            if kind == "log" and low <= 0:
                raise ConfigError(f"tuning.space[{name!r}]: a 'log' range needs low > 0 (log(0) is -inf), got "
                                  f"{spec!r}; start it at a small positive value, e.g. 1e-3")
            if kind == "int" and (low != int(low) or high != int(high)):
                raise ConfigError(f"tuning.space[{name!r}]: an 'int' range needs integer bounds, got {spec!r}")


SEARCHES = {"scale-aware": "hessian-unit regularisers drawn relative to each objective's own hessian scale",
            "raw": "every value drawn in the backend's own units, the same for every objective"}
FAMILIES = {"primary": "the primary metric across the non-baseline systems",
            "metric": "each metric across the non-baseline systems",
            "all": "every (non-baseline system, metric)"}


@dataclass(frozen=True)
class ProtocolSpec:
    """How systems are compared, beyond the budget: the ``[protocol]`` table.

    Parameters
    ----------
    search : {"scale-aware", "raw"}, default="scale-aware"
        ``"scale-aware"``: regularisers that act on hessians are drawn relative to each objective's own mean
        hessian on the training fold (:mod:`ltr.models.scale`), so one draw means the same shrinkage for every
        objective: ``reg_lambda = r * mean_hessian * reference_leaf_rows`` (a leaf of that many rows is
        shrunk by ``1 / (1 + r)`` whatever the objective), XGBoost ``min_child_weight = mean_hessian`` and
        LightGBM ``min_sum_hessian_in_leaf = 1e-3 * mean_hessian`` (their defaults, 1 and 1e-3, in units of
        one row of unit hessian). Row counts (``min_child_samples``), leaves, depth and the learning rate are
        drawn as they are. Gain-unit (``min_split_gain``/``gamma``) and gradient-unit (``lambda_l1``/
        ``reg_alpha``) parameters have other scales and are never scaled; given in ``training.params`` they
        are used as written. ``"raw"``: the backend's units, the same values for every objective.
    reference_leaf_rows : int, default=20
        The leaf size at which ``r`` is the shrinkage ratio (LightGBM's default ``min_data_in_leaf``).
    align_gain : bool, default=True
        Objectives that optimise a gain (LightGBM lambdarank, lambdarank_ref, XGBoost rank:ndcg) train with
        the primary metric's gain (linear for trec_eval's ``nDCG``, ``2^y - 1`` for ``gain='exp'``) unless
        the objective sets ``label_gain`` itself.
    control : bool, default=False
        Add an A/A control: the baseline retrained under the same protocol with other seeds (disjoint from
        ``seeds``), named ``<baseline> (control)``, shown in every table as the noise floor and kept out of
        the correction family.
    run_level : bool, default=True
        Also test at the level of trained runs (whole (system, seed) runs permuted within folds).
    tukey : bool, default=True
        Also the all-pairs randomised Tukey HSD on the primary metric.
    power : float, default=0.8
        The power at which the minimal detectable effect of each comparison is reported.
    equivalence_margin : float or None, default=None
        With a margin, a non-significant comparison is also tested for equivalence (TOST, paired): the only
        way the report says "no difference".
    """

    search: str = "scale-aware"
    reference_leaf_rows: int = 20
    align_gain: bool = True
    control: bool = False
    run_level: bool = True
    tukey: bool = True
    power: float = 0.8
    equivalence_margin: float | None = None

    #: Keys that change what a cell computes (the rest change which cells exist or only the report).
    CELL_KEYS = ("search", "reference_leaf_rows", "align_gain")

    def __post_init__(self):
        select(SEARCHES, self.search, what="search protocol")
        check_type(self.reference_leaf_rows, int, "protocol.reference_leaf_rows")
        if self.reference_leaf_rows < 1:
            raise ConfigError(f"protocol.reference_leaf_rows must be >= 1, got {self.reference_leaf_rows}")
        for name in ("align_gain", "control", "run_level", "tukey"):
            check_type(getattr(self, name), bool, f"protocol.{name}")
        check_type(self.power, float, "protocol.power")
        if not 0 < self.power < 1:
            raise ConfigError(f"protocol.power must be in (0, 1), got {self.power}")
        if self.equivalence_margin is not None:
            check_type(self.equivalence_margin, (int, float), "protocol.equivalence_margin")
            if not self.equivalence_margin > 0:
                raise ConfigError(f"protocol.equivalence_margin must be > 0, got {self.equivalence_margin}")


@dataclass(frozen=True)
class Experiment:
    """A comparison of objectives x backends on one data set, with seeds, tuning, metrics and statistics.

    Parameters
    ----------
    name : str
    data : DataSpec or dict
        A table with ``kind`` (``letor``, ``letor_files``, ``collection``): see :mod:`ltr.experiment.data_specs`.
    objectives : list of str
        Objective specs (``ltr.objectives``), e.g. ``"lambdarank(truncation_level=20)"``; stored in their
        canonical printed form.
    backends : list of str
        Names of the backend registry (``ltr.models.backends``). Combinations a backend does not support are
        skipped and listed in the manifest.
    metrics : list of str
        Harness metric names (``ltr.metrics``), reported per query; stored canonical, so ``ndcg@10`` and
        ``nDCG@10`` are one metric (listing it twice is refused).
    primary : str, optional
        The metric the claim is about (default: the first of ``metrics``): it is the correction family's
        metric, every system early-stops on it (unless ``training.eval_metric`` is set) and objectives that
        optimise a gain train with its gain (``protocol.align_gain``). The others are exploratory.
    baseline : str
        The system the others are tested against, ``"backend/objective"``.
    seeds : list of int
        Training seeds in [0, 2^32) (row/feature subsampling); the per-query value of a system is the mean over
        seeds. Deterministic systems (the first stage) run once per fold.
    test, correction, alpha : str, str, float
        Paired test (``ltr.stats.TESTS``) and multiple-testing correction (``ltr.stats.CORRECTIONS``).
    family : {"primary", "metric", "all"}, default="primary"
        The correction's family (:data:`FAMILIES`): the primary metric across the non-baseline systems; each
        metric separately; or every (non-baseline system, metric).
    training, tuning, protocol : TrainingSpec, TuningSpec, ProtocolSpec or dict
    expected : dict, optional
        Regression guard ``{"nDCG@10": [value, tolerance]}`` on the baseline's mean, checked after the run.
    base_dir : str
        Folder against which relative data paths are resolved (set by :meth:`from_toml`).
    """

    name: str
    data: DataSpec
    objectives: tuple[str, ...]
    backends: tuple[str, ...] = field(default_factory=lambda: tuple(available_backends()))
    metrics: tuple[str, ...] = ("nDCG@10", "nDCG(gain='exp', norel=1)@10", "AP", "RR", "P@10")
    primary: str | None = None
    baseline: str | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    test: str = "paired_t"
    correction: str = "holm"
    family: str = "primary"
    alpha: float = 0.05
    training: TrainingSpec = field(default_factory=TrainingSpec)
    tuning: TuningSpec = field(default_factory=TuningSpec)
    protocol: ProtocolSpec = field(default_factory=ProtocolSpec)
    expected: dict | None = None
    base_dir: str = "."

    def __post_init__(self):
        from ltr import stats
        from ltr.metrics import parse_metric
        from ltr.objectives import get_objective

        check_type(self.name, str, "name")
        object.__setattr__(self, "data", data_spec(self.data))
        object.__setattr__(self, "training", _from_mapping(TrainingSpec, self.training, "training"))
        object.__setattr__(self, "tuning", _from_mapping(TuningSpec, self.tuning, "tuning"))
        object.__setattr__(self, "protocol", _from_mapping(ProtocolSpec, self.protocol, "protocol"))
        select(FAMILIES, self.family, what="correction family")
        for key in ("objectives", "backends", "metrics", "seeds"):
            value = getattr(self, key)
            if isinstance(value, (str, int)) or not value:
                raise ConfigError(f"{key} must be a non-empty list, got {value!r}")
            object.__setattr__(self, key, tuple(value))
        for b in self.backends:
            select(dict.fromkeys(available_backends()), b, what="backend")
        _distinct(self.backends, "backends")
        objectives = tuple(get_objective(o) for o in self.objectives)
        object.__setattr__(self, "objectives", _distinct(tuple(repr(o) for o in objectives), "objectives"))
        object.__setattr__(self, "metrics", _distinct(tuple(repr(parse_metric(m)) for m in self.metrics),
                                                      "metrics (in their canonical form)"))
        primary = self.metrics[0] if self.primary is None else repr(parse_metric(self.primary))
        if primary not in self.metrics:
            raise ConfigError(f"primary metric {self.primary!r} is not in metrics {list(self.metrics)}; add it there")
        object.__setattr__(self, "primary", primary)
        from ltr.models.backends import MAX_SEED
        for s in self.seeds:
            check_type(s, int, "each seed")
        for s in (*self.seeds, *self.control_seeds()):
            if not 0 <= s <= MAX_SEED:
                raise ConfigError(f"seed {s} is outside [0, {MAX_SEED}] (2^31 - 1): LightGBM reduces seeds modulo "
                                  f"2^31, so it would silently equal another seed")
        _distinct(self.seeds, "seeds")
        check_type(self.alpha, (int, float), "alpha")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"alpha must be in (0, 1), got {self.alpha}")
        stats.resolve_test(self.test)
        stats.get_correction(self.correction)
        if isinstance(self.data, CollectionData):
            _check_collection_names(self)
        if self.training.params:       # checked by each library's own rules, without data (imports it)
            from ltr.models.backends import get_backend
            for b in self.backends:
                for objective in objectives:
                    if b in objective.backends:
                        get_backend(b).check_params(dict(self.training.params), objective)
        # the typed systems, resolved once
        declared = tuple(System(b, o) for o in objectives for b in self.backends)
        object.__setattr__(self, "_systems", tuple(s for s in declared if s.supported))
        object.__setattr__(self, "_skipped", tuple(s for s in declared if not s.supported))
        if not self._systems:
            raise ConfigError("no (backend, objective) combination is supported; see the objectives' backends")
        if self.baseline is None:
            object.__setattr__(self, "baseline", self._systems[0].name)
        else:
            system = parse_system(self.baseline, fixed=tuple(self.fixed_systems()))
            select({s.name: s for s in (*self.fixed_systems(), *self._systems)}, system.name,
                   what="baseline system")
            object.__setattr__(self, "baseline", system.name)
        if self.protocol.control:
            base = self.system(self.baseline)
            if not base.trained:
                raise ConfigError(f"protocol.control retrains the baseline with other seeds, but the baseline "
                                  f"{self.baseline} is not trained; choose a trained baseline")
        if self.expected is not None:
            check_type(self.expected, dict, "expected")
            canonical = {}
            for metric, pair in self.expected.items():
                name = repr(parse_metric(metric))
                if name not in self.metrics:
                    raise ConfigError(f"expected names metric {metric!r}, which is not in metrics "
                                      f"{list(self.metrics)}")
                if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                    raise ConfigError(f"expected[{metric!r}] must be [value, tolerance], got {pair!r}")
                canonical[name] = list(pair)
            object.__setattr__(self, "expected", canonical)

    # -- derived -----------------------------------------------------------------------------------
    def systems(self) -> list[System]:
        """The trained systems (supported ``backend/objective`` combinations), in declaration order."""
        return list(self._systems)

    def system(self, name: str) -> System | FixedSystem:
        """The system called ``name`` (trained, fixed or the control)."""
        known = {s.name: s for s in (*self.fixed_systems(), *self._systems, *self.control_systems())}
        return select(known, name, what="system")

    def control_systems(self) -> list[ControlSystem]:
        """The A/A control (``protocol.control``): the baseline retrained with :meth:`control_seeds`."""
        if not self.protocol.control:
            return []
        base = next(s for s in self._systems if s.name == self.baseline)
        return [ControlSystem(base.backend, base.objective)]

    def control_seeds(self) -> tuple[int, ...]:
        """As many seeds as ``seeds``, all larger than every seed of the experiment (so disjoint from them)."""
        if not self.protocol.control:
            return ()
        start = max(self.seeds) + 1
        return tuple(range(start, start + len(self.seeds)))

    def seeds_of(self, system) -> tuple:
        """The seeds a system runs with: ``seeds``, the control's own, or (None,) for a fixed system."""
        if not system.trained:
            return (None,)
        return self.control_seeds() if isinstance(system, ControlSystem) else self.seeds

    @property
    def stop_metric(self) -> str:
        """The early-stopping metric: ``training.eval_metric`` if set, else the primary metric."""
        return self.training.eval_metric or self.primary

    def fixed_systems(self) -> list[FixedSystem]:
        """Systems that are not trained: the first stage alone, in experiments on raw collections."""
        return [FIRST_STAGE] if isinstance(self.data, CollectionData) else []

    def skipped(self) -> list[str]:
        """Combinations left out because the backend does not offer the objective."""
        return [s.name for s in self._skipped]

    def resolve_path(self, path: str | None) -> Path | None:
        if path is None:
            return None
        p = Path(path).expanduser()
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()

    def collection_source(self) -> str | None:
        """``data.collection`` as given when it names a registered collection; a folder path resolved against
        :attr:`base_dir` otherwise (so an experiment file finds its data wherever it is run from)."""
        text = getattr(self.data, "collection", None)
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
        out = {}
        for f in dataclasses.fields(self):
            if f.name == "base_dir":
                continue
            value = getattr(self, f.name)
            if isinstance(value, DataSpec):
                value = value.to_dict()
            elif dataclasses.is_dataclass(value):
                value = dataclasses.asdict(value)
            out[f.name] = _jsonable(value)
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the whole resolved declaration."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    #: Keys that choose which cells exist or how they are compared, not how a cell is computed: an
    #: experiment that differs from a finished one only in these extends it (new cells run, the others are
    #: kept). Metrics are among them: a cell's saved run is re-evaluated when the metric list changes.
    EXTENSIBLE_KEYS = ("objectives", "backends", "seeds", "metrics", "baseline", "test", "correction", "alpha",
                       "expected", "family")

    def cell_fingerprint(self) -> str:
        """SHA-256 of what every cell's computation depends on (the declaration without
        :attr:`EXTENSIBLE_KEYS`, and of the protocol only its :attr:`ProtocolSpec.CELL_KEYS`): two
        experiments with the same cell fingerprint share their finished cells."""
        core = {k: v for k, v in self.to_dict().items() if k not in self.EXTENSIBLE_KEYS}
        core["protocol"] = {k: v for k, v in core["protocol"].items() if k in ProtocolSpec.CELL_KEYS}
        return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()

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
        from ltr.io.toml import read_toml
        path = Path(path)
        data = read_toml(path)
        try:
            return cls.from_dict(data, base_dir=path.resolve().parent, source=str(path))
        except LTRError as exc:
            if str(path) in str(exc):
                raise
            raise type(exc)(f"{path}: {exc}") from None

    def to_toml(self) -> str:
        """The declaration as TOML text (the one config format)."""
        from ltr.io.toml import dumps_toml
        return dumps_toml(self.to_dict(), tables=("data", "training", "tuning", "protocol"))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj

