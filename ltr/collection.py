"""A raw test collection: documents with text fields, optional URL, time and out-links; queries; qrels.

Frames (all ids ``str``):

- ``documents``: ``docid`` + one ``str`` column per text field (``title``, ``body``, ...), optional ``url``
  (str), optional ``timestamp`` (``datetime64[ns, UTC]``, NaT where unknown), in collection order.
- ``links``: ``source``, ``target`` docids, one row per link (duplicates kept: they count once per copy).
- ``queries``: ``qid``, ``query`` (text), optional ``query_time`` (``datetime64[ns, UTC]``).
- ``qrels``: ``qid``, ``docid``, ``label`` (float64).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltr.errors import DataError
from ltr.schema import DOCID, LABEL, QID, QUERY, QUERY_TIME, as_id_array, normalize_ids, require_columns

URL, TIMESTAMP = "url", "timestamp"
LINK_SOURCE, LINK_TARGET = "source", "target"


def doc_rows(index: pd.Index, docids, *, owner: str) -> np.ndarray:
    """Positions in ``index`` (a collection's docids, in its order) of each of ``docids``, as int64.

    The one docid lookup of the extractors: the pairs' ids are hashed once (pandas/Arrow factorize) and only
    the distinct ones are looked up. An id the collection does not hold raises :class:`DataError` naming
    ``owner`` and a few of them.

    >>> doc_rows(pd.Index(["a", "b", "c"]), ["c", "a", "c"], owner="example").tolist()
    [2, 0, 2]
    """
    series = docids if isinstance(docids, pd.Series) else pd.Series(np.asarray(docids, dtype=object), copy=False)
    codes, uniques = pd.factorize(series)
    uniques = as_id_array(pd.Index(uniques).to_numpy(dtype=object))
    found = index.get_indexer(uniques)
    if (found < 0).any() or (codes < 0).any():
        unknown = [u for u, f in zip(uniques, found) if f < 0] + (["<missing>"] if (codes < 0).any() else [])
        raise DataError(f"{owner}: {len(unknown)} document ids of the pairs are not in the collection it was "
                        f"fitted on, e.g. {unknown[:5]}; fit it on the collection the pairs come from")
    return found[codes].astype(np.int64)


@dataclass(eq=False)
class Collection:
    """Documents, links, queries and qrels of one test collection.

    Parameters
    ----------
    name : str
    documents : DataFrame
        ``docid`` + the text ``fields`` (+ optional ``url``, ``timestamp``).
    queries : DataFrame
        ``qid``, ``query`` (+ optional ``query_time``).
    qrels : DataFrame
        ``qid``, ``docid``, ``label``. May be empty.
    fields : tuple of str
        The text fields of the documents, in a meaningful order (title before body).
    links : DataFrame or None
        ``source``, ``target`` (docids). None when the collection has no link graph (e.g. Cranfield).
    reference_time : pandas.Timestamp or None
        The time against which document age is measured when queries carry no time (documented per loader).
    complete_judgments : bool
        True when every (query, document) pair is judged (the synthetic web); False when the qrels list only
        some documents (CACM, NPL), so that unjudged documents are *assumed* non-relevant.
    notes : list of str
        Decisions a loader made (how links were oriented, how codes map to grades), shown in reports.
    """

    name: str
    documents: pd.DataFrame
    queries: pd.DataFrame
    qrels: pd.DataFrame
    fields: tuple[str, ...] = ("body",)
    links: pd.DataFrame | None = None
    reference_time: pd.Timestamp | None = None
    complete_judgments: bool = False
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        require_columns(self.documents, (DOCID, *self.fields), caller=f"Collection {self.name!r} documents")
        require_columns(self.queries, (QID, QUERY), caller=f"Collection {self.name!r} queries")
        require_columns(self.qrels, (QID, DOCID, LABEL), caller=f"Collection {self.name!r} qrels")
        self.documents = normalize_ids(self.documents, (DOCID,)).reset_index(drop=True)
        self.queries = normalize_ids(self.queries, (QID,)).reset_index(drop=True)
        self.qrels = normalize_ids(self.qrels).reset_index(drop=True)
        self.qrels[LABEL] = self.qrels[LABEL].astype(np.float64)
        dup = self.documents[DOCID].duplicated()
        if dup.any():
            raise DataError(f"Collection {self.name!r}: duplicate document ids, e.g. "
                            f"{self.documents.loc[dup, DOCID].head(5).tolist()}; ids must be unique")
        dupq = self.queries[QID].duplicated()
        if dupq.any():
            raise DataError(f"Collection {self.name!r}: duplicate query ids, e.g. "
                            f"{self.queries.loc[dupq, QID].head(5).tolist()}")
        if self.links is not None:
            require_columns(self.links, (LINK_SOURCE, LINK_TARGET), caller=f"Collection {self.name!r} links")
            self.links = normalize_ids(self.links, (LINK_SOURCE, LINK_TARGET)).reset_index(drop=True)
            known = set(self.documents[DOCID])
            unknown = ~(self.links[LINK_SOURCE].isin(known) & self.links[LINK_TARGET].isin(known))
            if unknown.any():
                bad = self.links[unknown].head(3).to_dict("records")
                raise DataError(f"Collection {self.name!r}: {int(unknown.sum())} links point to or from "
                                f"unknown documents, e.g. {bad}; drop them before building the collection")

    @property
    def docids(self) -> np.ndarray:
        return self.documents[DOCID].to_numpy()

    @property
    def has_urls(self) -> bool:
        return URL in self.documents.columns

    @property
    def has_timestamps(self) -> bool:
        return TIMESTAMP in self.documents.columns

    @property
    def has_query_times(self) -> bool:
        return QUERY_TIME in self.queries.columns

    @property
    def has_links(self) -> bool:
        return self.links is not None

    def judged_queries(self) -> "Collection":
        """The same collection restricted to queries with at least one qrels entry."""
        judged = self.queries[QID].isin(set(self.qrels[QID]))
        return Collection(self.name, self.documents, self.queries[judged], self.qrels, self.fields,
                          self.links, self.reference_time, self.complete_judgments, list(self.notes))

    def __repr__(self) -> str:
        return (f"Collection({self.name!r}: {len(self.documents)} documents, {len(self.queries)} queries, "
                f"{len(self.qrels)} qrels, fields={list(self.fields)}, "
                f"links={0 if self.links is None else len(self.links)})")
