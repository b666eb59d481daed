"""The click experiment: rankers trained on simulated clicks, evaluated on the true labels of held-out queries.

A click experiment is an ordinary experiment file with a ``[clicks]`` table (TOML) or a
:class:`ClickExperiment` (Python). Per fold, condition (``eta`` x ``sessions``) and seed it runs the standard
unbiased-LTR protocol (:func:`ltr.clicks.protocol.production_protocol`: a production ranker trained on a
``fraction`` of the training queries ranks the others; position-based users with examination ``(1/k)^eta``
click on its top ``top`` with the graded mapping of noise ``eps = noise``), trains every method on that log,
and evaluates each on the true labels of the fold's test queries with the harness (paired tests against the
baseline with the declared correction over the non-baseline methods, minimal detectable effects, an optional
A/A control: the baseline on the logs and models of other seeds).

Methods (:data:`METHODS`; the backend objectives come from ``ltr.objectives``):

=========================  ========================================  =======================================
method                     trains                                    on
=========================  ========================================  =======================================
``naive``                  ``lightgbm/ips_ranknet`` with p_k = 1     clicks per shown (qid, docid), no
                                                                     correction (IPS RankNet's own model)
``naive_lambdarank``       ``lightgbm/lambdarank``                   one group per SERP, labels = clicks
``ips_binary``             ``lightgbm/ips_binary``                   clicks per shown pair, IPS weighted
``ips_ranknet``            ``lightgbm/ips_ranknet``                  clicks per shown pair, IPS weighted
``unbiased_lambdamart``    ``xgboost/lambdarank_unbiased``           one group per SERP in display order
``unbiased_lambdamart_ref`` ``lightgbm/lambdarank_unbiased`` (ltr)   one group per SERP in display order
``position_debiased``      ``lightgbm/lambdarank_position``          one group per SERP, positions
``full_information``       ``lightgbm/lambdarank``                   true labels of every document of the
                                                                     click queries (the upper bound)
``production``             the production ranker itself              (the lower reference)
=========================  ========================================  =======================================

Which documents a method could learn about: click methods see only the documents the production ranker
showed in its top ``top`` (the others have propensity 0: on MQ2008 about half of each query's documents);
``full_information`` sees every document of the same queries. The report states the share shown.

Every click-trained method trains a fixed number of rounds (``training.n_estimators``) without validation
data and without tuning: true labels are never seen by it (only ``full_information`` uses labels, of its
training queries). Propensities are the simulator's truth (``propensities = "true"``) or the regression-EM
estimate from the training log and features (``"regression_em"``).

Counterfactual evaluation: per (fold, condition, seed), a second log of the same users on the *test*
queries, ranked by the production ranker (``estimation_sessions`` sessions, default the condition's), gives
each method's estimated click metric (:mod:`ltr.clicks.estimators`: IPS, SNIPS, click model, doubly robust
with a LightGBM reward model of the IPS targets on the test features); the report shows how well each
estimate ranks the methods as their true nDCG does (Kendall's tau with a bootstrap interval over queries).

Output folder: like :mod:`ltr.experiment.runner` (manifest.json with ``"kind": "clicks"``, experiment.toml,
qrels/, runs/<fold>/<condition>/, cells/<fold>/<condition>/<method>/seed<k>/ with per_query.csv,
estimates.csv, position_bias.json, cell.json written last, metrics.csv, estimates.csv, report.*); every file
written atomically, finished cells never recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import ltr
from ltr.atomic import atomic_write, sha256_file, write_json
from ltr.errors import ConfigError, DataError, LTRError
from ltr.params import check_type
from ltr.schema import DOCID, QID

__all__ = ["METHODS", "ClickSpec", "ClickExperiment", "ClickRunner", "run_click_experiment", "build_click_report",
           "is_click_declaration", "is_click_folder"]

# method -> (backend, objective spec, training data: "aggregated" | "impressions" | "labels" | None, note)
METHODS: dict[str, tuple] = {
    "naive": ("lightgbm", "ips_ranknet", "naive", "IPS RankNet's loss with every propensity 1 (no correction)"),
    "naive_lambdarank": ("lightgbm", "lambdarank", "impressions", "LambdaRank on one group per SERP, clicks as labels"),
    "ips_binary": ("lightgbm", "ips_binary", "aggregated", "IPS-weighted pointwise logistic loss"),
    "ips_ranknet": ("lightgbm", "ips_ranknet", "aggregated", "IPS RankNet (Joachims et al. 2017)"),
    "unbiased_lambdamart": ("xgboost", "lambdarank_unbiased", "impressions",
                            "XGBoost rank:ndcg with lambdarank_unbiased=True (Hu et al. 2019)"),
    "unbiased_lambdamart_ref": ("lightgbm", "lambdarank_unbiased", "impressions",
                                "ltr's reference Unbiased LambdaMART on LightGBM's custom objective"),
    "position_debiased": ("lightgbm", "lambdarank_position", "impressions",
                          "LightGBM lambdarank with Dataset(position=...): s = f(x) + g(position)"),
    "full_information": ("lightgbm", "lambdarank", "labels", "true labels of all documents of the click queries"),
    "production": (None, None, None, "the production ranker (trained on `fraction` of the training queries)"),
}
"""The methods a click experiment can compare."""

CONTROL_SUFFIX = " (control)"
EVAL_SEED_OFFSET = 1 << 20
"""The log of the test queries of seed s is simulated with seed ``s + 2^20`` (disjoint from the training log)."""


def is_click_folder(out) -> bool:
    """True for the output folder of a click experiment (its manifest says ``"kind": "clicks"``)."""
    path = Path(out) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("kind") == "clicks"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False


def is_click_declaration(data) -> bool:
    """True for an experiment declaration with a ``clicks`` table."""
    return isinstance(data, dict) and "clicks" in data


@dataclass(frozen=True)
class ClickSpec:
    """The ``[clicks]`` table: the simulated users, the logs and the methods.

    Parameters
    ----------
    methods : list of str
        Names of :data:`METHODS`, in report order.
    baseline : str, default "naive"
    user : {"pbm"}, default "pbm"
        Position-based users, examination ``(1/k)^eta``.
    etas : list of float, default [1.0]
    sessions : list of int, default [10000]
        Sessions of the training log (and, unless ``estimation_sessions``, of the test log).
    noise : float, default 0.1
        ``eps`` of the graded mapping ``eps + (1 - eps) (2^y - 1) / (2^y_max - 1)``.
    fraction : float, default 0.01
        Share of the training queries that train the production ranker.
    top : int, default 10
    propensities : {"true", "regression_em"}, default "true"
    estimators : list of str, default all of :data:`ltr.clicks.estimators.ESTIMATORS`
    estimation_sessions : int, optional
    production : dict, optional
        Keyword arguments of the production Ranker replacing :data:`ltr.clicks.protocol.PRODUCTION_RANKER`'s.
    """

    methods: tuple = ("naive", "ips_ranknet", "unbiased_lambdamart", "unbiased_lambdamart_ref", "position_debiased",
                      "full_information", "production")
    baseline: str = "naive"
    user: str = "pbm"
    etas: tuple = (1.0,)
    sessions: tuple = (10_000,)
    noise: float = 0.1
    fraction: float = 0.01
    top: int = 10
    propensities: str = "true"
    estimators: tuple = ("ips", "snips", "cm", "dr")
    estimation_sessions: int | None = None
    production: dict = field(default_factory=dict)

    def __post_init__(self):
        from ltr.clicks.estimators import ESTIMATORS
        from ltr.naming import select
        for key in ("methods", "etas", "sessions", "estimators"):
            value = getattr(self, key)
            if isinstance(value, (str, int, float)) or not value:
                raise ConfigError(f"clicks.{key} must be a non-empty list, got {value!r}")
            object.__setattr__(self, key, tuple(value))
            if len(set(value)) != len(value):
                raise ConfigError(f"clicks.{key} lists a value twice: {list(value)}")
        for m in self.methods:
            select(METHODS, m, what="click method")
        if self.baseline not in self.methods:
            raise ConfigError(f"clicks.baseline {self.baseline!r} is not among clicks.methods {list(self.methods)}")
        if self.baseline == "production":
            raise ConfigError("clicks.baseline must be a trained method (the control retrains it), not 'production'")
        select({"pbm": None}, self.user, what="click-experiment user model")
        for e in self.etas:
            check_type(e, (int, float), "each clicks.etas value")
            if not 0 <= e <= 10:
                raise ConfigError(f"clicks.etas values must be in [0, 10], got {e}")
        for n in self.sessions:
            check_type(n, int, "each clicks.sessions value")
            if n < 1:
                raise ConfigError(f"clicks.sessions values must be >= 1, got {n}")
        check_type(self.noise, (int, float), "clicks.noise")
        if not 0 <= self.noise < 1:
            raise ConfigError(f"clicks.noise (eps) must be in [0, 1), got {self.noise}")
        check_type(self.fraction, (int, float), "clicks.fraction")
        if not 0 < self.fraction < 1:
            raise ConfigError(f"clicks.fraction must be in (0, 1), got {self.fraction}")
        check_type(self.top, int, "clicks.top")
        if self.top < 1:
            raise ConfigError(f"clicks.top must be >= 1, got {self.top}")
        select({"true": None, "regression_em": None}, self.propensities, what="propensity source")
        for e in self.estimators:
            select(ESTIMATORS, e, what="click-metric estimator")
        if self.estimation_sessions is not None:
            check_type(self.estimation_sessions, int, "clicks.estimation_sessions")
            if self.estimation_sessions < 1:
                raise ConfigError("clicks.estimation_sessions must be >= 1")
        check_type(self.production, dict, "clicks.production")

    def conditions(self) -> list[tuple[float, int]]:
        return [(float(e), int(n)) for e in self.etas for n in self.sessions]


def condition_name(eta: float, sessions: int) -> str:
    return f"eta{eta:g}-n{sessions}"


@dataclass(frozen=True)
class ClickExperiment:
    """A click experiment (see the module docstring): the data, metrics, statistics and training settings of
    :class:`ltr.experiment.Experiment`, plus the ``clicks`` table (:class:`ClickSpec`).

    ``control = true`` in ``[protocol]`` adds ``<baseline> (control)``: the baseline on the logs and models of
    other seeds (disjoint), shown as the noise floor and kept out of the correction family.
    """

    name: str
    data: object
    clicks: ClickSpec = field(default_factory=ClickSpec)
    metrics: tuple = ("nDCG@10", "AP")
    primary: str | None = None
    seeds: tuple = (0, 1, 2)
    test: str = "paired_t"
    correction: str = "holm"
    alpha: float = 0.05
    training: object = None
    protocol: dict = field(default_factory=dict)
    base_dir: str = "."

    def __post_init__(self):
        from ltr.experiment.spec import Experiment, TrainingSpec, _from_mapping
        check_type(self.name, str, "name")
        object.__setattr__(self, "clicks", _from_mapping(ClickSpec, self.clicks, "clicks"))
        object.__setattr__(self, "training", _from_mapping(TrainingSpec, self.training or {}, "training"))
        check_type(self.protocol, dict, "protocol")
        unknown = sorted(set(self.protocol) - {"control", "power"})
        if unknown:
            raise ConfigError(f"a click experiment's [protocol] takes 'control' and 'power', got {unknown}")
        # the shared keys are checked by the ordinary declaration (data, metrics, statistics, seeds)
        base = Experiment(name=self.name, data=self.data, objectives=("lambdarank",), backends=("lightgbm",),
                          metrics=tuple(self.metrics), primary=self.primary, seeds=tuple(self.seeds), test=self.test,
                          correction=self.correction, alpha=self.alpha, training=self.training,
                          tuning={"budget": 1}, protocol={"control": bool(self.protocol.get("control", False))},
                          base_dir=self.base_dir)
        object.__setattr__(self, "_base", base)
        for key in ("data", "metrics", "primary", "seeds"):
            object.__setattr__(self, key, getattr(base, key))

    # -- derived ----------------------------------------------------------------------------------
    @property
    def base(self):
        """The ordinary declaration of the shared keys (its data preparation and statistics)."""
        return self._base

    @property
    def control(self) -> bool:
        return bool(self.protocol.get("control", False))

    @property
    def power(self) -> float:
        return float(self.protocol.get("power", 0.8))

    def control_seeds(self) -> tuple:
        if not self.control:
            return ()
        start = max(self.seeds) + 1
        return tuple(range(start, start + len(self.seeds)))

    def methods(self) -> list[str]:
        """Methods in report order, the control last."""
        out = list(self.clicks.methods)
        if self.control:
            out.append(self.clicks.baseline + CONTROL_SUFFIX)
        return out

    def seeds_of(self, method: str) -> tuple:
        return self.control_seeds() if method.endswith(CONTROL_SUFFIX) else tuple(self.seeds)

    def to_dict(self) -> dict:
        out = {"name": self.name, "data": self.data.to_dict(), "clicks": _plain(dataclasses.asdict(self.clicks)),
               "metrics": list(self.metrics), "primary": self.primary, "seeds": list(self.seeds),
               "test": self.test, "correction": self.correction, "alpha": self.alpha,
               "training": _plain(dataclasses.asdict(self.training)), "protocol": dict(self.protocol)}
        return out

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def cell_fingerprint(self) -> str:
        """What a cell's computation depends on: everything but the lists that only add cells or change the
        report (methods, etas, sessions, seeds, estimators, metrics, statistics)."""
        core = self.to_dict()
        for key in ("metrics", "seeds", "test", "correction", "alpha", "protocol", "primary"):
            core.pop(key)
        core["clicks"] = {k: v for k, v in core["clicks"].items()
                          if k not in ("methods", "etas", "sessions", "baseline", "estimators")}
        return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict, *, base_dir=".", source: str = "experiment") -> "ClickExperiment":
        if not isinstance(data, dict):
            raise ConfigError(f"{source} must be a table of keys")
        names = {f.name for f in dataclasses.fields(cls)} - {"base_dir"}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{source}: a click experiment takes the keys {sorted(names)}; unknown {unknown}")
        missing = [k for k in ("name", "data", "clicks") if k not in data]
        if missing:
            raise ConfigError(f"{source} lacks the required keys {missing}")
        try:
            return cls(**data, base_dir=str(base_dir))
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_toml(cls, path) -> "ClickExperiment":
        from ltr.io.toml import read_toml
        path = Path(path)
        try:
            return cls.from_dict(read_toml(path), base_dir=path.resolve().parent, source=str(path))
        except LTRError as exc:
            if str(path) in str(exc):
                raise
            raise type(exc)(f"{path}: {exc}") from None

    def to_toml(self) -> str:
        from ltr.io.toml import dumps_toml
        return dumps_toml(self.to_dict(), tables=("data", "clicks", "training", "protocol"))


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------------
METRICS_COLUMNS = ["fold", "eta", "sessions", "method", "seed", QID, "metric", "value"]
ESTIMATE_COLUMNS = ["fold", "eta", "sessions", "method", "seed", "estimator", QID, "estimate"]


class ClickRunner:
    """Runs a :class:`ClickExperiment` into ``out_dir``, resumably (finished cells are kept)."""

    def __init__(self, experiment: ClickExperiment, out_dir, *, overwrite: bool = False, progress: bool = True,
                 build_report: bool = True, jobs: int = 1):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ConfigError(f"jobs must be an integer >= 1, got {jobs!r}")
        if jobs > 1:
            self_note = "click experiments run their cells in one process (the logs are shared by the methods)"
        else:
            self_note = None
        self.exp, self.out = experiment, Path(out_dir)
        self.overwrite, self.progress, self.build_report = overwrite, progress, build_report
        self.messages: list[str] = [self_note] if self_note else []
        self.identity: str | None = None

    # -- cells -----------------------------------------------------------------------------------------
    def _cell_dir(self, fold, eta, sessions, method, seed) -> Path:
        from ltr.experiment.systems import slug
        return self.out / "cells" / fold / condition_name(eta, sessions) / slug(method) / f"seed{seed}"

    def _finished(self, cell_dir: Path) -> bool:
        marker = cell_dir / "cell.json"
        if not marker.is_file():
            return False
        try:
            info = json.loads(marker.read_text())
            return info.get("identity") == self.identity and all(
                (self.out / rel).is_file() and sha256_file(self.out / rel) == digest
                for rel, digest in info["files"].items())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            return False

    def run(self) -> Path:
        from ltr.experiment.folder import OutputFolder
        folder = OutputFolder(self.out)
        with folder.lock(what=f"ltr run of {self.exp.name!r}"):
            return self._run_locked(folder)

    def _claim(self, folder) -> None:
        folder.check_no_symlinks()
        if self.overwrite:
            folder.clear()
            return
        old = folder.manifest()
        if old is None:
            if folder.foreign_entries():
                raise ConfigError(f"{self.out} is not empty and holds no experiment manifest; choose another --out")
            return
        if old.get("cell_fingerprint") != self.exp.cell_fingerprint():
            raise ConfigError(f"{self.out} holds a different experiment ({old.get('experiment', {}).get('name')!r}); "
                              f"choose another --out or pass --overwrite")
        if old.get("fingerprint") != self.exp.fingerprint():
            self.messages.append(f"extending the click experiment in {self.out}: finished cells are kept")

    def _manifest(self, data, status: str, extra: dict | None = None) -> None:
        from ltr.experiment.runner import git_commit, library_versions
        manifest = {"kind": "clicks", "experiment": self.exp.to_dict(), "fingerprint": self.exp.fingerprint(),
                    "cell_fingerprint": self.exp.cell_fingerprint(), "identity": self.identity,
                    "systems": self.exp.methods(), "seeds": list(self.exp.seeds),
                    "control_seeds": list(self.exp.control_seeds()),
                    "conditions": [condition_name(e, n) for e, n in self.exp.clicks.conditions()],
                    "folds": [f.name for f in data.folds], "data_hashes": data.hashes, "data_notes": data.notes,
                    "versions": library_versions(), "git_commit": git_commit(), "ltr_version": ltr.__version__,
                    "status": status}
        manifest.update(extra or {})
        write_json(self.out / "manifest.json", manifest)

    def _run_locked(self, folder) -> Path:
        from tqdm.auto import tqdm
        from ltr.experiment.data import prepare
        from ltr.experiment.runner import _write_csv
        from ltr.io import write_qrels

        self._claim(folder)
        if folder.manifest() is None:
            write_json(self.out / "manifest.json", {"kind": "clicks", "experiment": self.exp.to_dict(),
                                                    "fingerprint": self.exp.fingerprint(), "status": "preparing",
                                                    "ltr_version": ltr.__version__})
        folder.remove_stale_temporaries()
        data = prepare(self.exp.base, cache_dir=self.out / "cache")
        payload = json.dumps({"cells": self.exp.cell_fingerprint(), "data": data.hashes}, sort_keys=True)
        self.identity = hashlib.sha256(payload.encode()).hexdigest()
        self._manifest(data, "running")
        with atomic_write(self.out / "experiment.toml") as handle:
            handle.write(self.exp.to_toml())
        for fold in data.folds:
            write_qrels(fold.qrels, self.out / "qrels" / f"{fold.name}.qrels", round_labels=False)
        groups = []   # (fold, eta, sessions, seed, [methods]) sharing one log
        for fold in data.folds:
            for eta, sessions in self.exp.clicks.conditions():
                seeds = sorted({s for m in self.exp.methods() for s in self.exp.seeds_of(m)})
                for seed in seeds:
                    methods = [m for m in self.exp.methods() if seed in self.exp.seeds_of(m)]
                    groups.append((fold, eta, sessions, seed, methods))
        cells = [(g[0].name, g[1], g[2], m, g[3]) for g in groups for m in g[4]]
        done = sum(self._finished(self._cell_dir(*c)) for c in cells)
        if done:
            self.messages.append(f"resumed: {done} of {len(cells)} cells were already finished and kept")
        started = time.perf_counter()
        with tqdm(total=len(cells), initial=done, desc=self.exp.name, unit="cell", disable=not self.progress) as bar:
            for fold, eta, sessions, seed, methods in groups:
                todo = [m for m in methods if not self._finished(self._cell_dir(fold.name, eta, sessions, m, seed))]
                if todo:
                    bar.set_postfix_str(f"{fold.name} {condition_name(eta, sessions)} seed{seed}")
                    self._run_group(fold, eta, sessions, seed, todo, bar)
                    self._collect(cells)     # an interrupted run can still be reported (`ltr report`)
        self._collect(cells)
        from ltr.experiment.integrity import recorded_files
        self._manifest(data, "finished", {"timings_seconds": {"cells_wall": time.perf_counter() - started},
                                          "files": recorded_files(self.out)})
        if self.build_report:
            build_click_report(self.out)
        return self.out

    def _collect(self, cells) -> None:
        """metrics.csv and estimates.csv from the finished cells, in declaration order."""
        from ltr.experiment.runner import _write_csv
        done = [c for c in cells if self._finished(self._cell_dir(*c))]
        for name, columns in (("per_query.csv", METRICS_COLUMNS), ("estimates.csv", ESTIMATE_COLUMNS)):
            parts = [pd.read_csv(self._cell_dir(*c) / name, dtype={QID: str, "fold": str}, keep_default_na=False)
                     for c in done]
            frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
            _write_csv(frame, self.out / ("metrics.csv" if name == "per_query.csv" else "estimates.csv"))

    # -- one log, every method -------------------------------------------------------------------------
    def _run_group(self, fold, eta, sessions, seed, methods, bar) -> None:
        from ltr.clicks.estimators import estimate_all, pair_statistics
        from ltr.clicks.protocol import production_protocol
        from ltr.clicks.simulate import Graded, click_probabilities, simulate
        from ltr.experiment.runner import _write_csv
        from ltr.io import write_run
        from ltr.metrics import evaluate

        spec = self.exp.clicks
        user = f"{spec.user}(eta={eta:g})"
        mapping = f"graded(eps={spec.noise:g})"
        t0 = time.perf_counter()
        res = production_protocol(fold.train, sessions=sessions, fraction=spec.fraction, user=user, mapping=mapping,
                                  top=spec.top, seed=seed, ranker=dict(spec.production) or None,
                                  n_jobs=self.exp.training.n_jobs)
        truth = res.propensities
        propensities, estimated = truth, None
        click_queries = fold.train.subset_queries(res.click_qids)
        if spec.propensities == "regression_em":
            from ltr.clicks.propensity import regression_em_propensities
            feats = click_queries.to_frame()
            estimated = regression_em_propensities(res.log, features=feats.drop(columns=["label"], errors="ignore"),
                                                   seed=seed, n_jobs=self.exp.training.n_jobs)
            propensities = estimated.values
        log_seconds = time.perf_counter() - t0
        # the test log (counterfactual evaluation) and the truth of the test queries
        prod_test = res.ranker.predict(fold.test)
        y_max = float(np.nanmax(fold.train.labels))
        probs = click_probabilities(prod_test, fold.qrels, mapping=Graded(eps=float(spec.noise), y_max=y_max))
        eval_log = simulate(prod_test, probs, user=user, sessions=spec.estimation_sessions or sessions,
                            top=spec.top, seed=seed + EVAL_SEED_OFFSET, n_jobs=self.exp.training.n_jobs)
        stats = pair_statistics(eval_log, propensities)
        reward = _reward_model(fold.test, stats, seed=seed)
        sets: dict[str, object] = {}
        summary = res.log.summary()
        shown = stats  # noqa: F841 (kept for readability)
        shown_share = _shown_share(res.log, click_queries)
        for method in methods:
            base_method = method[: -len(CONTROL_SUFFIX)] if method.endswith(CONTROL_SUFFIX) else method
            t1 = time.perf_counter()
            ranker, bias = None, None
            if base_method == "production":
                run = prod_test
                ranker = res.ranker
            else:
                ranker = self._train(base_method, res, click_queries, propensities, seed, sets)
                run = ranker.predict(fold.test)
                bias = getattr(ranker, "position_bias_", None)
            train_seconds = time.perf_counter() - t1
            cell_dir = self._cell_dir(fold.name, eta, sessions, method, seed)
            per_query = evaluate(fold.qrels, run, list(self.exp.metrics), missing_queries=fold.missing_queries)
            per_query = per_query.assign(fold=fold.name, eta=eta, sessions=sessions, method=method, seed=seed)
            estimates = estimate_all(eval_log, {method: run}, propensities, estimators=spec.estimators,
                                     top=spec.top, model=reward)
            estimates = estimates.assign(fold=fold.name, eta=eta, sessions=sessions, method=method, seed=seed)
            from ltr.clicks.estimators import click_metric
            true_click = click_metric(run, probs, top=spec.top).rename(columns={"value": "estimate"})
            true_click = true_click.assign(fold=fold.name, eta=eta, sessions=sessions, method=method, seed=seed,
                                           estimator="truth")
            run_path = self.out / "runs" / fold.name / condition_name(eta, sessions) / f"{cell_dir.parent.name}-seed{seed}.trec"
            write_run(run, run_path, tag=cell_dir.parent.name)
            _write_csv(per_query[METRICS_COLUMNS], cell_dir / "per_query.csv")
            _write_csv(pd.concat([estimates, true_click], ignore_index=True)[ESTIMATE_COLUMNS],
                       cell_dir / "estimates.csv")
            extra = {"true_propensities": [float(v) for v in truth],
                     "used_propensities": [float(v) for v in np.asarray(propensities)],
                     "regression_em": None if estimated is None else estimated.to_dict(),
                     "position_bias": _jsonable(bias)}
            write_json(cell_dir / "position_bias.json", extra)
            written = [run_path, cell_dir / "per_query.csv", cell_dir / "estimates.csv", cell_dir / "position_bias.json"]
            if ranker is not None and base_method != "production":
                try:
                    ranker.save(cell_dir / "model")
                    written += sorted(p for p in (cell_dir / "model").iterdir() if p.is_file()
                                      and not p.name.startswith("."))
                except LTRError as exc:   # a model the backend cannot save is named, not hidden
                    self.messages.append(f"{method} {condition_name(eta, sessions)} seed {seed}: model not saved "
                                         f"({exc})")
            files = {str(p.relative_to(self.out)): sha256_file(p) for p in written}
            backend, objective = METHODS[base_method][:2]
            info = {"fold": fold.name, "eta": eta, "sessions": sessions, "method": method, "seed": seed,
                    "system": f"{backend}/{objective}" if backend else "production", "files": files,
                    "identity": self.identity, "metrics": list(self.exp.metrics),
                    "train_seconds": train_seconds, "log_seconds": log_seconds,
                    "log": {"serps": int(summary.serps), "clicks": int(summary.clicks),
                            "pairs_shown": int(summary.pairs), "click_queries": int(len(res.click_qids)),
                            "production_queries": int(len(res.production_qids)),
                            "share_of_documents_shown": shown_share},
                    "training_rows": _rows(sets, base_method, click_queries)}
            write_json(cell_dir / "cell.json", info)
            bar.update(1)

    def _train(self, method, res, click_queries, propensities, seed, sets):
        from ltr.experiment.systems import System
        from ltr.models import Ranker
        from ltr.objectives import get_objective
        backend, objective_spec, kind, _ = METHODS[method]
        objective = get_objective(objective_spec)
        train = self._training_set(kind, res, click_queries, propensities, sets)
        kwargs = self.exp.training.ranker_kwargs(System(backend, objective), seed=seed, eval_metric=self.exp.primary)
        kwargs["early_stopping_rounds"] = None
        return Ranker(objective=objective, backend=backend, **kwargs).fit(train)

    @staticmethod
    def _training_set(kind, res, click_queries, propensities, sets):
        if kind in sets:
            return sets[kind]
        if kind == "labels":
            sets[kind] = click_queries
            return click_queries
        from ltr.clicks.training import click_training_set
        if kind == "aggregated":
            out = click_training_set(res.log, click_queries, aggregate=True, propensities=np.asarray(propensities))
        elif kind == "naive":
            out = click_training_set(res.log, click_queries, aggregate=True,
                                     propensities=np.ones(len(np.asarray(propensities))))
        elif kind == "impressions":
            out = click_training_set(res.log, click_queries, aggregate=False)
        else:  # pragma: no cover - METHODS is fixed
            raise ConfigError(f"unknown training data kind {kind!r}")
        sets[kind] = out
        return out


def _rows(sets, method, click_queries) -> int | None:
    kind = METHODS[method][2]
    ds = sets.get(kind)
    return None if ds is None else int(len(ds))


def _shown_share(log, click_queries) -> float:
    """Share of the click queries' documents the production ranker ever showed (what click methods can learn about)."""
    shown = log.summary().pairs
    return float(shown / max(len(click_queries), 1))


def _reward_model(test, stats, *, seed: int) -> pd.DataFrame:
    """DR's reward model: LightGBM (cross-entropy) of the IPS targets of the shown test pairs on their features,
    weighted by the query's SERPs, predicted for every test document (it reaches the unshown ones)."""
    import lightgbm as lgb
    frame = pd.DataFrame({QID: test.qids.astype(str), DOCID: test.docids.astype(str)})
    index = pd.MultiIndex.from_arrays([frame[QID], frame[DOCID]])
    where = index.get_indexer(pd.MultiIndex.from_arrays([stats.qid, stats.docid]))
    ok = where >= 0
    n_q = stats.query_serps.reindex(stats.qid).to_numpy().astype(np.float64)
    target = np.clip(stats.weighted_clicks / n_q, 0.0, 1.0)[ok]
    X = np.asarray(test.X, dtype=np.float32)
    params = {"objective": "cross_entropy", "num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 5,
              "verbose": -1, "seed": int(seed), "deterministic": True, "num_threads": 1, "force_row_wise": True}
    booster = lgb.train(params, lgb.Dataset(X[where[ok]], label=target, weight=n_q[ok]), num_boost_round=50)
    return frame.assign(attractiveness=booster.predict(X))


def _jsonable(obj):
    if obj is None:
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    return obj


def run_click_experiment(experiment: ClickExperiment, out_dir, **kwargs) -> Path:
    """Run ``experiment`` into ``out_dir`` (resuming); returns the folder."""
    return ClickRunner(experiment, out_dir, **kwargs).run()


# ---------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------
def _kendall_with_interval(est: pd.DataFrame, true: pd.DataFrame, *, n_resamples: int = 1000, seed: int = 0):
    """Kendall's tau-b between the methods' mean estimate and mean true metric, with a percentile bootstrap
    interval over the test queries (queries resampled, both means recomputed)."""
    from scipy.stats import kendalltau
    methods = [m for m in true.columns if m in est.columns]
    qids = true.index.intersection(est.index)
    if len(methods) < 3 or len(qids) < 2:
        return np.nan, np.nan, np.nan
    A, B = est.loc[qids, methods].to_numpy(), true.loc[qids, methods].to_numpy()
    tau = kendalltau(A.mean(axis=0), B.mean(axis=0)).statistic
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(qids), len(qids))
        t = kendalltau(A[idx].mean(axis=0), B[idx].mean(axis=0)).statistic
        if np.isfinite(t):
            taus.append(t)
    lo, hi = (np.percentile(taus, [2.5, 97.5]) if taus else (np.nan, np.nan))
    return float(tau), float(lo), float(hi)


def build_click_report(out_dir, *, plots: bool = True) -> list[Path]:
    """(Re)build report.md / .html / .tex and summary.csv of a click-experiment folder."""
    from ltr import stats
    from ltr.experiment import integrity
    from ltr.report import compare

    out = Path(out_dir)
    manifest = integrity.read_manifest(out)
    integrity.check_recorded(out, manifest)
    exp = ClickExperiment.from_dict(manifest["experiment"], source=str(out / "manifest.json"))
    metrics = integrity.read_csv(out / "metrics.csv", dtype={QID: str, "fold": str}, keep_default_na=False)
    estimates = integrity.read_csv(out / "estimates.csv", dtype={QID: str, "fold": str}, keep_default_na=False)
    primary, baseline = exp.primary, exp.clicks.baseline
    methods = [m for m in exp.methods() if m in set(metrics["method"])]
    trained = [m for m in methods if not m.endswith(CONTROL_SUFFIX)]
    conditions = exp.clicks.conditions()
    # per query: mean over seeds; queries of several folds kept apart as fold:qid
    per = metrics.groupby(["eta", "sessions", "method", "fold", QID, "metric"], sort=False)["value"].mean().reset_index()
    per[QID] = per["fold"] + ":" + per[QID] if per["fold"].nunique() > 1 else per[QID]
    rows, gap_rows, tau_rows, sections = [], [], [], []
    headline = None
    for eta, sessions in conditions:
        sub = per[(per["eta"] == eta) & (per["sessions"] == sessions)]
        if sub.empty or baseline not in set(sub["method"]):
            continue
        pq = sub.rename(columns={"method": "system"})[["system", QID, "metric", "value"]]
        family = [m for m in trained if m != baseline and m in set(pq["system"])]
        controls = [m for m in dict.fromkeys(pq["system"]) if m.endswith(CONTROL_SUFFIX)]
        # the family: the trained methods against the baseline; the A/A control is compared alone, outside it
        rep = compare(pq[~pq["system"].isin(controls)], baseline=baseline, metrics=list(exp.metrics),
                      test=exp.test, correction=exp.correction, alpha=exp.alpha, family="metric",
                      title=f"{exp.name}: eta={eta:g}, {sessions:,} sessions")
        frame = rep.to_frame()
        for ctrl in controls:
            alone = compare(pq[pq["system"].isin([baseline, ctrl])], baseline=baseline, metrics=list(exp.metrics),
                            test=exp.test, correction="none", alpha=exp.alpha, family="metric")
            table = alone.to_frame()
            frame = pd.concat([frame, table[table["system"] == ctrl]], ignore_index=True)
            rep.per_query = pd.concat([rep.per_query, alone.per_query[alone.per_query["system"] == ctrl]],
                                      ignore_index=True)
        wide = pq[pq["metric"] == primary].pivot(index=QID, columns="system", values="value")
        mdes = []
        for m in frame["system"]:
            if m == baseline or m not in wide:
                mdes.append(np.nan)
                continue
            r = stats.mde_paired(wide[m].to_numpy(), wide[baseline].to_numpy(), test=exp.test, alpha=exp.alpha,
                                 power=exp.power, family_size=max(len(family), 1), correction=exp.correction)
            mdes.append(float(getattr(r, "effect", np.nan)))
        frame["mde"] = [v if mt == primary else np.nan for v, mt in zip(mdes, frame["metric"])]
        frame.insert(0, "sessions", sessions)
        frame.insert(0, "eta", eta)
        rows.append(frame)
        headline = (eta, sessions, rep, frame)
        # gap recovered: (m - naive) / (full - naive), tested as m against the midpoint of naive and full
        if "full_information" in wide and baseline in wide:
            full, naive = wide["full_information"], wide[baseline]
            gap = float(full.mean() - naive.mean())
            tested = [m for m in trained if m not in (baseline, "full_information", "production") and m in wide]
            ps = []
            for m in tested:
                mid = 0.5 * (naive + full)
                res = stats.paired_test(wide[m].to_numpy(), mid.to_numpy(), test=exp.test)
                d = float(wide[m].mean() - mid.mean())
                ps.append(res.pvalue / 2 if d > 0 else 1 - res.pvalue / 2)   # one-sided: more than half
                gap_rows.append({"eta": eta, "sessions": sessions, "method": m, "naive": float(naive.mean()),
                                 "full_information": float(full.mean()), "method_mean": float(wide[m].mean()),
                                 "gap": gap, "recovered": (float(wide[m].mean() - naive.mean()) / gap
                                                           if gap != 0 else np.nan)})
            if tested:
                corrected = stats.correct_pvalues(np.asarray(ps), exp.correction)
                for row, p, pc in zip(gap_rows[-len(tested):], ps, corrected):
                    row.update(p_one_sided=float(p), p_corrected=float(pc), at_least_half=bool(pc <= exp.alpha))
        # counterfactual estimates against the true primary metric
        es = estimates[(estimates["eta"] == eta) & (estimates["sessions"] == sessions)]
        es = es.groupby(["estimator", "method", "fold", QID], sort=False)["estimate"].mean().reset_index()
        if es["fold"].nunique() > 1:
            es[QID] = es["fold"] + ":" + es[QID]
        for estimator in dict.fromkeys(es["estimator"]):
            e = es[es["estimator"] == estimator].pivot(index=QID, columns="method", values="estimate")
            tau, lo, hi = _kendall_with_interval(e[[c for c in trained if c in e]], wide[[c for c in trained
                                                                                           if c in wide]])
            tau_rows.append({"eta": eta, "sessions": sessions, "estimator": estimator, "methods": len(trained),
                             "kendall_tau": tau, "ci_low": lo, "ci_high": hi})
    if headline is None:
        raise DataError(f"{out}: no condition has results of the baseline {baseline!r} yet")
    eta, sessions, rep, frame = headline
    if manifest.get("status") != "finished":
        done = sorted({condition_name(e, n) for e, n in zip(metrics["eta"], metrics["sessions"])})
        rep.warnings = rep.warnings + (f"the run is not finished (status {manifest.get('status')!r}): the tables "
                                       f"cover the cells done so far (conditions {done})",)
    summary = pd.concat(rows, ignore_index=True)
    rep.frame = frame.drop(columns=["eta", "sessions", "mde"])
    if exp.control:
        rep.warnings = rep.warnings + (f"{baseline}{CONTROL_SUFFIX} (the A/A control) is tested alone against "
                                       f"the baseline, outside the correction family: the noise floor.",)
    notes = _protocol_notes(out, exp, manifest)
    rep.add_section("Data and protocol", notes=notes)
    prim = summary[summary["metric"] == primary][["eta", "sessions", "system", "n_queries", "mean", "delta",
                                                  "p_value", "significant", "mde"]]
    rep.add_section(f"True {primary} per condition", table=prim.reset_index(drop=True),
                    caption=f"Mean over the test queries (mean over seeds first) of each method; delta and the "
                            f"{exp.correction}-corrected p against {baseline} ({exp.test}, conditional on these "
                            f"trained models) over the trained methods of each condition (the control outside the "
                            f"family); mde: minimal detectable effect at {exp.power:.0%} power.")
    if gap_rows:
        rep.add_section("Gap recovered between naive and full information", table=pd.DataFrame(gap_rows),
                        caption=f"recovered = (method - naive) / (full information - naive) in true {primary}; "
                                f"at_least_half: the one-sided {exp.test} of the method against the per-query "
                                f"midpoint of naive and full information, {exp.correction}-corrected over the "
                                f"methods of the condition, at alpha = {exp.alpha}.")
    if tau_rows:
        rep.add_section("Counterfactual estimates against the true metric", table=pd.DataFrame(tau_rows),
                        caption=f"Kendall's tau-b between the methods' mean estimated click metric (DCG of click "
                                f"probabilities, from a log of the test queries) and their mean true {primary}; 95% "
                                f"percentile bootstrap interval over test queries. 'truth' is the true click "
                                f"metric (the simulator's click probabilities): the ceiling of any estimator. "
                                f"ips, snips and cm know only the documents the production ranker showed on "
                                f"the test queries (a ranker that surfaces unshown relevant documents is "
                                f"under-estimated); dr's reward model reaches the others.")
    if plots:
        from ltr.report.clicks import plot_metric_by_sessions, plot_propensity_estimates
        curve = per[per["metric"] == primary].groupby(["eta", "sessions", "method"], sort=False)["value"].mean()
        rep.add_figure(f"True {primary} against sessions", plot_metric_by_sessions(curve.reset_index(),
                                                                                  metric=primary),
                       caption=f"Mean true {primary} on the test queries per method, one panel per eta.")
        props = _propensity_table(out, manifest)
        if not props.empty:
            rep.add_figure("Estimated against true propensities", plot_propensity_estimates(props),
                           caption="Examination per position: the simulator's truth, the propensities the IPS "
                                   "methods used, and the biases the unbiased LambdaMARTs estimated (t+ with "
                                   "bias_norm undone), per eta, largest number of sessions, first seed.")
    paths = rep.save(out, plots=plots)
    with atomic_write(out / "summary.csv") as handle:
        summary.to_csv(handle, index=False, lineterminator="\n")
    return [paths["report.md"], paths["report.html"], paths["report.tex"], out / "summary.csv"]


def _protocol_notes(out: Path, exp: ClickExperiment, manifest: dict) -> list[str]:
    spec = exp.clicks
    notes = [f"Click experiment: PBM users (examination (1/k)^eta), eta in {list(spec.etas)}, sessions in "
             f"{list(spec.sessions)}, graded mapping eps = {spec.noise}, top {spec.top}; production ranker on "
             f"{spec.fraction:.0%} of each fold's training queries; seeds {list(exp.seeds)} (a seed draws the "
             f"production queries, the log and the model's subsampling).",
             f"Propensities used by the IPS methods: {spec.propensities}.",
             "Click-trained methods: fixed rounds, no validation data, no tuning; they never see a true label. "
             "full_information trains on the true labels of every document of the same click queries.",
             "Evaluation: true labels of the test queries, the harness's metrics (trec_eval conventions)."]
    infos = [json.loads(p.read_text()) for p in sorted(out.glob("cells/*/*/*/seed*/cell.json"))]
    shares = {}
    for info in infos:
        share = info.get("log", {}).get("share_of_documents_shown")
        if share is not None:
            shares.setdefault((info["eta"], info["sessions"]), []).append(share)
    if shares:
        text = ", ".join(f"eta={e:g}, n={n:,}: {np.mean(v):.1%}" for (e, n), v in sorted(shares.items()))
        notes.append("What click methods could learn about: the share of the click queries' documents the "
                     f"production ranker ever showed (the others have propensity 0): {text}.")
    if exp.control:
        notes.append(f"A/A control: {exp.clicks.baseline}{CONTROL_SUFFIX} on seeds {list(exp.control_seeds())} "
                     f"(other logs, other models); outside the correction family: the noise floor.")
    notes.append(f"Primary metric {exp.primary}; the others are exploratory.")
    return notes


def _propensity_table(out: Path, manifest: dict) -> pd.DataFrame:
    rows = []
    seen = set()
    infos = [(p, json.loads((p.parent / "cell.json").read_text()))
             for p in sorted(out.glob("cells/*/*/*/seed*/position_bias.json"))]
    if not infos:
        return pd.DataFrame()
    largest = {}
    for _, info in infos:
        largest[info["eta"]] = max(largest.get(info["eta"], 0), info["sessions"])
    first_seed = min(info["seed"] for _, info in infos)
    for path, info in infos:
        if info["sessions"] != largest[info["eta"]] or info["seed"] != first_seed:
            continue
        bias = json.loads(path.read_text())
        key = info["eta"]
        top_n = info["sessions"]
        if (key, "truth") not in seen:
            seen.add((key, "truth"))
            rows += [{"eta": key, "source": "truth", "position": k + 1, "propensity": v}
                     for k, v in enumerate(bias["true_propensities"])]
        if bias.get("regression_em") and (key, "regression_em") not in seen:
            seen.add((key, "regression_em"))
            rows += [{"eta": key, "source": "regression EM", "position": k + 1, "propensity": v}
                     for k, v in enumerate(bias["regression_em"]["propensities"])]
        pb = bias.get("position_bias")
        if pb and pb.get("t_plus") is not None and (key, info["method"]) not in seen:
            seen.add((key, info["method"]))
            from ltr.objectives.unbiased import bias_to_propensity
            t = bias_to_propensity(np.asarray(pb["t_plus"], dtype=float), pb.get("bias_norm", 0.0))
            shown = len(bias["true_propensities"])        # positions past the SERP carry no clicks
            rows += [{"eta": key, "source": f"{info['method']} t+ (n={top_n:,})", "position": int(k),
                      "propensity": float(v)} for k, v in zip(pb["position"], t) if int(k) <= shown]
    return pd.DataFrame(rows)
