"""Aggregating click logs larger than memory: impressions and clicks per (qid, docid, position) in one
streaming pass over a Parquet file or dataset folder.

:func:`aggregate_parquet` reads record batches file by file (``pyarrow.parquet.ParquetFile.iter_batches``,
only the ``by`` columns and ``click``, synchronously, so that no decoded batch waits in memory), aggregates
each batch with Arrow's hash group-by, and merges the partial tables whenever they hold more rows than
``merge_rows``. Memory is bounded by one batch plus the partial aggregates, i.e. by the
number of distinct keys (for IPS training: distinct (qid, docid, position)), not by the number of
impressions: 10^8 impressions of 10^5 keys aggregate in the memory of about one batch and 10^5 keys.

Each batch is checked as it passes: a position that is missing, 0 or negative, or a click that is not 0/1
raises a :class:`~ltr.errors.ParseError` naming the file and the row. The SERP-level checks of
:class:`~ltr.clicks.log.ClickLog` (two documents at one position, repeated clicks, gaps) need whole SERPs
and are not repeated here: the pass assumes a log written by :func:`ltr.clicks.write_clicks` (already
validated), as a streaming job over production logs would after a validation step.

On Dask (``pip install 'ltr[dask]'``) the same aggregation is a groupby over the Parquet partitions,
:func:`aggregate_dask`: each partition is aggregated where it lies and only the partial aggregates travel
(``dd.read_parquet(path, columns=[...]).groupby(by).click.agg(["count", "sum"])``), so a cluster
aggregates logs of any size with memory per worker bounded by its partitions and the keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltr.clicks.log import CLICK, POSITION
from ltr.errors import ParseError, SchemaError
from ltr.schema import DOCID, QID

__all__ = ["StreamStats", "aggregate_parquet", "aggregate_dask"]

_KEYS = (QID, DOCID, POSITION)


@dataclass(frozen=True)
class StreamStats:
    """What a streaming pass did: rows read, batches, merges, the largest partial table, seconds."""

    rows: int
    batches: int
    merges: int
    max_partial_rows: int
    groups: int
    seconds: float


def _check_batch(batch, offset: int, path: str, by) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if POSITION in batch.column_names:
        pos = batch.column(POSITION)
        bad = pc.or_kleene(pc.is_null(pos), pc.less(pos, 1))
        if pc.any(bad).as_py():
            row = offset + int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0]) + 1
            value = pos[row - offset - 1].as_py()
            raise ParseError(f"row {row}: position {value!r} is missing, 0 or negative; a validated log (as written "
                             f"by write_clicks) has 1-based positions", path=path)
    clk = batch.column(CLICK)
    bad = pc.invert(pc.fill_null(pc.is_in(clk, value_set=pa.array([0, 1], type=clk.type)), False))
    if pc.any(bad).as_py():
        row = offset + int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0]) + 1
        raise ParseError(f"row {row}: click {clk[row - offset - 1].as_py()!r} is not 0 or 1", path=path)


def aggregate_parquet(path, by=_KEYS, *, batch_size: int = 1 << 20, merge_rows: int = 1 << 20,
                      progress: bool = False) -> tuple[pd.DataFrame, StreamStats]:
    """Impressions and clicks per ``by`` group of a Parquet log, in one pass with bounded memory.

    Parameters
    ----------
    path : str or Path
        A Parquet file or a folder of Parquet files (a dataset).
    by : sequence of str, default ("qid", "docid", "position")
    batch_size : int, default 2**20
        Rows per record batch.
    merge_rows : int, default 2**20
        Merge the partial aggregates when they exceed this many rows.
    progress : bool, default False
        A tqdm bar over the rows.

    Returns
    -------
    (DataFrame, StreamStats)
        The ``by`` columns (ids as str), ``impressions`` and ``clicks`` (int64), sorted by ``by``; and
        what the pass did.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
    from tqdm.auto import tqdm

    by = list(by)
    t0 = time.perf_counter()
    dataset = ds.dataset(str(path), format="parquet")
    missing = [c for c in by + [CLICK] if c not in dataset.schema.names]
    if missing:
        raise SchemaError(f"{path}: the Parquet schema lacks {missing} (found {dataset.schema.names})")
    total = dataset.count_rows() if progress else None
    bar = tqdm(total=total, unit="rows", unit_scale=True, disable=not progress, desc="aggregate")
    partials: list = []
    partial_rows = merges = batches = rows = max_partial = 0

    def normalise(table):
        # dictionary-encoded ids differ from file to file: aggregate on plain strings
        cols = []
        for name in table.column_names:
            col = table.column(name)
            if pa.types.is_dictionary(col.type):
                col = pc.cast(col, col.type.value_type)
            cols.append(col)
        return pa.table(cols, names=table.column_names)

    def merge(parts):
        table = pa.concat_tables(parts)
        out = table.group_by(by).aggregate([("impressions", "sum"), ("clicks", "sum")])
        return out.rename_columns(by + ["impressions", "clicks"])

    # file by file, batch by batch, synchronously: the dataset scanner decodes ahead of a slow consumer
    # without bound (on 10^8 impressions it held 1 GB of decoded batches), a ParquetFile iterator does not
    def batches_iter():
        for file in dataset.files:
            with pq.ParquetFile(file) as pf:
                yield from pf.iter_batches(batch_size=batch_size, columns=by + [CLICK])

    for batch in batches_iter():
        if batch.num_rows == 0:
            continue
        _check_batch(batch, rows, str(path), by)
        table = normalise(pa.Table.from_batches([batch]))
        table = table.append_column("one", pa.array(np.ones(table.num_rows, dtype=np.int64)))
        table = table.set_column(table.schema.get_field_index(CLICK), CLICK, pc.cast(table.column(CLICK), pa.int64()))
        part = table.group_by(by).aggregate([("one", "sum"), (CLICK, "sum")])
        part = part.rename_columns(by + ["impressions", "clicks"])
        partials.append(part)
        partial_rows += part.num_rows
        max_partial = max(max_partial, partial_rows)
        if partial_rows > merge_rows and len(partials) > 1:
            merged = merge(partials)
            partials, partial_rows, merges = [merged], merged.num_rows, merges + 1
        rows += batch.num_rows
        batches += 1
        bar.update(batch.num_rows)
    bar.close()
    if not partials:
        raise ParseError("no rows", path=str(path))
    result = merge(partials) if len(partials) > 1 else partials[0]
    frame = result.to_pandas()
    for c in by:
        if c != POSITION and frame[c].dtype != object:
            frame[c] = frame[c].astype(str).astype(object)
    frame["impressions"] = frame["impressions"].astype(np.int64)
    frame["clicks"] = frame["clicks"].astype(np.int64)
    frame = frame.sort_values(by, kind="stable").reset_index(drop=True)
    stats = StreamStats(rows=rows, batches=batches, merges=merges, max_partial_rows=max_partial,
                        groups=len(frame), seconds=time.perf_counter() - t0)
    return frame, stats


def aggregate_dask(path, by=_KEYS) -> pd.DataFrame:
    """The same aggregation on Dask: a groupby over the Parquet partitions (needs ``ltr[dask]``).

    Runs on the current Dask scheduler (threads by default; a ``distributed.Client`` if one is active).
    """
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - depends on the installation
        raise SchemaError("aggregate_dask needs Dask: pip install 'ltr[dask]'") from None
    by = list(by)
    df = dd.read_parquet(str(path), columns=by + [CLICK])
    out = df.groupby(by, observed=True)[CLICK].agg(["count", "sum"]).compute()
    out = out.reset_index().rename(columns={"count": "impressions", "sum": "clicks"})
    for c in by:
        if c != POSITION:
            out[c] = out[c].astype(str).astype(object)
    out["impressions"] = out["impressions"].astype(np.int64)
    out["clicks"] = out["clicks"].astype(np.int64)
    return out.sort_values(by, kind="stable").reset_index(drop=True)
