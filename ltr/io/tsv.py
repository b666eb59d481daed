"""A user's own corpus as tab-separated files with a header row (the JSONL format's TSV twin).

- documents: ``docid`` + text fields + optional ``url``, ``timestamp`` (ISO 8601; naive = UTC);
- queries: ``qid``, ``query`` + optional ``query_time``;
- qrels: TREC qrels or JSONL (as for :func:`ltr.io.jsonl.load_jsonl`);
- links: an optional two-column ``source<TAB>target`` file (header optional).

Fields are taken verbatim (no quoting: a tab or newline cannot occur inside a field). Empty cells are empty
texts (or NaT / no URL). A line with more cells than the header is a ParseError naming the line; a line with
fewer is padded with empty cells.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import pandas as pd

from ltr.collection import LINK_SOURCE, LINK_TARGET, TIMESTAMP, URL, Collection
from ltr.errors import ParseError
from ltr.io import _text as T
from ltr.io.jsonl import DOC_RESERVED, default_name, parse_times, read_any_qrels, reference
from ltr.schema import DOCID, QID, QUERY, QUERY_TIME

__all__ = ["load_tsv", "read_tsv"]


def read_tsv(path, required, *, encoding: str = "utf-8") -> pd.DataFrame:
    """A TSV file with a header row as a frame of str (object) columns; ParseError naming the line for
    undecodable bytes, a line with too many cells, a header without the ``required`` columns, an empty file
    or a repeated column name."""
    text = T.read_text(path, encoding=encoding)
    lines = T.split_lines(text)
    if not any(line.strip() for line in lines):
        raise ParseError(f"empty file: expected a header row with the columns {list(required)}", path=str(path))
    header = lines[0].split("\t")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise ParseError(f"the header repeats the columns {dup}", path=str(path), line=1)
    try:
        frame = pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", dtype=str, keep_default_na=False,
                            na_filter=False, quoting=3, skip_blank_lines=True, engine="c")
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ParseError(f"malformed TSV: {exc}", path=str(path), line=int(m.group(1)) if m else None) from None
    except pd.errors.EmptyDataError:
        raise ParseError("empty file: expected a header row", path=str(path)) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ParseError(f"the header lacks columns {missing} (found {list(frame.columns)})", path=str(path),
                         line=1)
    return frame.fillna("").astype(object)


def load_tsv(docs_path, queries_path, qrels_path=None, *, links_path=None, name: str | None = None,
             fields: Iterable[str] | None = None, reference_time=None, encoding: str = "utf-8") -> Collection:
    """A collection from TSV files with a header row (``docid`` + fields + optional ``url``/``timestamp``;
    ``qid``, ``query`` + optional ``query_time``); qrels as for :func:`ltr.io.jsonl.load_jsonl`; links from an
    optional ``source<TAB>target`` file (header optional). ``name`` defaults to the folder's name when the
    documents file is ``docs.tsv``, else the file's stem."""
    notes: list[str] = []
    docs = read_tsv(docs_path, [DOCID], encoding=encoding)
    empty = docs.index[docs[DOCID].str.strip() == ""]
    if len(empty):
        raise ParseError("empty docid", path=str(docs_path), line=int(empty[0]) + 2)
    T.check_unique(docs[DOCID], what="document", path=docs_path)
    fields = tuple(c for c in docs.columns if c not in DOC_RESERVED) if fields is None else tuple(fields)
    if TIMESTAMP in docs.columns:
        docs[TIMESTAMP] = parse_times(docs[TIMESTAMP].tolist(), None, what="timestamp", notes=notes).to_numpy()
    if URL in docs.columns:
        docs[URL] = docs[URL].where(docs[URL] != "", None)
    queries = read_tsv(queries_path, [QID, QUERY], encoding=encoding)
    T.check_unique(queries[QID], what="query", path=queries_path)
    if QUERY_TIME in queries.columns:
        queries[QUERY_TIME] = parse_times(queries[QUERY_TIME].tolist(), None, what="query_time",
                                          notes=notes).to_numpy()
    qrels = read_any_qrels(qrels_path, encoding=encoding) if qrels_path else T.empty_qrels()
    links = None
    if links_path:
        rows = [p[:2] for _, p in T.read_columns(links_path, min_cols=2, max_cols=2, encoding=encoding)]
        if rows and rows[0] == [LINK_SOURCE, LINK_TARGET]:
            rows = rows[1:]
        links = pd.DataFrame(rows, columns=[LINK_SOURCE, LINK_TARGET], dtype=object)
        links = T.drop_unknown_links(links, docs[DOCID], notes, "links")
    return Collection(name or default_name(docs_path), docs, queries, qrels, fields=fields, links=links,
                      reference_time=reference(reference_time), notes=notes)
