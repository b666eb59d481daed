"""Fuzzing the readers: no input may crash them with anything but our typed errors.

Oracle: the contract itself. Arbitrary bytes and near-valid text built from the format's own tokens either
parse or raise an :class:`~ltr.errors.LTRError`; the fast path never disagrees with the line-by-line
check (which would say "this is a bug in ltr"); and whatever parses, written back, reads back equal.
Every reader is here: LETOR/SVMlight and .query files, TREC qrels and runs, SMART, TREC documents and
topics, JSONL and TSV collections (experiment TOML files: tests/experiment/test_load_fuzz.py).

CI runs the derandomized "ci" profile (tests/conftest.py); ``HYPOTHESIS_PROFILE=deep`` runs ten times the
examples with random seeds. Counterexamples found stay below as explicit ``@example``s.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ltr.errors import LTRError
from ltr.io import letor
from ltr.io.letor import read_letor, read_query_file, write_letor
from ltr.io.trec import read_qrels, read_run, write_qrels, write_run

from tests.conftest import examples

SETTINGS = settings(max_examples=examples(150))

# near-valid pieces of LETOR lines: good and bad labels, qids, features, comments, separators
LETOR_TOKENS = st.sampled_from([
    "0", "1", "2", "0.5", "-1", "1e3", "nan", "inf", "x", "", "qid:1", "qid:2", "qid:007", "qid:", "qid:a b",
    "1:0.5", "2:1", "3:-2.5e-3", "2:0", "0:1", "-1:2", "1.5:2", "1:", ":1", "1:x", "1:nan", "1:1e300",
    "999999999:1", "1234567890:1", "1:0x10", "1:1_0", "#docid = d1", "#docid = d2 inc = 1", "# c", "#",
    "\t", " ", "\r", "\x00", "\xff", "é", "1:\x0b2",
])
TREC_TOKENS = st.sampled_from([
    "1", "2", "Q0", "0", "d1", "d2", "d3", "1.5", "-2", "nan", "inf", "-inf", "1e-300", "x", "", "\t", " ",
    "\r", "\x1c", "\xa0", "é", "\x00", "0x10", "1_0", "run",
])


def _line(tokens):
    return " ".join(tokens)


LETOR_TEXT = st.lists(st.lists(LETOR_TOKENS, max_size=6).map(_line), max_size=8).map("\n".join)
TREC_TEXT = st.lists(st.lists(TREC_TOKENS, max_size=7).map(_line), max_size=8).map("\n".join)


_BASE: list[Path] = []


@pytest.fixture(autouse=True, scope="module")
def _fuzz_dir(tmp_path_factory):
    """One folder under pytest's temporary root (which pytest prunes) for all the examples."""
    _BASE.append(tmp_path_factory.mktemp("fuzz"))
    yield
    _BASE.pop()


def _tmp_file(data: bytes, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ex-", dir=_BASE[-1]))
    path = folder / name
    path.write_bytes(data)
    return path


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except LTRError as err:
        assert "bug in ltr" not in str(err), str(err)
        return None


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), LETOR_TEXT.map(_encode)), small_blocks=st.booleans(),
       query=st.one_of(st.none(), st.binary(max_size=20), st.just(b"1\n2\n")))
def test_read_letor_never_crashes(data, small_blocks, query):
    path = _tmp_file(data, "d.txt")
    if query is not None:
        path.with_name("d.txt.query").write_bytes(query)
    with pytest.MonkeyPatch.context() as mp:
        if small_blocks:
            mp.setattr(letor, "_BLOCK_BYTES", 16)
        ds = _call(read_letor, path)
        sparse = _call(read_letor, path, sparse=True, allow_nonfinite=True)
    if ds is not None:
        # whatever parses reads back equal after writing
        write_letor(ds, path.with_name("back.txt"), query_file=path.with_name("back.q"))
        back = read_letor(path.with_name("back.txt"), n_features=ds.n_features, query_file=False)
        assert np.array_equal(back.X.view(np.uint32), (ds.X + np.float32(0)).view(np.uint32))
        assert back.labels.tolist() == ds.labels.tolist() and back.qids.tolist() == ds.qids.tolist()
        assert sparse is not None and np.array_equal(sparse.dense_X(), ds.X)


def _outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs), None
    except LTRError as err:
        return None, str(err)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), LETOR_TEXT.map(_encode)))
def test_letor_numba_and_numpy_paths_agree(data):
    """Oracle: the numpy reference path gives the same dataset or the same message."""
    path = _tmp_file(data, "d.txt")
    path.with_name("d.txt.query").write_bytes(b"1\n" * data.count(b"\n") + b"1\n")
    with pytest.MonkeyPatch.context() as mp:
        fast, fast_err = _outcome(read_letor, path, allow_nonfinite=True)
        mp.setattr(letor, "_USE_NUMBA", False)
        ref, ref_err = _outcome(read_letor, path, allow_nonfinite=True)
    assert fast_err == ref_err
    if ref is not None:
        assert np.array_equal(fast.X.view(np.uint32), ref.X.view(np.uint32))
        assert fast.labels.tolist() == ref.labels.tolist() and fast.qids.tolist() == ref.qids.tolist()
        assert fast.docids.tolist() == ref.docids.tolist()


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), TREC_TEXT.map(_encode)))
def test_trec_fast_and_reference_paths_agree(data):
    """Oracle: the reference path (bytes.split, numpy field count) gives the same frame or message."""
    from ltr.io import trec
    path = _tmp_file(data, "f")
    for reader in (read_qrels, read_run):
        with pytest.MonkeyPatch.context() as mp:
            fast, fast_err = _outcome(reader, path)
            mp.setattr(trec, "_USE_FAST", False)
            ref, ref_err = _outcome(reader, path)
        assert fast_err == ref_err
        if ref is not None:
            assert fast.equals(ref) and fast.dtypes.tolist() == ref.dtypes.tolist()


@SETTINGS
@given(data=st.one_of(st.binary(max_size=100), st.text(alphabet="0123 \n\tx-", max_size=30).map(_encode)))
def test_read_query_file_never_crashes(data):
    sizes = _call(read_query_file, _tmp_file(data, "d.query"))
    assert sizes is None or (sizes > 0).all()


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), TREC_TEXT.map(_encode)))
def test_read_qrels_and_run_never_crash(data):
    path = _tmp_file(data, "f")
    qrels = _call(read_qrels, path)
    run = _call(read_run, path)
    if qrels is not None and (qrels["label"] == qrels["label"].round()).all():
        write_qrels(qrels, path.with_name("q2"))
        assert read_qrels(path.with_name("q2")).equals(qrels)
    if run is not None:
        write_run(run, path.with_name("r2"))
        back = read_run(path.with_name("r2")).set_index(["qid", "docid"])["score"]
        assert back.loc[list(zip(run.qid, run.docid))].tolist() == run.score.tolist()


@SETTINGS
@given(x=st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=40),
       labels=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=1))
def test_letor_round_trip_of_any_finite_float32(x, labels):
    """Oracle: the values written (bit for bit; -0.0 reads back as 0.0)."""
    from ltr.ranking import RankingDataset
    X = np.array(x, dtype=np.float32)[None, :]
    ds = RankingDataset(X, labels, ["q"], ["d"])
    path = _tmp_file(b"", "d.txt")
    write_letor(ds, path)
    back = read_letor(path, n_features=X.shape[1])
    assert np.array_equal(back.X.view(np.uint32), (X + np.float32(0)).view(np.uint32))
    assert back.labels.tolist() == ds.labels.tolist()


@SETTINGS
@given(scores=st.lists(st.floats(allow_nan=False), min_size=1, max_size=30))
def test_run_round_trip_of_any_float64(scores):
    """Oracle: the scores written, bit for bit."""
    import pandas as pd
    run = pd.DataFrame({"qid": ["q"] * len(scores), "docid": [f"d{i}" for i in range(len(scores))],
                        "score": scores})
    path = _tmp_file(b"", "r")
    write_run(run, path)
    back = read_run(path).set_index("docid")["score"]
    assert np.array_equal(back.loc[run.docid].to_numpy().view(np.uint64), run.score.to_numpy().view(np.uint64))


# -- the collection readers: SMART, TREC documents and topics, JSONL, TSV ------------------------------------
def _only_ltr_errors(fn, *args, **kwargs):
    """Call ``fn``; an LTRError is an accepted refusal, anything else (or a crash) fails the test."""
    try:
        return fn(*args, **kwargs)
    except LTRError:
        return None


ODD = ["", " ", "\t", "\r", "\r\n", "\x00", "\x0c", "\xff", "\u00e9", "\u00a0", "\u2028", "\ufeff", "\x1c"]
SMART_TOKENS = st.sampled_from([
    ".I 1", ".I 2", ".I 01", ".I", ".I x", ".I 1_0", ".T", ".W", ".B", ".A", ".X", ".K", ".Z", ".5 percent",
    "text", "CACM May, 1960", "CACM June, 1961", "1959", "2\t5\t1", "1 5 2", "3\t4\t1", "x 5 1", "1 5", "7",
    "9 1", "1 2 0 0", *ODD])
SMART_TEXT = st.lists(st.lists(SMART_TOKENS, max_size=3).map(" ".join), max_size=14).map("\n".join)


@SETTINGS
@given(docs=st.one_of(st.binary(max_size=300), SMART_TEXT.map(_encode)),
       qrels=st.one_of(st.binary(max_size=60), TREC_TEXT.map(_encode)),
       links=st.sampled_from([None, "cacm", "symmetric"]), dates=st.sampled_from([None, "cacm"]))
def test_smart_readers_never_crash(docs, qrels, links, dates):
    from ltr.io.smart import load_smart, read_smart, read_smart_qrels
    path = _tmp_file(docs, "docs.all")
    q = path.with_name("qrels")
    q.write_bytes(qrels)
    _only_ltr_errors(read_smart, path)
    _only_ltr_errors(read_smart_qrels, q)
    c = _only_ltr_errors(load_smart, path, path, q, links=links, dates=dates)
    if c is not None and c.links is not None:
        assert set(c.links.source) | set(c.links.target) <= set(c.documents.docid)


TREC_DOC_TOKENS = st.sampled_from([
    "<DOC>", "</DOC>", "<DOCNO>", "</DOCNO>", "<TEXT>", "</TEXT>", "a", "b", "a b", "12", "<top>", "</top>",
    "<num>", "</num>", "Number:", "401", "<title>", "</title>", "<desc>", "Description:", "<narr>", "<", ">",
    "\n", *ODD])
TREC_DOC_TEXT = st.lists(TREC_DOC_TOKENS, max_size=30).map("".join)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), TREC_DOC_TEXT.map(_encode)),
       field=st.sampled_from(["title", "desc", "narr", "num", "x"]))
def test_trec_document_and_topic_readers_never_crash(data, field):
    from ltr.io.trec_docs import read_trec_docs, read_trec_topics
    path = _tmp_file(data, "f.trec")
    docs = _only_ltr_errors(read_trec_docs, path)
    topics = _only_ltr_errors(read_trec_topics, path, field=field)
    if docs is not None:
        assert docs.docid.is_unique and all(d and not any(c in d for c in " \t\n\r") for d in docs.docid)
    if topics is not None:
        assert topics.qid.is_unique


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                         st.text(max_size=6), st.sampled_from(["2021-06-15T08:00:00Z", "2020-01-01", "not a date",
                                                               "1_0", "1e3", "", " "]))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                 st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                           max_leaves=6)
KEYS = st.sampled_from(["docid", "qid", "title", "body", "url", "timestamp", "links", "query", "query_time", "label",
                        "x"])


def _json_line(obj) -> str:
    import json
    try:
        return json.dumps(obj, allow_nan=True)
    except (ValueError, OverflowError):
        return "{}"


JSONL_TEXT = st.lists(st.one_of(st.dictionaries(KEYS, JSON_VALUES, max_size=6), JSON_VALUES).map(_json_line)
                      | st.sampled_from(["", "{", "[1]", '{"docid": "1"', "\ufeff{}", "\r"]),
                      max_size=6).map("\n".join)


@SETTINGS
@given(docs=st.one_of(st.binary(max_size=200), JSONL_TEXT.map(_encode)),
       queries=st.one_of(st.binary(max_size=80), JSONL_TEXT.map(_encode)),
       qrels=st.one_of(st.none(), st.binary(max_size=80), JSONL_TEXT.map(_encode), TREC_TEXT.map(_encode)))
def test_jsonl_loader_never_crashes(docs, queries, qrels):
    from ltr.io.jsonl import load_jsonl, write_jsonl
    d = _tmp_file(docs, "docs.jsonl")
    q = d.with_name("queries.jsonl")
    q.write_bytes(queries)
    r = None
    if qrels is not None:
        r = d.with_name("qrels.jsonl")
        r.write_bytes(qrels)
    c = _only_ltr_errors(load_jsonl, d, q, r)
    if c is not None:
        # whatever loads, written back, loads back equal
        out = write_jsonl(c, d.parent / "back")
        back = load_jsonl(out["docs"], out["queries"], out["qrels"], name=c.name, fields=c.fields)
        assert back.documents[list(c.fields)].equals(c.documents[list(c.fields)])
        assert back.queries.qid.tolist() == c.queries.qid.tolist() and back.qrels.equals(c.qrels)


TSV_TOKENS = st.sampled_from(["docid", "qid", "query", "title", "body", "url", "timestamp", "query_time", "d1", "d2",
                              "q1", "2020-01-01", "x", "", "\t", "\"", "'", "#", *ODD])
TSV_TEXT = st.lists(st.lists(TSV_TOKENS, max_size=5).map("\t".join), max_size=6).map("\n".join)


@SETTINGS
@example(docs=b"docid\n\t\t", queries=b"", links=None)       # found by the deep profile (seed 1)
@example(docs=b"docid\n\t", queries=b"", links=None)
@given(docs=st.one_of(st.binary(max_size=200), TSV_TEXT.map(_encode)),
       queries=st.one_of(st.binary(max_size=80), TSV_TEXT.map(_encode)),
       links=st.one_of(st.none(), TSV_TEXT.map(_encode)))
def test_tsv_loader_never_crashes(docs, queries, links):
    from ltr.io.tsv import load_tsv
    d = _tmp_file(docs, "docs.tsv")
    q = d.with_name("queries.tsv")
    q.write_bytes(queries)
    lk = None
    if links is not None:
        lk = d.with_name("links.tsv")
        lk.write_bytes(links)
    c = _only_ltr_errors(load_tsv, d, q, links_path=lk)
    if c is not None:
        assert c.documents.docid.is_unique and all(isinstance(v, str) for v in c.documents.docid)
