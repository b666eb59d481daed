"""JSONL collections: round trip, the bad-input rules, text encoding, and numeric timestamps.

Oracles: write_jsonl then load_jsonl (every optional part of the tiny fixture); hand-written files whose
meaning the format fixes; ``datetime.fromtimestamp(s, timezone.utc)`` for Unix seconds.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest

from ltr.collection import Collection
from ltr.datasets.loaders import load_collection
from ltr.errors import DataError, ParseError
from ltr.io.jsonl import load_jsonl, read_jsonl_qrels, write_jsonl
from tests.features.conftest import make_tiny_collection


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    p.write_bytes(text) if mode == "wb" else p.write_text(text)
    return p


def lines(*objs) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


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


def test_non_utf8_and_bom(tmp_path):
    """Oracle: the rule (one ParseError naming line and column; it used to be a UnicodeDecodeError traceback);
    a BOM before the first object is not JSON but an editor's mark, and is dropped."""
    q = write(tmp_path, "queries.jsonl", lines({"qid": "q", "query": "x"}))
    bad = write(tmp_path, "docs.jsonl", b'{"docid": "1", "body": "ok"}\n{"docid": "2", "body": "caf\xe9"}\n', "wb")
    with pytest.raises(ParseError, match=r"docs\.jsonl:2: not valid utf-8 text \(byte 0xe9 at column 28\)"):
        load_jsonl(bad, q)
    assert load_jsonl(bad, q, encoding="latin-1").documents.body.tolist() == ["ok", "caf\u00e9"]
    bom = write(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + lines({"docid": "1", "body": "x"}).encode(), "wb")
    assert load_jsonl(bom, q).documents.docid.tolist() == ["1"]


def test_numeric_timestamps_are_unix_seconds(tmp_path):
    """Oracle: datetime.fromtimestamp(s, timezone.utc). JSON numbers used to be read as nanoseconds, which put
    every document in January 1970 (issue 11)."""
    docs = write(tmp_path, "docs.jsonl", lines({"docid": "a", "body": "x", "timestamp": 1609459200},
                                               {"docid": "b", "body": "y", "timestamp": 1623744000.5},
                                               {"docid": "c", "body": "z", "timestamp": "2021-06-15T08:00:00Z"},
                                               {"docid": "d", "body": "w"}))
    queries = write(tmp_path, "queries.jsonl", lines({"qid": "q", "query": "x", "query_time": 1640995200}))
    c = load_jsonl(docs, queries)
    expected = [pd.Timestamp(datetime.fromtimestamp(s, timezone.utc)) for s in (1609459200, 1623744000.5)]
    assert c.documents.timestamp.tolist()[:3] == expected + [pd.Timestamp("2021-06-15T08:00:00Z")]
    assert pd.isna(c.documents.timestamp.iloc[3])
    assert c.queries.query_time.iloc[0] == pd.Timestamp("2022-01-01", tz="UTC")
    assert any("timestamp: 2 numeric values read as Unix seconds" in n for n in c.notes)
    for value, msg in ((1609459200000, r"timestamp 1609459200000 is not a Unix time in seconds.*milliseconds\? "
                                       r"divide by 1000.*ISO 8601"),
                       (True, r"timestamp must be an ISO 8601 string .* or a number of Unix seconds, got true"),
                       ({"y": 2021}, r"timestamp must be .* got \{\"y\": 2021\}")):
        bad = write(tmp_path, "bad.jsonl", lines({"docid": "a", "body": "x"}, {"docid": "b", "body": "y",
                                                                              "timestamp": value}))
        with pytest.raises(ParseError, match=r"bad\.jsonl:2: " + msg):
            load_jsonl(bad, queries)


def test_jsonl_qrels_rules(tmp_path):
    """Oracle: the TREC qrels reader's rules (ltr.io.trec.read_qrels): finite numeric labels, no duplicate
    judgments; float() used to take "1_0" (10) and true (1)."""
    ok = write(tmp_path, "q.jsonl", lines({"qid": 1, "docid": "a", "label": 2}, {"qid": "1", "docid": "b",
                                                                                "label": "0.5"}))
    assert read_jsonl_qrels(ok).values.tolist() == [["1", "a", 2.0], ["1", "b", 0.5]]
    for obj, err, msg in (({"label": "1_0"}, ParseError, r"q2\.jsonl:2: 'label' '1_0' is not a number"),
                          ({"label": True}, ParseError, r"q2\.jsonl:2: 'label' must be a finite number, got true"),
                          ({"label": None}, ParseError, r"'label' must be a finite number, got null"),
                          ({"docid": "a"}, DataError, r"duplicate \(qid, docid\) \('1', 'a'\) in the qrels \(lines 1, 2\)")):
        row = {"qid": "1", "docid": "z", "label": 1, **obj}
        with pytest.raises(err, match=msg):
            read_jsonl_qrels(write(tmp_path, "q2.jsonl", lines({"qid": "1", "docid": "a", "label": 1}, row)))


def test_folder_collection_is_named_after_the_folder(tmp_path):
    """Oracle: the folder's name (a folder of docs.jsonl used to give a collection named after the file)."""
    corpus = tmp_path / "my-corpus"
    write_jsonl(make_tiny_collection(), corpus)
    assert load_collection(corpus).name == "my-corpus"
    assert load_jsonl(corpus / "docs.jsonl", corpus / "queries.jsonl").name == "my-corpus"
    assert load_collection(str(corpus) + "/").name == "my-corpus"
