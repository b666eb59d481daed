"""Start-up latency of the `ltr` command, cold (a new process every run), like hyperfine: median and max.

Times `ltr --help`, `ltr info` (from its cache, and with an empty one) and `ltr evaluate` of a 10,000-line
run (100 queries x 100 documents, seeded; a 100,000-line run too, which takes the frame path), each against
the same interpreter's bare start-up (`python -c pass`, the floor no Python command can beat) and, when the
binary is found, trec_eval's own `trec_eval qrels run` on the same files. pytrec_eval is not comparable here:
it evaluates in-process and its import alone is what we measure for ours.

    python benchmarks/bench_cli.py                                  # 15 runs of each
    python benchmarks/bench_cli.py --runs 30 --trec-eval /path/to/trec_eval

trec_eval is found as --trec-eval, $TREC_EVAL or `trec_eval` on PATH (build it from
https://github.com/usnistgov/trec_eval with `make`; version 9.0.8 is pytrec_eval's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_trec(folder: Path, n_queries: int, depth: int, seed: int = 0) -> tuple[Path, Path]:
    """A run of `depth` documents per query and qrels judging about 30% of them (labels 0-2)."""
    rng = np.random.default_rng(seed)
    run_lines, qrels_lines = [], []
    for q in range(1, n_queries + 1):
        docs = rng.choice(1_000_000, depth, replace=False)
        scores = rng.random(depth)
        for r, (d, s) in enumerate(zip(docs, scores), start=1):
            run_lines.append(f"{q} Q0 doc{d} {r} {s:.6f} bench\n")
            if rng.random() < 0.3:
                qrels_lines.append(f"{q} 0 doc{d} {rng.integers(0, 3)}\n")
    run, qrels = folder / f"run-{n_queries * depth}.txt", folder / f"qrels-{n_queries * depth}.txt"
    run.write_text("".join(run_lines))
    qrels.write_text("".join(qrels_lines))
    return qrels, run


def time_command(argv: list[str], runs: int, warmup: int = 2) -> tuple[list[float], list[float]]:
    """Wall times and CPU times (user + system) of `runs` fresh processes (after `warmup` untimed ones, for
    the OS file cache). CPU time is less sensitive than wall time to other jobs on the machine."""
    import resource

    for _ in range(warmup):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each command")
    parser.add_argument("--trec-eval", help="path of the trec_eval binary (default: $TREC_EVAL or PATH)")
    args = parser.parse_args()
    ltr = [sys.executable, "-m", "ltr.cli"]
    entry = Path(sys.executable).with_name("ltr")
    if entry.exists():
        ltr = [str(entry)]                                    # the installed console script, as users run it
    trec_eval = args.trec_eval or os.environ.get("TREC_EVAL") or shutil.which("trec_eval")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LTR_CACHE_DIR"] = str(Path(tmp, "cache"))   # `ltr info`'s listing, filled by the warm-up
        qrels, run = write_trec(Path(tmp), 100, 100)
        big_qrels, big_run = write_trec(Path(tmp), 1000, 100, seed=1)
        commands = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "ltr --help": [*ltr, "--help"],
            "ltr info": [*ltr, "info"],
            # the first `ltr info` after installing or editing ltr builds its listing (a shell picks a new
            # empty cache folder for every run; the shell's own start-up is included)
            "ltr info, empty cache": ["sh", "-c", 'LTR_CACHE_DIR="$(mktemp -d)" exec "$@"', "sh", *ltr, "info"],
            "ltr evaluate, 10,000 lines": [*ltr, "evaluate", str(qrels), str(run)],
            "ltr evaluate, 100,000 lines": [*ltr, "evaluate", str(big_qrels), str(big_run)],
        }
        if trec_eval:
            commands["trec_eval, 10,000 lines"] = [trec_eval, str(qrels), str(run)]
            commands["trec_eval, 100,000 lines"] = [trec_eval, str(big_qrels), str(big_run)]
        else:
            print("trec_eval not found (--trec-eval, $TREC_EVAL or PATH): its rows are left out")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{args.runs} cold runs each; load average {load:.1f} at the start; {os.cpu_count()} cores")
        print(f"{'command':34s} {'median':>8s} {'max':>8s} {'min':>8s} {'cpu med':>8s}   (seconds; cpu = user + sys)")
        for name, argv in commands.items():
            wall, cpu = time_command(argv, args.runs)
            print(f"{name:34s} {statistics.median(wall):8.3f} {max(wall):8.3f} {min(wall):8.3f} "
                  f"{statistics.median(cpu):8.3f}", flush=True)


if __name__ == "__main__":
    main()
