"""Scanning SVMlight/LETOR bytes into token spans: a numpy reference and a numba accelerator.

Both return the same :class:`Scan`; ``ltr/io/letor.py`` turns it into a dataset and applies the rules that
need the whole file (qid mode, n_features, duplicates, finite values). The numpy version is the reference
implementation; the numba version (used when numba imports) makes one compiled pass over the bytes and
also parses plain decimals exactly (Clinger's fast path: an integer mantissa below 2**53 divided by an
exact power of ten is correctly rounded), leaving other numbers (exponents, ``nan``, 16+ digits) to the
shared vectorised parser. Tests check that the two agree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ltr.io import _bytes as B

MAX_FEATURE_DIGITS = 9                  # feature ids < 10**9 fit int32 indices


class Scan(NamedTuple):
    """Spans of one block's rows (lines with at least one token before any '#')."""

    bad: bool                  # a structural rule is broken somewhere: let the line checker explain
    row_lines: np.ndarray      # 0-based line index of each row within the block
    comment: np.ndarray        # offset of the row's first '#', or -1
    line_end: np.ndarray       # offset of the row's line end
    lab_s: np.ndarray
    lab_e: np.ndarray
    has_qid: np.ndarray        # bool
    qid_s: np.ndarray          # after "qid:"; meaningful where has_qid
    qid_e: np.ndarray
    n_feat: np.ndarray         # features per row
    fid: np.ndarray            # 1-based feature ids, row by row
    val_s: np.ndarray
    val_e: np.ndarray
    values: np.ndarray         # float64, valid where parsed
    parsed: np.ndarray         # bool
    increasing: bool           # every row lists strictly increasing ids


def scan_numpy(buf: np.ndarray) -> Scan:
    """Vectorised scan (the reference implementation)."""
    n = len(buf)
    lines = B.find_lines(buf)
    bad = lone_cr(buf)

    # Step 1: comments start at the first '#' of a line.
    hashes = np.flatnonzero(buf == 35)
    k = np.searchsorted(hashes, lines.starts)
    first_hash = hashes[np.minimum(k, len(hashes) - 1)] if len(hashes) else np.full(len(k), n)
    first_hash = np.where(k < len(hashes), first_hash, n)
    has_comment = first_hash < lines.ends

    # Step 2: tokens ('#' also separates them), minus those inside comments; which lines are rows.
    t_start, t_end = B.find_tokens(buf, buf != 35)
    t_line = B.line_of(t_start, lines)
    if len(hashes):
        in_body = t_start < first_hash[t_line]
        t_start, t_end, t_line = t_start[in_body], t_end[in_body], t_line[in_body]
    per_line = np.bincount(t_line, minlength=len(lines.starts))
    row_lines = np.flatnonzero(per_line)
    n_tok_row = per_line[row_lines]
    first_tok = np.cumsum(n_tok_row) - n_tok_row

    # Step 3: qid tokens: the second token of a row when it starts with "qid:".
    second = np.minimum(first_tok + 1, max(len(t_start) - 1, 0))
    has_qid = n_tok_row > 1
    if len(t_start):
        s2 = t_start[second]
        has_qid &= (t_end[second] - s2) >= 4
        for j, ch in enumerate(b"qid:"):
            has_qid &= buf[np.minimum(s2 + j, n - 1)] == ch
    is_number = np.ones(len(t_start), dtype=bool)
    is_number[second[has_qid]] = False
    is_feat = is_number.copy()
    is_feat[first_tok] = False
    bad |= B.has_bad_number_bytes(buf, t_start[is_number], t_end[is_number])

    # Step 4: "id:value" pairs split at their first ':'; ids are 1..9 ASCII digits.
    f_start, f_end = t_start[is_feat], t_end[is_feat]
    colons = np.flatnonzero(buf == 58)
    kc = np.searchsorted(colons, f_start)
    colon = colons[np.minimum(kc, len(colons) - 1)] if len(colons) else f_end
    fid = np.zeros(len(f_start), dtype=np.int64)
    if len(f_start):
        bad |= bool(((kc >= len(colons)) | (colon >= f_end)).any())
        colon = np.minimum(colon, f_end)
        id_len = colon - f_start
        bad |= bool(id_len.min() < 1 or id_len.max() > MAX_FEATURE_DIGITS)
        digits = B.gather(buf, f_start, colon, MAX_FEATURE_DIGITS).astype(np.int64) - 48
        inside = np.arange(digits.shape[1])[None, :] < id_len[:, None]
        bad |= bool(((digits < 0) | (digits > 9))[inside].any())
        for j in range(digits.shape[1]):
            fid = np.where(inside[:, j], fid * 10 + digits[:, j], fid)
    n_feat = n_tok_row - 1 - has_qid
    f_row = np.repeat(np.arange(len(row_lines)), n_feat)
    same_row = f_row[1:] == f_row[:-1]
    increasing = not bool((fid[1:][same_row] <= fid[:-1][same_row]).any())
    qid_tok = second[has_qid]
    qid_s = np.zeros(len(row_lines), dtype=np.int64)
    qid_e = np.zeros(len(row_lines), dtype=np.int64)
    qid_s[has_qid], qid_e[has_qid] = t_start[qid_tok] + 4, t_end[qid_tok]
    return Scan(bad, row_lines, np.where(has_comment[row_lines], first_hash[row_lines], -1),
                lines.ends[row_lines], t_start[first_tok], t_end[first_tok], has_qid, qid_s, qid_e, n_feat,
                fid, colon + 1, f_end, np.zeros(len(f_start)), np.zeros(len(f_start), dtype=bool), increasing)


_POW10 = np.array([10.0 ** k for k in range(23)])


def lone_cr(buf: np.ndarray) -> bool:
    """True if a CR is followed by something other than LF (the end of the buffer is fine: CRLF cut there
    cannot happen, blocks end after an LF)."""
    cr = np.flatnonzero(buf[:-1] == 13)
    return bool(len(cr) and (buf[cr + 1] != 10).any())


def _count_kernel(buf):  # pragma: no cover - runs compiled
    """Upper bounds of the rows (LF + 1) and feature tokens (':' + 1) of a block."""
    max_rows = 1
    max_tok = 1                      # every feature token holds a ':'; one without stops the scan
    for i in range(len(buf)):
        c = buf[i]
        if c == 10:
            max_rows += 1
        elif c == 58:
            max_tok += 1
    return max_rows, max_tok


def _scan_kernel(buf, pow10, row_lines, comment, line_end, lab_s, lab_e, has_qid, qid_s, qid_e, n_feat, fid,
                 val_s, val_e, values, parsed):  # pragma: no cover - runs compiled; checked against scan_numpy
    """The scan as one loop over the bytes, for numba (see :func:`numba_scan`).

    Writes into the given arrays (sized by :func:`_count_kernel`, reused from block to block so that their
    pages are touched once per file, not once per block) and returns (bad, rows, tokens, increasing).
    """
    n = len(buf)
    bad = False
    increasing = True
    rows = 0
    nf = 0
    line = 0
    i = 0
    while i < n:
        tok = 0
        hash_at = -1
        prev_id = 0
        has_qid[rows] = False
        qid_s[rows] = 0
        qid_e[rows] = 0
        n_feat[rows] = 0
        # one line: tokens until LF; a '#' starts the comment, which runs to the LF
        while i < n:
            c = buf[i]
            if c == 10:
                break
            if c == 32 or (9 <= c <= 13):
                if c == 13 and i + 1 < n and buf[i + 1] != 10:
                    bad = True                  # a CR that does not end the line (CRLF)
                i += 1
                continue
            if c == 35:
                hash_at = i
                while i < n and buf[i] != 10:
                    if buf[i] == 13 and i + 1 < n and buf[i + 1] != 10:
                        bad = True
                    i += 1
                break
            s = i
            if tok == 0:                                      # the label
                while i < n:
                    c = buf[i]
                    if c == 35 or c == 32 or (9 <= c <= 13):
                        break
                    if c < 33 or c > 126:
                        bad = True
                    i += 1
                lab_s[rows] = s
                lab_e[rows] = i
            elif (tok == 1 and i + 3 < n and buf[i] == 113 and buf[i + 1] == 105 and buf[i + 2] == 100
                  and buf[i + 3] == 58):                      # qid:<id>
                i += 4
                while i < n:
                    c = buf[i]
                    if c == 35 or c == 32 or (9 <= c <= 13):
                        break
                    i += 1
                has_qid[rows] = True
                qid_s[rows] = s + 4
                qid_e[rows] = i
            else:                                             # <id>:<value>
                ident = 0
                while i < n:
                    c = buf[i]
                    if c < 48 or c > 57:
                        break
                    ident = ident * 10 + (c - 48)
                    i += 1
                if i >= n or buf[i] != 58:
                    # a token without ':' right after the digits: without ':' at all the scan stops
                    # (the rows would be miscounted), with a bad id the line checker explains
                    bad = True
                    while i < n:
                        c = buf[i]
                        if c == 35 or c == 32 or (9 <= c <= 13):
                            break
                        i += 1
                    has_colon = False
                    for p in range(s, i):
                        if buf[p] == 58:
                            has_colon = True
                    if not has_colon:
                        break
                    continue
                if i == s or i - s > 9:
                    bad = True
                i += 1                                        # the ':'
                if ident <= prev_id:
                    increasing = False
                prev_id = ident
                fid[nf] = ident
                vs = i
                # Clinger's fast path for [-]digits[.digits] with at most 15 digits
                neg = False
                if i < n and buf[i] == 45:
                    neg = True
                    i += 1
                m = 0                    # an integer mantissa: cheaper than a float chain, exact to 18 digits
                nd = 0
                frac = 0
                dots = 0
                plain = True
                while i < n:
                    c = buf[i]
                    d = np.int64(c) - 48
                    if 0 <= d <= 9:
                        m = m * 10 + d
                        nd += 1
                        frac += dots
                    elif c == 46 and dots == 0:
                        dots = 1
                    elif c == 35 or c == 32 or (9 <= c <= 13):
                        break
                    else:
                        plain = False
                        if c < 33 or c > 126:
                            bad = True
                    i += 1
                val_s[nf] = vs
                val_e[nf] = i
                if plain and 1 <= nd <= 15:
                    v = np.float64(m) / pow10[frac]
                    values[nf] = -v if neg else v
                    parsed[nf] = True
                else:
                    parsed[nf] = False
                nf += 1
                n_feat[rows] += 1
            tok += 1
        if tok > 0:
            row_lines[rows] = line
            comment[rows] = hash_at
            line_end[rows] = i
            rows += 1
        if bad:
            break
        i += 1
        line += 1
    return bad, rows, nf, increasing


def _scatter_kernel(X, row0, n_feat, fid, values):  # pragma: no cover - runs compiled
    """X[row0 + r, fid - 1] = values, row by row (ids 1-based; values already checked)."""
    k = 0
    for r in range(len(n_feat)):
        row = X[row0 + r]
        for _ in range(n_feat[r]):
            row[fid[k] - 1] = values[k]
            k += 1


class _Workspace:
    """Calls the compiled scan with output arrays kept between calls (grown when a block needs more).

    The arrays of the Scan it returns are views into that workspace: valid until the next call (the LETOR
    reader consumes each block before it scans the next; copy what must outlive it).
    """

    _ROW = (("row_lines", np.int64), ("comment", np.int64), ("line_end", np.int64), ("lab_s", np.int64),
            ("lab_e", np.int64), ("has_qid", np.bool_), ("qid_s", np.int64), ("qid_e", np.int64),
            ("n_feat", np.int64))
    _TOK = (("fid", np.int64), ("val_s", np.int64), ("val_e", np.int64), ("values", np.float64),
            ("parsed", np.bool_))

    def __init__(self, count, kernel):
        self.count, self.kernel = count, kernel
        self.rows: dict = {}
        self.toks: dict = {}

    def __call__(self, buf: np.ndarray) -> Scan:
        max_rows, max_tok = self.count(buf)
        if not self.rows or len(self.rows["n_feat"]) < max_rows:
            self.rows = {k: np.empty(max(max_rows, 1024), t) for k, t in self._ROW}
        if not self.toks or len(self.toks["fid"]) < max_tok:
            self.toks = {k: np.empty(max(max_tok, 1024), t) for k, t in self._TOK}
        r, t = self.rows, self.toks
        bad, rows, nf, increasing = self.kernel(buf, _POW10, *(r[k] for k, _ in self._ROW),
                                                *(t[k] for k, _ in self._TOK))
        row = {k: r[k][:rows] for k, _ in self._ROW}
        tok = {k: t[k][:nf] for k, _ in self._TOK}
        return Scan(bool(bad), **row, **tok, increasing=bool(increasing))


_COMPILED: dict = {}


def numba_scan():
    """The compiled scan (same result as :func:`scan_numpy`, plus parsed decimals), or None without numba.

    numba is imported and the kernel compiled on first use (then cached on disk), so importing ltr.io
    stays cheap.
    """
    if "scan" not in _COMPILED:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is an install requirement
            _COMPILED["scan"] = _COMPILED["scatter"] = None
        else:
            kernel = numba.njit(cache=True, nogil=True)(_scan_kernel)
            count = numba.njit(cache=True, nogil=True)(_count_kernel)
            _COMPILED["scan"] = _Workspace(count, kernel)
            _COMPILED["scatter"] = numba.njit(cache=True, nogil=True)(_scatter_kernel)
    return _COMPILED["scan"]


def scatter(X: np.ndarray, row0: int, n_feat: np.ndarray, fid: np.ndarray, values: np.ndarray) -> None:
    """Write one block's values into the dense ``X`` (compiled when numba is there)."""
    fast = _COMPILED.get("scatter") if numba_scan() is not None else None
    if fast is not None and len(fid):
        fast(X, row0, n_feat, fid, values)
    elif len(fid):
        rows = np.repeat(np.arange(row0, row0 + len(n_feat)), n_feat)
        X[rows, fid - 1] = values
