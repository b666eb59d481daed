"""SMART files: records, sections, qrels, and the declared readings of .X (links) and .B (dates).

Oracles: hand-written SMART records whose meaning is fixed by the format; the CACM loader (whose .X rule
is ``links="cacm"``) on the shared CACM files, and cacm/SOURCE.md's count of type-5 pairs.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ltr.errors import ConfigError, DataError, ParseError, UnknownNameError
from ltr.io.smart import SMART_LINK_FORMATS, load_smart, read_smart, read_smart_qrels
from tests.conftest import shared_path


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    p.write_bytes(text) if mode == "wb" else p.write_text(text)
    return p


def test_smart_parse_rules(tmp_path):
    """Oracle: hand-written SMART records."""
    p = write(tmp_path, "d.all", ".I 1\n.T\nA title\n.W\nline one\n.5 percent stays text\n.I 2\n.T\nSecond\n"
                                 ".W\nfirst\n.W\nrepeated\n.I 3\n")
    recs = read_smart(p)
    assert [r.id for r in recs] == ["1", "2", "3"]
    assert recs[0].get("W") == "line one\n.5 percent stays text"
    assert recs[1].get("W") == "first\nrepeated"
    c = load_smart(p, name="t")
    assert c.documents.body.tolist() == ["line one\n.5 percent stays text", "first\nrepeated", ""]
    assert c.documents.title.iloc[2] == ""


@pytest.mark.parametrize("text,line,message", [
    ("junk\n.I 1\n", 1, "text before the first '.I' record"),
    (".T\nx\n", 1, "section '.T' before the first '.I'"),
    (".I 1\n.T\nx\n.I\n", 4, "'.I' without a record id"),
    (".I 1\nstray\n", 2, "outside any section"),
    (".I 1\n.Z\n", 2, "unknown SMART marker '.Z'"),
])
def test_smart_malformed(tmp_path, text, line, message):
    """Oracle: ParseError naming the file and line."""
    p = write(tmp_path, "bad.all", text)
    with pytest.raises(ParseError, match=message) as info:
        read_smart(p)
    assert info.value.path == str(p) and info.value.line == line


def test_smart_duplicate_ids(tmp_path):
    """Oracle: DataError naming the duplicate id."""
    p = write(tmp_path, "dup.all", ".I 1\n.W\na\n.I 01\n.W\nb\n")
    with pytest.raises(DataError, match=r"duplicate document id '1'"):
        load_smart(p)


def test_smart_qrels_malformed(tmp_path):
    """Oracle: ParseError with path and line."""
    docs = write(tmp_path, "d.all", ".I 1\n.W\na\n")
    q = write(tmp_path, "q.text", ".I 1\n.W\nquery\n")
    bad = write(tmp_path, "qrels", "1 1 0 0\n1 x 0 0\n")
    with pytest.raises(ParseError, match=r"qrels:2: document id 'x' is not an integer"):
        load_smart(docs, q, bad)
    bad = write(tmp_path, "qrels2", "1 1 0 0 0\n")
    with pytest.raises(ParseError, match=r"qrels2:1: expected 3 to 4 whitespace-separated columns, got 5"):
        load_smart(docs, q, bad)


def test_smart_text_rules(tmp_path):
    """Oracle: the same records written as UTF-8 with LF; a BOM, CRLF and CR-only line ends read the same,
    bytes that are not UTF-8 are named by line and column (they used to be replaced silently)."""
    text = ".I 1\n.T\nA title\n.W\nbody one\n.I 2\n.W\nbody two\n"
    ref = read_smart(write(tmp_path, "lf.all", text))
    for name, raw in (("bom.all", b"\xef\xbb\xbf" + text.encode()), ("crlf.all", text.replace("\n", "\r\n").encode()),
                      ("cr.all", text.replace("\n", "\r").encode())):
        got = read_smart(write(tmp_path, name, raw, "wb"))
        assert [(r.id, r.sections) for r in got] == [(r.id, r.sections) for r in ref], name
    bad = write(tmp_path, "bad.all", b".I 1\n.W\nna\xefve\n", "wb")
    with pytest.raises(ParseError, match=r"bad\.all:3: not valid utf-8 text \(byte 0xef at column 3\); pass encoding="):
        read_smart(bad)
    assert read_smart(bad, encoding="latin-1")[0].get("W") == "na\u00efve"


def test_smart_qrels_numbers_follow_the_grammar(tmp_path):
    """Oracle: the 3-column label is a number of the SVMlight/trec_eval grammar; ids are ASCII integers
    (int() would read '1_0' as 10)."""
    assert read_smart_qrels(write(tmp_path, "q", "1 2 3\n01 003 0.5\n")).values.tolist() == [
        ["1", "2", 3.0], ["1", "3", 0.5]]
    with pytest.raises(DataError, match=r"duplicate \(qid, docid\) \('1', '2'\) in the qrels \(lines 1, 2\)"):
        read_smart_qrels(write(tmp_path, "dup", "1 2 3\n01 002 0.5\n"))
    for line, msg in (("1 2 1_0", r"relevance '1_0' is not a number"), ("1_0 2 1", r"query id '1_0' is not an integer"),
                      ("1 \uff12 1", r"document id '\uff12' is not an integer"), ("1 2 nan", r"relevance 'nan' must be a finite number")):
        with pytest.raises(ParseError, match=r"q2:1: " + msg):
            read_smart_qrels(write(tmp_path, "q2", line + "\n"))


# -- .X links: a declared option ---------------------------------------------------------------------------
DOCS = (".I 1\n.T\nOne\n.B\nCACM May, 1960\n.X\n2\t5\t1\n3\t5\t1\n3\t4\t1\n1\t5\t1\n"
        ".I 2\n.T\nTwo\n.B\nCACM June, 1961\n.X\n1\t5\t2\n2\t5\t2\n"
        ".I 3\n.T\nThree\n.B\nCACM June, 1959\n.X\n1\t5\t3\n9\t5\t3\n")


def test_links_none_cacm_and_symmetric(tmp_path):
    """Oracle: the documented rules applied by hand to the records above.

    cacm: type-5 pairs {1,2}, {1,3} (type 4 is not a link, self pairs dropped, 9 is unknown); by date 2 (1961)
    cites 1 (1960) and 1 (1960) cites 3 (1959). symmetric: the first field of each .X line, both ways."""
    p = write(tmp_path, "docs.all", DOCS)
    assert load_smart(p).links is None
    cacm = load_smart(p, links="cacm", dates="cacm")
    assert cacm.links.values.tolist() == [["2", "1"], ["1", "3"]]
    assert cacm.documents.timestamp.tolist() == [pd.Timestamp(t, tz="UTC") for t in ("1960-05-01", "1961-06-01",
                                                                                      "1959-06-01")]
    assert any("oriented from the newer to the older" in n for n in cacm.notes)
    assert any("dropped 1 links" in n for n in cacm.notes)
    # without dates the higher id cites the lower
    assert load_smart(p, links="cacm").links.values.tolist() == [["2", "1"], ["3", "1"]]
    sym = load_smart(p, links="symmetric")
    assert sorted(sym.links.values.tolist()) == [["1", "2"], ["1", "3"], ["2", "1"], ["3", "1"]]
    assert any("symmetric relation: 3 related pairs" in n for n in sym.notes)


def test_symmetric_co_citation_list(tmp_path):
    """Oracle: a co-citation list (one related docid per line, optional weight), each pair both ways,
    once however often it is listed; this is what links='cacm' refuses with a pointer to 'symmetric'."""
    p = write(tmp_path, "cocit.all", ".I 1\n.W\na\n.X\n2 3\n3\n.I 2\n.W\nb\n.X\n1\n.I 3\n.W\nc\n")
    c = load_smart(p, links="symmetric")
    assert sorted(map(tuple, c.links.values.tolist())) == [("1", "2"), ("1", "3"), ("2", "1"), ("3", "1")]
    with pytest.raises(ParseError, match=r"cocit\.all:5: record \.I 1: a \.X line must have 3 columns.*"
                                         r"links='symmetric'"):
        load_smart(p, links="cacm")
    with pytest.raises(UnknownNameError, match=r"Unknown SMART \.X format 'cocitation'\. Choose from "
                                               r"\['cacm', 'symmetric'\]"):
        load_smart(p, links="cocitation")
    with pytest.raises(UnknownNameError, match=r"Unknown SMART date format"):
        load_smart(p, dates="iso")
    assert sorted(SMART_LINK_FORMATS) == ["cacm", "symmetric"]
    with pytest.raises(ConfigError, match=r"at least one field"):
        load_smart(p, fields={})


def test_links_cacm_equals_the_cacm_loader():
    """Oracle: load_cacm (tests/datasets) and cacm/SOURCE.md's 2,720 undirected type-5 pairs."""
    from ltr.datasets.loaders import load_cacm

    root = shared_path("cacm")
    ours = load_smart(root / "cacm.all", root / "query.text", root / "qrels.text", links="cacm", dates="cacm")
    ref = load_cacm(root)
    assert len(ours.links) == 2720
    pd.testing.assert_frame_equal(ours.links, ref.links)
    pd.testing.assert_frame_equal(ours.documents, ref.documents)
    pd.testing.assert_frame_equal(ours.qrels, ref.qrels)
