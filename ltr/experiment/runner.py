"""Run every cell (fold x objective x backend x seed) of an experiment, resumably.

Layout of the output folder::

    manifest.json                       resolved experiment, versions, git commit, data hashes, seeds, status
    experiment.toml                     the resolved declaration
    qrels/<fold>.qrels                  test qrels of each fold (reports are rebuilt from these and the runs)
    tuning/<fold>/<system>.json         the search (random or TPE): every configuration and its validation score
    runs/<fold>/<system>-seed<k>.trec   TREC run of each cell (``<system>.trec`` for a fixed system)
    cache/                              feature matrices of raw collections (reused when a run resumes)
    cells/<fold>/<system>/seed<k>/      model/ (backend format + manifest), per_query.csv, ndcg_at_k.csv
                                        (nDCG@k of the report's curve, from the saved run and qrels),
                                        curves.csv, importance.csv, cell.json (written last: the cell is
                                        finished);
                                        ``cells/<fold>/<system>/fixed/`` for a fixed system
    metrics.csv                         fold, objective, backend, seed, qid, metric, value
    report.md, report.html, report.tex  see :mod:`ltr.experiment.reporting`

Finished cells are never recomputed: a cell counts as finished when its ``cell.json`` exists, records the
experiment's cell identity (:func:`experiment_identity`: the declaration's cell fingerprint and the data
hashes), and the files it lists have the recorded SHA-256. So an experiment extended with new seeds, systems
or metrics runs only what is new (a finished cell whose metrics differ is re-evaluated from its saved run), and
cells of another experiment or of changed data are never kept. Every file is written atomically, so a killed
run leaves no half-written file and resumes where it stopped. Fixed systems (the first stage alone) are
deterministic: one cell per fold, whose rows carry the first seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import ltr
from ltr.errors import ConfigError, DataError
from ltr.experiment.curve import CURVE_FILE, curve_values
from ltr.experiment.data import PreparedData, PreparedFold, prepare
from ltr.experiment.folder import OUTPUT_FOLDERS, OutputFolder
from ltr.experiment.integrity import recorded_files
from ltr.experiment.protocol import effective_settings, gain_trained, training_objective
from ltr.experiment.search import make_search, search_configurations  # noqa: F401 (re-exported)
from ltr.experiment.spec import Experiment
from ltr.experiment.systems import FixedSystem, System
from ltr.atomic import atomic_write, sha256_file, write_json
from ltr.schema import QID

METRICS_COLUMNS = ["fold", "objective", "backend", "seed", "qid", "metric", "value"]


def library_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of Python, ltr and the libraries a run's numbers depend on (plus ``extra`` packages, e.g.
    optuna when the search is TPE: its proposals are reproducible for one Optuna version)."""
    import importlib.metadata as md
    out = {"python": platform.python_version(), "ltr": ltr.__version__}
    for pkg in ("numpy", "pandas", "scipy", "scikit-learn", "lightgbm", "xgboost", "numba", "bm25s", *extra):
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


@dataclass(frozen=True)
class Cell:
    """One unit of work: a system on a fold with a seed (``seed`` is None for a fixed system)."""

    fold: str
    system: System | FixedSystem
    seed: int | None

    @property
    def key(self) -> str:
        """The cell's folder below ``cells/``."""
        return f"{self.fold}/{self.system.slug}/{'fixed' if self.seed is None else f'seed{self.seed}'}"

    @property
    def run_name(self) -> str:
        return self.system.slug if self.seed is None else f"{self.system.slug}-seed{self.seed}"


class Runner:
    """Runs an :class:`Experiment` into ``out_dir`` (see the module docstring for the layout).

    Parameters
    ----------
    experiment : Experiment
    out_dir : path
    overwrite : bool
        Start afresh: remove what ltr wrote in the folder (see :mod:`ltr.experiment.folder`; a folder ltr did
        not write is refused). Without it, a folder of the same experiment on the same data resumes, and one
        holding another experiment, or cells computed on data that changed since, is refused.
    progress : bool
        Show a tqdm progress bar over the cells.
    build_report : bool
        Build report.md / report.html / report.tex at the end.
    jobs : int, default=1
        Worker processes for independent (fold, system) tasks. Every model keeps the declared
        ``training.n_jobs`` threads, so results are the same bytes as with one process; on a machine with C
        cores, ``jobs x training.n_jobs <= C`` avoids oversubscription (small data sets scale poorly across
        threads and well across cells).
    """

    def __init__(self, experiment: Experiment, out_dir, *, overwrite: bool = False, progress: bool = True,
                 build_report: bool = True, jobs: int = 1):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ConfigError(f"jobs must be an integer >= 1 (worker processes), got {jobs!r}")
        self.exp = experiment
        self.out = Path(out_dir)
        self.overwrite, self.progress, self.build_report, self.jobs = overwrite, progress, build_report, jobs
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if jobs > 1 and jobs * experiment.training.n_jobs > cpus:
            # measured: synthetic web, 2 cores, --jobs 2 with n_jobs = 2 took ~7x longer per cell than --jobs 1
            # (OpenMP threads spin waiting for a core); results stay the same bytes either way
            warnings.warn(f"--jobs {jobs} x [training] n_jobs = {experiment.training.n_jobs} threads exceeds the "
                          f"{cpus} CPUs this process may use: the backends' threads will wait for each other "
                          f"(much slower, same results); set [training] n_jobs = {max(1, cpus // jobs)} or "
                          f"--jobs {max(1, cpus // experiment.training.n_jobs)}", stacklevel=2)
        self.timings = {"prepare": 0.0, "train": 0.0, "evaluate": 0.0, "write": 0.0}
        self.messages: list[str] = []        # what the run did with the folder, for the caller to print
        self._parent_pid: int | None = None  # set in worker processes (see _run_in_processes)
        self.identity: str | None = None     # the declaration and the data: what a finished cell must match
        self._tuned_models: dict[tuple[str, str], object] = {}   # (fold, system) -> the search's winner

    # -- the folder ------------------------------------------------------------------------------------
    def _claim_out_dir(self, folder: OutputFolder) -> dict | None:
        """Decide what happens to an existing folder (under its lock); returns the manifest to resume from.

        A folder of the same experiment resumes; one of another experiment, or one ltr did not write, is
        refused. ``overwrite`` removes what ltr wrote (and refuses a folder it did not write)."""
        folder.check_no_symlinks()
        if self.overwrite:
            foreign = folder.clear()
            if foreign:
                self.messages.append(f"--overwrite kept {len(foreign)} entries ltr did not write: "
                                     f"{', '.join(foreign[:5])}")
            return None
        old = folder.manifest()
        if old is None:
            if (self.out / "manifest.json").exists():
                raise ConfigError(f"{self.out}/manifest.json is damaged or not ltr's; choose another --out, or "
                                  f"pass --overwrite to replace the folder's ltr results")
            busy = folder.foreign_entries() + [n for n in OUTPUT_FOLDERS if (self.out / n).exists()]
            if busy:
                raise ConfigError(f"{self.out} is not empty and holds no experiment manifest ({', '.join(busy[:5])}); "
                                  f"choose another --out")
            return None
        if old.get("cell_fingerprint") != self.exp.cell_fingerprint():
            raise ConfigError(f"{self.out} holds a different experiment ({old.get('experiment', {}).get('name')!r}, "
                              f"fingerprint {str(old.get('fingerprint'))[:12]}); choose another --out or pass "
                              f"--overwrite to replace it (an experiment that only adds seeds, systems or "
                              f"metrics to the folder's own extends it instead)")
        if old.get("fingerprint") != self.exp.fingerprint():
            self.messages.append(f"extending the experiment in {self.out}: cells already finished are kept, only "
                                 f"new seeds, systems and metrics are computed")
        return old

    def _check_same_data(self, old: dict | None, data: PreparedData) -> None:
        """Finished cells were computed on the data the old manifest hashed: changed data is refused."""
        if old is None or not old.get("data_hashes"):
            return
        before, now = old["data_hashes"], data.hashes
        changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
        if changed:
            raise ConfigError(f"the data of experiment {self.exp.name!r} changed since {self.out} was computed "
                              f"({', '.join(changed[:4])}{' ...' if len(changed) > 4 else ''} differ from the "
                              f"manifest's hashes); its finished cells would mix old and new data. Pass "
                              f"--overwrite to recompute every cell on the new data, or choose another --out")

    def _write_manifest(self, data: PreparedData, status: str, extra: dict | None = None) -> None:
        manifest = {
            "experiment": self.exp.to_dict(), "fingerprint": self.exp.fingerprint(),
            "cell_fingerprint": self.exp.cell_fingerprint(),
            "systems": [s.name for s in self.systems], "skipped": self.exp.skipped(),
            "seeds": list(self.exp.seeds),
            "folds": [f.name for f in data.folds], "data_hashes": data.hashes, "data_notes": data.notes,
            "identity": self.identity,
            "feature_groups": data.feature_groups,
            "versions": library_versions(("optuna",) if self.exp.tuning.sampler == "tpe" else ()), "git_commit": git_commit(), "ltr_version": ltr.__version__,
            "status": status,
        }
        manifest.update(extra or {})
        write_json(self.out / "manifest.json", manifest)

    # -- cells -------------------------------------------------------------------------------------------
    def _cell_dir(self, cell: Cell) -> Path:
        return self.out / "cells" / cell.key

    def _run_path(self, cell: Cell) -> Path:
        return self.out / "runs" / cell.fold / f"{cell.run_name}.trec"

    def cell_state(self, cell: Cell) -> str:
        """``"finished"``, ``"metrics"`` (finished, but evaluated with other metrics: re-evaluate its saved
        run) or ``"todo"``."""
        marker = self._cell_dir(cell) / "cell.json"
        if not marker.exists():
            return "todo"
        try:
            info = json.loads(marker.read_text())
            if info.get("identity") != self.identity:   # computed for another experiment or on other data
                return "todo"
            if not all((self.out / rel).exists() and sha256_file(self.out / rel) == digest
                       for rel, digest in info["files"].items()):
                return "todo"
            return "finished" if info.get("metrics") == list(self.exp.metrics) else "metrics"
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            return "todo"

    def is_finished(self, cell: Cell) -> bool:
        return self.cell_state(cell) == "finished"

    def _tune(self, fold: PreparedFold, system: System) -> dict:
        """The search on the fold's validation data (cached in tuning/<fold>/<system>.json): every configuration
        with the backend values it stands for (hessian-scaled under the scale-aware protocol), its validation
        score on the stopping metric, and the winner."""
        from ltr.models import Ranker
        path = self.out / "tuning" / fold.name / f"{system.slug}.json"
        if path.exists():
            try:
                cached = json.loads(path.read_text())
                if cached.get("identity") == self.identity and cached.get("checksum") == _checksum(cached):
                    return cached
            except (UnicodeDecodeError, json.JSONDecodeError):
                pass  # damaged or edited (not by us: writes are atomic): the search is run again
        exp, protocol = self.exp, self.exp.protocol
        objective = self.train_objectives[system.name]
        seed = exp.seeds_of(system)[0]
        hessian = None
        if protocol.search == "scale-aware":
            from ltr.models.scale import initial_hessian_scale
            hessian = initial_hessian_scale(objective, system.backend, fold.train, n_jobs=exp.training.n_jobs,
                                            seed=seed, params=exp.training.params)
        search = make_search(exp, fold.name, system)
        tuned = exp.tuning.budget > 1
        trials, models = [], []
        for _ in range(exp.tuning.budget):
            config = exp.training.settings(system, search.ask())
            effective, backend_params = effective_settings(system.backend, config, hessian,
                                                           reference_leaf_rows=protocol.reference_leaf_rows,
                                                           declared_params=exp.training.params)
            trial = {"config": config, "effective": effective, "backend_params": backend_params,
                     "valid_score": None, "best_iteration": None}
            if tuned:
                t0 = time.perf_counter()
                kwargs = exp.training.ranker_kwargs(system, effective, seed=seed, eval_metric=exp.stop_metric,
                                                    backend_params=backend_params)
                ranker = Ranker(objective=objective, backend=system.backend, **kwargs).fit(fold.train,
                                                                                          valid=fold.valid)
                self.timings["train"] += time.perf_counter() - t0
                curve = ranker.evals_result_["valid"][kwargs["eval_metric"]]
                trial.update(valid_score=float(curve[ranker.best_iteration_ - 1]),
                             best_iteration=int(ranker.best_iteration_))
                models.append(ranker)
                search.tell(trial["valid_score"])
            trials.append(trial)
        best = max(range(len(trials)), key=lambda i: (trials[i]["valid_score"] or 0.0, -i))
        if models:  # the winning model *is* the first seed's model (same settings, seed and data)
            self._tuned_models[(fold.name, system.name)] = models[best]
        result = {"system": system.name, "fold": fold.name, "metric": exp.training.eval_metric or exp.stop_metric,
                  "objective": repr(objective), "gain": gain_trained(objective, system.backend),
                  "search": protocol.search, "sampler": exp.tuning.sampler, "hessian_scale": hessian, "trials": trials, "best": best,
                  "config": trials[best]["config"], "effective": trials[best]["effective"],
                  "backend_params": trials[best]["backend_params"], "identity": self.identity}
        result["checksum"] = _checksum(result)
        write_json(path, result)
        return result

    def _evaluate(self, cell: Cell, fold: PreparedFold, run: pd.DataFrame) -> pd.DataFrame:
        from ltr.metrics import evaluate
        t0 = time.perf_counter()
        per_query = evaluate(fold.qrels, run, list(self.exp.metrics), missing_queries=fold.missing_queries)
        self.timings["evaluate"] += time.perf_counter() - t0
        seed = self.exp.seeds[0] if cell.seed is None else cell.seed
        return per_query.assign(fold=cell.fold, objective=cell.system.objective_name, backend=cell.system.backend,
                                seed=seed)[METRICS_COLUMNS]

    def _reevaluate(self, cell: Cell, fold: PreparedFold) -> None:
        """A finished cell evaluated with other metrics: evaluate its saved run again (nothing is retrained)."""
        from ltr.io import read_run
        cell_dir = self._cell_dir(cell)
        info = json.loads((cell_dir / "cell.json").read_text())
        per_query = self._evaluate(cell, fold, read_run(self._run_path(cell)))
        _write_csv(per_query, cell_dir / "per_query.csv")
        rel = str((cell_dir / "per_query.csv").relative_to(self.out))
        info["files"][rel] = sha256_file(cell_dir / "per_query.csv")
        info["metrics"] = list(self.exp.metrics)
        write_json(cell_dir / "cell.json", info)

    def _run_cell(self, cell: Cell, fold: PreparedFold, tuned: dict | None) -> None:
        from ltr.io import write_run
        from ltr.models import Ranker
        cell_dir = self._cell_dir(cell)
        files: dict[str, str] = {}
        if not cell.system.trained:  # a fixed run (the first stage alone): nothing to train
            run = fold.fixed_runs[cell.system.name]
            ranker = None
        else:
            t0 = time.perf_counter()
            ranker = self._tuned_models.pop((cell.fold, cell.system.name), None) \
                if cell.seed == self.exp.seeds_of(cell.system)[0] else None
            if ranker is None:
                kwargs = self.exp.training.ranker_kwargs(cell.system, tuned["effective"], seed=cell.seed,
                                                         eval_metric=self.exp.stop_metric,
                                                         backend_params=tuned["backend_params"])
                ranker = Ranker(objective=self.train_objectives[cell.system.name], backend=cell.system.backend,
                                **kwargs).fit(fold.train, valid=fold.valid)
            t1 = time.perf_counter()
            run = ranker.predict(fold.test)
            predict_seconds = time.perf_counter() - t1
            self.timings["train"] += time.perf_counter() - t0
        per_query = self._evaluate(cell, fold, run)
        t0 = time.perf_counter()
        run_path = self._run_path(cell)
        write_run(run, run_path, tag=cell.system.slug)
        _write_csv(per_query, cell_dir / "per_query.csv")
        _write_csv(curve_values(self.out / "qrels" / f"{cell.fold}.qrels", run_path), cell_dir / CURVE_FILE)
        written = [run_path, cell_dir / "per_query.csv", cell_dir / CURVE_FILE]
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
            written += sorted(p for p in (cell_dir / "model").iterdir() if p.is_file() and not p.name.startswith("."))
        for path in written:
            files[str(path.relative_to(self.out))] = sha256_file(path)
        config = None if tuned is None else {**tuned["effective"], **tuned["backend_params"]}
        info = {"fold": cell.fold, "system": cell.system.name, "seed": cell.seed, "config": config, "files": files,
                "identity": self.identity, "metrics": list(self.exp.metrics),
                "best_iteration": None if ranker is None else int(ranker.best_iteration_),
                "predict_seconds_per_query": None if ranker is None else predict_seconds / fold.test.n_queries}
        write_json(cell_dir / "cell.json", info)
        self.timings["write"] += time.perf_counter() - t0

    # -- the whole run -------------------------------------------------------------------------------------
    def run(self) -> Path:
        folder = OutputFolder(self.out)
        with folder.lock(what=f"ltr run of {self.exp.name!r}"):
            return self._run_locked(folder)

    def _run_locked(self, folder: OutputFolder) -> Path:
        from tqdm.auto import tqdm
        from ltr.io import write_qrels

        old = self._claim_out_dir(folder)
        if old is None:   # recognisable as ours from the start, even if the preparation is interrupted
            write_json(self.out / "manifest.json", {"experiment": self.exp.to_dict(),
                                                    "fingerprint": self.exp.fingerprint(),
                                                    "ltr_version": ltr.__version__, "status": "preparing"})
        stale = folder.remove_stale_temporaries()
        if stale:
            self.messages.append(f"removed {stale} temporary files left by an interrupted write")
        t0 = time.perf_counter()
        data = prepare(self.exp, cache_dir=self.out / "cache")
        self.timings["prepare"] = time.perf_counter() - t0
        self._check_same_data(old, data)
        self.identity = experiment_identity(self.exp, data.hashes)
        self.train_objectives = training_objectives(self.exp, data)
        check_labels(self.exp.systems(), data.folds, self.train_objectives)
        fixed = [s for s in self.exp.fixed_systems() if any(s.name in f.fixed_runs for f in data.folds)]
        self.systems = [*fixed, *self.exp.systems(), *self.exp.control_systems()]
        self._write_manifest(data, "running")
        with atomic_write(self.out / "experiment.toml") as handle:
            handle.write(self.exp.to_toml())
        for fold in data.folds:
            write_qrels(fold.qrels, self.out / "qrels" / f"{fold.name}.qrels", round_labels=False)
        for name, table in data.tables.items():
            _write_csv(table, self.out / "tables" / f"{name}.csv")
        cells = [Cell(f.name, s, seed) for f in data.folds for s in self.systems for seed in self.exp.seeds_of(s)
                 if s.trained or s.name in f.fixed_runs]
        states = {c: self.cell_state(c) for c in cells}
        todo = [c for c in cells if states[c] == "todo"]
        stale_metrics = [c for c in cells if states[c] == "metrics"]
        folds = {f.name: f for f in data.folds}
        for cell in stale_metrics:
            self._reevaluate(cell, folds[cell.fold])
        if len(todo) < len(cells):
            self.messages.append(f"resumed: {len(cells) - len(todo)} of {len(cells)} cells were already "
                                 f"finished and kept" + (f" ({len(stale_metrics)} re-evaluated with the new "
                                                         f"metrics from their saved runs)" if stale_metrics else ""))
        started = time.perf_counter()
        tasks = _tasks(todo)
        with tqdm(total=len(cells), initial=len(cells) - len(todo), desc=self.exp.name, unit="cell",
                  disable=not self.progress) as bar:
            if self.jobs == 1 or len(tasks) < 2:
                for task in tasks:
                    bar.set_postfix_str(f"{task[0].fold} {task[0].system}")
                    self._run_task(task, folds[task[0].fold])
                    bar.update(len(task))
            else:
                self._run_in_processes(tasks, data, bar)
        wall = time.perf_counter() - started
        collect_metrics(self.out, cells)
        # train and evaluate are summed over the worker processes: the overhead is of processes x wall
        processes = 1 if self.jobs == 1 or len(tasks) < 2 else min(self.jobs, len(tasks))
        overhead = processes * wall - sum(self.timings[k] for k in ("train", "evaluate"))
        self._write_manifest(data, "finished", {"timings_seconds": {**self.timings, "cells_wall": wall,
                                                                    "processes": processes,
                                                                    "runner_overhead": overhead},
                                                "files": recorded_files(self.out)})
        if self.build_report:
            from ltr.experiment.reporting import build_report
            build_report(self.out)
        self._check_expected()
        return self.out

    def _run_task(self, task: list[Cell], fold: PreparedFold) -> None:
        """The cells of one (fold, system): the search once (trained systems), then every seed in order."""
        tuned = self._tune(fold, task[0].system) if task[0].system.trained else None
        for cell in task:
            if self._parent_pid is not None and os.getppid() != self._parent_pid:
                os._exit(3)   # a worker whose run was killed: stop, never write next to the run that resumes
            self._run_cell(cell, fold, tuned)

    def _run_in_processes(self, tasks: list[list[Cell]], data: PreparedData, bar) -> None:
        """Independent (fold, system) tasks in ``jobs`` worker processes (spawned: no fork after OpenMP threads
        started). Each worker gets the prepared data once; every file is written by the one task that owns it,
        atomically, so results are the bytes of a one-process run and an interrupted run resumes as usual."""
        import multiprocessing
        from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

        workers = min(self.jobs, len(tasks))
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(self.exp.to_dict(), self.exp.base_dir,
                                                                        str(self.out), self.identity, data))
        try:
            pending = {pool.submit(_work_on, [(c.fold, c.system.name, c.seed) for c in task]): task
                       for task in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    task = pending.pop(future)
                    for key, seconds in future.result().items():   # re-raises a worker's error here
                        self.timings[key] += seconds
                    bar.set_postfix_str(f"{task[0].fold} {task[0].system}")
                    bar.update(len(task))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

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


def experiment_identity(exp: Experiment, data_hashes: dict[str, str]) -> str:
    """SHA-256 of the declaration's cell fingerprint (:meth:`Experiment.cell_fingerprint`) and the hashes of
    every dataset it prepared.

    A finished cell records the identity it was computed under; a cell of another identity (another
    experiment, or the same declaration on changed data) is never kept."""
    payload = json.dumps({"cells": exp.cell_fingerprint(), "data": data_hashes}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def training_objectives(exp: Experiment, data: PreparedData) -> dict[str, object]:
    """The objective each trained system trains with (:func:`ltr.experiment.protocol.training_objective`: the
    primary metric's gain for objectives that optimise one), by system name."""
    import numpy as np
    labels = [ds.labels for f in data.folds for ds in (f.train, f.valid) if ds is not None and len(ds)]
    finite = np.concatenate(labels) if labels else np.zeros(1)
    finite = finite[np.isfinite(finite)]
    max_grade = int(np.floor(finite.max())) if finite.size else 1
    return {s.name: training_objective(s.objective, exp.primary, max_grade, align=exp.protocol.align_gain)
            for s in (*exp.systems(), *exp.control_systems())}


def check_labels(systems: list[System], folds: list[PreparedFold], objectives: dict | None = None) -> None:
    """Every objective must take every fold's training labels: refuse before any training, not mid-run."""
    from ltr.errors import LTRError
    for system in systems:
        objective = (objectives or {}).get(system.name, system.objective)
        for fold in folds:
            try:
                objective.check_labels(fold.train.labels, fold.train.group_sizes, backend=system.backend)
            except LTRError as exc:
                raise type(exc)(f"{system.name} cannot train on fold {fold.name!r}: {exc}") from None


def _tasks(cells: list[Cell]) -> list[list[Cell]]:
    """Cells grouped by (fold, system), in declaration order: the units a worker process runs."""
    groups: dict[tuple[str, str], list[Cell]] = {}
    for cell in cells:
        groups.setdefault((cell.fold, cell.system.name), []).append(cell)
    return list(groups.values())


_WORKER: "Runner | None" = None   # the runner of a worker process (see Runner._run_in_processes)


def _start_worker(declaration: dict, base_dir: str, out: str, identity: str, data: PreparedData) -> None:
    global _WORKER
    exp = Experiment.from_dict(declaration, base_dir=base_dir)   # the declaration, resolved again in the worker
    _WORKER = Runner(exp, out, progress=False, build_report=False)
    _WORKER._parent_pid = os.getppid()
    _WORKER.identity, _WORKER._folds = identity, {f.name: f for f in data.folds}
    _WORKER.train_objectives = training_objectives(exp, data)


def _work_on(specs: list[tuple[str, str, int | None]]) -> dict[str, float]:
    """Run one task in a worker process; returns the time it spent per phase."""
    runner = _WORKER
    before = dict(runner.timings)
    task = [Cell(fold, runner.exp.system(name), seed) for fold, name, seed in specs]
    runner._run_task(task, runner._folds[task[0].fold])
    return {k: runner.timings[k] - before[k] for k in runner.timings}


def _checksum(record: dict) -> str:
    """SHA-256 of a JSON record without its ``checksum`` key (a tuning file edited by hand does not match)."""
    body = {k: v for k, v in record.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False, float_format="%.17g", lineterminator="\n")


def collect_metrics(out: Path, cells: list[Cell]) -> pd.DataFrame:
    """Concatenate the finished cells' per-query values into metrics.csv (cells in declaration order)."""
    parts = []
    for cell in cells:
        path = out / "cells" / cell.key / "per_query.csv"
        parts.append(pd.read_csv(path, dtype={QID: str, "fold": str}, keep_default_na=False))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=METRICS_COLUMNS)
    _write_csv(frame, out / "metrics.csv")
    return frame


def run_experiment(experiment: Experiment, out_dir, *, overwrite: bool = False, progress: bool = True,
                   build_report: bool = True, jobs: int = 1) -> Path:
    """Run ``experiment`` into ``out_dir`` (resuming a previous run of the same experiment); returns the folder."""
    return Runner(experiment, out_dir, overwrite=overwrite, progress=progress, build_report=build_report,
                  jobs=jobs).run()
