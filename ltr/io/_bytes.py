"""Vectorised scanning of whitespace-separated text files held as a numpy byte buffer.

The LETOR and TREC readers find lines and tokens with a few numpy passes over the file's bytes and parse
numbers with one vectorised cast per column, so that no Python code runs once per token. Whitespace is
ASCII whitespace (space, tab, CR, LF, VT, FF), as in SVMlight, LightGBM and trec_eval; lines end at LF
(a CR before it is whitespace, so CRLF files read the same; a file whose lines end in CR alone is
handled by :func:`line_ends`).

Numbers follow the grammar that trec_eval and SVMlight write and C's ``strtod`` reads, not Python's
``float()`` (which also takes ``1_0``, ``infinity`` and surrounding Unicode spaces)::

    number  := [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?  |  [+-]? inf  |  nan
    digits  := [0-9]+                                  (inf and nan in any letter case)

``inf``/``nan`` are what our writers (and numpy, R) print for non-finite values; each reader then says
whether it accepts them (LETOR features with ``allow_nonfinite``, run scores +-inf, never labels).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ltr.errors import ParseError

WHITESPACE = b" \t\n\r\x0b\x0c"
_IS_WS = np.zeros(256, dtype=bool)
_IS_WS[list(WHITESPACE)] = True
# bytes allowed inside a number token: printable ASCII (the grammar check below refuses the rest)
_NOT_NUMBER_BYTE = np.ones(256, dtype=bool)
_NOT_NUMBER_BYTE[33:127] = False

#: Tokens longer than this are parsed one by one; the vectorised cast pads to the longest.
MAX_VECTOR_WIDTH = 40
BOM = b"\xef\xbb\xbf"

# The number grammar as a DFA over byte classes (0 end, 1 digit, 2 sign, 3 '.', 4 'e'/'E', 5 other).
# States: 0 start, 1 sign, 2 integer digits*, 3 'digits.'*, 4 '.' without digits, 5 fraction digits*,
# 6 'e', 7 exponent sign, 8 exponent digits*, 9 dead (* accepting).
_CLASS = np.full(256, 5, dtype=np.int8)
_CLASS[48:58] = 1
_CLASS[[43, 45]] = 2
_CLASS[46] = 3
_CLASS[[69, 101]] = 4
_DFA = np.full((10, 6), 9, dtype=np.int8)
_DFA[:, 0] = np.arange(10)                     # the end of the token keeps the state
_DFA[0, 1:4] = (2, 1, 4)
_DFA[1, 1], _DFA[1, 3] = 2, 4
_DFA[2, 1], _DFA[2, 3], _DFA[2, 4] = 2, 3, 6
_DFA[3, 1], _DFA[3, 4] = 5, 6
_DFA[4, 1] = 5
_DFA[5, 1], _DFA[5, 4] = 5, 6
_DFA[6, 1], _DFA[6, 2] = 8, 7
_DFA[7, 1] = 8
_DFA[8, 1] = 8
_ACCEPT = np.zeros(10, dtype=bool)
_ACCEPT[[2, 3, 5, 8]] = True
_SPECIAL = (b"inf", b"+inf", b"-inf", b"nan")
_NUMBER = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?[iI][nN][fF]|[nN][aA][nN]")


def read_bytes(path) -> bytes:
    """The bytes of ``path``; a missing file or a directory is a :class:`ParseError` naming it."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise ParseError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise ParseError("is a directory, expected a file", path=str(path)) from None
    except OSError as err:
        raise ParseError(f"cannot read the file: {err.strerror or err}", path=str(path)) from None


def open_bytes(path):
    """``open(path, "rb")``; a missing file or a directory is a :class:`ParseError` naming it."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ParseError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise ParseError("is a directory, expected a file", path=str(path)) from None
    except OSError as err:
        raise ParseError(f"cannot read the file: {err.strerror or err}", path=str(path)) from None


def strip_bom(raw: bytes) -> bytes:
    """``raw`` without a leading UTF-8 byte order mark (editors on Windows write one; it is not data)."""
    return raw[len(BOM):] if raw.startswith(BOM) else raw


class Lines(NamedTuple):
    """Line boundaries of a buffer: line ``i`` is ``buf[starts[i]:ends[i]]`` (``ends`` excludes LF)."""

    starts: np.ndarray
    ends: np.ndarray


def find_lines(buf: np.ndarray) -> Lines:
    """Start and end offsets of every line (a final LF does not open an extra line)."""
    n = len(buf)
    nl = np.flatnonzero(buf == 10)
    starts = np.r_[0, nl + 1].astype(np.int64)
    ends = np.r_[nl, n].astype(np.int64)
    if n and buf[-1] == 10 or n == 0:
        starts, ends = starts[:-1], ends[:-1]
    return Lines(starts, ends)


def find_tokens(buf: np.ndarray, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the whitespace-separated tokens of ``buf``.

    ``keep`` (bool, same length) masks bytes out (e.g. comments); masked bytes separate tokens.
    """
    tok = ~_IS_WS[buf]
    if keep is not None:
        tok &= keep
    if not len(tok):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    edges = np.diff(tok.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1).astype(np.int64), np.flatnonzero(edges == -1).astype(np.int64)


def line_of(offsets: np.ndarray, lines: Lines) -> np.ndarray:
    """Index of the line holding each byte offset."""
    return np.searchsorted(lines.starts, offsets, side="right") - 1


def gather(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int | None = None) -> np.ndarray:
    """Bytes ``buf[starts[i]:ends[i]]`` as a uint8 matrix of shape (n, width), zero-padded on the right."""
    lengths = ends - starts
    if width is None:
        width = int(lengths.max()) if len(lengths) else 0
    if not len(starts) or width == 0:
        return np.zeros((len(starts), width), dtype=np.uint8)
    if int(starts.max()) + width > len(buf):
        buf = np.concatenate([buf, np.zeros(width, dtype=np.uint8)])
    out = np.lib.stride_tricks.sliding_window_view(buf, width)[starts]
    out[np.arange(width)[None, :] >= lengths[:, None]] = 0
    return out


def _decimal_fast(mat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse plain decimals ``[-]digits[.digits]`` of at most 15 digits, exactly.

    A mantissa m < 2**53 and 10**k (k <= 22) are exact doubles, so the one division m / 10**k is correctly
    rounded: the same double as ``float(text)`` (Clinger's fast path). Returns (values, ok); tokens that
    are not of this form (exponents, ``nan``, ``+``, too many digits) have ok False.
    """
    n, width = mat.shape
    cols = np.arange(width)[None, :]
    inside = cols < lengths[:, None]
    digit = (mat >= 48) & (mat <= 57)
    dot = mat == 46
    neg = mat[:, 0] == 45 if width else np.zeros(n, dtype=bool)
    lead = np.zeros_like(inside)
    lead[:, 0] = neg
    n_dot = dot.sum(axis=1)
    n_digit = digit.sum(axis=1)
    ok = ((digit | dot | lead) | ~inside).all(axis=1) & (n_dot <= 1) & (n_digit >= 1) & (n_digit <= 15)
    m = np.zeros(n, dtype=np.float64)
    frac = np.zeros(n, dtype=np.int64)
    after_dot = np.zeros(n, dtype=bool)
    for j in range(width):
        dj = digit[:, j]
        m = np.where(dj, m * 10.0 + (mat[:, j].astype(np.float64) - 48.0), m)
        frac += dj & after_dot
        after_dot |= dot[:, j]
    values = m / np.power(10.0, np.minimum(frac, 22))
    values = np.where(neg, -values, values)
    return values, ok


def grammar_ok(mat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Which rows of ``mat`` (tokens, zero-padded to the right) are numbers of the module's grammar."""
    n, width = mat.shape
    cls = _CLASS[mat]
    cls[np.arange(width)[None, :] >= lengths[:, None]] = 0
    state = np.zeros(n, dtype=np.int8)
    for j in range(width):
        state = _DFA[state, cls[:, j]]
    ok = _ACCEPT[state]
    if not ok.all():
        # inf/nan in any letter case: lower-case ASCII letters by setting bit 0x20 (digits and signs of
        # the tokens compared here are then no longer equal to a special, which is what we want)
        rest = np.flatnonzero(~ok & (lengths <= 4))
        if len(rest):
            low = np.where((mat[rest] >= 65) & (mat[rest] <= 90), mat[rest] | 32, mat[rest])
            low = np.ascontiguousarray(low[:, :4] if width >= 4 else np.pad(low, ((0, 0), (0, 4 - width))))
            ok[rest] = np.isin(low.view("S4").ravel(), np.array(_SPECIAL, dtype="S4"))
    return ok


def parse_floats(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, batch: int = 1 << 20) -> np.ndarray:
    """Parse the tokens ``buf[starts[i]:ends[i]]`` as float64, with the module's number grammar.

    Plain decimals go through :func:`_decimal_fast`; the others are checked against the grammar
    (:func:`grammar_ok`) and converted by numpy's bytes-to-float cast (correctly rounded, the routine of
    ``float()``). Batches bound memory; tokens longer than :data:`MAX_VECTOR_WIDTH` are parsed one by one
    (they are rare). Raises ValueError if a token is not a number (callers then locate it line by line).
    """
    n = len(starts)
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    lengths = ends - starts
    if lengths.min() <= 0:
        raise ValueError("empty number")
    long_ = np.flatnonzero(lengths > MAX_VECTOR_WIDTH)
    for i in long_.tolist():
        tok = buf[starts[i]:ends[i]].tobytes()
        if not is_number_token(tok):
            raise ValueError("not a number")
        out[i] = float(tok)
    idx_all = np.flatnonzero(lengths <= MAX_VECTOR_WIDTH) if len(long_) else np.arange(n)
    for lo in range(0, len(idx_all), batch):
        idx = idx_all[lo:lo + batch]
        s, e = starts[idx], ends[idx]
        width = int((e - s).max())
        mat = gather(buf, s, e, width)
        # tokens of 17+ bytes cannot be plain decimals of <= 15 digits: skip the fast path for them
        short = np.flatnonzero(e - s <= 16)
        values = np.empty(len(idx))
        ok = np.zeros(len(idx), dtype=bool)
        if len(short):
            sw = int((e[short] - s[short]).max())
            values[short], ok[short] = _decimal_fast(np.ascontiguousarray(mat[short, :sw]), (e - s)[short])
        if not ok.all():
            slow = np.flatnonzero(~ok)
            smat = np.ascontiguousarray(mat[slow])
            if not grammar_ok(smat, (e - s)[slow]).all():
                raise ValueError("not a number")
            values[slow] = smat.view(f"S{width}").ravel().astype(np.float64)
        out[idx] = values
    return out


def has_bad_number_bytes(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> bool:
    """True if some token contains a byte that no number has (control or non-ASCII bytes)."""
    bad = np.flatnonzero(_NOT_NUMBER_BYTE[buf] & ~_IS_WS[buf])
    if not len(bad) or not len(starts):
        return False
    k = np.searchsorted(starts, bad, side="right") - 1
    ok = k >= 0
    return bool(np.any(bad[ok] < ends[k[ok]]))


def is_number_token(tok: bytes) -> bool:
    """The slow twin of :func:`parse_floats` + :func:`has_bad_number_bytes` for one token."""
    return _NUMBER.fullmatch(tok) is not None


def parse_number(tok: bytes) -> float:
    """One token with the module's grammar (ValueError otherwise); for per-line readers."""
    if _NUMBER.fullmatch(tok) is None:
        raise ValueError(f"not a number: {tok!r}")
    return float(tok)


#: How the grammar is described in error messages.
NUMBER_HELP = "numbers are ASCII digits with an optional sign, point and exponent, such as 2, -0.5 or 1e-3"


def decode(raw: bytes, *, path: str, line: int, what: str) -> str:
    """Decode an identifier as UTF-8, or raise a ParseError naming the line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{what} {raw!r} is not valid UTF-8", path=path, line=line) from None


def show(tok: bytes, limit: int = 40) -> str:
    """A token for an error message: decoded leniently and shortened."""
    text = tok.decode("utf-8", errors="backslashreplace")
    return repr(text if len(text) <= limit else text[:limit] + "...")
