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

from collections.abc import Iterable

import pandas as pd

from ltr.collection import LINK_SOURCE, LINK_TARGET, TIMESTAMP, URL, Collection
from ltr.errors import ParseError
from ltr.io import _text as T
from ltr.io.jsonl import DOC_RESERVED, default_name, parse_times, read_any_qrels, reference
from ltr.schema import DOCID, QID, QUERY, QUERY_TIME

__all__ = ["load_tsv", "read_tsv"]


def read_tsv(path, required, *, encoding: str = "utf-8") -> pd.DataFrame:
    """A TSV file with a header row as a frame of str (object) columns, plus the line of each row in
    ``frame.attrs["lines"]``; ParseError naming the line for undecodable bytes, a line with more cells than
    the header, a header without the ``required`` columns or with a repeated one, or an empty file.

    The file is split by hand (tabs, no quoting): pandas' reader would silently turn the extra cells of a
    long line into an index.
    """
    lines = T.split_lines(T.read_text(path, encoding=encoding))
    numbered = [(i, line) for i, line in enumerate(lines, 1) if line != ""]
    if not numbered:
        raise ParseError(f"empty file: expected a header row with the columns {list(required)}", path=str(path))
    header_line, header_text = numbered[0]
    header = header_text.split("\t")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise ParseError(f"the header repeats the columns {dup}", path=str(path), line=header_line)
    missing = [c for c in required if c not in header]
    if missing:
        raise ParseError(f"the header lacks columns {missing} (found {header})", path=str(path), line=header_line)
    rows, row_lines = [], []
    width = len(header)
    for i, line in numbered[1:]:
        cells = line.split("\t")
        if len(cells) > width:
            raise ParseError(f"{len(cells)} tab-separated cells but the header has {width} ({header}); a tab "
                             f"inside a field is not possible in this format", path=str(path), line=i)
        rows.append(cells + [""] * (width - len(cells)))
        row_lines.append(i)
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else \
        pd.DataFrame({h: pd.Series([], dtype=object) for h in header})
    frame.attrs["lines"] = row_lines
    return frame


def load_tsv(docs_path, queries_path, qrels_path=None, *, links_path=None, name: str | None = None,
             fields: Iterable[str] | None = None, reference_time=None, encoding: str = "utf-8") -> Collection:
    """A collection from TSV files with a header row (``docid`` + fields + optional ``url``/``timestamp``;
    ``qid``, ``query`` + optional ``query_time``); qrels as for :func:`ltr.io.jsonl.load_jsonl`; links from an
    optional ``source<TAB>target`` file (header optional). ``name`` defaults to the folder's name when the
    documents file is ``docs.tsv``, else the file's stem."""
    notes: list[str] = []
    docs = read_tsv(docs_path, [DOCID], encoding=encoding)
    empty = [i for i, d in enumerate(docs[DOCID]) if not d.strip()]
    if empty:
        raise ParseError("empty docid", path=str(docs_path), line=docs.attrs["lines"][empty[0]])
    T.check_unique(docs[DOCID], what="document", path=docs_path)
    fields = tuple(c for c in docs.columns if c not in DOC_RESERVED) if fields is None else tuple(fields)
    if TIMESTAMP in docs.columns:
        docs[TIMESTAMP] = parse_times(docs[TIMESTAMP].tolist(), None, what="timestamp", notes=notes).to_numpy()
    if URL in docs.columns:
        docs[URL] = docs[URL].where(docs[URL] != "", None)
    queries = read_tsv(queries_path, [QID, QUERY], encoding=encoding)
    empty = [i for i, q in enumerate(queries[QID]) if not q.strip()]
    if empty:
        raise ParseError("empty qid", path=str(queries_path), line=queries.attrs["lines"][empty[0]])
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
