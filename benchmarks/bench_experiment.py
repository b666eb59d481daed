"""Time a whole experiment and the runner's own overhead (everything but training and evaluation).

    python benchmarks/bench_experiment.py experiments/mq2008.toml --out /tmp/mq2008-bench
    python benchmarks/bench_experiment.py experiments/mq2008.toml --out /tmp/mq2008-jobs --jobs 1 2

Prints the wall time, the time spent training (tuning included) and evaluating, and the runner's overhead as
a share of the wall time (goal: under 5%), from the timings the runner records in manifest.json.

With several ``--jobs`` values the experiment runs once per value (``ltr run --jobs N``, each into its own
folder under ``--out``), in the order given, and the script prints the wall-time ratio against the first and
checks that every cell's per-query metrics, run and model files are the same bytes in every folder.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ltr.experiment import load_experiment, run_experiment

#: Files whose bytes must not depend on the number of worker processes.
COMPARED = ("cells/**/per_query.csv", "runs/**/*.trec", "cells/**/model/model.*", "metrics.csv")


def _run(exp, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    run_experiment(exp, out, overwrite=True, progress=True, jobs=jobs)
    wall = time.perf_counter() - started
    timings = json.loads((out / "manifest.json").read_text())["timings_seconds"]
    n_cells = len(list(out.glob("cells/**/cell.json")))
    print(f"experiment {exp.name}, --jobs {jobs}: {len(exp.systems())} systems, {n_cells} cells, "
          f"budget {exp.tuning.budget}")
    print(f"wall (data, cells and report): {wall:8.1f} s")
    for key in ("prepare", "train", "evaluate", "write", "runner_overhead"):
        print(f"  {key:<16} {timings[key]:8.1f} s")
    processes = timings.get("processes", 1)     # train/evaluate are summed over the worker processes
    print(f"runner overhead over the cells ({processes} process(es) x wall): "
          f"{timings['runner_overhead'] / (processes * timings['cells_wall']):.2%} "
          f"(writing files {timings['write']:.1f} s included)")
    return wall


def _same_bytes(first: Path, other: Path) -> int:
    """Number of compared files (they must exist in both folders with equal bytes; AssertionError otherwise)."""
    n = 0
    for pattern in COMPARED:
        for path in sorted(first.glob(pattern)):
            twin = other / path.relative_to(first)
            assert twin.is_file(), f"{twin} is missing"
            assert path.read_bytes() == twin.read_bytes(), f"{path.relative_to(first)} differs"
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment")
    parser.add_argument("--out", required=True)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1],
                        help="worker processes; several values run the experiment once per value and compare")
    args = parser.parse_args()
    exp = load_experiment(args.experiment)
    out = Path(args.out)
    if len(args.jobs) == 1:
        _run(exp, out, args.jobs[0])
        return
    walls, folders = {}, {}
    for jobs in args.jobs:
        folders[jobs] = out / f"jobs{jobs}"
        walls[jobs] = _run(exp, folders[jobs], jobs)
    first = args.jobs[0]
    for jobs in args.jobs[1:]:
        n = _same_bytes(folders[first], folders[jobs])
        print(f"--jobs {jobs}: {walls[jobs]:.1f} s wall, {walls[first] / walls[jobs]:.2f}x faster than --jobs "
              f"{first}; {n} files (per-cell metrics, runs, models, metrics.csv) are the same bytes")


if __name__ == "__main__":
    main()
