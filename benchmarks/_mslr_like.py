"""A synthetic LETOR file of MSLR-WEB30K's shape, written fast (numba) and reproducibly (seeded).

MSLR-WEB30K has 3,771,125 rows in 31,531 queries, 136 features on every line and labels 0-4. The values
are drawn from the 5,000-row sample in ``../shared/data/mslr-web-sample-rankeval`` when it is there (each
generated row copies the feature texts of one sample row, with 30% of its columns taken from other sample
rows with the same label, so features carry the label and the text looks like MSLR's: integers and
6-decimal fractions), and from a seeded synthetic table of the same kinds of text otherwise. Query sizes
follow a log-normal with MSLR's mean (about 120 documents per query), clipped to 2..1,251 (MSLR's largest is
1,251; its single-document queries are left out because ``Ranker`` refuses them for pairwise objectives).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MSLR_ROWS, MSLR_QUERIES, MSLR_FEATURES = 3_771_125, 31_531, 136
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "mslr-web-sample-rankeval" / \
    "msn1.fold1.train.5k.txt"


def _token_table(rng, n_features: int):
    """(labels, token bytes, token offsets (rows, features + 1)) of a source table of value texts."""
    if SAMPLE.is_file() and n_features <= MSLR_FEATURES:
        labels, rows = [], []
        for line in SAMPLE.read_bytes().splitlines():
            toks = line.split()
            labels.append(int(toks[0]))
            rows.append([t.split(b":", 1)[1] for t in toks[2:2 + n_features]])
        source = "the MSLR-WEB 5k sample"
    else:
        n = 5000
        labels = rng.choice(5, n, p=[0.51, 0.32, 0.13, 0.03, 0.01]).tolist()
        rows = []
        kinds = rng.integers(0, 3, n_features)
        for i in range(n):
            lab = labels[i]
            row = []
            for j in range(n_features):
                if kinds[j] == 0:
                    row.append(str(int(rng.poisson(2 + 3 * lab))).encode())
                elif kinds[j] == 1:
                    row.append(f"{rng.gamma(2.0, 3 + lab):.6f}".encode())
                else:
                    row.append(b"0" if rng.random() < 0.4 else f"{rng.random() * (1 + lab) / 5:.6f}".encode())
            rows.append(row)
        source = "a seeded synthetic table (the MSLR sample is absent)"
    flat = b"".join(b"".join(r) for r in rows)
    lengths = np.array([[len(t) for t in r] for r in rows], dtype=np.int64)
    offsets = np.zeros((len(rows), n_features + 1), dtype=np.int64)
    offsets[:, 1:] = np.cumsum(lengths, axis=1)
    offsets += np.r_[0, np.cumsum(lengths.sum(axis=1))[:-1]][:, None]
    return np.array(labels, dtype=np.int64), np.frombuffer(flat, dtype=np.uint8), offsets, source


def _write_rows(out, qid_of_row, src_rows, labels, tok, off, with_qid):  # pragma: no cover - compiled
    """Write rows into ``out`` (uint8); return the bytes used."""
    pos = 0
    n_feat = off.shape[1] - 1
    prefix = np.array([32, 113, 105, 100, 58], dtype=np.uint8)       # " qid:"
    for r in range(len(src_rows)):
        lab = labels[src_rows[r, 0]]
        out[pos] = 48 + lab
        pos += 1
        if with_qid:
            for c in prefix:
                out[pos] = c
                pos += 1
            q = qid_of_row[r]
            digits = 1
            t = q
            while t >= 10:
                t //= 10
                digits += 1
            for k in range(digits - 1, -1, -1):
                out[pos + k] = 48 + q % 10
                q //= 10
            pos += digits
        for j in range(n_feat):
            s = src_rows[r, j]
            out[pos] = 32
            pos += 1
            f = j + 1
            if f >= 100:
                out[pos] = 48 + f // 100
                pos += 1
            if f >= 10:
                out[pos] = 48 + (f // 10) % 10
                pos += 1
            out[pos] = 48 + f % 10
            out[pos + 1] = 58
            pos += 2
            a, b = off[s, j], off[s, j + 1]
            for p in range(a, b):
                out[pos] = tok[p]
                pos += 1
        out[pos] = 10
        pos += 1
    return pos


def query_sizes(rng, n_rows: int, n_queries: int) -> np.ndarray:
    """Log-normal sizes (mean n_rows / n_queries) clipped to 2..1251, adjusted to sum to n_rows."""
    sizes = np.clip(np.round(rng.lognormal(np.log(n_rows / n_queries) - 0.5, 1.0, n_queries)), 2, 1251)
    sizes = np.clip(np.round(sizes * n_rows / sizes.sum()), 2, 1251).astype(np.int64)
    diff = n_rows - int(sizes.sum())
    i = 0
    while diff:
        step = 1 if diff > 0 else -1
        if 2 <= sizes[i % n_queries] + step <= 1251:
            sizes[i % n_queries] += step
            diff -= step
        i += 1
    return sizes


def write_mslr_like(path, *, n_rows: int = MSLR_ROWS, n_queries: int = MSLR_QUERIES,
                    n_features: int = MSLR_FEATURES, seed: int = 0, qids: bool = True,
                    chunk_rows: int = 50_000) -> dict:
    """Write the file (atomically: a temporary name, then a rename); returns what was written.

    ``qids=True`` writes MSLR's ``label qid:<q> 1:<v> ...`` lines; ``qids=False`` writes LightGBM's format
    (no ``qid:``; the group sizes go to ``<path>.query``), which LightGBM's own text loader reads.
    """
    import numba

    rng = np.random.default_rng(seed)
    labels, tok, off, source = _token_table(rng, n_features)
    by_label = [np.flatnonzero(labels == k) for k in range(5)]
    sizes = query_sizes(rng, n_rows, n_queries)
    qid_of_row = np.repeat(np.arange(1, n_queries + 1, dtype=np.int64), sizes)
    kernel = numba.njit(cache=True)(_write_rows)
    max_line = int((off[:, -1] - off[:, 0]).max()) + n_features * 5 + 32
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as handle:
        for lo in range(0, n_rows, chunk_rows):
            hi = min(n_rows, lo + chunk_rows)
            m = hi - lo
            # each row: a label drawn with MSLR's frequencies, one source row of that label, and 30% of its
            # columns from other rows of the same label
            lab = rng.choice(5, m, p=[0.51, 0.32, 0.13, 0.03, 0.01])
            src = np.empty((m, n_features), dtype=np.int64)
            for k in range(5):
                rows = np.flatnonzero(lab == k)
                pool = by_label[k] if len(by_label[k]) else np.arange(len(labels))
                src[rows] = pool[rng.integers(0, len(pool), len(rows))][:, None]
                swap = rng.random((len(rows), n_features)) < 0.3
                src[rows] = np.where(swap, pool[rng.integers(0, len(pool), (len(rows), n_features))], src[rows])
            out = np.empty(m * max_line, dtype=np.uint8)
            used = kernel(out, qid_of_row[lo:hi], src, labels, tok, off, qids)
            handle.write(out[:used].tobytes())
    if not qids:
        query = path.with_name(path.name + ".query")
        query.write_text("".join(f"{s}\n" for s in sizes.tolist()))
    elif path.with_name(path.name + ".query").exists():
        os.unlink(path.with_name(path.name + ".query"))
    os.replace(tmp, path)
    return {"path": str(path), "rows": n_rows, "queries": n_queries, "features": n_features,
            "bytes": path.stat().st_size, "values from": source, "seed": seed, "qids": qids}
