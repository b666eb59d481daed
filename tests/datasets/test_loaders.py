"""Tests of ltr.datasets.loaders.

Oracles: the counts in each ../shared/data/<collection>/SOURCE.md (verified there by an independent parse),
hand-written tiny files for the malformed-input rules, and a write/read round trip for JSONL.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ltr.collection import Collection
from ltr.datasets.loaders import (CRANFIELD_GRADES, available_collections, data_root, load_cacm, load_collection,
                                  load_cranfield, load_jsonl, load_smart, load_tsv, load_vaswani, read_smart,
                                  read_trec_docs, write_jsonl)
from ltr.errors import ConfigError, DataError, ParseError, UnknownNameError
from tests.conftest import shared_path
from tests.features.conftest import make_tiny_collection


@pytest.fixture(scope="module")
def cacm():
    return load_cacm(shared_path("cacm"))


def test_cacm_counts(cacm):
    """Oracle: cacm/SOURCE.md (3,204 docs, 1,587 with .W, 64 queries, 796 qrels over 52 queries, 555
    distinct documents, 2,720 undirected type-5 pairs, years 1958-1979)."""
    assert len(cacm.documents) == 3204
    assert (cacm.documents.body != "").sum() == 1587
    assert len(cacm.queries) == 64
    assert len(cacm.qrels) == 796 and cacm.qrels.qid.nunique() == 52 and cacm.qrels.docid.nunique() == 555
    assert set(cacm.qrels.label) == {1.0}
    assert len(cacm.links) == 2720
    ts = cacm.documents.timestamp
    assert ts.notna().all() and ts.min().year == 1958 and ts.max().year == 1979
    assert cacm.documents.loc[0, "timestamp"] == pd.Timestamp("1958-12-01", tz="UTC")
    assert cacm.reference_time > ts.max()
    assert set(cacm.qrels.qid) <= set(cacm.queries.qid)
    assert set(cacm.qrels.docid) <= set(cacm.documents.docid)
    assert cacm.queries.qid.iloc[0] == "1" and cacm.documents.docid.iloc[-1] == "3204"


def test_cacm_links_are_oriented_newer_to_older(cacm):
    """Oracle: the documented orientation rule, checked on the frames themselves."""
    date = dict(zip(cacm.documents.docid, cacm.documents.timestamp))
    src = cacm.links.source.map(date)
    dst = cacm.links.target.map(date)
    assert (src >= dst).all()
    same = src == dst
    assert (cacm.links.source[same].astype(int) > cacm.links.target[same].astype(int)).all()
    assert not (cacm.links.source == cacm.links.target).any()
    assert not cacm.links.duplicated().any()
    undirected = {frozenset(p) for p in zip(cacm.links.source, cacm.links.target)}
    assert len(undirected) == 2720
    assert any("oriented" in n for n in cacm.notes)


def test_cranfield_counts_and_grades():
    """Oracle: cranfield/SOURCE.md (1,400 docs, 225 queries, 1,837 qrels with codes {1: 128, 2: 387,
    3: 734, 4: 363, -1: 225}, 1,199 docs with a year 1922-1963) and REFERENCE.md's numbering trap."""
    c = load_cranfield(shared_path("cranfield"))
    assert (len(c.documents), len(c.queries), len(c.qrels)) == (1400, 225, 1837)
    counts = c.qrels.label.value_counts().to_dict()
    assert counts == {CRANFIELD_GRADES[1]: 128, CRANFIELD_GRADES[2]: 387, CRANFIELD_GRADES[3]: 734,
                      CRANFIELD_GRADES[4]: 363, 0.0: 225}
    assert counts == {4.0: 128, 3.0: 387, 2.0: 734, 1.0: 363, 0.0: 225}
    assert c.links is None
    ts = c.documents.timestamp
    assert ts.notna().sum() == 1199 and ts.min().year == 1922 and ts.max().year == 1963
    # queries by position: the 3rd query has .I 004 (.I numbers skip values)
    assert c.queries.qid.tolist()[:3] == ["1", "2", "3"] and c.queries.smart_id.iloc[2] == "004"
    assert c.qrels.qid.nunique() == 225


def test_vaswani_counts():
    """Oracle: vaswani-npl/SOURCE.md (11,429 documents, 93 topics, 2,083 binary qrels)."""
    c = load_vaswani(shared_path("vaswani-npl"))
    assert (len(c.documents), len(c.queries), len(c.qrels)) == (11429, 93, 2083)
    assert c.fields == ("body",) and set(c.qrels.label) == {1.0} and c.qrels.qid.nunique() == 93
    assert c.documents.body.iloc[0].startswith("compact memories")


def test_load_collection_by_name_and_folder(monkeypatch):
    """Oracle: the same loader called directly."""
    shared = shared_path("cacm").parent
    monkeypatch.setenv("LTR_DATA", str(shared))
    assert data_root() == shared
    by_name = load_collection("cranfield")
    by_folder = load_collection(shared / "cranfield")
    assert by_name.documents.equals(by_folder.documents) and by_name.qrels.equals(by_folder.qrels)
    assert {"cacm", "cranfield", "vaswani", "synthetic-web"} <= set(available_collections())
    with pytest.raises(UnknownNameError, match=r"Unknown collection 'cacn'. Choose from \[.*\]\. Did you mean 'cacm'"):
        load_collection("cacn")
    with pytest.raises(ConfigError, match="no such folder: .*nope; give an existing folder or one of"):
        load_collection(str(shared / "nope"))
    monkeypatch.setenv("LTR_DATA", str(shared / "nope"))
    with pytest.raises(ConfigError, match="LTR_DATA=.* is not a directory"):
        load_collection("cacm")


def test_load_collection_generator_with_parameters():
    """Oracle: ltr.datasets.synthetic.make_synthetic_web called directly with the same parameters."""
    from ltr.datasets.synthetic import make_synthetic_web

    web = load_collection("synthetic-web(n_docs=400, n_queries=5, n_topics=4, seed=3)")
    direct = make_synthetic_web(n_docs=400, n_queries=5, n_topics=4, seed=3)
    assert web.documents.equals(direct.documents) and web.queries.equals(direct.queries)
    with pytest.raises(ConfigError, match="collection 'cacm' takes no parameters"):
        load_collection("cacm(seed=1)")


# --- malformed input on tiny files -------------------------------------------------------------------------
def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
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


def test_qrels_malformed(tmp_path):
    """Oracle: ParseError with path and line."""
    docs = write(tmp_path, "d.all", ".I 1\n.W\na\n")
    q = write(tmp_path, "q.text", ".I 1\n.W\nquery\n")
    bad = write(tmp_path, "qrels", "1 1 0 0\n1 x 0 0\n")
    with pytest.raises(ParseError, match=r"qrels:2: document id 'x' is not an integer"):
        load_smart(docs, q, bad)
    bad = write(tmp_path, "qrels2", "1 1 0 0 0\n")
    with pytest.raises(ParseError, match=r"qrels2:1: expected 3 to 4 whitespace-separated columns, got 5"):
        load_smart(docs, q, bad)


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


# --- JSONL / TSV -----------------------------------------------------------------------------------------------
def test_jsonl_round_trip(tmp_path):
    """Oracle: write_jsonl then load_jsonl gives back the same frames (the fixture has every optional part)."""
    tiny_collection = make_tiny_collection()
    paths = write_jsonl(tiny_collection, tmp_path)
    back = load_jsonl(paths["docs"], paths["queries"], paths["qrels"], name="tiny",
                      reference_time=tiny_collection.reference_time)
    assert back.fields == tiny_collection.fields
    expected_docs = tiny_collection.documents.copy()
    expected_docs["title"] = expected_docs["title"].fillna("")  # a missing field is an empty text
    # the collection model's timestamps are datetime64[ns, UTC]; the fixture's are pandas 3's default unit
    expected_docs["timestamp"] = expected_docs["timestamp"].astype("datetime64[ns, UTC]")
    expected_queries = tiny_collection.queries.copy()
    expected_queries["query_time"] = expected_queries["query_time"].astype("datetime64[ns, UTC]")
    expected_docs["url"] = expected_docs["url"].astype(object).where(expected_docs["url"].notna(), None)
    pd.testing.assert_frame_equal(back.documents, expected_docs, check_dtype=False)  # fixture: pandas str dtype
    pd.testing.assert_frame_equal(back.queries, expected_queries, check_dtype=False)
    pd.testing.assert_frame_equal(back.qrels, tiny_collection.qrels)
    key = ["source", "target"]
    pd.testing.assert_frame_equal(back.links.sort_values(key).reset_index(drop=True),
                                  tiny_collection.links.sort_values(key).reset_index(drop=True))
    assert back.reference_time == tiny_collection.reference_time
    assert isinstance(load_collection(tmp_path), Collection)


def test_jsonl_bad_input_rules(tmp_path):
    """Oracle: the module's bad-input rules on a hand-written corpus."""
    docs = write(tmp_path, "docs.jsonl", "\n".join(json.dumps(o) for o in [
        {"docid": 1, "title": "One", "body": "first doc", "timestamp": "2020-01-01", "links": ["2", "ghost"]},
        {"docid": "2", "body": "second", "timestamp": "not a date"},
        {"docid": "3", "title": "Three", "body": "third"},
    ]) + "\n")
    queries = write(tmp_path, "queries.jsonl", '{"qid": 7, "query": "doc"}\n')
    qrels = write(tmp_path, "qrels.txt", "7 0 1 2\n")
    c = load_jsonl(docs, queries, qrels)
    assert c.fields == ("title", "body")
    assert c.documents.docid.tolist() == ["1", "2", "3"] and c.documents.title.tolist() == ["One", "", "Three"]
    assert c.documents.timestamp.isna().tolist() == [False, True, True]
    assert any("1 unreadable dates" in n for n in c.notes)
    assert c.links.to_dict("records") == [{"source": "1", "target": "2"}]
    assert any("dropped 1 links" in n for n in c.notes)
    assert c.qrels.to_dict("records") == [{"qid": "7", "docid": "1", "label": 2.0}]

    bad = write(tmp_path, "bad.jsonl", '{"docid": "1", "body": "x"}\n{"docid": "1", "body": "y"}\n')
    with pytest.raises(DataError, match=r"duplicate document id '1'"):
        load_jsonl(bad, queries)
    bad = write(tmp_path, "bad2.jsonl", '{"docid": "1", "body": "x"}\n{"body": "y"\n')
    with pytest.raises(ParseError, match=r"bad2.jsonl:2: invalid JSON"):
        load_jsonl(bad, queries)
    bad = write(tmp_path, "bad3.jsonl", '{"body": "y"}\n')
    with pytest.raises(ParseError, match=r"bad3.jsonl:1: missing or empty 'docid'"):
        load_jsonl(bad, queries)


def test_tsv(tmp_path):
    """Oracle: the same corpus read from JSONL."""
    docs = write(tmp_path, "docs.tsv", "docid\ttitle\tbody\ttimestamp\nd1\tOne\tfirst doc\t2020-01-01\n"
                                       "d2\t\tsecond\t\n")
    queries = write(tmp_path, "queries.tsv", "qid\tquery\nq1\tdoc\n")
    links = write(tmp_path, "links.tsv", "source\ttarget\nd1\td2\nd2\tzz\n")
    c = load_tsv(docs, queries, links_path=links)
    assert c.fields == ("title", "body") and c.documents.title.tolist() == ["One", ""]
    assert c.documents.timestamp.iloc[0] == pd.Timestamp("2020-01-01", tz="UTC")
    assert pd.isna(c.documents.timestamp.iloc[1])
    assert len(c.links) == 1 and c.queries.qid.tolist() == ["q1"]
    with pytest.raises(ParseError, match=r"the header lacks columns \['query'\]"):
        load_tsv(docs, write(tmp_path, "q2.tsv", "qid\ttext\nq1\tx\n"))
