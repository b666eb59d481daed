"""Within-query permutations for the randomised Tukey HSD: a numpy reference and its numba twin.

One random permutation of a query's k values is a Fisher-Yates shuffle: for ``i = k-1, ..., 1`` swap
positions ``i`` and ``j_i``, with ``j_i`` uniform on ``0..i``. The digits ``j_i`` come from doubles of the
numpy Generator: the radices ``k, k-1, ..., 2`` are cut into groups whose product is at most 2^21, group g
takes one double ``v`` and reads its digits off in turn, ``t = v (i+1)``, ``j = floor(t)``, ``v = t - j``
(every step is exact in floating point: the fractional part of a double is a double). A double has 53 random
bits and a group uses at most 21 of them, so each permutation's probability is exact to a relative 2^-32; one
``rng.random((rows, n, G))`` per batch keeps the stream the same whatever the batch size. Both implementations read the same doubles and so make the same permutations; the numpy one is
the reference (the tests check the numba one against it and both against a slow loop). numba is imported on
first use only (it costs about a second).
"""

from __future__ import annotations

import functools

import numpy as np

from ltr.stats._jit import compiled

#: Largest product of radices one double drives (see the module docstring).
_GROUP_LIMIT = 2 ** 21


@functools.cache
def fisher_yates_plan(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(positions, groups, products)``: step s swaps position ``positions[s]`` (k-1 down to 1) using the
    double of group ``groups[s]``; ``products[g]`` is the product of group g's radices."""
    positions = np.arange(k - 1, 0, -1, dtype=np.int64)
    groups = np.empty(positions.size, dtype=np.int64)
    products = []
    current = 1
    for s, i in enumerate(positions):
        if current * (i + 1) > _GROUP_LIMIT:
            products.append(current)
            current = 1
        current *= int(i + 1)
        groups[s] = len(products)
    products.append(current)
    return positions, groups, np.array(products, dtype=np.float64)


def n_doubles(k: int) -> int:
    """Doubles drawn per query and permutation."""
    return fisher_yates_plan(k)[2].size


def permutations_numpy(u: np.ndarray, k: int) -> np.ndarray:
    """The permutations driven by ``u`` (rows, n, G): ``perm[b, q]`` lists, for each position, the column
    whose value lands there (int64, shape (rows, n, k))."""
    positions, groups, _ = fisher_yates_plan(k)
    rows, n, _ = u.shape
    v = u.copy()
    perm = np.broadcast_to(np.arange(k, dtype=np.int64), (rows, n, k)).copy()
    for s, i in enumerate(positions):
        g = groups[s]
        t = v[:, :, g] * float(i + 1)
        digit = np.floor(t)
        v[:, :, g] = t - digit
        j = digit.astype(np.int64)
        at_i = perm[:, :, i].copy()
        at_j = np.take_along_axis(perm, j[:, :, None], axis=2)[:, :, 0]
        perm[:, :, i] = at_j
        np.put_along_axis(perm, j[:, :, None], at_i[:, :, None], axis=2)
    return perm


def permuted_sums_numpy(x: np.ndarray, u: np.ndarray, *, counts: bool = False):
    """Column sums of ``x`` (n, k) with each query's row permuted: (rows, k); with ``counts``, also
    ``c[b, a, j]`` = the number of queries whose column-a value lands in column j (rows, k, k)."""
    k = x.shape[1]
    perm = permutations_numpy(u, k)
    sums = np.take_along_axis(np.broadcast_to(x, perm.shape), perm, axis=2).sum(axis=1)
    if not counts:
        return sums
    c = np.stack([(perm == a).sum(axis=1) for a in range(k)], axis=1).astype(np.float64)
    return sums, c


def _permuted_sums_loop(x, u, positions, groups, radices, sums, cnt, with_counts):
    """The permutations of :func:`permuted_sums_numpy` drawn and summed one query at a time (compiled by
    :func:`ltr.stats._jit.compiled`)."""
    rows, n, n_groups = u.shape
    k = x.shape[1]
    perm = np.empty(k, dtype=np.int64)
    v = np.empty(n_groups)
    for b in range(rows):
        for q in range(n):
            for j in range(k):
                perm[j] = j
            for g in range(n_groups):
                v[g] = u[b, q, g]
            for s in range(positions.size):
                i = positions[s]
                g = groups[s]
                t = v[g] * radices[s]
                digit = np.floor(t)
                v[g] = t - digit
                j = np.int64(digit)
                tmp = perm[i]
                perm[i] = perm[j]
                perm[j] = tmp
            for j in range(k):
                sums[b, j] += x[q, perm[j]]
                if with_counts:
                    cnt[b, perm[j], j] += 1.0


def permuted_sums(x: np.ndarray, u: np.ndarray, *, counts: bool = False, use_numba: bool = True):
    """:func:`permuted_sums_numpy`, compiled when numba is installed (the same permutations)."""
    kernel = compiled(_permuted_sums_loop) if use_numba else None
    if kernel is None:
        return permuted_sums_numpy(x, u, counts=counts)
    k = x.shape[1]
    positions, groups, _ = fisher_yates_plan(k)
    rows = u.shape[0]
    sums = np.zeros((rows, k))
    cnt = np.zeros((rows, k, k) if counts else (1, 1, 1))
    kernel(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(u), positions, groups,
           (positions + 1).astype(np.float64), sums, cnt, counts)
    return (sums, cnt) if counts else sums
