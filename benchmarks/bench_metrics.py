"""nDCG@10 (or several measures) from in-memory qrels and run frames to per-query values: ltr vs pytrec_eval
vs ranx, and the physical floor.

Each tool's own input conversion is timed (pytrec_eval: the dict-of-dicts; ranx: Qrels.from_df /
Run.from_df + evaluate); ranx's numba JIT is warmed up on a tiny input first. Values are checked equal on
every query. The floor is one compiled pass that reads every byte of the run's and qrels' columns once
(ids' bytes and offsets, scores, labels), i.e. what no evaluation of these frames can go below.

    python benchmarks/bench_metrics.py            # 10,000 queries x 1,000 docs (10M run rows), nDCG@10
    python benchmarks/bench_metrics.py --metrics nDCG@10 P@10 AP RR R@100    # the common measures
    python benchmarks/bench_metrics.py --small    # 1,000 queries x 100 docs
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd


def make_data(n_queries: int, depth: int, seed: int = 0):
    """A run of depth documents per query (docids from a collection of 5M), and graded qrels judging about
    a fifth of them plus some unretrieved documents (labels 0-4). Scores are continuous (no ties, so that
    ranx, which breaks ties differently, computes the same values)."""
    rng = np.random.default_rng(seed)
    qids = np.array([f"{i + 1}" for i in range(n_queries)], dtype=object)
    doc_num = np.concatenate([rng.choice(5_000_000, depth, replace=False) for _ in range(n_queries)])
    docids = pd.Series(doc_num).map("doc{:07d}".format).to_numpy(dtype=object)
    run = pd.DataFrame({"qid": np.repeat(qids, depth), "docid": docids, "score": rng.random(n_queries * depth)})
    judged = rng.random(len(run)) < 0.2
    extra = rng.integers(0, 5_000_000, n_queries * depth // 20)
    qrels = pd.DataFrame({
        "qid": np.concatenate([run.qid.to_numpy()[judged], rng.choice(qids, len(extra))]),
        "docid": np.concatenate([docids[judged], pd.Series(extra).map("doc{:07d}".format).to_numpy(dtype=object)]),
    })
    qrels = qrels.drop_duplicates(["qid", "docid"]).reset_index(drop=True)
    qrels["label"] = rng.choice([0, 1, 2, 3, 4], len(qrels), p=[0.5, 0.25, 0.15, 0.07, 0.03])
    return qrels, run


#: our name -> (pytrec_eval measure, its output key, ranx name)
MEASURES = {
    "nDCG@10": ("ndcg_cut.10", "ndcg_cut_10", "ndcg@10"),
    "P@10": ("P.10", "P_10", "precision@10"),
    "AP": ("map", "map", "map"),
    "AP@100": ("map_cut.100", "map_cut_100", "map@100"),
    "RR": ("recip_rank", "recip_rank", "mrr"),
    "R@100": ("recall.100", "recall_100", "recall@100"),
}


def run_ltr(qrels, run, metrics):
    from ltr.metrics import evaluate
    out = evaluate(qrels, run, metrics)
    return {m: dict(zip(out.qid[out.metric == m], out.value[out.metric == m])) for m in metrics}


def run_pytrec_eval(qrels, run, metrics):
    import pytrec_eval
    qd, rd = {}, {}
    for q, d, label in zip(qrels.qid.to_numpy(), qrels.docid.to_numpy(), qrels.label.to_numpy()):
        qd.setdefault(q, {})[d] = int(label)
    for q, d, s in zip(run.qid.to_numpy(), run.docid.to_numpy(), run.score.to_numpy()):
        rd.setdefault(q, {})[d] = float(s)
    out = pytrec_eval.RelevanceEvaluator(qd, {MEASURES[m][0] for m in metrics}).evaluate(rd)
    return {m: {q: v[MEASURES[m][1]] for q, v in out.items()} for m in metrics}


def run_ranx(qrels, run, metrics):
    from ranx import Qrels, Run, evaluate
    # ranx asserts object dtype; pandas 3 makes string columns "str" (counted in ranx's time)
    qrels = qrels.astype({"qid": object, "docid": object})
    run = run.astype({"qid": object, "docid": object})
    q = Qrels.from_df(qrels, q_id_col="qid", doc_id_col="docid", score_col="label")
    r = Run.from_df(run, q_id_col="qid", doc_id_col="docid", score_col="score")
    names = [MEASURES[m][2] for m in metrics]
    evaluate(q, r, names, return_mean=False, make_comparable=True)
    return {m: dict(r.scores[MEASURES[m][2]]) for m in metrics}


_TOUCH = []


def read_once(qrels, run):
    """The floor: one compiled pass over every byte of the columns evaluate() reads."""
    from ltr.metrics import _fast
    if not _TOUCH:
        _TOUCH.append(_compile_touch())
    touch = _TOUCH[0]
    out = []
    for frame, col in ((run, "score"), (qrels, "label")):
        values = frame[col].to_numpy(dtype=np.float64)
        for id_col in ("qid", "docid"):
            offsets, data = _fast.string_buffers(frame[id_col])
            out.append(touch(offsets, data, values if id_col == "qid" else values[:0]))
    return out


def _compile_touch():
    import numba

    @numba.njit(nogil=True)
    def touch(offsets, data, values):
        acc = 0
        for i in range(len(offsets)):
            acc += offsets[i]
        for i in range(len(data)):
            acc += data[i]
        total = 0.0
        for i in range(len(values)):
            total += values[i]
        return acc, total

    return touch


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 queries x 100 documents")
    parser.add_argument("--skip-ranx", action="store_true")
    parser.add_argument("--metrics", nargs="+", default=["nDCG@10"], choices=sorted(MEASURES))
    parser.add_argument("--repeat", type=int, default=1, help="time each tool this many times, keep the best")
    args = parser.parse_args()
    n_queries, depth = (1000, 100) if args.small else (10_000, 1000)
    qrels, run = make_data(n_queries, depth)
    print(f"run: {len(run):,} rows, {n_queries:,} queries; qrels: {len(qrels):,} rows; metrics {args.metrics}; "
          f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores")
    tiny_q, tiny_r = make_data(5, 10, seed=1)
    warm_q, warm_r = make_data(1000, 100, seed=1)     # >= FAST_MIN_ROWS: loads/compiles the numba kernels
    run_ltr(warm_q, warm_r, args.metrics)
    read_once(tiny_q, tiny_r)
    tools = {"floor (read once)": lambda q, r, m: read_once(q, r), "ltr": run_ltr, "pytrec_eval": run_pytrec_eval}
    if not args.skip_ranx:
        run_ranx(tiny_q, tiny_r, args.metrics)                     # numba JIT warm-up
        tools["ranx"] = run_ranx
    times, values = {}, {}
    for name, fn in tools.items():
        runs = [timed(fn, qrels, run, args.metrics) for _ in range(args.repeat)]
        times[name], values[name] = min(t for t, _ in runs), runs[0][1]
        print(f"{name:18s} {times[name]:8.3f} s  (all: {', '.join(f'{t:.3f}' for t, _ in runs)})", flush=True)
    ref = values["pytrec_eval"]
    for name, vals in values.items():
        if name.startswith("floor") or name == "pytrec_eval":
            continue
        for m in args.metrics:
            assert vals[m].keys() == ref[m].keys(), (name, m)
            worst = max(abs(vals[m][q] - ref[m][q]) for q in ref[m])
            assert worst < 1e-9, (name, m, worst)
            print(f"{name:18s} {m:8s} max |diff| vs pytrec_eval = {worst:.1e}")
    for name in tools:
        if name not in ("ltr",) and not name.startswith("floor"):
            print(f"ltr is {times[name] / times['ltr']:.1f}x faster than {name}")
    print(f"ltr takes {times['ltr'] / times['floor (read once)']:.1f}x the floor")


if __name__ == "__main__":
    main()
