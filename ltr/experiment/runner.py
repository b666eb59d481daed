"""Run every cell (fold x objective x backend x seed) of an experiment, resumably.

Layout of the output folder::

    manifest.json                       resolved experiment, versions, git commit, data hashes, seeds, status
    experiment.toml                     the resolved declaration
    qrels/<fold>.qrels                  test qrels of each fold (reports are rebuilt from these and the runs)
    tuning/<fold>/<system>.json         the search: every configuration and its validation score
    runs/<fold>/<system>-seed<k>.trec   TREC run of each cell
    cache/                              feature matrices of raw collections (reused when a run resumes)
    cells/<fold>/<system>/seed<k>/      model/ (backend format + manifest), per_query.csv, curves.csv,
                                        importance.csv, cell.json (written last: the cell is finished)
    metrics.csv                         fold, objective, backend, seed, qid, metric, value
    report.md, report.html, report.tex  see :mod:`ltr.experiment.reporting`

Finished cells are never recomputed: a cell counts as finished when its ``cell.json`` exists and the files it
lists have the recorded SHA-256. Every file is written atomically, so a killed run leaves no half-written file
and resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import ltr
from ltr.errors import ConfigError, DataError
from ltr.experiment.data import PreparedData, PreparedFold, prepare
from ltr.experiment.spec import Experiment, slug
from ltr.atomic import atomic_write, sha256_file, write_json
from ltr.schema import QID

METRICS_COLUMNS = ["fold", "objective", "backend", "seed", "qid", "metric", "value"]


def library_versions() -> dict[str, str]:
    import importlib.metadata as md
    out = {"python": platform.python_version(), "ltr": ltr.__version__}
    for pkg in ("numpy", "pandas", "scipy", "scikit-learn", "lightgbm", "xgboost", "numba", "bm25s"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_commit() -> str | None:
    """The commit of the ltr checkout (None when not run from a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(ltr.__file__).parent, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def search_configurations(exp: Experiment, fold_name: str) -> list[dict]:
    """The ``budget`` configurations of a fold's random search, the same for every system of the fold.

    The first configuration is always the training defaults, so a budget of 1 means "no tuning". The others
    are drawn from ``tuning.space`` with ``numpy.random.default_rng((tuning.seed, fold index hash))``.
    """
    space = exp.tuning.space
    defaults = {k: getattr(exp.training, k) for k in space}
    configs = [defaults]
    seed = int.from_bytes(hashlib.sha256(f"{exp.tuning.seed}/{fold_name}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    for _ in range(exp.tuning.budget - 1):
        config = {}
        for name, (kind, low, high) in space.items():
            if kind == "log":
                config[name] = float(math.exp(rng.uniform(math.log(low), math.log(high))))
            elif kind == "int":
                config[name] = int(rng.integers(int(low), int(high) + 1))
            else:
                config[name] = float(rng.uniform(low, high))
        configs.append(config)
    return configs


@dataclass(frozen=True)
class Cell:
    fold: str
    system: str
    seed: int

    @property
    def backend(self) -> str:
        return self.system.split("/", 1)[0]

    @property
    def objective(self) -> str:
        return self.system.split("/", 1)[1]


class Runner:
    """Runs an :class:`Experiment` into ``out_dir`` (see the module docstring for the layout).

    Parameters
    ----------
    experiment : Experiment
    out_dir : path
    overwrite : bool
        An output folder that holds a *different* experiment is refused unless ``overwrite=True``, which
        empties it first. The same experiment resumes.
    progress : bool
        Show a tqdm progress bar over the cells.
    build_report : bool
        Build report.md / report.html / report.tex at the end.
    """

    def __init__(self, experiment: Experiment, out_dir, *, overwrite: bool = False, progress: bool = True,
                 build_report: bool = True):
        self.exp = experiment
        self.out = Path(out_dir)
        self.overwrite, self.progress, self.build_report = overwrite, progress, build_report
        self.timings = {"prepare": 0.0, "train": 0.0, "evaluate": 0.0, "write": 0.0}
        self._tuned_models: dict[tuple[str, str], object] = {}   # (fold, system) -> the search's winner

    # -- the folder ------------------------------------------------------------------------------------
    def _check_out_dir(self) -> None:
        manifest = self.out / "manifest.json"
        if not self.out.exists():
            return
        if not self.out.is_dir():
            raise ConfigError(f"--out {self.out} exists and is not a folder")
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, json.JSONDecodeError):
                old = {}
            if old.get("fingerprint") == self.exp.fingerprint():
                return
            if not self.overwrite:
                raise ConfigError(f"{self.out} holds a different experiment ({old.get('experiment', {}).get('name')!r}, "
                                  f"fingerprint {str(old.get('fingerprint'))[:12]}); choose another --out or pass "
                                  f"--overwrite to replace it")
        elif any(self.out.iterdir()) and not self.overwrite:
            raise ConfigError(f"{self.out} is not empty and holds no experiment manifest; choose another --out "
                              f"or pass --overwrite")
        if self.overwrite:
            shutil.rmtree(self.out)
            return
        for stale in self.out.rglob(".*.tmp"):  # left by a write that a kill interrupted (atomic_write)
            stale.unlink()

    def _write_manifest(self, data: PreparedData, status: str, extra: dict | None = None) -> None:
        manifest = {
            "experiment": self.exp.to_dict(), "fingerprint": self.exp.fingerprint(),
            "systems": self.systems, "skipped": self.exp.skipped(), "seeds": list(self.exp.seeds),
            "folds": [f.name for f in data.folds], "data_hashes": data.hashes, "data_notes": data.notes,
            "feature_groups": data.feature_groups,
            "versions": library_versions(), "git_commit": git_commit(), "ltr_version": ltr.__version__,
            "status": status,
        }
        manifest.update(extra or {})
        write_json(self.out / "manifest.json", manifest)

    # -- cells -------------------------------------------------------------------------------------------
    def _cell_dir(self, cell: Cell) -> Path:
        return self.out / "cells" / cell.fold / slug(cell.system) / f"seed{cell.seed}"

    def _run_path(self, cell: Cell) -> Path:
        return self.out / "runs" / cell.fold / f"{slug(cell.system)}-seed{cell.seed}.trec"

    def is_finished(self, cell: Cell) -> bool:
        marker = self._cell_dir(cell) / "cell.json"
        if not marker.exists():
            return False
        try:
            info = json.loads(marker.read_text())
            return all((self.out / rel).exists() and sha256_file(self.out / rel) == digest
                       for rel, digest in info["files"].items())
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            return False

    def _tune(self, fold: PreparedFold, system: str) -> dict:
        """Random search on the fold's validation data (cached in tuning/<fold>/<system>.json)."""
        from ltr.models import Ranker
        path = self.out / "tuning" / fold.name / f"{slug(system)}.json"
        if path.exists():
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:
                pass  # a damaged file (not ours: writes are atomic) is recomputed
        backend, objective = system.split("/", 1)
        configs = search_configurations(self.exp, fold.name)
        trials, models = [], []
        if len(configs) == 1:
            trials.append({"config": configs[0], "valid_score": None, "best_iteration": None})
        else:
            for config in configs:
                t0 = time.perf_counter()
                kwargs = self.exp.training.ranker_kwargs(backend, config, seed=self.exp.seeds[0])
                ranker = Ranker(objective=objective, backend=backend, **kwargs).fit(fold.train, valid=fold.valid)
                self.timings["train"] += time.perf_counter() - t0
                curve = ranker.evals_result_["valid"][self.exp.training.eval_metric]
                trials.append({"config": config, "valid_score": float(curve[ranker.best_iteration_ - 1]),
                               "best_iteration": int(ranker.best_iteration_)})
                models.append(ranker)
        best = max(range(len(trials)), key=lambda i: (trials[i]["valid_score"] or 0.0, -i))
        if models:  # the winning model *is* the first seed's model (same settings, seed and data)
            self._tuned_models[(fold.name, system)] = models[best]
        result = {"system": system, "fold": fold.name, "metric": self.exp.training.eval_metric,
                  "trials": trials, "best": best, "config": trials[best]["config"]}
        write_json(path, result)
        return result

    def _run_cell(self, cell: Cell, fold: PreparedFold, config: dict | None) -> None:
        from ltr.io import write_run
        from ltr.metrics import evaluate
        from ltr.models import Ranker
        cell_dir = self._cell_dir(cell)
        files: dict[str, str] = {}
        if config is None:  # a fixed run (the first stage alone): nothing to train
            run = fold.fixed_runs[cell.system]
            ranker = None
        else:
            t0 = time.perf_counter()
            ranker = self._tuned_models.pop((cell.fold, cell.system), None) if cell.seed == self.exp.seeds[0] \
                else None
            if ranker is None:
                kwargs = self.exp.training.ranker_kwargs(cell.backend, config, seed=cell.seed)
                ranker = Ranker(objective=cell.objective, backend=cell.backend,
                                **kwargs).fit(fold.train, valid=fold.valid)
            t1 = time.perf_counter()
            run = ranker.predict(fold.test)
            predict_seconds = time.perf_counter() - t1
            self.timings["train"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        per_query = evaluate(fold.qrels, run, list(self.exp.metrics), missing_queries=fold.missing_queries)
        self.timings["evaluate"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        run_path = self._run_path(cell)
        write_run(run, run_path, tag=slug(cell.system))
        per_query = per_query.assign(fold=cell.fold, objective=cell.objective, backend=cell.backend,
                                     seed=cell.seed)[METRICS_COLUMNS]
        _write_csv(per_query, cell_dir / "per_query.csv")
        written = [run_path, cell_dir / "per_query.csv"]
        if ranker is not None:
            ranker.save(cell_dir / "model")
            curves = [{"iteration": i + 1, "split": split, "metric": metric, "value": v}
                      for split, by_metric in ranker.evals_result_.items()
                      for metric, values in by_metric.items() for i, v in enumerate(values)]
            _write_csv(pd.DataFrame(curves, columns=["iteration", "split", "metric", "value"]),
                       cell_dir / "curves.csv")
            importance = ranker.feature_importances_.rename("importance").reset_index()
            _write_csv(importance, cell_dir / "importance.csv")
            written += [cell_dir / "curves.csv", cell_dir / "importance.csv"]
            written += sorted(p for p in (cell_dir / "model").iterdir() if p.is_file())
        for path in written:
            files[str(path.relative_to(self.out))] = sha256_file(path)
        info = {"fold": cell.fold, "system": cell.system, "seed": cell.seed, "config": config, "files": files,
                "best_iteration": None if ranker is None else int(ranker.best_iteration_),
                "predict_seconds_per_query": None if ranker is None else predict_seconds / fold.test.n_queries}
        write_json(cell_dir / "cell.json", info)
        self.timings["write"] += time.perf_counter() - t0

    # -- the whole run -------------------------------------------------------------------------------------
    def run(self) -> Path:
        from tqdm.auto import tqdm
        from ltr.io import write_qrels

        self._check_out_dir()
        t0 = time.perf_counter()
        data = prepare(self.exp, cache_dir=self.out / "cache")
        self.timings["prepare"] = time.perf_counter() - t0
        self.systems = list(self.exp.systems())
        check_labels(self.systems, data.folds)
        fixed = sorted({s for f in data.folds for s in f.fixed_runs})
        self.systems = fixed + self.systems
        self.out.mkdir(parents=True, exist_ok=True)
        self._write_manifest(data, "running")
        with atomic_write(self.out / "experiment.toml") as handle:
            handle.write(self.exp.to_toml())
        for fold in data.folds:
            write_qrels(fold.qrels, self.out / "qrels" / f"{fold.name}.qrels", round_labels=False)
        for name, table in data.tables.items():
            _write_csv(table, self.out / "tables" / f"{name}.csv")
        cells = [Cell(f.name, s, seed) for f in data.folds for s in self.systems for seed in self.exp.seeds
                 if s in f.fixed_runs or s in self.exp.systems()]
        todo = [c for c in cells if not self.is_finished(c)]
        folds = {f.name: f for f in data.folds}
        started = time.perf_counter()
        with tqdm(total=len(cells), initial=len(cells) - len(todo), desc=self.exp.name, unit="cell",
                  disable=not self.progress) as bar:
            tuned: dict[tuple[str, str], dict] = {}
            for cell in todo:
                fold = folds[cell.fold]
                bar.set_postfix_str(f"{cell.fold} {cell.system} seed {cell.seed}")
                config = None
                if cell.system not in fold.fixed_runs:
                    key = (cell.fold, cell.system)
                    if key not in tuned:
                        tuned[key] = self._tune(fold, cell.system)
                    config = tuned[key]["config"]
                self._run_cell(cell, fold, config)
                bar.update(1)
        wall = time.perf_counter() - started
        collect_metrics(self.out, cells)
        overhead = wall - sum(self.timings[k] for k in ("train", "evaluate"))
        self._write_manifest(data, "finished", {"timings_seconds": {**self.timings, "cells_wall": wall,
                                                                    "runner_overhead": overhead}})
        if self.build_report:
            from ltr.experiment.reporting import build_report
            build_report(self.out)
        self._check_expected()
        return self.out

    def _check_expected(self) -> None:
        """The optional regression guard: the baseline's mean of each metric in ``expected`` within tolerance."""
        if not self.exp.expected:
            return
        from ltr.experiment.reporting import pooled_per_query, read_metrics
        per_query = pooled_per_query(read_metrics(self.out))
        means = per_query[per_query["system"] == self.exp.baseline].groupby("metric")["value"].mean()
        failures = [f"{m}: expected {value} +- {tol}, got {means.get(m, float('nan')):.6f}"
                    for m, (value, tol) in self.exp.expected.items()
                    if not abs(means.get(m, float("nan")) - value) <= tol]
        if failures:
            raise DataError(f"the baseline {self.exp.baseline} missed the expected figures of experiment "
                            f"{self.exp.name!r} (results are in {self.out}): " + "; ".join(failures))


def check_labels(systems: list[str], folds: list[PreparedFold]) -> None:
    """Every objective must take every fold's training labels: refuse before any training, not mid-run."""
    from ltr.errors import LTRError
    from ltr.objectives import get_objective
    for system in systems:
        backend, objective = system.split("/", 1)
        for fold in folds:
            try:
                get_objective(objective).check_labels(fold.train.labels, fold.train.group_sizes, backend=backend)
            except LTRError as exc:
                raise type(exc)(f"{system} cannot train on fold {fold.name!r}: {exc}") from None


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False, float_format="%.17g", lineterminator="\n")


def collect_metrics(out: Path, cells: list[Cell]) -> pd.DataFrame:
    """Concatenate the finished cells' per-query values into metrics.csv (cells in declaration order)."""
    parts = []
    for cell in cells:
        path = out / "cells" / cell.fold / slug(cell.system) / f"seed{cell.seed}" / "per_query.csv"
        parts.append(pd.read_csv(path, dtype={QID: str, "fold": str}, keep_default_na=False))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=METRICS_COLUMNS)
    _write_csv(frame, out / "metrics.csv")
    return frame


def run_experiment(experiment: Experiment, out_dir, *, overwrite: bool = False, progress: bool = True,
                   build_report: bool = True) -> Path:
    """Run ``experiment`` into ``out_dir`` (resuming a previous run of the same experiment); returns the folder."""
    return Runner(experiment, out_dir, overwrite=overwrite, progress=progress, build_report=build_report).run()
