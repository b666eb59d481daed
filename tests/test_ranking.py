"""RankingDataset helpers whose cost grows with the data: the fingerprint and the synthetic docids.

Oracles: hashlib over the arrays' bytes (the fingerprint's definition); the zero-padded row numbers written
out by hand; tracemalloc's count of the bytes allocated (neither may copy X or make one str per row).
"""

from __future__ import annotations

import hashlib
import tracemalloc

import numpy as np
import scipy.sparse as sp

from ltr.ranking import RankingDataset, synthetic_docids


def _reference_fingerprint(ds: RankingDataset) -> str:
    h = hashlib.sha256()
    parts = (ds.X.indptr, ds.X.indices, ds.X.data) if sp.issparse(ds.X) else (ds.X,)
    for part in parts:
        h.update(part.tobytes())
    h.update(ds.labels.tobytes())
    for arr in (ds.qids, ds.docids, np.asarray(ds.feature_names, dtype=object)):
        h.update("\x1f".join(arr.tolist()).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def test_fingerprint_is_the_hash_of_the_bytes_and_copies_nothing():
    """Oracle: hashlib on .tobytes() of each part; tracemalloc (X is 40 MB; the fingerprint used to copy it)."""
    rng = np.random.default_rng(0)
    X = rng.random((100_000, 100)).astype(np.float32)
    ds = RankingDataset(X, rng.integers(0, 3, 100_000).astype(float), np.repeat(np.arange(1000).astype(str), 100))
    assert ds.fingerprint() == _reference_fingerprint(ds)
    tracemalloc.start()
    try:
        ds.fingerprint()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 10, peak
    small = RankingDataset(sp.csr_matrix(X[:50]), ds.labels[:50], ds.qids[:50])
    assert small.fingerprint() == _reference_fingerprint(small)


def test_synthetic_docids_share_one_string_per_position():
    """Oracle: the row numbers within each query, zero-padded to the widest (written out)."""
    assert synthetic_docids([2, 11, 1]).tolist() == ["00", "01"] + [f"{i:02d}" for i in range(11)] + ["00"]
    ids = synthetic_docids([1000] * 200)
    assert ids[0] is ids[1000] and len({id(x) for x in ids}) == 1000
