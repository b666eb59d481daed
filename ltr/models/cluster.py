"""Dask plumbing shared by model training (:mod:`ltr.models.distributed`) and the distributed pipeline
(:mod:`ltr.pipeline.distributed`): connecting to a cluster, cutting data into partitions of whole queries,
checking the partitions on the workers, and watching the workers while a task runs.

Nothing here knows about models. Dask is optional (``pip install 'ltr[dask]'``): nothing here imports it
until a cluster is requested (:func:`require_dask`).
"""

from __future__ import annotations

import atexit
import itertools
import threading
import time
from typing import Any

import numpy as np

from ltr.errors import ConfigError, GroupError, LTRError

__all__ = [
    "CLUSTER_DEFAULTS",
    "WorkerLostError",
    "check_partitions",
    "close_local_cluster",
    "cluster_settings",
    "dask_array",
    "get_client",
    "query_partitions",
    "require_dask",
    "scatter_parts",
    "watched",
    "workers",
]

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


# -- running on the workers ------------------------------------------------------------------------------
def workers(client) -> list[str]:
    """Addresses of all workers (``client.nthreads()`` lists every worker; ``scheduler_info()`` only the
    first few in recent versions of distributed)."""
    return sorted(client.nthreads())


def scatter_parts(client, X, labels, group_sizes, qid_codes: np.ndarray, bounds, names) -> list[dict]:
    """Scatter each run of whole queries (``bounds`` from :func:`query_partitions`) onto one worker, its
    arrays together; returns per partition a dict of futures (``X``, ``y``, ``group``, ``qid``) with
    ``n_rows``, ``workers``, ``rows`` and ``queries``."""
    offsets = np.r_[0, np.cumsum(group_sizes)]
    parts = []
    for i, (qa, qb) in enumerate(bounds):
        ra, rb = int(offsets[qa]), int(offsets[qb])
        worker = names[i % len(names)]
        arrays = {"X": X[ra:rb], "y": np.asarray(labels[ra:rb], dtype=np.float64),
                  "group": np.asarray(group_sizes[qa:qb], dtype=np.int64), "qid": qid_codes[ra:rb]}
        # a list, not a dict: scattering a dict would key the futures by "X", "y"... shared by all parts
        futs = client.scatter(list(arrays.values()), workers=[worker], hash=False)
        parts.append({**dict(zip(arrays, futs)), "n_rows": rb - ra, "workers": [worker], "rows": (ra, rb),
                      "queries": (qa, qb)})
    return parts


def dask_array(parts, key, n_cols=None, dtype=None, meta=None):
    """One Dask array of the scattered partitions' ``key`` arrays, concatenated in partition order."""
    import dask
    import dask.array as da
    blocks = []
    for p in parts:
        shape = (p["n_rows"], n_cols) if n_cols is not None else (p["n_rows"],)
        if key == "group":
            shape = (p["queries"][1] - p["queries"][0],)
        blocks.append(da.from_delayed(dask.delayed(p[key]), shape=shape, dtype=dtype, meta=meta))
    return da.concatenate(blocks, axis=0)


def watched(client, fn, names: list[str], grace: float):
    """Run ``fn()`` in a thread; raise WorkerLostError if one of the workers ``names`` leaves the cluster and the
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
            present = set(workers(client))
        except Exception:  # noqa: BLE001 - the scheduler itself is gone
            present = set()
        missing = [w for w in names if w not in present]
        if missing and lost_at is None:
            lost_at, lost = time.monotonic(), missing
        if lost_at is not None and time.monotonic() - lost_at > grace:
            raise WorkerLostError(_lost_message(lost, None))
    if lost_at is None:
        try:
            present = set(workers(client))
            lost = [w for w in names if w not in present]
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
