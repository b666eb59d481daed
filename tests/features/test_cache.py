"""Tests of features.cache.FeatureCache.

Oracle: the extractor computed directly (the cache returns the same frame bit for bit), counters of calls
to compute(), and deliberately damaged files on disk.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from features.base import FeatureSet
from features.cache import CacheWarning, FeatureCache, code_fingerprint, collection_fingerprint
from features.lexical import BM25, QueryLikelihood, TermMatch
from ltr.collection import Collection
from ltr.errors import ConfigError


class Counter:
    def __init__(self, extractor, collection, pairs):
        self.calls = 0
        self.args = (extractor, collection, pairs)

    def __call__(self):
        self.calls += 1
        extractor, collection, pairs = self.args
        return extractor.fit_transform(collection, pairs)


def test_hit_returns_identical_frame(tmp_path, tiny_collection, tiny_pairs):
    """Oracle: the directly computed frame; compute() runs once."""
    cache = FeatureCache(tmp_path)
    ex = FeatureSet([BM25(), TermMatch(field="title")])
    direct = FeatureSet([BM25(), TermMatch(field="title")]).fit_transform(tiny_collection, tiny_pairs)
    compute = Counter(ex, tiny_collection, tiny_pairs)
    first = cache.get_or_compute(tiny_collection, ex, tiny_pairs, compute)
    second = cache.get_or_compute(tiny_collection, ex, tiny_pairs, compute)
    assert compute.calls == 1 and (cache.hits, cache.misses) == (1, 1)
    pd.testing.assert_frame_equal(first, direct)
    pd.testing.assert_frame_equal(second, direct)  # NaNs, float32 dtype and index all preserved
    assert second.index.equals(tiny_pairs.index)
    # a fresh cache object on the same root reads the entry (default compute = fit_transform)
    third = FeatureCache(tmp_path).get_or_compute(tiny_collection, BM25(), tiny_pairs)
    pd.testing.assert_frame_equal(third, BM25().fit_transform(tiny_collection, tiny_pairs))


def test_key_covers_parameters_pairs_and_data(tmp_path, tiny_collection, tiny_pairs):
    """Oracle: every ingredient of the key changes it; an equal copy does not."""
    cache = FeatureCache(tmp_path)
    base = cache.key(tiny_collection, BM25(), tiny_pairs)
    assert cache.key(tiny_collection, BM25(), tiny_pairs.copy()) == base
    assert cache.key(tiny_collection, BM25(k1=1.2), tiny_pairs) != base
    assert cache.key(tiny_collection, BM25(field="title"), tiny_pairs) != base
    assert cache.key(tiny_collection, QueryLikelihood(), tiny_pairs) != base
    assert cache.key(tiny_collection, BM25(), tiny_pairs.iloc[1:]) != base
    shifted = tiny_pairs.copy()
    shifted.index = shifted.index + 1
    assert cache.key(tiny_collection, BM25(), shifted) != base
    docs = tiny_collection.documents.copy()
    docs.loc[0, "body"] = docs.loc[0, "body"] + " more"
    changed = Collection("tiny", docs, tiny_collection.queries, tiny_collection.qrels, tiny_collection.fields,
                         tiny_collection.links, tiny_collection.reference_time)
    assert collection_fingerprint(changed) != collection_fingerprint(tiny_collection)
    assert cache.key(changed, BM25(), tiny_pairs) != base
    same = Collection("tiny", tiny_collection.documents.copy(), tiny_collection.queries.copy(),
                      tiny_collection.qrels.iloc[:1], tiny_collection.fields, tiny_collection.links.copy(),
                      tiny_collection.reference_time)
    assert cache.key(same, BM25(), tiny_pairs) == base  # qrels are not part of the key
    later = Collection("tiny", tiny_collection.documents, tiny_collection.queries, tiny_collection.qrels,
                       tiny_collection.fields, tiny_collection.links, pd.Timestamp("2030-01-01", tz="UTC"))
    assert cache.key(later, BM25(), tiny_pairs) != base
    assert cache.key(tiny_collection, FeatureSet([BM25()], normalize="zscore"), tiny_pairs) != \
        cache.key(tiny_collection, FeatureSet([BM25()]), tiny_pairs)


def test_code_fingerprint_names_the_modules():
    """Oracle: the modules that define the extractor's classes and the tokenizer."""
    fp = code_fingerprint(BM25())
    assert {"ltr", "features.lexical", "features.base", "ltr.text"} <= set(fp)
    assert all(len(v) == 64 for k, v in fp.items() if k != "ltr")


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "garbage_sidecar", "delete_sidecar", "delete_npz"])
def test_corrupt_entry_is_recomputed(tmp_path, tiny_collection, tiny_pairs, damage):
    """Oracle: the damaged entry is detected (warning), recomputed, rewritten, and equals the direct value."""
    cache = FeatureCache(tmp_path)
    ex = BM25()
    compute = Counter(ex, tiny_collection, tiny_pairs)
    good = cache.get_or_compute(tiny_collection, ex, tiny_pairs, compute)
    npz, sidecar = cache.paths(cache.key(tiny_collection, ex, tiny_pairs))
    if damage == "flip_byte":
        raw = bytearray(npz.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        npz.write_bytes(bytes(raw))
    elif damage == "truncate":
        npz.write_bytes(npz.read_bytes()[:50])
    elif damage == "garbage_sidecar":
        sidecar.write_text("{not json")
    elif damage == "delete_sidecar":
        sidecar.unlink()
    else:
        npz.unlink()
    with pytest.warns(CacheWarning, match="recomputing"):
        again = cache.get_or_compute(tiny_collection, ex, tiny_pairs, compute)
    assert compute.calls == 2
    pd.testing.assert_frame_equal(again, good)
    meta = json.loads(sidecar.read_text())
    assert meta["n_rows"] == len(tiny_pairs) and meta["columns"] == ["bm25__body"]
    assert cache.get_or_compute(tiny_collection, ex, tiny_pairs, compute) is not None and compute.calls == 2


def test_tampered_but_consistent_npz_is_caught(tmp_path, tiny_collection, tiny_pairs):
    """Oracle: a valid .npz with other values fails the sha256 check (no silent wrong features)."""
    cache = FeatureCache(tmp_path)
    good = cache.get_or_compute(tiny_collection, BM25(), tiny_pairs)
    npz, _ = cache.paths(cache.key(tiny_collection, BM25(), tiny_pairs))
    np.savez(npz, c0=np.zeros(len(tiny_pairs), dtype=np.float32), columns=np.array(["bm25__body"]))
    with pytest.warns(CacheWarning, match="sha256"):
        again = cache.get_or_compute(tiny_collection, BM25(), tiny_pairs)
    pd.testing.assert_frame_equal(again, good)


def test_no_pickle_in_entries(tmp_path, tiny_collection, tiny_pairs):
    """Oracle: np.load(allow_pickle=False) reads every array (object arrays would need pickle)."""
    cache = FeatureCache(tmp_path)
    cache.get_or_compute(tiny_collection, TermMatch(), tiny_pairs)
    npz, _ = cache.paths(cache.key(tiny_collection, TermMatch(), tiny_pairs))
    with np.load(npz, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_misaligned_compute_is_refused(tmp_path, tiny_collection, tiny_pairs):
    """Oracle: the documented error."""
    cache = FeatureCache(tmp_path)
    pairs = tiny_pairs.set_axis(tiny_pairs.index + 10)
    with pytest.raises(ConfigError, match="not aligned on the pairs' index"):
        cache.get_or_compute(tiny_collection, BM25(), pairs,
                             lambda: BM25().fit_transform(tiny_collection, pairs).reset_index(drop=True))


def test_global_normalisation_statistics_are_in_the_key(tmp_path, tiny_collection, tiny_pairs):
    """Oracle: FeatureSet.transform with statistics learned on different training pairs."""
    cache = FeatureCache(tmp_path)
    unfitted = FeatureSet([BM25()], normalize="zscore", scope="global")
    with pytest.raises(ConfigError, match="fit it with fit\\(collection, train_pairs\\) before caching"):
        cache.get_or_compute(tiny_collection, unfitted, tiny_pairs)
    a = FeatureSet([BM25()], normalize="zscore", scope="global").fit(tiny_collection, tiny_pairs.iloc[:9])
    b = FeatureSet([BM25()], normalize="zscore", scope="global").fit(tiny_collection, tiny_pairs.iloc[9:])
    got_a = cache.get_or_compute(tiny_collection, a, tiny_pairs)
    got_b = cache.get_or_compute(tiny_collection, b, tiny_pairs)
    assert cache.misses == 2
    pd.testing.assert_frame_equal(got_a, a.transform(tiny_pairs))
    pd.testing.assert_frame_equal(got_b, b.transform(tiny_pairs))
    assert not got_a.equals(got_b)
