"""LETOR / SVMlight / MSLR ranking files, and LightGBM's ``.query`` side files.

One line per (query, document)::

    <label> qid:<qid> <id>:<value> <id>:<value> ... #docid = <docid> [other comment fields]

- ``label`` is a number (graded 0..k or real-valued); ``qid`` is any token without whitespace or ``#``,
  kept as the string written (``"007"`` stays ``"007"``); feature ids are 1-based positive integers;
  features absent from a line are 0 (missing); everything after the first ``#`` is a comment, from
  which ``docid = X`` is taken when present (LETOR 3/4 write ``#docid = GX008-86-4444840 inc = 1 prob =
  0.08``).
- LightGBM's variant has no ``qid:`` and a side file ``<data>.query`` with one group size per line
  (the number of consecutive rows of each query); qids are then the zero-padded group index.

The reader scans the file's bytes in one compiled pass (numba; a vectorised numpy scan is the reference,
see ``ltr/io/_letor_scan.py``) and parses numbers in bulk (``ltr/io/_bytes.py``). When the fast path meets
anything it does not accept, a slow line-by-line validator finds the first offending line and raises a
:class:`~ltr.errors.ParseError` naming the file and line, so the fast path and the error messages share
one set of rules.

References
----------
T. Joachims, SVMlight, http://svmlight.joachims.org/ (the format).
T. Qin and T.-Y. Liu, "Introducing LETOR 4.0 Datasets", arXiv:1306.2597, 2013.
LightGBM documentation, "Parameters / Query data" (the ``.query`` side file).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from ltr.ranking import RankingDataset, check_group_sizes
from ltr.errors import DataError, GroupError, ParseError, SchemaError
from ltr.io import _bytes as B
from ltr.io import _letor_scan as S
from ltr.atomic import atomic_write
from ltr.schema import FEATURE_DTYPE, LABEL_DTYPE

__all__ = ["read_letor", "read_letor_folds", "read_query_file", "write_letor", "write_query_file"]

_DOCID = re.compile(rb"[\s#]docid\s*=\s*(\S+)")
_QID_PREFIX = b"qid:"
_MAX_FEATURE_DIGITS = S.MAX_FEATURE_DIGITS
_USE_NUMBA = True                        # tests switch it off to check the numpy reference path
_BLOCK_BYTES = 1 << 25                   # parse 32 MiB of lines at a time to bound temporary arrays
_SPLITS = ("train", "vali", "test")
_PROGRESS_BYTES = 1 << 28                # show a progress bar for files over 256 MiB


# -- the rules, one line at a time (slow; runs only to explain a failure) ----------------------------
def _check_line(line: bytes, lineno: int, path: str, *, expect_qid: bool | None, n_features: int | None,
                allow_nonfinite: bool, query_mode: bool) -> bool | None:
    """Apply every rule to one line; raise ParseError on the first broken rule.

    Returns whether the line has a qid (None for a blank or comment-only line).
    """
    body = line.split(b"#", 1)[0]
    toks = body.split()
    if not toks:
        return None

    def fail(msg):
        raise ParseError(msg, path=path, line=lineno)

    label = toks[0]
    if not B.is_number_token(label):
        fail(f"expected a numeric relevance label as the first field, got {B.show(label)}")
    if not np.isfinite(float(label)):
        fail(f"the label must be a finite number, got {B.show(label)}")
    has_qid = len(toks) > 1 and toks[1].startswith(_QID_PREFIX)
    if expect_qid and not has_qid:
        got = B.show(toks[1]) if len(toks) > 1 else "the end of the line"
        fail(f"expected 'qid:<id>' after the label, got {got} (earlier lines have qids; every line needs one)")
    if expect_qid is False and has_qid:
        fail(f"found {B.show(toks[1])} but the first data line has no qid; give every line a qid or none "
             f"(then group sizes come from a .query file)")
    if expect_qid is None and not has_qid and not query_mode:
        got = B.show(toks[1]) if len(toks) > 1 else "the end of the line"
        fail(f"expected 'qid:<id>' after the label, got {got}. Files without qids need a LightGBM .query "
             f"side file of group sizes: put it at '{path}.query' or pass query_file=")
    if has_qid and len(toks[1]) == len(_QID_PREFIX):
        fail("empty qid: expected 'qid:<id>' with a non-empty id")
    seen = set()
    for tok in toks[1 + has_qid:]:
        idx, colon, value = tok.partition(b":")
        if not colon:
            fail(f"expected 'index:value', got {B.show(tok)}")
        if not (idx.isdigit() and idx.isascii()) or len(idx) > _MAX_FEATURE_DIGITS:
            fail(f"expected a positive integer feature id before ':' (ids are 1-based), got {B.show(tok)}")
        fid = int(idx)
        if fid == 0:
            fail(f"feature id 0 in {B.show(tok)}: feature ids are 1-based (the first feature is 1)")
        if n_features is not None and fid > n_features:
            fail(f"feature id {fid} exceeds n_features={n_features}")
        if fid in seen:
            fail(f"feature id {fid} appears twice on the line")
        seen.add(fid)
        if not B.is_number_token(value):
            fail(f"expected a number after '{fid}:', got {B.show(value)}")
        if not allow_nonfinite:
            with np.errstate(over="ignore"):
                v = np.array([float(value)]).astype(FEATURE_DTYPE)[0]     # as the fast path casts
            if not np.isfinite(v):
                what = "overflows float32" if np.isfinite(float(value)) else "is not finite"
                fail(f"feature {fid} value {B.show(value)} {what}; pass allow_nonfinite=True to keep "
                     f"NaN/inf features (LightGBM treats NaN as missing)")
    return has_qid


def _explain(block: bytes, first_line: int, path: str, *, expect_qid, n_features, allow_nonfinite, query_mode):
    """Find and raise the first broken rule in ``block`` (whose first line is ``first_line``)."""
    for i, line in enumerate(block.split(b"\n")):
        has = _check_line(line, first_line + i, path, expect_qid=expect_qid, n_features=n_features,
                          allow_nonfinite=allow_nonfinite, query_mode=query_mode)
        if has is not None and expect_qid is None:
            expect_qid = has
    last = first_line + block.count(b"\n")
    raise ParseError(f"the fast parser refused lines {first_line}..{last} but "
                     f"the line-by-line check found nothing wrong; this is a bug in ltr, please report it",
                     path=path)


# -- the fast path ------------------------------------------------------------------------------------
class _Block:
    """Parsed rows of one block of lines."""

    __slots__ = ("docids", "has_qid", "indices", "indptr", "labels", "lines", "qids", "values")


def _parse_block(block: bytes, first_line: int, path: str, *, expect_qid, n_features, allow_nonfinite,
                 query_mode: bool) -> _Block:
    def explain():
        _explain(block, first_line, path, expect_qid=expect_qid, n_features=n_features,
                 allow_nonfinite=allow_nonfinite, query_mode=query_mode)

    # Step 1: token spans of the rows (compiled when numba is there, numpy otherwise).
    buf = np.frombuffer(block, dtype=np.uint8)
    fast = S.numba_scan() if _USE_NUMBA else None
    scan = (fast or S.scan_numpy)(buf)
    if scan.bad:
        explain()

    # Step 2: every row has a qid, or none has (then a .query file gives the groups).
    has_qid = scan.has_qid
    block_mode = expect_qid if expect_qid is not None else (bool(has_qid[0]) if len(has_qid) else None)
    if block_mode is False and not query_mode:
        explain()                                   # asks for qids or a .query file
    if len(has_qid) and (has_qid != block_mode).any():
        explain()

    # Step 3: numbers: labels, then feature values not parsed by the scan; ids within bounds.
    try:
        labels = B.parse_floats(buf, scan.lab_s, scan.lab_e)
        values = scan.values
        todo = np.flatnonzero(~scan.parsed)
        if len(todo):
            values = values.copy()
            values[todo] = B.parse_floats(buf, scan.val_s[todo], scan.val_e[todo])
    except ValueError:
        explain()
    if not np.isfinite(labels).all():
        explain()
    with np.errstate(over="ignore"):
        values = values.astype(FEATURE_DTYPE)
    if not allow_nonfinite and not np.isfinite(values).all():
        explain()
    fid = scan.fid
    if len(fid) and (fid.min() < 1 or (n_features is not None and fid.max() > n_features)):
        explain()
    # rows of a well-formed file list ids in increasing order; otherwise sort them and look for repeats
    if not scan.increasing:
        f_row = np.repeat(np.arange(len(scan.n_feat)), scan.n_feat)
        order = np.lexsort((fid, f_row))
        fid, f_row, values = fid[order], f_row[order], values[order]
        if ((fid[1:] == fid[:-1]) & (f_row[1:] == f_row[:-1])).any():
            explain()

    # Step 4: qids (decoded once per run of equal qids) and docids from the comments.
    out = _Block()
    out.lines = scan.row_lines + first_line
    out.labels = labels
    out.has_qid = bool(block_mode) if block_mode is not None else None
    out.indptr = np.r_[0, np.cumsum(scan.n_feat)].astype(np.int64)
    out.indices = (fid - 1).astype(np.int32)
    out.values = values
    out.qids = None
    if block_mode and len(has_qid):
        qs, qe = scan.qid_s, scan.qid_e
        qlen = qe - qs
        if qlen.min() < 1:
            explain()
        mat = B.gather(buf, qs, qe)
        change = np.r_[True, (qlen[1:] != qlen[:-1]) | (mat[1:] != mat[:-1]).any(axis=1)]
        starts = np.flatnonzero(change)
        names = [B.decode(block[a:b], path=path, line=int(out.lines[i]), what="qid")
                 for i, a, b in zip(starts.tolist(), qs[starts].tolist(), qe[starts].tolist())]
        out.qids = np.repeat(np.array(names, dtype=object), np.diff(np.r_[starts, len(qs)]))
    docids = [None] * len(scan.row_lines)
    c_rows = np.flatnonzero(scan.comment >= 0)
    search = _DOCID.search
    for r, a, b in zip(c_rows.tolist(), scan.comment[c_rows].tolist(), scan.line_end[c_rows].tolist()):
        m = search(block, a, b)
        if m is not None:
            docids[r] = B.decode(m.group(1), path=path, line=int(out.lines[r]), what="docid")
    out.docids = docids
    return out


def _blocks(raw: bytes):
    """Split ``raw`` into blocks of whole lines, yielding (block, first line number)."""
    pos, line = 0, 1
    while pos < len(raw):
        end = raw.rfind(b"\n", pos, pos + _BLOCK_BYTES) + 1 if pos + _BLOCK_BYTES < len(raw) else len(raw)
        if end <= pos:                           # a single line longer than a block
            end = raw.find(b"\n", pos + _BLOCK_BYTES) + 1 or len(raw)
        block = raw[pos:end]
        yield block, line
        line += block.count(b"\n")
        pos = end


# -- .query side files ----------------------------------------------------------------------------
def read_query_file(path) -> np.ndarray:
    """Read a LightGBM ``.query`` file: one positive integer group size per line (blank lines ignored).

    Returns
    -------
    ndarray of int64, shape (n_queries,)

    Raises
    ------
    ParseError
        A line that is not one positive integer, named by file and line.
    """
    sizes = []
    for i, line in enumerate(B.read_bytes(path).split(b"\n"), start=1):
        t = line.split()
        if not t:
            continue
        if len(t) != 1:
            raise ParseError(f"expected one group size per line, got {len(t)} fields", path=str(path), line=i)
        if not (t[0].isdigit() and t[0].isascii()) or len(t[0]) > 18 or int(t[0]) == 0:
            raise ParseError(f"expected a positive integer group size (the rows of one query), got "
                             f"{B.show(t[0])}", path=str(path), line=i)
        sizes.append(int(t[0]))
    return np.array(sizes, dtype=np.int64)


def write_query_file(group_sizes, path) -> None:
    """Write group sizes, one per line, as LightGBM's ``.query`` file (atomically)."""
    sizes = np.asarray(group_sizes, dtype=np.int64)
    with atomic_write(path) as handle:
        handle.write("".join(f"{s}\n" for s in sizes.tolist()))


def _synthetic_qids(n_groups: int) -> list[str]:
    width = max(1, len(str(n_groups - 1)))
    return [str(i).zfill(width) for i in range(n_groups)]


# -- public API ---------------------------------------------------------------------------------------
def read_letor(path, *, query_file=None, n_features: int | None = None, feature_names=None,
               name: str | None = None, sparse: bool = False, allow_nonfinite: bool = False,
               progress: bool | None = None) -> RankingDataset:
    """Read a LETOR 3/4, MSLR, SVMlight or LightGBM ranking file into a :class:`RankingDataset`.

    Parameters
    ----------
    path : str or Path
        The data file: lines ``label qid:<qid> <id>:<value> ... [#docid = <docid> ...]``.
    query_file : str, Path, False or None, default=None
        LightGBM group sizes, one per line. ``None`` uses ``<path>.query`` when that file exists;
        ``False`` never uses one. Needed when lines have no ``qid:``; when they have, the sizes must
        agree with the qids.
    n_features : int, optional
        Number of feature columns; default: the largest feature id seen (or ``len(feature_names)``).
        Pass it so that train and test files get the same width when the last features are missing.
    feature_names : list of str, optional
        Column names; default ``"f1".."fN"``.
    name : str, optional
        Name used in messages; default: ``path`` as given.
    sparse : bool, default=False
        Return X as a scipy CSR matrix (absent features are not stored) instead of a dense array
        (absent features are 0, as LETOR's tools read them).
    allow_nonfinite : bool, default=False
        Accept ``nan``/``inf`` feature values (refused by default: they usually mean a broken export).
        Labels must always be finite.
    progress : bool, optional
        Show a tqdm progress bar over the bytes read; default: only for files over 256 MiB.

    Returns
    -------
    RankingDataset
        X float32 of shape (n_rows, n_features), labels float64, qids as written (str), docids from
        ``#docid = ...`` comments or zero-padded row numbers within each query. Rows keep file order.

    Raises
    ------
    ParseError
        A malformed line, named by file and line number: a label that is not a finite number, a missing
        or empty ``qid:``, ``index:value`` garbage, a feature id that is 0, negative, too large or
        repeated on the line, a NaN/inf feature (unless ``allow_nonfinite``).
    GroupError
        A query split into non-contiguous blocks of lines, or ``.query`` sizes that do not sum to the
        rows or disagree with the qids.
    SchemaError
        ``n_features`` that is not a non-negative integer or disagrees with ``feature_names``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "train.txt"
    >>> _ = p.write_text("2 qid:10 1:0.5 3:1 #docid = d1\\n0 qid:10 2:0.25 #docid = d2\\n")
    >>> ds = read_letor(p)
    >>> ds.X.tolist(), ds.labels.tolist(), ds.qids.tolist(), ds.docids.tolist()
    ([[0.5, 0.0, 1.0], [0.0, 0.25, 0.0]], [2.0, 0.0], ['10', '10'], ['d1', 'd2'])
    """
    path_s = str(path)
    if n_features is not None and (not isinstance(n_features, (int, np.integer)) or n_features < 0):
        raise SchemaError(f"n_features must be a non-negative integer, got {n_features!r}")
    if feature_names is not None:
        feature_names = [str(f) for f in feature_names]
        if n_features is not None and n_features != len(feature_names):
            raise SchemaError(f"n_features={n_features} but {len(feature_names)} feature names were given")
        n_features = len(feature_names)
    qfile = None
    if query_file is None:
        auto = Path(path_s + ".query")
        qfile = auto if auto.is_file() else None
    elif query_file is not False:
        qfile = Path(query_file)
    raw = B.read_bytes(path)

    # Step 1: parse blocks of lines; the first data line fixes whether lines carry qids.
    expect_qid = None
    blocks = []
    show = progress if progress is not None else len(raw) > _PROGRESS_BYTES
    bar = tqdm(total=len(raw), unit="B", unit_scale=True, desc=f"reading {Path(path_s).name}", disable=not show)
    for block, first_line in _blocks(raw):
        bar.update(len(block))
        parsed = _parse_block(block, first_line, path_s, expect_qid=expect_qid, n_features=n_features,
                              allow_nonfinite=allow_nonfinite, query_mode=qfile is not None)
        if parsed.has_qid is not None:
            expect_qid = parsed.has_qid
        blocks.append(parsed)
    bar.close()

    # Step 2: concatenate.
    row_lines = np.concatenate([b.lines for b in blocks]) if blocks else np.zeros(0, np.int64)
    labels = np.concatenate([b.labels for b in blocks]).astype(LABEL_DTYPE) if blocks else np.zeros(0)
    nnz_off = np.cumsum([0] + [len(b.indices) for b in blocks])
    indptr = np.concatenate([[0]] + [b.indptr[1:] + off for b, off in zip(blocks, nnz_off)]).astype(np.int64)
    indices = np.concatenate([b.indices for b in blocks]) if blocks else np.zeros(0, np.int32)
    values = np.concatenate([b.values for b in blocks]) if blocks else np.zeros(0, FEATURE_DTYPE)
    n_rows = len(labels)
    width = n_features if n_features is not None else (int(indices.max()) + 1 if len(indices) else 0)

    # Step 3: docids on every line or on none.
    docids = [d for b in blocks for d in b.docids]
    missing = [i for i, d in enumerate(docids) if d is None]
    if missing and len(missing) < n_rows:
        first_with = next(i for i, d in enumerate(docids) if d is not None)
        raise ParseError(f"no '#docid = ...' comment, but line {row_lines[first_with]} has one; give every "
                         f"line a docid or none", path=path_s, line=int(row_lines[missing[0]]))
    docids = np.array(docids, dtype=object) if n_rows and not missing else None

    # Step 4: qids from the lines and/or group sizes from the .query file.
    qids = np.concatenate([b.qids for b in blocks]) if expect_qid else None
    sizes = None
    if qfile is not None:
        sizes = check_group_sizes(read_query_file(qfile), n_rows, source=f"query file '{qfile}' of '{path_s}'")
    if qids is not None:
        _check_contiguous(qids, row_lines, path_s)
        if sizes is not None:
            from_qids = np.diff(np.flatnonzero(np.r_[True, qids[1:] != qids[:-1], True]))
            if len(from_qids) != len(sizes) or (from_qids != sizes).any():
                raise GroupError(f"the qids of '{path_s}' give {len(from_qids)} groups but query file "
                                 f"'{qfile}' lists {len(sizes)} sizes that disagree with them; drop one "
                                 f"of the two or pass query_file=False to use the qids")
    elif sizes is not None:
        qids = np.repeat(np.array(_synthetic_qids(len(sizes)), dtype=object), sizes)
    else:
        qids = np.zeros(0, dtype=object)

    # Step 5: X.
    X = sp.csr_matrix((values, indices, indptr), shape=(n_rows, width), dtype=FEATURE_DTYPE)
    X.has_sorted_indices = True
    if not sparse:
        X = X.toarray()
    return RankingDataset(X, labels, qids, docids, feature_names, name=name if name is not None else path_s)


def _check_contiguous(qids: np.ndarray, row_lines: np.ndarray, path: str) -> None:
    """Raise GroupError naming the lines if a query appears in two separate blocks."""
    if not len(qids):
        return
    starts = np.flatnonzero(np.r_[True, qids[1:] != qids[:-1]])
    block_q = qids[starts]
    uniq, counts = np.unique(block_q, return_counts=True)
    if len(uniq) == len(block_q):
        return
    bad = uniq[counts > 1][0]
    blocks = np.flatnonzero(block_q == bad)
    ends = np.r_[starts[1:], len(qids)] - 1
    spans = ", ".join(f"{row_lines[starts[b]]}..{row_lines[ends[b]]}" for b in blocks[:3])
    raise GroupError(f"{path}: query {bad!r} is split into {len(blocks)} non-contiguous blocks (lines {spans}): "
                     f"each query must be one block of lines. Fix: sort the rows by qid with a stable sort "
                     f"(e.g. frame.sort_values('qid', kind='stable')), which keeps the order inside each query")


def _format_labels(labels: np.ndarray) -> list[str]:
    return [str(int(v)) if v.is_integer() else repr(v) for v in labels.tolist()]


def _format_values(values: np.ndarray, precision: int | None) -> np.ndarray:
    """float32 values as strings: shortest round-trip repr, or fixed ``precision`` decimals."""
    if precision is None:
        out = values.astype(FEATURE_DTYPE).astype(str)
        out[values == 0] = "0"
        return out
    return np.char.mod(f"%.{int(precision)}f", values.astype(np.float64))


def _check_ids(ids: np.ndarray, what: str, forbidden: str) -> None:
    bad_chars = re.compile(f"[ \\t\\n\\r\\x0b\\x0c{re.escape(forbidden)}]")   # the reader's separators
    for v in np.unique(ids).tolist() if len(ids) else []:
        if not v or bad_chars.search(v):
            raise DataError(f"cannot write {what} {v!r} to a LETOR file: ids must be non-empty and contain "
                            f"no whitespace{' or ' + repr(forbidden) if forbidden else ''}")


def write_letor(dataset: RankingDataset, path, *, docids: bool = True, precision: int | None = None,
                qids: bool = True, query_file=None) -> None:
    """Write ``dataset`` as a LETOR/SVMlight file that :func:`read_letor` reads back equal.

    Parameters
    ----------
    dataset : RankingDataset
    path : str or Path
        Written atomically (a reader never sees half a file).
    docids : bool, default=True
        Append ``#docid = <docid>`` to each line (LETOR 4 style).
    precision : int, optional
        Decimals of the feature values (``6`` gives LETOR's ``0.007477``). Default: the shortest text that
        reads back as the same float32 (exact round trip).
    qids : bool, default=True
        Write ``qid:<qid>``. With ``qids=False`` (LightGBM's format) a ``query_file`` is required.
    query_file : str or Path, optional
        Also write the group sizes there, one per line (LightGBM's ``.query`` file).

    Notes
    -----
    Labels are written as integers when integral, otherwise with ``repr`` (exact float64). Dense X is
    written with every feature (zeros as ``0``); sparse X with its stored entries only. Non-finite feature
    values are written as ``nan``/``inf`` and need ``read_letor(..., allow_nonfinite=True)``.
    """
    if not isinstance(dataset, RankingDataset):
        raise SchemaError(f"write_letor needs a RankingDataset, got {type(dataset).__name__}")
    if not qids and query_file is None:
        raise DataError("write_letor(qids=False) loses the query groups unless query_file= is given")
    if precision is not None and (int(precision) != precision or precision < 0):
        raise DataError(f"precision must be a non-negative integer number of decimals, got {precision!r}")
    labels = dataset.labels
    if not np.isfinite(labels).all():
        row = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise DataError(f"cannot write a non-finite label ({labels[row]}) of row {row} (qid "
                        f"{dataset.qids[row]!r}, docid {dataset.docids[row]!r}) to a LETOR file")
    if qids:
        _check_ids(dataset.unique_qids, "qid", "#")
    if docids:
        _check_ids(dataset.docids, "docid", "")
    X = dataset.X
    n = len(dataset)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        X.sort_indices()
        indptr, cols, vals = X.indptr, X.indices, X.data
    else:
        d = X.shape[1]
        indptr = np.arange(n + 1, dtype=np.int64) * d
        cols = np.tile(np.arange(d), n)
        vals = np.ascontiguousarray(X).ravel()
    prefix = np.char.add(np.arange(1, X.shape[1] + 1).astype(str), ":")
    tokens = np.char.add(prefix[cols], _format_values(vals, precision)).tolist() if len(vals) else []
    heads = _format_labels(labels)
    if qids:
        heads = [f"{h} qid:{q}" for h, q in zip(heads, dataset.qids.tolist())]
    tails = [f" #docid = {d}\n" for d in dataset.docids.tolist()] if docids else ["\n"] * n
    bounds = indptr.tolist()
    with atomic_write(path) as handle:
        handle.write("".join(
            " ".join([h, *tokens[bounds[i]:bounds[i + 1]]]) + tails[i] for i, h in enumerate(heads)))
    if query_file is not None:
        write_query_file(dataset.group_sizes, query_file)


def read_letor_folds(folder, **read_kwargs) -> list[tuple[str, dict[str, RankingDataset | None]]]:
    """Read the LETOR layout ``folder/Fold1..FoldN/{train,vali,test}.txt``.

    Parameters
    ----------
    folder : str or Path
        The data set folder (e.g. ``.../MQ2008``) holding ``Fold<k>`` sub-folders.
    **read_kwargs
        Passed to :func:`read_letor` (``n_features``, ``feature_names``, ``sparse``, ...).

    Returns
    -------
    list of (fold_name, {"train": RankingDataset, "vali": RankingDataset or None, "test": RankingDataset})
        Folds in numeric order (Fold2 before Fold10). ``vali`` is None when the fold has no ``vali.txt``.

    Raises
    ------
    DataError
        The folder does not exist, has no ``Fold<k>`` sub-folders, or a fold lacks ``train.txt`` or
        ``test.txt``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"LETOR folder '{root}' does not exist (expected a folder with Fold1..FoldN inside)")
    folds = sorted((p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"Fold\d+", p.name)),
                   key=lambda p: int(p.name[4:]))
    if not folds:
        found = sorted(p.name for p in root.iterdir())[:10]
        raise DataError(f"'{root}' has no Fold<k> sub-folders (found {found}); expected the LETOR layout "
                        f"Fold1..FoldN/{{train,vali,test}}.txt")
    out = []
    for fold in folds:
        splits: dict[str, RankingDataset | None] = {}
        for split in _SPLITS:
            file = fold / f"{split}.txt"
            if not file.is_file():
                if split == "vali":
                    splits[split] = None
                    continue
                present = sorted(p.name for p in fold.iterdir())
                raise DataError(f"'{file}' is missing: each LETOR fold needs train.txt and test.txt "
                                f"(vali.txt optional); {fold.name} has {present}")
            kwargs = {"name": f"{root.name}/{fold.name}/{split}", **read_kwargs}
            splits[split] = read_letor(file, **kwargs)
        out.append((fold.name, splits))
    return out

