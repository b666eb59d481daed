"""LETOR/SVMlight reader and writer: round trips, real files, and every bad-input message.

Oracles: scikit-learn's ``load_svmlight_file`` (an independent SVMlight parser) for X, labels and numeric
qids; the counts in each ``shared/data/*/SOURCE.md``; the original file text for the LETOR-style writer.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file

from ltr.ranking import RankingDataset
from ltr.errors import DataError, GroupError, ParseError, SchemaError
from ltr.io import _bytes as B
from ltr.io import letor
from ltr.io.letor import read_letor, read_letor_folds, read_query_file, write_letor
from tests.conftest import REPO, shared_path


def _write(tmp_path, text, name="data.txt", mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def _where(path, line):
    return re.escape(f"{path}:{line}: ")


def _assert_same(a: RankingDataset, b: RankingDataset, *, docids=True):
    assert np.array_equal(a.dense_X().view(np.uint32), b.dense_X().view(np.uint32))   # bit for bit
    assert np.array_equal(a.labels, b.labels)
    assert a.qids.tolist() == b.qids.tolist()
    if docids:
        assert a.docids.tolist() == b.docids.tolist()
    assert a.group_sizes.tolist() == b.group_sizes.tolist()


# -- basic reading ------------------------------------------------------------------------------------
def test_reads_letor4_lines_with_comments_and_blank_lines(tmp_path):
    """Oracle: the values written in the text (hand-checked)."""
    p = _write(tmp_path, "# header comment\n"
                         "2 qid:10 1:0.5 3:1 #docid = GX1 inc = 1 prob = 0.08\n"
                         "\n"
                         "0 qid:10 2:0.25 #docid = GX2 inc = 1 prob = 0.5\n"
                         "1.5 qid:7 3:-2e-3 #docid = GX3\n")
    ds = read_letor(p)
    assert ds.X.dtype == np.float32 and ds.labels.dtype == np.float64
    assert ds.X.tolist() == [[0.5, 0.0, 1.0], [0.0, 0.25, 0.0], [0.0, 0.0, np.float32(-2e-3)]]
    assert ds.labels.tolist() == [2.0, 0.0, 1.5]
    assert ds.qids.tolist() == ["10", "10", "7"]
    assert ds.docids.tolist() == ["GX1", "GX2", "GX3"]
    assert ds.group_sizes.tolist() == [2, 1]
    assert ds.feature_names == ["f1", "f2", "f3"]
    assert ds.name == str(p)


def test_qids_are_kept_as_written_and_never_resorted(tmp_path):
    """Oracle: the file's own order ("106" sorts before "16" as a string; "007" is not 7)."""
    p = _write(tmp_path, "0 qid:16 1:1\n0 qid:106 1:1\n1 qid:007 1:1\n1 qid:q-a:b 1:1\n")
    ds = read_letor(p)
    assert ds.unique_qids.tolist() == ["16", "106", "007", "q-a:b"]
    assert ds.docids.tolist() == ["0", "0", "0", "0"]


def test_sparse_and_dense_agree_and_missing_features_are_zero(tmp_path):
    """Oracle: dense X equals the CSR matrix densified; absent ids are not stored in CSR."""
    p = _write(tmp_path, "1 qid:1 2:0.5 5:3\n0 qid:1 1:1\n")
    dense, csr = read_letor(p), read_letor(p, sparse=True)
    assert sp.issparse(csr.X) and csr.X.nnz == 3
    assert np.array_equal(csr.X.toarray(), dense.X)
    assert dense.X.shape == (2, 5)


def test_n_features_and_feature_names(tmp_path):
    """Oracle: the requested width; ids beyond it are refused with the line."""
    p = _write(tmp_path, "1 qid:1 2:0.5\n")
    assert read_letor(p, n_features=4).X.shape == (1, 4)
    assert read_letor(p, feature_names=["a", "b", "c"]).feature_names == ["a", "b", "c"]
    with pytest.raises(ParseError, match=_where(p, 1) + r"feature id 2 exceeds n_features=1"):
        read_letor(p, n_features=1)
    with pytest.raises(SchemaError, match=r"n_features=2 but 3 feature names"):
        read_letor(p, n_features=2, feature_names=["a", "b", "c"])


def test_unsorted_feature_ids_are_accepted(tmp_path):
    """Oracle: the same line with sorted ids."""
    a = read_letor(_write(tmp_path, "1 qid:1 3:0.3 1:0.1 2:0.2\n", "a.txt"), sparse=True)
    b = read_letor(_write(tmp_path, "1 qid:1 1:0.1 2:0.2 3:0.3\n", "b.txt"), sparse=True)
    _assert_same(a, b)
    assert a.X.has_sorted_indices


def test_crlf_and_tabs_read_the_same(tmp_path):
    """Oracle: the same file with LF line ends and spaces."""
    a = read_letor(_write(tmp_path, b"1\tqid:1\t1:0.5 #docid = d1\r\n0 qid:1 2:1 #docid = d2\r\n", "a.txt", "wb"))
    b = read_letor(_write(tmp_path, "1 qid:1 1:0.5 #docid = d1\n0 qid:1 2:1 #docid = d2\n", "b.txt"))
    _assert_same(a, b)


def test_docid_without_space_after_hash(tmp_path):
    """Oracle: LETOR 4 writes '#docid = X' with no space after '#'."""
    ds = read_letor(_write(tmp_path, "1 qid:1 1:1 #docid = a\n1 qid:1 1:1 # docid=b extra\n"))
    assert ds.docids.tolist() == ["a", "b"]


def test_empty_file(tmp_path):
    """Oracle: an empty file has no rows (and no features unless told)."""
    ds = read_letor(_write(tmp_path, ""), n_features=3)
    assert len(ds) == 0 and ds.X.shape == (0, 3)


def test_blocks_give_the_same_result_and_line_numbers(tmp_path, monkeypatch):
    """Oracle: the one-block parse of the same file; line numbers counted across block boundaries."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(60):
        feats = " ".join(f"{j}:{rng.random():.4f}" for j in sorted(rng.choice(20, 5, replace=False) + 1))
        lines.append(f"{i % 3} qid:{i // 7} {feats} #docid = d{i}")
    p = _write(tmp_path, "\n".join(lines) + "\n")
    whole = read_letor(p)
    monkeypatch.setattr(letor, "_BLOCK_BYTES", 100)
    _assert_same(read_letor(p, progress=True), whole)
    lines[47] = lines[47].replace("qid:", "qud:")
    p2 = _write(tmp_path, "\n".join(lines) + "\n", "bad.txt")
    with pytest.raises(ParseError, match=_where(p2, 48) + r"expected 'qid:<id>' after the label"):
        read_letor(p2)


# -- LightGBM .query side files ------------------------------------------------------------------------
def test_query_side_file_is_found_next_to_the_data(tmp_path):
    """Oracle: group sizes written in the side file; qids are the zero-padded group index."""
    p = _write(tmp_path, "1 1:0.5\n0 2:1\n2 1:1\n" * 4, "rank.train")
    _write(tmp_path, "2\n1\n3\n3\n3\n\n", "rank.train.query")
    ds = read_letor(p)
    assert ds.group_sizes.tolist() == [2, 1, 3, 3, 3]
    assert ds.unique_qids.tolist() == ["0", "1", "2", "3", "4"]
    explicit = read_letor(p, query_file=tmp_path / "rank.train.query")
    _assert_same(ds, explicit)


def test_query_file_must_sum_to_the_rows(tmp_path):
    """Oracle: 3 + 1 = 4 sizes for 3 rows; the message names both numbers."""
    p = _write(tmp_path, "1 1:0.5\n0 2:1\n2 1:1\n", "d.txt")
    _write(tmp_path, "3\n1\n", "d.txt.query")
    with pytest.raises(GroupError, match=r"d\.txt\.query.* sum to 4 but there are 3 rows"):
        read_letor(p)


def test_query_file_bad_line(tmp_path):
    """Oracle: line 2 of the side file is not a positive integer."""
    q = _write(tmp_path, "2\nx\n", "d.query")
    with pytest.raises(ParseError, match=_where(q, 2) + r"expected a positive integer group size"):
        read_query_file(q)
    q0 = _write(tmp_path, "2\n0\n", "z.query")
    with pytest.raises(ParseError, match=_where(q0, 2)):
        read_query_file(q0)


def test_qids_and_query_file_must_agree(tmp_path):
    """Oracle: qids give groups [2, 1], the side file says [1, 2]."""
    p = _write(tmp_path, "1 qid:1 1:1\n1 qid:1 1:1\n1 qid:2 1:1\n", "d.txt")
    _write(tmp_path, "1\n2\n", "d.txt.query")
    with pytest.raises(GroupError, match=r"disagree"):
        read_letor(p)
    assert read_letor(p, query_file=False).group_sizes.tolist() == [2, 1]


def test_no_qid_and_no_query_file_says_how_to_fix(tmp_path):
    """Oracle: the brief: a missing qid is refused, the message names the .query option."""
    p = _write(tmp_path, "\n1 1:0.5\n", "d.txt")
    with pytest.raises(ParseError, match=_where(p, 2) + r"expected 'qid:<id>' after the label, got '1:0.5'.*"
                                         r"\.query"):
        read_letor(p)


def test_qid_on_a_later_line_of_a_file_without_qids(tmp_path):
    """Oracle: line 2 has a qid although line 1 has none."""
    p = _write(tmp_path, "1 1:0.5\n0 qid:3 1:1\n", "d.txt")
    _write(tmp_path, "2\n", "d.txt.query")
    with pytest.raises(ParseError, match=_where(p, 2) + r"found 'qid:3' but the first data line has no qid"):
        read_letor(p)


# -- bad input: each message names the file, the line and what was expected ------------------------------
BAD_LINES = [
    ("x qid:1 1:0.5", r"expected a numeric relevance label as the first field, got 'x'"),
    ("nan qid:1 1:0.5", r"the label must be a finite number, got 'nan'"),
    ("1 1:0.5", r"expected 'qid:<id>' after the label, got '1:0.5' \(earlier lines have qids"),
    ("1", r"expected 'qid:<id>' after the label, got the end of the line"),
    ("1 qid: 1:0.5", r"empty qid"),
    ("1 qid:1 abc", r"expected 'index:value', got 'abc'"),
    ("1 qid:1 1:", r"expected a number after '1:', got ''"),
    ("1 qid:1 1:abc", r"expected a number after '1:', got 'abc'"),
    ("1 qid:1 1:0.5:3", r"expected a number after '1:', got '0.5:3'"),
    ("1 qid:1 0:0.5", r"feature id 0 in '0:0.5': feature ids are 1-based"),
    ("1 qid:1 -1:0.5", r"expected a positive integer feature id before ':' \(ids are 1-based\), got '-1:0.5'"),
    ("1 qid:1 1.5:0.5", r"expected a positive integer feature id"),
    ("1 qid:1 1234567890:1", r"expected a positive integer feature id"),
    ("1 qid:1 1:nan", r"feature 1 value 'nan' is not finite; pass allow_nonfinite=True"),
    ("1 qid:1 2:-inf", r"feature 2 value '-inf' is not finite"),
    ("1 qid:1 2:1e300", r"feature 2 value '1e300' overflows float32"),
    ("1 qid:1 2:1 2:3", r"feature id 2 appears twice on the line"),
    ("1 qid:1 3:1 2:3 3:0", r"feature id 3 appears twice on the line"),
    ("1 qid:1 2:\x01", r"expected a number after '2:'"),
]


@pytest.mark.parametrize("use_numba", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("line,message", BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_bad_line_names_file_and_line(tmp_path, monkeypatch, line, message, use_numba):
    """Oracle: the rule broken by the third line (two good lines and a comment line before it)."""
    monkeypatch.setattr(letor, "_USE_NUMBA", use_numba)
    p = _write(tmp_path, f"0 qid:1 1:0.5\n# a comment\n{line}\n1 qid:1 1:1\n", "train.txt")
    with pytest.raises(ParseError, match=_where(p, 3) + message):
        read_letor(p)


def test_nonfinite_features_when_allowed(tmp_path):
    """Oracle: the values written (NaN stays NaN, inf stays inf)."""
    p = _write(tmp_path, "1 qid:1 1:nan 2:-inf 3:1\n")
    X = read_letor(p, allow_nonfinite=True).X
    assert np.isnan(X[0, 0]) and X[0, 1] == -np.inf and X[0, 2] == 1


def test_split_query_is_a_group_error_naming_file_and_lines(tmp_path):
    """Oracle: qid 1 occupies lines 1-2 and 4."""
    p = _write(tmp_path, "1 qid:1 1:1\n1 qid:1 1:1\n1 qid:2 1:1\n1 qid:1 1:1\n", "split.txt")
    with pytest.raises(GroupError, match=re.escape(str(p)) + r": query '1' is split into 2 non-contiguous "
                                                             r"blocks \(lines 1\.\.2, 4\.\.4\).*stable sort"):
        read_letor(p)


def test_docids_on_some_lines_only(tmp_path):
    """Oracle: line 2 lacks the comment that line 1 has."""
    p = _write(tmp_path, "1 qid:1 1:1 #docid = a\n1 qid:1 1:1\n")
    with pytest.raises(ParseError, match=_where(p, 2) + r"no '#docid = \.\.\.' comment, but line 1 has one"):
        read_letor(p)


def test_invalid_utf8_qid(tmp_path):
    """Oracle: the qid bytes are not UTF-8."""
    p = _write(tmp_path, b"1 qid:1 1:1\n1 qid:\xff 1:1\n", mode="wb")
    with pytest.raises(ParseError, match=_where(p, 2) + r"qid b'\\xff' is not valid UTF-8"):
        read_letor(p)


def test_missing_file(tmp_path):
    """Oracle: the path does not exist."""
    with pytest.raises(ParseError, match=r"nope\.txt: file not found"):
        read_letor(tmp_path / "nope.txt")


# -- writing and round trips ----------------------------------------------------------------------------
def _random_dataset(rng, *, sparse=False, real_labels=False, n_queries=5):
    sizes = rng.integers(1, 6, n_queries)
    n = int(sizes.sum())
    X = rng.standard_normal((n, 7)).astype(np.float32) * np.float32(10.0) ** rng.integers(-8, 8, (n, 7))
    X[rng.random((n, 7)) < 0.3] = 0
    labels = rng.random(n) * 3 if real_labels else rng.integers(0, 5, n).astype(float)
    qids = np.repeat([f"q{i}" for i in rng.permutation(n_queries)], sizes)
    docids = np.array([f"doc-{i}" for i in range(n)], dtype=object)
    return RankingDataset(sp.csr_matrix(X) if sparse else X, labels, qids, docids, name="random")


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("real_labels", [False, True])
@pytest.mark.parametrize("docids", [True, False])
def test_round_trip(tmp_path, sparse, real_labels, docids):
    """Oracle: the dataset written (write, read, equal bit for bit)."""
    ds = _random_dataset(np.random.default_rng(1), sparse=sparse, real_labels=real_labels)
    write_letor(ds, tmp_path / "d.txt", docids=docids)
    back = read_letor(tmp_path / "d.txt", sparse=sparse, n_features=ds.n_features)
    _assert_same(ds, back, docids=docids)
    if not docids:
        assert back.docids.tolist()[:2] == ["0", "1"][: min(2, back.group_sizes[0])]
    if sparse:
        assert (back.X != ds.X).nnz == 0 and back.X.nnz == ds.X.nnz


def test_round_trip_with_query_side_file(tmp_path):
    """Oracle: X, labels and group sizes of the dataset written in LightGBM's format."""
    ds = _random_dataset(np.random.default_rng(2))
    write_letor(ds, tmp_path / "rank.train", qids=False, docids=False, query_file=tmp_path / "rank.train.query")
    assert "qid:" not in (tmp_path / "rank.train").read_text()
    back = read_letor(tmp_path / "rank.train", n_features=ds.n_features)
    assert np.array_equal(back.X, ds.X) and np.array_equal(back.labels, ds.labels)
    assert back.group_sizes.tolist() == ds.group_sizes.tolist()
    with pytest.raises(DataError, match=r"query_file"):
        write_letor(ds, tmp_path / "x.txt", qids=False)


def test_every_float32_round_trips_through_its_shortest_text(tmp_path):
    """Oracle: the float32 bit patterns themselves (200,000 random finite patterns, incl. subnormals)."""
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    X = x[: len(x) // 8 * 8].reshape(-1, 8)
    ds = RankingDataset(X, np.zeros(len(X)), np.repeat(["1"], len(X)))
    write_letor(ds, tmp_path / "f.txt", docids=False)
    back = read_letor(tmp_path / "f.txt")
    zero = X == 0          # -0.0 is written as 0
    assert np.array_equal(back.X.view(np.uint32)[~zero], X.view(np.uint32)[~zero])


def test_labels_written_as_ints_when_integral(tmp_path):
    """Oracle: the LETOR convention '2 qid:...' for graded labels, repr for real-valued ones."""
    ds = RankingDataset(np.ones((2, 1), np.float32), [2.0, 0.1], ["1", "1"], ["a", "b"])
    write_letor(ds, tmp_path / "d.txt")
    assert (tmp_path / "d.txt").read_text() == "2 qid:1 1:1.0 #docid = a\n0.1 qid:1 1:1.0 #docid = b\n"


def test_writer_refuses_ids_it_cannot_write(tmp_path):
    """Oracle: whitespace would split a field; '#' in a qid would start the comment."""
    ds = RankingDataset(np.ones((1, 1), np.float32), [1.0], ["a b"], ["d"])
    with pytest.raises(DataError, match=r"cannot write qid 'a b'"):
        write_letor(ds, tmp_path / "d.txt")
    ds = RankingDataset(np.ones((1, 1), np.float32), [1.0], ["a#"], ["d"])
    with pytest.raises(DataError, match=r"cannot write qid 'a#'"):
        write_letor(ds, tmp_path / "d.txt")
    ds = RankingDataset(np.ones((1, 1), np.float32), [np.nan], ["a"], ["d"])
    with pytest.raises(DataError, match=r"non-finite label"):
        write_letor(ds, tmp_path / "d.txt")


# -- the numba scan and the numpy reference agree ------------------------------------------------------
@pytest.mark.parametrize("parts", [("letor4-mq2008", "MQ2008", "Fold1", "vali.txt"),
                                   ("lightgbm-lambdarank-example", "rank.test")], ids=["mq2008", "lightgbm"])
def test_numba_scan_equals_numpy_reference(parts):
    """Oracle: the numpy reference scan (ltr/io/_letor_scan.scan_numpy) on the same bytes."""
    from ltr.io import _letor_scan as S
    if S.numba_scan() is None:
        pytest.skip("numba is not installed")
    buf = np.frombuffer(shared_path(*parts).read_bytes(), dtype=np.uint8)
    a, b = S.numba_scan()(buf), S.scan_numpy(buf)
    for field in S.Scan._fields:
        if field in ("values", "parsed"):
            continue
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.parsed.mean() > 0.99
    ref = B.parse_floats(buf, b.val_s, b.val_e)
    assert np.array_equal(a.values[a.parsed], ref[a.parsed])


# -- the shared data sets --------------------------------------------------------------------------------
def _sklearn(path):
    X, y, q = load_svmlight_file(str(path), query_id=True, zero_based=False, dtype=np.float32)
    return X.toarray(), y, q


def test_mq2008_fold1_train_matches_sklearn_and_source_counts():
    """Oracles: sklearn's SVMlight parser; letor4-mq2008/SOURCE.md counts (9,630 rows / 471 q)."""
    path = shared_path("letor4-mq2008", "MQ2008", "Fold1", "train.txt")
    ds = read_letor(path)
    assert (len(ds), ds.n_queries, ds.n_features) == (9630, 471, 46)
    assert dict(zip(*np.unique(ds.labels, return_counts=True))) == {0.0: 7820, 1.0: 1223, 2.0: 587}
    X, y, q = _sklearn(path)
    assert np.array_equal(ds.X, X) and np.array_equal(ds.labels, y)
    assert ds.qids.tolist() == q.astype(str).tolist()
    assert ds.docids[0] == "GX008-86-4444840" and ds.qids[0] == "10002"


def test_mq2008_precision6_writer_reproduces_the_original_text(tmp_path):
    """Oracle: the original LETOR 4.0 file text (features written with 6 decimals, as LETOR does)."""
    path = shared_path("letor4-mq2008", "MQ2008", "Fold1", "vali.txt")
    ds = read_letor(path)
    write_letor(ds, tmp_path / "v.txt", precision=6)
    ours = [ln.split("#")[0].split() for ln in (tmp_path / "v.txt").read_text().splitlines()]
    orig = [ln.split("#")[0].split() for ln in path.read_text().splitlines()]
    assert ours == orig


def test_mq2008_folds():
    """Oracle: letor4-mq2008/SOURCE.md per-subset counts (S1..S5) and the LETOR fold scheme."""
    folder = shared_path("letor4-mq2008", "MQ2008")
    subsets = {"S1": (2933, 157), "S2": (3635, 157), "S3": (3062, 157), "S4": (2707, 157), "S5": (2874, 156)}
    tests = {"Fold1": "S5", "Fold2": "S1", "Fold3": "S2", "Fold4": "S3", "Fold5": "S4"}
    valis = {"Fold1": "S4", "Fold2": "S5", "Fold3": "S1", "Fold4": "S2", "Fold5": "S3"}
    folds = read_letor_folds(folder, sparse=True)
    assert [f for f, _ in folds] == ["Fold1", "Fold2", "Fold3", "Fold4", "Fold5"]
    for fold, splits in folds:
        test, vali = splits["test"], splits["vali"]
        assert (len(test), test.n_queries) == subsets[tests[fold]]
        assert (len(vali), vali.n_queries) == subsets[valis[fold]]
        assert splits["train"].n_queries == 784 - test.n_queries - vali.n_queries
        assert len(splits["train"]) + len(splits["vali"]) + len(test) == 15211
        assert splits["train"].name == f"MQ2008/{fold}/train"


def test_mslr_sample_matches_sklearn_and_source_counts():
    """Oracles: sklearn's parser; mslr-web-sample-rankeval/SOURCE.md (5,000 rows, 43 q, 136 features)."""
    path = shared_path("mslr-web-sample-rankeval", "msn1.fold1.train.5k.txt")
    ds = read_letor(path)
    assert (len(ds), ds.n_queries, ds.n_features) == (5000, 43, 136)
    assert dict(zip(*np.unique(ds.labels, return_counts=True))) == {0: 2792, 1: 1458, 2: 665, 3: 55, 4: 30}
    assert ds.unique_qids[[0, -1]].tolist() == ["1", "631"] and ds.group_sizes[-1] == 45
    X, y, _ = _sklearn(path)
    assert np.array_equal(ds.X, X) and np.array_equal(ds.labels, y)


@pytest.mark.parametrize("split,rows,queries", [("train", 3005, 201), ("test", 768, 50)])
def test_lightgbm_example_with_query_file(split, rows, queries):
    """Oracles: sklearn's parser (no qid); lightgbm-lambdarank-example/SOURCE.md counts; the .query file."""
    path = shared_path("lightgbm-lambdarank-example", f"rank.{split}")
    ds = read_letor(path, sparse=True)
    assert (len(ds), ds.n_queries, ds.n_features) == (rows, queries, 300)
    sizes = [int(x) for x in path.with_name(f"rank.{split}.query").read_text().split()]
    assert ds.group_sizes.tolist() == sizes
    X, y = load_svmlight_file(str(path), zero_based=False, dtype=np.float32, n_features=300)
    assert (ds.X != X).nnz == 0 and np.array_equal(ds.labels, y)


def test_folds_errors(tmp_path):
    """Oracle: the LETOR layout; a fold without test.txt and a folder without folds are refused."""
    with pytest.raises(DataError, match=r"has no Fold<k> sub-folders"):
        read_letor_folds(tmp_path)
    (tmp_path / "Fold1").mkdir()
    _write(tmp_path / "Fold1", "1 qid:1 1:1\n", "train.txt")
    with pytest.raises(DataError, match=r"Fold1/test\.txt' is missing.*\['train\.txt'\]"):
        read_letor_folds(tmp_path)
    _write(tmp_path / "Fold1", "1 qid:2 1:1\n", "test.txt")
    (fold, splits), = read_letor_folds(tmp_path)
    assert fold == "Fold1" and splits["vali"] is None and splits["test"].qids.tolist() == ["2"]
    with pytest.raises(DataError, match=r"does not exist"):
        read_letor_folds(tmp_path / "nope")


# -- issue 11: what was read wrong or crashed -----------------------------------------------------------
def test_utf8_bom_is_not_part_of_the_first_label(tmp_path, monkeypatch):
    """Oracle: the same file without the BOM (Windows editors write one; it is not data)."""
    a = read_letor(_write(tmp_path, b"\xef\xbb\xbf2 qid:1 1:0.5\n0 qid:1 2:1\n", "a.txt", "wb"))
    b = read_letor(_write(tmp_path, b"2 qid:1 1:0.5\n0 qid:1 2:1\n", "b.txt", "wb"))
    _assert_same(a, b)
    monkeypatch.setattr(letor, "_BLOCK_BYTES", 2)               # a block boundary inside the BOM
    _assert_same(read_letor(tmp_path / "a.txt"), b)


@pytest.mark.parametrize("token", ["1_0", "infinity", "0x10", "1e", ".", "+", "1.5.2", "\u00a01", "1\u2003",
                                   "\uff11", "1d0", "nan(1)"])
@pytest.mark.parametrize("where", ["label", "value"])
@pytest.mark.parametrize("use_numba", [True, False], ids=["numba", "numpy"])
def test_numbers_follow_svmlight_grammar_not_python_float(tmp_path, monkeypatch, token, where, use_numba):
    """Oracle: SVMlight's and trec_eval's grammar (sign, digits, point, exponent); Python's float() reads
    '1_0' as 10 and strips Unicode spaces, which no SVMlight tool writes."""
    monkeypatch.setattr(letor, "_USE_NUMBA", use_numba)
    line = f"{token} qid:1 1:1" if where == "label" else f"1 qid:1 1:{token}"
    p = _write(tmp_path, f"0 qid:1 1:0.5\n{line}\n", "g.txt")
    what = r"expected a numeric relevance label" if where == "label" else r"expected a number after '1:'"
    with pytest.raises(ParseError, match=_where(p, 2) + what):
        read_letor(p, allow_nonfinite=True)


@pytest.mark.parametrize("token,value", [("+1", 1.0), ("1.", 1.0), (".5", 0.5), ("-.5e-1", -0.05), ("1E2", 100.0),
                                         ("007", 7.0), ("1e-45", 1.401298464324817e-45)])
def test_numbers_the_grammar_accepts(tmp_path, token, value):
    """Oracle: C's strtod on the same text (these are all valid SVMlight numbers)."""
    ds = read_letor(_write(tmp_path, f"{token} qid:1 1:{token}\n"))
    assert ds.labels[0] == float(token) and ds.X[0, 0] == np.float32(value)


def test_nonfinite_tokens_in_any_letter_case(tmp_path):
    """Oracle: what numpy and R print for non-finite values (nan, inf, -inf, NaN, Inf)."""
    X = read_letor(_write(tmp_path, "1 qid:1 1:NaN 2:-Inf 3:inf 4:+inf\n"), allow_nonfinite=True).X
    assert np.isnan(X[0, 0]) and X[0, 1] == -np.inf and X[0, 2] == np.inf and X[0, 3] == np.inf


@pytest.mark.parametrize("use_numba", [True, False], ids=["numba", "numpy"])
def test_cr_only_line_ends_are_read_as_lines(tmp_path, monkeypatch, use_numba):
    """Oracle: the same file with LF line ends (an old Mac file; it used to be read as one row)."""
    monkeypatch.setattr(letor, "_USE_NUMBA", use_numba)
    text = "2 qid:1 1:0.5 #docid = a\n0 qid:1 2:1 #docid = b\n1 qid:2 1:3 #docid = c\n"
    lf = read_letor(_write(tmp_path, text, "lf.txt"))
    cr = read_letor(_write(tmp_path, text.replace("\n", "\r").encode(), "cr.txt", "wb"))
    _assert_same(cr, lf)
    monkeypatch.setattr(letor, "_BLOCK_BYTES", 7)
    _assert_same(read_letor(tmp_path / "cr.txt"), lf)
    mixed = _write(tmp_path, b"1 qid:1 1:1\r0 qid:1 1:2\r1 qid:1 1:3\n", "mixed.txt", "wb")
    with pytest.raises(ParseError, match=_where(mixed, 3) + r"LF line end in a file whose earlier lines end in CR"):
        read_letor(mixed)


@pytest.mark.parametrize("use_numba", [True, False], ids=["numba", "numpy"])
def test_a_lone_cr_inside_an_lf_file_is_refused(tmp_path, monkeypatch, use_numba):
    """Oracle: the rule (a CR that does not end a CRLF pair would join two lines)."""
    monkeypatch.setattr(letor, "_USE_NUMBA", use_numba)
    p = _write(tmp_path, b"1 qid:1 1:1\n0 qid:1 1:2\r1 qid:1 2:1\n", "lone.txt", "wb")
    with pytest.raises(ParseError, match=_where(p, 2) + r"a carriage return \(CR\) inside the line"):
        read_letor(p)


def test_a_file_with_no_features_is_one_clear_error(tmp_path):
    """Oracle: the rule (rows with a label and qid only give a 0-column X that no model can use)."""
    p = _write(tmp_path, "1 qid:1\n0 qid:1 # no features\n")
    with pytest.raises(ParseError, match=re.escape(f"{p}: ") + r"no feature values: the 2 data lines"):
        read_letor(p)
    assert read_letor(p, n_features=3).X.tolist() == [[0, 0, 0], [0, 0, 0]]


def test_blocks_of_blank_lines_only(tmp_path, monkeypatch):
    """Oracle: the same rows without the blank lines (a block holding no row used to crash the reader)."""
    monkeypatch.setattr(letor, "_BLOCK_BYTES", 16)
    rows = "1 qid:1 1:1\n0 qid:1 2:1\n"
    ref = read_letor(_write(tmp_path, rows, "ref.txt"))
    for text in ("\n" * 100 + rows, rows + "\n" * 100, "1 qid:1 1:1\n" + " \n" * 60 + "0 qid:1 2:1\n",
                 "# c\n" * 40 + rows):
        _assert_same(read_letor(_write(tmp_path, text, "blank.txt")), ref)
    assert len(read_letor(_write(tmp_path, "\n" * 100, "only.txt"), n_features=2)) == 0


def test_real_32_mib_block_of_blank_lines(tmp_path):
    """Oracle: the same two rows; the blank lines fill a whole 32 MiB block (issue 11's crash)."""
    p = tmp_path / "b.txt"
    with open(p, "wb") as handle:
        handle.write(b"\n" * (letor._BLOCK_BYTES + 10))
        handle.write(b"1 qid:1 1:1\n0 qid:1 2:1\n")
    ds = read_letor(p)
    assert ds.X.tolist() == [[1, 0], [0, 1]]
    assert letor._BLOCK_BYTES == 1 << 25


def test_one_huge_feature_id_does_not_allocate_a_dense_matrix(tmp_path, monkeypatch):
    """Oracle: 24 rows x 999,999,999 float32 would be 89.4 GiB (and a CSR matrix one name per column); the
    reader refuses both with the size and the way out, before allocating anything."""
    p = _write(tmp_path, "1 qid:1 3:1 999999999:1\n" + "0 qid:1 1:1 2:2\n" * 23, "huge.txt")
    with pytest.raises(ParseError, match=_where(p, 1) + r"a dense X of 24 x 999,999,999 float32 would need 89\.4 "
                                                      r"GiB for 48 stored values.*sparse=True.*n_features="):
        read_letor(p)
    with pytest.raises(ParseError, match=_where(p, 1) + r"feature id 999,999,999 on this line would make X "
                                                      r"999,999,999 columns wide for 48 stored values"):
        read_letor(p, sparse=True)
    with pytest.raises(ParseError, match=_where(p, 1) + r"feature id 999999999 exceeds n_features=3"):
        read_letor(p, n_features=3)
    # a sparse file that is wide but not absurd reads as CSR
    monkeypatch.setattr(letor, "SPARSE_MAX_WIDTH", 10)
    wide = _write(tmp_path, "1 qid:1 3:1 20:1\n0 qid:1 1:1\n", "wide.txt")
    ds = read_letor(wide, sparse=True)
    assert ds.X.shape == (2, 20) and ds.X.nnz == 3
    with pytest.raises(ParseError, match=r"would make X 2,000 columns wide for 2 stored values"):
        read_letor(_write(tmp_path, "1 qid:1 3:1 2000:1\n", "wider.txt"), sparse=True)


def test_reading_holds_x_once(tmp_path, monkeypatch):
    """Oracle: tracemalloc's count of the bytes numpy and Python allocate while reading. The file text is
    never held whole (it is read in blocks) and X grows in place, so the peak stays within 1.5x the float32
    matrix plus the allowance of one block (here 64 KiB blocks, a 7 MB text file and a 2.4 MB X)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, d = 12_000, 50
    X = rng.random((n, d)).astype(np.float32)
    X[X < 0.1] = 0
    ds = RankingDataset(X, rng.integers(0, 5, n).astype(float), np.repeat(np.arange(n // 20), 20).astype(str))
    write_letor(ds, tmp_path / "m.txt", docids=False)
    monkeypatch.setattr(letor, "_BLOCK_BYTES", 1 << 16)
    read_letor(tmp_path / "m.txt")                          # compile and warm up
    tracemalloc.start()
    try:
        back = read_letor(tmp_path / "m.txt")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "m.txt").stat().st_size > 2 * back.X.nbytes
    block_allowance = 40 * (1 << 16)        # the block's scan arrays (about 33 bytes per token) and text
    assert peak < 1.5 * back.X.nbytes + block_allowance, (peak, back.X.nbytes)
    assert np.array_equal(back.X, X)


# -- issue 11 item 9: test and validation files take the training width --------------------------------
def _fold(tmp_path, train, vali, test):
    fold = tmp_path / "Fold1"
    fold.mkdir(exist_ok=True)
    for name, text in (("train", train), ("vali", vali), ("test", test)):
        (fold / f"{name}.txt").write_text(text)
    return fold


def test_folds_read_sparse_splits_with_the_training_width(tmp_path):
    """Oracle: the training file's feature count (5). The test file never has feature 5 and used to be read
    4 columns wide, which the ranker then refused as a feature mismatch (issue 11)."""
    _fold(tmp_path, "1 qid:1 1:1 5:2\n0 qid:1 2:1\n", "1 qid:2 3:1\n", "1 qid:3 1:1 4:2\n0 qid:3 2:1\n")
    (_, splits), = read_letor_folds(tmp_path)
    assert [splits[k].n_features for k in ("train", "vali", "test")] == [5, 5, 5]
    assert splits["test"].X.tolist() == [[1, 0, 0, 2, 0], [0, 1, 0, 0, 0]]
    (_, sparse), = read_letor_folds(tmp_path, sparse=True)
    assert sparse["vali"].X.shape == (1, 5)
    (_, given), = read_letor_folds(tmp_path, n_features=7)
    assert given["test"].n_features == 7


def test_a_split_with_more_features_than_training_is_refused(tmp_path):
    """Oracle: the rule (a model cannot use a feature it was not trained on); the message names the line,
    the feature and the training file."""
    fold = _fold(tmp_path, "1 qid:1 1:1 3:2\n", "1 qid:2 1:1\n", "1 qid:3 1:1\n0 qid:3 4:1\n")
    with pytest.raises(ParseError, match=_where(fold / "test.txt", 2) + r"feature id 4 exceeds the 3 features of "
                                         r"the training file '.*Fold1/train\.txt': a test or validation file"):
        read_letor_folds(tmp_path)


def test_read_letor_like_the_training_data(tmp_path):
    """Oracle: the training dataset's width and names; an id beyond them names the line and the data."""
    train = read_letor(_write(tmp_path, "1 qid:1 1:1 3:2\n", "train.txt"), feature_names=["a", "b", "c"])
    test = read_letor(_write(tmp_path, "1 qid:3 1:1\n", "test.txt"), like=train)
    assert test.feature_names == ["a", "b", "c"] and test.X.tolist() == [[1, 0, 0]]
    bad = _write(tmp_path, "1 qid:3 4:1\n", "bad.txt")
    with pytest.raises(ParseError, match=_where(bad, 1) + r"feature id 4 exceeds the 3 features of '.*train\.txt'"):
        read_letor(bad, like=train)
    with pytest.raises(SchemaError, match=r"not both"):
        read_letor(bad, like=train, n_features=3)


@pytest.mark.slow
def test_mslr_shaped_file_of_the_scale_benchmark(tmp_path):
    """Oracle: scikit-learn's SVMlight parser and the .query file of sizes, on a 3,000-row file written by
    benchmarks/_mslr_like.py (the generator of benchmarks/bench_scale.py, MSLR-WEB30K's shape at full size)."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from _mslr_like import write_mslr_like
    finally:
        sys.path.pop(0)
    info = write_mslr_like(tmp_path / "m.txt", n_rows=3000, n_queries=25, seed=1, qids=False, chunk_rows=700)
    ds = read_letor(tmp_path / "m.txt")
    X, y = load_svmlight_file(str(tmp_path / "m.txt"), zero_based=False, dtype=np.float32, n_features=136)
    assert (len(ds), ds.n_queries, ds.n_features) == (3000, 25, 136) == (info["rows"], info["queries"], 136)
    assert np.array_equal(ds.X, X.toarray()) and np.array_equal(ds.labels, y)
    assert set(np.unique(ds.labels)) <= {0, 1, 2, 3, 4} and ds.group_sizes.min() >= 2
    assert ds.group_sizes.tolist() == [int(s) for s in (tmp_path / "m.txt.query").read_text().split()]
    again = write_mslr_like(tmp_path / "m2.txt", n_rows=3000, n_queries=25, seed=1, qids=True, chunk_rows=700)
    assert again["bytes"] > info["bytes"]                      # the same rows with qid: tokens
    with_qids = read_letor(tmp_path / "m2.txt")
    assert np.array_equal(with_qids.X, ds.X) and with_qids.group_sizes.tolist() == ds.group_sizes.tolist()
    assert with_qids.unique_qids.tolist() == [str(i) for i in range(1, 26)]
