"""Tests of ltr.stats.tukey (the all-pairs randomised Tukey HSD) and its permutation kernels.

Oracles: a brute-force enumeration of every within-query permutation (itertools), a slow Python loop that
follows the documented random stream (Fisher-Yates digits from the Generator's doubles) with the same seed,
the numpy reference kernel against the numba one, a chi-square test of the permutations' uniformity, and the
family-wise error rate on null data against the binomial 95% interval of alpha.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss

from ltr import stats as S
from ltr.errors import DataError, SchemaError
from ltr.stats import _kernels


def _null_matrix(n, k, *, seed, query_sd=0.2, noise=0.1):
    rng = np.random.default_rng(seed)
    return rng.normal(0, query_sd, (n, 1)) + rng.normal(0.5, noise, (n, k))


def test_exact_matches_brute_force_enumeration():
    """Oracle: all (3!)^4 = 1296 within-query permutations of a 4 x 3 matrix enumerated with itertools; the
    pair's p-value is the share whose max pairwise |mean difference| reaches the pair's |difference|."""
    x = np.round(_null_matrix(4, 3, seed=1), 2)
    x[:, 2] += 0.15
    frame = S.tukey_hsd(x, n_resamples=2_000)
    assert frame.attrs["method"] == "exact"
    ranges = []
    for perms in itertools.product(itertools.permutations(range(3)), repeat=4):
        means = np.mean([x[q, list(p)] for q, p in enumerate(perms)], axis=0)
        ranges.append(max(abs(means[i] - means[j]) for i in range(3) for j in range(3)))
    ranges = np.array(ranges)
    means = x.mean(axis=0)
    for row in frame.itertuples(index=False):
        i, j = int(row.system_a[1:]), int(row.system_b[1:])
        d = means[i] - means[j]
        assert row.delta == pytest.approx(d, abs=1e-12)
        assert row.p_value == pytest.approx(np.mean(ranges >= abs(d) - 1e-12), abs=1e-12)


def _groups(k):
    """The documented plan: positions k-1, ..., 1 (radices k, ..., 2) cut into groups of radix product <= 2^21."""
    groups, current = [[]], 1
    for i in range(k - 1, 0, -1):
        if current * (i + 1) > 2 ** 21:
            groups.append([])
            current = 1
        current *= i + 1
        groups[-1].append(i)
    return groups


def _slow_fisher_yates(k, doubles):
    """The documented shuffle, one query at a time: one double v per group, its digits read off in turn
    (t = v (i+1), j = floor(t), v = t - j; exact in floating point), swap positions i and j."""
    perm = list(range(k))
    for g, positions in enumerate(_groups(k)):
        v = float(doubles[g])
        for i in positions:
            t = v * (i + 1)
            j = math.floor(t)
            v = t - j
            perm[i], perm[j] = perm[j], perm[i]
    return perm


@pytest.mark.parametrize("n,k", [(12, 4), (7, 15)])
def test_monte_carlo_matches_a_slow_loop_with_the_same_seed(n, k):
    """Oracle: a slow loop over permutations and queries drawing the same doubles from the same seed, computing
    the permuted means, their max pairwise difference and p = (1 + hits) / (1 + B) pair by pair."""
    x = _null_matrix(n, k, seed=k)
    x[:, 0] += 0.05
    B = 300
    ours = S.tukey_hsd(x, n_resamples=B, seed=7)
    assert ours.attrs["method"] == "monte-carlo"
    n_doubles = len(_groups(k))
    rng = np.random.default_rng(7)
    u = rng.random((B, n, n_doubles))
    maxima = []
    for b in range(B):
        cols = [[] for _ in range(k)]
        for q in range(n):
            perm = _slow_fisher_yates(k, u[b, q])
            for j in range(k):
                cols[j].append(x[q, perm[j]])
        means = [sum(c) / n for c in cols]
        maxima.append(max(abs(means[i] - means[j]) for i in range(k) for j in range(k)))
    means = x.mean(axis=0)
    for row in ours.itertuples(index=False):
        i, j = int(row.system_a[1:]), int(row.system_b[1:])
        hits = sum(m >= abs(means[i] - means[j]) - 1e-12 for m in maxima)
        assert row.p_value == pytest.approx((1 + hits) / (1 + B), abs=1e-12)


def test_numba_kernel_equals_numpy_reference():
    """Oracle: the numpy reference kernel (same doubles, same permutations): equal sums and counts."""
    x = _null_matrix(30, 6, seed=2)
    u = np.random.default_rng(0).random((50, 30, _kernels.n_doubles(6)))
    ref_sums, ref_counts = _kernels.permuted_sums_numpy(x, u, counts=True)
    sums, counts = _kernels.permuted_sums(x, u, counts=True)
    np.testing.assert_allclose(sums, ref_sums, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(counts, ref_counts)
    _, p1, _ = S.tukey_matrix(x, n_resamples=400, seed=3)
    _, p2, _ = S.tukey_matrix(x, n_resamples=400, seed=3, use_numba=False)
    np.testing.assert_array_equal(p1, p2)


def test_permutations_are_uniform():
    """Oracle: chi-square goodness of fit of 48,000 shuffles of 4 items over the 24 permutations (p > 0.001),
    and every permutation is reached."""
    u = np.random.default_rng(11).random((48_000, 1, _kernels.n_doubles(4)))
    perms = _kernels.permutations_numpy(u, 4)[:, 0, :]
    codes = perms @ (4 ** np.arange(4))
    _, counts = np.unique(codes, return_counts=True)
    assert counts.size == 24
    assert ss.chisquare(counts).pvalue > 1e-3


def test_batches_do_not_change_the_answer(monkeypatch):
    """Invariant: the random stream does not depend on the batch size."""
    from ltr.stats import tukey

    x = _null_matrix(20, 5, seed=4)
    first = S.tukey_hsd(x, n_resamples=500, seed=1)
    monkeypatch.setattr(tukey, "_CELLS_PER_BATCH", 20 * 5 * 7)      # 7 permutations per batch
    pd.testing.assert_frame_equal(S.tukey_hsd(x, n_resamples=500, seed=1), first)


def test_family_wise_error_rate_on_null_data_is_alpha():
    """Oracle: the binomial distribution. 300 null experiments (30 queries with their own difficulty x 5
    exchangeable systems): the number with any pair at p <= 0.05 lies in the binomial 95% interval of 0.05."""
    R = 300
    hits = 0
    for r in range(R):
        frame = S.tukey_hsd(_null_matrix(30, 5, seed=100 + r), n_resamples=400, seed=r)
        hits += bool((frame.p_value <= 0.05).any())
    lo, hi = ss.binom.ppf([0.025, 0.975], R, 0.05)
    assert lo <= hits <= hi, f"{hits} of {R} null experiments had a false positive"


def test_frame_input_equals_matrix_input():
    """Invariant: a long (system, qid, value) frame gives the matrix's answer (systems in order of appearance
    or as given; the frame's row order does not matter)."""
    x = _null_matrix(15, 3, seed=5)
    names = ["bm25", "lambdarank", "ranknet"]
    frame = pd.DataFrame({"system": np.repeat(names, 15), "qid": np.tile([f"q{i:02d}" for i in range(15)], 3),
                          "value": x.T.ravel()})
    via_matrix = S.tukey_hsd(x, systems=names, n_resamples=300)
    pd.testing.assert_frame_equal(S.tukey_hsd(frame, n_resamples=300), via_matrix)
    shuffled = frame.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(S.tukey_hsd(shuffled, systems=names, n_resamples=300), via_matrix)
    assert list(via_matrix.columns) == list(S.tukey.TUKEY_COLUMNS)


def test_bad_input_is_a_typed_error():
    """Holes, duplicates, several metrics, a single system: one typed error each, naming the culprit."""
    frame = pd.DataFrame({"system": ["a", "a", "b"], "qid": ["1", "2", "1"], "value": [0.1, 0.2, 0.3]})
    with pytest.raises(DataError, match="system 'b' has no value for query '2'"):
        S.tukey_hsd(frame)
    with pytest.raises(DataError, match="system 'a' has two values for query '1'"):
        S.tukey_hsd(pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(DataError, match="one metric at a time"):
        S.tukey_hsd(frame.assign(metric=["AP", "P@10", "AP"]))
    with pytest.raises(SchemaError, match=r"tukey_hsd needs columns \['qid'\]"):
        S.tukey_hsd(frame.drop(columns="qid"))
    with pytest.raises(DataError, match=r"at least 2 systems and 1 query, got shape \(3, 1\)"):
        S.tukey_hsd([[0.1], [0.2], [0.3]])
    with pytest.raises(DataError, match=r"first at query row 1, system column 0: nan"):
        S.tukey_hsd([[0.1, 0.2], [np.nan, 0.3]])
