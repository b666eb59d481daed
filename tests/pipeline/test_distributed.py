"""Feature extraction and first-stage retrieval over Dask dataframes (ltr.pipeline.distributed) against the
same calls in one process. One LocalCluster (2 worker processes) for the module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.base import FeatureSet, available
from ltr.errors import ConfigError, GroupError
from ltr.pipeline import BM25Retriever
from ltr.pipeline.distributed import (
    check_query_partitions,
    partition_by_query,
    retrieve_distributed,
    transform_distributed,
)
from tests.features.conftest import make_tiny_collection, make_tiny_pairs

pytestmark = pytest.mark.dask
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(lc, set_as_default=False)
    yield c
    c.close()
    lc.close()


@pytest.fixture(scope="module")
def tiny():
    collection = make_tiny_collection()
    return collection, make_tiny_pairs(collection)


def test_partition_by_query_keeps_whole_queries_and_the_index(tiny):
    """Oracle: the input frame (same rows and index; each qid in exactly one partition)."""
    _, pairs = tiny
    ddf = partition_by_query(pairs, 2)
    parts = [p.compute(scheduler="sync") for p in ddf.to_delayed()]
    assert len(parts) == 2
    assert [set(p["qid"]) for p in parts] in ([{"q1", "q2"}, {"q3"}], [{"q1"}, {"q2", "q3"}])
    both = pd.concat(parts)
    pd.testing.assert_frame_equal(both.loc[pairs.index], pairs)


@pytest.mark.parametrize("normalize", [None, "minmax"])
def test_transform_distributed_equals_local_bit_for_bit(client, tiny, normalize):
    """Oracle: FeatureSet.transform in this process, every registered extractor, fitted once on the client."""
    collection, pairs = tiny
    fs = FeatureSet(available(), normalize=normalize).fit(collection)
    local = fs.transform(pairs)
    out = transform_distributed(fs, pairs, client=client, npartitions=3).compute(scheduler=client.get)
    pd.testing.assert_frame_equal(out.loc[local.index], local, check_exact=True)


def test_transform_distributed_zscore_within_float32_rounding(client, tiny):
    """Oracle: FeatureSet.transform in this process. Per-query z-scores come from pandas groupby statistics,
    whose rounding depends on how the frame's rows are laid out (measured: the same query's rows, in the
    same order, give a mean 1 ulp apart once other queries' rows are interleaved), so this one is
    compared to an absolute 4 float32 steps at magnitude 2 (9.5e-7; measured: 1.2e-7) instead of bit for
    bit; raw and min-max features are exact (above)."""
    collection, pairs = tiny
    fs = FeatureSet(available(), normalize="zscore").fit(collection)
    local = fs.transform(pairs)
    out = transform_distributed(fs, pairs, client=client, npartitions=3).compute(scheduler=client.get)
    out = out.loc[local.index]
    assert list(out.columns) == list(local.columns) and (out.dtypes == np.float32).all()
    np.testing.assert_allclose(out.to_numpy(), local.to_numpy(), rtol=0, atol=4 * np.spacing(np.float32(2)))


def test_retrieve_distributed_equals_local_bit_for_bit(client, tiny):
    """Oracle: BM25Retriever.retrieve in this process (index built once on the client)."""
    collection, _ = tiny
    retriever = BM25Retriever(k=4).fit(collection)
    queries = collection.queries[["qid", "query"]]
    with pytest.warns(UserWarning, match="retrieved no document"):
        local = retriever.retrieve(queries)
    out = retrieve_distributed(retriever, queries, client=client, npartitions=2).compute(scheduler=client.get)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), local, check_exact=True)


def test_split_queries_are_refused_on_the_workers(client, tiny):
    """Oracle: a frame cut by row position (dask.dataframe.from_pandas), which splits and interleaves
    queries: the check names the query and the fix."""
    import dask.dataframe as dd
    collection, pairs = tiny
    fs = FeatureSet(["bm25"]).fit(collection)
    cut = dd.from_pandas(pairs, npartitions=2, sort=False)
    with pytest.raises(GroupError, match="partition_by_query"):
        check_query_partitions(cut, client=client)
    with pytest.raises(GroupError):
        transform_distributed(fs, cut, client=client)
    with pytest.raises(ConfigError, match="cluster="):
        transform_distributed(fs, pairs)
