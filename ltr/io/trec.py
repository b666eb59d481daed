"""TREC qrels and run files, as trec_eval reads them.

- qrels: ``qid iter docid rel`` per line (``iter`` is ignored; ``rel`` graded, possibly negative).
- run: ``qid Q0 docid rank score tag`` per line (trec_eval ignores ``Q0`` and ``rank`` and orders by
  score, keeping scores as 32-bit floats and breaking ties by docid in descending byte order).

Fields are separated by ASCII whitespace. Readers return long frames with the columns of
:mod:`ltr.schema` (ids ``str`` in object columns, labels/scores float64) in file order. No Python code runs
per line: one compiled pass over the bytes (numba; a numpy scan is the reference) counts the fields of every
line and locates the numeric field, which is parsed in bulk with ``float()``'s rules (exactly), and
pandas' C tokenizer cuts the ids. A malformed file is then re-read line by line to name the first
offending line in a :class:`~ltr.errors.ParseError`.

References
----------
trec_eval, https://github.com/usnistgov/trec_eval (``get_qrels.c``, ``get_trec_results.c``).
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from ltr.errors import ConfigError, DataError, LabelError, ParseError
from ltr.io import _bytes as B
from ltr.atomic import atomic_write
from ltr.schema import (
    DOCID,
    LABEL,
    LABEL_DTYPE,
    QID,
    QRELS,
    RUN,
    SCORE,
    as_id_array,
    require_columns,
)

__all__ = ["read_qrels", "read_run", "write_qrels", "write_run"]

_SPACE = re.compile(r"[ \t\n\r\x0b\x0c]")          # ASCII whitespace: the field separators
_QRELS_FIELDS = ("qid", "iter", "docid", "rel")
_RUN_FIELDS = ("qid", "Q0", "docid", "rank", "score", "tag")


def _explain(raw: bytes, path: str, fields: tuple[str, ...], number: int, *, what: str, finite: str) -> None:
    """Re-read ``raw`` line by line and raise a ParseError at the first malformed line."""
    for i, line in enumerate(raw.split(b"\n"), start=1):
        toks = line.split()
        if not toks:
            continue
        if len(toks) != len(fields):
            raise ParseError(f"expected {len(fields)} fields '{' '.join(fields)}' in a {what} line, got "
                             f"{len(toks)}: {B.show(line.strip(), 80)}", path=path, line=i)
        tok = toks[number]
        if not B.is_number_token(tok):
            raise ParseError(f"expected a number in field {number + 1} ('{fields[number]}'), got {B.show(tok)} "
                             f"({B.NUMBER_HELP})", path=path, line=i)
        value = float(tok)
        if np.isnan(value) or (finite == "all" and not np.isfinite(value)):
            raise ParseError(f"field {number + 1} ('{fields[number]}') must be a "
                             f"{'finite ' if finite == 'all' else ''}number, got {B.show(tok)}", path=path, line=i)
        for k in (0, 2):
            try:
                toks[k].decode("utf-8")
            except UnicodeDecodeError:
                raise ParseError(f"{fields[k]} {toks[k]!r} is not valid UTF-8", path=path, line=i) from None
    raise ParseError(f"could not read this {what} file, but the line-by-line check found nothing wrong; this "
                     f"is a bug in ltr, please report it", path=path)


def _scan_numpy(buf: np.ndarray, k: int, number: int):
    """Check the field counts and locate the numeric field (the reference for :func:`_scan_kernel`).

    Returns (rows, every non-blank line has k fields, bytes on which pandas' tokenizer differs from ours,
    starts and ends of the numeric field, a numeric field has a byte no number has).
    """
    lines = B.find_lines(buf)
    t_start, t_end = B.find_tokens(buf)
    per_line = np.diff(np.r_[np.searchsorted(t_start, lines.starts), len(t_start)])
    ok = not ((per_line != 0) & (per_line != k)).any()
    cr = np.flatnonzero(buf == 13)
    odd = bool(((buf == 0) | (buf == 11) | (buf == 12)).any()) or bool(
        len(cr) and (buf[np.minimum(cr + 1, len(buf) - 1)] != 10).any() or (len(cr) and cr[-1] == len(buf) - 1))
    if not ok:
        return 0, False, odd, t_start[:0], t_end[:0], False
    num_s, num_e = t_start[number::k], t_end[number::k]
    return len(num_s), True, odd, num_s, num_e, B.has_bad_number_bytes(buf, num_s, num_e)


def _scan_kernel(buf, k, number):  # pragma: no cover - runs compiled; checked against numpy in tests
    """:func:`_scan_numpy` as one loop over the bytes, for numba (see :func:`_numba_scan`)."""
    n = len(buf)
    max_rows = 1
    for i in range(n):
        if buf[i] == 10:
            max_rows += 1
    num_s = np.empty(max_rows, np.int64)
    num_e = np.empty(max_rows, np.int64)
    rows = 0
    ok = True
    odd = False
    bad_num = False
    i = 0
    while i < n:
        count = 0
        in_tok = False
        while i < n and buf[i] != 10:
            c = buf[i]
            if c == 32 or 9 <= c <= 13:
                if in_tok and count == number + 1:
                    num_e[rows] = i
                in_tok = False
                if c == 11 or c == 12 or (c == 13 and (i + 1 >= n or buf[i + 1] != 10)):
                    odd = True
            else:
                if c == 0:
                    odd = True
                if not in_tok:
                    count += 1
                    in_tok = True
                    if count == number + 1:
                        num_s[rows] = i
                if count == number + 1 and (c < 33 or c > 126):
                    bad_num = True
            i += 1
        if in_tok and count == number + 1:
            num_e[rows] = i
        if count == k:
            rows += 1
        elif count != 0:
            ok = False
            return 0, False, odd, num_s[:0], num_e[:0], False
        i += 1
    return rows, ok, odd, num_s[:rows], num_e[:rows], bad_num


_COMPILED: dict = {}


def _numba_scan():
    """The compiled :func:`_scan_kernel`, or None without numba (compiled on first use, cached on disk)."""
    if "scan" not in _COMPILED:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is an install requirement
            _COMPILED["scan"] = None
        else:
            _COMPILED["scan"] = numba.njit(cache=True, nogil=True)(_scan_kernel)
    return _COMPILED["scan"]


_USE_FAST = True       # tests switch it off to check the reference path (numpy scan, bytes.split)


def _read_table(path, fields: tuple[str, ...], number: int, *, what: str, finite: str, raw: bytes | None = None):
    """Columns ``qid``, ``docid`` (str) and the numeric field of a whitespace-separated TREC file (or of
    ``raw``, its bytes, when given; ``path`` then only names it).

    Returns (qids, docids, numbers, a function giving the line numbers of the rows).
    """
    path_s = str(path)
    raw = B.strip_bom(B.read_bytes(path) if raw is None else raw)   # a BOM is not part of the first qid
    if b"\n" not in raw and b"\r" in raw.rstrip(b"\r"):
        raw = raw.replace(b"\r", b"\n")           # lines that end in CR alone (an old Mac file)
    k = len(fields)

    def explain():
        _explain(raw, path_s, fields, number, what=what, finite=finite)

    # Step 1: every non-blank line has exactly k fields; where the numeric field is.
    buf = np.frombuffer(raw, dtype=np.uint8)
    scan = (_numba_scan() if _USE_FAST else None) or _scan_numpy
    n_rows, ok, odd, num_s, num_e, bad_num = scan(buf, k, number)
    if not ok or bad_num:
        explain()

    # Step 2: the numeric field, with float()'s rules (plain decimals exactly in numpy, others by cast).
    try:
        values = B.parse_floats(buf, num_s, num_e)
    except ValueError:
        explain()
    if np.isnan(values).any() or (finite == "all" and not np.isfinite(values).all()):
        explain()

    # Step 3: the ids as str. pandas' C tokenizer splits at spaces and tabs and ends lines at LF/CRLF: the
    # same as ours unless the file has NUL, VT, FF or a lone CR (then bytes.split does it).
    if _USE_FAST and n_rows and not odd:
        try:
            frame = pd.read_csv(io.BytesIO(raw), sep=r"\s+", header=None, names=list(range(k)), usecols=[0, 2],
                                dtype=object, na_filter=False, quoting=csv.QUOTE_NONE, engine="c",
                                encoding="utf-8")
        except UnicodeDecodeError:
            explain()
        if len(frame) != n_rows:         # pragma: no cover - guarded by the checks above
            explain()
        qids, docids = frame[0].to_numpy(dtype=object), frame[2].to_numpy(dtype=object)
    else:
        toks = np.array(raw.split(), dtype=object).reshape(-1, k)
        try:
            qids, docids = (np.array([t.decode("utf-8") for t in toks[:, c]], dtype=object) for c in (0, 2))
        except UnicodeDecodeError:
            explain()
    return qids, docids, values, lambda: _row_lines(buf)


def _row_lines(buf: np.ndarray) -> np.ndarray:
    """1-based line numbers of the rows (non-blank lines), for messages."""
    lines = B.find_lines(buf)
    t_start, _ = B.find_tokens(buf)
    per_line = np.diff(np.r_[np.searchsorted(t_start, lines.starts), len(t_start)])
    return np.flatnonzero(per_line) + 1


def _check_duplicates(qids, docids, lines, path: str, what: str) -> None:
    """Raise DataError naming the first (qid, docid) that appears twice, and where."""
    if not len(qids):
        return
    qcode, _ = pd.factorize(qids)
    dcode, _ = pd.factorize(docids)
    key = qcode.astype(np.int64) * (int(dcode.max()) + 1) + dcode
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(key == key[np.flatnonzero(dup)[0]])
        q, d = qids[rows[0]], docids[rows[0]]
        where = (f"lines {', '.join(str(int(x)) for x in lines()[rows][:5])}" if lines is not None else
                 f"rows {', '.join(str(int(x)) for x in rows[:5])}")
        raise DataError(f"{path}: duplicate (qid, docid) ({q!r}, {d!r}) in the {what} ({where}); "
                        f"each document may appear once per query (trec_eval refuses duplicates)")


def read_qrels(path) -> pd.DataFrame:
    """Read a TREC qrels file ``qid iter docid rel``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame with columns qid (str), docid (str), label (float64), in file order
        Labels may be graded, negative (trec_eval counts ``rel > 0`` as relevant) or real-valued.

    Raises
    ------
    ParseError
        A line without exactly 4 fields or whose ``rel`` is not a finite number, named by file and line.
    DataError
        The same (qid, docid) judged twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "qrels"
    >>> _ = p.write_text("1 0 d1 2\\n1 0 d2 0\\n")
    >>> read_qrels(p).to_dict("list")
    {'qid': ['1', '1'], 'docid': ['d1', 'd2'], 'label': [2.0, 0.0]}
    """
    qids, docids, labels, lines = _read_table(path, _QRELS_FIELDS, 3, what="qrels", finite="all")
    _check_duplicates(qids, docids, lines, str(path), "qrels")
    return _frame(QRELS, qids, docids, labels)


def read_run(path) -> pd.DataFrame:
    """Read a TREC run file ``qid Q0 docid rank score tag``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame with columns qid (str), docid (str), score (float64), in file order
        ``Q0``, ``rank`` and ``tag`` are not kept: trec_eval ranks by score. Scores may be +-inf, not NaN.

    Raises
    ------
    ParseError
        A line without exactly 6 fields or whose score is not a number, named by file and line.
    DataError
        The same (qid, docid) twice (trec_eval refuses such runs).
    """
    qids, docids, scores, lines = _read_table(path, _RUN_FIELDS, 4, what="run", finite="notnan")
    _check_duplicates(qids, docids, lines, str(path), "run")
    return _frame(RUN, qids, docids, scores)


def read_runs_tagged(paths) -> pd.DataFrame:
    """The run files ``paths`` as one RUN frame, file i's qids written ``"<i>:<qid>"``: many runs evaluated in
    one :func:`ltr.metrics.evaluate` call, each on its own queries (``split(":", 1)`` gives the file and the qid
    back).

    The files are parsed together, as one, each line prefixed with its tag. Files that parse apart but not
    so (blank lines, a lone CR, leading whitespace) are read one by one with :func:`read_run`, which also
    raises its errors, naming the file and line.
    """
    parts = []
    for i, path in enumerate(paths):
        raw = B.strip_bom(B.read_bytes(path)).replace(b"\r\n", b"\n")
        if raw:
            tag = b"%d:" % i
            parts.append(tag + raw.rstrip(b"\n").replace(b"\n", b"\n" + tag) + b"\n")
    try:
        qids, docids, scores, _ = _read_table("<tagged runs>", _RUN_FIELDS, 4, what="run", finite="notnan",
                                              raw=b"".join(parts))
        _check_duplicates(qids, docids, None, "<tagged runs>", "run")
        return _frame(RUN, qids, docids, scores)
    except (ParseError, DataError):
        pass
    frames = [read_run(path) for path in paths]
    return pd.concat([f.assign(**{QID: f"{i}:" + f[QID]}) for i, f in enumerate(frames)], ignore_index=True)


def _frame(columns, qids, docids, values) -> pd.DataFrame:
    return pd.DataFrame({columns[0]: pd.Series(qids, dtype=object), columns[1]: pd.Series(docids, dtype=object),
                         columns[2]: pd.Series(values, dtype=LABEL_DTYPE)})


def _ids(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """The id column as str, refusing ids a TREC file cannot hold (empty, with whitespace, or -- for the
    first field of a line -- starting with U+FEFF, which readers drop as a byte order mark).

    Each id is checked on its own: no check joins the ids into one string, where a separator inside an id
    (a NUL byte, say) would be taken for a boundary.
    """
    ids = frame[column].to_numpy(dtype=object)
    if pd.api.types.infer_dtype(ids, skipna=False) not in ("string", "empty"):
        ids = as_id_array(ids)
    values = ids.tolist()
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    if len(values) and lengths.min() == 0:
        raise DataError(f"cannot write an empty {column} to a {what} file (row {int(np.argmin(lengths))})")
    spaced = [i for i, m in enumerate(map(_SPACE.search, values)) if m is not None][:1]
    if spaced:
        raise DataError(f"cannot write {column} {values[spaced[0]]!r} to a {what} file: TREC ids contain no "
                        f"whitespace (space, tab, CR, LF, VT, FF)")
    if column == QID:
        bom = [i for i, v in enumerate(values) if v.startswith("\ufeff")][:1]
        if bom:
            raise DataError(f"cannot write {column} {values[bom[0]]!r} to a {what} file: a leading U+FEFF "
                            f"is read as a byte order mark and dropped when it starts the file")
    return ids


def _numbers(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    try:
        return frame[column].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"the {column} column of the {what} must be numeric, got dtype "
                        f"{frame[column].dtype}") from None


def write_qrels(qrels: pd.DataFrame, path, *, round_labels: bool = False) -> None:
    """Write a qrels frame as ``qid 0 docid rel`` lines, in frame order (atomically).

    Parameters
    ----------
    qrels : DataFrame with columns qid, docid, label
    path : str or Path
    round_labels : bool, default=False
        trec_eval reads integer relevance. Real-valued (non-integral) labels are refused with a
        :class:`LabelError` unless ``round_labels=True``, which rounds half up (``floor(x + 0.5)``:
        0.5 -> 1, 1.49 -> 1, -0.5 -> 0).

    Raises
    ------
    LabelError
        Non-integral labels without ``round_labels``, or NaN/inf labels.
    DataError
        Duplicate (qid, docid), or ids with whitespace.
    """
    require_columns(qrels, QRELS, caller="write_qrels")
    qids, docids = _ids(qrels, QID, "qrels"), _ids(qrels, DOCID, "qrels")
    labels = _numbers(qrels, LABEL, "qrels")
    if not np.isfinite(labels).all():
        row = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise LabelError(f"label {labels[row]} of (qid {qids[row]!r}, docid {docids[row]!r}) is not a finite "
                         f"number; a qrels file needs integer relevance")
    frac = labels != np.floor(labels)
    if frac.any():
        if not round_labels:
            row = int(np.flatnonzero(frac)[0])
            raise LabelError(f"label {float(labels[row])!r} of (qid {qids[row]!r}, docid {docids[row]!r}) is not an "
                             f"integer ({int(frac.sum())} labels are real-valued): trec_eval reads integer "
                             f"relevance. Round them yourself or pass round_labels=True (rounds half up)")
        labels = np.floor(labels + 0.5)
    if len(labels) and np.abs(labels).max() > 2**53:
        row = int(np.argmax(np.abs(labels)))
        raise LabelError(f"label {float(labels[row])!r} of (qid {qids[row]!r}, docid {docids[row]!r}) is too "
                         f"large for a qrels file (|label| <= 2**53)")
    _check_duplicates(qids, docids, None, "write_qrels", "qrels")
    text = "".join([f"{q} 0 {d} {r}\n" for q, d, r in zip(qids.tolist(), docids.tolist(),
                                                        labels.astype(np.int64).tolist())])
    with atomic_write(path) as handle:
        handle.write(text)


def write_run(run: pd.DataFrame, path, *, tag: str = "ltr") -> None:
    """Write a run frame as ``qid Q0 docid rank score tag`` lines (atomically).

    Queries keep the order of their first appearance; inside a query documents are ranked by descending
    score, ties by descending docid (the order trec_eval itself uses), and ``rank`` counts from 1. Scores
    are written with ``repr`` of the float64 value, so :func:`read_run` reads back the same numbers.

    Parameters
    ----------
    run : DataFrame with columns qid, docid, score
    path : str or Path
    tag : str, default="ltr"
        The run name in the last field (non-empty, no whitespace).

    Raises
    ------
    DataError
        NaN scores, duplicate (qid, docid), ids with whitespace.
    """
    require_columns(run, RUN, caller="write_run")
    if not isinstance(tag, str) or not tag or _SPACE.search(tag):
        raise ConfigError(f"the run tag must be a non-empty string without whitespace, got {tag!r}")
    qids, docids = _ids(run, QID, "run"), _ids(run, DOCID, "run")
    scores = _numbers(run, SCORE, "run")
    if np.isnan(scores).any():
        row = int(np.flatnonzero(np.isnan(scores))[0])
        raise DataError(f"score of (qid {qids[row]!r}, docid {docids[row]!r}) is NaN; a run needs a score "
                        f"for every document")
    _check_duplicates(qids, docids, None, "write_run", "run")
    # Order: queries as first seen, then score descending, then docid descending (the byte order of UTF-8
    # is the code point order, i.e. Python's str order, so sorting the distinct docids once gives it)
    qcode = pd.factorize(qids)[0]
    dcode, duniq = pd.factorize(docids)
    drank = np.empty(len(duniq), dtype=np.int64)
    drank[np.argsort(np.asarray(duniq, dtype=object), kind="stable")] = np.arange(len(duniq))
    order = np.lexsort((-drank[dcode], -scores, qcode)) if len(qids) else np.zeros(0, dtype=np.int64)
    q_sorted = qcode[order]
    starts = np.flatnonzero(np.r_[True, q_sorted[1:] != q_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    ranks = np.arange(len(order)) - np.repeat(starts, sizes) + 1
    # {s!r}: repr() prints the shortest text that reads back to the same double
    text = "".join([f"{q} Q0 {d} {r} {s!r} {tag}\n" for q, d, r, s in zip(
        qids[order].tolist(), docids[order].tolist(), ranks.tolist(), scores[order].tolist())])
    with atomic_write(path) as handle:
        handle.write(text)
