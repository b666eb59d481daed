"""Calibration on real trained models (issue 13, item 6): A/A pairs of one objective with disjoint seed sets.

    python benchmarks/bench_calibration_real.py experiments/mq2008.toml --pairs 100
    python benchmarks/bench_calibration_real.py experiments/synthetic_web.toml --pairs 100

For every fold of the experiment's data (prepared as ``ltr run`` prepares it), ``2 x pairs x seeds`` models of
one objective (default LightGBM lambdarank, trained on the primary metric's gain as the runner trains it) are
trained with distinct seeds (row and feature subsampling 0.8, as the experiments' defaults) and evaluated on
the fold's test queries with the primary metric. Pair r is system A (seeds block 2r) against system B (block
2r + 1): two systems of the same objective, so every rejection is a false positive of a test that generalises
over seeds. Per pair: the run-level test (whole runs permuted within folds) and the per-query paired t-test
(queries of all folds pooled, values averaged over each system's seeds, as the report pairs them).

The run-level test's false-positive rate at alpha must lie in the binomial 95% interval of alpha. The per-query
test is conditional on the trained models: its A/A rate is the share of pairs in which pure seed noise reads
as a significant difference, not a calibration failure. Power: each pair's A runs are then shifted by the
effect ``mde_run_level`` states for that pair (80% power at alpha), a known shift of every score of one
system on all of its queries, and the share of pairs in which the run-level test detects it must lie in the
binomial 95% interval of 0.8. ``--frame FILE`` keeps the per-query values (CSV) and ``--from-frame FILE``
computes the figures from such a file without training.

Models are small (``--n-estimators`` rounds, no early stopping) so that 100 pairs fit a shared CPU: the seed
noise of such models is larger than that of the tuned models of a report, which makes the per-query test's
A/A rate an upper figure; the run-level test's level does not depend on it (it is exact by construction).
For models as the experiment trains them, pass ``--n-estimators 1000 --early-stopping 50`` (hours).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ltr.experiment import load_experiment
from ltr.experiment.data import prepare
from ltr.experiment.protocol import training_objective


def aa_frame(exp, *, pairs: int, seeds: int, objective: str, backend: str, n_estimators: int,
             early_stopping: int | None, first_seed: int, folds: int | None, cache_dir, progress: bool = True):
    """Per-query primary-metric values of the A/A pairs: ``pair, system, fold, seed, qid, value``."""
    from ltr.metrics import evaluate
    from ltr.models import Ranker
    from ltr.objectives import get_objective

    data = prepare(exp, cache_dir=cache_dir)
    chosen = data.folds[:folds] if folds else data.folds
    labels = np.concatenate([f.train.labels for f in chosen])
    obj = training_objective(get_objective(objective), exp.primary, int(np.nanmax(labels)),
                             align=exp.protocol.align_gain)
    n_models = 2 * pairs * seeds
    frames = []
    bar = tqdm(total=n_models * len(chosen), desc=f"{exp.name} A/A", unit="model", disable=not progress)
    for fold in chosen:
        for m in range(n_models):
            seed = first_seed + m
            ranker = Ranker(objective=obj, backend=backend, n_estimators=n_estimators, learning_rate=0.1,
                            subsample=0.8, colsample=0.8, n_jobs=1, random_state=seed,
                            early_stopping_rounds=early_stopping, eval_metric=exp.primary)
            ranker.fit(fold.train, valid=fold.valid if early_stopping else None)
            values = evaluate(fold.qrels, ranker.predict(fold.test), [exp.primary],
                              missing_queries=fold.missing_queries)
            block = m // seeds
            frames.append(pd.DataFrame({"pair": block // 2, "system": "AB"[block % 2], "fold": fold.name,
                                        "seed": seed, "qid": values["qid"].to_numpy(),
                                        "value": values["value"].to_numpy()}))
            bar.update()
    bar.close()
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    from ltr import stats as S

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment")
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per system and fold (default 3)")
    parser.add_argument("--objective", default="lambdarank")
    parser.add_argument("--backend", default="lightgbm")
    parser.add_argument("--n-estimators", type=int, default=20)
    parser.add_argument("--early-stopping", type=int, default=None)
    parser.add_argument("--folds", type=int, default=None, help="use the first FOLDS folds only")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--cache", default=None, help="feature cache of a raw collection (reused)")
    parser.add_argument("--csv", default=None, help="write the per-pair results here")
    parser.add_argument("--frame", default=None, help="write the per-query values of every model here (CSV)")
    parser.add_argument("--from-frame", default=None, help="read the per-query values from --frame's file")
    args = parser.parse_args()
    exp = load_experiment(args.experiment)
    started = time.perf_counter()
    if args.from_frame:
        frame = pd.read_csv(args.from_frame, dtype={"qid": str, "fold": str, "system": str})
        args.pairs = int(frame["pair"].nunique())
        args.seeds = int(frame.groupby(["pair", "system", "fold"])["seed"].nunique().max())
    else:
        frame = aa_frame(exp, pairs=args.pairs, seeds=args.seeds, objective=args.objective, backend=args.backend,
                         n_estimators=args.n_estimators, early_stopping=args.early_stopping,
                         first_seed=args.first_seed, folds=args.folds,
                         cache_dir=Path(args.cache) if args.cache else None)
    if args.frame:
        frame.to_csv(args.frame, index=False)
    trained = time.perf_counter() - started
    results = S.calibrate_pairs(frame, tests=("run_level", "paired_t"), alpha=args.alpha, seed=0)
    summary = S.summarize_calibration(results, alpha=args.alpha)
    if args.csv:
        results.to_csv(args.csv, index=False)
    n_folds = frame["fold"].nunique()
    n_q = frame.groupby("fold")["qid"].nunique().sum()
    floor = S.run_level_floor(args.seeds, args.seeds, n_folds=n_folds)
    # a frame keeps no training settings: with --from-frame the flags given now would describe nothing
    training = (f"values read from {args.from_frame} (trained as when it was written)" if args.from_frame else
                f"{args.backend}/{args.objective}, {args.n_estimators} rounds"
                f"{f', early stopping {args.early_stopping}' if args.early_stopping else ', no early stopping'}")
    print(f"# {exp.name}: {args.pairs} A/A pairs, {args.seeds} seeds per system and fold, {n_folds} folds, "
          f"{n_q} test queries, {training}; primary metric {exp.primary} ({date.today()}, {os.cpu_count()} "
          f"cores, shared CPU{'' if args.from_frame else f'; training {trained / 60:.1f} min'})")
    print(f"run-level design: {floor.n_labelings} labelings ({floor.method}), floor {floor.p_floor:.2g}")
    seed_sd = frame.groupby(["pair", "system", "fold", "seed"])["value"].mean().groupby(["fold"]).std().mean()
    print(f"seed noise: sd of a run's mean {exp.primary} within a fold {seed_sd:.4f}")
    for row in summary.itertuples(index=False):
        role = ("calibration (must lie in the interval)" if row.test == "run_level"
                else "the seed noise it is conditional on (not a calibration check)")
        print(f"{row.test:10s} false positives {row.rejected}/{row.n} = {row.rate:.3f}, binomial 95% interval "
              f"of {args.alpha:g}: [{row.low:.3f}, {row.high:.3f}] -> "
              f"{'within' if row.within else 'OUTSIDE'}  ({role})")
    detected, effects = [], []
    for _, sub in S.run_values(frame, runs=("pair", "system", "fold", "seed")).groupby("pair"):
        a, b = sub[sub["system"] == "A"], sub[sub["system"] == "B"]
        folds_a, folds_b = a["fold"].to_numpy(), b["fold"].to_numpy()
        mde = S.mde_run_level(a["value"].to_numpy(), b["value"].to_numpy(), folds_a=folds_a, folds_b=folds_b,
                              alpha=args.alpha, seed=0).effect
        effects.append(mde)
        detected.append(S.run_level_test(a["value"].to_numpy() + mde, b["value"].to_numpy(), folds_a=folds_a,
                                         folds_b=folds_b).pvalue if np.isfinite(mde) else np.nan)
    if not np.isfinite(effects).any():
        print(f"run_level  power: no finite MDE (the design's floor {floor.p_floor:.2g} is above {args.alpha:g})")
        return
    check = S.rejection_rate(detected, alpha=args.alpha, expected=0.8)
    print(f"run_level  power at the stated MDE (median {np.median(effects):.4f}): detected {check.rejected}/"
          f"{check.n} = {check.rate:.3f}, binomial 95% interval of 0.8: [{check.low:.3f}, {check.high:.3f}] -> "
          f"{'within' if check.within else 'OUTSIDE'}")


if __name__ == "__main__":
    main()
