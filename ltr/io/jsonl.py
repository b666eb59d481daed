"""A user's own corpus as JSON Lines: documents, queries and qrels, one JSON object per line.

Three files (UTF-8; blank lines skipped)::

    docs.jsonl     {"docid": "d1", "title": "...", "body": "...", "url": "https://...",
                    "timestamp": "2021-06-15T08:00:00Z", "links": ["d7", "d9"]}
    queries.jsonl  {"qid": "q1", "query": "gradient boosted trees", "query_time": "2022-01-01"}
    qrels.jsonl    {"qid": "q1", "docid": "d1", "label": 2}       (or a TREC qrels file: qid 0 docid label)

``docid``/``qid`` are required (numbers are read as strings). Every other string-valued key of a document
is a text field (``fields=`` picks and orders them; default: the keys in order of first appearance, with
``title`` first when present); ``url``, ``timestamp`` and ``links`` (out-links, a list of docids) are
optional; so is ``query_time``.

Times (``timestamp``, ``query_time``) are either an ISO 8601 string (naive times are taken as UTC; a string
that cannot be read becomes NaT and is counted in ``collection.notes``) or a JSON number, read as **Unix
seconds** (UTC), never as nanoseconds (which would put every document in January 1970). A number beyond
the representable range (after the year 2262: milliseconds, say) is refused with the line, as are other
JSON types (true, objects, lists).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ltr.atomic import atomic_write
from ltr.collection import LINK_SOURCE, LINK_TARGET, TIMESTAMP, URL, Collection
from ltr.errors import DataError, ParseError
from ltr.io import _text as T
from ltr.io.trec import read_qrels
from ltr.schema import DOCID, LABEL, QID, QUERY, QUERY_TIME

__all__ = ["iter_jsonl", "load_jsonl", "read_jsonl_qrels", "write_jsonl"]

DOC_RESERVED = (DOCID, URL, TIMESTAMP, "links")

# Unix seconds that fit a datetime64[ns] (1677-09-21 .. 2262-04-11)
_MIN_SECONDS, _MAX_SECONDS = pd.Timestamp.min.value / 1e9, pd.Timestamp.max.value / 1e9


def iter_jsonl(path, *, encoding: str = "utf-8"):
    """(line number, object) for each non-blank line; ParseError naming the line otherwise."""
    for lineno, raw in enumerate(T.split_lines(T.read_text(path, encoding=encoding)), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON ({exc.msg} at column {exc.colno})", path=str(path), line=lineno) from None
        except RecursionError:
            raise ParseError("invalid JSON (nested too deeply)", path=str(path), line=lineno) from None
        if not isinstance(obj, dict):
            raise ParseError(f"expected a JSON object per line, got {type(obj).__name__}", path=str(path),
                             line=lineno)
        yield lineno, obj


def require_id(obj: dict, key: str, path, lineno: int) -> str:
    value = obj.get(key)
    if (value is None or isinstance(value, (dict, list, bool)) or (isinstance(value, str) and not value.strip())
            or (isinstance(value, float) and not np.isfinite(value))):
        raise ParseError(f"missing or empty {key!r} (keys found: {sorted(obj)[:20]})", path=str(path), line=lineno)
    return str(value)


def parse_times(values: list, lines: list[int] | None, *, what: str, notes: list[str], path=None) -> pd.Series:
    """Times -> UTC timestamps: ISO 8601 strings (unreadable ones -> NaT, counted in the notes) and numbers
    as Unix seconds; other types are a ParseError naming the line (``lines[i]`` of ``values[i]``)."""
    out = pd.Series(pd.NaT, index=range(len(values)), dtype="datetime64[ns, UTC]")
    strings = [i for i, v in enumerate(values) if isinstance(v, str) and v != ""]
    numbers = []
    for i, v in enumerate(values):
        if v is None or isinstance(v, str):
            continue
        line = lines[i] if lines is not None else None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ParseError(f"{what} must be an ISO 8601 string such as '2021-06-15T08:00:00Z' or a number of "
                             f"Unix seconds, got {json.dumps(v)[:40]}", path=None if path is None else str(path),
                             line=line)
        if not (np.isfinite(v) and _MIN_SECONDS <= v <= _MAX_SECONDS):
            raise ParseError(f"{what} {v!r} is not a Unix time in seconds (numbers are read as seconds since "
                             f"1970-01-01 UTC and must fall in 1677..2262; milliseconds? divide by 1000), or "
                             f"write ISO 8601 such as '2021-06-15T08:00:00Z'",
                             path=None if path is None else str(path), line=line)
        numbers.append(i)
    if strings:
        parsed = pd.to_datetime(pd.Series([values[i] for i in strings], dtype=object), errors="coerce", utc=True,
                                format="mixed")
        out.iloc[strings] = parsed.astype("datetime64[ns, UTC]").to_numpy()
        bad = int(parsed.isna().sum())
        if bad:
            notes.append(f"{what}: {bad} unreadable dates set to NaT")
    if numbers:
        seconds = np.array([values[i] for i in numbers], dtype=np.float64)
        # whole seconds and the fraction apart, so that a large integer loses no precision
        whole = np.floor(seconds)
        ns = whole.astype(np.int64) * 1_000_000_000 + np.round((seconds - whole) * 1e9).astype(np.int64)
        out.iloc[numbers] = pd.to_datetime(ns, unit="ns", utc=True).to_numpy()
        notes.append(f"{what}: {len(numbers)} numeric values read as Unix seconds (UTC)")
    return out


def _queries_from_records(records, path, notes) -> pd.DataFrame:
    qids, texts, times, lines = [], [], [], []
    has_time = False
    for lineno, obj in records:
        qids.append(require_id(obj, QID, path, lineno))
        text = obj.get(QUERY)
        if text is not None and not isinstance(text, str):
            raise ParseError(f"'query' must be a string, got {type(text).__name__}", path=str(path), line=lineno)
        texts.append("" if text is None else text)
        has_time = has_time or QUERY_TIME in obj
        times.append(obj.get(QUERY_TIME))
        lines.append(lineno)
    T.check_unique(qids, what="query", path=path)
    out = pd.DataFrame({QID: pd.Series(qids, dtype=object), QUERY: pd.Series(texts, dtype=object)})
    if has_time:
        out[QUERY_TIME] = parse_times(times, lines, what="query_time", notes=notes, path=path).to_numpy()
    return out


def read_jsonl_qrels(path, *, encoding: str = "utf-8") -> pd.DataFrame:
    """``{"qid", "docid", "label"}`` lines -> qrels frame; the same rules as the TREC qrels reader
    (:func:`ltr.io.trec.read_qrels`): a finite numeric label, each (qid, docid) judged once."""
    rows, lines = [], {}
    for lineno, obj in iter_jsonl(path, encoding=encoding):
        qid, docid = require_id(obj, QID, path, lineno), require_id(obj, DOCID, path, lineno)
        label = obj.get(LABEL)
        if isinstance(label, str):
            label = T.number(label, path=path, line=lineno, what="'label'")
        if isinstance(label, bool) or not isinstance(label, (int, float)) or not np.isfinite(label):
            raise ParseError(f"'label' must be a finite number, got {json.dumps(label)[:40]}", path=str(path),
                             line=lineno)
        if (qid, docid) in lines:
            raise DataError(f"{path}: duplicate (qid, docid) ({qid!r}, {docid!r}) in the qrels (lines "
                            f"{lines[qid, docid]}, {lineno}); each document may appear once per query "
                            f"(trec_eval refuses duplicates)")
        lines[qid, docid] = lineno
        rows.append((qid, docid, float(label)))
    return T.qrels_frame(rows)


def read_any_qrels(path, *, encoding: str = "utf-8") -> pd.DataFrame:
    """JSONL qrels, or TREC qrels when the first non-blank line does not start with ``{``."""
    text = T.read_text(path, encoding=encoding)
    first = next((line for line in T.split_lines(text) if line.strip()), "")
    if not first.lstrip().startswith("{"):
        return read_qrels(path)
    return read_jsonl_qrels(path, encoding=encoding)


def default_fields(keys: list[str]) -> tuple[str, ...]:
    fields = [k for k in keys if k not in DOC_RESERVED]
    if "title" in fields:
        fields.remove("title")
        fields.insert(0, "title")
    return tuple(fields)


def default_name(docs_path) -> str:
    """A collection's default name: the folder's name for the usual ``docs.<ext>``, else the file's stem."""
    p = Path(docs_path).resolve()
    return p.parent.name if p.stem == "docs" and p.parent.name else p.stem


def reference(reference_time):
    ref = None if reference_time is None else pd.Timestamp(reference_time)
    if ref is not None and ref.tzinfo is None:
        ref = ref.tz_localize("UTC")
    return ref


def load_jsonl(docs_path, queries_path, qrels_path=None, *, name: str | None = None,
               fields: Iterable[str] | None = None, reference_time=None, encoding: str = "utf-8") -> Collection:
    """A collection from JSONL files (format in this module's docstring).

    Parameters
    ----------
    docs_path, queries_path : path
    qrels_path : path or None
        JSONL (``{"qid", "docid", "label"}``) or TREC qrels (detected from the first line).
    name : str, optional
        Default: the folder's name when the documents file is ``docs.jsonl``, else the file's stem.
    fields : iterable of str or None
        The text fields, in order; default every other string key (``title`` first).
    reference_time : str or Timestamp or None
        The date document ages are measured against when queries have no ``query_time``.
    encoding : str, default="utf-8"

    Raises
    ------
    ParseError
        Invalid JSON, a line that is not an object, a missing id, text that is not valid ``encoding``, a
        timestamp of the wrong type or range (each naming the file and line).
    DataError
        Duplicate document or query ids, a (qid, docid) judged twice.
    """
    notes: list[str] = []
    docs_path = Path(docs_path)
    ids, rows, links, keys, lines = [], [], [], [], []
    for lineno, obj in iter_jsonl(docs_path, encoding=encoding):
        docid = require_id(obj, DOCID, docs_path, lineno)
        ids.append(docid)
        out = obj.get("links")
        if out is not None:
            if not isinstance(out, list) or any(isinstance(t, (dict, list)) or t is None for t in out):
                raise ParseError(f"'links' of document {docid!r} must be a list of docids, got "
                                 f"{json.dumps(out)[:40]}", path=str(docs_path), line=lineno)
            links.extend((docid, str(t)) for t in out)
        for k, v in obj.items():
            if k not in keys and k not in DOC_RESERVED and isinstance(v, str):
                keys.append(k)
        rows.append(obj)
        lines.append(lineno)
    T.check_unique(ids, what="document", path=docs_path)
    fields = default_fields(keys) if fields is None else tuple(fields)
    if not fields:
        raise ParseError("no text field found in the documents (string-valued keys other than "
                         f"{list(DOC_RESERVED)})", path=str(docs_path))
    data = {DOCID: pd.Series(ids, dtype=object)}
    for f in fields:
        values = [r.get(f) for r in rows]
        data[f] = pd.Series(["" if v is None else str(v) for v in values], dtype=object)
    if any(URL in r for r in rows):
        data[URL] = pd.Series([r.get(URL) if isinstance(r.get(URL), str) else None for r in rows], dtype=object)
    docs = pd.DataFrame(data)
    if any(TIMESTAMP in r for r in rows):
        docs[TIMESTAMP] = parse_times([r.get(TIMESTAMP) for r in rows], lines, what="timestamp", notes=notes,
                                      path=docs_path).to_numpy()
    link_frame = None
    if links:
        link_frame = pd.DataFrame({LINK_SOURCE: pd.Series([s for s, _ in links], dtype=object),
                                   LINK_TARGET: pd.Series([t for _, t in links], dtype=object)})
        link_frame = T.drop_unknown_links(link_frame, ids, notes, "links")
    queries = _queries_from_records(iter_jsonl(queries_path, encoding=encoding), Path(queries_path), notes)
    qrels = read_any_qrels(qrels_path, encoding=encoding) if qrels_path else T.empty_qrels()
    return Collection(name or default_name(docs_path), docs, queries, qrels, fields=fields, links=link_frame,
                      reference_time=reference(reference_time), notes=notes)


def write_jsonl(collection: Collection, directory) -> dict[str, Path]:
    """Write ``docs.jsonl``, ``queries.jsonl`` and ``qrels.jsonl`` (atomically) that :func:`load_jsonl`
    reads back into an equal collection. Returns the three paths."""
    directory = Path(directory)
    out = {k: directory / f"{k}.jsonl" for k in ("docs", "queries", "qrels")}
    out_links: dict[str, list[str]] = {}
    if collection.links is not None:
        for s, t in zip(collection.links[LINK_SOURCE], collection.links[LINK_TARGET]):
            out_links.setdefault(s, []).append(t)

    def iso(ts):
        return None if pd.isna(ts) else pd.Timestamp(ts).isoformat()

    with atomic_write(out["docs"]) as handle:
        for row in collection.documents.to_dict("records"):
            obj = {DOCID: row[DOCID]}
            for f in collection.fields:
                obj[f] = "" if row[f] is None or (isinstance(row[f], float) and np.isnan(row[f])) else row[f]
            if URL in row:
                obj[URL] = row[URL] if isinstance(row[URL], str) else None
            if TIMESTAMP in row:
                obj[TIMESTAMP] = iso(row[TIMESTAMP])
            if collection.links is not None:
                obj["links"] = out_links.get(row[DOCID], [])
            handle.write(json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n")
    with atomic_write(out["queries"]) as handle:
        for row in collection.queries.to_dict("records"):
            obj = {QID: row[QID], QUERY: row[QUERY]}
            if QUERY_TIME in row:
                obj[QUERY_TIME] = iso(row[QUERY_TIME])
            handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
    with atomic_write(out["qrels"]) as handle:
        for row in collection.qrels.to_dict("records"):
            handle.write(json.dumps({QID: row[QID], DOCID: row[DOCID], LABEL: float(row[LABEL])}) + "\n")
    return out
