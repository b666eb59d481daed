"""Raw versus scale-aware search (issue 13, item 1): does any conclusion of an experiment change?

    python benchmarks/bench_protocol.py experiments/synthetic_web.toml --out /tmp/protocol-web
    python benchmarks/bench_protocol.py experiments/mq2008.toml --out /tmp/protocol-mq2008 \
        --budget 4 --backends lightgbm --objectives lambdarank ranknet rank_xendcg regression

Runs the experiment twice, once with ``[protocol] search = "raw"`` (every configuration in the backend's own
units, the same for every objective) and once with ``search = "scale-aware"`` (hessian-unit regularisers
relative to each objective's own hessian scale), into ``OUT/raw`` and ``OUT/scale-aware`` (each resumable:
run the command again after an interruption), builds both reports and prints, per comparison with the
baseline on the primary metric, the difference and the verdict of the per-query and the run-level test under
each protocol, and whether the verdict changed. ``--budget``, ``--objectives``, ``--backends``, ``--seeds``, ``--n-estimators`` and ``--folds``
override the declaration (smaller runs on a shared machine; the output says what was overridden).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date
from pathlib import Path

import pandas as pd

from ltr.experiment import load_experiment, run_experiment
from ltr.experiment.reporting import build_report
from ltr.experiment.spec import Experiment


def variant(exp: Experiment, search: str, args) -> Experiment:
    data = exp.to_dict()
    data["protocol"] = {**data.get("protocol", {}), "search": search}
    if args.budget is not None:
        data["tuning"] = {**data.get("tuning", {}), "budget": args.budget}
    if args.folds is not None:
        data["data"] = {**data["data"], "folds": list(args.folds)}
    if args.n_estimators is not None:
        data["training"] = {**data.get("training", {}), "n_estimators": args.n_estimators}
    for key in ("objectives", "backends", "seeds"):
        if getattr(args, key) is not None:
            data[key] = list(getattr(args, key))
    return Experiment.from_dict(data, base_dir=exp.base_dir)


COLUMNS = {"": ("per-query p", "delta"), "run_": ("run-level p", "run-level delta")}


def verdict(row, prefix: str, alpha: float) -> str:
    """better / worse / n.s. of one test, from a row of the report's protocol.csv."""
    p_col, d_col = COLUMNS[prefix]
    p = row.get(p_col)
    if p is None or pd.isna(p):
        return "-"
    if p <= alpha:
        return "better" if row[d_col] > 0 else "worse"
    return "n.s."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment")
    parser.add_argument("--out", required=True)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--objectives", nargs="+")
    parser.add_argument("--backends", nargs="+")
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--n-estimators", type=int)
    parser.add_argument("--folds", nargs="+", help="LETOR folds to run (data.folds), e.g. Fold1 Fold2")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", choices=["raw", "scale-aware"],
                        help="run one protocol only (run the command twice in parallel, then once without it)")
    args = parser.parse_args()
    exp = load_experiment(args.experiment)
    tables, walls = {}, {}
    for search in ("raw", "scale-aware"):
        run = variant(exp, search, args)
        out = Path(args.out) / search
        started = time.perf_counter()
        if args.only and args.only != search:
            continue
        run_experiment(run, out, progress=True, build_report=False, jobs=args.jobs)
        build_report(out)
        walls[search] = time.perf_counter() - started
        tables[search] = pd.read_csv(out / "protocol.csv")
    if args.only:
        return
    overrides = {k: getattr(args, k) for k in ("budget", "objectives", "backends", "seeds", "n_estimators", "folds")
                 if getattr(args, k) is not None}
    print(f"# {exp.name}: raw vs scale-aware search ({date.today()}, {os.cpu_count()} cores, shared CPU)")
    print(f"overrides of the declaration: {json.dumps(overrides) if overrides else 'none'}; "
          f"wall: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in walls.items()))
    raw, aware = (tables[s].set_index("system") for s in ("raw", "scale-aware"))
    alpha = exp.alpha
    print(f"primary metric {exp.primary}, baseline {exp.baseline}, alpha {alpha:g} (corrected p-values)")
    header = ("system", "raw delta", "raw per-query", "raw run-level", "aware delta", "aware per-query",
              "aware run-level", "changed")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    changed = 0
    for system in aware.index:
        if system not in raw.index:
            continue
        r, a = raw.loc[system], aware.loc[system]
        verdicts = [verdict(r, "", alpha), verdict(r, "run_", alpha), verdict(a, "", alpha), verdict(a, "run_", alpha)]
        diff = verdicts[:2] != verdicts[2:]
        changed += diff
        print(f"| {system} | {r['delta']:+.4f} | {verdicts[0]} (p {r['per-query p']:.3g}) | {verdicts[1]} "
              f"(p {r.get('run-level p', float('nan')):.3g}) | {a['delta']:+.4f} | {verdicts[2]} "
              f"(p {a['per-query p']:.3g}) | {verdicts[3]} (p {a.get('run-level p', float('nan')):.3g}) | "
              f"{'**yes**' if diff else 'no'} |")
    print(f"verdicts changed: {changed} of {len(aware.index)} comparisons")


if __name__ == "__main__":
    main()
