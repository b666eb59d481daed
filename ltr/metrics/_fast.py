"""Optional accelerator for :func:`ltr.metrics.evaluate`: numba kernels over Arrow string buffers.

The numpy path in ``frames.py`` is the reference implementation; this module computes the same
:class:`~ltr.metrics.base.Ranking` (or reports that it cannot, returning None) and the tests check both
against trec_eval. Work is done per query, where it is cache-local: a small hash table of the query's
qrels docids (exact byte comparison, so no hash collision can change a label), a duplicate check of the
run's docids, and either the top-K documents (when every metric has a cutoff <= K) or a full sort, by
float32 score descending and docid descending in byte order (trec_eval's ``comp_sim_docno``).
"""

from __future__ import annotations

import os

import numpy as np

try:  # optional accelerators (bm25s/ranx style): without them evaluate() takes the numpy path
    import numba
    import pyarrow as pa
except ImportError:  # pragma: no cover - exercised only where numba/pyarrow are missing
    numba = None
    pa = None

AVAILABLE = numba is not None and pa is not None


def arrow_strings(column):
    """The column as a pyarrow string array, or None if it has missing values or non-strings."""
    values = getattr(column, "array", column)
    arrow = getattr(values, "_pa_array", None)
    try:
        if arrow is None:
            arrow = pa.array(np.asarray(column, dtype=object), type=pa.large_string())
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks() if arrow.num_chunks != 1 else arrow.chunk(0)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    if arrow.type not in (pa.string(), pa.large_string()) or arrow.null_count:
        return None
    return arrow


def string_buffers(column):
    """(offsets int64 of shape (n + 1,), data uint8) of a pandas column of strings, or None if it has
    missing values or is not made of strings."""
    arrow = arrow_strings(column)
    if arrow is None:
        return None
    width = np.int32 if arrow.type == pa.string() else np.int64
    _, obuf, dbuf = arrow.buffers()
    n = len(arrow)
    offsets = np.frombuffer(obuf, dtype=width)[arrow.offset: arrow.offset + n + 1].astype(np.int64, copy=False)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.zeros(0, dtype=np.uint8)
    return offsets, data


def threads() -> int:
    """Threads for the per-query kernel: the CPUs this process may run on (its affinity), at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without sched_getaffinity
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


if AVAILABLE:
    _jit = numba.njit(cache=True, nogil=True)

    @_jit
    def _cmp(off_a, data_a, i, off_b, data_b, j):
        """strcmp of string i of (off_a, data_a) with string j of (off_b, data_b): -1, 0 or 1."""
        a0, a1 = off_a[i], off_a[i + 1]
        b0, b1 = off_b[j], off_b[j + 1]
        la, lb = a1 - a0, b1 - b0
        m = la if la < lb else lb
        for t in range(m):
            ca, cb = data_a[a0 + t], data_b[b0 + t]
            if ca != cb:
                return -1 if ca < cb else 1
        if la == lb:
            return 0
        return -1 if la < lb else 1

    @_jit
    def _hash(off, data, i):
        """64-bit hash of string i, 8 bytes per multiplication (splitmix64 finaliser per word)."""
        h = np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(off[i + 1] - off[i])
        w = np.uint64(0)
        shift = np.uint64(0)
        for t in range(off[i], off[i + 1]):
            w |= np.uint64(data[t]) << shift
            shift += np.uint64(8)
            if shift == np.uint64(64):
                h = (h ^ w) * np.uint64(0xBF58476D1CE4E5B9)
                h ^= h >> np.uint64(31)
                w = np.uint64(0)
                shift = np.uint64(0)
        h = (h ^ w) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(29))

    @_jit
    def hashes(off, data, lo, hi):
        """:func:`_hash` of strings [lo, hi), in one sequential pass (cache-friendly, unlike hashing the
        same rows in query order when the qrels are not grouped by query)."""
        out = np.empty(hi - lo, dtype=np.uint64)
        for i in range(lo, hi):
            out[i - lo] = _hash(off, data, i)
        return out

    @_jit
    def block_starts(off, data, lo=0, hi=-1):
        """Whether each row of [lo, hi) (hi < 0: to the end) holds another string than the row before it."""
        if hi < 0:
            hi = len(off) - 1
        out = np.zeros(hi - lo, dtype=np.bool_)
        for i in range(lo, hi):
            out[i - lo] = i == 0 or _cmp(off, data, i, off, data, i - 1) != 0
        return out

    @_jit
    def group_rows(codes, n_groups):
        """Stable counting sort of rows by group code (codes < 0 dropped): (offsets, rows)."""
        counts = np.zeros(n_groups + 1, dtype=np.int64)
        for c in codes:
            if c >= 0:
                counts[c + 1] += 1
        for g in range(n_groups):
            counts[g + 1] += counts[g]
        rows = np.empty(counts[n_groups], dtype=np.int64)
        fill = counts[:-1].copy()
        for i in range(len(codes)):
            c = codes[i]
            if c >= 0:
                rows[fill[c]] = i
                fill[c] += 1
        return counts, rows

    @_jit
    def _better(a, b, key, off, data):
        """Row a ranks above row b: higher float32 score (key), then larger docid (strcmp), as trec_eval's
        comp_sim_docno. Float comparison makes -0.0 tie with 0.0, as in C."""
        if key[a] != key[b]:
            return key[a] > key[b]
        return _cmp(off, data, a, off, data, b) > 0

    @_jit
    def _merge_sort(idx, tmp, key, off, data):
        n = len(idx)
        width = 1
        src, dst = idx, tmp
        while width < n:
            for lo in range(0, n, 2 * width):
                mid = min(lo + width, n)
                hi = min(lo + 2 * width, n)
                i, j, k = lo, mid, lo
                while i < mid and j < hi:
                    if _better(src[j], src[i], key, off, data):
                        dst[k] = src[j]
                        j += 1
                    else:
                        dst[k] = src[i]
                        i += 1
                    k += 1
                while i < mid:
                    dst[k] = src[i]
                    i += 1
                    k += 1
                while j < hi:
                    dst[k] = src[j]
                    j += 1
                    k += 1
            src, dst = dst, src
            width *= 2
        if src is not idx:
            idx[:] = src

    @_jit
    def _descending_word(bits):
        """uint32 word of a float32's bit pattern whose ascending order is the scores' descending order
        (the scalar form of :func:`ltr.metrics.base._descending_key`, computed only for rows that are sorted)."""
        ascending = ~bits if bits >> np.uint32(31) else bits | np.uint32(0x80000000)
        return ~ascending

    @_jit
    def _row(rows, t):
        """Row t of a query's rows: rows[t], or t itself when rows is empty (the input is grouped)."""
        return t if len(rows) == 0 else rows[t]

    @_jit
    def rank_queries(run_start, run_end, run_rows, key, key_bits, doff, ddata,
                     qrels_start, qrels_end, qrels_rows, qoff, qdata, qhash, qlabels, depth):
        """Rank each query's run rows and look up their labels.

        Query q's run rows are ``run_rows[run_start[q]:run_end[q]]`` (its qrels rows likewise); an empty
        ``run_rows`` / ``qrels_rows`` means the rows themselves (a run already grouped by query: no
        gathering). ``key`` holds the float32 scores, ``key_bits`` the same memory viewed as uint32 (the full
        sort turns them into words whose ascending order is the scores' descending order); ``qhash`` the
        :func:`hashes` of the qrels' docids and ``qlabels`` their labels, both in query order (entry t is
        qrels row ``qrels_rows[t]``: each query's entries are read in sequence, not gathered at random).
        Returns (ranked_offsets, ranked_labels, ranked_judged, n_retrieved, pool_labels, pool_offsets, status,
        bad_row): the top ``depth`` (all if depth <= 0) rows per query in rank order; pool_labels holds each
        query's judged labels (>= 0), its first ``depth`` entries (all if depth <= 0) in descending order.
        status 1: duplicate docid in the run (bad_row = run row); 2: in the qrels (bad_row = qrels row).
        Queries are independent, each writing its own slices. The kernel is serial and nogil: callers run
        it on ranges of queries in threads (numba's parallel layers are not fork-safe (GNU OpenMP) or not
        thread-safe (workqueue), and evaluate() runs inside experiment runners and process pools).
        """
        nq = len(run_start)
        n_ret = np.zeros(nq, dtype=np.int64)
        out_off = np.zeros(nq + 1, dtype=np.int64)
        for q in range(nq):
            size = run_end[q] - run_start[q]
            n_ret[q] = size
            out_off[q + 1] = out_off[q] + (size if depth <= 0 or size < depth else depth)
        labels = np.zeros(out_off[nq], dtype=np.float64)
        judged = np.zeros(out_off[nq], dtype=np.bool_)
        pool_off = np.zeros(nq + 1, dtype=np.int64)
        for q in range(nq):
            cnt = 0
            for t in range(qrels_start[q], qrels_end[q]):
                if qlabels[t] >= 0:
                    cnt += 1
            pool_off[q + 1] = pool_off[q] + cnt
        pool = np.empty(pool_off[nq], dtype=np.float64)
        status = np.zeros(nq, dtype=np.int64)
        bad = np.full(nq, -1, dtype=np.int64)
        max_run = 0
        max_qrels = 0
        for q in range(nq):
            max_run = max(max_run, run_end[q] - run_start[q])
            max_qrels = max(max_qrels, qrels_end[q] - qrels_start[q])
        cap_max = 1
        while cap_max < 2 * max(max_run, max_qrels) + 2:
            cap_max *= 2
        # scratch tables, allocated once and cleared per query (only the slots a query used)
        table = np.full(cap_max, -1, dtype=np.int64)
        table_h = np.zeros(cap_max, dtype=np.uint64)
        seen = np.full(cap_max, -1, dtype=np.int64)
        seen_h = np.zeros(cap_max, dtype=np.uint64)
        idx_buf = np.empty(max(max_run, 1), dtype=np.int64)
        tmp_buf = np.empty(max(max_run, 1), dtype=np.int64)
        for q in range(nq):
            # Step 1: hash table of the query's qrels docids (open addressing, linear probing)
            m = qrels_end[q] - qrels_start[q]
            cap = 1
            while cap < 2 * m + 2:
                cap *= 2
            mask = np.uint64(cap - 1)
            for t in range(qrels_start[q], qrels_end[q]):
                r = _row(qrels_rows, t)
                h = qhash[t]
                s = np.int64(h & mask)
                while table[s] >= 0:
                    if table_h[s] == h and _cmp(qoff, qdata, _row(qrels_rows, table[s]), qoff, qdata, r) == 0:
                        status[q] = 2
                        bad[q] = r
                        break
                    s = (s + 1) & (cap - 1)
                if status[q] != 0:
                    break
                table[s] = t
                table_h[s] = h
            if status[q] != 0:
                break
            # Step 2: the query's pool, top `depth` first in descending order
            p0 = pool_off[q]
            k = 0
            for t in range(qrels_start[q], qrels_end[q]):
                v = qlabels[t]
                if v >= 0:
                    pool[p0 + k] = v
                    k += 1
            seg = pool[p0:pool_off[q + 1]]
            if depth <= 0 or k <= depth:
                seg[:] = np.sort(seg)[::-1]
            else:
                for a in range(depth):              # partial selection sort: depth is small here
                    best = a
                    for b in range(a + 1, k):
                        if seg[b] > seg[best]:
                            best = b
                    seg[a], seg[best] = seg[best], seg[a]
            # Step 3: duplicate check of the run's docids (hashes compared before bytes)
            r0, r1 = run_start[q], run_end[q]
            cap2 = 1
            while cap2 < 2 * (r1 - r0) + 2:
                cap2 *= 2
            for t in range(r0, r1):
                r = _row(run_rows, t)
                h = _hash(doff, ddata, r)
                s = np.int64(h & np.uint64(cap2 - 1))
                while seen[s] >= 0:
                    if seen_h[s] == h and _cmp(doff, ddata, seen[s], doff, ddata, r) == 0:
                        status[q] = 1
                        bad[q] = r
                        break
                    s = (s + 1) & (cap2 - 1)
                if status[q] != 0:
                    break
                seen[s] = r
                seen_h[s] = h
            seen[:cap2] = -1
            if status[q] != 0:
                break
            # Step 4: ranking (top `depth` by insertion, or a full merge sort)
            n_out = out_off[q + 1] - out_off[q]
            n_q = r1 - r0
            if n_out == n_q:
                idx = idx_buf[:n_q]
                packed = np.empty(n_q, dtype=np.uint64)
                for t in range(n_q):
                    idx[t] = _row(run_rows, r0 + t)
                    packed[t] = (np.uint64(_descending_word(key_bits[idx[t]])) << np.uint64(32)) | np.uint64(t)
                # one library sort of (score key, position) words, then the merge sort (docid descending)
                # inside runs of equal scores only
                packed.sort()
                tmp = tmp_buf[:n_q]
                for t in range(n_q):
                    tmp[t] = idx[np.int64(packed[t] & np.uint64(0xFFFFFFFF))]
                idx[:] = tmp
                a = 0
                while a < n_q:
                    b = a + 1
                    while b < n_q and key[idx[b]] == key[idx[a]]:
                        b += 1
                    if b - a > 1:
                        _merge_sort(idx[a:b], tmp_buf[a:b], key, doff, ddata)
                    a = b
            else:
                idx = idx_buf[:n_out]
                filled = 0
                for t in range(r0, r1):
                    r = _row(run_rows, t)
                    if filled == n_out and not _better(r, idx[n_out - 1], key, doff, ddata):
                        continue
                    pos = filled if filled < n_out else n_out - 1
                    while pos > 0 and _better(r, idx[pos - 1], key, doff, ddata):
                        idx[pos] = idx[pos - 1]
                        pos -= 1
                    idx[pos] = r
                    if filled < n_out:
                        filled += 1
            # Step 5: labels of the ranked rows
            o = out_off[q]
            for t in range(n_out):
                r = idx[t]
                h = _hash(doff, ddata, r)
                s = np.int64(h & mask)
                lab = 0.0
                jud = False
                while table[s] >= 0:
                    if table_h[s] == h and _cmp(qoff, qdata, _row(qrels_rows, table[s]), doff, ddata, r) == 0:
                        v = qlabels[table[s]]
                        if v >= 0:
                            lab = v
                            jud = True
                        break
                    s = (s + 1) & (cap - 1)
                labels[o + t] = lab
                judged[o + t] = jud
            table[:cap] = -1
        for q in range(nq):
            if status[q] != 0:
                return out_off, labels, judged, n_ret, pool, pool_off, status[q], bad[q]
        return out_off, labels, judged, n_ret, pool, pool_off, 0, -1
