"""Measures over grouped arrays: slow-loop oracles, invariants, tie rules, and compute() errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ltr.errors import DataError, GroupError, LabelError
from ltr.metrics import parse_metric


def random_groups(seed, n_queries=20, max_size=15, grades=5, tie_levels=None):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_size, n_queries)
    n = int(sizes.sum())
    labels = rng.integers(0, grades, n).astype(np.float64)
    scores = rng.integers(0, tie_levels, n).astype(np.float64) if tie_levels else rng.normal(size=n)
    return labels, scores, sizes


def split(values, sizes):
    return np.split(np.asarray(values), np.cumsum(sizes)[:-1])


def row_order(scores):
    """Rank order with ties in row order (a plain stable sort)."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def err_loop(labels, gmax, k):
    """Chapelle et al. 2009, Algorithm 2, written as a loop."""
    p, err = 1.0, 0.0
    for r, g in enumerate(labels[:k], start=1):
        R = (2.0 ** g - 1) / 2.0 ** gmax
        err += p * R / r
        p *= 1 - R
    return err


@pytest.mark.parametrize("k", [1, 3, 10, 100])
def test_err_matches_the_published_formula(k):
    """Oracle: a slow loop of Chapelle et al. (2009) ERR, R_i = (2^g - 1) / 2^gmax, gmax = max label."""
    labels, scores, sizes = random_groups(1)
    got = parse_metric(f"ERR(ties='row')@{k}").compute(labels, scores, sizes)
    gmax = labels.max()
    expected = [err_loop(lab[row_order(sc)], gmax, k) for lab, sc in zip(split(labels, sizes), split(scores, sizes))]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)
    got4 = parse_metric(f"ERR(max_grade=4, ties='row')@{k}").compute(labels, scores, sizes)
    expected4 = [err_loop(lab[row_order(sc)], 4, k) for lab, sc in zip(split(labels, sizes), split(scores, sizes))]
    np.testing.assert_allclose(got4, expected4, rtol=0, atol=1e-15)


@pytest.mark.parametrize("gain", ["linear", "exp"])
def test_dcg_and_ndcg_match_a_loop(gain):
    """Oracle: the textbook DCG loop (Järvelin and Kekäläinen 2002), ideal from the same labels."""
    labels, scores, sizes = random_groups(2)
    g = (lambda x: x) if gain == "linear" else (lambda x: 2.0 ** x - 1)
    for k in (1, 5, 100):
        dcg = parse_metric(f"DCG(gain='{gain}', ties='row')@{k}").compute(labels, scores, sizes)
        ndcg = parse_metric(f"nDCG(gain='{gain}', ties='row')@{k}").compute(labels, scores, sizes)
        for q, (lab, sc) in enumerate(zip(split(labels, sizes), split(scores, sizes))):
            ranked = lab[row_order(sc)]
            d = sum(g(x) / math.log2(i + 2) for i, x in enumerate(ranked[:k]))
            ideal = sum(g(x) / math.log2(i + 2) for i, x in enumerate(sorted(lab, reverse=True)[:k]))
            assert dcg[q] == pytest.approx(d, abs=1e-12)
            assert ndcg[q] == pytest.approx(d / ideal if ideal > 0 else 0.0, abs=1e-12)


def test_judged_matches_a_loop():
    """Oracle: a loop counting judged documents (label >= 0) in the top k, divided by k."""
    labels, scores, sizes = random_groups(3)
    labels[::3] = -1
    got = parse_metric("Judged(ties='row')@5").compute(labels, scores, sizes)
    expected = [sum(x >= 0 for x in lab[row_order(sc)][:5]) / 5
                for lab, sc in zip(split(labels, sizes), split(scores, sizes))]
    np.testing.assert_allclose(got, expected)


TIE_AWARE = ["nDCG@3", "DCG@3", "P@3", "R@3", "Rprec", "Judged@3", "nDCG(gain='exp')@2", "nDCG"]


@pytest.mark.parametrize("name", TIE_AWARE)
def test_average_ties_is_the_mean_over_tied_orders(name):
    """Oracle: brute force; the mean of the metric over every order of the tied documents
    (McSherry and Najork 2008 define the tie-aware value as this expectation)."""
    labels, scores, sizes = random_groups(4, n_queries=12, max_size=7, grades=3, tie_levels=3)
    labels[::5] = -1
    row_metric = parse_metric(name.replace("@", "(ties='row')@") if "(" not in name and "@" in name
                              else (name + "(ties='row')" if "(" not in name else
                                    name.replace(")", ", ties='row')")))
    avg_metric = parse_metric(repr(row_metric).replace("ties='row'", "ties='average'"))
    got = avg_metric.compute(labels, scores, sizes)
    for q, (lab, sc) in enumerate(zip(split(labels, sizes), split(scores, sizes))):
        values = []
        for perm in itertools.permutations(range(len(lab))):
            permuted_scores = sc[list(perm)]
            if not all(permuted_scores[i] >= permuted_scores[i + 1] for i in range(len(perm) - 1)):
                continue                                       # keep only orders consistent with scores
            ranked = lab[list(perm)]
            values.append(row_metric.compute(ranked, np.arange(len(ranked), 0, -1.0), [len(ranked)])[0])
        assert got[q] == pytest.approx(np.mean(values), abs=1e-12), q


@pytest.mark.parametrize("name", ["nDCG@10", "nDCG", "AP", "RR", "Rprec", "Bpref", "R@100",
                                  "nDCG(gain='exp', norel=1)@5"])
def test_perfect_ranking_scores_one(name):
    """Invariant: ranking by the labels themselves gives 1 on every query with a relevant document."""
    labels, _, sizes = random_groups(5)
    got = parse_metric(name).compute(labels, labels + 0.0, sizes)
    has_rel = np.array([lab.max() >= 1 for lab in split(labels, sizes)])
    np.testing.assert_allclose(got[has_rel], 1.0)


@pytest.mark.parametrize("name", ["nDCG@10", "AP", "RR@3", "P@5", "ERR@10", "Bpref", "nDCG(ties='average')@5"])
def test_shift_and_row_permutation_inside_queries_change_nothing(name):
    """Invariant (sklearn test_ndcg_invariant): adding a constant to every score, or shuffling rows inside
    each query together with their docids, leaves every value unchanged."""
    labels, scores, sizes = random_groups(6, tie_levels=6)
    docids = np.array([f"d{i}" for i in range(len(labels))], dtype=object)
    metric = parse_metric(name)
    base = metric.compute(labels, scores, sizes, docids)
    np.testing.assert_array_equal(metric.compute(labels, scores + 8.0, sizes, docids), base)
    rng = np.random.default_rng(0)
    offsets = np.r_[0, np.cumsum(sizes)]
    perm = np.concatenate([rng.permutation(np.arange(a, b)) for a, b in zip(offsets[:-1], offsets[1:])])
    np.testing.assert_allclose(metric.compute(labels[perm], scores[perm], sizes, docids[perm]), base,
                               rtol=0, atol=1e-15)


def test_norel_sets_the_value_of_queries_without_relevant_documents():
    """Oracle: definition; all-zero queries score norel, others are unaffected."""
    labels = np.array([0, 0, 0, 1, 0, 2.0])
    scores = np.array([3, 2, 1, 1, 2, 3.0])
    sizes = np.array([3, 3])
    for name in ("nDCG@3", "AP", "R@2", "Rprec", "Bpref"):
        zero = parse_metric(name).compute(labels, scores, sizes)
        one = parse_metric(name.replace("@", "(norel=1)@") if "@" in name else name + "(norel=1)")
        one = one.compute(labels, scores, sizes)
        assert zero[0] == 0.0 and one[0] == 1.0 and zero[1] == one[1]


def test_docid_ties_without_docids_follow_synthetic_docids():
    """Oracle: docids None behaves as the zero-padded synthetic docids of the rows (later row first on a
    tie, since docids are compared in descending order); ties='row' keeps earlier rows first."""
    labels, scores, sizes = np.array([1.0, 0.0]), np.array([0.5, 0.5]), np.array([2])
    assert parse_metric("RR").compute(labels, scores, sizes)[0] == 0.5
    assert parse_metric("RR").compute(labels, scores, sizes, np.array(["0", "1"], dtype=object))[0] == 0.5
    assert parse_metric("RR").compute(labels, scores, sizes, np.array(["b", "a"], dtype=object))[0] == 1.0
    assert parse_metric("RR(ties='row')").compute(labels, scores, sizes)[0] == 1.0


def test_float32_equal_scores_tie_under_docid_rule_only():
    """Oracle: trec_eval keeps scores as C floats; 1 + 1e-12 equals 1 in float32, so docid decides."""
    labels, scores, sizes = np.array([1.0, 0.0]), np.array([1.0 + 1e-12, 1.0]), np.array([2])
    assert parse_metric("RR").compute(labels, scores, sizes)[0] == 0.5
    assert parse_metric("RR(ties='row')").compute(labels, scores, sizes)[0] == 1.0


def test_same_inputs_same_bits():
    """Invariant: deterministic to the bit."""
    labels, scores, sizes = random_groups(7, tie_levels=4)
    for name in ("nDCG@10", "AP", "ERR@5", "nDCG(ties='average')@3"):
        a = parse_metric(name).compute(labels, scores, sizes)
        b = parse_metric(name).compute(labels.copy(), scores.copy(), sizes.copy())
        assert a.tobytes() == b.tobytes()


def test_compute_errors():
    """Oracle: each message says what arrived and what is expected."""
    m = parse_metric("nDCG@10")
    with pytest.raises(GroupError, match="group sizes of the scored candidates sum to 4 but there are 3 rows"):
        m.compute([1, 0, 1], [0.1, 0.2, 0.3], [2, 2])
    with pytest.raises(DataError, match="labels and scores must have the same length, got 3 labels and 2 scores"):
        m.compute([1, 0, 1], [0.1, 0.2], [3])
    with pytest.raises(DataError, match=r"scores contain NaN \(1 rows\), first at row 2 \(query #1\)"):
        m.compute([1, 0, 1], [0.1, 0.2, np.nan], [2, 1])
    with pytest.raises(LabelError, match=r"labels contain NaN \(1 rows\), first at row 0 \(query #0\)"):
        m.compute([np.nan, 0, 1], [0.1, 0.2, 0.3], [2, 1])
    with pytest.raises(DataError, match="docids must have one entry per row: got 1 for 3 rows"):
        m.compute([1, 0, 1], [0.1, 0.2, 0.3], [3], docids=["a"])


def test_empty_input_gives_no_values():
    """Invariant: no queries, no values."""
    assert parse_metric("nDCG@10").compute([], [], np.zeros(0, dtype=np.int64)).shape == (0,)
    assert parse_metric("ERR@10").compute([], [], np.zeros(0, dtype=np.int64)).shape == (0,)
