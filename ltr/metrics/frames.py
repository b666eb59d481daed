"""Evaluate a run against qrels with trec_eval's semantics; per-query long frames and their means."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ltr.errors import DataError, LabelError
from ltr.metrics import _fast
from ltr.metrics.arrays import rankings
from ltr.metrics.base import Metric, Ranking, _float32_scores, parse_metrics
from ltr.naming import select
from ltr.schema import DOCID, LABEL, QID, QRELS, RUN, SCORE, require_columns

#: What happens to queries of the qrels that the run lacks.
#: 'skip': not evaluated (trec_eval's default); 'zero': evaluated as an empty ranking (trec_eval -c),
#: which scores 0 (or the metric's ``norel`` for a query without relevant documents).
MISSING_QUERIES = {"skip": False, "zero": True}

#: Runs with at least this many rows use the numba kernels (when numba and pyarrow are installed): below
#: it the numpy path is as fast, and small evaluations do not pay the kernels' loading (about 0.4 s per
#: process from numba's cache; about 10 s the first time, when they are compiled).
FAST_MIN_ROWS = 50_000
#: Runs with at least this many rows are ranked in several threads (one range of queries each).
THREADED_MIN_ROWS = 500_000


def _ids(column: pd.Series) -> pd.Series:
    """Identifiers as strings, without touching columns that already hold them."""
    if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
        return column
    return column.astype(str)


def _numbers(column: pd.Series, what: str, error) -> np.ndarray:
    try:
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        coerced = pd.to_numeric(column, errors="coerce")
        bad = column[coerced.isna() & column.notna()].iloc[0] if (coerced.isna() & column.notna()).any() \
            else column.iloc[0]
        raise error(f"{what} must be numbers; found {bad!r} (dtype {column.dtype}). Convert the column, "
                    f"e.g. pd.to_numeric(frame[{column.name!r}])") from None


def _examples(values, n=3) -> str:
    values = list(values)
    shown = ", ".join(repr(str(v)) for v in values[:n])
    return f"[{shown}{', ...' if len(values) > n else ''}]"


def _prepare_metrics(metrics) -> tuple[list[str], list[Metric]]:
    parsed = parse_metrics(metrics, what="evaluate")
    return list(parsed), list(parsed.values())


def evaluate(qrels: pd.DataFrame, run: pd.DataFrame, metrics: Sequence[str | Metric] | str, *,
             missing_queries: str = "skip") -> pd.DataFrame:
    """Per-query values of ``metrics`` for ``run`` judged by ``qrels``, as trec_eval computes them.

    Semantics (trec_eval 9): a query is evaluated when it is in both the run and the qrels (with
    ``missing_queries='zero'``, every qrels query, as ``trec_eval -c``); retrieved documents absent from
    the qrels are non-relevant; a negative qrels label means "in the pool but not judged"; binary
    measures count label >= ``rel`` (default 1) as relevant; ties among scores equal as float32 are broken
    by docid in descending byte order (metric parameter ``ties``).

    Parameters
    ----------
    qrels : DataFrame with columns qid, docid, label
        One row per judged (query, document); labels are numbers (graded or real-valued).
    run : DataFrame with columns qid, docid, score
        One row per retrieved (query, document); higher scores rank first. Row order does not matter
        (except with ``ties='row'``).
    metrics : list of str or Metric
        Names such as ``'nDCG@10'``, ``'AP'``, ``'P(rel=2)@5'`` (see :func:`parse_metric`).
    missing_queries : {'skip', 'zero'}, default='skip'
        'skip' averages over the queries in both run and qrels (trec_eval); 'zero' also evaluates qrels
        queries missing from the run as empty rankings (trec_eval ``-c``).

    Returns
    -------
    DataFrame with columns qid (str), metric (str), value (float64)
        One row per evaluated query and metric: queries in ascending byte order of their qid, and for
        each query the metrics in the order given. ``metric`` holds the names exactly as given.

    Raises
    ------
    SchemaError
        A frame lacks a column.
    DataError
        NaN scores or labels, duplicate (qid, docid) pairs, or no query in common.
    UnknownNameError, ConfigError
        A metric name or parameter is not valid.

    Examples
    --------
    >>> qrels = pd.DataFrame({"qid": ["1", "1"], "docid": ["a", "b"], "label": [1, 0]})
    >>> run = pd.DataFrame({"qid": ["1", "1"], "docid": ["a", "b"], "score": [0.2, 0.9]})
    >>> evaluate(qrels, run, ["RR", "P@1"])
      qid metric  value
    0   1     RR    0.5
    1   1    P@1    0.0
    """
    names, parsed = _prepare_metrics(metrics)
    zero = select(MISSING_QUERIES, missing_queries, what="missing_queries rule")
    require_columns(qrels, QRELS, caller="evaluate (qrels)")
    require_columns(run, RUN, caller="evaluate (run)")

    for frame, what in ((run, "run"), (qrels, "qrels")):
        for col in (QID, DOCID):
            missing = frame[col].isna().to_numpy()
            if missing.any():
                row = int(np.flatnonzero(missing)[0])
                raise DataError(f"the {what} {'have' if what == 'qrels' else 'has'} {int(missing.sum())} "
                                f"missing {col}s, first at row {row}; "
                                f"every row needs a {col}")
    scores = _numbers(run[SCORE], "the run's scores", DataError)
    labels_q = _numbers(qrels[LABEL], "the qrels' labels", LabelError)
    if np.isnan(scores).any():
        row = int(np.flatnonzero(np.isnan(scores))[0])
        raise DataError(f"the run has {int(np.isnan(scores).sum())} NaN scores, e.g. qid "
                        f"{str(run[QID].iloc[row])!r} docid {str(run[DOCID].iloc[row])!r}; remove or fill "
                        f"them before evaluating")
    if np.isnan(labels_q).any():
        row = int(np.flatnonzero(np.isnan(labels_q))[0])
        raise LabelError(f"the qrels have {int(np.isnan(labels_q).sum())} NaN labels, e.g. qid "
                         f"{str(qrels[QID].iloc[row])!r} docid {str(qrels[DOCID].iloc[row])!r}")

    if _fast.AVAILABLE and len(run) >= FAST_MIN_ROWS and all(m.ties == "docid" for m in parsed):
        depth = max(m.cutoff for m in parsed) if all(m.cutoff is not None for m in parsed) else 0
        fast = _evaluate_fast(qrels, run, scores, labels_q, zero, depth)
        if fast is not None:
            eval_qids, ranking = fast
            return _frame(eval_qids, names, [m._values(ranking) for m in parsed])

    # Step 1: query codes shared by run and qrels (factorize the run's qids, look the qrels' up)
    run_q, q_uniques = pd.factorize(_ids(run[QID]))
    q_index = pd.Index(np.asarray(q_uniques, dtype=object))
    qrels_qid = _ids(qrels[QID])
    qrels_q = q_index.get_indexer(qrels_qid)
    qrels_only = pd.unique(qrels_qid[qrels_q < 0]) if zero else np.zeros(0, dtype=object)
    judged_codes = np.unique(qrels_q[qrels_q >= 0])
    if len(judged_codes) == 0 and len(qrels_only) == 0:
        raise DataError(f"No qids in common between the run ({len(q_uniques)} queries, e.g. "
                        f"{_examples(q_uniques)}) and the qrels ({qrels_qid.nunique()} queries, e.g. "
                        f"{_examples(pd.unique(qrels_qid))}). Check that both use the same query ids "
                        f"(they are strings: '1' and '001' differ).")

    # Step 2: the evaluated queries, in byte order of their qids; code -> evaluation index
    eval_qids = np.concatenate([np.asarray(q_uniques, dtype=object)[judged_codes],
                                np.asarray(qrels_only, dtype=object)])
    byte_order = np.argsort(np.array([q.encode("utf-8") for q in eval_qids.astype(str)], dtype=object),
                            kind="stable")
    eval_qids = eval_qids[byte_order]
    n_eval = len(eval_qids)
    code_to_eval = np.full(len(q_uniques), -1, dtype=np.int64)
    code_to_eval[judged_codes] = np.argsort(byte_order)[:len(judged_codes)]

    # Step 3: docid codes in the run; look up each run row's label (qrels as (query, doc) integer keys)
    run_d, d_uniques = pd.factorize(_ids(run[DOCID]))
    n_docs = max(len(d_uniques), 1)
    run_key = run_q.astype(np.int64) * n_docs + run_d
    key_index = pd.Index(run_key)
    if not key_index.is_unique:
        dup = key_index.duplicated(keep=False)
        first = int(np.flatnonzero(dup)[0])
        raise DataError(f"the run has {int(key_index.duplicated().sum())} duplicate (qid, docid) pairs, "
                        f"e.g. qid {str(run[QID].iloc[first])!r} docid {str(run[DOCID].iloc[first])!r}; "
                        f"trec_eval refuses them: keep one row per pair, e.g. "
                        f"run.drop_duplicates(['qid', 'docid'])")
    qrels_d = pd.Index(np.asarray(d_uniques, dtype=object)).get_indexer(_ids(qrels[DOCID]))
    in_run = (qrels_q >= 0) & (qrels_d >= 0)
    qrels_key = qrels_q[in_run].astype(np.int64) * n_docs + qrels_d[in_run]
    qkey_index = pd.Index(qrels_key)

    # Step 4: keep run rows of evaluated queries; rank them inside each query
    run_eval = code_to_eval[run_q]
    keep = np.flatnonzero(run_eval >= 0)
    qidx = run_eval[keep]
    docid_values = run[DOCID].to_numpy()
    kept_docids = docid_values[keep]

    def docid_rank(rows):
        return np.unique(np.asarray(kept_docids[rows], dtype=object).astype(str), return_inverse=True)[1]

    # Step 5: each evaluated query's pool of judged labels (>= 0), descending
    qrels_eval = np.full(len(qrels_q), -1, dtype=np.int64)
    qrels_eval[qrels_q >= 0] = code_to_eval[qrels_q[qrels_q >= 0]]
    if zero and len(qrels_only):
        only_index = pd.Index(eval_qids).get_indexer(qrels_qid[qrels_q < 0])
        qrels_eval[qrels_q < 0] = only_index
    evaluated = np.flatnonzero(qrels_eval >= 0)
    twice = pd.DataFrame({"q": qrels_eval[evaluated],
                          "d": _ids(qrels[DOCID]).to_numpy()[evaluated]}).duplicated().to_numpy()
    if twice.any():
        first = int(evaluated[np.flatnonzero(twice)[0]])
        raise DataError(f"the qrels judge a document twice, e.g. qid {str(qrels[QID].iloc[first])!r} "
                        f"docid {str(qrels[DOCID].iloc[first])!r}; keep one judgment per (qid, docid)")
    hit = qkey_index.get_indexer(run_key)
    found = hit[keep]
    row_labels = np.where(found >= 0, labels_q[in_run][np.maximum(found, 0)], np.nan)  # NaN: not in qrels
    pool_rows = np.flatnonzero((qrels_eval >= 0) & (labels_q >= 0))
    values = rankings(parsed, qidx, n_eval, scores[keep], row_labels, qrels_eval[pool_rows], labels_q[pool_rows],
                      docid_rank)
    return _frame(eval_qids, names, values)


def _frame(eval_qids, names, values) -> pd.DataFrame:
    n_eval = len(eval_qids)
    matrix = np.column_stack(values) if n_eval else np.zeros((0, len(names)))
    return pd.DataFrame({
        QID: pd.Series(np.repeat(np.asarray(eval_qids, dtype=object), len(names)), dtype=object),
        "metric": pd.Series(np.tile(np.asarray(names, dtype=object), n_eval), dtype=object),
        "value": matrix.ravel(),
    })


def _blocks(column: pd.Series):
    """The runs of equal ids of an id column: (block starts, block ends, block codes, uniques as a list of
    str), or None if the column cannot be read as strings. Queries usually come in blocks of rows, so only
    the first row of each block is hashed (pyarrow's dictionary_encode)."""
    import pyarrow.compute as pc
    arrow = _fast.arrow_strings(column)
    if arrow is None:
        return None
    offsets, data = _fast.string_buffers(column)
    ranges = _row_ranges(len(arrow), len(arrow) >= THREADED_MIN_ROWS)
    starts = np.flatnonzero(np.concatenate(_in_threads(lambda r: _fast.block_starts(offsets, data, *r), ranges)))
    encoded = pc.dictionary_encode(arrow.take(starts))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return starts, np.r_[starts[1:], len(arrow)], codes, encoded.dictionary.to_pylist()


def _query_ranges(blocks, code_map, n_eval):
    """(start, end, rows) of each evaluated query's rows: when every id is one block (a file grouped by
    query), the blocks themselves and no rows array; otherwise a stable counting sort of the rows."""
    starts, ends, codes, uniques = blocks
    ev = code_map[codes]
    if len(codes) == len(uniques):
        q_start = np.zeros(n_eval, dtype=np.int64)
        q_end = np.zeros(n_eval, dtype=np.int64)
        keep = ev >= 0
        q_start[ev[keep]] = starts[keep]
        q_end[ev[keep]] = ends[keep]
        return q_start, q_end, np.zeros(0, dtype=np.int64)
    offsets, rows = _fast.group_rows(np.repeat(ev, ends - starts), n_eval)
    return offsets[:-1], offsets[1:], rows


def _row_ranges(n: int, threaded: bool) -> list[tuple[int, int]]:
    """[lo, hi) ranges of n rows, one per thread when ``threaded``, else one."""
    bounds = np.linspace(0, n, (_fast.threads() if threaded else 1) + 1).astype(np.int64).tolist()
    return list(zip(bounds[:-1], bounds[1:]))


def _split(sizes: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Contiguous ranges of queries with about equal numbers of rows."""
    if parts <= 1 or len(sizes) < 2 * parts:
        return [(0, len(sizes))]
    cum = np.cumsum(sizes)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, parts) / parts)
    bounds = np.unique(np.r_[0, cuts, len(sizes)])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _in_threads(fn, ranges):
    """[fn(r) for r in ranges], in one thread per range when there are several (fn releases the GIL)."""
    if len(ranges) == 1:
        return [fn(ranges[0])]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(ranges)) as pool:
        return list(pool.map(fn, ranges))


def _evaluate_fast(qrels, run, scores, labels_q, zero, depth):
    """The 'docid'-ties Ranking via the numba kernels; None when they cannot be used (the numpy path
    then computes the same result or raises the error)."""
    parts = [_blocks(_ids(run[QID])), _fast.string_buffers(_ids(run[DOCID])),
             _blocks(_ids(qrels[QID])), _fast.string_buffers(_ids(qrels[DOCID]))]
    if any(p is None for p in parts):
        return None
    run_blocks, (doff, ddata), qrels_blocks, (qoff, qdata) = parts
    run_uniques, qrels_uniques = run_blocks[3], qrels_blocks[3]
    in_run = set(run_uniques)
    in_qrels = set(qrels_uniques)
    chosen = in_qrels if zero else in_run & in_qrels
    if not chosen:
        return None
    eval_qids = sorted(chosen, key=lambda q: q.encode("utf-8"))
    position = {q: i for i, q in enumerate(eval_qids)}
    run_map = np.array([position.get(q, -1) for q in run_uniques], dtype=np.int64)
    qrels_map = np.array([position.get(q, -1) for q in qrels_uniques], dtype=np.int64)
    n_eval = len(eval_qids)
    run_start, run_end, run_rows = _query_ranges(run_blocks, run_map, n_eval)
    qrels_start, qrels_end, qrels_rows = _query_ranges(qrels_blocks, qrels_map, n_eval)
    key = _float32_scores(scores)

    threaded = len(run) >= THREADED_MIN_ROWS
    qhash = np.concatenate(_in_threads(lambda r: _fast.hashes(qoff, qdata, *r), _row_ranges(len(qoff) - 1, threaded)))
    qlabels = labels_q
    if len(qrels_rows):                   # qrels not grouped by query: gather once, then read in sequence
        qhash, qlabels = qhash[qrels_rows], labels_q[qrels_rows]

    def rank(a, b):
        return _fast.rank_queries(run_start[a:b], run_end[a:b], run_rows, key, key.view(np.uint32), doff, ddata,
                                  qrels_start[a:b], qrels_end[a:b], qrels_rows, qoff, qdata, qhash, qlabels, depth)

    # queries are independent and the kernel releases the GIL: ranges of queries run in threads
    ranges = _split(run_end - run_start, _fast.threads() if threaded else 1)
    outs = _in_threads(lambda r: rank(*r), ranges)
    if any(out[6] != 0 for out in outs):
        return None
    offsets = np.concatenate([[0]] + [out[0][1:] + base for out, base in
                                      zip(outs, np.cumsum([0] + [out[0][-1] for out in outs[:-1]]))])
    pool_offsets = np.concatenate([[0]] + [out[5][1:] + base for out, base in
                                           zip(outs, np.cumsum([0] + [out[5][-1] for out in outs[:-1]]))])
    labels, judged, n_ret, pool = (np.concatenate([out[i] for out in outs]) for i in (1, 2, 3, 4))
    max_label = float(pool.max()) if len(pool) else 0.0
    ranking = Ranking(offsets=offsets.astype(np.int64), labels=labels, judged=judged,
                      pool_offsets=pool_offsets.astype(np.int64), pool_labels=pool, max_label=max_label,
                      n_retrieved=n_ret)
    return eval_qids, ranking


def aggregate(per_query: pd.DataFrame) -> pd.Series:
    """Mean of each metric over the queries of a per-query frame from :func:`evaluate`.

    Parameters
    ----------
    per_query : DataFrame with columns qid, metric, value

    Returns
    -------
    Series of float64
        Indexed by metric name, in order of first appearance in ``per_query``.

    Examples
    --------
    >>> frame = pd.DataFrame({"qid": ["1", "2"], "metric": ["AP", "AP"], "value": [0.5, 1.0]})
    >>> aggregate(frame)
    metric
    AP    0.75
    Name: value, dtype: float64
    """
    require_columns(per_query, (QID, "metric", "value"), caller="aggregate")
    order = pd.unique(per_query["metric"])
    means = per_query.groupby("metric", sort=False)["value"].mean()
    return means.reindex(order).rename("value")
