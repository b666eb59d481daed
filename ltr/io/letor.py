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

The reader streams the file in blocks of whole lines (32 MiB), scans each block's bytes in one compiled
pass (numba; a vectorised numpy scan is the reference, see ``ltr/io/_letor_scan.py``), parses numbers in
bulk (``ltr/io/_bytes.py``) and writes them straight into X, which grows in place; the file's text is never
held whole and X is never copied, so the peak memory is about X plus one block's temporaries. When the fast
path meets anything it does not accept, a slow line-by-line validator finds the first offending line and
raises a :class:`~ltr.errors.ParseError` naming the file and line, so the fast path and the error messages
share one set of rules.

Numbers follow SVMlight's grammar (digits, sign, point, exponent; ``inf``/``nan``), not Python's
``float()``; a UTF-8 BOM is dropped; lines end in LF, CRLF, or CR alone for a whole file.

References
----------
T. Joachims, SVMlight, http://svmlight.joachims.org/ (the format).
T. Qin and T.-Y. Liu, "Introducing LETOR 4.0 Datasets", arXiv:1306.2597, 2013.
LightGBM documentation, "Parameters / Query data" (the ``.query`` side file).
"""

from __future__ import annotations

import os
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
_LONE_CR = ("a carriage return (CR) inside the line that does not end it (as CRLF does): two lines would be "
            "read as one. Lines end in LF or CRLF, or all in CR (an old Mac file); convert mixed line ends "
            "first (e.g. with dos2unix)")


def _check_line(line: bytes, lineno: int, path: str, *, expect_qid: bool | None, n_features: int | None,
                allow_nonfinite: bool, query_mode: bool, width_source: str | None = None) -> bool | None:
    """Apply every rule to one line; raise ParseError on the first broken rule.

    Returns whether the line has a qid (None for a blank or comment-only line).
    """
    def fail(msg):
        raise ParseError(msg, path=path, line=lineno)

    if b"\r" in line[:-1]:
        fail(_LONE_CR)
    body = line.split(b"#", 1)[0]
    toks = body.split()
    if not toks:
        return None

    label = toks[0]
    if not B.is_number_token(label):
        fail(f"expected a numeric relevance label as the first field, got {B.show(label)} ({B.NUMBER_HELP})")
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
            if width_source is not None:
                fail(f"feature id {fid} exceeds the {n_features} features of {width_source}: a test or "
                     f"validation file cannot have features the model was not trained on. Check the file, or "
                     f"pass n_features= (at least {fid}) to read every split with that width")
            fail(f"feature id {fid} exceeds n_features={n_features}")
        if fid in seen:
            fail(f"feature id {fid} appears twice on the line")
        seen.add(fid)
        if not B.is_number_token(value):
            fail(f"expected a number after '{fid}:', got {B.show(value)} ({B.NUMBER_HELP})")
        if not allow_nonfinite:
            with np.errstate(over="ignore"):
                v = np.array([float(value)]).astype(FEATURE_DTYPE)[0]     # as the fast path casts
            if not np.isfinite(v):
                what = "overflows float32" if np.isfinite(float(value)) else "is not finite"
                fail(f"feature {fid} value {B.show(value)} {what}; pass allow_nonfinite=True to keep "
                     f"NaN/inf features (LightGBM treats NaN as missing)")
    return has_qid


def _explain(block: bytes, first_line: int, path: str, *, expect_qid, n_features, allow_nonfinite, query_mode,
             width_source=None):
    """Find and raise the first broken rule in ``block`` (whose first line is ``first_line``)."""
    block = bytes(block)
    for i, line in enumerate(block.split(b"\n")):
        has = _check_line(line, first_line + i, path, expect_qid=expect_qid, n_features=n_features,
                          allow_nonfinite=allow_nonfinite, query_mode=query_mode, width_source=width_source)
        if has is not None and expect_qid is None:
            expect_qid = has
    last = first_line + block.count(b"\n")
    raise ParseError(f"the fast parser refused lines {first_line}..{last} but "
                     f"the line-by-line check found nothing wrong; this is a bug in ltr, please report it",
                     path=path)


# -- the fast path ------------------------------------------------------------------------------------
class _Block:
    """Parsed rows of one block of lines (features as 1-based ids, row by row, sorted within each row)."""

    __slots__ = ("docids", "fid", "has_qid", "labels", "lines", "n_feat", "qids", "values")


def _parse_block(block, first_line: int, path: str, *, expect_qid, n_features, allow_nonfinite,
                 query_mode: bool, width_source=None) -> _Block:
    def explain():
        _explain(block, first_line, path, expect_qid=expect_qid, n_features=n_features,
                 allow_nonfinite=allow_nonfinite, query_mode=query_mode, width_source=width_source)

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
    out.n_feat = scan.n_feat.copy()          # the scan's arrays are reused by the next block
    out.fid = fid
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
        names = [B.decode(bytes(block[a:b]), path=path, line=int(out.lines[i]), what="qid")
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


def _blocks(handle, path: str, file_size: int | None = None):
    """Read ``handle`` in pieces of about ``_BLOCK_BYTES`` and yield (block of whole lines, its first line).

    The file is never held whole: a block ends after its last LF and the rest is carried to the next one.
    Blocks are memoryviews into one reused buffer (so its pages are touched once per file, not once per
    block): each is valid until the next is asked for. A UTF-8 byte order mark at the start is dropped. A
    file whose first line break is a CR alone (no LF anywhere before it) is read with CR as the line end;
    an LF found later in such a file is refused as mixed line ends.
    """
    size = max(int(_BLOCK_BYTES), len(B.BOM))
    if file_size is not None:               # a small file needs no 32 MiB buffer
        size = max(len(B.BOM), min(size, file_size + 1))
    buf = bytearray(size)
    view = memoryview(buf)
    have = 0                          # bytes of the carried partial line at the start of buf
    line = 1
    first = True
    cr_mode = None
    eof = False
    while not eof:
        if len(buf) - have < size:    # a line longer than the buffer: grow it
            view.release()
            buf.extend(bytes(size))
            view = memoryview(buf)
        got = handle.readinto(view[have:have + size])
        eof = got == 0
        end = have + got
        if first:
            first = False
            while 0 < end < len(B.BOM):              # a short read may cut the BOM
                more = handle.readinto(view[end:len(B.BOM)])
                if not more:
                    break
                end += more
            if bytes(view[:len(B.BOM)]) == B.BOM:
                view[:end - len(B.BOM)] = view[len(B.BOM):end]
                end -= len(B.BOM)
        if cr_mode is None:
            lf = buf.find(b"\n", 0, end)
            cr = buf.find(b"\r", 0, (lf if lf >= 0 else end) - (0 if eof else 1))
            if cr >= 0 and (lf < 0 or cr < lf - 1):
                cr_mode = lf < 0          # CR-only line ends, or a lone CR (the scan refuses it)
            elif lf >= 0:
                cr_mode = False
        if cr_mode:
            lf = buf.find(b"\n", have, end)
            if lf >= 0:
                raise ParseError("LF line end in a file whose earlier lines end in CR alone: mixed line ends; "
                                 "convert the file to LF line ends first (e.g. with mac2unix or dos2unix)",
                                 path=path, line=line + buf.count(b"\r", 0, lf))
            arr = np.frombuffer(buf, dtype=np.uint8, count=end)
            arr[have:][arr[have:] == 13] = 10
            del arr
        cut = end if eof else buf.rfind(b"\n", 0, end) + 1
        if cut == 0:                  # no line end yet: a line longer than a block
            have = end
            continue
        if cut:
            yield view[:cut], line
            line += buf.count(b"\n", 0, cut)
        # the partial last line moves to the front of the buffer
        view[:end - cut] = view[cut:end]
        have = end - cut
    view.release()


class _Assembler:
    """Grows X (dense, or CSR arrays) block by block, in place: ``ndarray.resize`` reallocates (for large
    arrays the pages are remapped, not copied), so the peak is the final matrix plus one block's
    temporaries, never two copies of the data."""

    def __init__(self, *, sparse: bool, n_features: int | None, path: str):
        self.sparse, self.fixed, self.path = sparse, n_features is not None, path
        self.width = n_features or 0
        self.rows = 0
        self.nnz = 0
        self.max_fid_line = None
        if sparse:
            self.values = np.zeros(0, dtype=FEATURE_DTYPE)
            self.indices = np.zeros(0, dtype=np.int32)
            self.row_nnz: list[np.ndarray] = []
        else:
            self.X = np.zeros((0, self.width), dtype=FEATURE_DTYPE)

    def _check_dense_size(self, rows: int, width: int, nnz: int, block: _Block) -> None:
        need = rows * width * np.dtype(FEATURE_DTYPE).itemsize
        if need > DENSE_LIMIT_BYTES and need > DENSE_MAX_RATIO * max(nnz, 1) * 8:
            k = int(np.argmax(block.fid)) if len(block.fid) else 0
            row = int(np.searchsorted(np.cumsum(block.n_feat), k, side="right"))
            line = int(block.lines[min(row, len(block.lines) - 1)])
            raise ParseError(
                f"a dense X of {rows:,} x {width:,} float32 would need {need / 2**30:.1f} GiB for {nnz:,} stored "
                f"values (feature id {int(block.fid[k]) if len(block.fid) else width} on this line sets the "
                f"width). Pass sparse=True for a CSR matrix (about {_size(nnz * 8)}) if the file really is "
                f"that sparse, or n_features= to refuse ids beyond the features you expect",
                path=self.path, line=line)

    def _check_sparse_width(self, width: int, nnz: int, block: _Block) -> None:
        if width > SPARSE_MAX_WIDTH and width > DENSE_MAX_RATIO * max(nnz, 1):
            k = int(np.argmax(block.fid))
            line = int(block.lines[int(np.searchsorted(np.cumsum(block.n_feat), k, side="right"))])
            raise ParseError(
                f"feature id {int(block.fid[k]):,} on this line would make X {width:,} columns wide for {nnz:,} "
                f"stored values: even a CSR matrix needs a name per column (about {_size(width * 60)}), and a "
                f"dense one {_size(self.rows * width * 4 + len(block.labels) * width * 4)}. LETOR feature ids run "
                f"1..n_features: fix the line, or renumber the features", path=self.path, line=line)

    def add(self, block: _Block) -> None:
        n = len(block.labels)
        fid = block.fid
        max_fid = int(fid.max()) if len(fid) else 0
        if self.sparse:
            if max_fid > self.width:
                self._check_sparse_width(max_fid, self.nnz + len(fid), block)
            self.width = max(self.width, max_fid)
            lo = self.nnz
            self.nnz += len(fid)
            self.values.resize(self.nnz, refcheck=False)
            self.indices.resize(self.nnz, refcheck=False)
            self.values[lo:] = block.values
            self.indices[lo:] = fid - 1
            self.row_nnz.append(block.n_feat)
            self.rows += n
            return
        if n == 0:
            return
        nnz = self.nnz + len(fid)
        width = max(self.width, max_fid)
        self._check_dense_size(self.rows + n, width, nnz, block)
        if width > self.width:                   # a wider block: widen X (a copy; rare after the first)
            wide = np.zeros((self.rows, width), dtype=FEATURE_DTYPE)
            wide[:, :self.width] = self.X
            self.X, self.width = wide, width
        self.X.resize((self.rows + n, self.width), refcheck=False)      # new rows are zeros
        S.scatter(self.X, self.rows, block.n_feat, fid, block.values) if _USE_NUMBA else \
            _scatter_numpy(self.X, self.rows, block.n_feat, fid, block.values)
        self.rows += n
        self.nnz = nnz

    def matrix(self):
        if not self.sparse:
            return self.X
        n_feat = np.concatenate(self.row_nnz) if self.row_nnz else np.zeros(0, np.int64)
        indptr = np.zeros(self.rows + 1, dtype=np.int64)
        np.cumsum(n_feat, out=indptr[1:])
        X = sp.csr_matrix((self.values, self.indices, indptr), shape=(self.rows, self.width), dtype=FEATURE_DTYPE,
                          copy=False)
        X.has_sorted_indices = True
        return X


def _size(n_bytes: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"


def _scatter_numpy(X, row0, n_feat, fid, values):
    rows = np.repeat(np.arange(row0, row0 + len(n_feat)), n_feat)
    X[rows, fid - 1] = values


#: A dense X is refused when it would exceed this size *and* hold this many times the bytes its values
#: take in CSR (8 bytes each): one stray id such as 999999999 must not allocate rows x 10**9 floats.
DENSE_LIMIT_BYTES = 1 << 30
DENSE_MAX_RATIO = 16
#: A CSR X wider than this (and than DENSE_MAX_RATIO x its values) is refused too: each column gets a name.
SPARSE_MAX_WIDTH = 1 << 24


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
    for i, line in enumerate(B.strip_bom(B.read_bytes(path)).split(b"\n"), start=1):
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
               progress: bool | None = None, like: RankingDataset | None = None) -> RankingDataset:
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
        Pass the training file's count for test and validation files, so that every split gets the same
        width when the last features are absent from some file (:func:`read_letor_folds` does).
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
    like : RankingDataset, optional
        The training data a test or validation file must fit: its ``n_features`` and ``feature_names``
        are used (instead of ``n_features``/``feature_names``), so absent trailing features still give the
        training width, and a feature id beyond it is a ParseError naming the line and ``like.name``.

    Returns
    -------
    RankingDataset
        X float32 of shape (n_rows, n_features), labels float64, qids as written (str), docids from
        ``#docid = ...`` comments or zero-padded row numbers within each query. Rows keep file order.

    Raises
    ------
    ParseError
        A malformed line, named by file and line number: a label that is not a finite number, a missing
        or empty ``qid:``, ``index:value`` garbage, a number outside the grammar (below), a feature id that
        is 0, negative, too large or repeated on the line, a NaN/inf feature (unless ``allow_nonfinite``), a
        CR inside a line (mixed line ends). Also: a file with rows but no feature at all (unless
        ``n_features`` is given), and a dense X that would be far larger than its values (one stray huge
        feature id): the message gives the size and suggests ``sparse=True``.
    GroupError
        A query split into non-contiguous blocks of lines, or ``.query`` sizes that do not sum to the
        rows or disagree with the qids.
    SchemaError
        ``n_features`` that is not a non-negative integer or disagrees with ``feature_names``.

    Notes
    -----
    Numbers follow SVMlight's grammar (``[+-]digits[.digits][e[+-]digits]``, and ``inf``/``nan``), not
    Python's ``float()``: ``1_0``, ``infinity``, ``0x10`` and non-ASCII spaces are refused with the line.
    A UTF-8 byte order mark at the start of the file is ignored. Lines end in LF, CRLF, or (for the whole
    file) CR alone. The file is read in blocks of 32 MiB and X grows in place, so the peak memory is about
    X plus one block's temporaries (``benchmarks/bench_scale.py`` measures it at MSLR-WEB30K's size).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "train.txt"
    >>> _ = p.write_text("2 qid:10 1:0.5 3:1 #docid = d1\\n0 qid:10 2:0.25 #docid = d2\\n")
    >>> ds = read_letor(p)
    >>> ds.X.tolist(), ds.labels.tolist(), ds.qids.tolist(), ds.docids.tolist()
    ([[0.5, 0.0, 1.0], [0.0, 0.25, 0.0]], [2.0, 0.0], ['10', '10'], ['d1', 'd2'])
    """
    width_source = None
    if like is not None:
        if not isinstance(like, RankingDataset):
            raise SchemaError(f"like= must be the RankingDataset the file must fit, got {type(like).__name__}")
        if n_features is not None or feature_names is not None:
            raise SchemaError("pass like= or n_features=/feature_names=, not both")
        n_features, feature_names = like.n_features, like.feature_names
        width_source = f"'{like.name}'"
    return _read_letor(path, query_file=query_file, n_features=n_features, feature_names=feature_names,
                       name=name, sparse=sparse, allow_nonfinite=allow_nonfinite, progress=progress,
                       width_source=width_source)


def _read_letor(path, *, query_file=None, n_features=None, feature_names=None, name=None, sparse=False,
                allow_nonfinite=False, progress=None, width_source=None) -> RankingDataset:
    path_s = str(path)
    if n_features is not None and (isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer))
                                   or n_features < 0):
        raise SchemaError(f"n_features must be a non-negative integer, got {n_features!r}")
    if feature_names is not None:
        feature_names = [str(f) for f in feature_names]
        if n_features is not None and n_features != len(feature_names):
            raise SchemaError(f"n_features={n_features} but {len(feature_names)} feature names were given")
        n_features = len(feature_names)
    n_features = None if n_features is None else int(n_features)
    qfile = None
    if query_file is None:
        auto = Path(path_s + ".query")
        qfile = auto if auto.is_file() else None
    elif query_file is not False:
        qfile = Path(query_file)

    # Step 1: parse blocks of lines as they are read; the first data line fixes whether lines carry qids.
    expect_qid = None
    asm = _Assembler(sparse=sparse, n_features=n_features, path=path_s)
    lines, labels, qid_parts, docids = [], [], [], []
    with B.open_bytes(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        show = progress if progress is not None else size > _PROGRESS_BYTES
        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"reading {Path(path_s).name}", disable=not show)
        for block, first_line in _blocks(handle, path_s, size):
            bar.update(block.nbytes)
            parsed = _parse_block(block, first_line, path_s, expect_qid=expect_qid, n_features=n_features,
                                  allow_nonfinite=allow_nonfinite, query_mode=qfile is not None,
                                  width_source=width_source)
            del block
            if parsed.has_qid is not None:
                expect_qid = parsed.has_qid
            if not len(parsed.labels):
                continue                          # blank or comment lines only
            asm.add(parsed)
            lines.append(parsed.lines)
            labels.append(parsed.labels)
            if parsed.qids is not None:
                qid_parts.append(parsed.qids)
            docids.extend(parsed.docids)
    bar.close()

    # Step 2: concatenate.
    row_lines = np.concatenate(lines) if lines else np.zeros(0, np.int64)
    labels = np.concatenate(labels).astype(LABEL_DTYPE) if labels else np.zeros(0, LABEL_DTYPE)
    n_rows = len(labels)
    if n_rows and asm.width == 0 and n_features is None:
        raise ParseError(f"no feature values: the {n_rows} data lines have a label"
                         f"{' and a qid' if expect_qid else ''} but no 'id:value' pairs. Pass n_features= to read "
                         f"a file whose features are all absent on purpose", path=path_s)

    # Step 3: docids on every line or on none.
    missing = [i for i, d in enumerate(docids) if d is None]
    if missing and len(missing) < n_rows:
        first_with = next(i for i, d in enumerate(docids) if d is not None)
        raise ParseError(f"no '#docid = ...' comment, but line {row_lines[first_with]} has one; give every "
                         f"line a docid or none", path=path_s, line=int(row_lines[missing[0]]))
    docids = np.array(docids, dtype=object) if n_rows and not missing else None

    # Step 4: qids from the lines and/or group sizes from the .query file.
    qids = np.concatenate(qid_parts) if expect_qid and qid_parts else None
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
    X = asm.matrix()
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
        Passed to :func:`read_letor` (``n_features``, ``feature_names``, ``sparse``, ...). Without
        ``n_features`` (or ``feature_names``), each fold's ``vali.txt`` and ``test.txt`` are read with the
        width of its ``train.txt``, so a split in which the last features are absent everywhere (sparse
        files) still gets the training columns; a split with a feature id beyond them is a ParseError
        naming its line and the training file.

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
    fixed = read_kwargs.get("n_features") is not None or read_kwargs.get("feature_names") is not None
    for fold in folds:
        splits: dict[str, RankingDataset | None] = {}
        width_source = None
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
            if split != "train" and not fixed:
                kwargs["n_features"] = splits["train"].n_features
            splits[split] = _read_letor(file, width_source=width_source, **kwargs)
            if split == "train" and not fixed:
                width_source = f"the training file '{file}'"
        out.append((fold.name, splits))
    return out

