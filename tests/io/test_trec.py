"""TREC qrels and run files: round trips, trec_eval's own parser, and every bad-input message.

Oracles: pytrec_eval's ``parse_qrel``/``parse_run`` (trec_eval's reading of the same files), the counts in
``shared/data/vaswani-npl/SOURCE.md``, and the written values themselves for round trips.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import pytrec_eval

from ltr.errors import ConfigError, DataError, LabelError, ParseError, SchemaError
from ltr.io.trec import read_qrels, read_run, read_runs_tagged, write_qrels, write_run
from ltr.schema import normalize_ids
from tests.conftest import shared_path


def _write(tmp_path, text, name="file", mode="w"):
    p = tmp_path / name
    p.write_bytes(text) if mode == "wb" else p.write_text(text)
    return p


def _where(path, line):
    return re.escape(f"{path}:{line}: ")


def _random_run(rng, n_q=20, n_d=30, ties=True):
    rows = []
    for q in range(n_q):
        docs = rng.choice(200, size=rng.integers(1, n_d), replace=False)
        for d in docs:
            s = float(rng.integers(0, 4)) if ties else float(rng.standard_normal() * 10.0 ** rng.integers(-5, 6))
            rows.append((f"q{q}", f"d{d}", s))
    return pd.DataFrame(rows, columns=["qid", "docid", "score"])


# -- qrels ------------------------------------------------------------------------------------------------
def test_vaswani_qrels_match_trec_eval_and_source_counts():
    """Oracles: pytrec_eval.parse_qrel of the same file; vaswani-npl/SOURCE.md (2,083 lines, 93 topics)."""
    path = shared_path("vaswani-npl", "qrels")
    qrels = read_qrels(path)
    assert len(qrels) == 2083 and qrels["qid"].nunique() == 93
    assert qrels.dtypes.tolist() == [object, object, np.float64]
    assert set(qrels["label"]) == {1.0}
    with open(path) as handle:
        oracle = pytrec_eval.parse_qrel(handle)
    ours: dict = {}
    for q, d, r in qrels.itertuples(index=False):
        ours.setdefault(q, {})[d] = int(r)
    assert ours == oracle
    assert qrels.iloc[0].tolist() == ["1", "1239", 1.0]      # file order


def test_qrels_graded_negative_and_real_labels(tmp_path):
    """Oracle: the values written; blank lines and tabs are separators, file order is kept."""
    p = _write(tmp_path, "2 0 b 3\n\n1\t0\ta -1\n1 Q0 c 0.5\n")
    q = read_qrels(p)
    assert q.to_dict("list") == {"qid": ["2", "1", "1"], "docid": ["b", "a", "c"], "label": [3.0, -1.0, 0.5]}


def test_qrels_round_trip(tmp_path):
    """Oracle: the frame written (write, read, equal)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"qid": [str(i // 5) for i in range(50)], "docid": [f"D-{i}" for i in range(50)],
                          "label": rng.integers(-1, 5, 50).astype(float)})
    write_qrels(frame, tmp_path / "qrels")
    pd.testing.assert_frame_equal(read_qrels(tmp_path / "qrels"), normalize_ids(frame))
    assert (tmp_path / "qrels").read_text().splitlines()[0] == f"0 0 D-0 {int(frame.label[0])}"


def test_write_qrels_refuses_real_valued_labels_unless_rounded(tmp_path):
    """Oracle: trec_eval reads integer relevance; floor(x + 0.5) rounding."""
    frame = pd.DataFrame({"qid": ["1", "1", "1", "1"], "docid": ["a", "b", "c", "d"], "label": [0.5, 2.0, 1.49, -0.5]})
    with pytest.raises(LabelError, match=r"label 0\.5 of \(qid '1', docid 'a'\) is not an integer \(3 labels.*"
                                         r"round_labels=True"):
        write_qrels(frame, tmp_path / "q")
    assert not (tmp_path / "q").exists()
    write_qrels(frame, tmp_path / "q", round_labels=True)
    assert read_qrels(tmp_path / "q")["label"].tolist() == [1.0, 2.0, 1.0, 0.0]
    with pytest.raises(LabelError, match=r"not a finite number"):
        write_qrels(frame.assign(label=[np.nan, 1, 1, 1]), tmp_path / "q")
    with pytest.raises(LabelError, match=r"label 1e\+20 of \(qid '1', docid 'b'\) is too large"):
        write_qrels(frame.assign(label=[1, 1e20, 1, 1]), tmp_path / "q")


def test_read_qrels_refuses_duplicate_judgments(tmp_path):
    """Oracle: the same (qid, docid) on lines 1 and 3."""
    p = _write(tmp_path, "1 0 a 1\n1 0 b 0\n1 0 a 2\n", "qrels.txt")
    with pytest.raises(DataError, match=r"duplicate \(qid, docid\) \('1', 'a'\) in the qrels \(lines 1, 3\)"):
        read_qrels(p)


def test_crlf_tabs_and_bom(tmp_path):
    """Oracle: the same qrels written with LF and single spaces; a UTF-8 BOM is not part of the first qid
    (it used to be, which moved the qrels' nDCG@10 from 0.788 to 0.731 in issue 11's trial)."""
    a = read_qrels(_write(tmp_path, b"1\t0\ta\t1\r\n2 0  b 0\r\n", "a", "wb"))
    b = read_qrels(_write(tmp_path, "1 0 a 1\n2 0 b 0\n", "b"))
    assert a.equals(b)
    c = read_qrels(_write(tmp_path, b"\xef\xbb\xbf1 0 a 1\r\n2 0 b 0\r\n", "c", "wb"))
    assert c.equals(b)
    run = read_run(_write(tmp_path, b"\xef\xbb\xbf1 Q0 a 1 2 t\n", "r", "wb"))
    assert run["qid"].tolist() == ["1"]
    # CR-only line ends (an old Mac file) are lines, not one line of 8 fields
    assert read_qrels(_write(tmp_path, b"1 0 a 1\r2 0 b 0\r", "cr", "wb")).equals(b)


def test_nul_and_other_odd_ids_round_trip_in_the_writer(tmp_path):
    """Oracle: the frame written. The writer's id checks used to search '\\x00'.join(ids) for an empty id,
    so a qid made of a NUL byte raised a bare ValueError (issue 11)."""
    run = pd.DataFrame({"qid": ["\x00", "\x00a", "b\x00"], "docid": ["d", "e\x00", "\x00"], "score": [1.0, 2.0, 3.0]})
    write_run(run, tmp_path / "r")
    back = read_run(tmp_path / "r").sort_values("qid").reset_index(drop=True)
    assert back.to_dict("list") == run.sort_values("qid").reset_index(drop=True).to_dict("list")
    write_qrels(run.rename(columns={"score": "label"}), tmp_path / "q")
    assert read_qrels(tmp_path / "q")["qid"].tolist() == ["\x00", "\x00a", "b\x00"]
    with pytest.raises(DataError, match=r"cannot write an empty qid to a run file \(row 1\)"):
        write_run(run.assign(qid=["\x00", "", "x"]), tmp_path / "r")
    with pytest.raises(DataError, match=r"cannot write docid 'a\\x00 b'"):
        write_run(run.assign(docid=["x", "a\x00 b", "y"]), tmp_path / "r")
    with pytest.raises(DataError, match=r"a leading U\+FEFF is read as a byte order mark"):
        write_run(run.assign(qid=["\ufeff1", "2", "3"]), tmp_path / "r")


def test_write_qrels_schema_and_duplicates(tmp_path):
    """Oracle: ltr.schema QRELS columns; trec_eval refuses duplicate judgments."""
    with pytest.raises(SchemaError, match=r"write_qrels needs columns \['label'\]"):
        write_qrels(pd.DataFrame({"qid": ["1"], "docid": ["a"]}), tmp_path / "q")
    dup = pd.DataFrame({"qid": ["1", "1"], "docid": ["a", "a"], "label": [1, 0]})
    with pytest.raises(DataError, match=r"duplicate \(qid, docid\) \('1', 'a'\) in the qrels \(rows 0, 1\)"):
        write_qrels(dup, tmp_path / "q")
    with pytest.raises(DataError, match=r"cannot write docid 'a b'"):
        write_qrels(pd.DataFrame({"qid": ["1"], "docid": ["a b"], "label": [1]}), tmp_path / "q")
    with pytest.raises(DataError, match=r"cannot write an empty docid to a qrels file \(row 1\)"):
        write_qrels(pd.DataFrame({"qid": ["1", "1"], "docid": ["a", ""], "label": [1, 1]}), tmp_path / "q")


# -- runs -------------------------------------------------------------------------------------------------
def test_run_round_trip_is_exact_and_ranked_like_trec_eval(tmp_path):
    """Oracles: the scores written (repr round trip); pytrec_eval.parse_run of our file."""
    rng = np.random.default_rng(1)
    run = _random_run(rng, ties=False)
    write_run(run, tmp_path / "run", tag="sys1")
    back = read_run(tmp_path / "run")
    merged = run.merge(back, on=["qid", "docid"], suffixes=("", "_back"))
    assert len(merged) == len(run) and (merged["score"].to_numpy() == merged["score_back"].to_numpy()).all()
    with open(tmp_path / "run") as handle:
        oracle = pytrec_eval.parse_run(handle)
    assert {q: len(d) for q, d in oracle.items()} == run.groupby("qid").size().to_dict()
    fields = [ln.split() for ln in (tmp_path / "run").read_text().splitlines()]
    assert {f[5] for f in fields} == {"sys1"} and {f[1] for f in fields} == {"Q0"}


def test_write_run_orders_by_score_then_docid_descending(tmp_path):
    """Oracle: trec_eval's order (score descending, ties by docid descending); ranks from 1 per query."""
    run = pd.DataFrame({"qid": ["b", "b", "b", "a", "a"], "docid": ["d1", "d3", "d2", "x", "y"],
                        "score": [1.0, 1.0, 2.0, 0.0, 0.5]})
    write_run(run, tmp_path / "run")
    lines = [ln.split()[:5] for ln in (tmp_path / "run").read_text().splitlines()]
    assert lines == [["b", "Q0", "d2", "1", "2.0"], ["b", "Q0", "d3", "2", "1.0"], ["b", "Q0", "d1", "3", "1.0"],
                     ["a", "Q0", "y", "1", "0.5"], ["a", "Q0", "x", "2", "0.0"]]


def test_read_run_keeps_file_order_and_ignores_rank(tmp_path):
    """Oracle: the lines as written (rank and tag are not used by trec_eval)."""
    p = _write(tmp_path, "7 Q0 z 9 -inf t\n7 Q0 a 1 1e-300 t\n3 x b 1 2 t\n3 x c 1 +INF t\n3 x d 1 .5E1 t\n")
    run = read_run(p)
    assert run.to_dict("list") == {"qid": ["7", "7", "3", "3", "3"], "docid": ["z", "a", "b", "c", "d"],
                                   "score": [-np.inf, 1e-300, 2.0, np.inf, 5.0]}
    assert run.dtypes.tolist() == [object, object, np.float64]


def test_run_with_utf8_ids(tmp_path):
    """Oracle: the ids written, decoded as UTF-8 (a non-breaking space is part of an id, not a separator)."""
    p = _write(tmp_path, "q\u00e9 Q0 d\u00a0x 1 1.5 t\n", mode="w")
    assert read_run(p)[["qid", "docid"]].values.tolist() == [["q\u00e9", "d\u00a0x"]]


def test_duplicate_docid_in_run_names_it_and_the_lines(tmp_path):
    """Oracle: trec_eval refuses duplicate documents in a run."""
    p = _write(tmp_path, "1 Q0 a 1 3 t\n1 Q0 b 2 2 t\n2 Q0 a 1 1 t\n1 Q0 a 3 1 t\n", "my.run")
    with pytest.raises(DataError, match=re.escape(str(p)) + r": duplicate \(qid, docid\) \('1', 'a'\) in the run "
                                                            r"\(lines 1, 4\)"):
        read_run(p)


@pytest.mark.parametrize("odd", ["", "\n\n", "\r\n", "  "])
def test_read_runs_tagged_equals_the_runs_read_one_by_one(tmp_path, odd):
    """Oracle: read_run of each file with its qids prefixed "<i>:"; also for files the joined parse cannot take
    (a blank line, a lone CR line end, leading whitespace), which are then read one by one."""
    rng = np.random.default_rng(3)
    paths = []
    for i in range(3):
        p = tmp_path / f"r{i}.run"
        write_run(_random_run(rng, n_q=4, ties=False), p)
        paths.append(p)
    text = paths[1].read_text()
    odd_forms = {"": text, "\n\n": text + "\n\n", "\r\n": text.replace("\n", "\r\n"), "  ": "  " + text}
    paths[1].write_bytes(odd_forms[odd].encode())
    paths.append(tmp_path / "empty.run")
    paths[-1].write_text("")
    expected = pd.concat([f.assign(qid=f"{i}:" + f["qid"]) for i, f in enumerate(map(read_run, paths))],
                         ignore_index=True)
    pd.testing.assert_frame_equal(read_runs_tagged(paths), expected)


def test_read_runs_tagged_names_the_file_of_a_bad_line(tmp_path):
    """Bad input: a duplicate in one of the runs is the DataError read_run gives, naming that file and its
    lines; a malformed line is read_run's ParseError with the file and line."""
    good = _write(tmp_path, "1 Q0 a 1 3 t\n", "good.run")
    dup = _write(tmp_path, "1 Q0 a 1 3 t\n1 Q0 a 2 2 t\n", "dup.run")
    with pytest.raises(DataError, match=re.escape(str(dup)) + r": duplicate .* \(lines 1, 2\)"):
        read_runs_tagged([good, dup])
    bad = _write(tmp_path, "1 Q0 a 1 3 t\n1 Q0 b 2 x t\n", "bad.run")
    with pytest.raises(ParseError, match=_where(bad, 2)):
        read_runs_tagged([good, bad])


def test_write_run_errors(tmp_path):
    """Oracle: ltr.schema RUN columns; the run tag and score rules."""
    run = pd.DataFrame({"qid": ["1"], "docid": ["a"], "score": [np.nan]})
    with pytest.raises(DataError, match=r"score of \(qid '1', docid 'a'\) is NaN"):
        write_run(run, tmp_path / "r")
    with pytest.raises(ConfigError, match=r"run tag must be a non-empty string without whitespace, got 'a b'"):
        write_run(run.assign(score=1.0), tmp_path / "r", tag="a b")
    with pytest.raises(SchemaError, match=r"write_run needs columns \['score'\]"):
        write_run(run[["qid", "docid"]], tmp_path / "r")


# -- bad input ---------------------------------------------------------------------------------------------
BAD_QRELS = [
    ("1 0 a", r"expected 4 fields 'qid iter docid rel' in a qrels line, got 3: '1 0 a'"),
    ("1 0 a 1 x", r"expected 4 fields 'qid iter docid rel' in a qrels line, got 5"),
    ("1 0 a rel", r"expected a number in field 4 \('rel'\), got 'rel'"),
    ("1 0 a nan", r"field 4 \('rel'\) must be a finite number, got 'nan'"),
    ("1 0 a inf", r"field 4 \('rel'\) must be a finite number, got 'inf'"),
    # trec_eval's grammar, not Python's float(): float('1_0') is 10, trec_eval reads 1
    ("1 0 a 1_0", r"expected a number in field 4 \('rel'\), got '1_0' \(numbers are ASCII digits"),
    ("1 0 a infinity", r"expected a number in field 4 \('rel'\), got 'infinity'"),
    ("1 0 a 0x1", r"expected a number in field 4"),
    ("1 0 a 1\u2003", r"expected a number in field 4"),
    ("1 0 a \uff12", r"expected a number in field 4"),
]


@pytest.mark.parametrize("line,message", BAD_QRELS, ids=[b[0] for b in BAD_QRELS])
def test_bad_qrels_line(tmp_path, line, message):
    """Oracle: the rule broken on line 3 (after a good line and a blank line)."""
    p = _write(tmp_path, f"1 0 d 1\n\n{line}\n", "qrels.txt")
    with pytest.raises(ParseError, match=_where(p, 3) + message):
        read_qrels(p)


BAD_RUNS = [
    ("1 Q0 a 1 0.5", r"expected 6 fields 'qid Q0 docid rank score tag' in a run line, got 5"),
    ("1 Q0 a 1 score t", r"expected a number in field 5 \('score'\), got 'score'"),
    ("1 Q0 a 1 nan t", r"field 5 \('score'\) must be a number, got 'nan'"),
    ("1 Q0 a 1 0x1 t", r"expected a number in field 5"),
    ("1 Q0 a 1 \u0661 t", r"expected a number in field 5"),
    ("1 Q0 a 1 1_0 t", r"expected a number in field 5 \('score'\), got '1_0'"),
    ("1 Q0 a 1 -Infinity t", r"expected a number in field 5 \('score'\), got '-Infinity'"),
    ("1 Q0 a 1 1e t", r"expected a number in field 5"),
]


@pytest.mark.parametrize("line,message", BAD_RUNS, ids=[b[0] for b in BAD_RUNS])
def test_bad_run_line(tmp_path, line, message):
    """Oracle: the rule broken on line 2."""
    p = _write(tmp_path, f"1 Q0 d 1 2.5 t\n{line}\n", "x.run")
    with pytest.raises(ParseError, match=_where(p, 2) + message):
        read_run(p)


def test_invalid_utf8_id(tmp_path):
    """Oracle: the id bytes are not UTF-8."""
    p = _write(tmp_path, b"1 0 a 1\n1 0 \xff 1\n", mode="wb")
    with pytest.raises(ParseError, match=_where(p, 2) + r"docid b'\\xff' is not valid UTF-8"):
        read_qrels(p)


def test_missing_file(tmp_path):
    """Oracle: the path does not exist."""
    with pytest.raises(ParseError, match=r"nope: file not found"):
        read_run(tmp_path / "nope")


def test_empty_files(tmp_path):
    """Oracle: no lines, no rows (with the schema's columns and dtypes)."""
    p = _write(tmp_path, "\n \n")
    assert read_qrels(p).columns.tolist() == ["qid", "docid", "label"] and len(read_qrels(p)) == 0
    assert len(read_run(p)) == 0
    write_run(pd.DataFrame({"qid": [], "docid": [], "score": []}), tmp_path / "e")
    assert (tmp_path / "e").read_text() == ""
