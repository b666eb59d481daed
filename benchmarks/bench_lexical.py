"""Lexical features for 1M (query, document) pairs over a 100k-document collection, against rank_bm25 and bm25s.

Run:  /work/venv/bin/python benchmarks/bench_lexical.py            (defaults: 100k docs, 1,000 queries x 1,000
      documents = 1M pairs; rank_bm25 on a 20-query subsample, extrapolated; bm25s on all queries)

The collection is random Zipfian text (vocabulary 50k words, s = 1, document lengths 20-180 tokens), made
here from a seed. All sides score the same tokens (ltr.text.Tokenizer output) with k1 = 0.9, b = 0.4;
rank_bm25 is Okapi BM25, i.e. (k1 + 1) x our "robertson" variant (REFERENCE.md), which the script checks on
the subsample before timing anything else. Reported: seconds, pairs per second, the ratio to ours and peak
memory (tracemalloc around a second run of each scoring phase: numpy and Python allocations made during
it; the process's peak RSS at the end). rank_bm25 has no pair API: it scores one query against a list of documents (get_batch_scores), which
is what we time. bm25s scores a query against every document; we then pick the pairs' documents.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd


def make_collection(n_docs: int, n_queries: int, docs_per_query: int, vocab: int, seed: int):
    from ltr.collection import Collection

    rng = np.random.default_rng(seed)
    words = np.array([f"t{i}w" for i in range(vocab)], dtype=object)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    lengths = rng.integers(20, 181, size=n_docs)
    tokens = words[rng.choice(vocab, size=int(lengths.sum()), p=p)]
    ends = np.cumsum(lengths)
    body = [" ".join(tokens[e - n:e]) for e, n in zip(ends, lengths)]
    docs = pd.DataFrame({"docid": [f"D{i}" for i in range(n_docs)], "body": body})
    # queries: 2-5 words from the middle of the Zipf curve (rank 20..5000), as topical queries are
    qwords = words[rng.integers(20, min(5000, vocab), size=(n_queries, 5))]
    qlen = rng.integers(2, 6, size=n_queries)
    queries = pd.DataFrame({"qid": [f"Q{i}" for i in range(n_queries)],
                            "query": [" ".join(w[:k]) for w, k in zip(qwords, qlen)]})
    qrels = pd.DataFrame({"qid": [], "docid": [], "label": []})
    collection = Collection("zipf-bench", docs, queries, qrels, fields=("body",))
    doc_rows = rng.integers(0, n_docs, size=(n_queries, docs_per_query))
    pairs = pd.DataFrame({
        "qid": np.repeat(queries.qid.to_numpy(), docs_per_query),
        "query": np.repeat(queries["query"].to_numpy(), docs_per_query),
        "docid": docs.docid.to_numpy()[doc_rows.ravel()],
    })
    return collection, pairs, doc_rows


def timed(fn, *, trace=True):
    """(result, seconds, peak traced bytes). tracemalloc slows Python-level allocations several-fold, so the
    time comes from an untraced run and the memory from a second, traced run."""
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = 0
    if trace:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return out, seconds, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--docs-per-query", type=int, default=1000)
    ap.add_argument("--vocab", type=int, default=50_000)
    ap.add_argument("--rank-bm25-queries", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from features.lexical import BM25, QueryLikelihood, TermMatch, TfIdfCosine
    from ltr.text import Tokenizer

    t0 = time.perf_counter()
    collection, pairs, doc_rows = make_collection(args.docs, args.queries, args.docs_per_query, args.vocab,
                                                  args.seed)
    n_pairs = len(pairs)
    print(f"collection: {args.docs:,} docs, {args.queries:,} queries, {n_pairs:,} pairs "
          f"(made in {time.perf_counter() - t0:.1f} s)")

    rows = []

    def report(name, seconds, pairs_scored, peak, note=""):
        rows.append((name, seconds, pairs_scored / seconds if seconds > 0 else float("inf"), peak, note))

    # ours: fit (tokenise + eager index) and transform, robertson to compare with rank_bm25
    ours = BM25(variant="robertson")
    _, fit_s, fit_peak = timed(lambda: ours.fit(collection), trace=False)
    # the first transform in a process compiles (or loads from numba's cache) the pair-sum kernel
    _, jit_s, _ = timed(lambda: ours.transform(pairs.iloc[:10]), trace=False)
    feat, tr_s, tr_peak = timed(lambda: ours.transform(pairs))
    report("ltr BM25(robertson).transform", tr_s, n_pairs, tr_peak)
    lucene = BM25()
    _, fit_l, _ = timed(lambda: lucene.fit(collection), trace=False)  # shares the tokenised field
    _, tr_l, pk_l = timed(lambda: lucene.transform(pairs))
    report("ltr BM25(lucene).transform", tr_l, n_pairs, pk_l)
    for ex in (TfIdfCosine(), QueryLikelihood(), TermMatch()):
        ex.fit(collection)
        _, s, pk = timed(lambda: ex.transform(pairs))
        report(f"ltr {ex.spec()}.transform", s, n_pairs, pk)

    # rank_bm25 on a subsample of queries, extrapolated
    from rank_bm25 import BM25Okapi

    tok = Tokenizer()
    corpus_tokens, tok_s, _ = timed(lambda: tok.tokenize_many(collection.documents.body.tolist()), trace=False)
    oracle, rb_fit_s, _ = timed(lambda: BM25Okapi(corpus_tokens, k1=0.9, b=0.4, epsilon=0), trace=False)
    sub = min(args.rank_bm25_queries, args.queries)
    qtoks = tok.tokenize_many(collection.queries["query"].tolist())

    def rank_bm25_scores():
        return [oracle.get_batch_scores(qtoks[i], doc_rows[i].tolist()) for i in range(sub)]

    rb, rb_s, rb_peak = timed(rank_bm25_scores)
    ours_sub = feat.iloc[: sub * args.docs_per_query, 0].to_numpy(dtype=np.float64)
    expected = np.concatenate(rb) / (0.9 + 1)
    err = float(np.max(np.abs(ours_sub - expected) / np.maximum(1.0, np.abs(expected))))
    print(f"check: ours (float32 feature) vs rank_bm25 / (k1 + 1) on {sub * args.docs_per_query:,} pairs: "
          f"max relative difference {err:.2e}")
    if err > 1e-6:
        raise SystemExit("scores disagree with rank_bm25; the timing would compare different things")
    report("rank_bm25 BM25Okapi.get_batch_scores", rb_s, sub * args.docs_per_query, rb_peak,
           f"{sub} queries, extrapolated to {n_pairs:,} pairs: {rb_s * args.queries / sub:.0f} s")

    # bm25s: score each query against all documents, then gather the pairs' documents
    import bm25s

    retriever = bm25s.BM25(method="robertson", k1=0.9, b=0.4)
    _, bs_fit_s, _ = timed(lambda: retriever.index(corpus_tokens, show_progress=False), trace=False)

    def bm25s_scores():
        out = []
        vocab = retriever.vocab_dict
        for i in range(args.queries):
            known = [t for t in qtoks[i] if t in vocab]
            scores = retriever.get_scores(known) if known else np.zeros(args.docs, dtype=np.float32)
            out.append(scores[doc_rows[i]])
        return out

    bs, bs_s, bs_peak = timed(bm25s_scores)
    bs_err = float(np.max(np.abs(np.concatenate(bs) - feat.iloc[:, 0].to_numpy())
                          / np.maximum(1.0, np.abs(feat.iloc[:, 0].to_numpy()))))
    report("bm25s get_scores + gather (float32)", bs_s, n_pairs, bs_peak, f"max rel. diff to ours {bs_err:.1e}")

    ours_rate = rows[0][2]
    print(f"\nfirst transform in the process (numba kernel compile or cache load): {jit_s:.2f} s, excluded below")
    print(f"fit (index build): ltr tokenise + index {fit_s:.1f} s (a second extractor on the same field "
          f"{fit_l:.2f} s: the tokenised field is shared); Tokenizer.tokenize_many alone {tok_s:.1f} s; "
          f"rank_bm25 BM25Okapi() {rb_fit_s:.1f} s on the same tokens; bm25s.index {bs_fit_s:.1f} s\n")
    print("| scorer | seconds | pairs/s | ltr BM25 is x faster | peak traced memory | note |")
    print("|---|---|---|---|---|---|")
    for name, s, rate, peak, note in rows:
        print(f"| {name} | {s:.2f} | {rate:,.0f} | {ours_rate / rate:.1f} | {peak / 2**20:.0f} MiB | {note} |")
    print(f"\nprocess peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")


if __name__ == "__main__":
    main()
