"""Ranker training speed, side by side with the backends called directly, in one run, as ratios.

Data: a LETOR-like synthetic set (default 2,000 queries x 100 documents x 136 float32 features, grades 0..4
from a noisy linear model), 200 boosting rounds, no validation set, the same threads for every tool.

Rows:

1. LightGBM built-in ``lambdarank`` (``lightgbm.train`` directly)            - the reference
2. LightGBM + our ``ranknet`` (``lightgbm.train`` with ``objective=grad_hess``) - goal <= 1.2x row 1
3. XGBoost ``rank:pairwise`` as all-pairs RankNet (``xgboost.train`` directly,
   the configuration ``get_objective("ranknet").describe("xgboost")`` prints) - goal: row 2 below it
4. ``Ranker(objective="lambdarank").fit`` vs row 1's call, whole call timed             - goal overhead <= 5%
5. ``Ranker(objective="ranknet").fit`` vs row 2's call, whole call timed                - goal overhead <= 5%
6. ``--load``: ``Ranker.load``'s structure check of the model file (ltr.models.backends._lightgbm_model /
   _xgboost_model) vs the native loader alone (``lightgbm.Booster(model_str=...)``, ``xgboost.Booster.
   load_model``), on models of ``--trees`` trees                            - goal check <= native load

Time per iteration = (time of the last iteration's end - time of the first iteration's end) / (rounds - 1),
taken by an after-iteration callback, so Dataset construction and the first iteration's setup are
excluded. Overhead rows time the whole call (data conversion included) for both sides. Both wall-clock and
process CPU time are reported: on a shared machine the CPU figures are the stable ones (with 1 thread they
equal wall time on an idle machine; with more threads CPU time also counts spinning threads).

Run:  /work/venv/bin/python benchmarks/bench_ranker.py [--queries 2000 --docs 100 --features 136
      --rounds 200 --threads 2 --repeat 1] [--small]
      /work/venv/bin/python benchmarks/bench_ranker.py --load [--trees 1000 --repeat 5]
"""

from __future__ import annotations

import argparse
import time

import lightgbm as lgb
import numba
import numpy as np
import xgboost as xgb

from ltr.datasets import RankingDataset
from ltr.models import Ranker
from ltr.objectives import get_objective


def make_data(n_queries, docs, n_features, seed=0) -> RankingDataset:
    rng = np.random.default_rng(seed)
    n = n_queries * docs
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    w = np.zeros(n_features)
    w[:10] = rng.normal(size=10)
    signal = X @ w / np.sqrt(10) + rng.normal(size=n)
    y = np.digitize(signal, [0.5, 1.3, 2.0, 2.6]).astype(np.float64)      # about 70% zeros, grades 0..4
    return RankingDataset(X, y, np.repeat(np.arange(n_queries), docs).astype(str), name="letor-like")


class LGBClock:
    order = 40
    before_iteration = False

    def __init__(self):
        self.stamps = []

    def __call__(self, env):
        self.stamps.append((time.perf_counter(), time.process_time()))


class XGBClock(xgb.callback.TrainingCallback):
    def __init__(self):
        super().__init__()
        self.stamps = []

    def after_iteration(self, model, epoch, evals_log):
        self.stamps.append((time.perf_counter(), time.process_time()))
        return False


def per_iteration(stamps):
    """(wall, CPU) seconds per iteration between the first and the last iteration's end."""
    (w0, c0), (w1, c1) = stamps[0], stamps[-1]
    return (w1 - w0) / (len(stamps) - 1), (c1 - c0) / (len(stamps) - 1)


def lgb_params(threads):
    return {"learning_rate": 0.05, "num_leaves": 31, "deterministic": True, "force_row_wise": True,
            "num_threads": threads, "seed": 0, "verbosity": -1, "metric": "None"}


def run_lightgbm(ds, objective, rounds, threads):
    """lightgbm.train called directly; returns (total seconds, seconds per iteration, booster)."""
    params = lgb_params(threads)
    if objective == "lambdarank":
        params["objective"] = "lambdarank"
    else:
        obj, y, sizes = get_objective(objective), ds.labels, ds.group_sizes
        params["objective"] = lambda preds, data: obj.grad_hess(y, preds, sizes)
    clock = LGBClock()
    start, cpu = time.perf_counter(), time.process_time()
    booster = lgb.train(params, lgb.Dataset(ds.X, label=ds.labels, group=ds.group_sizes), num_boost_round=rounds,
                        callbacks=[clock])
    return time.perf_counter() - start, per_iteration(clock.stamps), booster, time.process_time() - cpu


def run_xgboost(ds, rounds, threads):
    obj = get_objective("ranknet")
    params = {"tree_method": "hist", "eta": 0.05, "max_depth": 6, "nthread": threads, "seed": 0, "verbosity": 0,
              **obj.backend_params("xgboost", labels=ds.labels, group_sizes=ds.group_sizes)}
    clock = XGBClock()
    start = time.perf_counter()
    dtrain = xgb.DMatrix(ds.X, label=ds.labels, group=ds.group_sizes, nthread=threads)
    xgb.train(params, dtrain, rounds, callbacks=[clock])
    return time.perf_counter() - start, per_iteration(clock.stamps)


def run_ranker(ds, objective, rounds, threads):
    start, cpu = time.perf_counter(), time.process_time()
    ranker = Ranker(objective=objective, n_estimators=rounds, n_jobs=threads, random_state=0).fit(ds)
    return time.perf_counter() - start, ranker, time.process_time() - cpu


def bench_load(trees: int, repeat: int, threads: int) -> None:
    """Row 6: the structure check before loading vs the native load, per backend, best of ``repeat``."""
    from ltr.models.backends import get_backend
    ds = make_data(200, 20, 20, seed=1)           # the model's size, not the data's, sets both costs
    print(f"\nmodel load: {trees} trees (LightGBM 31 leaves, XGBoost depth 6), 20 features; best of {repeat}",
          flush=True)
    print(f"{'backend':<10}{'MB':>6}{'check s':>10}{'native s':>10}{'check/native':>14}  goal <= 1")
    for name in ("lightgbm", "xgboost"):
        ranker = Ranker(objective="lambdarank", backend=name, n_estimators=trees, early_stopping_rounds=None,
                        n_jobs=threads).fit(ds)
        backend = get_backend(name)
        data = backend.to_bytes(ranker.model_)

        def timed(f):
            best = float("inf")
            for _ in range(repeat):
                t0 = time.perf_counter()
                f()
                best = min(best, time.perf_counter() - t0)
            return best
        check = timed(lambda: backend.check_model_file(data, path="model", n_features=ds.n_features))
        native = timed(lambda: backend.from_bytes(data))
        print(f"{name:<10}{len(data) / 1e6:>6.1f}{check:>10.3f}{native:>10.3f}{check / native:>14.2f}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--features", type=int, default=136)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="best of N for every timing")
    ap.add_argument("--small", action="store_true", help="300 queries x 50 docs, 30 rounds: a quick check")
    ap.add_argument("--load", action="store_true", help="only row 6: the model check vs the native load")
    ap.add_argument("--trees", type=int, default=1000, help="trees of the models loaded by --load")
    args = ap.parse_args(argv)
    if args.load:
        bench_load(args.trees, max(args.repeat, 3), args.threads)
        return
    if args.small:
        args.queries, args.docs, args.rounds = 300, 50, 30
    ds = make_data(args.queries, args.docs, args.features)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))   # as Ranker(n_jobs=threads)
    print(f"data: {args.queries} queries x {args.docs} docs x {args.features} features, {args.rounds} rounds, "
          f"{args.threads} threads; lightgbm {lgb.__version__}, xgboost {xgb.__version__}")
    # warm-up: numba compilation of the RankNet kernel, library initialisation
    get_objective("ranknet").grad_hess(ds.labels[:1000], np.zeros(1000), np.full(1000 // args.docs, args.docs))
    best = lambda f: min((f() for _ in range(args.repeat)), key=lambda r: r[0])

    lr_total, lr_iter, lr_booster, lr_cpu = best(lambda: run_lightgbm(ds, "lambdarank", args.rounds, args.threads))
    rn_total, rn_iter, rn_booster, rn_cpu = best(lambda: run_lightgbm(ds, "ranknet", args.rounds, args.threads))
    _, xg_iter = best(lambda: run_xgboost(ds, args.rounds, args.threads))
    rk_lr_total, rk_lr, rk_lr_cpu = best(lambda: run_ranker(ds, "lambdarank", args.rounds, args.threads))
    rk_rn_total, rk_rn, rk_rn_cpu = best(lambda: run_ranker(ds, "ranknet", args.rounds, args.threads))
    # the Ranker must have trained the same models as the direct calls
    same_lr = np.array_equal(rk_lr.predict_scores(ds), lr_booster.predict(ds.X))
    same_rn = np.array_equal(rk_rn.predict_scores(ds), rn_booster.predict(ds.X))

    rows = [
        ("LightGBM lambdarank (built-in)", lr_iter, ""),
        ("LightGBM + ltr ranknet (custom)", rn_iter, "goal <= 1.2x lambdarank"),
        ("XGBoost rank:pairwise (all pairs)", xg_iter,
         f"ranknet/xgboost wall {rn_iter[0] / xg_iter[0]:.2f}x, CPU {rn_iter[1] / xg_iter[1]:.2f}x (goal < 1)"),
    ]
    print(f"\n{'per boosting iteration':<36}{'wall ms':>9}{'x lambdarank':>14}{'CPU ms':>9}{'x lambdarank':>14}  note")
    for name, (wall, cpu), note in rows:
        print(f"{name:<36}{wall * 1e3:>9.1f}{wall / lr_iter[0]:>14.2f}{cpu * 1e3:>9.1f}{cpu / lr_iter[1]:>14.2f}  {note}")
    print(f"\n{'whole fit call':<24}{'direct s':>10}{'Ranker s':>10}{'overhead':>10}{'CPU direct':>12}"
          f"{'CPU Ranker':>12}{'CPU ovh':>9}  same model")
    for name, direct, ours, cpu_d, cpu_o, same in (
            ("lambdarank", lr_total, rk_lr_total, lr_cpu, rk_lr_cpu, same_lr),
            ("ranknet", rn_total, rk_rn_total, rn_cpu, rk_rn_cpu, same_rn)):
        print(f"{name:<24}{direct:>10.2f}{ours:>10.2f}{(ours / direct - 1) * 100:>9.1f}%{cpu_d:>12.2f}{cpu_o:>12.2f}"
              f"{(cpu_o / cpu_d - 1) * 100:>8.1f}%  {same}")


if __name__ == "__main__":
    main()
