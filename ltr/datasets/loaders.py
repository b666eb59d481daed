"""Loaders of raw test collections into :class:`~ltr.collection.Collection`.

- :func:`load_cacm`, :func:`load_cranfield` (SMART format, via :func:`read_smart` / :func:`load_smart`);
- :func:`load_vaswani` (TREC ``<DOC>`` format, via :func:`load_trec`);
- :func:`load_jsonl` / :func:`load_tsv` for a user's own corpus (format below), :func:`write_jsonl`;
- :func:`load_collection` (``"cacm"``, ``"cranfield"``, ``"vaswani"`` or a folder), resolved under a data
  root: ``$LTR_DATA``, else ``../shared/data`` next to the repository.

Every loader records its decisions in ``collection.notes`` (how links were oriented, how relevance codes
map to grades, how many dates could not be read).

Bad-input rules
---------------
- A document without text gets ``""`` in that field (an empty document, length 0).
- A date that cannot be read becomes ``NaT``; the count is in the notes (never a silent 0 or epoch).
- Duplicate document ids raise :class:`~ltr.errors.DataError` naming the id.
- Links to documents the collection does not hold are dropped; the count is in the notes.
- A malformed file raises :class:`~ltr.errors.ParseError` with the path and line.

JSONL format for your own corpus
--------------------------------
Three files, one JSON object per line (UTF-8; blank lines skipped)::

    docs.jsonl     {"docid": "d1", "title": "...", "body": "...", "url": "https://...",
                    "timestamp": "2021-06-15T08:00:00Z", "links": ["d7", "d9"]}
    queries.jsonl  {"qid": "q1", "query": "gradient boosted trees", "query_time": "2022-01-01"}
    qrels.jsonl    {"qid": "q1", "docid": "d1", "label": 2}       (or a TREC qrels file: qid 0 docid label)

``docid``/``qid`` are required (numbers are read as strings). Every other string-valued key of a document
is a text field (``fields=`` picks and orders them; default: the keys in order of first appearance, with
``title`` first when present); ``url``, ``timestamp`` (ISO 8601; naive times are taken as UTC) and
``links`` (out-links, a list of docids) are optional. ``query_time`` is optional.
TSV is the same with a header row (``docid``, fields..., optional ``url``, ``timestamp``); links then come
from an optional two-column ``source<TAB>target`` file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ltr.collection import LINK_SOURCE, LINK_TARGET, TIMESTAMP, URL, Collection
from ltr.errors import ConfigError, DataError, ParseError
from ltr.naming import parse_spec, select
from ltr.schema import DOCID, LABEL, QID, QUERY, QUERY_TIME

# ---------------------------------------------------------------------------------------------------------
# SMART format
# ---------------------------------------------------------------------------------------------------------
#: SMART section markers: .I id, .T title, .W text, .B bibliographic source/date, .A authors, .N entry
#: info, .X citations, .K keywords, .C categories.
SMART_MARKERS = "ITWBANXKC"
_MARKER = re.compile(r"^\.([A-Z])(?:[ \t]+(.*?))?[ \t]*$")


@dataclass
class SmartRecord:
    """One ``.I`` record: its id, the text of each section and the line where it starts."""

    id: str
    sections: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def get(self, key: str, default: str = "") -> str:
        return self.sections.get(key, default)


def read_smart(path, *, markers: str = SMART_MARKERS) -> list[SmartRecord]:
    """Parse a SMART file (``.I n`` starts a record; ``.T``, ``.W``, ... start sections).

    Section text is its lines joined by newlines, stripped. A marker repeated inside one record has its text
    appended to the earlier one (Cranfield's records 240, 576 and 578 repeat ``.A``/``.B``/``.W``).
    Lines that start with ``.`` but are not a known marker are text. Raises :class:`ParseError` for text
    before the first ``.I``, a ``.I`` without an id and an unknown marker letter followed by nothing.
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

    with open(path, encoding="utf-8", errors="replace") as handle:
        for lineno, raw in enumerate(handle, 1):
            line = raw.rstrip("\r\n")
            m = _MARKER.match(line)
            if m and m.group(1) in markers:
                key, rest = m.group(1), m.group(2)
                flush()
                buffer = []
                if key == "I":
                    if not rest or not rest.split()[0].strip():
                        raise ParseError("'.I' without a record id; expected '.I <id>'", path=str(path),
                                         line=lineno)
                    current = SmartRecord(rest.split()[0], {}, lineno)
                    records.append(current)
                    section = None
                else:
                    if current is None:
                        raise ParseError(f"section '.{key}' before the first '.I' record", path=str(path),
                                         line=lineno)
                    section = key
                    if rest:
                        buffer.append(rest)
                continue
            if m and rest_is_empty(m):
                raise ParseError(f"unknown SMART marker '.{m.group(1)}'; expected one of "
                                 f"{['.' + k for k in markers]}", path=str(path), line=lineno)
            if current is None:
                if line.strip():
                    raise ParseError(f"text before the first '.I' record: {line[:60]!r}", path=str(path),
                                     line=lineno)
                continue
            if section is None:
                if line.strip():
                    raise ParseError(f"text after '.I {current.id}' outside any section: {line[:60]!r}",
                                     path=str(path), line=lineno)
                continue
            buffer.append(line)
        flush()
    return records


def rest_is_empty(m: re.Match) -> bool:
    return not m.group(2)


def _check_unique(ids: Iterable[str], *, what: str, path) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DataError(f"{path}: duplicate {what} id {i!r}; ids must be unique")
        seen.add(i)


def _canonical_number(text: str, *, path, line: int, what: str) -> str:
    """'01' -> '1' (SMART/qrels files zero-pad ids)."""
    try:
        return str(int(text))
    except ValueError:
        raise ParseError(f"{what} {text!r} is not an integer", path=str(path), line=line) from None


def _records_frame(records: list[SmartRecord], fields: dict[str, str], path) -> pd.DataFrame:
    ids = [_canonical_number(r.id, path=path, line=r.line, what="record id") for r in records]
    _check_unique(ids, what="document", path=path)
    data = {DOCID: pd.Series(ids, dtype=object)}
    for marker, name in fields.items():
        data[name] = pd.Series([r.get(marker, "") for r in records], dtype=object)
    return pd.DataFrame(data)


def load_smart(docs_path, queries_path=None, qrels_path=None, *, name: str | None = None,
               fields: dict[str, str] | None = None, query_marker: str = "W") -> Collection:
    """A collection from SMART files: documents (``.I``, fields), queries (``.I``, ``.W``), qrels.

    Parameters
    ----------
    docs_path : path
    queries_path : path or None
    qrels_path : path or None
        Lines ``qid docid [...] [label]``: with 4 columns ``qid docid 0 0`` (CACM style) every line is
        relevant (label 1); with 3 columns the third is the label.
    fields : dict, default={"T": "title", "W": "body"}
        SMART marker -> field name, in field order.
    """
    fields = {"T": "title", "W": "body"} if fields is None else dict(fields)
    docs = _records_frame(read_smart(docs_path), fields, docs_path)
    queries = _smart_queries(queries_path, query_marker) if queries_path else _empty_queries()
    qrels = _read_qrels_smart(qrels_path) if qrels_path else _empty_qrels()
    return Collection(name or Path(docs_path).stem, docs, queries, qrels, fields=tuple(fields.values()))


def _smart_queries(path, marker: str = "W") -> pd.DataFrame:
    records = read_smart(path)
    qids = [_canonical_number(r.id, path=path, line=r.line, what="query id") for r in records]
    _check_unique(qids, what="query", path=path)
    text = [" ".join(r.get(marker).split()) for r in records]
    return pd.DataFrame({QID: pd.Series(qids, dtype=object), QUERY: pd.Series(text, dtype=object)})


def _empty_queries() -> pd.DataFrame:
    return pd.DataFrame({QID: pd.Series([], dtype=object), QUERY: pd.Series([], dtype=object)})


def _empty_qrels() -> pd.DataFrame:
    return pd.DataFrame({QID: pd.Series([], dtype=object), DOCID: pd.Series([], dtype=object),
                         LABEL: pd.Series([], dtype=np.float64)})


def _read_columns(path, *, min_cols: int, max_cols: int):
    """Whitespace-separated lines as (line number, fields), with a ParseError on the wrong column count."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for lineno, raw in enumerate(handle, 1):
            parts = raw.split()
            if not parts:
                continue
            if not min_cols <= len(parts) <= max_cols:
                want = min_cols if min_cols == max_cols else f"{min_cols} to {max_cols}"
                raise ParseError(f"expected {want} whitespace-separated columns, got {len(parts)}: "
                                 f"{raw.strip()[:60]!r}", path=str(path), line=lineno)
            yield lineno, parts


def _read_qrels_smart(path) -> pd.DataFrame:
    rows = []
    for lineno, parts in _read_columns(path, min_cols=3, max_cols=4):
        qid = _canonical_number(parts[0], path=path, line=lineno, what="query id")
        docid = _canonical_number(parts[1], path=path, line=lineno, what="document id")
        if len(parts) == 4:
            label = 1.0
        else:
            try:
                label = float(parts[2])
            except ValueError:
                raise ParseError(f"relevance {parts[2]!r} is not a number", path=str(path), line=lineno) from None
        rows.append((qid, docid, label))
    return _qrels_frame(rows)


def _qrels_frame(rows) -> pd.DataFrame:
    if not rows:
        return _empty_qrels()
    q, d, lab = zip(*rows)
    return pd.DataFrame({QID: pd.Series(q, dtype=object), DOCID: pd.Series(d, dtype=object),
                         LABEL: np.asarray(lab, dtype=np.float64)})


def _drop_unknown_links(links: pd.DataFrame, docids, notes: list[str], where: str) -> pd.DataFrame:
    known = set(docids)
    ok = links[LINK_SOURCE].isin(known) & links[LINK_TARGET].isin(known)
    if (~ok).any():
        notes.append(f"{where}: dropped {int((~ok).sum())} links to or from unknown documents")
    return links[ok].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# CACM
# ---------------------------------------------------------------------------------------------------------
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july",
                                       "august", "september", "october", "november", "december"], 1)}
_CACM_DATE = re.compile(r"(?i)\b([a-z]+)\.?,?\s+(\d{4})\b")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")

CACM_REFERENCE_TIME = pd.Timestamp("1980-01-01", tz="UTC")


def _cacm_date(text: str) -> pd.Timestamp:
    """'CACM December, 1958' -> 1958-12-01 UTC; a year alone -> January 1st; NaT otherwise."""
    m = _CACM_DATE.search(text or "")
    if m and m.group(1).lower() in _MONTHS:
        return pd.Timestamp(year=int(m.group(2)), month=_MONTHS[m.group(1).lower()], day=1, tz="UTC")
    y = _YEAR.search(text or "")
    if y:
        return pd.Timestamp(year=int(y.group(1)), month=1, day=1, tz="UTC")
    return pd.NaT


def _timestamps(texts: list[str], parse: Callable[[str], pd.Timestamp]) -> pd.Series:
    values = [parse(t) for t in texts]
    return pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[ns, UTC]")


def load_cacm(path) -> Collection:
    """CACM (3,204 abstracts of Communications of the ACM, 1958-1979; 64 queries; 796 binary qrels).

    Parameters
    ----------
    path : path
        The folder holding ``cacm.all``, ``query.text`` and ``qrels.text``.

    Returns
    -------
    Collection
        Fields ``title`` (``.T``) and ``body`` (``.W``, the abstract; ``""`` for the 1,617 documents without
        one); ``timestamp`` from ``.B`` (first day of the month, UTC); ``links`` from the ``.X`` type-5
        citations; queries from ``query.text`` ``.W`` (qid = ``.I`` without zero padding); qrels label 1.
        ``reference_time`` is 1980-01-01 (just after the newest issue, December 1979), since queries carry
        no time. The rules are repeated in ``notes``.

    Notes
    -----
    Type-5 ``.X`` lines say "X cites Y or Y cites X" without a direction. Each undirected pair of distinct
    documents becomes one directed link, from the newer to the older document (the citing article is
    published after the cited one). When both appeared in the same month, the higher ``.I`` cites the
    lower: ``.I`` numbers mostly follow publication order (they agree with the dates for 2,475 of the
    2,653 linked pairs from different months; the 67 same-month pairs cannot be checked). Repeated lines (weights) give one link; self pairs are dropped.
    """
    root = Path(path)
    docs_path = root / "cacm.all"
    records = read_smart(docs_path)
    docs = _records_frame(records, {"T": "title", "W": "body"}, docs_path)
    notes: list[str] = []
    dates = [r.get("B") for r in records]
    docs[TIMESTAMP] = _timestamps(dates, _cacm_date)
    n_nat = int(docs[TIMESTAMP].isna().sum())
    notes.append(f"timestamps: .B 'CACM <Month>, <year>' -> first day of the month, UTC; {n_nat} of "
                 f"{len(docs)} dates unreadable (NaT)")

    # Step 1: undirected type-5 pairs from the .X sections ("other 5 this" lines)
    pairs: set[tuple[int, int]] = set()
    for r in records:
        this = int(r.id)
        for line in r.get("X").splitlines():
            parts = line.split()
            if len(parts) != 3:
                raise ParseError(f"record .I {r.id}: a .X line must have 3 columns 'docid type docid', "
                                 f"got {line!r}", path=str(docs_path), line=r.line)
            if parts[1] != "5":
                continue
            other = int(parts[0])
            if other != this:
                pairs.add((min(this, other), max(this, other)))
    # Step 2: orient newer -> older; same month (or a missing date): higher id -> lower id
    date_of = dict(zip(docs[DOCID].astype(int), docs[TIMESTAMP]))
    sources, targets = [], []
    agree = disagree = same = 0
    for lo, hi in sorted(pairs):
        d_lo, d_hi = date_of.get(lo, pd.NaT), date_of.get(hi, pd.NaT)
        if pd.isna(d_lo) or pd.isna(d_hi) or d_lo == d_hi:
            src, dst = hi, lo
            same += 1
        elif d_hi > d_lo:
            src, dst = hi, lo
            agree += 1
        else:
            src, dst = lo, hi
            disagree += 1
        sources.append(str(src))
        targets.append(str(dst))
    links = pd.DataFrame({LINK_SOURCE: pd.Series(sources, dtype=object), LINK_TARGET: pd.Series(targets, dtype=object)})
    notes.append(f"links: {len(pairs)} undirected type-5 .X pairs of distinct documents, oriented from the "
                 f"newer to the older document ({agree + disagree} pairs; the higher .I was the newer in "
                 f"{agree} of them); {same} pairs from the same month oriented from the higher to the lower "
                 f".I (ids mostly follow publication order); repeated lines count once, self pairs dropped")
    links = _drop_unknown_links(links, docs[DOCID], notes, "links")
    queries = _smart_queries(root / "query.text")
    qrels = _read_qrels_smart(root / "qrels.text")
    notes.append("qrels: 'qid docid 0 0' lines -> label 1 (binary); unjudged documents are assumed "
                 f"non-relevant; {qrels[QID].nunique()} of {len(queries)} queries have judgments")
    notes.append(f"reference_time {CACM_REFERENCE_TIME.date()} (just after the newest issue): the queries "
                 "carry no time, so document age is measured against it")
    return Collection("cacm", docs, queries, qrels, fields=("title", "body"), links=links,
                      reference_time=CACM_REFERENCE_TIME, complete_judgments=False, notes=notes)


# ---------------------------------------------------------------------------------------------------------
# Cranfield
# ---------------------------------------------------------------------------------------------------------
#: Cleverdon's relevance codes -> graded labels (1 = complete answer ... 4 = minimum interest); -1 marks
#: one document per query that behaves like the query's source paper: judged, not relevant.
CRANFIELD_GRADES = {1: 4.0, 2: 3.0, 3: 2.0, 4: 1.0, 5: 0.0, -1: 0.0}
CRANFIELD_REFERENCE_TIME = pd.Timestamp("1964-01-01", tz="UTC")


_CRAN_YEAR = re.compile(r"\b(19[0-6]\d)\b")


def _year_date(text: str) -> pd.Timestamp:
    """The last 1900-1969 year in a Cranfield ``.B`` ('naca tn.1813, 1949.' -> 1949; report numbers come
    first); NaT if none."""
    years = _CRAN_YEAR.findall(text or "")
    return pd.Timestamp(year=int(years[-1]), month=1, day=1, tz="UTC") if years else pd.NaT


def load_cranfield(path) -> Collection:
    """Cranfield 1400 (aeronautics abstracts; 225 queries; 1,837 graded qrels).

    Parameters
    ----------
    path : path
        The folder holding ``cran.all.1400``, ``cran.qry`` and ``cranqrel``.

    Returns
    -------
    Collection
        Fields ``title`` (``.T``) and ``body`` (``.W``); ``timestamp`` = January 1st of the last 1900-1969 year in
        ``.B`` (report numbers such as "naca tn.1813, 1949." come first) (NaT for the documents without one); no links. Queries are numbered by their **position**
        1..225 in ``cran.qry``, as ``cranqrel`` refers to them (the ``.I`` numbers skip values and are kept
        in the column ``smart_id``). Codes 1..4 -> grades 4..1 and code -1 -> 0 (judged, not relevant):
        see :data:`CRANFIELD_GRADES`. ``reference_time`` 1964-01-01 (after the newest year, 1963).
    """
    root = Path(path)
    docs_path = root / "cran.all.1400"
    records = read_smart(docs_path)
    docs = _records_frame(records, {"T": "title", "W": "body"}, docs_path)
    docs[TIMESTAMP] = _timestamps([r.get("B") for r in records], _year_date)
    notes = [f"timestamps: January 1st of the last 1900-1969 year in .B; {int(docs[TIMESTAMP].isna().sum())} of {len(docs)} "
             f"documents have no readable year (NaT)",
             "repeated .A/.B/.W sections inside a record (records 240, 576, 578) are appended to each other"]
    qpath = root / "cran.qry"
    qrecords = read_smart(qpath)
    queries = pd.DataFrame({
        QID: pd.Series([str(i) for i in range(1, len(qrecords) + 1)], dtype=object),
        QUERY: pd.Series([" ".join(r.get("W").split()) for r in qrecords], dtype=object),
        "smart_id": pd.Series([r.id for r in qrecords], dtype=object),
    })
    notes.append("queries numbered by position 1..N in cran.qry (cranqrel's numbering), not by .I "
                 "(kept as smart_id)")
    rows = []
    qpath_rel = root / "cranqrel"
    for lineno, parts in _read_columns(qpath_rel, min_cols=3, max_cols=3):
        qid = _canonical_number(parts[0], path=qpath_rel, line=lineno, what="query number")
        docid = _canonical_number(parts[1], path=qpath_rel, line=lineno, what="document id")
        code = _canonical_number(parts[2], path=qpath_rel, line=lineno, what="relevance code")
        if int(code) not in CRANFIELD_GRADES:
            raise ParseError(f"relevance code {code} is not one of {sorted(CRANFIELD_GRADES)}",
                             path=str(qpath_rel), line=lineno)
        rows.append((qid, docid, CRANFIELD_GRADES[int(code)]))
    qrels = _qrels_frame(rows)
    notes.append("qrels: Cleverdon codes 1..4 -> grades 4..1; code -1 (one per query, behaves like the "
                 "query's source paper) -> 0, judged not relevant")
    notes.append(f"reference_time {CRANFIELD_REFERENCE_TIME.date()} (after the newest year, 1963): the queries "
                 "carry no time")
    return Collection("cranfield", docs, queries, qrels, fields=("title", "body"), links=None,
                      reference_time=CRANFIELD_REFERENCE_TIME, complete_judgments=False, notes=notes)


# ---------------------------------------------------------------------------------------------------------
# TREC format (Vaswani / NPL)
# ---------------------------------------------------------------------------------------------------------
_TAG = re.compile(r"<(/?)([A-Za-z]+)>")


def read_trec_docs(path, *, text_tags: tuple[str, ...] = ("TEXT",)) -> pd.DataFrame:
    """``<DOC><DOCNO>id</DOCNO> text </DOC>`` records -> frame ``docid``, ``body``.

    The body is everything inside ``<DOC>`` except the ``<DOCNO>`` element, with the ``text_tags`` markup
    (e.g. ``<TEXT>``) removed. ParseError on a ``<DOC>`` without ``<DOCNO>``, a nested or unclosed ``<DOC>``.
    """
    path = Path(path)
    ids: list[str] = []
    bodies: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        content = handle.read()
    pos = 0
    line_at = lambda offset: content.count("\n", 0, offset) + 1  # noqa: E731  (only on errors)
    while True:
        start = content.find("<DOC>", pos)
        if start < 0:
            tail = content[pos:].strip()
            if tail:
                raise ParseError(f"text outside any <DOC>: {tail[:60]!r}", path=str(path), line=line_at(pos))
            break
        between = content[pos:start].strip()
        if between:
            raise ParseError(f"text outside any <DOC>: {between[:60]!r}", path=str(path), line=line_at(pos))
        end = content.find("</DOC>", start)
        nested = content.find("<DOC>", start + 5)
        if end < 0 or (0 <= nested < end):
            raise ParseError("<DOC> without a closing </DOC>", path=str(path), line=line_at(start))
        block = content[start + 5:end]
        m = re.search(r"<DOCNO>\s*(.*?)\s*</DOCNO>", block, re.S)
        if not m or not m.group(1):
            raise ParseError("<DOC> without a <DOCNO>", path=str(path), line=line_at(start))
        body = block[:m.start()] + block[m.end():]
        for tag in text_tags:
            body = body.replace(f"<{tag}>", " ").replace(f"</{tag}>", " ")
        ids.append(m.group(1))
        bodies.append(body.strip())
        pos = end + 6
    _check_unique(ids, what="document", path=path)
    return pd.DataFrame({DOCID: pd.Series(ids, dtype=object), "body": pd.Series(bodies, dtype=object)})


def read_trec_topics(path, *, field: str = "title") -> pd.DataFrame:
    """``<top><num>n</num><title>text</title></top>`` -> frame ``qid``, ``query`` (``field``'s text)."""
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        content = handle.read()
    qids, texts = [], []
    for m in re.finditer(r"<top>(.*?)</top>", content, re.S | re.I):
        block = m.group(1)
        num = re.search(r"<num>\s*(?:Number:)?\s*(.*?)\s*(?:</num>|\n)", block, re.S | re.I)
        txt = re.search(rf"<{field}>\s*(.*?)\s*(?:</{field}>|<[a-z]+>|$)", block, re.S | re.I)
        if not num or not num.group(1):
            raise ParseError("<top> without a <num>", path=str(path), line=content.count("\n", 0, m.start()) + 1)
        qids.append(num.group(1).strip())
        texts.append(" ".join(txt.group(1).split()) if txt else "")
    if not qids and content.strip():
        raise ParseError("no <top> ... </top> topic found", path=str(path), line=1)
    _check_unique(qids, what="query", path=path)
    return pd.DataFrame({QID: pd.Series(qids, dtype=object), QUERY: pd.Series(texts, dtype=object)})


def read_trec_qrels(path) -> pd.DataFrame:
    """TREC qrels ``qid iteration docid label`` -> frame ``qid``, ``docid``, ``label``."""
    rows = []
    for lineno, parts in _read_columns(path, min_cols=4, max_cols=4):
        try:
            label = float(parts[3])
        except ValueError:
            raise ParseError(f"relevance {parts[3]!r} is not a number", path=str(path), line=lineno) from None
        rows.append((parts[0], parts[2], label))
    return _qrels_frame(rows)


def load_trec(docs_path, topics_path, qrels_path=None, *, name: str | None = None) -> Collection:
    """A collection from a TREC ``<DOC>`` file, a topics file and optional TREC qrels (field ``body``)."""
    docs = read_trec_docs(docs_path)
    queries = read_trec_topics(topics_path)
    qrels = read_trec_qrels(qrels_path) if qrels_path else _empty_qrels()
    return Collection(name or Path(docs_path).stem, docs, queries, qrels, fields=("body",))


def load_vaswani(path) -> Collection:
    """NPL / Vaswani (11,429 electronics abstracts, 93 queries, 2,083 binary qrels), Terrier's TREC version.

    Parameters
    ----------
    path : path
        The folder holding ``corpus/doc-text.trec``, ``query-text.trec`` and ``qrels``.

    Returns
    -------
    Collection
        One field ``body``; no titles, dates, URLs or links (``reference_time`` None).
    """
    root = Path(path)
    c = load_trec(root / "corpus" / "doc-text.trec", root / "query-text.trec", root / "qrels", name="vaswani")
    c.notes.append("Terrier's TREC version of NPL: one text field (body), binary qrels; no dates or links")
    return c


# ---------------------------------------------------------------------------------------------------------
# JSONL / TSV for a user's corpus
# ---------------------------------------------------------------------------------------------------------
_DOC_RESERVED = (DOCID, URL, TIMESTAMP, "links")


def _iter_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        for lineno, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ParseError(f"invalid JSON ({exc.msg} at column {exc.colno})", path=str(path),
                                 line=lineno) from None
            if not isinstance(obj, dict):
                raise ParseError(f"expected a JSON object per line, got {type(obj).__name__}", path=str(path),
                                 line=lineno)
            yield lineno, obj


def _require_id(obj: dict, key: str, path, lineno: int) -> str:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, (dict, list)):
        raise ParseError(f"missing or empty {key!r} (keys found: {sorted(obj)})", path=str(path), line=lineno)
    return str(value)


def _parse_times(values: list, *, what: str, notes: list[str]) -> pd.Series:
    """ISO dates -> UTC timestamps; unreadable ones -> NaT, counted in the notes."""
    given = [v is not None and not (isinstance(v, float) and np.isnan(v)) and v != "" for v in values]
    parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", utc=True, format="mixed")
    bad = int(sum(g and pd.isna(p) for g, p in zip(given, parsed)))
    if bad:
        notes.append(f"{what}: {bad} unreadable dates set to NaT")
    return parsed.astype("datetime64[ns, UTC]")


def _queries_from_records(records, path, notes) -> pd.DataFrame:
    qids, texts, times = [], [], []
    has_time = False
    for lineno, obj in records:
        qids.append(_require_id(obj, QID, path, lineno))
        text = obj.get(QUERY)
        if text is not None and not isinstance(text, str):
            raise ParseError(f"'query' must be a string, got {type(text).__name__}", path=str(path), line=lineno)
        texts.append("" if text is None else text)
        has_time = has_time or QUERY_TIME in obj
        times.append(obj.get(QUERY_TIME))
    _check_unique(qids, what="query", path=path)
    out = pd.DataFrame({QID: pd.Series(qids, dtype=object), QUERY: pd.Series(texts, dtype=object)})
    if has_time:
        out[QUERY_TIME] = _parse_times(times, what="query_time", notes=notes).to_numpy()
    return out


def _read_any_qrels(path) -> pd.DataFrame:
    with open(path, encoding="utf-8") as handle:
        first = next((line for line in handle if line.strip()), "")
    if not first.lstrip().startswith("{"):
        return read_trec_qrels(path)
    rows = []
    for lineno, obj in _iter_jsonl(path):
        qid, docid = _require_id(obj, QID, path, lineno), _require_id(obj, DOCID, path, lineno)
        try:
            label = float(obj[LABEL])
        except (KeyError, TypeError, ValueError):
            raise ParseError(f"'label' must be a number, got {obj.get(LABEL)!r}", path=str(path),
                             line=lineno) from None
        rows.append((qid, docid, label))
    return _qrels_frame(rows)


def _default_fields(keys: list[str]) -> tuple[str, ...]:
    fields = [k for k in keys if k not in _DOC_RESERVED]
    if "title" in fields:
        fields.remove("title")
        fields.insert(0, "title")
    return tuple(fields)


def load_jsonl(docs_path, queries_path, qrels_path=None, *, name: str | None = None,
               fields: Iterable[str] | None = None, reference_time=None) -> Collection:
    """A collection from JSONL files (format in this module's docstring).

    Parameters
    ----------
    docs_path, queries_path : path
    qrels_path : path or None
        JSONL (``{"qid", "docid", "label"}``) or TREC qrels (detected from the first line).
    name : str, default: the documents file's stem
    fields : iterable of str or None
        The text fields, in order; default every other string key (``title`` first).
    reference_time : str or Timestamp or None
        The date document ages are measured against when queries have no ``query_time``.
    """
    notes: list[str] = []
    docs_path = Path(docs_path)
    ids, rows, links, keys = [], [], [], []
    for lineno, obj in _iter_jsonl(docs_path):
        docid = _require_id(obj, DOCID, docs_path, lineno)
        ids.append(docid)
        out = obj.get("links")
        if out is not None:
            if not isinstance(out, list):
                raise ParseError(f"'links' of document {docid!r} must be a list of docids, got "
                                 f"{type(out).__name__}", path=str(docs_path), line=lineno)
            links.extend((docid, str(t)) for t in out)
        for k, v in obj.items():
            if k not in keys and k not in _DOC_RESERVED and isinstance(v, str):
                keys.append(k)
        rows.append(obj)
    _check_unique(ids, what="document", path=docs_path)
    fields = _default_fields(keys) if fields is None else tuple(fields)
    if not fields:
        raise ParseError("no text field found in the documents (string-valued keys other than "
                         f"{list(_DOC_RESERVED)})", path=str(docs_path))
    data = {DOCID: pd.Series(ids, dtype=object)}
    for f in fields:
        values = [r.get(f) for r in rows]
        data[f] = pd.Series(["" if v is None else str(v) for v in values], dtype=object)
    if any(URL in r for r in rows):
        data[URL] = pd.Series([r.get(URL) if isinstance(r.get(URL), str) else None for r in rows], dtype=object)
    docs = pd.DataFrame(data)
    if any(TIMESTAMP in r for r in rows):
        docs[TIMESTAMP] = _parse_times([r.get(TIMESTAMP) for r in rows], what="timestamp", notes=notes).to_numpy()
    link_frame = None
    if links:
        link_frame = pd.DataFrame({LINK_SOURCE: pd.Series([s for s, _ in links], dtype=object),
                                   LINK_TARGET: pd.Series([t for _, t in links], dtype=object)})
        link_frame = _drop_unknown_links(link_frame, ids, notes, "links")
    queries = _queries_from_records(_iter_jsonl(queries_path), Path(queries_path), notes)
    qrels = _read_any_qrels(qrels_path) if qrels_path else _empty_qrels()
    ref = None if reference_time is None else pd.Timestamp(reference_time)
    if ref is not None and ref.tzinfo is None:
        ref = ref.tz_localize("UTC")
    return Collection(name or docs_path.stem, docs, queries, qrels, fields=fields, links=link_frame,
                      reference_time=ref, notes=notes)


def load_tsv(docs_path, queries_path, qrels_path=None, *, links_path=None, name: str | None = None,
             fields: Iterable[str] | None = None, reference_time=None) -> Collection:
    """A collection from TSV files with a header row (``docid`` + fields + optional ``url``/``timestamp``;
    ``qid``, ``query`` + optional ``query_time``); qrels as for :func:`load_jsonl`; links from an optional
    ``source<TAB>target`` file (header optional)."""
    notes: list[str] = []

    def read(path, required):
        try:
            frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
        except pd.errors.ParserError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise ParseError(f"malformed TSV: {exc}", path=str(path), line=int(m.group(1)) if m else None) from None
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise ParseError(f"the header lacks columns {missing} (found {list(frame.columns)})", path=str(path),
                             line=1)
        return frame

    docs = read(docs_path, [DOCID])
    _check_unique(docs[DOCID], what="document", path=docs_path)
    fields = tuple(c for c in docs.columns if c not in _DOC_RESERVED) if fields is None else tuple(fields)
    docs = docs.astype(object)
    if TIMESTAMP in docs.columns:
        docs[TIMESTAMP] = _parse_times(docs[TIMESTAMP].tolist(), what="timestamp", notes=notes).to_numpy()
    if URL in docs.columns:
        docs[URL] = docs[URL].where(docs[URL] != "", None)
    queries = read(queries_path, [QID, QUERY]).astype(object)
    _check_unique(queries[QID], what="query", path=queries_path)
    if QUERY_TIME in queries.columns:
        queries[QUERY_TIME] = _parse_times(queries[QUERY_TIME].tolist(), what="query_time", notes=notes).to_numpy()
    qrels = _read_any_qrels(qrels_path) if qrels_path else _empty_qrels()
    links = None
    if links_path:
        rows = [p[:2] for _, p in _read_columns(links_path, min_cols=2, max_cols=2)]
        if rows and rows[0] == [LINK_SOURCE, LINK_TARGET]:
            rows = rows[1:]
        links = pd.DataFrame(rows, columns=[LINK_SOURCE, LINK_TARGET], dtype=object)
        links = _drop_unknown_links(links, docs[DOCID], notes, "links")
    ref = None if reference_time is None else pd.Timestamp(reference_time)
    if ref is not None and ref.tzinfo is None:
        ref = ref.tz_localize("UTC")
    return Collection(name or Path(docs_path).stem, docs, queries, qrels, fields=fields, links=links,
                      reference_time=ref, notes=notes)


def write_jsonl(collection: Collection, directory) -> dict[str, Path]:
    """Write ``docs.jsonl``, ``queries.jsonl`` and ``qrels.jsonl`` (atomically) that :func:`load_jsonl`
    reads back into an equal collection. Returns the three paths."""
    from ltr.atomic import atomic_write

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


# ---------------------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------------------
def _synthetic_web(**params) -> Collection:
    # imported on use: the generator is a sibling module, and loading a file-based collection needs none of it
    from ltr.datasets.synthetic import make_synthetic_web

    return make_synthetic_web(**params)


#: name -> (loader taking the folder, folder name under the data root; None: a generator taking parameters)
_LOADERS: dict[str, tuple[Callable[..., Collection], str | None]] = {
    "cacm": (load_cacm, "cacm"),
    "cranfield": (load_cranfield, "cranfield"),
    "vaswani": (load_vaswani, "vaswani-npl"),
    "synthetic-web": (_synthetic_web, None),
}


def register_collection(name: str, loader: Callable[..., Collection], folder: str | None = None) -> None:
    """Make ``load_collection(name)`` call ``loader(path)`` (``folder`` under the data root) or, with
    ``folder=None``, ``loader(**params)`` (e.g. a generated collection: ``"synthetic-web(seed=1)"``)."""
    if name in _LOADERS and _LOADERS[name] != (loader, folder):
        raise RuntimeError(f"collection {name!r} registered twice")
    _LOADERS[name] = (loader, folder)


def available_collections() -> list[str]:
    return sorted(_LOADERS)


def data_root() -> Path:
    """``$LTR_DATA`` if set, else ``../shared/data`` next to the repository (error if neither exists)."""
    env = os.environ.get("LTR_DATA")
    if env:
        root = Path(env)
        if not root.is_dir():
            raise ConfigError(f"LTR_DATA={env!r} is not a directory; point it at the folder holding the "
                              f"collections (cacm/, cranfield/, vaswani-npl/)")
        return root
    root = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    if not root.is_dir():
        raise ConfigError(f"no data root: set the environment variable LTR_DATA to the folder holding the "
                          f"collections (cacm/, cranfield/, vaswani-npl/); the default {root} does not exist")
    return root


_DETECT = (("cacm.all", load_cacm), ("cran.all.1400", load_cranfield), ("query-text.trec", load_vaswani))


def load_collection(name_or_path) -> Collection:
    """A collection by registered name (``"cacm"``, ``"cranfield"``, ``"vaswani"``,
    ``"synthetic-web(n_docs=2000, seed=1)"``, ...) or by folder.

    A folder is recognised by its files: ``cacm.all`` (CACM), ``cran.all.1400`` (Cranfield),
    ``query-text.trec`` (Vaswani), ``docs.jsonl`` + ``queries.jsonl`` (+ ``qrels.jsonl``) (JSONL).
    """
    text = str(name_or_path)
    path = Path(text)
    if path.is_dir():
        for marker, loader in _DETECT:
            if (path / marker).exists():
                return loader(path)
        if (path / "docs.jsonl").exists() and (path / "queries.jsonl").exists():
            qrels = path / "qrels.jsonl"
            return load_jsonl(path / "docs.jsonl", path / "queries.jsonl", qrels if qrels.exists() else None,
                              name=path.name)
        raise ConfigError(f"cannot tell which collection the folder {path} holds: expected one of "
                          f"{[m for m, _ in _DETECT] + ['docs.jsonl']}")
    if os.sep in text or (os.altsep and os.altsep in text):
        raise ConfigError(f"no such folder: {path}; give an existing folder or one of the collection names "
                          f"{available_collections()}")
    spec = parse_spec(text, what="collection")
    loader, folder = select(_LOADERS, spec.name, what="collection")
    if folder is None:
        return loader(**spec.params)
    if spec.params:
        raise ConfigError(f"collection {spec.name!r} takes no parameters; got {spec.params}")
    return loader(data_root() / folder)


__all__ = ["CRANFIELD_GRADES", "SmartRecord", "available_collections", "data_root", "load_cacm",
           "load_collection", "load_cranfield", "load_jsonl", "load_smart", "load_trec", "load_tsv",
           "load_vaswani", "read_smart", "read_trec_docs", "read_trec_qrels", "read_trec_topics",
           "register_collection", "write_jsonl"]
