"""Dask: distributed versus single-process training, and feature extraction versus the number of partitions.

Part A (training). A LETOR-like synthetic set (default 20,000 queries x 100 documents x 136 float32
features, grades 0..4 from a noisy linear model; ``--small``: 2,000 queries), a fixed number of LightGBM
lambdarank rounds (no validation set, no early stopping on either side), rows:

1. ``Ranker(objective="lambdarank", n_jobs=2).fit(train)`` in this process                    - the reference
2. the same with ``n_jobs=1`` (OpenMP threads suffer most when the cores are shared)
3. ``Ranker(objective="lambdarank", cluster=<LocalCluster 2 workers x 1 thread>).fit(train)``   - same 2 cores

For each: wall time of the whole ``fit`` (data scattered to the workers included), peak RSS of this
process and of each worker process (sampled every 50 ms with psutil; peak minus the idle RSS measured just
before the fit is the memory the fit needed), and the test nDCG@10 (LightGBM convention) of the model on
a held-out synthetic set of the same size / 10, so that the speed is not bought with a worse model.
Optionally (``--xgboost``) the same two rows for XGBoost.

Part B (feature extraction). A synthetic web collection (``--docs`` documents, ``--fx-queries`` queries),
pairs = each query's BM25 top 100; ``FeatureSet([bm25, tfidf, ql, length, match])`` fitted once on the
client; ``transform`` in this process vs ``transform_distributed`` with 1, 2, 4, 8 and 16 partitions on
the 2 workers (time to the computed frame; the fitted FeatureSet is broadcast once per call, and its
serialized size is reported since it is what every worker receives).

Run:  /work/venv/bin/python benchmarks/bench_dask.py [--queries 20000 --docs-per-query 100 --features 136
      --rounds 100 --docs 20000 --fx-queries 400] [--small] [--xgboost]
The machine of record has 2 cores shared with other work: state the load when quoting figures.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np
import psutil

from ltr.datasets import RankingDataset
from ltr.metrics import parse_metric
from ltr.models import Ranker


def make_data(n_queries, docs, n_features, seed=0) -> RankingDataset:
    rng = np.random.default_rng(seed)
    n = n_queries * docs
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    w = rng.normal(size=10)
    signal = X[:, :10] @ w / np.sqrt(10) + 0.7 * rng.normal(size=n)
    y = np.clip(np.round(signal + 1.0), 0, 4).astype(np.float64)
    qids = np.repeat(np.array([f"s{seed}q{i}" for i in range(n_queries)], dtype=object), docs)
    return RankingDataset(X, y, qids, None, [f"f{j}" for j in range(n_features)], name=f"synthetic-{seed}")


class PeakRSS:
    """Samples the RSS of some processes every ``period`` seconds in a thread; ``peak[pid]`` in bytes."""

    def __init__(self, pids, period=0.05):
        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.period = period
        self.base = {pid: p.memory_info().rss for pid, p in self.procs.items()}
        self.peak = dict(self.base)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid, p in self.procs.items():
                try:
                    self.peak[pid] = max(self.peak[pid], p.memory_info().rss)
                except psutil.Error:
                    pass
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def mb(x):
    return f"{x / 2**20:,.0f}"


def ndcg10(ranker, test):
    metric = parse_metric("nDCG(gain='exp', norel=1, ties='row')@10")
    return float(np.mean(metric.compute(test.labels, ranker.predict_scores(test), test.group_sizes)))


def part_a(args, lc, client):
    print(f"\n## A. Training: {args.queries:,} queries x {args.docs_per_query} docs x {args.features} features, "
          f"{args.rounds} rounds")
    t = time.perf_counter()
    train = make_data(args.queries, args.docs_per_query, args.features, seed=0)
    test = make_data(max(50, args.queries // 10), args.docs_per_query, args.features, seed=1)
    print(f"data: {train.X.nbytes / 2**20:,.0f} MB of features, generated in {time.perf_counter() - t:.1f} s")
    workers = client.run(os.getpid)
    me = os.getpid()
    backends = ["lightgbm"] + (["xgboost"] if args.xgboost else [])
    print("\n| backend | run | fit wall s | ratio | client peak MB (+fit) | worker peak MB (+fit) each | "
          "test nDCG@10 |")
    print("|---|---|---:|---:|---:|---|---:|")
    for backend in backends:
        kw = {"n_estimators": args.rounds, "early_stopping_rounds": None, "random_state": 0}
        rows = []
        for label, cluster, threads in (("single process, 2 threads", None, 2),
                                        ("single process, 1 thread", None, 1),
                                        ("Dask, 2 workers x 1 thread", {"address": lc.scheduler_address}, 1)):
            with PeakRSS([me, *workers.values()]) as rss:
                t = time.perf_counter()
                ranker = Ranker(objective="lambdarank", backend=backend, cluster=cluster, n_jobs=threads,
                                **kw).fit(train)
                wall = time.perf_counter() - t
            rows.append(wall)
            client_txt = f"{mb(rss.peak[me])} (+{mb(rss.peak[me] - rss.base[me])})"
            if cluster is None:
                worker_txt = "-"
            else:
                worker_txt = ", ".join(f"{mb(rss.peak[p])} (+{mb(rss.peak[p] - rss.base[p])})"
                                       for p in workers.values())
            print(f"| {backend} | {label} | {wall:.1f} | {wall / rows[0]:.2f} | {client_txt} | {worker_txt} | "
                  f"{ndcg10(ranker, test):.4f} |", flush=True)
            if cluster is not None:
                parts_s = ranker.distributed_["seconds"]
                print(f"|  | of which scatter {parts_s['scatter']:.1f} s, partition check {parts_s['check']:.1f} s, "
                      f"training on the workers {parts_s['train']:.1f} s | | | | | |", flush=True)


def part_b(args, client):
    import cloudpickle

    from features.base import FeatureSet
    from ltr.datasets.synthetic import make_synthetic_web
    from ltr.pipeline import BM25Retriever
    from ltr.pipeline.distributed import partition_by_query, transform_distributed
    print(f"\n## B. Feature extraction: synthetic web, {args.docs:,} documents, {args.fx_queries} queries, "
          f"BM25 top-100 pairs")
    t = time.perf_counter()
    web = make_synthetic_web(n_docs=args.docs, n_queries=args.fx_queries, seed=0)
    run = BM25Retriever(k=100).fit(web).retrieve(web.queries)
    pairs = run[["qid", "docid"]].merge(web.queries[["qid", "query"]], on="qid", how="left")
    fs = FeatureSet(["bm25", "tfidf", "ql", "length", "match"]).fit(web)
    print(f"collection + pairs + fit: {time.perf_counter() - t:.1f} s; {len(pairs):,} pairs, "
          f"{len(fs.feature_names_out())} features; fitted FeatureSet serialized: "
          f"{len(cloudpickle.dumps(fs)) / 2**20:.1f} MB (sent once to each worker)")
    t = time.perf_counter()
    local = fs.transform(pairs)
    base = time.perf_counter() - t
    print("\n| run | partitions | wall s | ratio | equal to local |")
    print("|---|---:|---:|---:|---|")
    print(f"| single process | - | {base:.2f} | 1.00 | - |")
    for n in (1, 2, 4, 8, 16):
        t = time.perf_counter()
        ddf = partition_by_query(pairs, n)
        out = transform_distributed(fs, ddf, client=client).compute(scheduler=client.get)
        wall = time.perf_counter() - t
        same = out.loc[local.index].equals(local)
        print(f"| Dask, 2 workers | {n} | {wall:.2f} | {wall / base:.2f} | {same} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=20_000)
    ap.add_argument("--docs-per-query", type=int, default=100)
    ap.add_argument("--features", type=int, default=136)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--fx-queries", type=int, default=400)
    ap.add_argument("--small", action="store_true", help="2,000 queries, 5,000 documents, 100 queries")
    ap.add_argument("--xgboost", action="store_true")
    ap.add_argument("--skip-training", action="store_true")
    ap.add_argument("--skip-features", action="store_true")
    args = ap.parse_args()
    if args.small:
        args.queries, args.docs, args.fx_queries = 2_000, 5_000, 100
    import distributed
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()}, memory available: "
          f"{psutil.virtual_memory().available / 2**30:.1f} GB")
    lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit=0)
    client = distributed.Client(lc, set_as_default=False)
    try:
        if not args.skip_training:
            part_a(args, lc, client)
        if not args.skip_features:
            part_b(args, client)
    finally:
        from ltr.models.distributed import close_local_cluster
        close_local_cluster()
        client.close()
        lc.close()
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
