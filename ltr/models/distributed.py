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

This module is the per-backend training; the Dask plumbing it stands on (connection, partitions, the
partition check, the worker watch), which :mod:`ltr.pipeline.distributed` uses too, is
:mod:`ltr.models.cluster`. Its names stay importable from here.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np

from ltr.errors import ConfigError, LTRError  # noqa: F401 (LTRError: WorkerLostError's base, kept importable)
from ltr.models._harness import HarnessEval
from ltr.models.backends._base import Trained, TrainSpec
# the Dask plumbing, kept importable from here (its home is ltr.models.cluster)
from ltr.models.cluster import (  # noqa: F401
    CLUSTER_DEFAULTS, WorkerLostError, check_partitions, close_local_cluster, cluster_settings, dask_array,
    get_client, query_partitions, require_dask, scatter_parts, watched, workers,
)

__all__ = [
    "CLUSTER_DEFAULTS",
    "WorkerLostError",
    "check_partitions",
    "close_local_cluster",
    "cluster_settings",
    "get_client",
    "lightgbm_train_on_cluster",
    "query_partitions",
    "require_dask",
    "train_on_cluster",
    "xgboost_train_on_cluster",
]



# -- per-backend training on the partitions ----------------------------------------------------------------------
def lightgbm_train_on_cluster(client, spec: TrainSpec, parts, n_rounds: int, settings: dict):
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

            from ltr.models._harness import kernel_threads
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

def xgboost_train_on_cluster(client, spec: TrainSpec, parts, n_rounds: int, settings: dict):
    import xgboost.dask as dxgb
    if spec.custom:
        raise ConfigError(f"objective {spec.objective!r} is a custom (Python) objective; XGBoost's Dask "
                          f"interface refuses custom ranking objectives (DaskXGBRanker: 'Custom objective "
                          f"function not supported'). Use backend='lightgbm' for it on a cluster, or an "
                          f"XGBoost built-in objective such as 'lambdarank'")
    X = spec.X
    meta = X[:0] if hasattr(X, "tocsr") else np.empty((0, X.shape[1]), dtype=X.dtype)
    Xd = dask_array(parts, "X", n_cols=X.shape[1], dtype=X.dtype, meta=meta)
    yd = dask_array(parts, "y", dtype=np.float64)
    qd = dask_array(parts, "qid", dtype=np.int64)
    dtrain = dxgb.DaskQuantileDMatrix(client, Xd, label=yd, qid=qd,
                                      max_bin=int(spec.params.get("max_bin", 256)))
    params = dict(spec.params)
    params.pop("nthread", None)                     # xgboost.dask uses each worker's thread count
    out = dxgb.train(client, params, dtrain, num_boost_round=n_rounds, evals=[], verbose_eval=False)
    return out["booster"]

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
    if not backend.supports_cluster:   # the Ranker checks first, naming the backends that can
        raise ConfigError(f"backend {backend.name!r} cannot train on a cluster")
    if spec.weights is not None:
        raise ConfigError("training on a cluster does not take weights yet (the partitions carry features, labels "
                          "and query ids only); train in this process (cluster=None) to use RankingDataset.weights")
    if spec.record:
        raise ConfigError("Ranker(record=True) records per-iteration training scores in this process; it is "
                          "not available with cluster=. Record on a sample in-process instead")
    if spec.custom and backend.name == "xgboost":
        xgboost_train_on_cluster(None, spec, [], 0, settings)    # raises the ConfigError
    client = get_client(settings)
    names = workers(client)
    if not names:
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
    n_parts = settings["partitions"] or len(names)
    bounds = query_partitions(spec.group_sizes, n_parts)
    qid_codes = np.repeat(np.arange(spec.group_sizes.size, dtype=np.int64), spec.group_sizes)
    clock = time.perf_counter()
    parts = scatter_parts(client, spec.X, spec.backend_labels, spec.group_sizes, qid_codes, bounds, names)
    n_used, n_parts = len({p["workers"][0] for p in parts}), len(parts)
    seconds = {"scatter": time.perf_counter() - clock}
    try:
        clock = time.perf_counter()
        check_partitions(client, parts, names=np.asarray(qids)[np.r_[0, np.cumsum(spec.group_sizes)[:-1]]])
        seconds["check"] = time.perf_counter() - clock
        used = sorted({p["workers"][0] for p in parts})
        # Step 3: train, watching the workers
        def run():
            with client.as_current():     # futures inside the graph resolve against this client
                return backend.train_on_cluster(client, spec, parts, n_rounds, settings)

        clock = time.perf_counter()
        model = watched(client, run, used, settings["grace"])
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
