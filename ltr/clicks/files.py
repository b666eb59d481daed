"""Click-log files: TSV (with a header), JSONL and Parquet, read and written; the Yandex sample format read.

The format comes from the suffix (``.tsv``, ``.jsonl``/``.ndjson``, ``.parquet``/``.pq``, each optionally
``.gz`` for the text formats); a file without a known suffix is recognised from its first bytes (Parquet's
``PAR1`` magic, a JSON object, a TSV header naming ``session``, or the Yandex sample format). Pass
``format=`` to say it outright.

Every format holds the same table (:data:`ltr.clicks.log.CLICK_LOG` plus the optional columns): one
impression per TSV line / JSON object / Parquet row. An empty ``position`` (TSV), ``null`` (JSON) or null
(Parquet) marks a click on a document that was not shown (dropped and counted, see
:data:`ltr.clicks.log.DROP_RULES`). Writers are atomic and read back equal.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ltr.atomic import atomic_write
from ltr.clicks.log import (CLICK_LOG, OPTIONAL_COLUMNS, ORIGINAL_POSITION, POSITION, RANKER, ClickLog,
                            RowNumbers)
from ltr.clicks.yandex import looks_like_yandex, read_yandex
from ltr.errors import ParseError, SchemaError
from ltr.naming import select

__all__ = ["FORMATS", "detect_format", "read_clicks", "write_clicks"]

_SUFFIXES = {".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def detect_format(path) -> str:
    """``"tsv"``, ``"jsonl"``, ``"parquet"`` or ``"yandex"``: from the suffix, else from the first bytes."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    if p.is_dir():
        return "parquet"            # a Parquet dataset folder
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        head = gzip.open(p).read(4096)
    text = head.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "jsonl"
    first = stripped.split("\n", 1)[0]
    if "session" in first.split("\t") and "qid" in first.split("\t"):
        return "tsv"
    if looks_like_yandex(text):
        return "yandex"
    raise ParseError("cannot tell the click-log format from the name or the first bytes; use a .tsv, .jsonl "
                     "or .parquet suffix, or pass format='tsv' | 'jsonl' | 'parquet' | 'yandex' "
                     "(CLI: --format)", path=str(path), line=1)


def read_clicks(path, *, format: str | None = None, name: str | None = None) -> ClickLog:
    """Read a click log (TSV, JSONL, Parquet or the Yandex sample format) and validate it.

    Parameters
    ----------
    path : str or Path
    format : {"tsv", "jsonl", "parquet", "yandex"}, optional
        Default: :func:`detect_format`.
    name : str, optional
        Name used in messages and the summary; default the path as given.

    Returns
    -------
    ClickLog

    Raises
    ------
    ParseError
        Naming the file and line (row for Parquet, line and record for the Yandex format) for every
        malformed case listed in :mod:`ltr.clicks.log`.
    """
    fmt = format or detect_format(path)
    reader = select(FORMATS, fmt, what="click-log format")[0]
    return reader(Path(path), name or str(path))


def write_clicks(log: ClickLog, path, *, format: str | None = None) -> None:
    """Write a click log atomically as TSV (with a header), JSONL or Parquet (from the suffix)."""
    fmt = format or detect_format_for_writing(path)
    writer = select(FORMATS, fmt, what="click-log format")[1]
    if writer is None:
        raise SchemaError(f"the {fmt!r} format is read-only (PyClick's sample format has no session ids or "
                          f"positions); write .tsv, .jsonl or .parquet")
    writer(log, Path(path))


def detect_format_for_writing(path) -> str:
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise SchemaError(f"cannot tell the format to write from {str(path)!r}: use a .tsv, .jsonl or .parquet "
                      f"suffix (or pass format=)")


_COLUMN_ORDER = list(CLICK_LOG) + list(OPTIONAL_COLUMNS)


def _columns(log: ClickLog) -> list[str]:
    return list(CLICK_LOG) + [c for c in OPTIONAL_COLUMNS if c in log.frame.columns]


# -- TSV -------------------------------------------------------------------------------------------
def _open_text(path: Path):
    if path.suffix.lower() == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, "r", encoding="utf-8", newline="")


def _check_fields(raw: bytes, n_fields: int, name: str) -> np.ndarray:
    """Count the TABs of every line (vectorised); a line with the wrong number of fields is refused with
    its number. Returns the 1-based numbers of the non-blank data lines (after the header)."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    ends = np.r_[newlines, len(buf)] if (len(buf) and buf[-1] != 10) else newlines
    starts = np.r_[0, newlines + 1][: len(ends)]
    tabs = np.r_[0, np.cumsum(buf == 9)]
    per_line = tabs[ends] - tabs[starts]
    length = ends - starts
    if len(length):
        cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
        length = length - cr
    blank = length == 0
    wrong = ~blank & (per_line != n_fields - 1)
    wrong[0] = False                                   # the header was checked by name
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ParseError(f"expected {n_fields} tab-separated fields as in the header, found {int(per_line[i]) + 1}",
                         path=name, line=i + 1)
    return np.flatnonzero(~blank)[1:] + 1


def _read_tsv(path: Path, name: str) -> ClickLog:
    raw = gzip.open(path).read() if path.suffix.lower() == ".gz" else path.read_bytes()
    try:
        first = raw.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise ParseError("not UTF-8 text", path=name, line=1) from None
    header = first.split("\t")
    missing = [c for c in CLICK_LOG if c not in header]
    if missing:
        raise ParseError(f"the header must name the columns {list(CLICK_LOG)} (tab-separated), missing {missing}; "
                         f"found {header}", path=name, line=1)
    lines = _check_fields(raw, len(header), name)
    try:
        frame = pd.read_csv(io.BytesIO(raw), sep="\t", dtype=object, keep_default_na=False, na_filter=False,
                            quoting=csv.QUOTE_NONE, skip_blank_lines=True, engine="c")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text: {exc.reason}", path=name) from None
    if len(frame) != len(lines):
        raise ParseError(f"read {len(frame)} rows but counted {len(lines)} data lines; this is a bug in ltr; "
                         f"please report it.", path=name)
    return ClickLog.from_frame(frame, source=name, path=name, lines=lines)


def _check_tsv_ids(log: ClickLog, path: Path) -> None:
    for c in ("session", "qid", "docid", RANKER):
        if c not in log.frame.columns:
            continue
        cats = pd.Index(log.frame[c].cat.categories.astype(str))
        bad = cats.str.contains(r"[\t\r\n]", regex=True)
        if bad.any():
            raise SchemaError(f"cannot write {path}: {c} {cats[bad][0]!r} holds a TAB or a line break, which TSV "
                              f"cannot carry; write .jsonl or .parquet instead")


def _write_tsv(log: ClickLog, path: Path) -> None:
    _check_tsv_ids(log, path)
    frame = log.frame[_columns(log)]
    compression = "gzip" if path.suffix.lower() == ".gz" else None
    if compression:
        with atomic_write(path, "wb") as fh:
            with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
                gz.write(frame.to_csv(sep="\t", index=False, lineterminator="\n").encode("utf-8"))
        return
    with atomic_write(path, "w", encoding="utf-8") as fh:
        frame.to_csv(fh, sep="\t", index=False, lineterminator="\n")


# -- JSONL -----------------------------------------------------------------------------------------
def _read_jsonl(path: Path, name: str) -> ClickLog:
    records, lines = [], []
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParseError(f"not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON "
                                 f"object such as {{\"session\": \"s1\", \"qid\": \"q1\", \"docid\": \"d1\", "
                                 f"\"position\": 1, \"click\": 0}}", path=name, line=lineno) from None
            if not isinstance(obj, dict):
                raise ParseError(f"expected a JSON object, got {type(obj).__name__}", path=name, line=lineno)
            records.append(obj)
            lines.append(lineno)
    if not records:
        raise ParseError("no impressions (the file is empty)", path=name)
    frame = pd.DataFrame.from_records(records)
    missing = [c for c in CLICK_LOG if c not in frame.columns]
    if missing:
        raise ParseError(f"the objects lack the keys {missing}; every line needs {list(CLICK_LOG)}",
                         path=name, line=lines[0])
    for c in CLICK_LOG:
        # a key absent from one object shows as NaN; a position may be null (not shown), the rest may not
        if c == POSITION:
            continue
        no_key = np.fromiter((c not in r for r in records), bool, len(records))
        if no_key.any():
            row = int(np.flatnonzero(no_key)[0])
            raise ParseError(f"the object lacks the key {c!r}; every line needs {list(CLICK_LOG)}",
                             path=name, line=lines[row])
    return ClickLog.from_frame(frame, source=name, path=name, lines=np.asarray(lines))


def _write_jsonl(log: ClickLog, path: Path) -> None:
    frame = log.to_frame(categorical=False)[_columns(log)]
    if ORIGINAL_POSITION in frame.columns:
        frame[ORIGINAL_POSITION] = frame[ORIGINAL_POSITION].astype(object).where(frame[ORIGINAL_POSITION].notna(),
                                                                                 None)
    text = frame.to_json(orient="records", lines=True, force_ascii=False)
    if text and not text.endswith("\n"):
        text += "\n"
    if path.suffix.lower() == ".gz":
        with atomic_write(path, "wb") as fh:
            with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
                gz.write(text.encode("utf-8"))
        return
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)


# -- Parquet ---------------------------------------------------------------------------------------
def _read_parquet(path: Path, name: str) -> ClickLog:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        table = ds.dataset(str(path), format="parquet").to_table()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ParseError(f"not a readable Parquet file or dataset: {exc}", path=name) from None
    missing = [c for c in CLICK_LOG if c not in table.column_names]
    if missing:
        raise ParseError(f"the Parquet schema lacks the columns {missing}; it needs {list(CLICK_LOG)} "
                         f"(found {table.column_names})", path=name)
    frame = table.to_pandas(strings_to_categorical=True)
    return ClickLog.from_frame(frame, source=name, path=name, lines=RowNumbers(len(frame)))


def parquet_table(log: ClickLog):
    """The log as a pyarrow Table: ids dictionary-encoded strings, position int32, click int8.

    A log that holds only its SERP matrix (a simulated one) is converted straight from the matrix, without
    building the pandas frame (10^7 impressions: a fraction of a second instead of seconds).
    """
    import pyarrow as pa

    if log._matrix_born:
        return _table_from_matrix(log)
    frame = log.frame[_columns(log)]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata(None)


def _table_from_matrix(log: ClickLog):
    import pyarrow as pa

    m = log._matrix
    mask = m.mask
    n = m.n_serps
    serp_of = np.repeat(np.arange(n, dtype=np.int32), m.length)
    if log._session_ids is None:
        sessions = pa.array(np.arange(n)).cast(pa.string())
    else:
        sessions = pa.array(np.asarray(log._session_ids, dtype=object).astype(str))
    d_codes, d_uniq = pd.factorize(np.asarray(m.pair_docid, dtype=object), sort=False)
    doc = d_codes[m.pair[mask]]
    used = np.zeros(len(d_uniq), dtype=bool)
    used[doc] = True
    remap = (np.cumsum(used) - 1).astype(np.int32)

    def dictionary(codes, values):
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), values)

    cols = {
        "session": dictionary(serp_of, sessions),
        "qid": dictionary(m.query.astype(np.int32)[serp_of], pa.array(np.asarray(m.queries, dtype=object))),
        "docid": dictionary(remap[doc], pa.array(np.asarray(d_uniq, dtype=object)[used])),
        POSITION: pa.array(np.nonzero(mask)[1].astype(np.int32) + 1),
        "click": pa.array(m.click[mask].astype(np.int8)),
    }
    for name, values in log._extra.items():
        if isinstance(values, tuple):
            codes, cats = values
            cols[name] = dictionary(np.repeat(np.asarray(codes), m.length), pa.array([str(c) for c in cats]))
        else:
            cols[name] = pa.array(values[mask].astype(np.int32))
    order = [c for c in _COLUMN_ORDER if c in cols]
    return pa.table([cols[c] for c in order], names=order)


def _write_parquet(log: ClickLog, path: Path) -> None:
    import pyarrow.parquet as pq

    table = parquet_table(log)
    # dictionary-encode the columns with few distinct values only: a dictionary of 10^6 session ids
    # overflows the dictionary page and costs more than it saves (3x the writing time on 10^7 rows)
    small = [c for c in ("qid", "docid", RANKER) if c in table.column_names]
    with atomic_write(path, "wb") as fh:
        pq.write_table(table, fh, compression="zstd", use_dictionary=small)


FORMATS = {
    "tsv": (_read_tsv, _write_tsv),
    "jsonl": (_read_jsonl, _write_jsonl),
    "parquet": (_read_parquet, _write_parquet),
    "yandex": (lambda path, name: read_yandex(path, name=name), None),
}
"""format name -> (reader, writer or None)."""
