"""Streaming aggregation of Parquet logs (bounded memory) and its Dask form."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ltr.clicks import aggregate, write_clicks
from ltr.clicks.simulate import simulate
from ltr.clicks.stream import aggregate_dask, aggregate_parquet
from ltr.errors import ParseError, SchemaError
from tests.clicks.conftest import random_probabilities, random_run


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A dataset folder of three Parquet files (different dictionaries), 60,000 impressions."""
    folder = tmp_path_factory.mktemp("clicks") / "log"
    folder.mkdir()
    run = random_run(40, 12, seed=2)
    logs = [simulate(run, random_probabilities(run, seed=2), sessions=2000, seed=s, intervention="swap")
            for s in range(3)]
    for i, log in enumerate(logs):
        write_clicks(log, folder / f"part-{i}.parquet")
    return folder, logs


def test_streaming_pass_equals_in_memory_aggregation(dataset):
    """Oracle: ltr.clicks.aggregate on the logs in memory, summed; tiny batches force many merges."""
    folder, logs = dataset
    got, stats = aggregate_parquet(folder, batch_size=1000, merge_rows=2000)
    parts = [aggregate(log) for log in logs]
    import pandas as pd
    expected = (pd.concat(parts).groupby(["qid", "docid", "position"], sort=True)[["impressions", "clicks"]].sum()
                .reset_index())
    assert stats.rows == 60_000 and stats.batches >= 60 and stats.merges >= 1
    assert stats.max_partial_rows <= 2000 + 1000 * 2
    assert got[["qid", "docid"]].values.tolist() == expected[["qid", "docid"]].values.tolist()
    assert got["position"].tolist() == expected["position"].tolist()
    assert got["impressions"].tolist() == expected["impressions"].tolist()
    assert got["clicks"].tolist() == expected["clicks"].tolist()
    per_position, _ = aggregate_parquet(folder, by=["position", "original_position"])
    assert per_position["impressions"].sum() == 60_000


def test_bad_rows_are_named(tmp_path):
    table = pa.table({"session": ["s"] * 3, "qid": ["q"] * 3, "docid": ["a", "b", "c"], "position": [1, 2, 0],
                      "click": [0, 1, 0]})
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(ParseError, match=r"bad.parquet: row 3: position 0 is missing, 0 or negative"):
        aggregate_parquet(tmp_path / "bad.parquet")
    pq.write_table(table.set_column(3, "position", pa.array([1, 2, 3])).set_column(4, "click", pa.array([0, 2, 0])),
                   tmp_path / "bad2.parquet")
    with pytest.raises(ParseError, match=r"row 2: click 2 is not 0 or 1"):
        aggregate_parquet(tmp_path / "bad2.parquet")
    with pytest.raises(SchemaError, match=r"the Parquet schema lacks \['rank'\]"):
        aggregate_parquet(tmp_path / "bad.parquet", by=["qid", "rank"])


@pytest.mark.dask
@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")   # inside dask's Parquet reader
def test_dask_groupby_gives_the_same_aggregate(dataset):
    pytest.importorskip("dask.dataframe")
    folder, _ = dataset
    got = aggregate_dask(folder)
    expected, _ = aggregate_parquet(folder)
    assert got.equals(expected)
