"""First-stage retrieval speed, side by side with bm25s in one run, and a cascade's latency by stage.

Part 1: a 100,000-document collection of Zipfian random text (50,000-word vocabulary, 20-200 words per
document) and 1,000 queries of 2-5 words. Both systems index the same tokens (``ltr.text.Tokenizer``) and
retrieve the top 1,000 per query in float64, single-threaded:

- ``ltr``: :class:`ltr.pipeline.BM25Retriever` (``features.lexical.BM25Index``: one sparse product per batch
  of 256 queries, then a partial sort), from query text to the RUN frame;
- ``bm25s``: ``bm25s.BM25(method="lucene", dtype="float64")``, ``retrieve(k=1000, n_threads=0)`` from the
  same query tokens, with its numpy backend and, when numba is installed, its numba backend.

Queries per second are best-of-``--repeat`` wall-clock times; the script also checks that both return the
same top-1000 scores (to 1e-9).

Part 2: a two-stage cascade on ``make_synthetic_web(seed=0)`` (10,000 pages): BM25 top-1000 -> a cheap
LambdaMART on lexical features keeps 100 -> a full LambdaMART adds link, recency, domain and URL features;
its costs frame (``Cascade.run_with_costs``) (seconds and feature computations per query, per stage).

Usage::

    /work/venv/bin/python benchmarks/bench_first_stage.py [--n-docs 100000] [--n-queries 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def zipf_collection(n_docs: int, n_queries: int, seed: int = 0):
    from ltr.collection import Collection

    rng = np.random.default_rng(seed)
    n_vocab = 50_000
    vocab = np.array([f"w{np.base_repr(i, 36).lower()}x" for i in range(n_vocab)], dtype=object)
    p = 1.0 / np.arange(1, n_vocab + 1) ** 1.1
    p /= p.sum()
    lengths = rng.integers(20, 200, n_docs)
    words = rng.choice(n_vocab, size=int(lengths.sum()), p=p)
    offsets = np.r_[0, np.cumsum(lengths)]
    texts = [" ".join(vocab[words[offsets[i]:offsets[i + 1]]]) for i in range(n_docs)]
    q = np.sqrt(p) / np.sqrt(p).sum()  # queries favour mid-frequency words
    queries = [" ".join(vocab[rng.choice(n_vocab, size=int(rng.integers(2, 6)), p=q)]) for _ in range(n_queries)]
    docs = pd.DataFrame({"docid": [f"D{i}" for i in range(n_docs)], "body": texts})
    qs = pd.DataFrame({"qid": [f"Q{i}" for i in range(n_queries)], "query": queries})
    return Collection("zipf-100k", docs, qs, pd.DataFrame(columns=["qid", "docid", "label"]))


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def part1(n_docs: int, n_queries: int, repeat: int, k: int = 1000) -> pd.DataFrame:
    import bm25s

    from ltr.pipeline import BM25Retriever
    from ltr.text import Tokenizer

    collection = zipf_collection(n_docs, n_queries)
    tokenizer = Tokenizer(stemmer=None)  # synthetic words; the same tokens for both systems
    params = dict(stemmer=None)
    start = time.perf_counter()
    ours = BM25Retriever(field="body", k=k, **params).fit(collection)
    fit_ours = time.perf_counter() - start
    queries = collection.queries
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t_ours, run = best_of(lambda: ours.retrieve(queries, k), repeat)
    rows = [("ltr BM25Retriever", fit_ours, t_ours, n_queries / t_ours)]
    doc_tokens = tokenizer.tokenize_many(collection.documents["body"].tolist())
    query_tokens = tokenizer.tokenize_many(queries["query"].tolist())
    import importlib.util

    backends = ["numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])
    ref_scores = None
    for backend in backends:
        start = time.perf_counter()
        ref = bm25s.BM25(k1=0.9, b=0.4, method="lucene", dtype="float64", backend=backend)
        ref.index(doc_tokens, show_progress=False)
        fit_ref = time.perf_counter() - start
        if backend == "numba":  # compile outside the timed runs
            ref.retrieve(query_tokens[:2], k=k, show_progress=False, n_threads=0)
        t_ref, res = best_of(lambda: ref.retrieve(query_tokens, k=k, show_progress=False, n_threads=0), repeat)
        rows.append((f"bm25s ({backend})", fit_ref, t_ref, n_queries / t_ref))
        ref_scores = res.scores
    # agreement: our scores (kept documents only) equal bm25s' best scores
    for i, qid in enumerate(queries.qid[:50]):
        got = run[run.qid == qid].score.to_numpy()
        np.testing.assert_allclose(got, np.sort(ref_scores[i])[::-1][:len(got)], atol=1e-9)
    table = pd.DataFrame(rows, columns=["system", "index_seconds", "retrieve_seconds", "queries_per_second"])
    table["ltr_speedup"] = table.queries_per_second.iloc[0] / table.queries_per_second  # ltr qps / this qps
    return table


def part2() -> pd.DataFrame:
    from features.base import FeatureSet
    from ltr.datasets.synthetic import make_synthetic_web
    from ltr.models import Ranker
    from ltr.pipeline import BM25Retriever, Cascade, Stage, time_ordered_split

    web = make_synthetic_web(seed=0)
    split = time_ordered_split(web.queries, test_fraction=0.5)

    def ranker():
        return Ranker(n_estimators=200, learning_rate=0.05, early_stopping_rounds=20, n_jobs=1, random_state=0)

    cascade = Cascade([Stage("cheap", ranker(), FeatureSet(["bm25(field='title')", "bm25(field='body')"]), cutoff=100),
                       Stage("full", ranker(), FeatureSet(["match(field='body')", "pagerank", "recency",
                                                           "domain_prior", "url"]))],
                      first_stage=BM25Retriever(field="body"), first_k=1000, drop_future=True)
    cascade.fit(web, split.train)
    test_q = web.queries[web.queries.qid.isin(set(split.test))]
    cascade.run(test_q)  # warm-up
    return cascade.run_with_costs(test_q).costs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-docs", type=int, default=100_000)
    parser.add_argument("--n-queries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cascade", action="store_true")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    print(f"Part 1: top-1000 over {args.n_docs:,} documents, {args.n_queries:,} queries (best of {args.repeat})")
    print(part1(args.n_docs, args.n_queries, args.repeat).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if not args.skip_cascade:
        print("\nPart 2: cascade on the synthetic web (10,000 pages, 100 test queries), per query by stage")
        costs = part2()
        costs = costs.assign(ms_per_query=costs.seconds_per_query * 1000)
        print(costs.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
