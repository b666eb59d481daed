"""Helpers shared by the readers of text collections (SMART, TREC documents and topics, JSONL, TSV).

Text files are read as UTF-8 (a byte order mark at the start is dropped, as Windows editors write one);
bytes that are not UTF-8 raise a :class:`~ltr.errors.ParseError` naming the line and column, never a
``UnicodeDecodeError`` traceback and never a silent replacement character. Lines end in LF, CRLF or (for
the whole file) CR alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from ltr.collection import LINK_SOURCE, LINK_TARGET
from ltr.errors import DataError, ParseError
from ltr.io import _bytes as B
from ltr.schema import DOCID, LABEL, QID, QUERY


def decode_text(raw: bytes, *, path, encoding: str = "utf-8") -> str:
    """``raw`` decoded (BOM dropped), or a ParseError naming the line and column of the first bad byte."""
    raw = B.strip_bom(raw)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ParseError(f"not valid {encoding} text (byte 0x{raw[err.start]:02x} at column {column}); pass "
                         f"encoding= (e.g. 'latin-1') if the file uses another encoding", path=str(path),
                         line=line) from None
    except LookupError:
        raise ParseError(f"unknown text encoding {encoding!r}", path=str(path)) from None


def read_text(path, *, encoding: str = "utf-8") -> str:
    """The text of a file (see :func:`decode_text`); a missing file is a ParseError naming it."""
    return decode_text(B.read_bytes(path), path=path, encoding=encoding)


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` ending in LF or CRLF (or CR alone when the text has no LF at all).

    Unlike ``str.splitlines`` no other character (form feed, U+2028, ...) ends a line.
    """
    if "\n" not in text and "\r" in text:
        return text.split("\r")
    lines = text.split("\n")
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


_INTEGER = re.compile(r"-?[0-9]+")
_ASCII_SPACE = re.compile(r"[ \t\n\r\x0b\x0c]+")


def fields(line: str) -> list[str]:
    """The whitespace-separated fields of a line; only ASCII whitespace separates (as in the C tools that
    write these files), so a no-break space stays inside its field."""
    return [f for f in _ASCII_SPACE.split(line) if f]


def check_unique(ids: Iterable[str], *, what: str, path) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DataError(f"{path}: duplicate {what} id {i!r}; ids must be unique")
        seen.add(i)


def canonical_number(text: str, *, path, line: int, what: str) -> str:
    """'01' -> '1' (SMART and qrels files zero-pad their ids); ASCII digits with an optional '-' only
    (``int()`` would also take ``1_0``, ``+1`` and non-ASCII digits)."""
    if not _INTEGER.fullmatch(text):
        raise ParseError(f"{what} {text!r} is not an integer", path=str(path), line=line)
    return str(int(text))


def empty_queries() -> pd.DataFrame:
    return pd.DataFrame({QID: pd.Series([], dtype=object), QUERY: pd.Series([], dtype=object)})


def empty_qrels() -> pd.DataFrame:
    return pd.DataFrame({QID: pd.Series([], dtype=object), DOCID: pd.Series([], dtype=object),
                         LABEL: pd.Series([], dtype=np.float64)})


def qrels_frame(rows, *, lines: list[int] | None = None, path=None) -> pd.DataFrame:
    """Qrels frame of (qid, docid, label) rows; with ``lines``, a (qid, docid) judged twice is a DataError
    naming both lines (the rule of every qrels reader here, as trec_eval's)."""
    if lines is not None:
        seen: dict[tuple[str, str], int] = {}
        for (q, d, _), line in zip(rows, lines):
            if (q, d) in seen:
                raise DataError(f"{path}: duplicate (qid, docid) ({q!r}, {d!r}) in the qrels (lines {seen[q, d]}, "
                                f"{line}); each document may appear once per query (trec_eval refuses duplicates)")
            seen[q, d] = line
    if not rows:
        return empty_qrels()
    q, d, lab = zip(*rows)
    return pd.DataFrame({QID: pd.Series(q, dtype=object), DOCID: pd.Series(d, dtype=object),
                         LABEL: np.asarray(lab, dtype=np.float64)})


def drop_unknown_links(links: pd.DataFrame, docids, notes: list[str], where: str) -> pd.DataFrame:
    known = set(docids)
    ok = links[LINK_SOURCE].isin(known) & links[LINK_TARGET].isin(known)
    if (~ok).any():
        notes.append(f"{where}: dropped {int((~ok).sum())} links to or from unknown documents")
    return links[ok].reset_index(drop=True)


def read_columns(path, *, min_cols: int, max_cols: int, encoding: str = "utf-8") -> Iterator[tuple[int, list[str]]]:
    """Whitespace-separated lines as (line number, fields), with a ParseError on the wrong column count."""
    for lineno, raw in enumerate(split_lines(read_text(path, encoding=encoding)), 1):
        parts = fields(raw)
        if not parts:
            continue
        if not min_cols <= len(parts) <= max_cols:
            want = min_cols if min_cols == max_cols else f"{min_cols} to {max_cols}"
            raise ParseError(f"expected {want} whitespace-separated columns, got {len(parts)}: "
                             f"{raw.strip()[:60]!r}", path=str(path), line=lineno)
        yield lineno, parts


def number(text: str, *, path, line: int, what: str, finite: bool = True) -> float:
    """A number with the grammar of :mod:`ltr.io._bytes` (not Python's float(): no ``1_0``, ``infinity``)."""
    try:
        value = B.parse_number(text.encode("utf-8", errors="surrogatepass"))
    except ValueError:
        raise ParseError(f"{what} {text!r} is not a number ({B.NUMBER_HELP})", path=str(path), line=line) from None
    if finite and not np.isfinite(value):
        raise ParseError(f"{what} {text!r} must be a finite number", path=str(path), line=line)
    return value
