"""Reader for PyClick's reduced Yandex Relevance Prediction Challenge format (``trainSample``, ``testSample``,
``oneQueryTrain``, ``oneQueryTest`` in ``../shared/data/yandex-clicks-sample``; see its SOURCE.md).

Format: one text line per query; a line is a sequence of records, each ended by ``;``; a record (one SERP)
is ``QUERY<TAB>D1,D2,...,Dn : C1 , C2 , ...`` with exactly one TAB and one ``:``. The click list holds the
clicked document ids in click order, repeats kept, and may be empty or whitespace only. There are no session
ids: every record is a single-query session (PyClick's "search session").

Reading convention (the one behind every figure in SOURCE.md and PyClick's own
``YandexRelPredChallengeParser``): spaces around ids are stripped; a clicked id that is not among the
SERP's documents is dropped (counted in ``drops.clicks_not_shown``); a shown document is clicked (1) or not
(0) however many times it was clicked (extra clicks counted in ``drops.repeated_clicks``). Blank pieces
between records and leading spaces on a line are skipped.

SERPs get session ids ``"<line>:<k>"`` (the k-th record of a file line, both 1-based), so that every SERP
can be found in the file again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ltr.clicks.log import ClickLog, Drops
from ltr.errors import ParseError

__all__ = ["read_yandex", "looks_like_yandex"]


def looks_like_yandex(head: str) -> bool:
    """Whether the first bytes of a file look like the sample format (a TAB, a ':' and a ';' in one record)."""
    first = head.lstrip().split(";", 1)[0]
    return first.count("\t") == 1 and first.count(":") == 1 and ";" in head


def read_yandex(path, *, name: str | None = None) -> ClickLog:
    """Read a file in PyClick's Yandex sample format into a :class:`ClickLog`.

    Parameters
    ----------
    path : str or Path
    name : str, optional
        Name used in messages and the summary (default: the path as given).

    Raises
    ------
    ParseError
        Naming the file, line and record: a record without exactly one TAB and one ``:``, an empty query,
        an empty SERP (no document ids), an empty document id, a document twice in one SERP.

    Examples
    --------
    >>> log = read_yandex("../shared/data/yandex-clicks-sample/trainSample")      # doctest: +SKIP
    >>> log.summary().serps, log.drops.clicks_not_shown, log.drops.repeated_clicks  # doctest: +SKIP
    (35064, 417, 7249)
    """
    path = Path(path)
    label = name or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ParseError(f"not UTF-8 text (byte {exc.start}); the sample format is ASCII", path=label,
                         line=line) from None
    sessions, qids, lengths = [], [], []
    docids: list[str] = []
    clicks: list[int] = []
    not_shown = serps_not_shown = repeated = serps_repeated = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        if "\r" in line:
            line = line.replace("\r", "")
        k = 0
        for piece in line.split(";"):
            if not piece.strip():
                continue
            k += 1
            where = f"record {k}"

            def fail(msg):
                return ParseError(f"{where}: {msg}", path=label, line=lineno)

            if piece.count("\t") != 1:
                raise fail(f"expected QUERY<TAB>DOC,DOC,... : CLICKS with exactly one TAB, found "
                           f"{piece.count(chr(9))} in {_clip(piece)!r}")
            query_part, rest = piece.split("\t")
            if rest.count(":") != 1:
                raise fail(f"expected one ':' between the documents and the clicks, found {rest.count(':')} in "
                           f"{_clip(piece)!r}")
            docs_part, clicks_part = rest.split(":")
            query = query_part.strip()
            if not query:
                raise fail("the query id is empty")
            if not docs_part.strip():
                raise fail(f"empty SERP: query {query!r} shows no document")
            docs = [d.strip() for d in docs_part.split(",")]
            if any(d == "" for d in docs):
                pos = docs.index("") + 1
                raise fail(f"document id at position {pos} of query {query!r} is empty (two commas in a row?)")
            index = {}
            for pos, d in enumerate(docs):
                if d in index:
                    raise fail(f"document {d!r} is shown twice in the SERP of query {query!r}, at positions "
                               f"{index[d] + 1} and {pos + 1}")
                index[d] = pos
            click = [0] * len(docs)
            serp_not_shown = serp_repeated = 0
            for c in clicks_part.split(","):
                c = c.strip()
                if not c:
                    continue
                pos = index.get(c)
                if pos is None:
                    serp_not_shown += 1
                elif click[pos]:
                    serp_repeated += 1
                else:
                    click[pos] = 1
            not_shown += serp_not_shown
            serps_not_shown += serp_not_shown > 0
            repeated += serp_repeated
            serps_repeated += serp_repeated > 0
            sessions.append(f"{lineno}:{k}")
            qids.append(query)
            lengths.append(len(docs))
            docids.extend(docs)
            clicks.extend(click)
    if not sessions:
        raise ParseError("no records: expected lines of QUERY<TAB>DOC,DOC,... : CLICKS;", path=label)
    drops = Drops(clicks_not_shown=not_shown, serps_with_clicks_not_shown=serps_not_shown,
                  repeated_clicks=repeated, serps_with_repeated_clicks=serps_repeated)
    return ClickLog.from_serps(sessions=np.array(sessions, dtype=object), qids=np.array(qids, dtype=object),
                               docids=pd.Categorical(np.array(docids, dtype=object)),
                               clicks=np.array(clicks, dtype=np.int8), lengths=lengths, drops=drops, source=label)


def _clip(text: str, n: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= n else text[:n] + "..."
