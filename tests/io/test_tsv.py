"""TSV collections: header rules, encoding, ragged lines, folders, links.

Oracles: the same corpus written as JSONL (load_jsonl); hand-written files whose meaning the format fixes.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ltr.datasets.loaders import load_collection
from ltr.errors import ConfigError, DataError, ParseError
from ltr.io.jsonl import load_jsonl
from ltr.io.tsv import load_tsv


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    p.write_bytes(text) if mode == "wb" else p.write_text(text)
    return p


def test_tsv(tmp_path):
    """Oracle: the values written in the files."""
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


def test_tsv_equals_jsonl(tmp_path):
    """Oracle: load_jsonl on the same corpus."""
    import json
    write(tmp_path, "d.jsonl", "".join(json.dumps(o) + "\n" for o in (
        {"docid": "a", "title": "T", "body": "b one"}, {"docid": "b", "title": "", "body": "b two"})))
    write(tmp_path, "q.jsonl", '{"qid": "1", "query": "one"}\n')
    write(tmp_path, "d.tsv", "docid\ttitle\tbody\na\tT\tb one\nb\t\tb two\n")
    write(tmp_path, "q.tsv", "qid\tquery\n1\tone\n")
    a = load_jsonl(tmp_path / "d.jsonl", tmp_path / "q.jsonl", name="x")
    b = load_tsv(tmp_path / "d.tsv", tmp_path / "q.tsv", name="x")
    pd.testing.assert_frame_equal(a.documents, b.documents)
    pd.testing.assert_frame_equal(a.queries, b.queries)


def test_tsv_bad_input(tmp_path):
    """Oracle: the rules (one ParseError naming the line; non-UTF-8 and an empty file used to give a
    UnicodeDecodeError or EmptyDataError traceback, a BOM hid the 'docid' column, a short line gave NaN
    texts)."""
    q = write(tmp_path, "queries.tsv", "qid\tquery\nq1\tx\n")
    bad = write(tmp_path, "bad.tsv", b"docid\tbody\nd1\tok\nd2\tcaf\xe9\n", "wb")
    with pytest.raises(ParseError, match=r"bad\.tsv:3: not valid utf-8 text \(byte 0xe9 at column 7\)"):
        load_tsv(bad, q)
    with pytest.raises(ParseError, match=r"empty\.tsv: empty file: expected a header row"):
        load_tsv(write(tmp_path, "empty.tsv", ""), q)
    bom = load_tsv(write(tmp_path, "bom.tsv", b"\xef\xbb\xbfdocid\tbody\nd1\tx\n", "wb"), q)
    assert bom.documents.docid.tolist() == ["d1"]
    short = load_tsv(write(tmp_path, "short.tsv", "docid\ttitle\tbody\nd1\tT\nd2\tU\tb\n"), q)
    assert short.documents.body.tolist() == ["", "b"]
    with pytest.raises(ParseError, match=r"long\.tsv:4: 3 tab-separated cells but the header has 2"):
        load_tsv(write(tmp_path, "long.tsv", "docid\tbody\nd1\tx\n\nd2\ty\tz\n"), q)
    # found by the deep fuzz profile: pandas made the extra cells of a long line an index (a crash later)
    with pytest.raises(ParseError, match=r"tabs\.tsv:2: 3 tab-separated cells but the header has 1"):
        load_tsv(write(tmp_path, "tabs.tsv", "docid\n\t\t"), q)
    with pytest.raises(ParseError, match=r"dupcol\.tsv:1: the header repeats the columns \['body'\]"):
        load_tsv(write(tmp_path, "dupcol.tsv", "docid\tbody\tbody\nd1\tx\ty\n"), q)
    with pytest.raises(ParseError, match=r"nodoc\.tsv:4: empty docid"):
        load_tsv(write(tmp_path, "nodoc.tsv", "docid\tbody\nd1\tx\n\n\ty\n"), q)
    with pytest.raises(DataError, match=r"duplicate document id 'd1'"):
        load_tsv(write(tmp_path, "dup.tsv", "docid\tbody\nd1\tx\nd1\ty\n"), q)


def test_tsv_folder(tmp_path):
    """Oracle: load_tsv on the folder's files; the collection is named after the folder. A folder the loader
    does not recognise names the format loaders to call instead (load_smart among them)."""
    corpus = tmp_path / "news"
    corpus.mkdir()
    write(corpus, "docs.tsv", "docid\tbody\nd1\tx\nd2\ty\n")
    write(corpus, "queries.tsv", "qid\tquery\nq1\tx\n")
    write(corpus, "qrels", "q1 0 d1 1\n")
    write(corpus, "links.tsv", "d1\td2\n")
    c = load_collection(corpus)
    assert c.name == "news" and c.qrels.values.tolist() == [["q1", "d1", 1.0]] and len(c.links) == 1
    other = tmp_path / "cisi"
    other.mkdir()
    write(other, "CISI.ALL", ".I 1\n.W\nx\n")
    with pytest.raises(ConfigError, match=r"cannot tell which collection the folder .*cisi holds \(it has "
                                          r"\['CISI\.ALL'\]\).*ltr\.io\.load_smart\(docs, queries, qrels\) for SMART"):
        load_collection(other)
