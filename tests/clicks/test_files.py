"""Click-log files: TSV / JSONL / Parquet round trips, format detection, errors naming file and line."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ltr.clicks import ClickLog, detect_format, read_clicks, write_clicks
from ltr.errors import ParseError, SchemaError, UnknownNameError
from tests.clicks.conftest import impressions

FORMATS = ["log.tsv", "log.jsonl", "log.parquet", "log.tsv.gz", "log.jsonl.gz"]
PROPERTY = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_is_exact(tmp_path, small_frame, name):
    """Oracle: the frame read back equals the frame written (ids, positions, clicks, optional columns)."""
    frame = small_frame.assign(dwell=[1.5, 0.0, 2.0, 0.0, 3.0, 0.0, 0.0], original_position=[1, 2, 3, 2, 1, 1, 2])
    log = ClickLog.from_frame(frame)
    path = tmp_path / name
    write_clicks(log, path)
    back = read_clicks(path)
    pd.testing.assert_frame_equal(back.to_frame(categorical=False), log.to_frame(categorical=False))


def test_writers_are_deterministic(tmp_path, small_frame):
    """Same log, same bytes (atomic writes; gzip without a time stamp)."""
    log = ClickLog.from_frame(small_frame)
    for name in FORMATS:
        write_clicks(log, tmp_path / f"a-{name}")
        write_clicks(log, tmp_path / f"b-{name}")
        assert (tmp_path / f"a-{name}").read_bytes() == (tmp_path / f"b-{name}").read_bytes()


ids = st.text(alphabet="abcXYZ019_:-. ", min_size=1, max_size=6).filter(lambda s: s.strip() == s)


@st.composite
def logs(draw):
    rows = []
    n_serps = draw(st.integers(1, 5))
    for s in range(n_serps):
        session, qid = draw(ids), draw(ids)
        docs = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
        rows += [(f"{session}#{s}", qid, d, k + 1, draw(st.integers(0, 1))) for k, d in enumerate(docs)]
    return impressions(rows)


@PROPERTY
@given(frame=logs())
@example(frame=impressions([("0", "0", "0", 1, 0)]))
def test_round_trip_property(tmp_path, frame):
    """Oracle: write then read gives the same impressions, in every format."""
    log = ClickLog.from_frame(frame)
    for name in ("p.tsv", "p.jsonl", "p.parquet"):
        write_clicks(log, tmp_path / name)
        back = read_clicks(tmp_path / name)
        assert back.to_frame(categorical=False).equals(log.to_frame(categorical=False))


def test_detect_format_from_suffix_and_content(tmp_path, small_frame):
    log = ClickLog.from_frame(small_frame)
    for name, fmt in [("a.tsv", "tsv"), ("a.jsonl", "jsonl"), ("a.parquet", "parquet")]:
        write_clicks(log, tmp_path / name)
        (tmp_path / f"noext-{fmt}").write_bytes((tmp_path / name).read_bytes())
        assert detect_format(tmp_path / name) == fmt
        assert detect_format(tmp_path / f"noext-{fmt}") == fmt
        assert read_clicks(tmp_path / f"noext-{fmt}").frame.equals(log.frame)
    (tmp_path / "yandex").write_text("q1\td1,d2 : d2; ")
    assert detect_format(tmp_path / "yandex") == "yandex"
    (tmp_path / "junk").write_text("hello world\n")
    with pytest.raises(ParseError, match="cannot tell the click-log format"):
        read_clicks(tmp_path / "junk")
    with pytest.raises(UnknownNameError, match=r"Unknown click-log format 'csv'"):
        read_clicks(tmp_path / "a.tsv", format="csv")
    with pytest.raises(SchemaError, match="cannot tell the format to write"):
        write_clicks(log, tmp_path / "out.bin")


def _tsv(tmp_path, text):
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    return path


HEADER = "session\tqid\tdocid\tposition\tclick\n"


@pytest.mark.parametrize("body, message", [
    ("s1\tq\ta\t1\t0\ns1\tq\tb\t0\t1\n", r"bad.tsv:3: position 0 of session 's1' is 0 or negative"),
    ("s1\tq\ta\t1\t0\ns1\tq\tb\t2\t3\n", r"bad.tsv:3: click '3' of session 's1' is not 0 or 1"),
    ("s1\tq\ta\t1\t0\ns1\tq\tb\t1\t1\n", r"bad.tsv:2: two documents at position 1 of SERP \(session 's1', qid 'q'\): "
                                         r"'a' and 'b' \(line 3\)"),
    ("s1\tq\ta\t1\t0\ns1\tq\ta\t2\t1\n", r"bad.tsv:2: document 'a' is shown twice"),
    ("s1\tq\ta\t1\t0\ns2\tq\tb\t\t1\n", r"bad.tsv:3: empty SERP: SERP \(session 's2', qid 'q'\)"),
    ("s1\tq\ta\t1\t0\ns1\tq\tb\t2\n", r"bad.tsv:3: expected 5 tab-separated fields as in the header, found 4"),
    ("s1\tq\ta\t1\t0\ns1\tq\tb\t2\t1\tx\n", r"bad.tsv:3: expected 5 tab-separated fields"),
])
def test_tsv_errors_name_the_line(tmp_path, body, message):
    with pytest.raises(ParseError, match=message):
        read_clicks(_tsv(tmp_path, HEADER + body))


def test_tsv_header_is_required(tmp_path):
    with pytest.raises(ParseError, match=r"bad.tsv:1: the header must name the columns"):
        read_clicks(_tsv(tmp_path, "s1\tq\ta\t1\t0\n"))


def test_tsv_blank_lines_are_skipped_and_lines_still_counted(tmp_path):
    path = _tsv(tmp_path, HEADER + "s1\tq\ta\t1\t0\n\ns1\tq\tb\t2\t7\n")
    with pytest.raises(ParseError, match=r"bad.tsv:4: click '7'"):
        read_clicks(path)


def test_tsv_refuses_ids_it_cannot_carry(tmp_path):
    log = ClickLog.from_frame(impressions([("s\t1", "q", "a", 1, 0)]))
    with pytest.raises(SchemaError, match="holds a TAB or a line break"):
        write_clicks(log, tmp_path / "x.tsv")
    write_clicks(log, tmp_path / "x.jsonl")
    assert read_clicks(tmp_path / "x.jsonl").frame["session"].tolist() == ["s\t1"]


def test_jsonl_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"session": "s", "qid": "q", "docid": "a", "position": 1, "click": 0})
    path.write_text(good + "\n{not json}\n")
    with pytest.raises(ParseError, match=r"bad.jsonl:2: not valid JSON"):
        read_clicks(path)
    path.write_text(good + "\n\n" + json.dumps({"session": "s", "qid": "q", "docid": "b", "click": 1}) + "\n"
                    + json.dumps({"session": "s", "qid": "q", "docid": "c", "position": -1, "click": 0}) + "\n")
    with pytest.raises(ParseError, match=r"bad.jsonl:4: position -1 of session 's'"):
        read_clicks(path)
    path.write_text(good + "\n" + json.dumps({"session": "s", "docid": "b", "position": 2, "click": 1}) + "\n")
    with pytest.raises(ParseError, match=r"bad.jsonl:2: the object lacks the key 'qid'"):
        read_clicks(path)


def test_jsonl_click_on_document_not_shown_is_counted(tmp_path):
    path = tmp_path / "x.jsonl"
    rows = [{"session": "s", "qid": "q", "docid": "a", "position": 1, "click": 0},
            {"session": "s", "qid": "q", "docid": "z", "position": None, "click": 1}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    log = read_clicks(path)
    assert log.drops.clicks_not_shown == 1 and len(log) == 1


def test_parquet_errors_name_the_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"session": ["s", "s"], "qid": ["q", "q"], "docid": ["a", "b"], "position": [1, 2],
                      "click": [0, 5]})
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(ParseError, match=r"bad.parquet: row 2: click 5 of session 's' is not 0 or 1"):
        read_clicks(tmp_path / "bad.parquet")
    pq.write_table(table.drop(["click"]), tmp_path / "short.parquet")
    with pytest.raises(ParseError, match=r"the Parquet schema lacks the columns \['click'\]"):
        read_clicks(tmp_path / "short.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ParseError, match="not a readable Parquet file"):
        read_clicks(tmp_path / "broken.parquet")


def test_gzip_text_is_read(tmp_path, small_frame):
    log = ClickLog.from_frame(small_frame)
    write_clicks(log, tmp_path / "x.tsv.gz")
    assert gzip.open(tmp_path / "x.tsv.gz").read().startswith(b"session\tqid")
    assert read_clicks(tmp_path / "x.tsv.gz").frame.equals(log.frame)


def test_original_position_with_missing_values_round_trips(tmp_path):
    frame = impressions([("s", "q", "a", 1, 0), ("s", "q", "b", 2, 1)]).assign(original_position=[2, None])
    log = ClickLog.from_frame(frame)
    for name in ("o.tsv", "o.jsonl", "o.parquet"):
        write_clicks(log, tmp_path / name)
        back = read_clicks(tmp_path / name).frame["original_position"]
        assert back.isna().tolist() == [False, True] and int(back.iloc[0]) == 2

