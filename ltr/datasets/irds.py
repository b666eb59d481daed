"""Collections from ir_datasets: ``load_collection("irds:<dataset-id>")``.

Documents, queries and qrels are read through ir_datasets' own API (``ir_datasets.load(id)``,
``docs_iter()``, ``queries_iter()``, ``qrels_iter()``), so every collection it knows (and any a user
registers with ``ir_datasets.registry.register``) loads the same way; files it has not downloaded yet are
downloaded by ir_datasets itself, into ``$IR_DATASETS_HOME`` (default ``~/.ir_datasets``).

Mapping to :class:`~ltr.collection.Collection`:

- documents: ``doc_id`` -> ``docid``; every other ``str`` field of the dataset's document type is a text
  field, in its order with ``title`` first, and ``text`` renamed ``body`` (the field the extractors read
  by default); raw markup fields (``marked_up_doc``, ``html``) are left out; a ``url`` field becomes the
  ``url`` column;
- queries: ``query_id`` -> ``qid``; the text is the query type's ``default_text()`` (ir_datasets' own
  choice: the title of TREC topics, the text of most others);
- qrels: ``(query_id, doc_id, relevance)`` with relevance as given (e.g. Cranfield's raw codes -1..4;
  map them with ``collection.qrels["label"].map(...)`` if you need grades); a pair judged twice is a
  DataError, as in every qrels reader here.

ir_datasets is an optional dependency: ``pip install 'ltr[irds]'``.
"""

from __future__ import annotations

import pandas as pd

from ltr.collection import URL, Collection
from ltr.errors import ConfigError, DataError, UnknownNameError
from ltr.schema import DOCID, LABEL, QID, QUERY

__all__ = ["load_irds"]

#: Fields of ir_datasets document types that hold raw markup, not text to rank by.
MARKUP_FIELDS = ("marked_up_doc", "html")


def _import():
    try:
        import ir_datasets
    except ImportError:
        raise ConfigError("'irds:<dataset-id>' collections need ir_datasets: pip install 'ltr[irds]' "
                          "(or pip install ir_datasets)") from None
    return ir_datasets


def _text_fields(doc_cls) -> list[tuple[str, str]]:
    """(ir_datasets field, our field) for the str fields of a document type."""
    hints = getattr(doc_cls, "__annotations__", {}) or {}
    names = list(getattr(doc_cls, "_fields", hints))
    out = [(f, "body" if f == "text" else f) for f in names
           if f != "doc_id" and f not in MARKUP_FIELDS and f != URL and hints.get(f, str) is str]
    out.sort(key=lambda p: p[1] != "title")           # title first, the rest in the type's order
    return out


def _read(dataset_id: str, what: str, iterate):
    """Run ``iterate()`` (a loop over one of ir_datasets' iterators); its own failures (a file in a format
    its parser does not expect, a failed download) become one DataError naming the dataset and the step."""
    try:
        return iterate()
    except (DataError, KeyboardInterrupt):
        raise
    except Exception as err:  # noqa: BLE001 - ir_datasets' parsers raise AssertionError, RuntimeError, ...
        raise DataError(f"ir_datasets could not read the {what} of {dataset_id!r}: {type(err).__name__}: "
                        f"{str(err)[:300]}") from None


def load_irds(dataset_id: str, *, fields=None, name: str | None = None) -> Collection:
    """A collection from ir_datasets (see the module docstring for the mapping).

    Parameters
    ----------
    dataset_id : str
        An ir_datasets id, e.g. ``"cranfield"``, ``"vaswani"``, ``"antique/test"``.
    fields : list of str, optional
        The document fields to keep, by ir_datasets' names (``"text"`` becomes ``body``); default every text
        field.
    name : str, optional
        Default: ``dataset_id``.

    Raises
    ------
    ConfigError
        ir_datasets is not installed, or the dataset has no documents or no queries.
    UnknownNameError
        ir_datasets does not know ``dataset_id``.
    DataError
        Duplicate document or query ids, or a (qid, docid) judged twice.

    Examples
    --------
    >>> from ltr.datasets import load_collection
    >>> c = load_collection("irds:cranfield")      # doctest: +SKIP
    >>> len(c.documents), len(c.queries), len(c.qrels)      # doctest: +SKIP
    (1400, 225, 1837)
    """
    ir_datasets = _import()
    if not dataset_id or not isinstance(dataset_id, str):
        raise ConfigError(f"'irds:' needs a dataset id such as 'irds:cranfield', got {dataset_id!r}")
    try:
        ds = ir_datasets.load(dataset_id)
    except KeyError:
        known = sorted(ir_datasets.registry)
        close = [k for k in known if dataset_id.split("/")[0] in k][:10]
        raise UnknownNameError(f"ir_datasets has no dataset {dataset_id!r}"
                               f"{'; similar ids: ' + str(close) if close else ''} (the full list: "
                               f"https://ir-datasets.com, or `ir_datasets list`)") from None
    for what in ("docs", "queries"):
        if not getattr(ds, f"has_{what}")():
            raise ConfigError(f"ir_datasets dataset {dataset_id!r} has no {what}; a collection needs documents "
                              f"and queries (pick a subset id with both, e.g. '<name>/test')")

    # Step 1: documents, with the text fields of the dataset's document type.
    pairs = _text_fields(ds.docs_cls())
    if fields is not None:
        wanted = list(fields)
        available = {src for src, _ in pairs}
        unknown = [f for f in wanted if f not in available]
        if unknown:
            raise ConfigError(f"ir_datasets dataset {dataset_id!r} has no text fields {unknown}; its text fields "
                              f"are {sorted(available)}")
        pairs = [p for f in wanted for p in pairs if p[0] == f]
    if not pairs:
        raise ConfigError(f"ir_datasets dataset {dataset_id!r}: its documents ({ds.docs_cls().__name__}) have no "
                          f"text field")
    has_url = URL in getattr(ds.docs_cls(), "_fields", ())
    ids: list[str] = []
    cols: dict[str, list[str]] = {ours: [] for _, ours in pairs}
    urls: list = []

    def read_docs():
        for doc in ds.docs_iter():
            ids.append(str(doc.doc_id))
            for src, ours in pairs:
                value = getattr(doc, src)
                cols[ours].append("" if value is None else str(value))
            if has_url:
                urls.append(getattr(doc, URL) or None)
    _read(dataset_id, "documents", read_docs)
    docs = pd.DataFrame({DOCID: pd.Series(ids, dtype=object),
                         **{k: pd.Series(v, dtype=object) for k, v in cols.items()}})
    if has_url:
        docs[URL] = pd.Series(urls, dtype=object)

    # Step 2: queries (ir_datasets' default text of the query type).
    qids, texts = [], []

    def read_queries():
        for q in ds.queries_iter():
            qids.append(str(q.query_id))
            text = q.default_text() if hasattr(q, "default_text") else getattr(q, "text", "")
            texts.append(" ".join(str(text).split()))
    _read(dataset_id, "queries", read_queries)
    queries = pd.DataFrame({QID: pd.Series(qids, dtype=object), QUERY: pd.Series(texts, dtype=object)})

    # Step 3: qrels; a pair judged twice is refused, as in every qrels reader of ltr.
    rows, seen = [], set()

    def read_qrels():
        for r in ds.qrels_iter():
            key = (str(r.query_id), str(r.doc_id))
            if key in seen:
                raise DataError(f"ir_datasets dataset {dataset_id!r}: (qid, docid) {key} is judged twice in its "
                                f"qrels; each document may be judged once per query")
            seen.add(key)
            rows.append((*key, float(r.relevance)))
    if ds.has_qrels():
        _read(dataset_id, "qrels", read_qrels)
    qrels = pd.DataFrame({QID: pd.Series([r[0] for r in rows], dtype=object),
                          DOCID: pd.Series([r[1] for r in rows], dtype=object),
                          LABEL: pd.Series([r[2] for r in rows], dtype="float64")})
    notes = [f"read through ir_datasets {getattr(ir_datasets, '__version__', '?')} ({dataset_id!r}): text fields "
             f"{[f'{s} -> {o}' if s != o else s for s, o in pairs]}, query text = the query type's default_text(), "
             f"qrels relevance as given"
             + ("" if ds.has_qrels() else "; the dataset has no qrels")]
    return Collection(name or dataset_id, docs, queries, qrels, fields=tuple(o for _, o in pairs),
                      complete_judgments=False, notes=notes)
