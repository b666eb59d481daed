"""Top-k retrieval over an eager BM25 score matrix, one query at a time (numba; numpy reference alongside).

The index is term-major: ``indptr``, ``indices``, ``data`` of a CSR matrix of shape (n_terms, n_docs)
holding the (term, document) score (``features.lexical.BM25Index.weights_t_``); a query is its distinct
term ids with their counts. For each query the kernel accumulates ``count * weight`` over the postings of
its terms in the query's term order (the order in which scipy's sparse product sums them, so the scores are
the same floats as ``BM25Index.score_matrix``), adds the query's constant (the score of an empty document,
0 except for bm25l / bm25+), keeps the documents scoring above that constant, and returns the best ``k`` by
descending score, equal scores in document order (``BM25Index.topk``'s rule).

Only the documents holding a query term are ever looked at, which is what makes this faster than scoring
every document (bm25s' numba backend selects over all of them).
"""

from __future__ import annotations

import numpy as np

try:  # numba is optional: the numpy path below is the reference and what the tests compare against
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba is installed with the package's test extras
    HAVE_NUMBA = False


def _topk_python(ptr, term_ids, counts, const, w_indptr, w_indices, w_data, n_docs, k):
    n_q = len(ptr) - 1
    out_rows = np.zeros((n_q, k), dtype=np.int64)
    out_scores = np.zeros((n_q, k), dtype=np.float64)
    out_n = np.zeros(n_q, dtype=np.int64)
    acc = np.zeros(n_docs, dtype=np.float64)
    seen = np.full(n_docs, -1, dtype=np.int64)
    touched = np.empty(n_docs, dtype=np.int64)
    for i in range(n_q):
        n_touched = 0
        for p in range(ptr[i], ptr[i + 1]):
            t = term_ids[p]
            c = counts[p]
            for j in range(w_indptr[t], w_indptr[t + 1]):
                d = w_indices[j]
                if seen[d] != i:
                    seen[d] = i
                    acc[d] = 0.0
                    touched[n_touched] = d
                    n_touched += 1
                acc[d] += c * w_data[j]
        if n_touched == 0:
            continue
        # Step 1: matching documents (score above an empty document's), in touch order
        docs = touched[:n_touched]
        scores = acc[docs] + const[i]
        keep = scores > const[i]
        docs = docs[keep]
        scores = scores[keep]
        if len(docs) == 0:
            continue
        # Step 2: when more than k match, keep those scoring at least the k-th best score (O(n) selection)
        if len(docs) > k:
            kth = -np.partition(-scores, k - 1)[k - 1]
            sel = scores >= kth
            docs = docs[sel]
            scores = scores[sel]
        # Step 3: sort the few left by descending score, equal scores in document order
        by_doc = np.argsort(docs)
        docs = docs[by_doc]
        scores = scores[by_doc]
        order = np.argsort(-scores, kind="mergesort")  # stable: ties stay in document order
        n = min(k, len(order))
        out_rows[i, :n] = docs[order[:n]]
        out_scores[i, :n] = scores[order[:n]]
        out_n[i] = n
    return out_rows, out_scores, out_n


if HAVE_NUMBA:
    _topk_numba = njit(nogil=True, cache=True)(_topk_python)
else:  # pragma: no cover
    _topk_numba = None


def topk_postings(ptr, term_ids, counts, const, w_indptr, w_indices, w_data, n_docs: int, k: int, *,
                  use_numba: bool = True):
    """The best ``k`` matching documents of each query: ``(rows, scores, n_kept)``.

    ``rows[i, :n_kept[i]]`` are document rows, best first; ``scores`` their float64 scores.
    """
    args = (np.asarray(ptr, dtype=np.int64), np.asarray(term_ids, dtype=np.int64),
            np.asarray(counts, dtype=np.float64), np.asarray(const, dtype=np.float64),
            np.asarray(w_indptr, dtype=np.int64), np.asarray(w_indices, dtype=np.int64),
            np.asarray(w_data, dtype=np.float64), int(n_docs), int(k))
    fn = _topk_numba if (use_numba and HAVE_NUMBA) else _topk_python
    return fn(*args)
