"""Click logs: simulation speed, click-model fitting against PyClick, streaming aggregation of a large log.

Run (one command; each part can be skipped):

    python benchmarks/bench_clicks.py [--pyclick /tmp/pyclick-src] [--sessions 1000000]
                                      [--stream-impressions 10000000] [--skip-simulate] [--skip-fit]
                                      [--skip-stream] [--keep DIR]

1. **simulate**: ``ltr.clicks.simulate`` of ``--sessions`` sessions of 10 results from 1,000 queries x 50
   documents, for each user model, with 2 threads and 1; wall and CPU seconds. The call returns a ClickLog
   holding its SERP matrix; building the impression frame (categorical ids) and writing Parquet are timed
   apart, since they are the cost of the output, not of simulating.
2. **fit** on ``../shared/data/yandex-clicks-sample/trainSample`` (35,064 SERPs): PBM and UBM (50 EM
   iterations) and DBN (1 and 5 iterations, PyClick's update rules), ours against PyClick at the same
   iteration counts, with the test log-likelihood on testSample of both. With ``--pyclick DIR`` (a folder
   from which ``import pyclick`` works, e.g. the files of markovi/PyClick at 98e7e46; PyClick is not a
   dependency and is never committed), PyClick is run in the same invocation through the data set's own
   ``reference/run_pyclick.py``; otherwise its recorded ``train_seconds`` (reference/results/*.json, same
   machine class) are used, and the table says so.
3. **stream**: writes ``--stream-impressions`` simulated impressions as a Parquet dataset (files of 10^7
   impressions) and aggregates them by (qid, docid, position) with ``ltr.clicks.stream.aggregate_parquet``
   in a fresh process, reporting its wall time and peak resident memory against the size of the data.

Machine notes: the timings are wall clock on whatever else runs; the ratios side by side in one run are
what counts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("LTR_SHARED_DATA", REPO.parent / "shared" / "data")) / "yandex-clicks-sample"


def _world(n_queries=1000, n_docs=50, seed=0):
    from ltr.clicks.simulate import click_probabilities
    rng = np.random.default_rng(seed)
    run = pd.DataFrame({"qid": np.repeat([f"q{i}" for i in range(n_queries)], n_docs),
                        "docid": np.tile([f"d{j}" for j in range(n_docs)], n_queries),
                        "score": rng.random(n_queries * n_docs)})
    qrels = run[["qid", "docid"]].assign(label=rng.integers(0, 3, len(run)).astype(float))
    return run, click_probabilities(run, qrels)


def bench_simulate(sessions: int) -> list[dict]:
    from ltr.clicks import write_clicks
    from ltr.clicks.simulate import simulate
    run, probs = _world()
    simulate(run, probs, user="pbm", sessions=1000, seed=0)        # warm-up (imports)
    rows = []
    for user in ("pbm(eta=1)", "cascade", "dbn(gamma=0.9)", "ubm(eta=1)"):
        for threads in (2, 1):
            best = None
            for _ in range(2):
                t0, c0 = time.perf_counter(), time.process_time()
                log = simulate(run, probs, user=user, sessions=sessions, seed=1, n_jobs=threads)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                if best is None or wall < best[0]:
                    best = (wall, cpu)
            row = {"user": user, "threads": threads, "sessions": sessions, "impressions": len(log),
                   "wall_s": round(best[0], 3), "cpu_s": round(best[1], 3)}
            if threads == 2 and user.startswith("pbm"):
                t0 = time.perf_counter()
                _ = log.frame
                row["frame_s"] = round(time.perf_counter() - t0, 3)
                with tempfile.TemporaryDirectory() as tmp:
                    t0 = time.perf_counter()
                    write_clicks(log, Path(tmp) / "log.parquet")
                    row["parquet_s"] = round(time.perf_counter() - t0, 3)
                    row["parquet_mb"] = round((Path(tmp) / "log.parquet").stat().st_size / 2 ** 20, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


FIT_CASES = [("PBM", "pbm", None), ("UBM", "ubm", None), ("DBN", "dbn(iterations=1)", 1),
             ("DBN", "dbn(iterations=5)", 5)]


def _pyclick(model: str, iters, pyclick_dir: str, out: Path) -> dict:
    cmd = [sys.executable, str(DATA / "reference" / "run_pyclick.py"), model, str(DATA / "trainSample"),
           str(DATA / "testSample"), str(out)] + (["--iters", str(iters)] if iters else [])
    env = dict(os.environ, PYTHONPATH=pyclick_dir)
    subprocess.run(cmd, check=True, env=env, cwd=str(DATA), stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def bench_fit(pyclick_dir: str | None) -> list[dict]:
    from ltr.clicks import read_yandex
    from ltr.clicks.models import get_click_model
    train, test = read_yandex(DATA / "trainSample"), read_yandex(DATA / "testSample")
    get_click_model("pbm(iterations=1)").fit(train)                  # warm-up (scipy import)
    rows = []
    measured: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec, iters in FIT_CASES:
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                model = get_click_model(spec).fit(train)
                times.append(time.perf_counter() - t0)
            ours = min(times)
            ll = model.evaluate(test).log_likelihood
            suffix = f".iters{iters}" if iters else ""
            if pyclick_dir:
                if name == "DBN" and iters == 5:
                    # PyClick's 5 iterations take 10-12 minutes: 5 x its 1-iteration time measured just before,
                    # and the log-likelihood of its recorded 5-iteration run
                    ref = measured[("DBN", 1)]
                    ref_ll = json.loads((DATA / "reference" / "results" /
                                         "DBN.trainSample-testSample.iters5.json").read_text())["test_loglikelihood"]
                    ref_seconds, source = 5 * ref["train_seconds"], "5 x PyClick's 1-iteration time measured now"
                else:
                    ref = _pyclick(name, iters, pyclick_dir, Path(tmp) / f"{name}{suffix}.json")
                    measured[(name, iters)] = ref
                    ref_ll, ref_seconds, source = ref["test_loglikelihood"], ref["train_seconds"], "measured now"
            else:
                ref = json.loads((DATA / "reference" / "results" /
                                  f"{name}.trainSample-testSample{suffix}.json").read_text())
                ref_ll, ref_seconds = ref["test_loglikelihood"], ref["train_seconds"]
                source = "recorded (reference/results)"
            row = {"model": spec, "ours_s": round(ours, 3), "pyclick_s": ref_seconds, "ratio": round(ref_seconds / ours, 1),
                   "ll_ours": ll, "ll_pyclick": ref_ll, "ll_diff": abs(ll - ref_ll), "pyclick_time": source}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def _write_big_log(folder: Path, impressions: int) -> float:
    from ltr.clicks import write_clicks
    from ltr.clicks.simulate import simulate
    run, probs = _world(n_queries=10_000, n_docs=20, seed=1)
    per_file = 1_000_000                                              # sessions of 10 = 10^7 impressions
    n_sessions = impressions // 10
    t0 = time.perf_counter()
    for i, start in enumerate(range(0, n_sessions, per_file)):
        target = folder / f"part-{i:04d}.parquet"
        if target.exists():                                           # kept from an earlier run (--keep)
            continue
        size = min(per_file, n_sessions - start)
        log = simulate(run, probs, user="pbm", sessions=size, seed=100 + i)
        write_clicks(log, target)
        del log
    return time.perf_counter() - t0


_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])


def peak_mb():
    # VmHWM: this process's own high-water mark (ru_maxrss survives execve on Linux and would report the
    # parent's peak)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


import pandas, pyarrow, ltr.clicks.stream  # noqa: E401
base = peak_mb()
from ltr.clicks.stream import aggregate_parquet
t0 = time.perf_counter()
frame, stats = aggregate_parquet(sys.argv[1], batch_size=int(sys.argv[2]))
wall = time.perf_counter() - t0
print(json.dumps({"rows": stats.rows, "groups": stats.groups, "batches": stats.batches, "merges": stats.merges,
                  "max_partial_rows": stats.max_partial_rows, "wall_s": round(wall, 2),
                  "peak_rss_mb": peak_mb(), "after_imports_mb": base, "clicks": int(frame["clicks"].sum())}))
"""


def bench_stream(impressions: int, keep: str | None) -> dict:
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="ltr-clicks-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        write_s = _write_big_log(folder, impressions)
        size_mb = sum(p.stat().st_size for p in folder.glob("part-*.parquet")) / 2 ** 20
        out = subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(1 << 20), str(REPO)], check=True,
                             capture_output=True, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        # what the same rows take in memory as a frame (5 columns: 3 categorical codes int32, int32, int8)
        row.update({"impressions": impressions, "parquet_mb": round(size_mb, 1), "write_s": round(write_s, 1),
                    "in_memory_frame_mb_est": round(row["rows"] * (3 * 4 + 4 + 1) / 2 ** 20, 1)})
        print(json.dumps(row), flush=True)
        return row
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyclick", help="folder from which 'import pyclick' works (PyClick 98e7e46)")
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--stream-impressions", type=int, default=10_000_000)
    parser.add_argument("--skip-simulate", action="store_true")
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--keep", help="keep (and reuse) the large Parquet log in this folder")
    args = parser.parse_args()
    print(f"# bench_clicks {time.strftime('%Y-%m-%d %H:%M')} load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    results = {}
    if not args.skip_simulate:
        results["simulate"] = bench_simulate(args.sessions)
    if not args.skip_fit:
        results["fit"] = bench_fit(args.pyclick)
    if not args.skip_stream:
        results["stream"] = bench_stream(args.stream_impressions, args.keep)
    print("# peak RSS of this process (MB):", round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))


if __name__ == "__main__":
    main()
