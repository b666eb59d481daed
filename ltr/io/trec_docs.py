"""TREC SGML-style documents (``<DOC><DOCNO>id</DOCNO> ... </DOC>``) and topics (``<top><num> ... </top>``).

:func:`load_trec` combines them with TREC qrels (:func:`ltr.io.trec.read_qrels`, the one qrels reader,
with trec_eval's rules) into a :class:`~ltr.collection.Collection`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ltr.collection import Collection
from ltr.errors import ParseError
from ltr.io import _text as T
from ltr.io.trec import read_qrels
from ltr.schema import DOCID, QID, QUERY

__all__ = ["load_trec", "read_trec_docs", "read_trec_qrels", "read_trec_topics"]

#: The TREC qrels reader (one for the whole package): ``ltr.io.trec.read_qrels``.
read_trec_qrels = read_qrels

_DOCNO = re.compile(r"<DOCNO>\s*(.*?)\s*</DOCNO>", re.S)


def _line_at(content: str, offset: int) -> int:
    return content.count("\n", 0, offset) + 1


def read_trec_docs(path, *, text_tags: tuple[str, ...] = ("TEXT",), encoding: str = "utf-8") -> pd.DataFrame:
    """``<DOC><DOCNO>id</DOCNO> text </DOC>`` records -> frame ``docid``, ``body``.

    The body is everything inside ``<DOC>`` except the ``<DOCNO>`` element, with the ``text_tags`` markup
    (e.g. ``<TEXT>``) removed. ParseError (file and line) on a ``<DOC>`` without ``<DOCNO>``, a nested or
    unclosed ``<DOC>``, text outside any ``<DOC>``, or bytes that are not valid text in ``encoding``;
    DataError on a repeated DOCNO.
    """
    path = Path(path)
    ids: list[str] = []
    bodies: list[str] = []
    content = T.read_text(path, encoding=encoding)
    pos = 0
    while True:
        start = content.find("<DOC>", pos)
        if start < 0:
            tail = content[pos:].strip()
            if tail:
                raise ParseError(f"text outside any <DOC>: {tail[:60]!r}", path=str(path), line=_line_at(content, pos))
            break
        between = content[pos:start].strip()
        if between:
            raise ParseError(f"text outside any <DOC>: {between[:60]!r}", path=str(path), line=_line_at(content, pos))
        end = content.find("</DOC>", start)
        nested = content.find("<DOC>", start + 5)
        if end < 0 or (0 <= nested < end):
            raise ParseError("<DOC> without a closing </DOC>", path=str(path), line=_line_at(content, start))
        block = content[start + 5:end]
        m = _DOCNO.search(block)
        if not m or not m.group(1):
            raise ParseError("<DOC> without a <DOCNO>", path=str(path), line=_line_at(content, start))
        if T.fields(m.group(1)) != [m.group(1)]:
            raise ParseError(f"DOCNO {m.group(1)!r} holds whitespace; TREC document ids are one token",
                             path=str(path), line=_line_at(content, start))
        body = block[:m.start()] + block[m.end():]
        for tag in text_tags:
            body = body.replace(f"<{tag}>", " ").replace(f"</{tag}>", " ")
        ids.append(m.group(1))
        bodies.append(body.strip())
        pos = end + 6
    T.check_unique(ids, what="document", path=path)
    return pd.DataFrame({DOCID: pd.Series(ids, dtype=object), "body": pd.Series(bodies, dtype=object)})


_TOP = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_NUM = re.compile(r"<num>\s*(?:Number:)?\s*(.*?)\s*(?:</num>|\n)", re.S | re.I)


def read_trec_topics(path, *, field: str = "title", encoding: str = "utf-8") -> pd.DataFrame:
    """``<top><num>n</num><title>text</title></top>`` -> frame ``qid``, ``query`` (``field``'s text).

    The closing tags are optional, as in the TREC ad hoc topics (``<num> Number: 401`` then ``<title>``
    on its own line). ParseError on a ``<top>`` without ``<num>``, text but no topic, or bytes that are not
    valid in ``encoding``; DataError on a repeated topic number.
    """
    path = Path(path)
    content = T.read_text(path, encoding=encoding)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", field or ""):
        raise ParseError(f"topic field {field!r} is not a tag name such as 'title' or 'desc'", path=str(path))
    text_re = re.compile(rf"<{field}>\s*(.*?)\s*(?:</{field}>|<[a-z]+>|$)", re.S | re.I)
    qids, texts = [], []
    for m in _TOP.finditer(content):
        block = m.group(1)
        num = _NUM.search(block)
        txt = text_re.search(block)
        if not num or not num.group(1):
            raise ParseError("<top> without a <num>", path=str(path), line=_line_at(content, m.start()))
        qid = num.group(1).strip()
        if T.fields(qid) != [qid]:
            raise ParseError(f"topic number {qid!r} holds whitespace; query ids are one token", path=str(path),
                             line=_line_at(content, m.start()))
        qids.append(qid)
        texts.append(" ".join(txt.group(1).split()) if txt else "")
    if not qids and content.strip():
        raise ParseError("no <top> ... </top> topic found", path=str(path), line=1)
    T.check_unique(qids, what="query", path=path)
    return pd.DataFrame({QID: pd.Series(qids, dtype=object), QUERY: pd.Series(texts, dtype=object)})


def load_trec(docs_path, topics_path, qrels_path=None, *, name: str | None = None, topic_field: str = "title",
              encoding: str = "utf-8") -> Collection:
    """A collection from a TREC ``<DOC>`` file, a topics file and optional TREC qrels (field ``body``).

    The qrels are read by :func:`ltr.io.trec.read_qrels` (4 fields ``qid iter docid rel``, ``rel`` a
    finite number, a (qid, docid) judged once).
    """
    docs = read_trec_docs(docs_path, encoding=encoding)
    queries = read_trec_topics(topics_path, field=topic_field, encoding=encoding)
    qrels = read_qrels(qrels_path) if qrels_path else T.empty_qrels()
    return Collection(name or Path(docs_path).stem, docs, queries, qrels, fields=("body",))
