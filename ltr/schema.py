"""Column names and frame shapes that flow between stages.

Data moves in this order: collection -> PAIRS (candidates) -> FEATURES (PAIRS + named float32 columns) ->
model -> RUN -> per-query metrics -> report. Qrels are QRELS. ``qid`` and ``docid`` are always strings.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ltr.errors import GroupError, SchemaError

QID, DOCID, LABEL, SCORE = "qid", "docid", "label", "score"
QUERY = "query"              # query text, optional on PAIRS (lexical extractors need it)
QUERY_TIME = "query_time"    # query time, optional on PAIRS (recency extractors use it)
SOURCE = "source"            # where a candidate came from (first_stage, judged, random, hard)
RANK = "rank"

PAIRS = (QID, DOCID)
QRELS = (QID, DOCID, LABEL)
RUN = (QID, DOCID, SCORE)

FEATURE_DTYPE = np.float32
LABEL_DTYPE = np.float64


def require_columns(frame: pd.DataFrame, required: Iterable[str], *, caller: str) -> None:
    """Raise :class:`SchemaError` if ``frame`` lacks any of ``required``.

    >>> require_columns(pd.DataFrame({"qid": []}), ["qid", "docid"], caller="evaluate")
    Traceback (most recent call last):
    ...
    ltr.errors.SchemaError: evaluate needs columns ['docid'] (found ['qid'])
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{caller} needs a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(f"{caller} needs columns {missing} (found {list(frame.columns)})")


def as_id_array(values) -> np.ndarray:
    """Identifiers as a numpy object array of ``str`` (qids and docids are never numbers)."""
    arr = np.asarray(values)
    if arr.dtype == object and all(type(v) is str for v in arr.ravel()):
        return arr
    return np.array([str(v) for v in arr.ravel()], dtype=object)


def normalize_ids(frame: pd.DataFrame, columns: Iterable[str] = (QID, DOCID)) -> pd.DataFrame:
    """Return a copy of ``frame`` whose id columns hold ``str`` values (object dtype)."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = pd.Series(as_id_array(out[col].to_numpy()), index=out.index, dtype=object)
    return out


def empty_frame(columns: Iterable[str]) -> pd.DataFrame:
    """An empty frame with the given columns (ids object, labels/scores float64)."""
    data = {c: pd.Series([], dtype=object if c in (QID, DOCID, QUERY, SOURCE) else LABEL_DTYPE)
            for c in columns}
    return pd.DataFrame(data)


def check_group_sizes(group_sizes, n_rows: int, *, source: str | None = None) -> np.ndarray:
    """Positive integer query group sizes summing to ``n_rows``, as int64.

    Integral floats are accepted (some callers hand groups over as float arrays). Raises
    :class:`~ltr.errors.GroupError` naming both numbers: ``group sizes sum to 9874 but there are 10000 rows``.
    """
    of = f" of {source}" if source else ""
    sizes = np.asarray(group_sizes)
    if sizes.ndim != 1 or (sizes.size and not (np.issubdtype(sizes.dtype, np.integer)
                                               or (np.issubdtype(sizes.dtype, np.floating)
                                                   and np.all(np.mod(sizes, 1) == 0)))):
        raise GroupError(f"group sizes{of} must be a 1-D array of integers, got {sizes.dtype} with shape "
                         f"{sizes.shape}")
    sizes = sizes.astype(np.int64)
    if sizes.size and sizes.min() <= 0:
        raise GroupError(f"group sizes{of} must be positive; query #{int(np.argmin(sizes))} has size "
                         f"{int(sizes.min())}")
    total = int(sizes.sum())
    if total != n_rows:
        raise GroupError(f"group sizes{of} sum to {total} but there are {n_rows} rows")
    return sizes
