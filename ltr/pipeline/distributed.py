"""Feature extraction and first-stage retrieval over Dask dataframes partitioned by query.

The collection statistics (document frequencies, lengths, PageRank, the BM25 index...) are computed once,
by fitting the :class:`~features.base.FeatureSet` or the retriever on the client; the fitted object is then
sent once to every worker (``client.scatter(..., broadcast=True)``) and each partition is transformed
there. Each partition holds whole queries, so per-query steps (per-query normalisation) see every row of
their query and the result equals the single-process one bit for bit.

>>> from ltr.pipeline.distributed import partition_by_query, transform_distributed   # doctest: +SKIP
>>> fs = FeatureSet(["bm25", "tfidf"]).fit(collection)                                 # doctest: +SKIP
>>> feats = transform_distributed(fs, partition_by_query(pairs, 8), cluster="local")   # doctest: +SKIP
>>> feats.compute()                                                                    # doctest: +SKIP

Dask is optional: this module imports it only inside its functions (``pip install 'ltr[dask]'``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltr.errors import ConfigError, GroupError, SchemaError
from ltr.models.distributed import get_client, query_partitions, require_dask
from ltr.schema import QID, QUERY, require_columns

__all__ = ["check_query_partitions", "partition_by_query", "retrieve_distributed", "transform_distributed"]


def _dd():
    require_dask()
    import dask.dataframe as dd
    return dd


def partition_by_query(frame: pd.DataFrame, npartitions: int):
    """A Dask dataframe of ``frame`` with whole queries per partition, about the same rows in each.

    Rows of a query are brought together (queries in order of first appearance, rows of a query in their
    order); the index is kept, so results can be aligned back to ``frame``.

    Parameters
    ----------
    frame : DataFrame
        With a ``qid`` column.
    npartitions : int
        At most this many partitions (fewer if there are fewer queries).
    """
    dd = _dd()
    require_columns(frame, (QID,), caller="partition_by_query")
    if isinstance(npartitions, bool) or not isinstance(npartitions, (int, np.integer)) or npartitions < 1:
        raise ConfigError(f"npartitions must be an int >= 1; got {npartitions!r}")
    codes, _ = pd.factorize(frame[QID], sort=False)
    order = np.argsort(codes, kind="stable")
    grouped = frame.iloc[order]
    sizes = np.bincount(codes)
    offsets = np.r_[0, np.cumsum(sizes)]
    pieces = [grouped.iloc[offsets[a]:offsets[b]] for a, b in query_partitions(sizes, npartitions)]
    pieces = pieces or [frame.iloc[:0]]
    import dask
    # keep the frame's dtypes (qid/docid stay object, as ltr.schema wants; Dask would make them pyarrow strings)
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(_identity, pieces, meta=frame.iloc[:0], enforce_metadata=False)


def _identity(piece):
    return piece


def _summary(part: pd.DataFrame) -> pd.DataFrame:
    """Per partition (on its worker): its distinct qids and whether each one is in one contiguous block."""
    q = part[QID].to_numpy()
    if q.size == 0:
        return pd.DataFrame({QID: pd.Series([], dtype=object), "blocks": pd.Series([], dtype=np.int64)})
    starts = np.r_[0, np.flatnonzero(q[1:] != q[:-1]) + 1]
    vals, blocks = np.unique(q[starts].astype(str), return_counts=True)
    return pd.DataFrame({QID: pd.Series(vals, dtype=object), "blocks": blocks.astype(np.int64)})


def check_query_partitions(ddf, *, client=None) -> None:
    """Check (on the workers) that every partition of ``ddf`` holds whole queries in contiguous blocks and
    that no query appears in two partitions.

    Raises
    ------
    GroupError
        Naming the partition and the query at fault, and how to fix it (:func:`partition_by_query`).
    """
    import dask
    require_columns(ddf._meta, (QID,), caller="check_query_partitions")
    parts = [dask.delayed(_summary)(d) for d in ddf.to_delayed()]
    results = client.compute(parts, sync=True) if client is not None else dask.compute(*parts)
    owner: dict = {}
    for i, summary in enumerate(results):
        split = summary.loc[summary["blocks"] > 1, QID]
        if len(split):
            raise GroupError(f"partition {i} holds query {split.iloc[0]!r} in {int(summary['blocks'].max())} "
                             f"separate blocks; rows of a query must be contiguous. Build the frame with "
                             f"ltr.pipeline.distributed.partition_by_query(frame, n)")
        for q in summary[QID].tolist():
            if q in owner:
                raise GroupError(f"query {q!r} is split between partitions {owner[q]} and {i}; per-query "
                                 f"features would be computed on parts of it. Build the frame with "
                                 f"ltr.pipeline.distributed.partition_by_query(frame, n)")
            owner[q] = i


def _connect(cluster, client):
    if client is not None:
        return client
    if cluster is None:
        raise ConfigError("give cluster= ('local' or a scheduler address) or client= (a distributed.Client)")
    return get_client(cluster)


def _as_ddf(frame, npartitions):
    dd = _dd()
    if isinstance(frame, pd.DataFrame):
        return partition_by_query(frame, npartitions)
    if isinstance(frame, dd.DataFrame):
        return frame
    raise SchemaError(f"expected a pandas or Dask DataFrame; got {type(frame).__name__}")


def _transform_part(part: pd.DataFrame, feature_set) -> pd.DataFrame:
    if len(part) == 0:
        return pd.DataFrame({n: pd.Series([], dtype=np.float32) for n in feature_set.feature_names_out()},
                            index=part.index)
    return feature_set.transform(part)


def transform_distributed(feature_set, pairs, *, cluster=None, client=None, npartitions: int | None = None,
                          check: bool = True):
    """``feature_set.transform`` over a Dask dataframe of pairs, one partition per task.

    Parameters
    ----------
    feature_set : FeatureSet or FeatureExtractor
        Fitted on the client (collection statistics computed once); sent once to every worker.
    pairs : dask or pandas DataFrame
        PAIRS rows (``qid``, ``docid``, plus what the extractors need, e.g. ``query``). A pandas frame is
        cut with :func:`partition_by_query` into ``npartitions`` (default: one per worker).
    cluster : str or dict, optional
        ``"local"`` or a scheduler address (as for ``Ranker(cluster=...)``), unless ``client`` is given.
    client : distributed.Client, optional
    check : bool, default=True
        Check that partitions hold whole queries (:func:`check_query_partitions`) first.

    Returns
    -------
    dask.dataframe.DataFrame
        The float32 feature columns (``feature_set.feature_names_out()``) on the pairs' index; lazy until
        ``.compute()`` / ``.persist()``. Equal to ``feature_set.transform(pairs)`` bit for bit.
    """
    client = _connect(cluster, client)
    ddf = _as_ddf(pairs, npartitions or len(client.nthreads()) or 1)
    if check:
        check_query_partitions(ddf, client=client)
    shared = client.scatter(feature_set, broadcast=True, hash=False)
    meta = pd.DataFrame({n: pd.Series([], dtype=np.float32) for n in feature_set.feature_names_out()},
                        index=ddf._meta.index)
    return ddf.map_partitions(_transform_part, shared, meta=meta, enforce_metadata=False)


def _retrieve_part(part: pd.DataFrame, retriever, k) -> pd.DataFrame:
    import warnings
    with warnings.catch_warnings():      # the client warns once, below, about queries that retrieve nothing
        warnings.simplefilter("ignore", UserWarning)
        return retriever.retrieve(part, k)


def retrieve_distributed(retriever, queries, k: int | None = None, *, cluster=None, client=None,
                         npartitions: int | None = None):
    """``retriever.retrieve(queries, k)`` with the queries spread over the workers.

    Parameters
    ----------
    retriever : FirstStage
        Fitted on the client (the index is built once); sent once to every worker.
    queries : dask or pandas DataFrame
        ``qid``, ``query``; one row per query.
    k : int, optional
        Documents per query (default: the retriever's ``k``).

    Returns
    -------
    dask.dataframe.DataFrame
        The RUN frame (``qid``, ``docid``, ``score``, ``rank``), queries in partition order; equal to
        ``retriever.retrieve(queries, k)`` bit for bit after ``.compute().reset_index(drop=True)``.
    """
    client = _connect(cluster, client)
    ddf = _as_ddf(queries, npartitions or len(client.nthreads()) or 1)
    require_columns(ddf._meta, (QID, QUERY), caller="retrieve_distributed")
    if not hasattr(retriever, "n_docs_"):
        retriever.retrieve(ddf._meta, k)            # raises the retriever's own NotFittedError
    shared = client.scatter(retriever, broadcast=True, hash=False)
    meta = retriever.retrieve(ddf._meta, k)      # an empty RUN frame with the right dtypes
    return ddf.map_partitions(_retrieve_part, shared, k, meta=meta, enforce_metadata=False)
