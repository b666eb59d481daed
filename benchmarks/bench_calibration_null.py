"""Calibration of the statistics on simulated experiments (issue 13, item 6): the full counts behind
tests/stats/test_calibration.py.

Run:  python benchmarks/bench_calibration_null.py [--pairs 1000] [--power-pairs 300] [--tukey 1000] [--plot FILE]

Simulated experiments (ltr.stats.simulate_experiment) have the structure of a real one: test queries with
their own difficulty (sd 0.2) split into folds, systems x seeds, whole-run seed noise (a shift of all of a run's
queries, drawn anew per fold: ``run_sd``) and per-query seed noise (sd 0.1). An A/A pair is one objective with
two disjoint seed sets. Everything is at alpha = 0.05; "interval" is the central binomial 95% interval of the
expected count.

1. A/A false-positive rates: the run-level test (whole runs relabelled within folds), and the per-query paired
   t-test and randomization test on seed-averaged values (queries of all folds pooled, as reports pair them),
   at four levels of whole-run seed noise, on the shipped experiments' design (5 folds x 3 seeds, 200 queries)
   and on two others.
2. Randomised Tukey HSD on null data (200 queries x 5 exchangeable systems): the family-wise error rate.
3. Power: each comparison gets an injected effect equal to the MDE its data state (a shift of 2 x MDE on half of
   each fold's queries of one system, so its mean rises by the MDE; for the per-query tests, whose differences
   gain variance from such a shift, the MDE is recomputed on the data with the effect, twice); the detection
   rate must lie in the binomial interval of 0.8.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date

import numpy as np

from ltr import stats as S
from ltr.stats.calibration import calibrate_pairs, rejection_rate

SHIPPED = dict(n_queries=200, n_folds=5, seeds_per_system=3, query_sd=0.2, run_query_sd=0.1)


def pairs_frame(R, *, effect=None, **kw):
    """R A/A (or A/B) pairs: systems 2r and 2r+1 of one simulated experiment (their query effects cancel)."""
    shifts = np.zeros(2 * R)
    if effect is not None:
        shifts[0::2] = effect
    frame = S.simulate_experiment(n_systems=2 * R, effect=shifts, effect_fraction=0.5, **kw)
    index = frame["system"].str[1:].astype(int)
    frame["pair"] = index // 2
    frame["system"] = np.where(index % 2 == 0, "A", "B")
    return frame


def fmt(check):
    mark = "yes" if check.within else "**no**"
    return f"{check.rejected}/{check.n} = {check.rate:.3f} [{check.low:.3f}, {check.high:.3f}] {mark}"


def section_null(args, rows):
    print(f"\n1. A/A false-positive rates, {args.pairs} pairs each (alpha 0.05; interval: binomial 95% of 0.05)")
    print(f"{'design':34s} {'run_sd':>7s}  {'run-level test':34s} {'paired t (per query)':34s} randomization")
    designs = [("5 folds x 3 seeds, 200 q (shipped)", SHIPPED, (0.0, 0.005, 0.01, 0.02)),
               ("1 fold x 5 seeds, 200 q", dict(SHIPPED, n_folds=1, seeds_per_system=5), (0.01,)),
               ("2 folds x 4 seeds, 100 q", dict(SHIPPED, n_queries=100, n_folds=2, seeds_per_system=4), (0.01,))]
    for name, design, levels in designs:
        for run_sd in levels:
            t = time.perf_counter()
            res = calibrate_pairs(pairs_frame(args.pairs, run_sd=run_sd, seed=args.seed, **design),
                                  tests=["run_level", "paired_t", "randomization"], n_resamples=args.resamples,
                                  seed=args.seed)
            checks = {test: rejection_rate(res[res.test == test].p_value) for test in res.test.unique()}
            print(f"{name:34s} {run_sd:7.3f}  {fmt(checks['run_level']):34s} {fmt(checks['paired_t']):34s} "
                  f"{fmt(checks['randomization'])}   ({time.perf_counter() - t:.0f} s)")
            rows.append(("A/A", name, run_sd, checks))


def section_tukey(args, rows):
    print(f"\n2. Randomised Tukey HSD on null data: {args.tukey} experiments, 200 queries x 5 systems, "
          f"{args.tukey_resamples} permutations")
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    hits = []
    for r in range(args.tukey):
        x = rng.normal(0, 0.2, (200, 1)) + rng.normal(0.5, 0.1, (200, 5))
        p = S.tukey_hsd(x, n_resamples=args.tukey_resamples, seed=r).p_value
        hits.append(float(p.min()))
    check = rejection_rate(hits)
    print(f"family-wise error rate (any of 10 pairs at p <= 0.05): {fmt(check)}   ({time.perf_counter() - t:.0f} s)")
    rows.append(("Tukey FWER", "200 q x 5 systems", 0.0, {"tukey_hsd": check}))


def _injected(test, R, run_sd, design, args, iterations):
    kw = dict(design, run_sd=run_sd, seed=args.seed + 1)
    effect = None
    for _ in range(iterations):
        stated = calibrate_pairs(pairs_frame(R, effect=effect, **kw), tests=[test], mde=True,
                                 n_simulations=args.simulations, n_resamples=args.resamples, seed=args.seed)
        mde = stated.sort_values("pair")["mde"].to_numpy()
        effect = 2 * mde
    res = calibrate_pairs(pairs_frame(R, effect=effect, **kw), tests=[test], n_resamples=args.resamples,
                          seed=args.seed + 2)
    return rejection_rate(res.p_value, expected=0.8), float(np.median(mde))


def section_power(args, rows):
    R = args.power_pairs
    print(f"\n3. Injected effects equal to the stated MDE (80% power at 0.05), {R} pairs each "
          f"(interval: binomial 95% of 0.8)")
    cases = [("run_level", 0.01, SHIPPED, 1), ("run_level", 0.01, dict(SHIPPED, seeds_per_system=5), 1),
             ("paired_t", 0.0, SHIPPED, 3), ("randomization", 0.0, SHIPPED, 2)]
    for test, run_sd, design, iterations in cases:
        t = time.perf_counter()
        check, mde = _injected(test, R, run_sd, design, args, iterations)
        name = f"{design['n_folds']} folds x {design['seeds_per_system']} seeds, {design['n_queries']} q"
        print(f"{test:14s} {name:26s} run_sd {run_sd:.3f}  median MDE {mde:.4f}  detected {fmt(check)}   "
              f"({time.perf_counter() - t:.0f} s)")
        rows.append(("power", f"{test}: {name}", run_sd, {test: check}))
    # Tukey: pair (s0, s1) of 5 systems, MDE from each experiment's own matrix, the effect on half the queries
    t = time.perf_counter()
    rng = np.random.default_rng(args.seed + 3)
    hits, mdes = [], []
    half = np.arange(200) < 100
    for r in range(args.power_tukey):
        base = rng.normal(0, 0.2, (200, 1)) + rng.normal(0.5, 0.1, (200, 5))
        x = base
        for _ in range(2):
            mde = S.mde_tukey(x, pairs=[("s0", "s1")], n_simulations=args.simulations,
                              n_resamples=args.tukey_resamples, seed=r).mde[0]
            x = base.copy()
            x[half, 0] += 2 * mde
        mdes.append(mde)
        hits.append(S.tukey_hsd(x, n_resamples=args.tukey_resamples, seed=10_000 + r).p_value[0])
    check = rejection_rate(hits, expected=0.8)
    print(f"{'tukey_hsd':14s} {'200 q x 5 systems':26s} {'':12s}  median MDE {np.median(mdes):.4f}  detected "
          f"{fmt(check)}   ({time.perf_counter() - t:.0f} s)")
    rows.append(("power", "tukey_hsd: 200 q x 5 systems", 0.0, {"tukey_hsd": check}))


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    aa = [(sd, c) for kind, name, sd, c in rows if kind == "A/A" and "shipped" in name]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for test, label in (("run_level", "run-level test"), ("paired_t", "paired t (per query)"),
                        ("randomization", "randomization (per query)")):
        ax.plot([sd for sd, _ in aa], [c[test].rate for _, c in aa], marker="o", label=label)
    lo, hi = aa[0][1]["run_level"].low, aa[0][1]["run_level"].high
    ax.axhspan(lo, hi, color="grey", alpha=0.2, label="binomial 95% interval of 0.05")
    ax.set_xlabel("whole-run seed noise (sd of a run's shift)")
    ax.set_ylabel("A/A rejection rate at 0.05")
    ax.set_title("5 folds x 3 seeds, 200 queries")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"\nplot written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000, help="A/A pairs per design and noise level")
    parser.add_argument("--tukey", type=int, default=1000, help="null experiments for the Tukey HSD")
    parser.add_argument("--power-pairs", type=int, default=300, help="pairs per power case")
    parser.add_argument("--power-tukey", type=int, default=200, help="experiments for the Tukey power case")
    parser.add_argument("--resamples", type=int, default=2000,
                        help="labelings / sign flips per test (Monte-Carlo error of a p-value near 0.05: 0.005)")
    parser.add_argument("--tukey-resamples", type=int, default=1000)
    parser.add_argument("--simulations", type=int, default=300, help="simulated experiments per MDE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="write the A/A rates against seed noise to this PNG")
    args = parser.parse_args()
    print(f"{date.today()}, {platform.node()}, Python {platform.python_version()}; alpha 0.05")
    rows = []
    start = time.perf_counter()
    section_null(args, rows)
    section_tukey(args, rows)
    section_power(args, rows)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
