"""Training on a Dask cluster: ``Ranker(..., cluster="local" | "tcp://host:8786" | {...})``.

The Ranker hands its :class:`~ltr.models.backends.TrainSpec` to :func:`train_on_cluster`, which

1. connects to the cluster (:func:`get_client`; ``"local"`` starts one ``LocalCluster`` per process);
2. cuts the training rows into partitions of **whole queries** (:func:`query_partitions`, balanced by rows)
   and scatters each partition's arrays together onto one worker;
3. checks on every worker that each partition holds whole, contiguous queries that no other partition
   holds (:func:`check_partitions`) -- a query split over two workers would silently become two queries
   (LightGBM #5676, XGBoost #8691);
4. trains a fixed number of rounds with data-parallel LightGBM (``tree_learner="data"``; the per-worker
   step of ``lightgbm.dask.DaskLGBMRanker``, with the workers ranked in a fixed order so that a run is
   reproducible bit for bit) or ``xgboost.dask.train`` on a ``DaskQuantileDMatrix`` with integer ``qid``
   (XGBoost's Dask runs are not bit-reproducible run to run);
5. watches the workers: a worker lost during training raises :class:`WorkerLostError` within seconds
   (LightGBM's socket ``time_out`` is lowered from 120 minutes to ``time_out`` minutes for a worker
   that hangs without dying); a partial model is never returned.

The model that comes back is an ordinary ``lightgbm.Booster`` / ``xgboost.Booster``: save, load and
predict work as for an in-process model.

``lightgbm.dask`` has no early stopping (``xgboost.dask.train`` has, but one rule serves both backends so
that their runs compare), so a distributed run trains a fixed number of rounds, chosen by ``rounds``: ``"n_estimators"`` (default) trains exactly ``n_estimators`` rounds;
``"sample"`` first runs an in-process, early-stopped fit on a ``sample`` fraction of the training queries
against ``valid`` and trains its best iteration on the cluster. Either way a warning says so and the
Ranker's ``distributed_`` attribute (saved in the manifest) records it.

Dask is optional (``pip install .[dask]``): nothing here imports it until a cluster is requested.
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import threading
import time
import warnings
from typing import Any

import numpy as np

from ltr.errors import ConfigError, GroupError, LTRError
from ltr.models.backends._base import Trained, TrainSpec
from ltr.models.callbacks import HarnessEval

__all__ = [
    "CLUSTER_DEFAULTS",
    "WorkerLostError",
    "check_partitions",
    "close_local_cluster",
    "cluster_settings",
    "get_client",
    "query_partitions",
    "train_on_cluster",
]

#: Keys of a ``cluster`` dict, with their defaults (a string ``cluster`` is ``{"address": cluster}``).
CLUSTER_DEFAULTS: dict[str, Any] = {
    "address": "local",         # "local" (a LocalCluster in this process) or a scheduler address
    "n_workers": 2,             # LocalCluster only
    "threads_per_worker": 1,    # LocalCluster only
    "memory_limit": "auto",     # LocalCluster only: bytes or a string such as "4GB"
    "partitions": None,         # number of query-aligned partitions; None = one per worker
    "rounds": "n_estimators",   # "n_estimators" or "sample" (best iteration of an in-process sample run)
    "sample": 0.2,              # fraction of training queries of the sample run (rounds="sample")
    "time_out": 1,              # LightGBM network time_out, in MINUTES (LightGBM's default is 120)
    "grace": 15.0,              # seconds to wait for the backend's own error after a worker is lost
}

_CHECKS = {
    "address": ("'local' or a scheduler address such as 'tcp://10.0.0.1:8786'",
                lambda v: isinstance(v, str) and bool(v)),
    "n_workers": ("an int >= 1", lambda v: _is_int(v) and v >= 1),
    "threads_per_worker": ("an int >= 1", lambda v: _is_int(v) and v >= 1),
    "memory_limit": ("'auto', a size string such as '4GB' or a number of bytes",
                     lambda v: isinstance(v, str) or (_is_int(v) and v > 0)),
    "partitions": ("None or an int >= 1", lambda v: v is None or (_is_int(v) and v >= 1)),
    "rounds": ("'n_estimators' or 'sample'", lambda v: v in ("n_estimators", "sample")),
    "sample": ("a float in (0, 1]", lambda v: isinstance(v, (int, float)) and 0 < v <= 1),
    "time_out": ("an int >= 1 (minutes)", lambda v: _is_int(v) and v >= 1),
    "grace": ("a number of seconds > 0", lambda v: isinstance(v, (int, float)) and v > 0),
}


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


class WorkerLostError(LTRError, RuntimeError):
    """A Dask worker died or became unreachable while a model was training; no model was returned."""


# -- settings and connection -----------------------------------------------------------------------------
def cluster_settings(cluster) -> dict:
    """The full settings of a ``cluster`` value: a string is the address, a dict overrides
    :data:`CLUSTER_DEFAULTS`.

    Raises
    ------
    ConfigError
        A value of the wrong kind or out of range (the message says what is expected).
    UnknownNameError
        A dict key that is not in :data:`CLUSTER_DEFAULTS`.
    """
    from ltr.naming import check_params
    if isinstance(cluster, str):
        cluster = {"address": cluster}
    if not isinstance(cluster, dict):
        raise ConfigError(f"Ranker(cluster=...) must be None, 'local', a scheduler address such as "
                          f"'tcp://10.0.0.1:8786', or a dict with keys {sorted(CLUSTER_DEFAULTS)}; got "
                          f"{type(cluster).__name__}")
    check_params(cluster, CLUSTER_DEFAULTS, owner="Ranker(cluster={...})")
    settings = {**CLUSTER_DEFAULTS, **cluster}
    for key, (expected, ok) in _CHECKS.items():
        if not ok(settings[key]):
            raise ConfigError(f"cluster setting {key!r} must be {expected}; got {settings[key]!r}")
    return settings


def require_dask():
    """Import ``dask.distributed``, or a ConfigError saying how to install it."""
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError as err:
        raise ConfigError(f"training on a cluster needs Dask, which is not installed ({err}). Install the "
                          f"extra with `pip install 'ltr[dask]'` (or `pip install \"dask[distributed]\"`), "
                          f"or leave cluster=None to train in this process") from None
    return distributed


_LOCAL: dict = {}
_CLIENTS: dict = {}
_LOCK = threading.Lock()


def close_local_cluster() -> None:
    """Close the clients this module opened and the ``"local"`` cluster (also run at exit)."""
    with _LOCK:
        for client in list(_CLIENTS.values()):
            client.close()
        _CLIENTS.clear()
        if _LOCAL:
            _LOCAL["client"].close()
            _LOCAL["cluster"].close()
            _LOCAL.clear()


atexit.register(close_local_cluster)


def get_client(cluster):
    """A ``distributed.Client`` for ``cluster`` (a ``cluster`` value or its settings), kept for reuse.

    ``"local"`` starts a ``LocalCluster`` of ``n_workers`` processes with ``threads_per_worker`` threads
    and ``memory_limit`` each, once per process; an address connects to a running scheduler (10 s timeout).
    """
    settings = cluster if isinstance(cluster, dict) and set(cluster) == set(CLUSTER_DEFAULTS) \
        else cluster_settings(cluster)
    distributed = require_dask()
    address = settings["address"]
    with _LOCK:
        if address == "local":
            key = (settings["n_workers"], settings["threads_per_worker"], settings["memory_limit"])
            if _LOCAL and _LOCAL["key"] != key:
                _LOCAL["client"].close()
                _LOCAL["cluster"].close()
                _LOCAL.clear()
            if not _LOCAL:
                lc = distributed.LocalCluster(n_workers=settings["n_workers"],
                                              threads_per_worker=settings["threads_per_worker"],
                                              memory_limit=settings["memory_limit"], processes=True,
                                              dashboard_address=None)
                _LOCAL.update(key=key, cluster=lc, client=distributed.Client(lc, set_as_default=False))
            return _LOCAL["client"]
        client = _CLIENTS.get(address)
        if client is not None and client.status == "running":
            return client
        try:
            client = distributed.Client(address, timeout=10, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ConfigError(f"cannot reach the Dask scheduler at {address!r} within 10 s ({err}). Start it "
                              f"with `dask scheduler` and workers with `dask worker {address}`, check the "
                              f"address and the firewall, or use cluster='local'") from None
        _CLIENTS[address] = client
        return client


# -- partitions of whole queries ---------------------------------------------------------------------------
def query_partitions(group_sizes: np.ndarray, n_parts: int) -> list[tuple[int, int]]:
    """Cut ``len(group_sizes)`` queries into at most ``n_parts`` runs of whole queries with about the same
    number of rows; returns ``[(first query, end query)]`` (end exclusive), no run empty."""
    sizes = np.asarray(group_sizes, dtype=np.int64)
    n_q = sizes.size
    if n_q == 0:
        return []
    n_parts = max(1, min(int(n_parts), n_q))
    ends = np.cumsum(sizes)
    targets = ends[-1] * np.arange(1, n_parts) / n_parts
    cuts = np.searchsorted(ends, targets, side="left") + 1          # query index after which to cut
    cuts = np.unique(np.clip(cuts, 1, n_q - 1)) if n_q > 1 else np.array([], dtype=np.int64)
    bounds = np.r_[0, cuts, n_q].astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


def _part_summary(qids, group, n_rows: int):
    """Run on the worker holding a partition: its distinct qids and what is wrong with it, if anything."""
    qids = np.asarray(qids)
    group = np.asarray(group, dtype=np.int64)
    problems = []
    if qids.size != n_rows:
        problems.append(f"{qids.size} qids for {n_rows} rows")
    if int(group.sum()) != n_rows:
        problems.append(f"group sizes sum to {int(group.sum())} but the partition has {n_rows} rows")
    starts = np.r_[0, np.flatnonzero(qids[1:] != qids[:-1]) + 1] if qids.size else np.array([], np.int64)
    blocks = qids[starts]
    unique = np.unique(blocks)
    if unique.size != blocks.size:
        vals, counts = np.unique(blocks, return_counts=True)
        problems.append(f"query {vals[counts > 1][0]!r} is split into several blocks")
    block_sizes = np.diff(np.r_[starts, qids.size])
    if not problems and (block_sizes.size != group.size or np.any(block_sizes != group)):
        problems.append("the group sizes do not match the qid blocks")
    return unique, problems


def check_partitions(client, parts: list[dict], names=None) -> None:
    """Check, on the worker holding each partition, that its queries are whole and contiguous, and on the
    client that no query appears in two partitions.

    ``parts`` is a list of dicts of futures with keys ``qid``, ``group`` and ``n_rows`` (an int);
    ``names``, if given, maps integer qids (codes) to the query ids shown in messages.

    Raises
    ------
    GroupError
        Naming the partition, the worker and the query at fault.
    """
    futures = [client.submit(_part_summary, p["qid"], p["group"], p["n_rows"], pure=False,
                             workers=p.get("workers"), allow_other_workers=True) for p in parts]
    results = client.gather(futures)
    where = client.who_has(futures)
    owner: dict = {}
    def show(q):
        return names[int(q)] if names is not None else q

    for i, (fut, (unique, problems)) in enumerate(zip(futures, results)):
        worker = next(iter(where.get(fut.key, ())), "?")
        if problems:
            raise GroupError(f"partition {i} (worker {worker}) does not hold whole queries: "
                             f"{'; '.join(problems)}. Partition the data by qid (whole queries per "
                             f"partition, rows of a query contiguous)")
        for q in unique.tolist():
            if q in owner:
                raise GroupError(f"query {show(q)!r} is split between partitions {owner[q]} and {i} (worker "
                                 f"{worker}); each worker would train on a part of it as if it were a "
                                 f"whole query. Partition the data by qid")
            owner[q] = i


# -- training -------------------------------------------------------------------------------------------------
def _workers(client) -> list[str]:
    """Addresses of all workers (``client.nthreads()`` lists every worker; ``scheduler_info()`` only the
    first few in recent versions of distributed)."""
    return sorted(client.nthreads())


def _scatter_parts(client, spec: TrainSpec, qid_codes: np.ndarray, bounds, workers) -> list[dict]:
    offsets = np.r_[0, np.cumsum(spec.group_sizes)]
    parts = []
    for i, (qa, qb) in enumerate(bounds):
        ra, rb = int(offsets[qa]), int(offsets[qb])
        worker = workers[i % len(workers)]
        arrays = {"X": spec.X[ra:rb], "y": np.asarray(spec.backend_labels[ra:rb], dtype=np.float64),
                  "group": np.asarray(spec.group_sizes[qa:qb], dtype=np.int64), "qid": qid_codes[ra:rb]}
        # a list, not a dict: scattering a dict would key the futures by "X", "y"... shared by all parts
        futs = client.scatter(list(arrays.values()), workers=[worker], hash=False)
        parts.append({**dict(zip(arrays, futs)), "n_rows": rb - ra, "workers": [worker], "rows": (ra, rb),
                      "queries": (qa, qb)})
    return parts


def _dask_array(parts, key, n_cols=None, dtype=None, meta=None):
    import dask
    import dask.array as da
    blocks = []
    for p in parts:
        shape = (p["n_rows"], n_cols) if n_cols is not None else (p["n_rows"],)
        if key == "group":
            shape = (p["queries"][1] - p["queries"][0],)
        blocks.append(da.from_delayed(dask.delayed(p[key]), shape=shape, dtype=dtype, meta=meta))
    return da.concatenate(blocks, axis=0)


def _lightgbm_train(client, spec: TrainSpec, parts, n_rounds: int, settings: dict):
    """Data-parallel LightGBM through ``lightgbm.dask``'s per-worker step (``_train_part``, what
    ``DaskLGBMRanker.fit`` submits), with the workers ranked in sorted-address order.

    ``DaskLGBMRanker.fit`` ranks the workers in the order of ``client.who_has`` (a set of random keys), and
    the rank decides which worker's rows give each feature its bins: the same data then gives different
    models from run to run. Fixing the order makes a distributed run reproducible bit for bit.
    """
    from urllib.parse import urlparse

    import lightgbm.dask as lgbd
    from lightgbm import LGBMRanker
    params = dict(spec.params)
    params.pop("num_threads", None)                 # each worker uses its own thread count (below)
    params.pop("boosting", None)
    params["boosting_type"] = spec.params.get("boosting", "gbdt")
    params["n_estimators"] = n_rounds
    params.setdefault("tree_learner", "data")
    if spec.custom:
        objective = spec.objective

        def custom_objective(y_true, y_pred, weight, group):
            # each worker holds whole queries, so the per-worker gradient is the exact gradient; our
            # compiled kernels use the worker's threads, not every core of its machine
            from distributed import get_worker

            from ltr.models.callbacks import kernel_threads
            with kernel_threads(get_worker().state.nthreads):
                return objective.grad_hess(np.asarray(y_true), np.asarray(y_pred), np.asarray(group))

        params["objective"] = custom_objective
    elif "objective" not in params:
        params["objective"] = "lambdarank"
    by_worker: dict = {}
    for p in parts:                                 # parts are in query order; so are a worker's parts
        by_worker.setdefault(p["workers"][0], []).append({"data": p["X"], "label": p["y"], "group": p["group"]})
    workers = sorted(by_worker)
    sockets, ports = lgbd._assign_open_ports_to_workers(client=client, workers=workers)
    machines = ",".join(f"{urlparse(w).hostname}:{ports[w]}" for w in workers)
    nthreads = client.nthreads()
    futures = [client.submit(lgbd._train_part, model_factory=LGBMRanker,
                             params={**params, "num_threads": nthreads[w]}, list_of_parts=by_worker[w],
                             machines=machines, local_listen_port=ports[w], num_machines=len(workers),
                             time_out=settings["time_out"], remote_socket=sockets.get(w),
                             return_model=(rank == 0), workers=[w], allow_other_workers=False, pure=False)
               for rank, w in enumerate(workers)]
    results = client.gather(futures)
    return next(r for r in results if r is not None).booster_


def _xgboost_train(client, spec: TrainSpec, parts, n_rounds: int, settings: dict):
    import xgboost.dask as dxgb
    if spec.custom:
        raise ConfigError(f"objective {spec.objective!r} is a custom (Python) objective; XGBoost's Dask "
                          f"interface refuses custom ranking objectives (DaskXGBRanker: 'Custom objective "
                          f"function not supported'). Use backend='lightgbm' for it on a cluster, or an "
                          f"XGBoost built-in objective such as 'lambdarank'")
    X = spec.X
    meta = X[:0] if hasattr(X, "tocsr") else np.empty((0, X.shape[1]), dtype=X.dtype)
    Xd = _dask_array(parts, "X", n_cols=X.shape[1], dtype=X.dtype, meta=meta)
    yd = _dask_array(parts, "y", dtype=np.float64)
    qd = _dask_array(parts, "qid", dtype=np.int64)
    dtrain = dxgb.DaskQuantileDMatrix(client, Xd, label=yd, qid=qd,
                                      max_bin=int(spec.params.get("max_bin", 256)))
    params = dict(spec.params)
    params.pop("nthread", None)                     # xgboost.dask uses each worker's thread count
    out = dxgb.train(client, params, dtrain, num_boost_round=n_rounds, evals=[], verbose_eval=False)
    return out["booster"]


def _watched(client, fn, workers: list[str], grace: float):
    """Run ``fn()`` in a thread; raise WorkerLostError if one of ``workers`` leaves the cluster and the
    backend has not raised by itself within ``grace`` seconds (a task pinned to a dead worker can wait
    forever in Dask's 'no-worker' state)."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - handed to the calling thread
            box["error"] = err

    thread = threading.Thread(target=run, name="ltr-dask-train", daemon=True)
    thread.start()
    lost_at, lost = None, []
    while thread.is_alive():
        thread.join(0.25)
        if not thread.is_alive():
            break
        try:
            present = set(_workers(client))
        except Exception:  # noqa: BLE001 - the scheduler itself is gone
            present = set()
        missing = [w for w in workers if w not in present]
        if missing and lost_at is None:
            lost_at, lost = time.monotonic(), missing
        if lost_at is not None and time.monotonic() - lost_at > grace:
            raise WorkerLostError(_lost_message(lost, None))
    if lost_at is None:
        try:
            present = set(_workers(client))
            lost = [w for w in workers if w not in present]
        except Exception:  # noqa: BLE001
            lost = []
    if "error" in box:
        err = box["error"]
        text = str(err)
        if lost or any(s in text for s in ("Socket", "socket", "Connection", "connection", "KilledWorker",
                                               "rabit", "Rabit", "collective", "Collective")):
            raise WorkerLostError(_lost_message(lost, err)) from err
        raise err
    return box["value"]


def _lost_message(lost, err) -> str:
    who = f"worker(s) {lost}" if lost else "a worker"
    cause = f" ({type(err).__name__}: {str(err).strip()[:200]})" if err is not None else ""
    return (f"{who} left the cluster during training{cause}; the run was abandoned and no model was "
            f"returned. Fit again (Dask restarts lost workers; check their memory_limit and logs)")


def _sample_rounds(spec: TrainSpec, backend, settings: dict, seed: int) -> tuple[int, int]:
    """Best iteration of an in-process early-stopped fit on a sample of the training queries."""
    if spec.valid is None:
        raise ConfigError("cluster rounds='sample' picks the number of rounds by early stopping on a sample: "
                          "pass valid= to fit, or use rounds='n_estimators'")
    if not spec.early_stopping_rounds:
        raise ConfigError("cluster rounds='sample' needs early_stopping_rounds (an int) on the Ranker")
    sizes = spec.group_sizes
    n_q = sizes.size
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(n_q, size=max(1, round(settings["sample"] * n_q)), replace=False))
    offsets = np.r_[0, np.cumsum(sizes)]
    rows = np.concatenate([np.arange(offsets[q], offsets[q + 1]) for q in take])
    sub = dataclasses.replace(spec, X=spec.X[rows], labels=spec.labels[rows],
                              backend_labels=spec.backend_labels[rows], group_sizes=sizes[take], record=False)
    trained = backend.train(sub)
    return int(trained.best_iteration), int(take.size)


def train_on_cluster(spec: TrainSpec, backend, cluster, *, qids: np.ndarray, seed: int = 0):
    """Train ``spec`` on the cluster ``cluster``; returns ``(Trained, info)``.

    Parameters
    ----------
    spec : TrainSpec
        As built by the Ranker (rows of a query contiguous).
    backend : Backend
        ``lightgbm`` or ``xgboost``.
    cluster : str or dict
        See :data:`CLUSTER_DEFAULTS`.
    qids : ndarray
        The query id of each training row (named by the partition check's messages).
    seed : int
        Seed of the query sample (``rounds="sample"``).

    Returns
    -------
    Trained, dict
        The model, trained for a fixed number of rounds (``best_iteration == n_iterations``), and
        ``info``: address, n_workers, n_partitions, rounds, rounds_policy, note (kept as the Ranker's
        ``distributed_`` and in its manifest).
    """
    settings = cluster_settings(cluster)
    if backend.name not in ("lightgbm", "xgboost"):
        raise ConfigError(f"backend {backend.name!r} cannot train on a cluster; use 'lightgbm' or 'xgboost'")
    if spec.record:
        raise ConfigError("Ranker(record=True) records per-iteration training scores in this process; it is "
                          "not available with cluster=. Record on a sample in-process instead")
    if spec.custom and backend.name == "xgboost":
        _xgboost_train(None, spec, [], 0, settings)              # raises the ConfigError
    client = get_client(settings)
    workers = _workers(client)
    if not workers:
        raise ConfigError(f"the Dask cluster at {settings['address']!r} has no workers; start some with "
                          f"`dask worker <scheduler address>`")
    # Step 1: the number of rounds (no early stopping on Dask)
    info_sample = None
    if settings["rounds"] == "sample":
        n_rounds, n_sample = _sample_rounds(spec, backend, settings, seed)
        info_sample = n_sample
        note = (f"trained a fixed {n_rounds} rounds on the cluster: the best iteration of an in-process fit "
                f"with early stopping on {n_sample} sampled training queries ({settings['sample']:g})")
    else:
        n_rounds = int(spec.n_estimators)
        note = (f"trained a fixed {n_rounds} rounds (n_estimators) on the cluster: Dask training has no "
                f"early stopping; use cluster={{'rounds': 'sample', ...}} to pick the rounds on a sample")
    if spec.valid is not None and spec.early_stopping_rounds:
        warnings.warn(f"distributed training does not early-stop: {note}", UserWarning, stacklevel=3)
    # Step 2: query-aligned partitions on the workers, checked there
    n_parts = settings["partitions"] or len(workers)
    bounds = query_partitions(spec.group_sizes, n_parts)
    qid_codes = np.repeat(np.arange(spec.group_sizes.size, dtype=np.int64), spec.group_sizes)
    clock = time.perf_counter()
    parts = _scatter_parts(client, spec, qid_codes, bounds, workers)
    n_used, n_parts = len({p["workers"][0] for p in parts}), len(parts)
    seconds = {"scatter": time.perf_counter() - clock}
    try:
        clock = time.perf_counter()
        check_partitions(client, parts, names=np.asarray(qids)[np.r_[0, np.cumsum(spec.group_sizes)[:-1]]])
        seconds["check"] = time.perf_counter() - clock
        used = sorted({p["workers"][0] for p in parts})
        fn = _lightgbm_train if backend.name == "lightgbm" else _xgboost_train
        # Step 3: train, watching the workers
        def run():
            with client.as_current():     # futures inside the graph resolve against this client
                return fn(client, spec, parts, n_rounds, settings)

        clock = time.perf_counter()
        model = _watched(client, run, used, settings["grace"])
        seconds["train"] = time.perf_counter() - clock
    finally:
        parts.clear()           # the scattered partitions are released with their last reference
    n_iter = int(backend.n_trees(model))
    if n_iter != n_rounds:
        raise WorkerLostError(f"the cluster returned a model of {n_iter} trees for {n_rounds} rounds; refusing "
                              f"a partial model. Fit again")
    # Step 4: the validation metrics of the final model (computed here, once)
    evals = {}
    if spec.valid is not None:
        Xv, yv, _, gv = spec.valid
        harness = HarnessEval(spec.metrics, spec.objective)
        harness.add(Xv, "valid", yv, gv)
        raw = backend.predict_raw(model, Xv, n_iter, int(spec.params.get("num_threads",
                                                                           spec.params.get("nthread", 1))))
        evals = {"valid": {name: [value] for name, value in harness.values(raw, Xv)}}
        note += "; evals_result_ holds the final model's validation metrics only"
    info = {"address": settings["address"], "n_workers": n_used, "n_partitions": n_parts, "rounds": n_rounds, "rounds_policy": settings["rounds"],
            "sample_queries": info_sample, "time_out_minutes": settings["time_out"],
            "seconds": {k: round(v, 3) for k, v in seconds.items()}, "note": note}
    return Trained(model, n_iter, n_iter, evals, None), info
