"""nDCG@10 from in-memory qrels and run frames to per-query values: ltr vs pytrec_eval vs ranx.

Each tool's own input conversion is timed (pytrec_eval: the dict-of-dicts; ranx: Qrels.from_df /
Run.from_df + evaluate); ranx's numba JIT is warmed up on a tiny input first. Values are checked equal.

    python benchmarks/bench_metrics.py            # 10,000 queries x 1,000 docs (10M run rows)
    python benchmarks/bench_metrics.py --small    # 1,000 queries x 100 docs
"""

from __future__ import annotations

import argparse
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


def run_ltr(qrels, run):
    from ltr.metrics import evaluate
    out = evaluate(qrels, run, ["nDCG@10"])
    return dict(zip(out.qid, out.value))


def run_pytrec_eval(qrels, run):
    import pytrec_eval
    qd, rd = {}, {}
    for q, d, label in zip(qrels.qid.to_numpy(), qrels.docid.to_numpy(), qrels.label.to_numpy()):
        qd.setdefault(q, {})[d] = int(label)
    for q, d, s in zip(run.qid.to_numpy(), run.docid.to_numpy(), run.score.to_numpy()):
        rd.setdefault(q, {})[d] = float(s)
    out = pytrec_eval.RelevanceEvaluator(qd, {"ndcg_cut.10"}).evaluate(rd)
    return {q: v["ndcg_cut_10"] for q, v in out.items()}


def run_ranx(qrels, run):
    from ranx import Qrels, Run, evaluate
    # ranx asserts object dtype; pandas 3 makes string columns "str" (counted in ranx's time)
    qrels = qrels.astype({"qid": object, "docid": object})
    run = run.astype({"qid": object, "docid": object})
    q = Qrels.from_df(qrels, q_id_col="qid", doc_id_col="docid", score_col="label")
    r = Run.from_df(run, q_id_col="qid", doc_id_col="docid", score_col="score")
    evaluate(q, r, "ndcg@10", return_mean=False, make_comparable=True)
    return dict(r.scores["ndcg@10"])


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 queries x 100 documents")
    parser.add_argument("--skip-ranx", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="time each tool this many times, keep the best")
    args = parser.parse_args()
    n_queries, depth = (1000, 100) if args.small else (10_000, 1000)
    qrels, run = make_data(n_queries, depth)
    print(f"run: {len(run):,} rows, {n_queries:,} queries; qrels: {len(qrels):,} rows")
    tiny_q, tiny_r = make_data(5, 10, seed=1)
    warm_q, warm_r = make_data(1000, 100, seed=1)     # >= FAST_MIN_ROWS: loads/compiles the numba kernels
    run_ltr(warm_q, warm_r)
    tools = {"ltr": run_ltr, "pytrec_eval": run_pytrec_eval}
    if not args.skip_ranx:
        run_ranx(tiny_q, tiny_r)                                   # numba JIT warm-up
        tools["ranx"] = run_ranx
    times, values = {}, {}
    for name, fn in tools.items():
        runs = [timed(fn, qrels, run) for _ in range(args.repeat)]
        times[name], values[name] = min(t for t, _ in runs), runs[0][1]
        print(f"{name:12s} {times[name]:8.2f} s  (all: {', '.join(f'{t:.2f}' for t, _ in runs)})", flush=True)
    ref = values["pytrec_eval"]
    for name, vals in values.items():
        assert vals.keys() == ref.keys(), name
        worst = max(abs(vals[q] - ref[q]) for q in ref)
        assert worst < 1e-9, (name, worst)
        print(f"{name:12s} max |diff| vs pytrec_eval = {worst:.1e}")
    for name in tools:
        if name != "ltr":
            print(f"ltr is {times[name] / times['ltr']:.1f}x faster than {name}")


if __name__ == "__main__":
    main()
