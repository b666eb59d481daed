"""LETOR at MSLR-WEB30K's scale, end to end: read, train, predict, evaluate; and through Dask.

A synthetic file of MSLR-WEB30K's shape (3,771,125 rows, 31,531 queries, 136 features on every line, labels
0-4; ``benchmarks/_mslr_like.py``, seeded, values drawn from the MSLR-WEB 5k sample when ../shared/data is
there) is written to ``--dir`` (default /tmp/ltr-scale; reused when it exists) in LightGBM's text format
(``label id:value ...`` plus a ``.query`` file of group sizes), because LightGBM's own text loader, the
reference, reads no ``qid:`` tokens. Then, in one process, each stage with its wall time and peak memory:

1. the file read once in 64 MiB pieces (the floor: bytes from the page cache, no parsing);
2. ``ltr.io.read_letor(path)`` -> float32 X (goal: peak at most 1.5x X), then
   ``lightgbm.Dataset(X).construct()`` (binning it), against ``lightgbm.Dataset(path).construct()``
   (LightGBM's text loader, 2 threads, in a child process so that its peak is its own; it parses and
   bins) (goal: ours at least as fast);
3. ``Ranker(objective="lambdarank", backend="lightgbm", n_estimators=100).fit`` (no validation set, 100 rounds),
   and (3r) ``lightgbm.train`` on the same X with the same threads and bins: what LightGBM itself adds;
4. ``predict`` -> RUN frame; 5. ``ltr.metrics.evaluate`` nDCG@10 of that run on the file's labels;
6. the same fit on a Dask ``LocalCluster`` of 2 workers x 1 thread (``Ranker(..., cluster=...)``), with
   the client's and each worker's peak, and the model's nDCG@10 next to the single-process one;
E. stages 2a, 3, 4 and 5 as a user runs them, in a fresh child process per variant (LightGBM's default
   row-wise histograms, and ``params={"force_col_wise": True}``): the end-to-end peak without what the
   stages above leave behind (goal: at most 1.5x X).

Peak memory of this process per stage: Linux's VmHWM after resetting it (``/proc/self/clear_refs``) at the
start of the stage, minus the RSS before the stage ("+" columns: what the stage needed). Dask workers: RSS
sampled every 50 ms (psutil). The end-to-end peak is the largest of the stages' peaks (1-5).

Run:  python benchmarks/bench_scale.py [--rows 3771125 --queries 31531 --rounds 100] [--skip-dask]
      python benchmarks/bench_scale.py --rows 200000 --queries 1670 --rounds 20      # a quick check
The machine of record has 2 cores shared with other work: ratios within one run are what counts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mslr_like import MSLR_FEATURES, MSLR_QUERIES, MSLR_ROWS, write_mslr_like  # noqa: E402


def _status(key: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class Stage:
    """Wall time, CPU time, RSS before and peak RSS (VmHWM since the start of the stage) of one stage."""

    rows: list[dict] = []

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        gc.collect()
        self.exact = _reset_peak()
        self.rss0 = _status("VmRSS")
        self.cpu0, self.t0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        self.peak = _status("VmHWM")
        self.plus = self.peak - self.rss0
        self.rows.append({"stage": self.name, "wall": self.wall, "cpu": self.cpu, "rss0": self.rss0,
                          "peak": self.peak, "plus": self.peak - self.rss0})
        print(f"  {self.name}: {self.wall:.1f} s wall, {self.cpu:.1f} s CPU, peak {gib(self.peak)} GiB "
              f"(+{gib(self.peak - self.rss0)})", flush=True)


def gib(x) -> str:
    return f"{x / 2**30:.2f}"


def ensure_file(args) -> Path:
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mslr-like-{args.rows}x{args.features}-seed{args.seed}.txt"
    meta = path.with_name(path.name + ".json")
    if not (path.is_file() and meta.is_file() and path.with_name(path.name + ".query").is_file()):
        t = time.perf_counter()
        info = write_mslr_like(path, n_rows=args.rows, n_queries=args.queries, n_features=args.features,
                               seed=args.seed, qids=False)
        info["seconds"] = round(time.perf_counter() - t, 1)
        meta.write_text(json.dumps(info, indent=2))
    info = json.loads(meta.read_text())
    print(f"file: {path} ({info['bytes'] / 2**30:.2f} GiB, {info['rows']:,} rows, {info['queries']:,} queries, "
          f"{info['features']} features; values from {info['values from']}; written in {info.get('seconds', '?')} s)")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=MSLR_ROWS)
    ap.add_argument("--queries", type=int, default=MSLR_QUERIES)
    ap.add_argument("--features", type=int, default=MSLR_FEATURES)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default="/tmp/ltr-scale")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--skip-lightgbm-loader", action="store_true")
    ap.add_argument("--skip-stages", action="store_true", help="run only the end-to-end children (E)")
    ap.add_argument("--skip-reference-fit", action="store_true",
                    help="skip stage 3r (lightgbm.train on the same X: what the fit's memory is compared with)")
    args = ap.parse_args()

    import lightgbm as lgb

    from ltr.io import read_letor
    from ltr.metrics import evaluate
    from ltr.models import Ranker
    print(f"cores: {os.cpu_count()}, load average: {tuple(round(x, 1) for x in os.getloadavg())}, "
          f"lightgbm {lgb.__version__}, numpy {np.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    path = ensure_file(args)
    read_letor(_warmup_file(path))                      # compile (or load) the numba kernels, untimed

    if args.skip_stages:
        end_to_end(path, args)
        return
    print("\nstages (this process):")
    with Stage("1. read the bytes once (64 MiB pieces, no parsing)"):
        buf = bytearray(1 << 26)
        with open(path, "rb", buffering=0) as handle:
            while handle.readinto(buf):
                pass
        del buf
    with Stage("2a. ltr.io.read_letor -> float32 X") as s_ours:
        ds = read_letor(path, progress=False)
    x_bytes = ds.X.nbytes
    print(f"     X {ds.X.shape} float32 = {gib(x_bytes)} GiB; read peak / X = {s_ours.plus / x_bytes:.2f}; "
          f"{ds.n_queries:,} queries")
    params = {"num_threads": 2, "verbose": -1, "max_bin": 255}
    with Stage("2b. lightgbm.Dataset(X from 2a).construct() (binning the matrix)") as s_bin:
        d = lgb.Dataset(ds.X, label=ds.labels, group=ds.group_sizes, params=params, free_raw_data=True).construct()
    del d
    if not args.skip_lightgbm_loader:
        lgb_row = lightgbm_loader_in_a_child(path, params, len(ds))
        Stage.rows.append(lgb_row)
        print(f"     read speed: LightGBM's loader / ours = {lgb_row['wall'] / s_ours.wall:.2f}x (wall), "
              f"{lgb_row['cpu'] / s_ours.cpu:.2f}x (CPU); to a LightGBM Dataset: ours + binning "
              f"{s_ours.wall + s_bin.wall:.1f} s vs LightGBM's loader {lgb_row['wall']:.1f} s")

    kw = {"n_estimators": args.rounds, "early_stopping_rounds": None, "random_state": 0, "n_jobs": 2}
    with Stage(f"3. Ranker(lambdarank, lightgbm, {args.rounds} rounds).fit") as s_fit:
        ranker = Ranker(objective="lambdarank", backend="lightgbm", **kw).fit(ds)
    if not args.skip_reference_fit:
        with Stage(f"3r. lightgbm.train on the same X (LightGBM alone, {args.rounds} rounds; the reference)") as s_ref:
            booster = lgb.train({**params, "objective": "lambdarank", "seed": 0},
                                lgb.Dataset(ds.X, label=ds.labels, group=ds.group_sizes, params=params),
                                num_boost_round=args.rounds)
        del booster
        print(f"     memory the fit adds: ltr {gib(s_fit.plus)} GiB, LightGBM alone {gib(s_ref.plus)} GiB "
              f"({s_fit.plus / s_ref.plus:.2f}x); time: {s_fit.wall / s_ref.wall:.2f}x (wall)")
    with Stage("4. predict -> RUN frame"):
        run = ranker.predict(ds)
    qrels = pd.DataFrame({"qid": ds.qids, "docid": ds.docids, "label": ds.labels})
    evaluate(qrels.head(2000), run.head(2000), ["nDCG@10"])       # compile (or load) its kernels, untimed
    with Stage("5. evaluate nDCG@10 (trec_eval's convention)"):
        per_query = evaluate(qrels, run, ["nDCG@10"])
    ndcg = float(per_query["value"].mean())
    print(f"     nDCG@10 = {ndcg:.4f} over {per_query['qid'].nunique():,} queries")
    # VmHWM is reset at the start of each stage, so the run's peak is the largest stage peak of this process
    ours = [r for r in Stage.rows if "child process" not in r["stage"] and not r["stage"].startswith("3r.")]
    top = max(ours, key=lambda r: r["peak"])
    print(f"\nend-to-end peak RSS (this process, stages 1-5) {gib(top['peak'])} GiB = {top['peak'] / x_bytes:.2f}x X, "
          f"reached in stage {top['stage']}")

    if not args.skip_dask:
        dask_stage(ds, kw, ranker, ndcg, qrels)
    del ds, ranker, run, qrels
    end_to_end(path, args)
    print(f"\nload average after: {tuple(round(x, 1) for x in os.getloadavg())}")
    print("\n| stage | wall s | CPU s | RSS before GiB | peak GiB | + GiB | + / X |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in Stage.rows:
        print(f"| {r['stage']} | {r['wall']:.1f} | {r['cpu']:.1f} | {gib(r['rss0'])} | {gib(r['peak'])} | "
              f"{gib(r['plus'])} | {r['plus'] / x_bytes:.2f} |")


_CHILD = """
import json, sys, time
import lightgbm as lgb
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
rss0 = status("VmRSS")
cpu0, t0 = time.process_time(), time.perf_counter()
d = lgb.Dataset(sys.argv[1], params=json.loads(sys.argv[2])).construct()
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - cpu0, "rss0": rss0,
                  "peak": status("VmHWM"), "rows": d.num_data()}))
"""


_END_TO_END = """
import json, sys, time
import pandas as pd
from ltr.io import read_letor
from ltr.metrics import evaluate
from ltr.models import Ranker
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
path, kw = sys.argv[1], json.loads(sys.argv[2])
evaluate(pd.DataFrame({"qid": ["q"], "docid": ["d"], "label": [1]}),
         pd.DataFrame({"qid": ["q"], "docid": ["d"], "score": [1.0]}), ["nDCG@10"])     # compile, untimed
rss0, t0, out = status("VmRSS"), time.perf_counter(), {}
def mark(name):
    out[name] = {"wall": time.perf_counter() - t0, "peak": status("VmHWM"), "rss": status("VmRSS")}
ds = read_letor(path, progress=False)
mark("read")
ranker = Ranker(objective="lambdarank", backend="lightgbm", **kw).fit(ds)
mark("fit")
run = ranker.predict(ds)
mark("predict")
qrels = pd.DataFrame({"qid": ds.qids, "docid": ds.docids, "label": ds.labels})
ndcg = float(evaluate(qrels, run, ["nDCG@10"])["value"].mean())
mark("evaluate")
print(json.dumps({"rss0": rss0, "x_bytes": ds.X.nbytes, "ndcg": ndcg, "marks": out}))
"""


def end_to_end(path: Path, args) -> None:
    """Read, fit, predict and evaluate as a user does, each variant in a fresh process: the peak is then
    the pipeline's own (VmHWM of the child), with the interpreter and libraries included."""
    import subprocess

    base = {"n_estimators": args.rounds, "early_stopping_rounds": None, "random_state": 0, "n_jobs": 2}
    variants = {"default (row-wise histograms)": base,
                'params={"force_col_wise": True}': {**base, "params": {"force_col_wise": True}}}
    print("\nend to end, a fresh process per variant (peak VmHWM since start, then VmRSS after the step; "
          "cumulative wall s):")
    for name, kw in variants.items():
        out = subprocess.run([sys.executable, "-c", _END_TO_END, str(path), json.dumps(kw)], capture_output=True,
                             text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        marks, x = row["marks"], row["x_bytes"]
        peak = max(m["peak"] for m in marks.values())
        steps = ", ".join(f"{k} {m['wall']:.1f} s (peak {gib(m['peak'])}, then {gib(m['rss'])})"
                          for k, m in marks.items())
        print(f"  E. {name}: peak {gib(peak)} GiB = **{peak / x:.2f}x X** (start {gib(row['rss0'])} GiB); "
              f"nDCG@10 {row['ndcg']:.4f}; {steps}", flush=True)


def lightgbm_loader_in_a_child(path: Path, params: dict, n_rows: int) -> dict:
    """LightGBM's own text loader in a fresh process (its peak is then its own, not ours plus its)."""
    import subprocess

    name = "2c. lightgbm.Dataset(path).construct() (LightGBM's text loader, 2 threads; child process)"
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), json.dumps(params)], capture_output=True,
                         text=True, check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row.pop("rows") == n_rows
    row.update(stage=name, plus=row["peak"] - row["rss0"])
    print(f"  {name}: {row['wall']:.1f} s wall, {row['cpu']:.1f} s CPU, peak {gib(row['peak'])} GiB "
          f"(+{gib(row['plus'])})", flush=True)
    return row


def _warmup_file(path: Path) -> Path:
    small = path.with_name("warmup.txt")
    with open(path, "rb") as handle:
        head = b"".join(handle.readline() for _ in range(200))
    small.write_bytes(head)
    small.with_name("warmup.txt.query").write_text(str(head.count(b"\n")) + "\n")
    return small


def dask_stage(ds, kw, ranker, ndcg, qrels):
    import distributed

    from bench_dask import PeakRSS
    from ltr.metrics import evaluate
    from ltr.models import Ranker
    lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit=0)
    client = distributed.Client(lc, set_as_default=False)
    try:
        workers = client.run(os.getpid)
        with PeakRSS([os.getpid(), *workers.values()]) as rss:
            with Stage("6. the same fit on Dask (LocalCluster, 2 workers x 1 thread)"):
                dranker = Ranker(objective="lambdarank", backend="lightgbm", cluster={"address": lc.scheduler_address},
                                 **{**kw, "n_jobs": 1}).fit(ds)
        secs = dranker.distributed_["seconds"]
        print(f"     of which scatter {secs['scatter']:.1f} s, partition check {secs['check']:.1f} s, training on the "
              f"workers {secs['train']:.1f} s")
        for i, pid in enumerate(workers.values()):
            print(f"     worker {i}: peak {gib(rss.peak[pid])} GiB (+{gib(rss.peak[pid] - rss.base[pid])})")
        per_query = evaluate(qrels, dranker.predict(ds), ["nDCG@10"])
        print(f"     nDCG@10 = {float(per_query['value'].mean()):.4f} (single process {ndcg:.4f})")
    finally:
        from ltr.models.distributed import close_local_cluster
        close_local_cluster()
        client.close()
        lc.close()


if __name__ == "__main__":
    main()
