"""PyClick's Yandex sample format: the counts of SOURCE.md, its quirks, and malformed records."""

from __future__ import annotations

import json

import pytest

from ltr.clicks import read_clicks, read_yandex
from ltr.errors import ParseError
from tests.conftest import shared_path

SAMPLE = ("yandex-clicks-sample",)


@pytest.mark.parametrize("name", ["trainSample", "testSample", "oneQueryTrain", "oneQueryTest"])
def test_counts_match_source_md(name):
    """Oracle: reference/results/counts.json (computed by the data set's own reader, counts.py)."""
    counts = json.loads(shared_path(*SAMPLE, "reference", "results", "counts.json").read_text())
    c = counts[name]
    log = read_clicks(shared_path(*SAMPLE, name))
    s = log.summary()
    assert s.serps == c["records_serps"]
    assert s.queries == c["distinct_queries"]
    assert s.documents == c["distinct_docs"]
    assert s.pairs == c["distinct_query_doc_pairs"]
    assert s.distinct_rankings == c["distinct_rankings"]
    assert s.clicks == c["clicked_positions_total"]
    assert s.serps_without_clicks == c["serps_with_no_click"]
    assert s.ctr_by_position["clicks"].tolist() == c["clicks_per_position"]
    assert log.drops.clicks_not_shown == c["click_tokens_not_in_serp"]
    assert log.drops.serps_with_clicks_not_shown == c["serps_with_click_not_in_serp"]
    # SOURCE.md counts repeated ids whether shown or not; we count repeats of ids not shown once, under
    # "not shown": click tokens = clicks + not shown + repeated clicks on shown documents
    assert s.clicks + log.drops.clicks_not_shown + log.drops.repeated_clicks == c["click_tokens_raw"]
    assert log.drops.repeated_clicks <= c["repeated_click_tokens"]


def test_train_sample_ctr_by_position_matches_source_md():
    """Oracle: SOURCE.md, CTR by position (4 decimals)."""
    log = read_yandex(shared_path(*SAMPLE, "trainSample"))
    ctr = log.summary().ctr_by_position["ctr"].round(4).tolist()
    assert ctr == [0.2566, 0.2485, 0.1699, 0.1536, 0.1058, 0.0728, 0.0687, 0.0467, 0.0504, 0.0447]
    assert log.frame["session"].iloc[0] == "1:1"


def _write(tmp_path, text):
    p = tmp_path / "sample"
    p.write_text(text)
    return p


def test_quirks_of_the_format(tmp_path):
    """Oracle: SOURCE.md "File format": empty click lists, two spaces, trailing spaces, blank lines, a leading
    space, clicks in click order, repeats and ids not shown."""
    text = ("q1\td1,d2,d3 :; q1\td1,d2,d3 :  ; q1\td3,d2,d1 : d1 , d3 , d1  ; \n\n"
            " q2\ta,b : zz , b ; ")
    log = read_yandex(_write(tmp_path, text))
    f = log.to_frame(categorical=False)
    assert log.n_serps == 4
    assert f["session"].unique().tolist() == ["1:1", "1:2", "1:3", "3:1"]
    assert f["click"].tolist() == [0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1]
    assert (log.drops.repeated_clicks, log.drops.clicks_not_shown) == (1, 1)


@pytest.mark.parametrize("text, message", [
    ("q1 d1,d2 : d1; ", r"sample:1: record 1: expected QUERY<TAB>DOC,DOC,... : CLICKS with exactly one TAB, found 0"),
    ("q1\td1,d2 : d1; q2\td1\td2 : ; ", r"sample:1: record 2: .* exactly one TAB, found 2"),
    ("q1\td1,d2 d1; ", r"sample:1: record 1: expected one ':' between the documents and the clicks, found 0"),
    ("q1\td1 : d1;\nq2\t : ; ", r"sample:2: record 1: empty SERP: query 'q2' shows no document"),
    ("q1\td1,,d2 : ; ", r"record 1: document id at position 2 of query 'q1' is empty"),
    ("q1\td1,d2,d1 : ; ", r"record 1: document 'd1' is shown twice in the SERP of query 'q1', at positions 1 and 3"),
    ("\td1 : ; ", r"record 1: the query id is empty"),
    ("\n\n", r"sample: no records"),
])
def test_malformed_records_name_line_and_record(tmp_path, text, message):
    with pytest.raises(ParseError, match=message):
        read_yandex(_write(tmp_path, text))
