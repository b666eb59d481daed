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
    bad = False

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


def _scan_kernel(buf, pow10):  # pragma: no cover - runs compiled; checked against scan_numpy in tests
    """The scan as one loop over the bytes, for numba (see :func:`numba_scan`)."""
    n = len(buf)
    max_rows = 1
    max_tok = 1                      # every feature token holds a ':'; one without stops the scan
    for i in range(n):
        if buf[i] == 10:
            max_rows += 1
        elif buf[i] == 58:
            max_tok += 1
    row_lines = np.empty(max_rows, np.int64)
    comment = np.empty(max_rows, np.int64)
    line_end = np.empty(max_rows, np.int64)
    lab_s = np.empty(max_rows, np.int64)
    lab_e = np.empty(max_rows, np.int64)
    has_qid = np.zeros(max_rows, np.bool_)
    qid_s = np.zeros(max_rows, np.int64)
    qid_e = np.zeros(max_rows, np.int64)
    n_feat = np.zeros(max_rows, np.int64)
    fid = np.empty(max_tok, np.int64)
    val_s = np.empty(max_tok, np.int64)
    val_e = np.empty(max_tok, np.int64)
    values = np.empty(max_tok, np.float64)
    parsed = np.zeros(max_tok, np.bool_)
    bad = False
    increasing = True
    rows = 0
    nf = 0
    line = 0
    i = 0
    while i < n:
        end = i
        while end < n and buf[end] != 10:
            end += 1
        j = i
        tok = 0
        hash_at = -1
        prev_id = 0
        while j < end:
            c = buf[j]
            if c == 35:
                hash_at = j
                break
            if (c == 32 or 9 <= c <= 13):
                j += 1
                continue
            s = j
            printable = True
            colon = -1
            while j < end:
                c = buf[j]
                if c == 35 or (c == 32 or 9 <= c <= 13):
                    break
                if c < 33 or c > 126:
                    printable = False
                if c == 58 and colon < 0:
                    colon = j
                j += 1
            e = j
            if tok == 0:
                lab_s[rows] = s
                lab_e[rows] = e
                if not printable:
                    bad = True
            elif (tok == 1 and e - s >= 4 and buf[s] == 113 and buf[s + 1] == 105 and buf[s + 2] == 100
                  and buf[s + 3] == 58):
                has_qid[rows] = True
                qid_s[rows] = s + 4
                qid_e[rows] = e
            else:
                if colon < 0:
                    bad = True
                    break
                if not printable or colon == s or colon - s > 9:
                    bad = True
                ident = 0
                for p in range(s, colon):
                    d = buf[p] - 48
                    if d < 0 or d > 9:
                        bad = True
                    ident = ident * 10 + d
                if ident <= prev_id:
                    increasing = False
                prev_id = ident
                fid[nf] = ident
                val_s[nf] = colon + 1
                val_e[nf] = e
                # Clinger's fast path for [-]digits[.digits] with at most 15 digits
                p = colon + 1
                neg = False
                if p < e and buf[p] == 45:
                    neg = True
                    p += 1
                m = 0.0
                nd = 0
                frac = 0
                dots = 0
                ok = p < e
                while p < e:
                    c = buf[p]
                    if 48 <= c <= 57:
                        m = m * 10.0 + (c - 48)
                        nd += 1
                        if dots:
                            frac += 1
                    elif c == 46 and dots == 0:
                        dots = 1
                    else:
                        ok = False
                        break
                    p += 1
                if ok and 1 <= nd <= 15:
                    v = m / pow10[frac]
                    values[nf] = -v if neg else v
                    parsed[nf] = True
                nf += 1
                n_feat[rows] += 1
            tok += 1
        if tok > 0:
            row_lines[rows] = line
            comment[rows] = hash_at
            line_end[rows] = end
            rows += 1
        if bad:
            break
        i = end + 1
        line += 1
    return (bad, row_lines[:rows], comment[:rows], line_end[:rows], lab_s[:rows], lab_e[:rows],
            has_qid[:rows], qid_s[:rows], qid_e[:rows], n_feat[:rows], fid[:nf], val_s[:nf], val_e[:nf],
            values[:nf], parsed[:nf], increasing)


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
            _COMPILED["scan"] = None
        else:
            kernel = numba.njit(cache=True, nogil=True)(_scan_kernel)
            _COMPILED["scan"] = lambda buf: Scan(*kernel(buf, _POW10))
    return _COMPILED["scan"]
