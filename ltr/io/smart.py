"""SMART-format collections (CACM, Cranfield, CISI, MED, ... as distributed by Glasgow and Cornell).

A file is a sequence of records; ``.I <id>`` starts a record and a line holding one marker starts a section::

    .I 1
    .T
    Preliminary Report-International Algebraic Language
    .B
    CACM December, 1958
    .X
    100	5	1

Markers: ``.I`` id, ``.T`` title, ``.W`` text, ``.B`` bibliographic source/date, ``.A`` authors, ``.N``
entry info, ``.X`` cross references, ``.K`` keywords, ``.C`` categories.

:func:`load_smart` reads documents, queries and qrels into a :class:`~ltr.collection.Collection`. What a
``.X`` section means differs between collections, so it is a declared option, ``links=`` (see
:data:`SMART_LINK_FORMATS`), as is the reading of ``.B`` dates, ``dates=`` (:data:`SMART_DATE_FORMATS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ltr.collection import LINK_SOURCE, LINK_TARGET, TIMESTAMP, Collection
from ltr.errors import ConfigError, ParseError
from ltr.io import _text as T
from ltr.naming import select
from ltr.schema import DOCID, QID, QUERY

__all__ = ["SMART_DATE_FORMATS", "SMART_LINK_FORMATS", "SMART_MARKERS", "SmartRecord", "load_smart",
           "read_smart", "read_smart_qrels"]

#: SMART section markers: .I id, .T title, .W text, .B bibliographic source/date, .A authors, .N entry
#: info, .X citations, .K keywords, .C categories.
SMART_MARKERS = "ITWBANXKC"
_MARKER = re.compile(r"^\.([A-Z])(?:[ \t]+(.*?))?[ \t]*$")


@dataclass
class SmartRecord:
    """One ``.I`` record: its id, the text of each section, the line where it starts and where each
    section starts (the line of its marker)."""

    id: str
    sections: dict[str, str] = field(default_factory=dict)
    line: int = 0
    section_lines: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return self.sections.get(key, default)


def read_smart(path, *, markers: str = SMART_MARKERS, encoding: str = "utf-8") -> list[SmartRecord]:
    """Parse a SMART file (``.I n`` starts a record; ``.T``, ``.W``, ... start sections).

    Section text is its lines joined by newlines, stripped. A marker repeated inside one record has its text
    appended to the earlier one (Cranfield's records 240, 576 and 578 repeat ``.A``/``.B``/``.W``).
    Lines that start with ``.`` but are not a known marker are text. Raises :class:`ParseError` for text
    before the first ``.I``, a ``.I`` without an id, an unknown marker letter followed by nothing, and bytes
    that are not valid text in ``encoding``.
    """
    path = Path(path)
    records: list[SmartRecord] = []
    current: SmartRecord | None = None
    section: str | None = None
    buffer: list[str] = []

    def flush():
        if current is not None and section is not None:
            text = "\n".join(buffer).strip()
            old = current.sections.get(section)
            current.sections[section] = text if old is None else (old + "\n" + text).strip()

    for lineno, line in enumerate(T.split_lines(T.read_text(path, encoding=encoding)), 1):
        m = _MARKER.match(line)
        if m and m.group(1) in markers:
            key, rest = m.group(1), m.group(2)
            flush()
            buffer = []
            if key == "I":
                ident = T.fields(rest or "")
                if not ident:
                    raise ParseError("'.I' without a record id; expected '.I <id>'", path=str(path), line=lineno)
                current = SmartRecord(ident[0], {}, lineno)
                records.append(current)
                section = None
            else:
                if current is None:
                    raise ParseError(f"section '.{key}' before the first '.I' record", path=str(path), line=lineno)
                section = key
                current.section_lines.setdefault(key, lineno)
                if rest:
                    buffer.append(rest)
            continue
        if m and not m.group(2):
            raise ParseError(f"unknown SMART marker '.{m.group(1)}'; expected one of "
                             f"{['.' + k for k in markers]}", path=str(path), line=lineno)
        if current is None:
            if line.strip():
                raise ParseError(f"text before the first '.I' record: {line[:60]!r}", path=str(path), line=lineno)
            continue
        if section is None:
            if line.strip():
                raise ParseError(f"text after '.I {current.id}' outside any section: {line[:60]!r}",
                                 path=str(path), line=lineno)
            continue
        buffer.append(line)
    flush()
    return records


def records_frame(records: list[SmartRecord], fields: dict[str, str], path) -> pd.DataFrame:
    """Documents frame: ``docid`` (the ``.I`` number without zero padding) + one column per field."""
    ids = [T.canonical_number(r.id, path=path, line=r.line, what="record id") for r in records]
    T.check_unique(ids, what="document", path=path)
    data = {DOCID: pd.Series(ids, dtype=object)}
    for marker, name in fields.items():
        data[name] = pd.Series([r.get(marker, "") for r in records], dtype=object)
    return pd.DataFrame(data)


def smart_queries(path, marker: str = "W", *, encoding: str = "utf-8") -> pd.DataFrame:
    """Queries frame from a SMART file: ``qid`` (``.I`` without zero padding), ``query`` (``marker``'s text
    with whitespace collapsed)."""
    records = read_smart(path, encoding=encoding)
    qids = [T.canonical_number(r.id, path=path, line=r.line, what="query id") for r in records]
    T.check_unique(qids, what="query", path=path)
    text = [" ".join(r.get(marker).split()) for r in records]
    return pd.DataFrame({QID: pd.Series(qids, dtype=object), QUERY: pd.Series(text, dtype=object)})


def read_smart_qrels(path, *, encoding: str = "utf-8") -> pd.DataFrame:
    """SMART relevance files: lines ``qid docid [...] [label]``.

    With 4 columns (CACM's ``qid docid 0 0``) every line is relevant (label 1); with 3 columns the third
    is the label (a number). Ids lose their zero padding (``01`` -> ``1``), as in :func:`records_frame`.
    A (qid, docid) judged twice is a DataError naming both lines.
    """
    rows, lines = [], []
    for lineno, parts in T.read_columns(path, min_cols=3, max_cols=4, encoding=encoding):
        qid = T.canonical_number(parts[0], path=path, line=lineno, what="query id")
        docid = T.canonical_number(parts[1], path=path, line=lineno, what="document id")
        label = 1.0 if len(parts) == 4 else T.number(parts[2], path=path, line=lineno, what="relevance")
        rows.append((qid, docid, label))
        lines.append(lineno)
    return T.qrels_frame(rows, lines=lines, path=path)


# -- .X cross references -----------------------------------------------------------------------------------
def _x_lines(record: SmartRecord, path):
    """(line number, fields) of each non-blank line of a record's .X section."""
    start = record.section_lines.get("X", record.line)
    for i, line in enumerate(record.get("X").splitlines(), 1):
        parts = T.fields(line)
        if parts:
            yield start + i, parts


def _links_frame(pairs) -> pd.DataFrame:
    src, dst = zip(*pairs) if pairs else ((), ())
    return pd.DataFrame({LINK_SOURCE: pd.Series(list(src), dtype=object),
                         LINK_TARGET: pd.Series(list(dst), dtype=object)})


def links_cacm(records: list[SmartRecord], docs: pd.DataFrame, path) -> tuple[pd.DataFrame, str]:
    """CACM's citation format: ``.X`` lines ``other type this``; type 5 means "this cites other or other
    cites this" (no direction), types 4 and 6 (bibliographic coupling, co-citation) are not links.

    Each undirected pair of distinct documents becomes one link from the newer to the older document (the
    citing article appears after the cited one), by the documents' ``timestamp`` column when there is one;
    when both have the same date, or a date is unknown, the higher id cites the lower (CACM's ``.I`` numbers
    mostly follow publication order). Repeated lines (weights) give one link.
    """
    pairs: set[tuple[int, int]] = set()
    for r in records:
        this = int(T.canonical_number(r.id, path=path, line=r.line, what="record id"))
        for lineno, parts in _x_lines(r, path):
            if len(parts) != 3:
                raise ParseError(f"record .I {r.id}: a .X line must have 3 columns 'docid type docid' in CACM's "
                                 f"citation format (links='cacm'), got {' '.join(parts)!r}; for a list of "
                                 f"related documents use links='symmetric'", path=str(path), line=lineno)
            if parts[1] != "5":
                continue
            other = int(T.canonical_number(parts[0], path=path, line=lineno, what="cited document id"))
            if other != this:
                pairs.add((min(this, other), max(this, other)))
    dates = dict(zip(docs[DOCID].astype(int), docs[TIMESTAMP])) if TIMESTAMP in docs.columns else {}
    directed = []
    agree = disagree = same = 0
    for lo, hi in sorted(pairs):
        d_lo, d_hi = dates.get(lo, pd.NaT), dates.get(hi, pd.NaT)
        if pd.isna(d_lo) or pd.isna(d_hi) or d_lo == d_hi:
            src, dst = hi, lo
            same += 1
        elif d_hi > d_lo:
            src, dst = hi, lo
            agree += 1
        else:
            src, dst = lo, hi
            disagree += 1
        directed.append((str(src), str(dst)))
    note = (f"links: {len(pairs)} undirected type-5 .X pairs of distinct documents, oriented from the newer to "
            f"the older document ({agree + disagree} pairs; the higher .I was the newer in {agree} of them); "
            f"{same} pairs from the same month oriented from the higher to the lower .I (ids mostly follow "
            f"publication order); repeated lines count once, self pairs dropped")
    return _links_frame(directed), note


def links_symmetric(records: list[SmartRecord], docs: pd.DataFrame, path) -> tuple[pd.DataFrame, str]:
    """A symmetric relation (co-citation, "see also"): the first field of each ``.X`` line is the id of a
    document related to this record (further fields, such as weights, are ignored). Each related pair of
    distinct documents gives two links, one each way; a pair listed twice (once in each record, or
    repeated) still gives two."""
    pairs: set[tuple[str, str]] = set()
    for r in records:
        this = T.canonical_number(r.id, path=path, line=r.line, what="record id")
        for lineno, parts in _x_lines(r, path):
            other = T.canonical_number(parts[0], path=path, line=lineno, what="related document id")
            if other != this:
                pairs.add((this, other))
                pairs.add((other, this))
    ordered = sorted(pairs, key=lambda p: (int(p[0]), int(p[1])))
    note = (f"links: .X read as a symmetric relation: {len(pairs) // 2} related pairs of distinct documents, "
            f"two links each (one each way); repeated pairs count once, self pairs dropped")
    return _links_frame(ordered), note


#: How a ``.X`` section is read (``load_smart(links=...)``): name -> function(records, docs, path) returning
#: (links frame, note for ``collection.notes``).
SMART_LINK_FORMATS: dict[str, Callable] = {"cacm": links_cacm, "symmetric": links_symmetric}


# -- .B dates ------------------------------------------------------------------------------------------------
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                       "august", "september", "october", "november", "december"], 1)}
_CACM_DATE = re.compile(r"(?i)\b([a-z]+)\.?,?\s+(\d{4})\b")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def cacm_date(text: str) -> pd.Timestamp:
    """'CACM December, 1958' -> 1958-12-01 UTC; a year alone -> January 1st; NaT otherwise."""
    m = _CACM_DATE.search(text or "")
    if m and m.group(1).lower() in _MONTHS:
        return pd.Timestamp(year=int(m.group(2)), month=_MONTHS[m.group(1).lower()], day=1, tz="UTC")
    y = _YEAR.search(text or "")
    if y:
        return pd.Timestamp(year=int(y.group(1)), month=1, day=1, tz="UTC")
    return pd.NaT


#: How ``.B`` is read as a date (``load_smart(dates=...)``): name -> function(text) -> Timestamp or NaT.
SMART_DATE_FORMATS: dict[str, Callable[[str], pd.Timestamp]] = {"cacm": cacm_date}


def timestamps(texts: list[str], parse: Callable[[str], pd.Timestamp]) -> pd.Series:
    values = [parse(t) for t in texts]
    return pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[ns, UTC]")


def load_smart(docs_path, queries_path=None, qrels_path=None, *, name: str | None = None,
               fields: dict[str, str] | None = None, query_marker: str = "W", links: str | None = None,
               dates=None, encoding: str = "utf-8") -> Collection:
    """A collection from SMART files: documents (``.I``, fields), queries (``.I``, ``.W``), qrels.

    Parameters
    ----------
    docs_path : path
    queries_path : path or None
    qrels_path : path or None
        Lines ``qid docid [...] [label]``: with 4 columns ``qid docid 0 0`` (CACM style) every line is
        relevant (label 1); with 3 columns the third is the label.
    name : str, optional
        Default: the documents file's name without extension.
    fields : dict, default={"T": "title", "W": "body"}
        SMART marker -> field name, in field order.
    query_marker : str, default="W"
        The section of the query file that holds the query text.
    links : {None, "cacm", "symmetric"}, default=None
        How to read the ``.X`` sections (:data:`SMART_LINK_FORMATS`): ``None`` ignores them (no link
        graph); ``"cacm"`` reads CACM's citation triples ``other 5 this`` as undirected citations oriented
        newer -> older (by ``dates`` when given, else higher id -> lower id); ``"symmetric"`` reads the first
        field of each line as a related document and links the pair both ways (a co-citation list).
    dates : {None, "cacm"} or callable, default=None
        How to read ``.B`` as the documents' ``timestamp`` (:data:`SMART_DATE_FORMATS`, or a function
        from the ``.B`` text to a UTC Timestamp or NaT); None: no timestamps.
    encoding : str, default="utf-8"
        Text encoding of the files (bytes that are not valid in it raise a ParseError with the line).

    Returns
    -------
    Collection
        Its ``notes`` say how ``.X`` and ``.B`` were read and how many dates were unreadable.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "docs.all").write_text(".I 1\\n.T\\nTrees\\n.X\\n2 1 1\\n.I 2\\n.T\\nForests\\n.X\\n1 1 2\\n")
    >>> c = load_smart(d / "docs.all", links="symmetric")
    >>> c.links.values.tolist()
    [['1', '2'], ['2', '1']]
    """
    fields = {"T": "title", "W": "body"} if fields is None else dict(fields)
    if not fields:
        raise ConfigError("load_smart needs at least one field, e.g. fields={'W': 'body'}")
    records = read_smart(docs_path, encoding=encoding)
    docs = records_frame(records, fields, docs_path)
    notes: list[str] = []
    if dates is not None:
        parse = dates if callable(dates) else select(SMART_DATE_FORMATS, dates, what="SMART date format")
        docs[TIMESTAMP] = timestamps([r.get("B") for r in records], parse)
        n_nat = int(docs[TIMESTAMP].isna().sum())
        notes.append(f"timestamps: .B read as {dates if isinstance(dates, str) else 'given by a function'}; "
                     f"{n_nat} of {len(docs)} dates unreadable (NaT)")
    link_frame = None
    if links is not None:
        read_links = select(SMART_LINK_FORMATS, links, what="SMART .X format")
        link_frame, note = read_links(records, docs, docs_path)
        notes.append(note)
        link_frame = T.drop_unknown_links(link_frame, docs[DOCID], notes, "links")
    queries = smart_queries(queries_path, query_marker, encoding=encoding) if queries_path else T.empty_queries()
    qrels = read_smart_qrels(qrels_path, encoding=encoding) if qrels_path else T.empty_qrels()
    return Collection(name or Path(docs_path).stem, docs, queries, qrels, fields=tuple(fields.values()),
                      links=link_frame, notes=notes)
