"""Unbiased learning to rank from clicks (issue 15): training cost per boosting round.

Two goals, one command:

1. Methods on aggregated clicks (``ips_binary``, ``ips_ranknet``): per boosting round on the aggregated
   click set of 10^6 simulated MQ2008 sessions vs the same loss family on the true labels of the same
   queries (``binary`` and ``ranknet``; all documents of the click queries, as the full-information system
   trains, and the same shown rows). Goal: <= 1.5x. The one-off cost of building the set is printed too.
2. Methods on one row per impression (``lambdarank_unbiased`` on XGBoost and ltr's reference on LightGBM,
   ``lambdarank_position`` on LightGBM): time and peak memory per round at 10^4, 10^5, 10^6 sessions, each
   in its own process (peak RSS of that process; the set's feature matrix alone is rows x 46 x 4 bytes).

Setup, stated: MQ2008 Fold1 ``train.txt``, the production protocol of ``ltr.clicks.protocol`` (1% of the
queries train the production ranker, PBM users with eta = 1, top 10, seed 0), one thread (``n_jobs=1``),
LightGBM and XGBoost defaults of the Ranker, ``--rounds`` rounds; per-round time = median of the gaps
between consecutive iterations (a callback's clock), so set-up and the first iteration (numba compilation)
are excluded.

    python benchmarks/bench_ultr.py                        # both parts, 10^6 sessions
    python benchmarks/bench_ultr.py --sizes 10000 100000   # per-impression part at smaller sizes
    python benchmarks/bench_ultr.py --skip-aggregated --skip-impressions --biases 100000   # bias figures
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LTR_SHARED_DATA", REPO.parent / "shared" / "data"))
TRAIN = DATA / "letor4-mq2008" / "MQ2008" / "Fold1" / "train.txt"


def _rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    """Resident set size now (MB; Linux /proc), to see what training adds beyond an earlier peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


class Clock:
    """An ltr callback noting the time after every iteration."""

    order = 5
    before_iteration = False

    def __init__(self):
        self.stamps = []
        self.rss = []

    def __call__(self, env):
        self.stamps.append((time.perf_counter(), time.process_time()))
        self.rss.append(_current_rss_mb())

    def per_round(self) -> tuple[float, float]:
        t = np.asarray(self.stamps)
        if len(t) < 3:
            return float("nan"), float("nan")
        d = np.diff(t, axis=0)[1:]            # drop the first gap (compilation, caches)
        return float(np.median(d[:, 0])), float(np.median(d[:, 1]))


def _fit(objective, backend, ds, rounds):
    from ltr.models import Ranker
    clock = Clock()
    t0 = time.perf_counter()
    Ranker(objective=objective, backend=backend, n_estimators=rounds, early_stopping_rounds=None, n_jobs=1,
           random_state=0).fit(ds, callbacks=[clock])
    wall, cpu = clock.per_round()
    return {"objective": objective, "backend": backend, "rows": len(ds), "round_s": wall, "round_cpu_s": cpu,
            "total_s": time.perf_counter() - t0, "fit_rss_max_mb": max(clock.rss) if clock.rss else float("nan")}


def _protocol(train, sessions):
    from ltr.clicks.protocol import production_protocol
    return production_protocol(train, sessions=sessions, user="pbm(eta=1)", seed=0, n_jobs=1)


def aggregated(args) -> list[dict]:
    from ltr.clicks.training import click_training_set, true_label_set
    from ltr.io import read_letor
    train = read_letor(TRAIN)
    t0 = time.perf_counter()
    out = _protocol(train, args.sessions)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    clicks = click_training_set(out.log, train, propensities=out.propensities)
    t_set = time.perf_counter() - t0
    same_rows = true_label_set(clicks, train)
    all_rows = train.subset_queries(out.click_qids)
    print(f"{args.sessions:,} sessions: simulated in {t_sim:.2f} s; aggregated click set {len(clicks):,} rows "
          f"({clicks.n_queries} queries) built in {t_set:.2f} s; true labels: {len(all_rows):,} rows (all "
          f"documents), {len(same_rows):,} (shown rows)")
    rows = []
    for ips, full in (("ips_binary", "binary"), ("ips_ranknet", "ranknet")):
        for backend in args.backends:
            a = _fit(ips, backend, clicks, args.rounds)
            b = _fit(full, backend, all_rows, args.rounds)
            c = _fit(full, backend, same_rows, args.rounds)
            for r, what in ((a, "clicks"), (b, "true labels, all documents"), (c, "true labels, shown rows")):
                r["data"] = what
                rows.append(r)
            print(f"  {backend:8s} {ips:12s} {a['round_s'] * 1e3:8.2f} ms/round (cpu {a['round_cpu_s'] * 1e3:.2f}) | "
                  f"{full} on true labels: all docs {b['round_s'] * 1e3:8.2f} ms -> ratio "
                  f"{a['round_s'] / b['round_s']:.2f}x (cpu {a['round_cpu_s'] / b['round_cpu_s']:.2f}x); "
                  f"shown rows {c['round_s'] * 1e3:8.2f} ms -> {a['round_s'] / c['round_s']:.2f}x", flush=True)
    return rows


def impression_child(sessions: int, objective: str, backend: str, rounds: int) -> dict:
    from ltr.clicks.training import click_training_set
    from ltr.io import read_letor
    train = read_letor(TRAIN)
    out = _protocol(train, sessions)
    t0 = time.perf_counter()
    ds = click_training_set(out.log, train, aggregate=False)
    t_set = time.perf_counter() - t0
    del out
    before = _current_rss_mb()
    r = _fit(objective, backend, ds, rounds)
    r.update(sessions=sessions, set_s=t_set, x_mb=ds.X.nbytes / 2**20, rss_before_fit_mb=before,
             peak_rss_mb=_rss_mb())
    return r


def per_impression(args) -> list[dict]:
    rows = []
    methods = [("lambdarank_unbiased(truncation_level=10)", "xgboost"),
               ("lambdarank_unbiased(truncation_level=10)", "lightgbm"),
               ("lambdarank_position", "lightgbm")]
    for sessions in args.sizes:
        for objective, backend in methods:
            cmd = [sys.executable, __file__, "--child", json.dumps([sessions, objective, backend, args.rounds])]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            if proc.returncode != 0:
                print(f"  {sessions:>9,} {backend:8s} {objective}: FAILED\n{proc.stderr[-2000:]}", flush=True)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(f"  {sessions:>9,} sessions {r['rows']:>11,} rows {backend:8s} {objective:42s} "
                  f"{r['round_s']:8.3f} s/round (cpu {r['round_cpu_s']:.3f}); X {r['x_mb']:7.1f} MB; RSS before fit "
                  f"{r['rss_before_fit_mb']:.0f} MB, during fit up to {r.get('fit_rss_max_mb', float('nan')):.0f} MB "
                  f"(+{r.get('fit_rss_max_mb', float('nan')) - r['rss_before_fit_mb']:.0f}); process peak "
                  f"{r['peak_rss_mb']:.0f} MB; set built in {r['set_s']:.2f} s", flush=True)
    return rows


def biases(args) -> list[dict]:
    """Position biases estimated on MQ2008 by XGBoost, the reference and LightGBM, beside the truth."""
    from ltr.clicks.protocol import production_protocol
    from ltr.clicks.training import click_training_set
    from ltr.io import read_letor
    from ltr.models import Ranker
    train = read_letor(TRAIN)
    rows = []
    for intervention in (None, "randomize"):
        out = production_protocol(train, sessions=args.biases, user="pbm(eta=1)", seed=0, n_jobs=1,
                                  intervention=intervention)
        ds = click_training_set(out.log, train, aggregate=False)
        print(f"  {args.biases:,} sessions, intervention={intervention}: truth {np.round(out.propensities, 3).tolist()}")
        for objective, backend in (("lambdarank_unbiased(truncation_level=10)", "xgboost"),
                                   ("lambdarank_unbiased(truncation_level=10)", "lightgbm"),
                                   ("lambdarank_position", "lightgbm")):
            r = Ranker(objective=objective, backend=backend, n_estimators=args.bias_rounds, early_stopping_rounds=None,
                       n_jobs=1, random_state=0).fit(ds)
            b = r.position_bias_
            key = "t_plus" if "t_plus" in b else "g"
            vals = np.round(b[key][:10], 3).tolist()
            err = float(np.max(np.abs(np.asarray(b[key][:10]) - out.propensities))) if key == "t_plus" else None
            print(f"    {backend:8s} {objective:42s} {key}: {vals}" + (f"  max |t+ - truth| {err:.3f}" if err is not None else ""),
                  flush=True)
            rows.append({"intervention": intervention, "objective": objective, "backend": backend, key: b[key][:10],
                         "truth": out.propensities.tolist(), "sessions": args.biases})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1_000_000, help="sessions of the aggregated part")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="sessions of the per-impression part")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=["lightgbm", "xgboost"])
    parser.add_argument("--skip-aggregated", action="store_true")
    parser.add_argument("--skip-impressions", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--biases", type=int, default=0, metavar="SESSIONS",
                        help="also print the position biases estimated on MQ2008 at SESSIONS sessions (fixed "
                             "production ranking, and randomised top 10) beside the truth")
    parser.add_argument("--bias-rounds", type=int, default=50)
    parser.add_argument("--json", type=Path, help="write every measured row here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(impression_child(*json.loads(args.child))))
        return
    if not TRAIN.is_file():
        sys.exit(f"needs {TRAIN} (the shared MQ2008 data)")
    import lightgbm
    import xgboost
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores (shared CPU unless idle); lightgbm {lightgbm.__version__}, xgboost "
          f"{xgboost.__version__}; {args.rounds} rounds, 1 thread")
    rows = []
    if not args.skip_aggregated:
        print("== aggregated clicks: IPS per round vs true labels of the same queries (goal <= 1.5x)")
        rows += aggregated(args)
    if not args.skip_impressions:
        print("== one row per impression: time and peak memory per round")
        rows += per_impression(args)
    if args.biases:
        print("== position biases on MQ2008 (PBM eta = 1; bias_norm = 0)")
        rows += biases(args)
    if args.json:
        from ltr.atomic import write_json
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
