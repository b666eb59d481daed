"""Top-k retrieval over an eager BM25 score matrix, one query at a time (compiled with numba when present).

The index is term-major: ``indptr``, ``indices``, ``data`` of a CSR matrix of shape (n_terms, n_docs)
holding the (term, document) score (``features.index.BM25Index.weights_t_``); a query is its distinct
term ids (ascending) with their counts. For each query the kernel accumulates ``count * weight`` over the
postings of its terms in ascending term id (the order in which scipy's sparse product sums them, so the
scores are the same floats as ``BM25Index.score_matrix``), adds the query's constant (the score of an empty
document, 0 except for bm25l / bm25+), keeps the documents scoring above that constant, and returns the
best ``k`` by descending score, equal scores in document order (``BM25Index.topk``'s rule).

Only the documents holding a query term are looked at, and the best ``k`` are kept in a bounded heap (no
sort of all matches), which is what makes this as fast as bm25s' numba backend while matching the numpy
reference bit for bit (``tests/pipeline/test_first_stage.py``).
"""

from __future__ import annotations

import numpy as np

try:  # numba is optional: BM25Index.topk (numpy) is the reference, and the pure-Python path works too
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba is installed with the package's test extras
    HAVE_NUMBA = False


def _worse(s1, d1, s2, d2):
    """Whether (score s1, doc d1) ranks below (s2, d2): lower score, or equal score and later document."""
    return s1 < s2 or (s1 == s2 and d1 > d2)


def _sift_down(hs, hd, pos, n):
    # min-heap on the ranking order: the root is the worst document kept so far
    while True:
        child = 2 * pos + 1
        if child >= n:
            return
        right = child + 1
        if right < n and _worse(hs[right], hd[right], hs[child], hd[child]):
            child = right
        if _worse(hs[child], hd[child], hs[pos], hd[pos]):
            hs[pos], hs[child] = hs[child], hs[pos]
            hd[pos], hd[child] = hd[child], hd[pos]
            pos = child
        else:
            return


def _sift_up(hs, hd, pos):
    while pos > 0:
        parent = (pos - 1) // 2
        if _worse(hs[pos], hd[pos], hs[parent], hd[parent]):
            hs[pos], hs[parent] = hs[parent], hs[pos]
            hd[pos], hd[parent] = hd[parent], hd[pos]
            pos = parent
        else:
            return


def _topk_impl(ptr, term_ids, counts, const, w_indptr, w_indices, w_data, n_docs, k):
    n_q = len(ptr) - 1
    out_rows = np.zeros((n_q, k), dtype=np.int64)
    out_scores = np.zeros((n_q, k), dtype=np.float64)
    out_n = np.zeros(n_q, dtype=np.int64)
    acc = np.zeros(n_docs, dtype=np.float64)
    seen = np.full(n_docs, -1, dtype=np.int64)
    touched = np.empty(n_docs, dtype=np.int64)
    hs = np.empty(k, dtype=np.float64)
    hd = np.empty(k, dtype=np.int64)
    for i in range(n_q):
        # Step 1: accumulate the postings of the query's terms
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
        # Step 2: the best k matching documents in a bounded heap
        c0 = const[i]
        n = 0
        for idx in range(n_touched):
            d = touched[idx]
            s = acc[d] + c0
            if not s > c0:
                continue
            if n < k:
                hs[n] = s
                hd[n] = d
                _sift_up(hs, hd, n)
                n += 1
            elif _worse(hs[0], hd[0], s, d):
                hs[0] = s
                hd[0] = d
                _sift_down(hs, hd, 0, n)
        # Step 3: pop the worst first, filling the output from the back
        m = n
        for pos in range(n - 1, -1, -1):
            out_scores[i, pos] = hs[0]
            out_rows[i, pos] = hd[0]
            m -= 1
            hs[0] = hs[m]
            hd[0] = hd[m]
            _sift_down(hs, hd, 0, m)
        out_n[i] = n
    return out_rows, out_scores, out_n


_topk_python = _topk_impl
if HAVE_NUMBA:
    # the helpers are looked up as globals when the kernel compiles, so they are compiled first
    _worse = njit(inline="always")(_worse)
    _sift_down = njit(_sift_down)
    _sift_up = njit(_sift_up)
    _topk_numba = njit(nogil=True, cache=True)(_topk_impl)
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
