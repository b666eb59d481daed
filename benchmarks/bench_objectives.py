"""Per-call time of ltr's pairwise gradients: numba kernels vs their numpy references, side by side.

LETOR-like shape: 2,000 queries x 100 documents, grades 0..4 (about 4,000 label-discordant pairs per query,
~8M pairs per call for RankNet). Also, with ``--lightgbm``, the time of one LightGBM boosting iteration
with the built-in ``lambdarank`` vs with our ``ranknet`` as custom objective (136 features), as context for
the issue's goal (LightGBM + our RankNet <= 1.2x LightGBM lambdarank per iteration); the full comparison
with XGBoost lives in bench_ranker.py.

Usage::

    python benchmarks/bench_objectives.py [--queries 2000] [--docs 100] [--repeat 5] [--lightgbm]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from ltr.objectives import HAVE_NUMBA, get_objective


def _best(fn, repeat):
    """(best wall time, best CPU time of the process) over ``repeat`` calls.

    CPU time (all threads) is reported because the machine is shared: under load the wall time measures
    the other processes as much as ours.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def bench_gradients(n_queries, n_docs, repeat, seed=0):
    rng = np.random.default_rng(seed)
    n = n_queries * n_docs
    labels = rng.integers(0, 5, size=n).astype(np.float64)
    scores = rng.normal(size=n)
    sizes = np.full(n_queries, n_docs)
    rows = []
    for spec in ["ranknet", "lambdarank_ref"]:
        obj = get_objective(spec)
        obj.grad_hess(labels[:2 * n_docs], scores[:2 * n_docs], sizes[:2])          # compile (numba cache)
        numba_wall, numba_cpu = _best(lambda: obj.grad_hess(labels, scores, sizes), repeat)
        numpy_wall, numpy_cpu = _best(lambda: obj.grad_hess(labels, scores, sizes, use_numba=False),
                                      max(1, repeat // 2))
        g1, _ = obj.grad_hess(labels, scores, sizes)
        g0, _ = obj.grad_hess(labels, scores, sizes, use_numba=False)
        rows.append((spec, numba_wall, numba_cpu, numpy_wall, numpy_cpu, float(np.abs(g1 - g0).max())))
    return rows


def bench_lightgbm(n_queries, n_docs, n_features, rounds, threads, seed=0):
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    n = n_queries * n_docs
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    w = rng.normal(size=n_features)
    latent = X @ w / np.sqrt(n_features) + rng.normal(scale=1.0, size=n)
    labels = np.digitize(latent, np.quantile(latent, [0.5, 0.75, 0.9, 0.97])).astype(np.float64)
    sizes = np.full(n_queries, n_docs)
    base = {"learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20, "num_threads": threads,
            "deterministic": True, "force_row_wise": True, "verbose": -1, "seed": 0}
    ranknet = get_objective("ranknet")

    def fobj(preds, dataset):
        return ranknet.grad_hess(dataset.get_label(), preds, dataset.get_group())

    # Both boosters advance in alternation, so that a change of load on the shared machine hits both alike.
    runs = {"lightgbm lambdarank (built-in)": ({"objective": "lambdarank"}, None),
            "lightgbm + ltr ranknet (custom)": ({"objective": "none"}, fobj)}   # as lightgbm.train does
    boosters = {}
    for name, (params, custom) in runs.items():
        ds = lgb.Dataset(X, label=labels, group=sizes, free_raw_data=False)
        booster = lgb.Booster({**base, **params}, ds)
        booster.update(fobj=custom)                   # first iteration: binning, compilation
        boosters[name] = booster
    out = {name: [0.0, 0.0] for name in runs}
    for _ in range(rounds):
        for name, (_, custom) in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            boosters[name].update(fobj=custom)
            out[name][0] += (time.perf_counter() - t0) / rounds
            out[name][1] += (time.process_time() - c0) / rounds
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--lightgbm", action="store_true", help="also time LightGBM boosting iterations")
    ap.add_argument("--features", type=int, default=136)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    if HAVE_NUMBA:
        import numba
        accel = f"numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads)"
    else:
        accel = "numba absent: both columns run numpy"
    print(f"# {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, {accel}")
    print(f"# load average {os.getloadavg()[0]:.1f} (timings on a shared machine are noisy)")
    print(f"# {args.queries} queries x {args.docs} docs, grades 0..4")
    print(f"{'objective':<16} {'numba ms (wall/cpu)':>22} {'numpy ms (wall/cpu)':>22} {'speed-up':>9} "
          f"{'max |diff|':>11}")
    for spec, nb, nbm, npb, npm, diff in bench_gradients(args.queries, args.docs, args.repeat):
        print(f"{spec:<16} {nb * 1e3:>10.1f} / {nbm * 1e3:<9.1f} {npb * 1e3:>10.1f} / {npm * 1e3:<9.1f} "
              f"{npm / nbm:>8.1f}x {diff:>11.1e}")
    if args.lightgbm:
        print(f"\n# LightGBM per boosting iteration, {args.features} features, {args.threads} threads, "
              f"mean of {args.rounds} iterations")
        res = bench_lightgbm(args.queries, args.docs, args.features, args.rounds, args.threads)
        ref_wall, ref_cpu = res["lightgbm lambdarank (built-in)"]
        print(f"{'':<34} {'wall ms':>9} {'ratio':>6} {'cpu ms':>9} {'ratio':>6}")
        for name, (wall, cpu) in res.items():
            print(f"{name:<34} {wall * 1e3:>9.1f} {wall / ref_wall:>5.2f}x {cpu * 1e3:>9.1f} {cpu / ref_cpu:>5.2f}x")


if __name__ == "__main__":
    main()
