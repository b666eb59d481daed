"""Fuzzing the parsers: no input may crash them with anything but our typed errors.

Oracle: the contract itself. Arbitrary bytes and near-valid text built from the format's own tokens either
parse or raise an :class:`~ltr.errors.LTRError`; the fast path never disagrees with the line-by-line
check (which would say "this is a bug in ltr"); and whatever parses, written back, reads back equal.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltr.errors import LTRError
from ltr.io import letor
from ltr.io.letor import read_letor, read_query_file, write_letor
from ltr.io.trec import read_qrels, read_run, write_qrels, write_run

# LTR_FUZZ_EXAMPLES=2000 for a longer local run
SETTINGS = settings(max_examples=int(os.environ.get("LTR_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

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
