"""Gradient kernels: numpy reference implementations and their numba-compiled twins.

The numpy functions (``*_numpy``) are the reference: written pair matrix by pair matrix, close to the
formulas, and what the tests check against finite differences and a slow loop. The numba kernels
(``*_numba``) compute the same quantities in one pass per query, in parallel over queries (``prange``);
each query writes only its own rows, so the result does not depend on the thread schedule. If numba is
missing, :func:`ranknet_grad_hess` and :func:`lambdarank_grad_hess` fall back to numpy.

RankNet speed-up: with ``e_i = exp(a (s_i - max s))``, ``1 - p_ij = e_j / (e_i + e_j)`` and
``p_ij (1 - p_ij) = e_i e_j / (e_i + e_j)^2``, so a pair costs one division instead of an exponential.
It is used when ``a (max s - min s) <= 600`` within a query (no underflow); otherwise the kernel
evaluates the logistic function pair by pair.

Sampled RankNet (``ranknet(pairs_per_doc=k)``): each document draws ``k`` partners, uniformly with
replacement, among the documents of its query with another label (all of them, once each, when it has at
most ``k``). A draw of partner ``b`` by anchor ``a`` adds the pair's terms to both documents with weight
``1 / (c_a + c_b)``, where ``c_x = min(k / m_x, 1)`` is the expected number of times ``x`` draws a given
partner and ``m_x`` its number of partners with another label. Every label-discordant pair is then counted
``c_a + c_b`` times in expectation, so the estimate is unbiased for the full gradient and the full diagonal
hessian; when every document has at most ``k`` partners it *is* the full gradient (each pair counted twice
with weight 1/2). The draws come from a splitmix64 stream per query seeded with ``(seed, query index, bits
of the query's scores)``: new pairs at every boosting iteration (the scores change), the same pairs for the
same inputs, independent of the thread schedule. :func:`ranknet_sampled_reference` is the pure-Python
reference (same stream, pair by pair).
"""

from __future__ import annotations

import functools

import numpy as np

try:  # optional accelerator, as bm25s and ranx do; numpy stays the reference
    from numba import njit, prange
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False

__all__ = [
    "HAVE_NUMBA", "lambdarank_grad_hess", "lambdarank_numpy", "lightgbm_sigmoid", "ranknet_grad_hess",
    "ranknet_numpy", "ranknet_loss", "ranknet_sampled_grad_hess", "ranknet_sampled_reference",
]

#: Largest a*(max s - min s) within a query for which the exp-ratio form of RankNet is used.
_EXP_RANGE = 600.0
#: LightGBM's sigmoid lookup table: 1024*1024 bins over [-50/sigmoid/2, 50/sigmoid/2].
_SIGMOID_BINS = 1024 * 1024
#: LightGBM adds the float literal 0.01f to |delta score|; as a double it is this value.
_LGB_SCORE_EPS = float(np.float32(0.01))


def _expit_pair(x):
    """(p, 1 - p) of the logistic function, both computed without cancellation."""
    z = np.exp(-np.abs(x))
    big = 1.0 / (1.0 + z)
    small = z / (1.0 + z)
    pos = x >= 0
    return np.where(pos, big, small), np.where(pos, small, big)


# --------------------------------------------------------------------------------------------------
# RankNet
# --------------------------------------------------------------------------------------------------

def ranknet_loss(labels, scores, offsets, sigma=1.0) -> float:
    """Summed pairwise logistic loss ``sum_{q} sum_{y_i > y_j} log(1 + exp(-a (s_i - s_j)))``."""
    total = 0.0
    for q in range(len(offsets) - 1):
        y = labels[offsets[q]:offsets[q + 1]]
        s = scores[offsets[q]:offsets[q + 1]]
        mask = y[:, None] > y[None, :]
        total += float(np.sum(np.logaddexp(0.0, -sigma * (s[:, None] - s[None, :]))[mask]))
    return total


def ranknet_numpy(labels, scores, offsets, sigma=1.0, normalize=False):
    """Reference RankNet gradient and hessian, one pair matrix per query.

    For ``y_i > y_j``: ``p_ij = logistic(a (s_i - s_j))``, ``grad_i += a (p_ij - 1)``,
    ``grad_j -= a (p_ij - 1)``, ``hess_i, hess_j += a^2 p_ij (1 - p_ij)``; with ``normalize`` the
    query's sums are divided by its number of such pairs.
    """
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    for q in range(len(offsets) - 1):
        lo, hi = offsets[q], offsets[q + 1]
        y, s = labels[lo:hi], scores[lo:hi]
        mask = y[:, None] > y[None, :]                      # mask[i, j]: i above j
        n_pairs = int(mask.sum())
        if n_pairs == 0:
            continue
        p, one_minus_p = _expit_pair(sigma * (s[:, None] - s[None, :]))
        lam = np.where(mask, -sigma * one_minus_p, 0.0)       # a (p_ij - 1), for i
        h = np.where(mask, sigma * sigma * p * one_minus_p, 0.0)
        g_q = lam.sum(axis=1) - lam.sum(axis=0)
        h_q = h.sum(axis=1) + h.sum(axis=0)
        if normalize:
            g_q, h_q = g_q / n_pairs, h_q / n_pairs
        grad[lo:hi], hess[lo:hi] = g_q, h_q
    return grad, hess


_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_INV_2_53 = 1.0 / 9007199254740992.0


def _splitmix64(state: int) -> tuple[int, int]:
    """(next state, output) of splitmix64 (Steele, Lea, Flood 2014), on Python ints modulo 2^64."""
    state = (state + _GOLDEN) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * _MIX1) & _MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & _MASK64
    return state, z ^ (z >> 31)


def _query_stream_seed(seed: int, q: int, score_bits) -> int:
    """The per-query stream's start: seed and query index, then every score's bit pattern mixed in."""
    _, h = _splitmix64((seed * _GOLDEN + q) & _MASK64)
    for bits in score_bits:
        _, h = _splitmix64(h ^ int(bits))
    return h


def ranknet_sampled_reference(labels, scores, offsets, sigma=1.0, normalize=False, pairs_per_doc=1, seed=0):
    """Reference sampled RankNet gradient and hessian, pair by pair in Python (see the module docstring).

    Same stream and the same pairs as the compiled kernel; ``normalize`` divides by the query's number of
    label-discordant pairs (all of them, not the sampled ones).
    """
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    bits_all = scores.view(np.uint64)
    k = int(pairs_per_doc)
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    for q in range(len(offsets) - 1):
        lo, hi = int(offsets[q]), int(offsets[q + 1])
        n = hi - lo
        if n < 2:
            continue
        order = np.argsort(-labels[lo:hi], kind="stable")
        y, s = labels[lo:hi][order], scores[lo:hi][order]
        start = np.zeros(n, dtype=np.int64)
        end = np.zeros(n, dtype=np.int64)
        i = 0
        while i < n:
            j = i + 1
            while j < n and y[j] == y[i]:
                j += 1
            start[i:j], end[i:j] = i, j
            i = j
        m = n - (end - start)                                   # partners with another label
        n_pairs = int(m.sum()) // 2
        if n_pairs == 0:
            continue
        cover = np.minimum(k / np.maximum(m, 1), 1.0)
        state = _query_stream_seed(seed, q, bits_all[lo:hi])
        g = np.zeros(n)
        h = np.zeros(n)
        for a in range(n):
            if m[a] == 0:
                continue
            if k >= m[a]:
                partners = [r if r < start[a] else r + (end[a] - start[a]) for r in range(int(m[a]))]
            else:
                partners = []
                for _ in range(k):
                    state, out = _splitmix64(state)
                    r = min(int(float(out >> 11) * _INV_2_53 * float(m[a])), int(m[a]) - 1)
                    partners.append(r if r < start[a] else r + (end[a] - start[a]))
            for b in partners:
                w = 1.0 / (cover[a] + cover[b])
                top, bottom = (a, b) if a < b else (b, a)            # sorted by label, descending
                p, one_minus_p = _expit_pair(sigma * (s[top] - s[bottom]))
                g[top] -= w * one_minus_p
                g[bottom] += w * one_minus_p
                h[top] += w * p * one_minus_p
                h[bottom] += w * p * one_minus_p
        scale_g, scale_h = sigma, sigma * sigma
        if normalize:
            scale_g, scale_h = scale_g / n_pairs, scale_h / n_pairs
        grad[lo + order] = g * scale_g
        hess[lo + order] = h * scale_h
    return grad, hess


# --------------------------------------------------------------------------------------------------
# LightGBM's LambdaRank (rank_objective.hpp, LambdarankNDCG::GetGradientsForOneQuery)
# --------------------------------------------------------------------------------------------------

def lightgbm_sigmoid(delta, sigma):
    """LightGBM's tabulated ``1 / (1 + exp(sigma * delta))`` (the probability that the pair is *mis*-ordered).

    LightGBM precomputes 2^20 values over [-25/sigma, 25/sigma] (``ConstructSigmoidTable``) and reads the
    bin below ``delta`` (``GetSigmoid``); we reproduce the lookup, not the smooth function, so that our
    reference gives LightGBM's gradients to float precision.
    """
    delta = np.asarray(delta, dtype=np.float64)
    lo = -50.0 / sigma / 2.0
    hi = -lo
    factor = _SIGMOID_BINS / (hi - lo)
    idx = np.floor((delta - lo) * factor)
    idx = np.clip(idx, 0, _SIGMOID_BINS - 1)
    idx = np.where(delta <= lo, 0, np.where(delta >= hi, _SIGMOID_BINS - 1, idx))
    return 1.0 / (1.0 + np.exp((idx / factor + lo) * sigma))


@functools.lru_cache(maxsize=4)
def _sigmoid_table(sigma: float) -> np.ndarray:
    """LightGBM's 2^20-entry table for one ``sigma`` (8 MB; a few are cached)."""
    lo = -50.0 / sigma / 2.0
    factor = _SIGMOID_BINS / (-lo - lo)
    table = 1.0 / (1.0 + np.exp((np.arange(_SIGMOID_BINS) / factor + lo) * sigma))
    table.flags.writeable = False
    return table


def lambdarank_numpy(labels, scores, offsets, label_gain, truncation_level=30, norm=True, sigma=1.0):
    """Reference LambdaRank (LightGBM's ``lambdarank``), one pair matrix per query.

    Per query: documents sorted by score, descending, ties in row order (``std::stable_sort``); pairs of
    ranks ``(i, j)``, ``i < j``, ``i < truncation_level``, different labels; ``high`` is the one with the
    larger label. With ``G`` the gain table, ``D(r) = 1 / log2(2 + r)`` and ``maxDCG`` the ideal DCG over
    the top ``truncation_level``::

        delta = (G[y_high] - G[y_low]) |D(r_high) - D(r_low)| / maxDCG
        delta /= 0.01 + |s_high - s_low|                   (norm, unless all scores are equal)
        rho = 1 / (1 + exp(sigma (s_high - s_low)))        (LightGBM's table)
        grad_high -= sigma delta rho ;  grad_low += sigma delta rho
        hess_high, hess_low += sigma^2 delta rho (1 - rho)

    and with ``norm`` the query's gradients and hessians are scaled by ``log2(1 + L) / L``,
    ``L = sum of 2 sigma delta rho`` over its pairs.
    """
    gain = np.asarray(label_gain, dtype=np.float64)
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    for q in range(len(offsets) - 1):
        lo, hi = offsets[q], offsets[q + 1]
        n = hi - lo
        if n < 2:
            continue
        y, s = labels[lo:hi], scores[lo:hi]
        order = np.argsort(-s, kind="stable")
        ys, ss = y[order], s[order]
        k = min(truncation_level, n)
        disc = 1.0 / np.log2(2.0 + np.arange(n))
        ideal = np.sort(y)[::-1][:k].astype(np.int64)
        max_dcg = float(np.sum(gain[ideal] * disc[:k]))
        inv = 1.0 / max_dcg if max_dcg > 0 else 0.0
        r = np.arange(n)
        mask = (r[:, None] < r[None, :]) & (r[:, None] < truncation_level) & (ys[:, None] != ys[None, :])
        if not mask.any():
            continue
        i_high = ys[:, None] > ys[None, :]                   # rank i holds the higher label
        g_s = gain[ys.astype(np.int64)]
        d_s = disc
        dcg_gap = np.abs(g_s[:, None] - g_s[None, :])
        paired_discount = np.abs(d_s[:, None] - d_s[None, :])
        delta = dcg_gap * paired_discount * inv
        ds = np.where(i_high, ss[:, None] - ss[None, :], ss[None, :] - ss[:, None])   # s_high - s_low
        if norm and ss[0] != ss[-1]:
            delta = delta / (_LGB_SCORE_EPS + np.abs(ds))
        rho = lightgbm_sigmoid(ds, sigma)
        p_lambda = np.where(mask, -sigma * delta * rho, 0.0)
        p_hess = np.where(mask, sigma * sigma * delta * rho * (1.0 - rho), 0.0)
        # high gets +p_lambda, low gets -p_lambda; the hessian goes to both
        lam_i = np.where(i_high, p_lambda, -p_lambda)        # contribution to rank i
        g_sorted = lam_i.sum(axis=1) - lam_i.sum(axis=0)
        h_sorted = p_hess.sum(axis=1) + p_hess.sum(axis=0)
        if norm:
            total = float(-2.0 * p_lambda.sum())
            if total > 0:
                factor = np.log2(1.0 + total) / total
                g_sorted, h_sorted = g_sorted * factor, h_sorted * factor
        grad[lo + order] = g_sorted
        hess[lo + order] = h_sorted
    return grad, hess


# --------------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------------

if HAVE_NUMBA:

    @njit(parallel=True, cache=True)
    def _ranknet_numba(labels, scores, offsets, sigma, normalize, grad, hess):  # pragma: no cover - jit
        n_queries = len(offsets) - 1
        for q in prange(n_queries):
            lo = offsets[q]
            n = offsets[q + 1] - lo
            if n < 2:
                continue
            order = np.argsort(-labels[lo:lo + n], kind="mergesort")
            y = np.empty(n)
            s = np.empty(n)
            for k in range(n):
                y[k] = labels[lo + order[k]]
                s[k] = scores[lo + order[k]]
            g = np.zeros(n)
            h = np.zeros(n)
            s_max = s.max()
            s_min = s.min()
            n_pairs = 0
            use_ratio = sigma * (s_max - s_min) <= _EXP_RANGE
            e = np.exp(sigma * (s - s_max))
            i = 0
            while i < n:
                end = i + 1                       # tie block [i, end) of equal labels
                while end < n and y[end] == y[i]:
                    end += 1
                n_pairs += (end - i) * (n - end)
                for k in range(i, end):
                    gk = 0.0
                    hk = 0.0
                    if use_ratio:
                        ek = e[k]
                        for j in range(end, n):
                            r = 1.0 / (ek + e[j])
                            q1 = e[j] * r                # 1 - p_kj
                            hh = ek * r * q1             # p_kj (1 - p_kj)
                            gk += q1
                            g[j] += q1
                            hk += hh
                            h[j] += hh
                    else:
                        for j in range(end, n):
                            x = sigma * (s[k] - s[j])
                            if x >= 0:
                                z = np.exp(-x)
                                q1 = z / (1.0 + z)
                                p = 1.0 / (1.0 + z)
                            else:
                                z = np.exp(x)
                                q1 = 1.0 / (1.0 + z)
                                p = z / (1.0 + z)
                            hh = p * q1
                            gk += q1
                            g[j] += q1
                            hk += hh
                            h[j] += hh
                    g[k] -= gk
                    h[k] += hk
                i = end
            if n_pairs == 0:
                continue
            scale_g = sigma
            scale_h = sigma * sigma
            if normalize:
                scale_g /= n_pairs
                scale_h /= n_pairs
            for k in range(n):
                grad[lo + order[k]] = g[k] * scale_g
                hess[lo + order[k]] = h[k] * scale_h

    @njit(cache=True)
    def _splitmix64_nb(state):  # pragma: no cover - jit
        state = state + np.uint64(0x9E3779B97F4A7C15)
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return state, z ^ (z >> np.uint64(31))

    @njit(parallel=True, cache=True)
    def _ranknet_sampled_numba(labels, scores, bits, offsets, sigma, normalize, k, seed,
                               grad, hess):  # pragma: no cover - jit
        n_queries = len(offsets) - 1
        for q in prange(n_queries):
            lo = offsets[q]
            n = offsets[q + 1] - lo
            if n < 2:
                continue
            order = np.argsort(-labels[lo:lo + n], kind="mergesort")
            y = np.empty(n)
            s = np.empty(n)
            for t in range(n):
                y[t] = labels[lo + order[t]]
                s[t] = scores[lo + order[t]]
            start = np.empty(n, dtype=np.int64)
            end = np.empty(n, dtype=np.int64)
            i = 0
            while i < n:
                j = i + 1
                while j < n and y[j] == y[i]:
                    j += 1
                for t in range(i, j):
                    start[t] = i
                    end[t] = j
                i = j
            m = np.empty(n, dtype=np.int64)
            total = 0
            for t in range(n):
                m[t] = n - (end[t] - start[t])
                total += m[t]
            n_pairs = total // 2
            if n_pairs == 0:
                continue
            cover = np.empty(n)
            for t in range(n):
                cover[t] = min(k / max(m[t], 1), 1.0)
            # per-query stream: seed and query index, then the query's score bits (row order)
            _, h_state = _splitmix64_nb(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(q))
            for t in range(n):
                _, h_state = _splitmix64_nb(h_state ^ bits[lo + t])
            state = h_state
            s_max = s.max()
            use_ratio = sigma * (s_max - s.min()) <= _EXP_RANGE
            e = np.exp(sigma * (s - s_max))
            g = np.zeros(n)
            hh = np.zeros(n)
            for a in range(n):
                ma = m[a]
                if ma == 0:
                    continue
                gap = end[a] - start[a]
                exhaustive = k >= ma
                count = ma if exhaustive else k
                for d in range(count):
                    if exhaustive:
                        r = d
                    else:
                        state, out = _splitmix64_nb(state)
                        r = int(np.float64(out >> np.uint64(11)) * _INV_2_53 * np.float64(ma))
                        if r > ma - 1:
                            r = ma - 1
                    b = r if r < start[a] else r + gap
                    w = 1.0 / (cover[a] + cover[b])
                    if a < b:
                        top = a
                        bottom = b
                    else:
                        top = b
                        bottom = a
                    if use_ratio:
                        rr = 1.0 / (e[top] + e[bottom])
                        q1 = e[bottom] * rr
                        ph = e[top] * rr * q1
                    else:
                        x = sigma * (s[top] - s[bottom])
                        if x >= 0:
                            z = np.exp(-x)
                            q1 = z / (1.0 + z)
                            p = 1.0 / (1.0 + z)
                        else:
                            z = np.exp(x)
                            q1 = 1.0 / (1.0 + z)
                            p = z / (1.0 + z)
                        ph = p * q1
                    g[top] -= w * q1
                    g[bottom] += w * q1
                    hh[top] += w * ph
                    hh[bottom] += w * ph
            scale_g = sigma
            scale_h = sigma * sigma
            if normalize:
                scale_g /= n_pairs
                scale_h /= n_pairs
            for t in range(n):
                grad[lo + order[t]] = g[t] * scale_g
                hess[lo + order[t]] = hh[t] * scale_h

    @njit(cache=True)
    def _lgb_sigmoid_scalar(delta, lo, factor, table):  # pragma: no cover - jit
        if delta <= lo:
            return table[0]
        if delta >= -lo:
            return table[_SIGMOID_BINS - 1]
        idx = int((delta - lo) * factor)
        if idx > _SIGMOID_BINS - 1:
            idx = _SIGMOID_BINS - 1
        return table[idx]

    @njit(parallel=True, cache=True)
    def _lambdarank_numba(labels, scores, offsets, gain, truncation_level, norm, sigma, table,
                          grad, hess):  # pragma: no cover - jit
        n_queries = len(offsets) - 1
        lo_in = -50.0 / sigma / 2.0
        factor = _SIGMOID_BINS / (-lo_in - lo_in)
        for q in prange(n_queries):
            lo = offsets[q]
            n = offsets[q + 1] - lo
            if n < 2:
                continue
            order = np.argsort(-scores[lo:lo + n], kind="mergesort")
            y = np.empty(n)
            s = np.empty(n)
            for k in range(n):
                y[k] = labels[lo + order[k]]
                s[k] = scores[lo + order[k]]
            # ideal DCG over the top truncation_level
            ideal = np.sort(y)[::-1]
            top = min(truncation_level, n)
            max_dcg = 0.0
            for k in range(top):
                max_dcg += gain[int(ideal[k])] / np.log2(2.0 + k)
            inv = 1.0 / max_dcg if max_dcg > 0 else 0.0
            disc = np.empty(n)
            gs = np.empty(n)
            for k in range(n):
                disc[k] = 1.0 / np.log2(2.0 + k)
                gs[k] = gain[int(y[k])]
            g = np.zeros(n)
            h = np.zeros(n)
            spread = s[0] != s[n - 1]
            total = 0.0
            sigma2 = sigma * sigma
            for i in range(min(n - 1, truncation_level)):
                yi = y[i]
                gi = gs[i]
                di = disc[i]
                si = s[i]
                gsum = 0.0
                hsum = 0.0
                for j in range(i + 1, n):
                    if y[j] == yi:
                        continue
                    # rank i is above rank j, so |D_i - D_j| = D_i - D_j; sign: +1 if i holds the higher label
                    if yi > y[j]:
                        sign = 1.0
                        ds = si - s[j]
                        delta = (gi - gs[j]) * (di - disc[j]) * inv
                    else:
                        sign = -1.0
                        ds = s[j] - si
                        delta = (gs[j] - gi) * (di - disc[j]) * inv
                    if norm and spread:
                        delta /= _LGB_SCORE_EPS + abs(ds)
                    rho = _lgb_sigmoid_scalar(ds, lo_in, factor, table)
                    p_hess = rho * (1.0 - rho) * sigma2 * delta
                    p_lambda = -sigma * delta * rho
                    # the higher-labelled document gets +p_lambda, the other -p_lambda
                    gsum += sign * p_lambda
                    g[j] -= sign * p_lambda
                    hsum += p_hess
                    h[j] += p_hess
                    total -= 2.0 * p_lambda
                g[i] += gsum
                h[i] += hsum
            scale = 1.0
            if norm and total > 0:
                scale = np.log2(1.0 + total) / total
            for k in range(n):
                grad[lo + order[k]] = g[k] * scale
                hess[lo + order[k]] = h[k] * scale


def ranknet_grad_hess(labels, scores, offsets, sigma=1.0, normalize=False, *, use_numba=True):
    """RankNet gradient and hessian, compiled when numba is available (see :func:`ranknet_numpy`)."""
    labels = np.ascontiguousarray(labels, dtype=np.float64)
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    if not (use_numba and HAVE_NUMBA):
        return ranknet_numpy(labels, scores, offsets, sigma, normalize)
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    _ranknet_numba(labels, scores, np.ascontiguousarray(offsets, dtype=np.int64), float(sigma),
                   bool(normalize), grad, hess)
    return grad, hess


def ranknet_sampled_grad_hess(labels, scores, offsets, sigma=1.0, normalize=False, pairs_per_doc=1, seed=0, *,
                              use_numba=True):
    """Sampled RankNet gradient and hessian (module docstring), compiled when numba is available; the
    reference :func:`ranknet_sampled_reference` otherwise (same pairs, pure Python: slow)."""
    labels = np.ascontiguousarray(labels, dtype=np.float64)
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    if not (use_numba and HAVE_NUMBA):
        return ranknet_sampled_reference(labels, scores, offsets, sigma, normalize, pairs_per_doc, seed)
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    _ranknet_sampled_numba(labels, scores, scores.view(np.uint64), np.ascontiguousarray(offsets, dtype=np.int64),
                           float(sigma), bool(normalize), int(pairs_per_doc), int(seed), grad, hess)
    return grad, hess


def lambdarank_grad_hess(labels, scores, offsets, label_gain, truncation_level=30, norm=True, sigma=1.0, *,
                         use_numba=True):
    """LightGBM's LambdaRank gradient and hessian, compiled when numba is available (see :func:`lambdarank_numpy`)."""
    labels = np.ascontiguousarray(labels, dtype=np.float64)
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    gain = np.ascontiguousarray(label_gain, dtype=np.float64)
    if not (use_numba and HAVE_NUMBA):
        return lambdarank_numpy(labels, scores, offsets, gain, truncation_level, norm, sigma)
    grad = np.zeros(len(labels))
    hess = np.zeros(len(labels))
    _lambdarank_numba(labels, scores, np.ascontiguousarray(offsets, dtype=np.int64), gain,
                      int(truncation_level), bool(norm), float(sigma), _sigmoid_table(float(sigma)), grad, hess)
    return grad, hess
