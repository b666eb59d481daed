"""Time a whole experiment and the runner's own overhead (everything but training and evaluation).

    python benchmarks/bench_experiment.py experiments/mq2008.toml --out /tmp/mq2008-bench

Prints the wall time, the time spent training (tuning included) and evaluating, and the runner's overhead as
a share of the wall time (goal: under 5%), from the timings the runner records in manifest.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ltr.experiment import load_experiment, run_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    exp = load_experiment(args.experiment)
    started = time.perf_counter()
    out = run_experiment(exp, args.out, overwrite=True, progress=True)
    wall = time.perf_counter() - started
    timings = json.loads((Path(out) / "manifest.json").read_text())["timings_seconds"]
    n_cells = len(list(Path(out).glob("cells/*/*/seed*/cell.json")))
    print(f"experiment {exp.name}: {len(exp.systems())} systems, {n_cells} cells, budget {exp.tuning.budget}")
    print(f"wall (data, cells and report): {wall:8.1f} s")
    for key in ("prepare", "train", "evaluate", "write", "runner_overhead"):
        print(f"  {key:<16} {timings[key]:8.1f} s")
    print(f"runner overhead over the cells: {timings['runner_overhead'] / timings['cells_wall']:.2%} "
          f"(writing files {timings['write']:.1f} s included)")


if __name__ == "__main__":
    main()
