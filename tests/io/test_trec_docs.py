"""TREC documents and topics: the SGML-style records, their bad-input rules, and load_trec.

Oracles: hand-written files whose meaning is fixed by the format; vaswani-npl/SOURCE.md's counts; the one
qrels reader (ltr.io.trec.read_qrels) for load_trec's qrels.
"""

from __future__ import annotations

import pytest

from ltr.errors import DataError, ParseError
from ltr.io.trec import read_qrels
from ltr.io.trec_docs import load_trec, read_trec_docs, read_trec_qrels, read_trec_topics
from tests.conftest import shared_path


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    p.write_bytes(text) if mode == "wb" else p.write_text(text)
    return p


def test_trec_docs_malformed(tmp_path):
    """Oracle: ParseError with the line of the offending <DOC>."""
    ok = write(tmp_path, "ok.trec", "<DOC>\n<DOCNO>a</DOCNO>\nsome text\n</DOC>\n<DOC><DOCNO> b </DOCNO></DOC>\n")
    docs = read_trec_docs(ok)
    assert docs.docid.tolist() == ["a", "b"] and docs.body.tolist() == ["some text", ""]
    for text, line, msg in [("<DOC>\n<DOCNO>a</DOCNO>\n", 1, "without a closing"),
                            ("<DOC>\nx\n</DOC>\n", 1, "without a <DOCNO>"),
                            ("<DOC><DOCNO>a</DOCNO></DOC>\nstray\n", 1, "text outside any <DOC>"),
                            ("<DOC><DOCNO>a</DOCNO></DOC>\n<DOC><DOCNO>a</DOCNO></DOC>\n", None, "duplicate")]:
        p = write(tmp_path, "bad.trec", text)
        with pytest.raises((ParseError, DataError), match=msg) as info:
            read_trec_docs(p)
        if line is not None:
            assert info.value.line == line


def test_trec_docs_bom_line_ends_and_encoding(tmp_path):
    """Oracle: the same file as UTF-8 with LF. A BOM used to be 'text outside any <DOC>'; bytes that are not
    UTF-8 used to be replaced silently."""
    text = "<DOC>\n<DOCNO>a</DOCNO>\nna\u00efve text\n</DOC>\n<DOC>\n<DOCNO>b</DOCNO>\nmore\n</DOC>\n"
    ref = read_trec_docs(write(tmp_path, "ref.trec", text))
    for name, raw in (("bom.trec", b"\xef\xbb\xbf" + text.encode()), ("crlf.trec", text.replace("\n", "\r\n").encode())):
        got = read_trec_docs(write(tmp_path, name, raw, "wb"))
        assert got.docid.tolist() == ref.docid.tolist()
        assert [" ".join(b.split()) for b in got.body] == [" ".join(b.split()) for b in ref.body]
    bad = write(tmp_path, "bad.trec", text.encode("latin-1"), "wb")
    with pytest.raises(ParseError, match=r"bad\.trec:3: not valid utf-8 text \(byte 0xef at column 3\)"):
        read_trec_docs(bad)
    assert read_trec_docs(bad, encoding="latin-1").body.tolist() == ref.body.tolist()
    with pytest.raises(ParseError, match=r"DOCNO 'a b' holds whitespace"):
        read_trec_docs(write(tmp_path, "ws.trec", "<DOC><DOCNO>a b</DOCNO></DOC>\n"))


def test_trec_topics(tmp_path):
    """Oracle: the TREC ad hoc layout (closing tags optional, 'Number:'), with a BOM in front."""
    text = ("\ufeff<top>\n<num> Number: 401\n<title> foreign minorities, Germany\n\n<desc> Description:\nWhat\n"
            "</top>\n<top><num>402</num><title>behavioral\ngenetics</title></top>\n")
    t = read_trec_topics(write(tmp_path, "topics", text))
    assert t.values.tolist() == [["401", "foreign minorities, Germany"], ["402", "behavioral genetics"]]
    assert read_trec_topics(write(tmp_path, "topics", text), field="desc")["query"].tolist()[0] == "Description: What"
    with pytest.raises(ParseError, match=r"topics2:1: <top> without a <num>"):
        read_trec_topics(write(tmp_path, "topics2", "<top><title>x</title></top>\n"))
    with pytest.raises(DataError, match=r"duplicate query id '1'"):
        read_trec_topics(write(tmp_path, "topics3", "<top><num>1</num></top><top><num>1</num></top>"))
    with pytest.raises(ParseError, match=r"no <top> \.\.\. </top> topic found"):
        read_trec_topics(write(tmp_path, "topics4", "nothing here\n"))
    with pytest.raises(ParseError, match=r"topic field 'a\)' is not a tag name"):
        read_trec_topics(write(tmp_path, "topics5", "<top><num>1</num></top>"), field="a)")


def test_one_qrels_reader(tmp_path):
    """Oracle: ltr.io.trec.read_qrels, trec_eval's rules (the loaders had a second, laxer reader that took
    duplicate judgments and Python's float() grammar)."""
    assert read_trec_qrels is read_qrels
    docs = write(tmp_path, "d.trec", "<DOC><DOCNO>a</DOCNO>x</DOC>\n")
    topics = write(tmp_path, "t", "<top><num>1</num><title>x</title></top>\n")
    for text, err, msg in (("1 0 a 1\n1 0 a 0\n", DataError, r"duplicate \(qid, docid\) \('1', 'a'\) in the qrels "
                                                             r"\(lines 1, 2\)"),
                           ("1 0 a 1_0\n", ParseError, r"q:1: expected a number in field 4")):
        with pytest.raises(err, match=msg):
            load_trec(docs, topics, write(tmp_path, "q", text))


def test_vaswani_through_load_trec():
    """Oracle: vaswani-npl/SOURCE.md (11,429 documents, 93 topics, 2,083 qrels)."""
    root = shared_path("vaswani-npl")
    c = load_trec(root / "corpus" / "doc-text.trec", root / "query-text.trec", root / "qrels")
    assert (len(c.documents), len(c.queries), len(c.qrels)) == (11429, 93, 2083)
    assert c.name == "doc-text"
