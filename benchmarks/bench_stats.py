"""Statistics: ltr.stats against scipy.stats on MQ2008-sized data, and ltr.report.compare end to end.

Run:  /work/venv/bin/python benchmarks/bench_stats.py [--queries 784] [--resamples 10000] [--systems 14]

Per-query values are random in [0, 1] rounded to 0.1 steps (IR-like: many zero and tied differences).
Each row times one paired comparison of two systems both ways, checks the answers agree (p-values or
interval ends, max abs difference), and reports the ratio scipy / ours:

- randomization: ltr.stats.randomization_test vs scipy.stats.permutation_test(permutation_type='samples')
  with the same number of resamples (the p-values differ by Monte-Carlo error only: different random draws);
- bootstrap: ltr.stats.bootstrap_ci vs scipy.stats.bootstrap(np.mean, method='percentile'/'BCa'), same
  seed, hence the same resamples and the same interval;
- wilcoxon / t-test: ltr.stats vs scipy.stats.wilcoxon / ttest_rel (closed form; equal to 1e-10).

Last row: ltr.report.compare over --systems systems x 4 metrics x --queries queries (bootstrap CIs of means
and deltas, randomization test, Holm) — the cost of one experiment report's statistics.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import scipy.stats as ss

from ltr import stats as S
from ltr.report import compare


def best_of(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=784)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--systems", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, B = args.queries, args.resamples
    rng = np.random.default_rng(0)
    a = np.round(rng.random(n), 1)
    b = np.clip(np.round(a + rng.normal(0.02, 0.2, n), 1), 0, 1)

    rows = []

    def row(name, ours, ref, agree):
        rows.append((name, ours, ref, ref / ours, agree))

    t_ours, o = best_of(lambda: S.randomization_test(a, b, n_resamples=B, seed=0), args.repeat)
    t_ref, r = best_of(lambda: ss.permutation_test(
        (a, b), lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples", n_resamples=B,
        vectorized=True, rng=np.random.default_rng(0)), args.repeat)
    row(f"randomization ({B:,} flips)", t_ours, t_ref, f"p {o.pvalue:.4f} vs {r.pvalue:.4f} (MC)")
    for method, sp in (("percentile", "percentile"), ("bca", "BCa")):
        t_ours, o = best_of(lambda: S.bootstrap_ci(a, n_resamples=B, seed=1, method=method), args.repeat)
        t_ref, r = best_of(lambda: ss.bootstrap((a,), np.mean, n_resamples=B, method=sp,
                                                rng=np.random.default_rng(1)).confidence_interval, args.repeat)
        diff = max(abs(o.low - r.low), abs(o.high - r.high))
        row(f"bootstrap {method} ({B:,})", t_ours, t_ref, f"max |diff| {diff:.1e}")
    t_ours, o = best_of(lambda: S.wilcoxon_test(a, b), args.repeat)
    t_ref, r = best_of(lambda: ss.wilcoxon(a, b), args.repeat)
    row("wilcoxon (normal approx.)", t_ours, t_ref, f"|diff| {abs(o.pvalue - r.pvalue):.1e}")
    t_ours, o = best_of(lambda: S.paired_t_test(a, b), args.repeat)
    t_ref, r = best_of(lambda: ss.ttest_rel(a, b), args.repeat)
    row("paired t-test", t_ours, t_ref, f"|diff| {abs(o.pvalue - r.pvalue):.1e}")

    print(f"{n} queries; best of {args.repeat}")
    print(f"{'':32s} {'ours s':>9s} {'scipy s':>9s} {'ratio':>7s}  agreement")
    for name, ours, ref, ratio, agree in rows:
        print(f"{name:32s} {ours:9.4f} {ref:9.4f} {ratio:6.1f}x  {agree}")

    metrics = ["nDCG@5", "nDCG@10", "P@10", "AP"]
    frame = pd.DataFrame({
        "system": np.repeat([f"sys{i}" for i in range(args.systems)], n * len(metrics)),
        "qid": np.tile(np.repeat([str(q) for q in range(n)], len(metrics)), args.systems),
        "metric": np.tile(metrics, n * args.systems),
        "value": np.round(rng.random(n * len(metrics) * args.systems), 1),
    })
    # wall and CPU time: on a shared machine the CPU time is the figure that does not depend on the load
    c = time.process_time()
    t, report = best_of(lambda: compare(frame, baseline="sys0", test="randomization", n_resamples=B), 1)
    print(f"compare(): {args.systems} systems x {len(metrics)} metrics x {n} queries, randomization + bootstrap "
          f"({B:,}): {t:.2f} s wall, {time.process_time() - c:.2f} s CPU")
    c = time.process_time()
    t, _ = best_of(lambda: report.to_html(), 1)
    print(f"Report.to_html() with {len(report.figures())} figures: {t:.2f} s wall, "
          f"{time.process_time() - c:.2f} s CPU")


if __name__ == "__main__":
    main()
