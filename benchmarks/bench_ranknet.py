"""RankNet on long queries (1,000+ documents): time per boosting round against LightGBM lambdarank and
XGBoost rank:pairwise on the same data, in one run, as ratios; and what pair sampling buys.

All pairs of a query cost O(n^2): at a fixed number of rows, the all-pairs gradient grows linearly with the
query length while the tree building does not. Rows, per query length (``--docs``), on the same data:

1. LightGBM ``lambdarank`` (built-in; its pairs have a document in the top 30: O(30 n)) - the reference
2. LightGBM + ltr ``ranknet``, every label-discordant pair (custom objective)
3. LightGBM + ltr ``ranknet(pairs_per_doc=k)`` for each ``--pairs k`` (sampled, unbiased)
4. XGBoost ``rank:pairwise``, all pairs (the configuration ``get_objective("ranknet").describe("xgboost")``
   prints: topk with num_pair_per_sample = the longest query, no normalisation)
5. XGBoost ``rank:pairwise`` with its own sampler (``lambdarank_pair_method='mean'``, ``k`` pairs per document)

Per row: wall and CPU milliseconds per boosting round (between the first and the last round's end, from an
after-iteration callback), the ratio to row 1, the gradient's own time per call for ltr's objectives (the
kernel alone, so its share of a round is visible), and nDCG@10 (LightGBM's convention) on a held-out set
of the same shape after the last round, to show what sampling costs in quality.

Run:  python benchmarks/bench_ranknet.py [--rows 100000 --docs 1000 3000 --features 136 --rounds 30
      --threads 2 --pairs 1 4 16] [--small]
"""

from __future__ import annotations

import argparse
import time

import lightgbm as lgb
import numba
import numpy as np
import xgboost as xgb

from bench_ranker import LGBClock, XGBClock, lgb_params, make_data, per_iteration
from ltr.metrics import parse_metric
from ltr.objectives import get_objective

NDCG = parse_metric("nDCG(gain='exp', norel=1, ties='row')@10")


def _ndcg(test, scores) -> float:
    return float(np.mean(NDCG.compute(test.labels, np.asarray(scores, dtype=np.float64), test.group_sizes)))


def run_lightgbm(train, test, objective, rounds, threads):
    params = lgb_params(threads)
    if objective == "lambdarank":
        params["objective"] = "lambdarank"
    else:
        obj, y, sizes = get_objective(objective), train.labels, train.group_sizes
        params["objective"] = lambda preds, data: obj.grad_hess(y, preds, sizes)
    clock = LGBClock()
    booster = lgb.train(params, lgb.Dataset(train.X, label=train.labels, group=train.group_sizes),
                        num_boost_round=rounds, callbacks=[clock])
    return per_iteration(clock.stamps), _ndcg(test, booster.predict(test.X))


def run_xgboost(train, test, rounds, threads, pairs=None):
    params = {"tree_method": "hist", "eta": 0.05, "max_depth": 6, "nthread": threads, "seed": 0, "verbosity": 0}
    params.update(get_objective("ranknet").backend_params("xgboost", labels=train.labels,
                                                          group_sizes=train.group_sizes))
    if pairs is not None:
        params.update({"lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": pairs})
    clock = XGBClock()
    dtrain = xgb.DMatrix(train.X, label=train.labels, group=train.group_sizes, nthread=threads)
    booster = xgb.train(params, dtrain, rounds, callbacks=[clock])
    return per_iteration(clock.stamps), _ndcg(test, booster.predict(xgb.DMatrix(test.X, nthread=threads)))


def gradient_time(objective, train, repeat=3):
    """(wall, CPU) seconds of one grad_hess call at random scores, best of ``repeat``."""
    obj = get_objective(objective)
    scores = np.random.default_rng(1).normal(size=len(train))
    best = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        obj.grad_hess(train.labels, scores, train.group_sizes)
        t = (time.perf_counter() - w, time.process_time() - c)
        best = t if best is None or t[0] < best[0] else best
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="training rows (queries = rows / docs)")
    ap.add_argument("--docs", type=int, nargs="+", default=[1000, 3000], help="documents per query")
    ap.add_argument("--features", type=int, default=136)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pairs", type=int, nargs="+", default=[1, 4, 16], help="pairs per document to sample")
    ap.add_argument("--small", action="store_true", help="20,000 rows, 1,000 docs, 8 rounds: a quick check")
    args = ap.parse_args(argv)
    if args.small:
        args.rows, args.docs, args.rounds, args.pairs = 20_000, [1000], 8, [4]
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))      # as Ranker(n_jobs=threads)
    print(f"{args.rows} training rows x {args.features} features, {args.rounds} rounds, {args.threads} threads; "
          f"lightgbm {lgb.__version__}, xgboost {xgb.__version__}, numba {numba.__version__}")
    for docs in args.docs:
        n_queries = max(2, args.rows // docs)
        n_test = max(10, n_queries // 2)
        both = make_data(n_queries + n_test, docs, args.features, seed=0)     # one relevance function
        train = both.take(np.arange(n_queries * docs))
        test = both.take(np.arange(n_queries * docs, len(both)))
        pairs = int(sum(((s := np.bincount(train.labels[o:o + docs].astype(int))).sum() ** 2 - (s ** 2).sum()) // 2
                        for o in range(0, len(train), docs)))
        print(f"\n{n_queries} queries x {docs} documents ({pairs:,} label-discordant pairs per round); held-out "
              f"{test.n_queries} queries")
        for objective in ["ranknet"] + [f"ranknet(pairs_per_doc={k})" for k in args.pairs]:   # compile first
            get_objective(objective).grad_hess(train.labels[:2 * docs], np.zeros(2 * docs), [docs, docs])
        rows = [("LightGBM lambdarank (built-in)", *run_lightgbm(train, test, "lambdarank", args.rounds,
                                                                  args.threads), None)]
        for objective in ["ranknet"] + [f"ranknet(pairs_per_doc={k})" for k in args.pairs]:
            name = "all pairs" if objective == "ranknet" else objective[8:-1].replace("pairs_per_doc=", "k=")
            rows.append((f"LightGBM + ltr ranknet, {name}", *run_lightgbm(train, test, objective, args.rounds,
                                                                          args.threads),
                         gradient_time(objective, train)))
        rows.append(("XGBoost rank:pairwise, all pairs", *run_xgboost(train, test, args.rounds, args.threads), None))
        for k in args.pairs:
            rows.append((f"XGBoost rank:pairwise, mean k={k}", *run_xgboost(train, test, args.rounds, args.threads, k),
                         None))
        ref_wall, ref_cpu = rows[0][1]
        print(f"{'per boosting round':<38}{'wall ms':>9}{'x lr':>7}{'CPU ms':>9}{'x lr':>7}{'grad ms':>9}"
              f"{'grad CPU':>10}{'nDCG@10':>9}")
        for name, (wall, cpu), ndcg, grad in rows:
            g = f"{grad[0] * 1e3:>9.1f}{grad[1] * 1e3:>10.1f}" if grad else f"{'':>9}{'':>10}"
            print(f"{name:<38}{wall * 1e3:>9.1f}{wall / ref_wall:>7.2f}{cpu * 1e3:>9.1f}{cpu / ref_cpu:>7.2f}{g}"
                  f"{ndcg:>9.4f}")


if __name__ == "__main__":
    main()
