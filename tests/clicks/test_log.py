"""The click-log data model: declared rules (counted), typed errors naming the row and session, views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.clicks import ClickLog, aggregate
from ltr.errors import DataError, ParseError, SchemaError
from tests.clicks.conftest import impressions


def test_frame_is_kept_in_display_order_with_categorical_ids(small_frame):
    """Oracle: the rows written by hand, reordered by SERP then position."""
    shuffled = small_frame.iloc[[2, 0, 1, 4, 3, 6, 5]]
    log = ClickLog.from_frame(shuffled)
    f = log.to_frame(categorical=False)
    assert f["session"].tolist() == ["s1", "s1", "s1", "s2", "s2", "s3", "s3"]
    assert f["position"].tolist() == [1, 2, 3, 1, 2, 1, 2]
    assert f["docid"].tolist() == ["a", "b", "c", "b", "a", "x", "y"]
    assert isinstance(log.frame["qid"].dtype, pd.CategoricalDtype)
    assert log.serp_sizes().tolist() == [3, 2, 2]
    assert log.drops.clicks_not_shown == 0 and log.drops.repeated_clicks == 0


def test_serp_matrix_matches_the_rows(small_frame):
    """Oracle: the impressions read back from the dense matrix equal the frame."""
    m = ClickLog.from_frame(small_frame).serps
    assert m.length.tolist() == [3, 2, 2]
    back = [(m.pair_qid[p], m.pair_docid[p], r + 1, int(m.click[s, r]))
            for s in range(m.n_serps) for r, p in enumerate(m.pair[s]) if p >= 0]
    assert back == [tuple(row[1:]) for row in small_frame.itertuples(index=False)]
    assert m.queries.tolist() == ["q1", "q2"]


def test_clicks_not_shown_and_repeated_clicks_are_counted_not_silent(small_frame):
    """Oracle: two extra click rows on shown documents, one row without a position (a click on a document
    not shown), one repeated impression without a click; counted by rule."""
    extra = impressions([("s1", "q1", "a", 1, 1), ("s1", "q1", "a", 1, 1), ("s2", "q1", "zz", None, 1),
                         ("s3", "q2", "x", 1, 0), ("s3", "q2", "nothing", None, 0)])
    log = ClickLog.from_frame(pd.concat([small_frame, extra], ignore_index=True))
    d = log.drops
    assert (d.repeated_clicks, d.serps_with_repeated_clicks) == (2, 1)
    assert (d.clicks_not_shown, d.serps_with_clicks_not_shown) == (1, 1)
    assert d.duplicate_impressions == 1 and d.unshown_rows == 1
    assert len(log) == len(small_frame)
    assert log.frame["click"].tolist() == small_frame["click"].tolist()
    text = str(log.summary())
    assert "2 in 1 SERPs" in text and "1 in 1 SERPs" in text


def test_unknown_columns_are_named_in_the_summary(small_frame):
    log = ClickLog.from_frame(small_frame.assign(score=1.0))
    assert log.drops.ignored_columns == ("score",)
    assert "columns not kept" in str(log.summary())


@pytest.mark.parametrize("row, column, value, message", [
    (1, "position", 0, r"row 1: position 0 of session 's1' is 0 or negative"),
    (1, "position", -3, r"position -3 of session 's1' is 0 or negative"),
    (1, "position", 1.5, r"position 1.5 of session 's1' is not an integer"),
    (1, "position", "two", r"position 'two' of session 's1' is not an integer"),
    (4, "click", 2, r"row 4: click 2 of session 's2' is not 0 or 1"),
    (4, "click", None, r"click None of session 's2' is not 0 or 1"),
    (1, "docid", "a", r"document 'a' is shown twice in SERP \(session 's1', qid 'q1'\), at positions 1 and 2"),
    (2, "position", 2, r"two documents at position 2 of SERP \(session 's1', qid 'q1'\): 'b' and 'c'"),
    (2, "position", 5, r"positions of SERP \(session 's1', qid 'q1'\) are \[1, 2, 5\]: a SERP must show positions 1..3"),
    (0, "session", "", r"row 0: session is empty or missing"),
    (0, "docid", None, r"docid is empty at position 1 of session 's1'"),
])
def test_malformed_rows_name_row_and_session(small_frame, row, column, value, message):
    """Oracle: each malformed case of the issue, one message naming the row (frame) and session."""
    bad = small_frame.astype(object).copy()
    bad.loc[row, column] = value
    with pytest.raises(DataError, match=message):
        ClickLog.from_frame(bad)


def test_errors_name_file_and_line_when_read_from_a_file(small_frame):
    bad = small_frame.copy()
    bad.loc[3, "position"] = 0
    with pytest.raises(ParseError, match=r"^log.tsv:7: position 0 of session 's2'"):
        ClickLog.from_frame(bad, path="log.tsv", lines=np.arange(len(bad)) + 4)


def test_empty_serp_is_refused():
    frame = impressions([("s1", "q1", "a", 1, 0), ("s2", "q1", "b", None, 1)])
    with pytest.raises(DataError, match=r"empty SERP: SERP \(session 's2', qid 'q1'\) shows no document"):
        ClickLog.from_frame(frame)


def test_missing_columns_are_a_schema_error(small_frame):
    with pytest.raises(SchemaError, match=r"a click log needs columns \['click'\]"):
        ClickLog.from_frame(small_frame.drop(columns="click"))


def test_integer_ids_become_strings_without_a_decimal_point():
    frame = impressions([(10, 7, 123, 1, 1), (10, 7, 124.0, 2, 0)])
    log = ClickLog.from_frame(frame)
    assert log.to_frame(categorical=False)["docid"].tolist() == ["123", "124"]
    assert log.frame["session"].astype(str).tolist() == ["10", "10"]


def test_multi_query_sessions_are_separate_serps():
    frame = impressions([("s1", "q1", "a", 1, 1), ("s1", "q2", "a", 1, 0), ("s1", "q2", "b", 2, 1)])
    log = ClickLog.from_frame(frame)
    s = log.summary()
    assert (s.sessions, s.serps, s.queries, s.pairs) == (1, 2, 2, 3)


def test_summary_and_ctr_by_position(small_frame):
    """Oracle: counts by hand from the fixture."""
    s = ClickLog.from_frame(small_frame).summary()
    assert (s.sessions, s.serps, s.queries, s.documents, s.pairs, s.impressions, s.clicks) == (3, 3, 2, 5, 5, 7, 3)
    assert s.serps_without_clicks == 1
    assert s.pairs_at_several_positions == 2              # a and b of q1
    assert s.ctr_by_position["ctr"].tolist() == pytest.approx([1 / 3, 1 / 3, 1.0])
    assert s.to_dict()["ctr_by_position"] == pytest.approx([1 / 3, 1 / 3, 1.0])


def test_aggregate_counts_impressions_and_clicks(small_frame):
    """Oracle: pandas groupby on the raw frame."""
    log = ClickLog.from_frame(small_frame)
    got = aggregate(log)
    expected = (small_frame.groupby(["qid", "docid", "position"])["click"].agg(["size", "sum"]).reset_index()
                .rename(columns={"size": "impressions", "sum": "clicks"}))
    assert got[["qid", "docid", "position"]].astype(str).values.tolist() == \
        expected[["qid", "docid", "position"]].astype(str).values.tolist()
    assert got["impressions"].tolist() == expected["impressions"].tolist()
    assert got["clicks"].tolist() == expected["clicks"].tolist()
    per_pair = aggregate(log, by=["qid", "docid"])
    assert per_pair["impressions"].sum() == 7
    with pytest.raises(SchemaError, match="no columns"):
        aggregate(log, by=["qid", "rank"])
