r"""All-pairs randomised Tukey HSD: which systems differ at all, with the family-wise error rate controlled.

On a queries x systems matrix :math:`X` (one row per query, one column per system; for trained systems the
per-query value averaged over seeds), with column means :math:`\bar x_j` and pairwise differences
:math:`d_{ij} = \bar x_i - \bar x_j`, the null hypothesis "the systems are exchangeable on every query" makes
every within-row permutation of :math:`X` equally likely. For each of *B* random permutations (each query's
row permuted independently) the statistic is the largest pairwise difference of the permuted column means,

.. math::
    R^* = \max_{i,j} |\bar x^*_i - \bar x^*_j| = \max_j \bar x^*_j - \min_j \bar x^*_j,

and the p-value of pair (i, j) is :math:`p_{ij} = (1 + \#\{b : R^*_b \ge |d_{ij}|\}) / (1 + B)` (Phipson &
Smyth's +1: never 0, a valid test). Comparing every pair against the distribution of the *maximum* is what
controls the probability of any false positive among all :math:`k(k-1)/2` pairs (the family-wise error
rate) at alpha, so the p-values need no further correction. When :math:`(k!)^n \le B` every permutation is
enumerated and :math:`p_{ij} = \#\{R^* \ge |d_{ij}|\} / (k!)^n` exactly.

Like the per-query tests this is conditional on the trained models (the queries are the random units).

References
----------
.. [1] B. Carterette. "Multiple testing in statistical analysis of systems-based information retrieval
   experiments." ACM TOIS 30(1), 2012. doi:10.1145/2094072.2094076
.. [2] T. Sakai. "Statistical reform in information retrieval?" SIGIR Forum 48(1), 2014;
   T. Sakai, "Laboratory Experiments in Information Retrieval", Springer 2018, sec. 4.4.
.. [3] B. Phipson, G. K. Smyth. "Permutation p-values should never be zero." 2010.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ltr.errors import DataError, SchemaError
from ltr.stats._checks import _check_resamples, _rng

__all__ = ["tukey_hsd", "tukey_matrix", "TUKEY_COLUMNS"]

#: The columns of :func:`tukey_hsd`'s frame.
TUKEY_COLUMNS = ("system_a", "system_b", "delta", "p_value")

# permutations per batch: bounds the (batch, n_queries, n_systems) work arrays to a few MB
_CELLS_PER_BATCH = 2_000_000


def _matrix(matrix, *, caller: str) -> np.ndarray:
    try:
        x = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{caller} needs a numeric (n_queries, n_systems) matrix, got {type(matrix).__name__}") from None
    if x.ndim != 2:
        raise DataError(f"{caller} needs a (n_queries, n_systems) matrix, got shape {x.shape}")
    if x.shape[1] < 2 or x.shape[0] < 1:
        raise DataError(f"{caller} needs at least 2 systems and 1 query, got shape {x.shape} "
                        f"(queries are rows, systems are columns)")
    bad = np.argwhere(~np.isfinite(x))
    if bad.size:
        q, s = bad[0]
        raise DataError(f"{caller}: the matrix holds {len(bad)} non-finite values (first at query row {q}, system "
                        f"column {s}: {x[q, s]}); pair the systems on queries that all of them have")
    return x


def _n_permutations(n: int, k: int) -> int | None:
    """(k!)^n, or None when it exceeds 2^64 (then it is never enumerated)."""
    if n * math.log(math.factorial(k)) >= 64 * math.log(2):
        return None
    return math.factorial(k) ** n


def _null_means(x: np.ndarray, n_resamples: int, seed, *, counts: bool = False, use_numba: bool = True):
    """Permuted column means (B, k) of every within-query permutation (when there are at most
    ``n_resamples``) or of ``n_resamples`` random ones; with ``counts``, also the share of queries whose
    column-a value lands in column j, (B, k, k). Returns ``(means, shares or None, method)``.

    Random permutations: per batch one ``rng.random((rows, n, G))`` driving Fisher-Yates shuffles
    (:mod:`ltr.stats._kernels`), so the stream does not depend on the batch size.
    """
    from ltr.stats import _kernels

    n, k = x.shape
    total = _n_permutations(n, k)
    batch = max(1, _CELLS_PER_BATCH // (n * k))
    if total is not None and total <= n_resamples:
        perms = np.array(list(itertools.permutations(range(k))))           # (k!, k)
        means = np.empty((total, k))
        shares = np.zeros((total, k, k)) if counts else None
        for start in range(0, total, batch):
            codes = np.arange(start, min(start + batch, total), dtype=np.int64)
            rows = slice(start, start + codes.size)
            sums = np.zeros((codes.size, k))
            for q in range(n):                                              # mixed radix: one permutation per query
                perm = perms[codes % perms.shape[0]]
                sums += x[q][perm]
                if counts:
                    for a in range(k):
                        shares[rows, a, :] += perm == a
                codes = codes // perms.shape[0]
            means[rows] = sums / n
        return means, (shares / n if counts else None), "exact"
    rng = _rng(seed)
    groups = _kernels.n_doubles(k)
    means = np.empty((n_resamples, k))
    shares = np.empty((n_resamples, k, k)) if counts else None
    for start in range(0, n_resamples, batch):
        rows = min(batch, n_resamples - start)
        u = rng.random((rows, n, groups))
        out = _kernels.permuted_sums(x, u, counts=counts, use_numba=use_numba)
        if counts:
            means[start:start + rows] = out[0] / n
            shares[start:start + rows] = out[1] / n
        else:
            means[start:start + rows] = out / n
    return means, shares, "monte-carlo"


def _count_at_least(null: np.ndarray, observed: np.ndarray, tol: float) -> np.ndarray:
    """For each observed value, the number of null values >= it (within ``tol``)."""
    null = np.sort(null)
    return null.size - np.searchsorted(null, np.asarray(observed) - tol, side="left")


def _tolerance(x: np.ndarray) -> float:
    """Values equal in exact arithmetic may differ in their last bits (see randomization_test's Notes)."""
    return 64 * x.shape[0] * np.finfo(float).eps * float(np.abs(x).max(initial=0.0))


def tukey_matrix(matrix, *, n_resamples: int = 10_000, seed=0,
                 use_numba: bool = True) -> tuple[np.ndarray, np.ndarray, str]:
    """The randomised Tukey HSD on a matrix: ``(delta, pvalues, method)``, both (k, k).

    ``delta[i, j] = mean_i - mean_j``; ``pvalues[i, j]`` is the p-value of the pair (1 on the diagonal).
    See :func:`tukey_hsd` for the frame version and the parameters; ``use_numba=False`` takes the numpy
    reference path (the same permutations, slower).
    """
    n_resamples = _check_resamples(n_resamples, "tukey_hsd")
    x = _matrix(matrix, caller="tukey_hsd")
    k = x.shape[1]
    means = x.mean(axis=0)
    delta = means[:, None] - means[None, :]
    null, _, method = _null_means(x, n_resamples, seed, use_numba=use_numba)
    ranges = null.max(axis=1) - null.min(axis=1)
    count = _count_at_least(ranges, np.abs(delta).ravel(), _tolerance(x)).reshape(k, k)
    p = count / ranges.size if method == "exact" else (count + 1) / (ranges.size + 1)
    p = np.minimum(p, 1.0)
    np.fill_diagonal(p, 1.0)
    return delta, p, method


def tukey_hsd(data, *, systems=None, value: str = "value", n_resamples: int = 10_000, seed=0):
    r"""All-pairs randomised Tukey HSD (Carterette 2012; Sakai 2014): see the module docstring.

    Parameters
    ----------
    data : pandas.DataFrame or array-like of shape (n_queries, n_systems)
        Either a long frame with columns ``system``, ``qid``, ``value`` (one value per system and query: for
        trained systems the mean over seeds; a ``metric`` column is not allowed, pass one metric at a time),
        or a matrix whose columns are systems.
    systems : sequence of str, optional
        The systems (the matrix's column names, or a subset and order of the frame's systems); default: the
        frame's systems in order of appearance, or ``s0, s1, ...`` for a matrix.
    value : str, default="value"
    n_resamples : int, default=10_000
        Random permutations (all :math:`(k!)^n` when there are no more than this).
    seed : int or numpy.random.Generator, default=0

    Returns
    -------
    pandas.DataFrame
        One row per unordered pair, in the order of ``systems``: ``system_a``, ``system_b``, ``delta``
        (mean of a - mean of b), ``p_value`` (family-wise: compare it with alpha directly). The frame's
        ``attrs`` hold ``n_queries``, ``n_resamples`` and ``method`` ("exact" or "monte-carlo").

    Raises
    ------
    DataError
        A system without a value on some query (the message names both), duplicates, non-finite values.

    Examples
    --------
    Three queries, three systems: all (3!)^3 = 216 permutations are enumerated.

    >>> x = [[0.1, 0.5, 0.5], [0.2, 0.6, 0.5], [0.3, 0.7, 0.8]]
    >>> tukey_hsd(x, systems=["bm25", "lambdarank", "ranknet"])[["system_a", "system_b", "p_value"]]
         system_a    system_b   p_value
    0        bm25  lambdarank  0.111111
    1        bm25     ranknet  0.111111
    2  lambdarank     ranknet  1.000000
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        missing = [c for c in ("system", "qid", value) if c not in data.columns]
        if missing:
            raise SchemaError(f"tukey_hsd needs columns {missing} (found {list(data.columns)})")
        if "metric" in data.columns and data["metric"].nunique(dropna=False) > 1:
            raise DataError(f"tukey_hsd tests one metric at a time; the frame holds "
                            f"{sorted(map(str, data['metric'].unique()))}: filter it on one metric")
        dup = data.duplicated(["system", "qid"])
        if dup.any():
            row = data[dup].iloc[0]
            raise DataError(f"tukey_hsd: system {row['system']!r} has two values for query {row['qid']!r}; "
                            f"average the seeds of a system per query first")
        names = list(dict.fromkeys(data["system"].tolist()))
        systems = names if systems is None else list(systems)
        unknown = [s for s in systems if s not in names]
        if unknown:
            raise DataError(f"tukey_hsd: systems {unknown} have no values (systems: {names})")
        sub = data[data["system"].isin(systems)]
        wide = sub.pivot(index="qid", columns="system", values=value)
        holes = wide.isna().to_numpy()
        if holes.any():
            q, s = np.argwhere(holes)[0]
            raise DataError(f"tukey_hsd: system {wide.columns[s]!r} has no value for query {wide.index[q]!r} "
                            f"({int(holes.sum())} missing in all); every system needs a value on every query")
        matrix = wide[systems].to_numpy(dtype=np.float64)
    else:
        matrix = _matrix(data, caller="tukey_hsd")
        systems = [f"s{j}" for j in range(matrix.shape[1])] if systems is None else list(systems)
        if len(systems) != matrix.shape[1]:
            raise DataError(f"tukey_hsd: {len(systems)} system names for a matrix of {matrix.shape[1]} columns")
    if len(set(systems)) != len(systems):
        raise DataError(f"tukey_hsd: system names repeat: {systems}")
    delta, p, method = tukey_matrix(matrix, n_resamples=n_resamples, seed=seed)
    i, j = np.triu_indices(len(systems), k=1)
    frame = pd.DataFrame({"system_a": [systems[a] for a in i], "system_b": [systems[b] for b in j],
                          "delta": delta[i, j], "p_value": p[i, j]})
    frame.attrs.update(n_queries=int(matrix.shape[0]), n_resamples=int(n_resamples), method=method)
    return frame
