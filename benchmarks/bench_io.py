"""Reading speed of ltr.io against the reference parsers, side by side in one run.

LETOR: ``read_letor`` on MQ2008 Fold1 train.txt (9,630 rows x 46 features, with ``#docid`` comments) and
on the MSLR-WEB 5k sample (5,000 rows x 136 features) against scikit-learn's ``load_svmlight_file`` (Cython parser; gives neither string qids nor docids) and a
naive pure-Python loop parser (one ``split``/``float`` per token). TREC: ``read_run`` on a synthetic run of
``--run-queries`` x 1,000 lines against pytrec_eval's ``parse_run`` (a Python loop) and pandas'
``read_csv`` (C tokenizer, no validation).

Usage::

    python benchmarks/bench_io.py [--data ../shared/data] [--repeats 5] [--run-queries 1000]

Prints the best-of-``repeats`` wall time of each reader and its ratio to ``ltr.io``.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ltr.io import read_letor, read_run, write_run

REPO = Path(__file__).resolve().parents[1]


def naive_letor(path):
    """The loop every lab has written once: one Python split and float() per token."""
    labels, qids, docids, rows = [], [], [], []
    n_features = 0
    with open(path) as handle:
        for line in handle:
            body, _, comment = line.partition("#")
            toks = body.split()
            if not toks:
                continue
            labels.append(float(toks[0]))
            qids.append(toks[1][4:])
            feats = {}
            for tok in toks[2:]:
                i, v = tok.split(":")
                feats[int(i)] = float(v)
                n_features = max(n_features, int(i))
            rows.append(feats)
            docids.append(comment.split("=")[1].split()[0] if "docid" in comment else None)
    X = np.zeros((len(rows), n_features), dtype=np.float32)
    for r, feats in enumerate(rows):
        for i, v in feats.items():
            X[r, i - 1] = v
    return X, np.array(labels), qids, docids


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def table(title, rows):
    print(f"\n{title}")
    print(f"{'reader':<52} {'best s':>9} {'x ltr.io':>9}")
    base = rows[0][1]
    for name, t in rows:
        print(f"{name:<52} {t:>9.4f} {t / base:>9.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--run-queries", type=int, default=1000)
    args = ap.parse_args(argv)

    # LETOR
    from sklearn.datasets import load_svmlight_file
    files = [("MQ2008 Fold1", Path(args.data) / "letor4-mq2008" / "MQ2008" / "Fold1" / "train.txt"),
             ("MSLR-WEB 5k sample", Path(args.data) / "mslr-web-sample-rankeval" / "msn1.fold1.train.5k.txt")]
    for title, path in files:
        ds = read_letor(path)                  # also compiles/loads the numba scan: not timed
        X, y, _ = load_svmlight_file(str(path), query_id=True, zero_based=False, dtype=np.float32)
        assert np.array_equal(ds.X, X.toarray()) and np.array_equal(ds.labels, y)   # same values
        rows = [
            ("ltr.io.read_letor (dense, str qids + docids)", best_of(lambda p=path: read_letor(p), args.repeats)),
            ("ltr.io.read_letor (sparse=True)", best_of(lambda p=path: read_letor(p, sparse=True), args.repeats)),
            ("sklearn load_svmlight_file (CSR, int qids, no docids)",
             best_of(lambda p=path: load_svmlight_file(str(p), query_id=True, zero_based=False, dtype=np.float32),
                     args.repeats)),
            ("naive Python loop parser", best_of(lambda p=path: naive_letor(p), max(1, args.repeats // 2))),
        ]
        table(f"read {path.name} of {title} ({len(ds):,} rows x {ds.n_features} features, "
              f"{ds.X.size:,} values)", rows)

    # TREC run
    import pytrec_eval
    rng = np.random.default_rng(0)
    n_q, n_d = args.run_queries, 1000
    run = pd.DataFrame({"qid": np.repeat([str(i) for i in range(n_q)], n_d),
                        "docid": np.tile([f"doc{i}" for i in range(n_d)], n_q), "score": rng.random(n_q * n_d)})
    with tempfile.TemporaryDirectory() as tmp:
        rpath = Path(tmp) / "run.txt"
        t_write = best_of(lambda: write_run(run, rpath), 1)

        def trec_parse():
            with open(rpath) as handle:
                return pytrec_eval.parse_run(handle)

        def pandas_parse():
            return pd.read_csv(rpath, sep=r"\s+", header=None, usecols=[0, 2, 4], quoting=csv.QUOTE_NONE,
                               dtype={0: object, 2: object, 4: np.float64}, na_filter=False)
        rows = [
            ("ltr.io.read_run (validated, exact floats)", best_of(lambda: read_run(rpath), args.repeats)),
            ("pytrec_eval.parse_run (dict of dicts)", best_of(trec_parse, max(1, args.repeats // 2))),
            ("pandas.read_csv (no validation)", best_of(pandas_parse, args.repeats)),
        ]
        table(f"read a run of {len(run):,} lines ({n_q:,} queries x {n_d:,}); write_run took {t_write:.2f} s",
              rows)


if __name__ == "__main__":
    main()
