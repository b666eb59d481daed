"""Statistics: ltr.stats against scipy.stats on MQ2008-sized data, and ltr.report.compare end to end.

Run:  python benchmarks/bench_stats.py [--queries 784] [--resamples 10000] [--systems 14]

Per-query values are random in [0, 1] rounded to 0.1 steps (IR-like: many zero and tied differences).
Each row times one paired comparison of two systems both ways, checks the answers agree (p-values or
interval ends, max abs difference), and reports the ratio scipy / ours:

- randomization: ltr.stats.randomization_test vs scipy.stats.permutation_test(permutation_type='samples')
  with the same number of resamples (the p-values differ by Monte-Carlo error only: different random draws);
- bootstrap: ltr.stats.bootstrap_ci vs scipy.stats.bootstrap(np.mean, method='percentile'/'BCa'), same
  seed, hence the same resamples and the same interval;
- wilcoxon / t-test: ltr.stats vs scipy.stats.wilcoxon / ttest_rel (closed form; equal to 1e-10).

Issue 13 rows (second table): the run-level test (one fold of 10 + 10 runs against scipy's independent
permutation test; the shipped design, 5 folds x 3 + 3 runs), the randomised Tukey HSD on --queries x --systems
(numba kernel against its numpy reference: no Python library has the randomised version; statsmodels'
pairwise_tukeyhsd, the parametric studentized-range test, is timed for scale), the paired t-test's MDE against
statsmodels' TTestPower.solve_power, TOST against statsmodels' ttost_paired, and the simulated MDEs.

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

    issue13(args, a, b, rng)

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


def issue13(args, a, b, rng) -> None:
    """Timings of the issue-13 statistics, each against its reference where one exists."""
    from statsmodels.stats.multicomp import pairwise_tukeyhsd
    from statsmodels.stats.power import TTestPower
    from statsmodels.stats.weightstats import ttost_paired

    n, B, k = args.queries, args.resamples, args.systems
    rows = []

    def row(name, ours, ref, agree):
        rows.append((name, ours, ref, (ref / ours) if ref == ref else float("nan"), agree))

    x, y = rng.normal(0.61, 0.01, 10), rng.normal(0.60, 0.01, 10)
    t_ours, o = best_of(lambda: S.run_level_test(x, y, n_resamples=B, seed=0), args.repeat)
    t_ref, r = best_of(lambda: ss.permutation_test(
        (x, y), lambda u, v, axis: np.mean(u, axis=axis) - np.mean(v, axis=axis), permutation_type="independent",
        n_resamples=B, vectorized=True, rng=np.random.default_rng(0)), args.repeat)
    row(f"run-level, 1 fold 10+10 ({B:,})", t_ours, t_ref, f"p {o.pvalue:.4f} vs {r.pvalue:.4f} (MC)")
    folds = np.repeat(np.arange(5), 3)
    x, y = rng.normal(0.61, 0.01, 15), rng.normal(0.60, 0.01, 15)
    t_ours, o = best_of(lambda: S.run_level_test(x, y, folds_a=folds, folds_b=folds, n_resamples=B), args.repeat)
    row(f"run-level, 5 folds x 3+3 ({B:,})", t_ours, float("nan"), f"floor {o.p_floor:.1e}, no reference")
    matrix = np.round(rng.random((n, k)), 1)
    S.tukey_hsd(matrix[:5], n_resamples=10)                                   # compile the kernel once
    t_ours, o = best_of(lambda: S.tukey_hsd(matrix, n_resamples=B, seed=0), args.repeat)
    t_ref, r = best_of(lambda: S.tukey_matrix(matrix, n_resamples=B, seed=0, use_numba=False), 1)
    same = np.array_equal(o.p_value.to_numpy(), r[1][np.triu_indices(k, 1)])
    row(f"Tukey HSD {n}x{k} ({B:,}) vs numpy ref.", t_ours, t_ref, f"same p-values: {same}")
    long_values, groups = matrix.T.ravel(), np.repeat(np.arange(k), n)
    t_ref, _ = best_of(lambda: pairwise_tukeyhsd(long_values, groups), args.repeat)
    row("  (statsmodels parametric HSD)", t_ours, t_ref, "another test: time for scale")
    t_ours, o = best_of(lambda: S.mde_paired(a, b), args.repeat)
    sd = np.std(a - b, ddof=1)
    t_ref, r = best_of(lambda: TTestPower().solve_power(nobs=n, alpha=0.05, power=0.8) * sd, args.repeat)
    row("MDE, paired t (noncentral)", t_ours, t_ref, f"rel. diff {abs(o.effect - r) / r:.1e}")
    t_ours, o = best_of(lambda: S.tost_paired(a, b, margin=0.02), args.repeat)
    t_ref, r = best_of(lambda: ttost_paired(a, b, -0.02, 0.02), args.repeat)
    row("TOST, paired", t_ours, t_ref, f"|diff| {abs(o.pvalue - r[0]):.1e}")
    t_ours, o = best_of(lambda: S.mde_paired(a, b, test="randomization", n_resamples=B), 1)
    row(f"MDE, randomization (1,000 sims x {B:,})", t_ours, float("nan"), f"{o.effect:.4f} (t: "
        f"{S.mde_paired(a, b).effect:.4f})")
    t_ours, o = best_of(lambda: S.mde_run_level(x, y, folds_a=folds, folds_b=folds, n_resamples=B), 1)
    row(f"MDE, run level 5x(3+3) (1,000 x {B:,})", t_ours, float("nan"), f"{o.effect:.4f}")
    small = matrix[:, :5]
    t_ours, o = best_of(lambda: S.mde_tukey(small, n_resamples=B), 1)
    row(f"MDE, Tukey {n}x5, 10 pairs (1,000 x {B:,})", t_ours, float("nan"), f"median {o.mde.median():.4f}")
    print(f"\nissue 13: {n} queries; best of {args.repeat} (MDE rows: one run)")
    print(f"{'':40s} {'ours s':>9s} {'ref s':>9s} {'ratio':>7s}  agreement")
    for name, ours, ref, ratio, agree in rows:
        ref_s = f"{ref:9.4f}" if ref == ref else f"{'-':>9s}"
        ratio_s = f"{ratio:6.1f}x" if ratio == ratio else f"{'-':>7s}"
        print(f"{name:40s} {ours:9.4f} {ref_s} {ratio_s}  {agree}")


if __name__ == "__main__":
    main()
