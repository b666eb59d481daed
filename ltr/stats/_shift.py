"""The inner count of the simulated power of the permutation tests: a numpy reference and its numba twin.

For one candidate effect :math:`\\delta`, simulated experiment j's statistic is ``observed[j] + slope * delta``
and null draw l's is ``x[l, j] + c[l] * delta``; a null draw counts when its absolute value reaches the
observed one less ``tol`` (the rounding tolerance of the sums):

.. math:: n_j = \\#\\{l : |x_{lj} + \\delta c_l| \\ge |o_j + s \\delta| - \\mathrm{tol}\\}

Both do the same IEEE operations in the same order (the product ``delta * c[l]`` first, no fused
multiply-add), so they count the same draws; the numba one makes one pass over ``x`` instead of numpy's four
temporaries of its size (`benchmarks/bench_report.py`). numba is imported on first use only.
"""

from __future__ import annotations

import numpy as np

from ltr.stats._jit import compiled


def shift_counts_numpy(x: np.ndarray, c: np.ndarray, threshold: np.ndarray, delta: float) -> np.ndarray:
    """``n_j`` of the module docstring, with ``threshold[j] = |o_j + s delta| - tol`` (int64, shape (k,))."""
    return np.count_nonzero(np.abs(x + delta * c[:, None]) >= threshold, axis=0).astype(np.int64)


def _shift_counts_loop(x, c, threshold, delta, counts):
    """:func:`shift_counts_numpy` in one pass over ``x``, adding into ``counts`` (compiled by
    :func:`ltr.stats._jit.compiled`)."""
    rows, k = x.shape
    for row in range(rows):
        shift = delta * c[row]
        for j in range(k):
            if abs(x[row, j] + shift) >= threshold[j]:
                counts[j] += 1


def shift_counts(x: np.ndarray, c: np.ndarray, threshold: np.ndarray, delta: float, *,
                 use_numba: bool = True) -> np.ndarray:
    """:func:`shift_counts_numpy`, compiled when numba is installed (the same counts)."""
    kernel = compiled(_shift_counts_loop) if use_numba else None
    if kernel is None:
        return shift_counts_numpy(x, c, threshold, delta)
    counts = np.zeros(x.shape[1], dtype=np.int64)
    kernel(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(c, dtype=np.float64),
           np.ascontiguousarray(threshold, dtype=np.float64), float(delta), counts)
    return counts
