"""An on-disk cache of feature matrices: computed once per (collection, extractor parameters, pairs, code).

Each entry is two files under ``root/<key[:2]>/``:

- ``<key>.npz``: one array per feature column (``np.savez``, read back with ``allow_pickle=False``; no pickle
  anywhere), plus the column names as a unicode array;
- ``<key>.json``: a sidecar with the sha256 of the ``.npz`` bytes, the row count, the columns and what the
  key was built from (for humans).

Both are written atomically (:func:`ltr.atomic.atomic_write`), the ``.npz`` first, so a reader never sees
a sidecar for a half-written matrix. An entry whose sidecar is missing or unreadable, whose ``.npz`` does
not hash to the recorded sha256 or does not load, or whose shape disagrees with the pairs, is treated as
absent: recomputed and rewritten (with a :class:`CacheWarning`).

The key is the sha256 of:

- the collection's content: its documents, queries and links frames (values, index, column names and
  dtypes, via ``pandas.util.hash_pandas_object``), its fields and reference time. Qrels are left out:
  features never read labels;
- the extractor's printed form (``spec()``; ``repr`` for a :class:`~features.base.FeatureSet`, which
  includes its normalisation, plus the learned statistics of a ``scope="global"`` normalisation) and class;
- the pairs (values, index and columns: the output is aligned on the pairs' index);
- the code: ``ltr.__version__`` and the sha256 of the source of every module defining a class in the
  extractor's MRO (e.g. ``features/lexical.py`` and ``features/base.py``) and of ``ltr/text.py`` (the
  tokenizer), read with :mod:`inspect`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import ltr
from features.base import FeatureExtractor, FeatureSet
from ltr.collection import Collection
from ltr.errors import ConfigError
from ltr.atomic import atomic_write, sha256_file

#: modules whose source is part of every key (beyond the extractor's own classes)
CODE_DEPENDENCIES = ("ltr.text",)


class CacheWarning(UserWarning):
    """A cache entry was corrupt or inconsistent and has been recomputed."""


def _hash_frame(h: "hashlib._Hash", frame: pd.DataFrame | None) -> None:
    if frame is None:
        h.update(b"<none>")
        return
    h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    h.update(str(len(frame)).encode())
    # hash_pandas_object hashes object cells by value; categorize=False keeps it independent of repetition
    h.update(pd.util.hash_pandas_object(frame, index=True, categorize=False).to_numpy().tobytes())


_COLLECTION_HASHES: "weakref.WeakKeyDictionary[Collection, tuple]" = weakref.WeakKeyDictionary()


def collection_fingerprint(collection: Collection) -> str:
    """sha256 of the documents, queries and links frames, the fields and the reference time.

    Memoised per collection object while its frames are the same objects (hashing 100k documents takes
    about a second).
    """
    ident = (id(collection.documents), id(collection.queries), id(collection.links), collection.fields,
             repr(collection.reference_time))
    cached = _COLLECTION_HASHES.get(collection)
    if cached is not None and cached[0] == ident:
        return cached[1]
    h = hashlib.sha256()
    for frame in (collection.documents, collection.queries, collection.links):
        _hash_frame(h, frame)
    h.update(repr((tuple(collection.fields), repr(collection.reference_time))).encode())
    digest = h.hexdigest()
    _COLLECTION_HASHES[collection] = (ident, digest)
    return digest


def _module_source_hash(module_name: str) -> str:
    module = sys.modules.get(module_name)
    if module is None:
        __import__(module_name)
        module = sys.modules[module_name]
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):  # no source (frozen/compiled): the version alone identifies the code
        return "<no source>"
    return hashlib.sha256(source.encode()).hexdigest()


def code_fingerprint(extractor: FeatureExtractor | FeatureSet) -> dict[str, str]:
    """``{"ltr": version, module: sha256 of its source, ...}`` for the code that computes the features."""
    extractors = extractor.steps if isinstance(extractor, FeatureSet) else [extractor]
    modules = set(CODE_DEPENDENCIES) | {"features.base"}
    for e in extractors:
        modules |= {k.__module__ for k in type(e).__mro__ if k.__module__.split(".")[0] in ("features", "ltr")}
        modules.add(type(e).__module__)
    out = {"ltr": ltr.__version__}
    out.update({m: _module_source_hash(m) for m in sorted(modules)})
    return out


def _learns_from_pairs(extractor) -> bool:
    return isinstance(extractor, FeatureSet) and extractor.normalize is not None and extractor.scope == "global"


def _describe(extractor) -> str:
    if isinstance(extractor, FeatureSet):
        if _learns_from_pairs(extractor):
            if not hasattr(extractor, "norm_params_"):
                raise ConfigError("FeatureCache: a FeatureSet with scope='global' normalisation learns it from "
                                  "training pairs; fit it with fit(collection, train_pairs) before caching "
                                  "the features of any pairs")
            learned = hashlib.sha256(b"".join(np.ascontiguousarray(a, dtype=np.float64).tobytes()
                                              for a in extractor.norm_params_)).hexdigest()
            return f"{extractor!r}:norm_params={learned}"
        return repr(extractor)
    if isinstance(extractor, FeatureExtractor):
        return f"{type(extractor).__module__}.{type(extractor).__qualname__}:{extractor.spec()}"
    raise ConfigError(f"FeatureCache caches a FeatureExtractor or a FeatureSet, got {type(extractor).__name__}")


class FeatureCache:
    """Feature matrices on disk, keyed by data, parameters and code.

    Parameters
    ----------
    root : path
        A directory (created on first write).

    Attributes
    ----------
    hits, misses : int
        Counts since construction (a corrupt entry counts as a miss).

    Examples
    --------
    >>> cache = FeatureCache("cache/features")                                      # doctest: +SKIP
    >>> X = cache.get_or_compute(collection, BM25(field="title"), pairs)            # doctest: +SKIP
    """

    def __init__(self, root):
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def __repr__(self):
        return f"FeatureCache({str(self.root)!r})"

    def key(self, collection: Collection, extractor, pairs: pd.DataFrame) -> str:
        """The entry's key: sha256 (hex) of collection, extractor, pairs and code fingerprints."""
        h = hashlib.sha256()
        h.update(json.dumps({
            "collection": collection_fingerprint(collection),
            "extractor": _describe(extractor),
            "code": code_fingerprint(extractor),
        }, sort_keys=True).encode())
        _hash_frame(h, pairs)
        h.update(json.dumps([str(c) for c in pairs.columns]).encode())
        return h.hexdigest()

    def paths(self, key: str) -> tuple[Path, Path]:
        folder = self.root / key[:2]
        return folder / f"{key}.npz", folder / f"{key}.json"

    def get_or_compute(self, collection: Collection, extractor, pairs: pd.DataFrame,
                       compute: Callable[[], pd.DataFrame] | None = None) -> pd.DataFrame:
        """The features of ``pairs``: read from the cache, or computed, stored and returned.

        Parameters
        ----------
        collection : Collection
        extractor : FeatureExtractor or FeatureSet
        pairs : DataFrame
        compute : callable or None
            ``compute() -> DataFrame`` on ``pairs.index``; default
            ``extractor.fit_transform(collection, pairs)``, or ``extractor.transform(pairs)`` for a
            :class:`FeatureSet` with ``scope="global"`` normalisation, which must be fitted on training pairs
            first (its learned statistics are part of the key, so features normalised with statistics of
            other training pairs are never reused).

        Returns
        -------
        DataFrame
            The same frame ``compute()`` returned (columns, dtypes, values bit for bit), on ``pairs.index``.
        """
        key = self.key(collection, extractor, pairs)
        cached = self._load(key, pairs)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        if compute is None:
            # a fitted global normalisation is kept (its statistics are in the key); anything else is fitted here
            compute = ((lambda: extractor.transform(pairs)) if _learns_from_pairs(extractor)
                       else (lambda: extractor.fit_transform(collection, pairs)))
        frame = compute()
        self._store(key, frame, pairs, collection, extractor)
        return frame

    # storage ---------------------------------------------------------------------------------------
    def _store(self, key, frame: pd.DataFrame, pairs, collection, extractor) -> None:
        if len(frame) != len(pairs) or not frame.index.equals(pairs.index):
            raise ConfigError(f"FeatureCache: compute() returned {len(frame)} rows not aligned on the pairs' "
                              f"index ({len(pairs)} rows); features must be on pairs.index")
        bad = [c for c in frame.columns if frame[c].dtype.kind not in "fiub"]
        if bad:
            raise ConfigError(f"FeatureCache stores numeric feature columns only; {bad} are not numeric")
        npz, sidecar = self.paths(key)
        arrays = {f"c{i}": frame[c].to_numpy() for i, c in enumerate(frame.columns)}
        arrays["columns"] = np.array([str(c) for c in frame.columns], dtype=str)
        with atomic_write(npz, "wb") as handle:
            np.savez(handle, **arrays)
        meta = {
            "key": key, "sha256": sha256_file(npz), "n_rows": len(frame), "columns": [str(c) for c in frame.columns],
            "extractor": _describe(extractor), "collection": collection.name, "code": code_fingerprint(extractor),
        }
        with atomic_write(sidecar) as handle:
            json.dump(meta, handle, indent=2, sort_keys=True)
            handle.write("\n")

    def _load(self, key: str, pairs: pd.DataFrame) -> pd.DataFrame | None:
        npz, sidecar = self.paths(key)
        if not npz.exists() and not sidecar.exists():
            return None

        def corrupt(why: str):
            warnings.warn(f"feature cache entry {npz} {why}; recomputing it", CacheWarning, stacklevel=3)
            return None

        try:
            meta = json.loads(sidecar.read_text())
            expected_sha, n_rows, columns = meta["sha256"], meta["n_rows"], meta["columns"]
        except (OSError, ValueError, KeyError, TypeError):
            return corrupt("has a missing or unreadable sidecar")
        try:
            if sha256_file(npz) != expected_sha:
                return corrupt("does not match its recorded sha256")
            with np.load(npz, allow_pickle=False) as data:
                names = data["columns"].tolist()
                values = {name: data[f"c{i}"] for i, name in enumerate(names)}
        except (OSError, ValueError, KeyError) as exc:
            return corrupt(f"cannot be read ({type(exc).__name__})")
        if names != columns or n_rows != len(pairs) or any(len(v) != len(pairs) for v in values.values()):
            return corrupt("disagrees with its sidecar or the pairs")
        return pd.DataFrame(values, index=pairs.index, columns=names)


__all__ = ["CacheWarning", "FeatureCache", "code_fingerprint", "collection_fingerprint"]
