"""The click-log data model: a table of impressions, validated once, plus its dense SERP matrix.

A click log is one row per *impression* (a document shown at a position of a result page):

==================  =======  ====================================================================
column              type     meaning
==================  =======  ====================================================================
``session``         str      session id; a session may issue several queries
``qid``             str      query id; the rows sharing (session, qid) are one SERP
``docid``           str      document shown
``position``        int      1-based rank at which it was shown
``click``           0/1      clicked or not
``timestamp``       str      optional: when the SERP was shown (kept as text, not interpreted)
``dwell``           float    optional: dwell time of the click (kept, not interpreted)
``query_time``      str      optional: the query's time (as in :mod:`ltr.schema`; kept as text)
``original_position`` int    optional: the position in the production ranking before an
                             intervention (swap, randomisation); written by the simulators
``ranker``          str      optional: which ranker produced the SERP (several-ranker logs)
==================  =======  ====================================================================

The unit of every click model is the SERP: the rows sharing ``(session, qid)``. A session that issues the
same query twice must give the two SERPs different session ids (e.g. ``s1#2``), since they cannot be told
apart otherwise.

Declared rules (:data:`DROP_RULES`; every application is counted in :attr:`ClickLog.drops` and printed in
the summary, nothing is dropped silently):

- a click on a document that was not shown (a row without a position, or in the Yandex format a clicked id
  not among the SERP's documents) is dropped;
- repeated clicks on one shown document of a SERP are collapsed into one click (click = 1);
- repeated rows of one impression (same SERP, position and docid) are collapsed into one row;
- a row without a position and without a click is dropped (nothing was shown or clicked);
- columns other than the ones above are dropped and named.

Refused, with a typed error naming the file and line (or the row and session for a frame): a position that
is 0, negative or not an integer; a click that is not 0/1; two documents at one position of a SERP; one
document at two positions of a SERP; an empty SERP (no document shown); positions with a gap (1, 2, 4);
an empty session, qid or docid.

Rows are kept grouped by SERP (SERPs in order of first appearance) and sorted by position inside each SERP,
so ``frame`` is in display order: one group per impression list, as XGBoost's ``lambdarank_unbiased``
needs, with ``position`` beside it, as LightGBM's position-debiased lambdarank needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np
import pandas as pd

from ltr.errors import DataError, ParseError, SchemaError
from ltr.schema import DOCID, QID, QUERY_TIME

__all__ = [
    "SESSION", "POSITION", "CLICK", "TIMESTAMP", "DWELL", "QUERY_TIME", "ORIGINAL_POSITION", "RANKER",
    "CLICK_LOG", "OPTIONAL_COLUMNS", "DROP_RULES", "Drops", "ClickLog", "SerpMatrix", "LogSummary",
    "RowNumbers", "aggregate", "concat",
]

SESSION, POSITION, CLICK = "session", "position", "click"
TIMESTAMP, DWELL = "timestamp", "dwell"
ORIGINAL_POSITION, RANKER = "original_position", "ranker"

CLICK_LOG = (SESSION, QID, DOCID, POSITION, CLICK)
OPTIONAL_COLUMNS = (TIMESTAMP, DWELL, QUERY_TIME, ORIGINAL_POSITION, RANKER)
_ID_COLUMNS = (SESSION, QID, DOCID)

DROP_RULES = {
    "clicks_not_shown": "clicks on a document that was not shown in the SERP: dropped",
    "repeated_clicks": "repeated clicks on one shown document of a SERP: collapsed into one click",
    "duplicate_impressions": "repeated rows of one impression (SERP, position, docid) without a further "
                             "click: collapsed into one row",
    "unshown_rows": "rows without a position and without a click: dropped",
}
"""What each drop counter counts and what was done (the declared rules)."""


@dataclass(frozen=True)
class Drops:
    """How often each declared rule (:data:`DROP_RULES`) was applied while reading a log.

    ``serps_with_*`` count the SERPs where the rule applied at least once; ``ignored_columns`` names the
    columns that are not part of the data model and were not kept.
    """

    clicks_not_shown: int = 0
    serps_with_clicks_not_shown: int = 0
    repeated_clicks: int = 0
    serps_with_repeated_clicks: int = 0
    duplicate_impressions: int = 0
    unshown_rows: int = 0
    ignored_columns: tuple = ()

    def to_dict(self) -> dict:
        return {f.name: (list(getattr(self, f.name)) if f.name == "ignored_columns" else getattr(self, f.name))
                for f in fields(self)}

    def lines(self) -> list[str]:
        """One human-readable line per rule that applied (empty when the log was clean)."""
        out = []
        if self.clicks_not_shown:
            out.append(f"{self.clicks_not_shown:,} clicks on documents not shown (in "
                       f"{self.serps_with_clicks_not_shown:,} SERPs): dropped")
        if self.repeated_clicks:
            out.append(f"{self.repeated_clicks:,} repeated clicks (in {self.serps_with_repeated_clicks:,} SERPs): "
                       f"collapsed into one click per document")
        if self.duplicate_impressions:
            out.append(f"{self.duplicate_impressions:,} repeated impression rows: collapsed")
        if self.unshown_rows:
            out.append(f"{self.unshown_rows:,} rows without a position or a click: dropped")
        if self.ignored_columns:
            out.append(f"columns not in the data model, not kept: {list(self.ignored_columns)}")
        return out


def _fail(message: str, *, path=None, lines=None, row=None):
    """ParseError naming file and line when the log came from a file, else DataError naming the row.

    ``lines`` holds the file line of each row; for a columnar file (Parquet) pass ``lines`` as a
    :class:`RowNumbers` so that the message says "row N" instead of a line.
    """
    if path is not None:
        if isinstance(lines, RowNumbers) and row is not None:
            return ParseError(f"row {int(lines[row])}: {message}", path=str(path))
        line = None if lines is None or row is None else int(lines[row])
        return ParseError(message, path=str(path), line=line)
    where = f"row {int(row)}: " if row is not None else ""
    return DataError(where + message)


class RowNumbers(np.ndarray):
    """1-based row numbers of a columnar file (errors say "row N", not "line N")."""

    def __new__(cls, n: int):
        return np.arange(1, n + 1).view(cls)


def _show(value):
    return value.item() if isinstance(value, np.generic) else value


def _serp_name(session, qid) -> str:
    return f"SERP (session {session!r}, qid {qid!r})"


def _to_str(obj: np.ndarray) -> np.ndarray:
    """Object array of ids with every value a str (integer ids from Parquet/JSON print as integers)."""
    if len(obj) == 0 or pd.api.types.infer_dtype(obj, skipna=False) == "string":
        return obj
    nonstr = ~np.fromiter((type(v) is str for v in obj), bool, len(obj))
    if nonstr.any():
        def fmt(v):
            if isinstance(v, (float, np.floating)) and float(v).is_integer():
                return str(int(v))
            return str(v)
        obj = obj.copy()
        obj[nonstr] = [fmt(v) for v in obj[nonstr]]
    return obj


def _missing_ids(values: pd.Series) -> np.ndarray:
    """True where an id is missing (None/NaN) or empty."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        bad = values.isna().to_numpy()
        empty = np.flatnonzero(np.asarray(values.cat.categories.astype(str)) == "")
        if empty.size:
            bad |= values.cat.codes.to_numpy() == int(empty[0])
        return bad
    obj = values.astype(object).to_numpy()
    return pd.isna(obj) | (obj == "")


def _as_str_ids(values: pd.Series, column: str, *, path, lines, source) -> pd.Series:
    """A column of ids as str (a Categorical stays one); missing or empty ids are refused with the row named."""
    bad = _missing_ids(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise _fail(f"{column} is empty or missing (every impression needs a {column}); {int(bad.sum())} "
                    f"such rows in {source}", path=path, lines=lines, row=row)
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories
        if pd.api.types.infer_dtype(cats, skipna=False) != "string":
            values = values.cat.rename_categories(list(_to_str(np.asarray(cats, dtype=object))))
        return values
    return pd.Series(_to_str(values.astype(object).to_numpy()), dtype=object)


def _is_text(values: pd.Series) -> bool:
    """Object or string dtype (pandas 3 reads ``dtype=str`` as its own string dtype)."""
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def _by_value(values: pd.Series, convert) -> pd.Series:
    """Apply ``convert`` to the distinct values only (a column of a few distinct strings, fast)."""
    codes, uniq = pd.factorize(values, sort=False, use_na_sentinel=True)
    converted = convert(pd.Series(np.asarray(uniq, dtype=object)))
    out = np.full(len(values), np.nan)
    ok = codes >= 0
    out[ok] = np.asarray(converted, dtype=np.float64)[codes[ok]]
    return pd.Series(out)


def _positions(values: pd.Series, *, path, lines, source, sessions) -> np.ndarray:
    """Positions as float64 with NaN for 'not shown'; refuses 0, negatives and non-integers."""
    if _is_text(values):
        values = values.astype(object)
        num = _by_value(values.replace("", np.nan), lambda u: pd.to_numeric(u, errors="coerce"))
        unparsable = num.isna().to_numpy() & values.notna().to_numpy() & (values.to_numpy() != "")
        if unparsable.any():
            row = int(np.flatnonzero(unparsable)[0])
            raise _fail(f"position {values.iloc[row]!r} of session {sessions.iloc[row]!r} is not an integer; "
                        f"positions are 1-based ranks (1, 2, ...)", path=path, lines=lines, row=row)
        values = num
    pos = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    shown = ~np.isnan(pos)
    bad = shown & ((pos < 1) | (pos != np.round(pos)) | ~np.isfinite(pos))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = pos[row]
        shown_value = int(value) if np.isfinite(value) and value == round(value) else value
        what = "0 or negative" if value < 1 else "not an integer"
        raise _fail(f"position {shown_value} of session {sessions.iloc[row]!r} is {what}; positions are 1-based "
                    f"ranks (1 = top). A 0-based log needs position + 1", path=path, lines=lines, row=row)
    return pos


def _clicks(values: pd.Series, *, path, lines, source, sessions) -> np.ndarray:
    raw = values
    if _is_text(values):
        values = _by_value(values.astype(object), lambda u: pd.to_numeric(
            u.replace({"": np.nan, "true": 1, "false": 0, "True": 1, "False": 0, True: 1, False: 0}),
            errors="coerce"))
    if values.dtype == bool:
        return values.to_numpy().astype(np.int8)
    c = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~((c == 0) | (c == 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise _fail(f"click {_show(raw.iloc[row])!r} of session {sessions.iloc[row]!r} is not 0 or 1 (a click log marks "
                    f"each impression clicked (1) or not (0); count repeated clicks as one)", path=path,
                    lines=lines, row=row)
    return c.astype(np.int8)


@dataclass(frozen=True)
class LogSummary:
    """Counts of a click log: sessions, SERPs, queries, clicks, CTR by position, rules applied."""

    source: str
    sessions: int
    serps: int
    queries: int
    documents: int
    pairs: int
    impressions: int
    clicks: int
    serps_without_clicks: int
    distinct_rankings: int
    pairs_at_several_positions: int
    ctr_by_position: pd.DataFrame = field(repr=False)
    drops: Drops = field(default_factory=Drops)

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else float("nan")

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("ctr_by_position", "drops")}
        out["ctr"] = self.ctr
        out["ctr_by_position"] = [float(v) for v in self.ctr_by_position["ctr"]]
        out["drops"] = self.drops.to_dict()
        return out

    def rows(self) -> list[tuple[str, str]]:
        """(what, value) pairs for a report table."""
        rows = [("sessions", f"{self.sessions:,}"), ("SERPs (session, query)", f"{self.serps:,}"),
                ("queries", f"{self.queries:,}"), ("documents", f"{self.documents:,}"),
                ("query-document pairs", f"{self.pairs:,}"),
                ("pairs shown at two or more positions", f"{self.pairs_at_several_positions:,}"),
                ("distinct (query, ranking)", f"{self.distinct_rankings:,}"),
                ("impressions", f"{self.impressions:,}"), ("clicks", f"{self.clicks:,}"),
                ("CTR", f"{self.ctr:.4f}"), ("SERPs without a click", f"{self.serps_without_clicks:,}")]
        d = self.drops
        rows += [("clicks on documents not shown (dropped)",
                  f"{d.clicks_not_shown:,} in {d.serps_with_clicks_not_shown:,} SERPs"),
                 ("repeated clicks (collapsed)", f"{d.repeated_clicks:,} in {d.serps_with_repeated_clicks:,} SERPs"),
                 ("repeated impression rows (collapsed)", f"{d.duplicate_impressions:,}"),
                 ("rows without position or click (dropped)", f"{d.unshown_rows:,}")]
        if d.ignored_columns:
            rows.append(("columns not kept", ", ".join(d.ignored_columns)))
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        lines = [f"click log {self.source}"] + [f"  {k:<{width}}  {v}" for k, v in self.rows()]
        ctr = " ".join(f"{v:.4f}" for v in self.ctr_by_position["ctr"])
        lines.append(f"  {'CTR by position':<{width}}  {ctr}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class SerpMatrix:
    """The SERPs of a log as dense arrays, one row per SERP (what the click models compute on).

    Attributes
    ----------
    pair : ndarray of shape (n_serps, max_len), int64
        Index into ``pair_qid`` / ``pair_docid`` of the document at each position; -1 past the SERP's end.
    click : ndarray of shape (n_serps, max_len), bool
    length : ndarray of shape (n_serps,), int64
        Number of positions shown (positions 1..length, no gaps).
    query : ndarray of shape (n_serps,), int64
        Index into ``queries``.
    queries, pair_qid, pair_docid : ndarray of str
        Pairs are numbered in order of first appearance.
    """

    pair: np.ndarray
    click: np.ndarray
    length: np.ndarray
    query: np.ndarray
    queries: np.ndarray
    pair_qid: np.ndarray
    pair_docid: np.ndarray

    @property
    def n_serps(self) -> int:
        return self.pair.shape[0]

    @property
    def max_len(self) -> int:
        return self.pair.shape[1]

    @property
    def n_pairs(self) -> int:
        return len(self.pair_qid)

    @cached_property
    def mask(self) -> np.ndarray:
        """True where a position is shown."""
        return np.arange(self.max_len)[None, :] < self.length[:, None]

    def take(self, rows) -> "SerpMatrix":
        """The SERPs ``rows`` (same pair and query tables)."""
        rows = np.asarray(rows)
        return SerpMatrix(pair=self.pair[rows], click=self.click[rows], length=self.length[rows],
                          query=self.query[rows], queries=self.queries, pair_qid=self.pair_qid,
                          pair_docid=self.pair_docid)


class ClickLog:
    """A validated click log: impressions in display order, with the rules applied counted.

    Build one with :meth:`from_frame` (validates), a reader (:func:`ltr.clicks.read_clicks`) or a simulator.

    Attributes
    ----------
    frame : DataFrame
        Columns :data:`CLICK_LOG` (plus any optional columns present): ``session``, ``qid`` and ``docid`` as
        pandas Categoricals of str (10^7 impressions would otherwise be 3 * 10^7 Python strings),
        ``position`` int32 (1-based), ``click`` int8. Grouped by SERP, sorted by position inside a SERP.
    drops : Drops
        How often each declared rule applied (:data:`DROP_RULES`).
    source : str
        Where the log came from (a path, ``"frame"``, ``"simulated(...)"``).
    """

    def __init__(self, frame: pd.DataFrame, *, drops: Drops | None = None, source: str = "frame",
                 _trusted: bool = False):
        if not _trusted:
            other = ClickLog.from_frame(frame, source=source)
            frame, drops = other.frame, other.drops if drops is None else drops
        self._frame = frame
        self._matrix: SerpMatrix | None = None
        self._extra: dict = {}
        self._session_ids = None
        self._matrix_born = False
        self.drops = drops if drops is not None else Drops()
        self.source = source

    @property
    def frame(self) -> pd.DataFrame:
        """The impressions (built on first use for logs made from a SERP matrix, e.g. simulated ones)."""
        if self._frame is None:
            self._frame = self._frame_from_matrix()
        return self._frame

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "frame", path=None, lines=None) -> "ClickLog":
        """Validate a frame of impressions and apply the declared rules.

        Parameters
        ----------
        frame : DataFrame
            Columns :data:`CLICK_LOG`, optionally :data:`OPTIONAL_COLUMNS`. ``position`` may be missing
            (NaN/None/empty) on a row that records a click on a document that was not shown.
        source : str
            Name used in messages and in the summary.
        path : str, optional
            The file the frame was read from; errors are then :class:`~ltr.errors.ParseError` naming it.
        lines : array of int, optional
            File line of each row (with ``path``).

        Raises
        ------
        SchemaError
            A required column is missing.
        ParseError or DataError
            A malformed row or SERP (see the module docstring); names the line (or row) and session.
        """
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"a click log needs a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in CLICK_LOG if c not in frame.columns]
        if missing:
            raise SchemaError(f"a click log needs columns {missing} (found {list(frame.columns)}); the columns "
                              f"are {list(CLICK_LOG)} plus optional {list(OPTIONAL_COLUMNS)}")
        ignored = tuple(str(c) for c in frame.columns if c not in CLICK_LOG and c not in OPTIONAL_COLUMNS)
        keep_optional = [c for c in OPTIONAL_COLUMNS if c in frame.columns]
        df = frame.reset_index(drop=True)
        n = len(df)
        if lines is not None and not isinstance(lines, RowNumbers):
            lines = np.asarray(lines)
        kw = dict(path=path, lines=lines, source=source)
        # Step 1: ids, positions and clicks, each refused with the row named
        ids = {c: _as_str_ids(df[c], c, **kw) for c in (SESSION, QID)}
        sessions = ids[SESSION]
        pos = _positions(df[POSITION], sessions=pd.Series(sessions), **kw)
        clk = _clicks(df[CLICK], sessions=pd.Series(sessions), **kw)
        shown = ~np.isnan(pos)
        doc_missing = _missing_ids(df[DOCID])
        bad_doc = doc_missing & shown
        if bad_doc.any():
            row = int(np.flatnonzero(bad_doc)[0])
            raise _fail(f"docid is empty at position {int(pos[row])} of session {sessions.iloc[row]!r}; every "
                        f"impression needs a document id", path=path, lines=lines, row=row)

        # Step 2: SERP keys (session, qid), numbered in order of first appearance
        s_codes, s_uniq = pd.factorize(ids[SESSION], sort=False)
        q_codes, q_uniq = pd.factorize(ids[QID], sort=False)
        serp_key = s_codes.astype(np.int64) * max(len(q_uniq), 1) + q_codes
        serp, serp_first = pd.factorize(serp_key, sort=False)
        n_serps = len(serp_first)

        # Step 3: rows that show nothing: clicks on documents not shown are dropped and counted
        not_shown = ~shown
        clicks_not_shown = int((clk[not_shown] == 1).sum())
        serps_cns = int(len(np.unique(serp[not_shown & (clk == 1)])))
        unshown_rows = int((clk[not_shown] == 0).sum())
        has_shown = np.zeros(n_serps, bool)
        has_shown[serp[shown]] = True
        if not has_shown.all():
            first = int(np.flatnonzero(~has_shown)[0])
            row = int(np.flatnonzero(serp == first)[0])
            raise _fail(f"empty SERP: {_serp_name(sessions.iloc[row], ids[QID].iloc[row])} shows no document "
                        f"(every row lacks a position); drop zero-result SERPs before logging, or give the "
                        f"positions of the documents shown", path=path, lines=lines, row=row)
        rows = np.flatnonzero(shown)
        pos_i = pos[rows].astype(np.int64)
        doc_values = df[DOCID].iloc[rows]
        if isinstance(doc_values.dtype, pd.CategoricalDtype):
            d_codes, d_uniq = pd.factorize(doc_values, sort=False)
            d_uniq = _to_str(np.asarray(d_uniq, dtype=object))
        else:
            d_codes, d_uniq = pd.factorize(_to_str(doc_values.astype(object).to_numpy()), sort=False)
        serp_r = serp[rows]
        clk_r = clk[rows]

        # Step 4: repeated rows of one impression (SERP, position, docid): collapse, count repeated clicks
        # by SERP, position, then file order (logs written by ltr already are: no sort then)
        same_serp = serp_r[1:] == serp_r[:-1]
        if np.all((serp_r[1:] > serp_r[:-1]) | (same_serp & (pos_i[1:] > pos_i[:-1]))):
            order = np.arange(len(rows))
        else:
            order = np.lexsort((rows, pos_i, serp_r))
        serp_o, pos_o, doc_o, clk_o, rows_o = serp_r[order], pos_i[order], d_codes[order], clk_r[order], rows[order]
        same_imp = np.r_[False, (serp_o[1:] == serp_o[:-1]) & (pos_o[1:] == pos_o[:-1]) & (doc_o[1:] == doc_o[:-1])]
        repeated_clicks = duplicate_impressions = serps_rc = 0
        if same_imp.any():
            start = ~same_imp
            group = np.cumsum(start) - 1
            total = np.bincount(group, weights=clk_o).astype(np.int64)
            count = np.bincount(group).astype(np.int64)
            first_click = np.maximum.reduceat(clk_o, np.flatnonzero(start)).astype(np.int64)
            extra_clicks = total - first_click
            repeated_clicks = int(extra_clicks.sum())
            duplicate_impressions = int((count - 1 - extra_clicks).sum())
            serps_rc = int(len(np.unique(serp_o[start][extra_clicks > 0])))
            keep = np.flatnonzero(start)
            serp_o, pos_o, doc_o, rows_o = serp_o[keep], pos_o[keep], doc_o[keep], rows_o[keep]
            clk_o = first_click.astype(np.int8)

        # Step 5: one document per position, one position per document, no gaps
        same_pos = np.flatnonzero((serp_o[1:] == serp_o[:-1]) & (pos_o[1:] == pos_o[:-1]))
        if same_pos.size:
            i = int(same_pos[0])
            r1, r2 = int(rows_o[i]), int(rows_o[i + 1])
            unit = "row" if lines is None or isinstance(lines, RowNumbers) else "line"
            where2 = f" ({unit} {int(lines[r2]) if lines is not None else r2})"
            raise _fail(f"two documents at position {int(pos_o[i])} of {_serp_name(sessions.iloc[r1], ids[QID].iloc[r1])}: "
                        f"{d_uniq[doc_o[i]]!r} and {d_uniq[doc_o[i + 1]]!r}{where2}; a SERP shows one document per "
                        f"position (give repeated SERPs of a session distinct session ids)",
                        path=path, lines=lines, row=r1)
        by_doc = np.lexsort((pos_o, doc_o, serp_o))
        dup_doc = np.flatnonzero((serp_o[by_doc][1:] == serp_o[by_doc][:-1]) & (doc_o[by_doc][1:] == doc_o[by_doc][:-1]))
        if dup_doc.size:
            a, b = by_doc[int(dup_doc[0])], by_doc[int(dup_doc[0]) + 1]
            r1 = int(rows_o[a])
            raise _fail(f"document {d_uniq[doc_o[a]]!r} is shown twice in {_serp_name(sessions.iloc[r1], ids[QID].iloc[r1])}, "
                        f"at positions {int(pos_o[a])} and {int(pos_o[b])}; a SERP shows each document once",
                        path=path, lines=lines, row=r1)
        starts = np.flatnonzero(np.r_[True, serp_o[1:] != serp_o[:-1]])
        lengths = np.diff(np.r_[starts, len(serp_o)])
        within = np.arange(len(serp_o)) - np.repeat(starts, lengths)
        gap = np.flatnonzero(pos_o != within + 1)
        if gap.size:
            i = int(gap[0])
            g = int(np.searchsorted(starts, i, side="right") - 1)
            shown_pos = pos_o[starts[g]:starts[g] + lengths[g]].tolist()
            r1 = int(rows_o[i])
            raise _fail(f"positions of {_serp_name(sessions.iloc[r1], ids[QID].iloc[r1])} are {shown_pos}: a SERP must "
                        f"show positions 1..{lengths[g]} without gaps (renumber the positions shown, or keep the "
                        f"rows that were filtered out)", path=path, lines=lines, row=r1)

        # Step 6: the canonical frame, SERPs in order of first appearance (serp codes already are)
        out = pd.DataFrame({
            SESSION: pd.Categorical.from_codes(s_codes[rows_o], categories=pd.Index(s_uniq, dtype=object)),
            QID: pd.Categorical.from_codes(q_codes[rows_o], categories=pd.Index(q_uniq, dtype=object)),
            DOCID: pd.Categorical.from_codes(doc_o, categories=pd.Index(d_uniq, dtype=object)),
            POSITION: pos_o.astype(np.int32),
            CLICK: clk_o.astype(np.int8),
        })
        for c in keep_optional:
            col = df[c].iloc[rows_o].reset_index(drop=True)
            if _is_text(col):
                col = col.astype(object).replace("", None)
            if c == ORIGINAL_POSITION:
                num = pd.to_numeric(col, errors="coerce")
                bad = num.isna().to_numpy() & col.notna().to_numpy()
                bad |= num.notna().to_numpy() & ((num.to_numpy(dtype=float, na_value=1.0) < 1)
                                                 | (num.to_numpy(dtype=float, na_value=1.0) % 1 != 0))
                if bad.any():
                    row = int(rows_o[np.flatnonzero(bad)[0]])
                    raise _fail(f"original_position {_show(col.iloc[int(np.flatnonzero(bad)[0])])!r} of session "
                                f"{sessions.iloc[row]!r} is not a 1-based position", path=path, lines=lines, row=row)
                col = num.astype("Int32")
            elif c == DWELL:
                num = pd.to_numeric(col, errors="coerce")
                bad = num.isna().to_numpy() & col.notna().to_numpy()
                if bad.any():
                    row = int(rows_o[np.flatnonzero(bad)[0]])
                    raise _fail(f"dwell {_show(col.iloc[int(np.flatnonzero(bad)[0])])!r} of session "
                                f"{sessions.iloc[row]!r} is not a number", path=path, lines=lines, row=row)
                col = num.astype(np.float64)
            elif c == RANKER:
                names = _to_str(col.astype(object).fillna("").to_numpy())
                col = pd.Categorical(names, categories=pd.Index(sorted(set(names)), dtype=object))
            else:
                # timestamp, query_time: kept as text, not interpreted (the same in every file format)
                obj = col.astype(object)
                missing = obj.isna().to_numpy()
                col = pd.Series(np.where(missing, None, _to_str(obj.where(~missing, "").to_numpy())), dtype=object)
            out[c] = col
        drops = Drops(clicks_not_shown=clicks_not_shown, serps_with_clicks_not_shown=serps_cns,
                      repeated_clicks=repeated_clicks, serps_with_repeated_clicks=serps_rc,
                      duplicate_impressions=duplicate_impressions, unshown_rows=unshown_rows,
                      ignored_columns=ignored)
        return cls(out, drops=drops, source=source, _trusted=True)

    @classmethod
    def from_serps(cls, *, sessions, qids, docids, clicks, lengths, drops: Drops | None = None,
                   source: str = "serps", extra: dict | None = None) -> "ClickLog":
        """Build a log from SERPs already known to be valid (simulators, the Yandex reader).

        ``docids`` and ``clicks`` are flat, in display order, ``lengths`` says how many belong to each SERP;
        ``sessions`` and ``qids`` have one entry per SERP (str arrays or Categoricals). Checks only that the
        sizes agree; the caller guarantees one document per position and no repeats.
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        total = int(lengths.sum())
        if len(docids) != total or len(clicks) != total:
            raise DataError(f"SERP lengths sum to {total} but there are {len(docids)} docids and {len(clicks)} "
                            f"clicks; this is a bug in ltr; please report it.")
        starts = np.cumsum(lengths) - lengths
        position = (np.arange(total) - np.repeat(starts, lengths) + 1).astype(np.int32)
        frame = pd.DataFrame({
            SESSION: _repeat_categorical(sessions, lengths),
            QID: _repeat_categorical(qids, lengths),
            DOCID: docids if isinstance(docids, pd.Categorical) else pd.Categorical(np.asarray(docids, dtype=object)),
            POSITION: position,
            CLICK: np.asarray(clicks, dtype=np.int8),
        })
        for name, values in (extra or {}).items():
            frame[name] = values
        return cls(frame, drops=drops or Drops(), source=source, _trusted=True)

    @classmethod
    def from_matrix(cls, serps: "SerpMatrix", *, session_ids=None, extra: dict | None = None,
                    drops: Drops | None = None, source: str = "serps") -> "ClickLog":
        """A log whose SERPs are already a valid :class:`SerpMatrix` (the simulators' fast path).

        The impression frame is built only when first used. ``session_ids`` (one per SERP; default
        ``"0"``, ``"1"``, ...) and ``extra`` (column name -> array of shape (n_serps, max_len), or
        ``(codes of shape (n_serps,), categories)`` for a per-SERP categorical such as ``ranker``) are
        attached to the impressions then.
        """
        log = cls(None, drops=drops, source=source, _trusted=True)
        log._matrix = serps
        log._matrix_born = True
        log._extra = dict(extra or {})
        log._session_ids = session_ids
        return log

    def _frame_from_matrix(self) -> pd.DataFrame:
        m = self._matrix
        mask = m.mask
        n = m.n_serps
        serp_of = np.repeat(np.arange(n), m.length)
        if self._session_ids is None:
            sess_cats = pd.Index(np.arange(n).astype(str), dtype=object)
            sess = pd.Categorical.from_codes(serp_of, categories=sess_cats)
        else:
            sess = _repeat_categorical(self._session_ids, m.length)
        d_codes, d_uniq = pd.factorize(np.asarray(m.pair_docid, dtype=object), sort=False)
        pair_flat = m.pair[mask]
        used = np.zeros(len(d_uniq), dtype=bool)
        doc_of_imp = d_codes[pair_flat]
        used[doc_of_imp] = True
        remap = np.cumsum(used) - 1
        frame = pd.DataFrame({
            SESSION: sess,
            QID: pd.Categorical.from_codes(m.query[serp_of], categories=pd.Index(m.queries, dtype=object)),
            DOCID: pd.Categorical.from_codes(remap[doc_of_imp], categories=pd.Index(np.asarray(d_uniq)[used],
                                                                                       dtype=object)),
            POSITION: np.nonzero(mask)[1].astype(np.int32) + 1,
            CLICK: m.click[mask].astype(np.int8),
        })
        for name, values in self._extra.items():
            if isinstance(values, tuple):
                codes, cats = values
                frame[name] = pd.Categorical.from_codes(np.repeat(codes, m.length),
                                                        categories=pd.Index(cats, dtype=object))
            elif name == ORIGINAL_POSITION:
                frame[name] = pd.array(values[mask].astype(np.int32), dtype="Int32")
            else:
                frame[name] = values[mask]
        return frame

    # -- views ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        if self._frame is None:
            return int(self._matrix.length.sum())
        return len(self._frame)

    def __repr__(self) -> str:
        return f"ClickLog({self.source!r}: {self.n_serps:,} SERPs, {len(self):,} impressions)"

    @cached_property
    def _serp_starts(self) -> np.ndarray:
        pos = self.frame[POSITION].to_numpy()
        return np.flatnonzero(pos == 1)

    @property
    def n_serps(self) -> int:
        if self._frame is None:
            return self._matrix.n_serps
        return len(self._serp_starts)

    def serp_sizes(self) -> np.ndarray:
        """Rows per SERP, in row order (the group sizes of a ranking dataset built on the impressions)."""
        if self._frame is None:
            return self._matrix.length.astype(np.int64)
        return np.diff(np.r_[self._serp_starts, len(self.frame)]).astype(np.int64)

    def to_frame(self, *, categorical: bool = True) -> pd.DataFrame:
        """The impressions; with ``categorical=False`` the id columns are object columns of str."""
        if categorical:
            return self.frame.copy()
        out = self.frame.copy()
        for c in (SESSION, QID, DOCID, RANKER):
            if c in out.columns:
                out[c] = out[c].astype(object)
        return out

    @property
    def serps(self) -> SerpMatrix:
        """The dense SERP matrix (computed once)."""
        if self._matrix is None:
            self._matrix = self._matrix_from_frame()
        return self._matrix

    def _matrix_from_frame(self) -> SerpMatrix:
        f = self.frame
        sizes = self.serp_sizes()
        n, width = len(sizes), int(sizes.max()) if len(sizes) else 0
        q_codes = f[QID].cat.codes.to_numpy().astype(np.int64)
        d_codes = f[DOCID].cat.codes.to_numpy().astype(np.int64)
        n_docs = max(len(f[DOCID].cat.categories), 1)
        pair_flat, pair_first = pd.factorize(q_codes * n_docs + d_codes, sort=False)
        pair_first = np.asarray(pair_first, dtype=np.int64)
        qcats = np.asarray(f[QID].cat.categories, dtype=object)
        dcats = np.asarray(f[DOCID].cat.categories, dtype=object)
        pair = np.full((n, width), -1, dtype=np.int64)
        click = np.zeros((n, width), dtype=bool)
        serp_of_row = np.repeat(np.arange(n), sizes)
        col = f[POSITION].to_numpy().astype(np.int64) - 1
        pair[serp_of_row, col] = pair_flat
        click[serp_of_row, col] = f[CLICK].to_numpy().astype(bool)
        query_codes = q_codes[self._serp_starts] if n else np.zeros(0, np.int64)
        # queries renumbered in order of first appearance among SERPs
        query, query_uniq = pd.factorize(query_codes, sort=False)
        return SerpMatrix(pair=pair, click=click, length=sizes, query=query.astype(np.int64),
                          queries=qcats[np.asarray(query_uniq, dtype=np.int64)],
                          pair_qid=qcats[pair_first // n_docs], pair_docid=dcats[pair_first % n_docs])

    def ctr_by_position(self) -> pd.DataFrame:
        """Per position: SERPs showing it, clicks there and the click-through rate."""
        m = self.serps
        width = int(m.length.max()) if m.n_serps else 0
        shown = m.mask[:, :width].sum(axis=0).astype(np.int64)
        clicks = (m.click & m.mask)[:, :width].sum(axis=0).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            ctr = clicks / shown
        return pd.DataFrame({POSITION: np.arange(1, width + 1), "impressions": shown, "clicks": clicks, "ctr": ctr})

    def summary(self) -> LogSummary:
        """Sessions, SERPs, queries, documents, clicks, CTR by position and the rules applied.

        Computed on the SERP matrix (a simulated log does not build its frame for it).
        """
        m = self.serps
        mask = m.mask
        serp_clicks = (m.click & mask).sum(axis=1)
        # distinct rankings: SERPs with equal (query, pair sequence)
        key = np.concatenate([m.query[:, None], m.pair], axis=1)
        distinct = len(np.unique(key, axis=0)) if len(key) else 0
        pair_pos = np.unique(m.pair[mask].astype(np.int64) * max(m.max_len, 1) + np.nonzero(mask)[1])
        several = int((np.bincount(pair_pos // max(m.max_len, 1)) > 1).sum()) if len(pair_pos) else 0
        shown_pairs = np.unique(m.pair[mask])
        if self._frame is not None:
            sessions = int(self._frame[SESSION].nunique())
        elif self._session_ids is None:
            sessions = m.n_serps
        else:
            sessions = int(pd.Series(np.asarray(self._session_ids, dtype=object)).nunique())
        return LogSummary(source=self.source, sessions=sessions, serps=m.n_serps,
                          queries=len(np.unique(m.query)),
                          documents=int(pd.Series(m.pair_docid[shown_pairs]).nunique()),
                          pairs=len(shown_pairs), impressions=int(mask.sum()), clicks=int(serp_clicks.sum()),
                          serps_without_clicks=int((serp_clicks == 0).sum()), distinct_rankings=int(distinct),
                          pairs_at_several_positions=several, ctr_by_position=self.ctr_by_position(),
                          drops=self.drops)


def _repeat_categorical(values, lengths: np.ndarray) -> pd.Categorical:
    if isinstance(values, pd.Categorical):
        return pd.Categorical.from_codes(np.repeat(values.codes, lengths), categories=values.categories)
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), sort=False)
    return pd.Categorical.from_codes(np.repeat(codes, lengths), categories=pd.Index(uniq, dtype=object))


def concat(logs, *, keys=None) -> ClickLog:
    """One log from several (e.g. the logs of two rankers, for intervention harvesting).

    Session ids become ``"<key>/<session>"`` so that logs numbered alike (simulated ones start at ``"0"``)
    do not merge their SERPs; ``keys`` default to ``"0"``, ``"1"``, ... A log without a ``ranker`` column
    gets its key as ranker. Drop counts are summed.
    """
    logs = list(logs)
    if not logs:
        raise DataError("concat: no logs given")
    keys = [str(k) for k in (keys if keys is not None else range(len(logs)))]
    if len(keys) != len(logs) or len(set(keys)) != len(keys):
        raise DataError(f"concat: need {len(logs)} distinct keys, got {keys}")
    frames = []
    for key, log in zip(keys, logs):
        f = log.to_frame(categorical=False)
        f[SESSION] = key + "/" + f[SESSION].astype(str)
        if RANKER not in f.columns:
            f[RANKER] = key
        frames.append(f)
    out = ClickLog.from_frame(pd.concat(frames, ignore_index=True), source=" + ".join(l.source for l in logs))
    totals = {name: sum(getattr(l.drops, name) for l in logs) for name in
              ("clicks_not_shown", "serps_with_clicks_not_shown", "repeated_clicks", "serps_with_repeated_clicks",
               "duplicate_impressions", "unshown_rows")}
    ignored = tuple(dict.fromkeys(c for l in logs for c in l.drops.ignored_columns))
    out.drops = Drops(**totals, ignored_columns=ignored)
    return out


def aggregate(log: ClickLog, by=(QID, DOCID, POSITION)) -> pd.DataFrame:
    """Impressions and clicks per group, e.g. per (qid, docid, position) (IPS training) or (qid, docid).

    Parameters
    ----------
    log : ClickLog
    by : sequence of column names, default ("qid", "docid", "position")
        Any of ``qid``, ``docid``, ``position``, ``session``, ``original_position``, ``ranker``.

    Returns
    -------
    DataFrame
        The ``by`` columns (ids as str), then ``impressions`` (int64) and ``clicks`` (int64); groups in
        order of first appearance (sorted by the codes of the ``by`` columns).
    """
    by = list(by)
    f = log.frame
    missing = [c for c in by if c not in f.columns]
    if missing:
        raise SchemaError(f"aggregate: the log has no columns {missing} (found {list(f.columns)})")
    grouped = f.groupby(by, observed=True, sort=True)[CLICK].agg(["size", "sum"]).reset_index()
    grouped = grouped.rename(columns={"size": "impressions", "sum": "clicks"})
    for c in by:
        if isinstance(grouped[c].dtype, pd.CategoricalDtype):
            grouped[c] = grouped[c].astype(object)
    grouped["impressions"] = grouped["impressions"].astype(np.int64)
    grouped["clicks"] = grouped["clicks"].astype(np.int64)
    return grouped


def as_serps(log) -> SerpMatrix:
    """The SERP matrix of a click log (or the matrix itself); anything else is a SchemaError."""
    if isinstance(log, SerpMatrix):
        return log
    if isinstance(log, ClickLog):
        return log.serps
    raise SchemaError(f"click models take a ClickLog or a SerpMatrix, got {type(log).__name__}")
