"""Loaders of the named test collections and the collection registry (floor 3).

- :func:`load_cacm`, :func:`load_cranfield` (SMART format, :mod:`ltr.io.smart`);
- :func:`load_vaswani` (TREC ``<DOC>`` format, :mod:`ltr.io.trec_docs`);
- :func:`load_collection`: a registered name (``"cacm"``, ``"cranfield"``, ``"vaswani"``,
  ``"synthetic-web(...)"``), ``"irds:<dataset-id>"`` (any ir_datasets collection, :mod:`ltr.datasets.irds`),
  or a folder, resolved under a data root: ``$LTR_DATA``, else ``../shared/data`` next to the repository.

The file formats live in :mod:`ltr.io` (SMART, TREC documents and topics, JSONL, TSV, TREC qrels); their
readers are re-exported here under the names they had, so ``from ltr.datasets.loaders import load_jsonl``
keeps working.

Every loader records its decisions in ``collection.notes`` (how links were oriented, how relevance codes
map to grades, how many dates could not be read).

Bad-input rules
---------------
- A document without text gets ``""`` in that field (an empty document, length 0).
- A date that cannot be read becomes ``NaT``; the count is in the notes (never a silent 0 or epoch).
- Duplicate document ids raise :class:`~ltr.errors.DataError` naming the id.
- Links to documents the collection does not hold are dropped; the count is in the notes.
- A malformed file raises :class:`~ltr.errors.ParseError` with the path and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ltr.collection import TIMESTAMP, Collection
from ltr.errors import ConfigError, ParseError
from ltr.io import _text as T
from ltr.io.jsonl import load_jsonl, write_jsonl
from ltr.io.smart import (SMART_MARKERS, SmartRecord, cacm_date, links_cacm, load_smart, read_smart,
                          read_smart_qrels, records_frame, smart_queries, timestamps)
from ltr.io.trec_docs import load_trec, read_trec_docs, read_trec_qrels, read_trec_topics
from ltr.io.tsv import load_tsv
from ltr.naming import parse_spec, select
from ltr.schema import QID, QUERY

_read_columns = T.read_columns
_qrels_frame = T.qrels_frame
_canonical_number = T.canonical_number
_drop_unknown_links = T.drop_unknown_links


# ---------------------------------------------------------------------------------------------------------
# CACM
# ---------------------------------------------------------------------------------------------------------
CACM_REFERENCE_TIME = pd.Timestamp("1980-01-01", tz="UTC")


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
    This is :func:`ltr.io.smart.load_smart` with ``links="cacm"`` and ``dates="cacm"``. Type-5 ``.X`` lines
    say "X cites Y or Y cites X" without a direction. Each undirected pair of distinct documents becomes one
    directed link, from the newer to the older document (the citing article is published after the cited
    one). When both appeared in the same month, the higher ``.I`` cites the lower: ``.I`` numbers mostly
    follow publication order (they agree with the dates for 2,475 of the 2,653 linked pairs from different
    months; the 67 same-month pairs cannot be checked). Repeated lines (weights) give one link; self pairs
    are dropped.
    """
    root = Path(path)
    docs_path = root / "cacm.all"
    records = read_smart(docs_path)
    docs = records_frame(records, {"T": "title", "W": "body"}, docs_path)
    notes: list[str] = []
    docs[TIMESTAMP] = timestamps([r.get("B") for r in records], cacm_date)
    n_nat = int(docs[TIMESTAMP].isna().sum())
    notes.append(f"timestamps: .B 'CACM <Month>, <year>' -> first day of the month, UTC; {n_nat} of "
                 f"{len(docs)} dates unreadable (NaT)")
    links, note = links_cacm(records, docs, docs_path)
    notes.append(note)
    links = T.drop_unknown_links(links, docs["docid"], notes, "links")
    queries = smart_queries(root / "query.text")
    qrels = read_smart_qrels(root / "qrels.text")
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
    docs = records_frame(records, {"T": "title", "W": "body"}, docs_path)
    docs[TIMESTAMP] = timestamps([r.get("B") for r in records], _year_date)
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
    rows, lines = [], []
    qpath_rel = root / "cranqrel"
    for lineno, parts in _read_columns(qpath_rel, min_cols=3, max_cols=3):
        qid = _canonical_number(parts[0], path=qpath_rel, line=lineno, what="query number")
        docid = _canonical_number(parts[1], path=qpath_rel, line=lineno, what="document id")
        code = _canonical_number(parts[2], path=qpath_rel, line=lineno, what="relevance code")
        if int(code) not in CRANFIELD_GRADES:
            raise ParseError(f"relevance code {code} is not one of {sorted(CRANFIELD_GRADES)}",
                             path=str(qpath_rel), line=lineno)
        rows.append((qid, docid, CRANFIELD_GRADES[int(code)]))
        lines.append(lineno)
    qrels = _qrels_frame(rows, lines=lines, path=qpath_rel)
    notes.append("qrels: Cleverdon codes 1..4 -> grades 4..1; code -1 (one per query, behaves like the "
                 "query's source paper) -> 0, judged not relevant")
    notes.append(f"reference_time {CRANFIELD_REFERENCE_TIME.date()} (after the newest year, 1963): the queries "
                 "carry no time")
    return Collection("cranfield", docs, queries, qrels, fields=("title", "body"), links=None,
                      reference_time=CRANFIELD_REFERENCE_TIME, complete_judgments=False, notes=notes)


# ---------------------------------------------------------------------------------------------------------
# Vaswani / NPL (TREC format)
# ---------------------------------------------------------------------------------------------------------
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


def _first(folder: Path, *names: str) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def load_folder(path) -> Collection:
    """A collection from a folder, recognised by its files (the collection is named after the folder).

    - ``cacm.all`` (CACM), ``cran.all.1400`` (Cranfield), ``query-text.trec`` (Vaswani);
    - ``docs.jsonl`` + ``queries.jsonl`` (+ ``qrels.jsonl`` or ``qrels``/``qrels.txt``, TREC) (JSONL);
    - ``docs.tsv`` + ``queries.tsv`` (+ ``qrels.tsv``/``qrels.jsonl``/``qrels``/``qrels.txt``, + ``links.tsv``) (TSV).

    Other layouts (SMART or TREC files under other names) load with :func:`ltr.io.load_smart`,
    :func:`ltr.io.load_trec`, :func:`ltr.io.load_jsonl` or :func:`ltr.io.load_tsv` on the files themselves.
    """
    path = Path(path)
    name = path.resolve().name or str(path)
    for marker, loader in _DETECT:
        if (path / marker).exists():
            return loader(path)
    if (path / "docs.jsonl").is_file() and (path / "queries.jsonl").is_file():
        return load_jsonl(path / "docs.jsonl", path / "queries.jsonl",
                          _first(path, "qrels.jsonl", "qrels", "qrels.txt"), name=name)
    if (path / "docs.tsv").is_file() and (path / "queries.tsv").is_file():
        return load_tsv(path / "docs.tsv", path / "queries.tsv",
                        _first(path, "qrels.tsv", "qrels.jsonl", "qrels", "qrels.txt"),
                        links_path=_first(path, "links.tsv"), name=name)
    found = sorted(p.name for p in path.iterdir())[:12]
    raise ConfigError(f"cannot tell which collection the folder {path} holds (it has {found}): expected "
                      f"{[m for m, _ in _DETECT]}, docs.jsonl + queries.jsonl, or docs.tsv + queries.tsv. For "
                      f"files under other names call the format's loader on them: ltr.io.load_smart(docs, "
                      f"queries, qrels) for SMART files (.I/.T/.W records), ltr.io.load_trec(docs, topics, qrels) "
                      f"for TREC <DOC> files, ltr.io.load_jsonl(...) or ltr.io.load_tsv(...)")


def load_collection(name_or_path) -> Collection:
    """A collection by registered name, ir_datasets id or folder.

    - a registered name: ``"cacm"``, ``"cranfield"``, ``"vaswani"``, ``"synthetic-web(n_docs=2000, seed=1)"``,
      ... (:func:`available_collections`), read under :func:`data_root`;
    - ``"irds:<dataset-id>"``: docs, queries and qrels through ir_datasets' own API
      (:func:`ltr.datasets.irds.load_irds`; ``pip install ltr[irds]``);
    - a folder: see :func:`load_folder` (named after the folder).
    """
    text = str(name_or_path)
    if text.startswith("irds:"):
        from ltr.datasets.irds import load_irds        # ir_datasets is an optional extra, imported on use

        return load_irds(text[len("irds:"):])
    path = Path(text)
    if path.is_dir():
        return load_folder(path)
    if os.sep in text or (os.altsep and os.altsep in text):
        raise ConfigError(f"no such folder: {path}; give an existing folder or one of the collection names "
                          f"{available_collections()} (or 'irds:<dataset-id>' for an ir_datasets collection)")
    spec = parse_spec(text, what="collection")
    loader, folder = select(_LOADERS, spec.name, what="collection")
    if folder is None:
        return loader(**spec.params)
    if spec.params:
        raise ConfigError(f"collection {spec.name!r} takes no parameters; got {spec.params}")
    return loader(data_root() / folder)


__all__ = ["CRANFIELD_GRADES", "SMART_MARKERS", "SmartRecord", "available_collections", "data_root",
           "load_cacm", "load_collection", "load_cranfield", "load_folder", "load_jsonl", "load_smart",
           "load_trec", "load_tsv", "load_vaswani", "read_smart", "read_trec_docs", "read_trec_qrels",
           "read_trec_topics", "register_collection", "write_jsonl"]
