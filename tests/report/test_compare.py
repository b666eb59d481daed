"""Tests of ltr.report.compare: the numbers of a Report, pairing on qid, the correction's family, errors.

Oracles: values computed by hand from a small per-query frame; scipy.stats (ttest_rel, wilcoxon,
bootstrap) and statsmodels' multipletests for the statistics; pytrec_eval for compare_runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss

from ltr.errors import DataError, SchemaError, UnknownNameError
from ltr.report import SUMMARY_COLUMNS, compare, compare_experiments, compare_runs

multitest = pytest.importorskip("statsmodels.stats.multitest")

# Two metrics, four queries, three systems; the baseline ("base") is listed second on purpose.
VALUES = {
    ("s1", "m1"): [0.3, 0.6, 0.4, 0.1],
    ("base", "m1"): [0.2, 0.5, 0.4, 0.0],
    ("s2", "m1"): [0.1, 0.5, 0.2, 0.0],
    ("s1", "m2"): [1.0, 0.0, 0.5, 0.5],
    ("base", "m2"): [0.5, 0.5, 0.5, 0.5],
    ("s2", "m2"): [0.0, 1.0, 1.0, 1.0],
}
QIDS = ["q1", "q2", "q10", "q3"]


def _frame(values=VALUES, qids=QIDS):
    rows = [(s, q, m, v) for (s, m), vals in values.items() for q, v in zip(qids, vals)]
    return pd.DataFrame(rows, columns=["system", "qid", "metric", "value"])


def _row(report, system, metric):
    f = report.to_frame()
    return f[(f.system == system) & (f.metric == metric)].iloc[0]


def test_summary_numbers_by_hand():
    """Oracle: means, deltas and win/tie/loss counted by hand from VALUES."""
    report = compare(_frame(), baseline="base", n_resamples=200)
    f = report.to_frame()
    assert list(f.columns) == SUMMARY_COLUMNS
    assert report.systems == ["base", "s1", "s2"] and report.metrics == ["m1", "m2"]
    r = _row(report, "s1", "m1")
    assert r["n_queries"] == 4
    assert r["mean"] == pytest.approx((0.3 + 0.6 + 0.4 + 0.1) / 4, abs=1e-12)
    assert r["delta"] == pytest.approx(0.075, abs=1e-12)
    assert (r["wins"], r["ties"], r["losses"]) == (3, 1, 0)
    r = _row(report, "s2", "m1")
    assert r["delta"] == pytest.approx(-0.075, abs=1e-12)
    assert (r["wins"], r["ties"], r["losses"]) == (0, 2, 2)
    r = _row(report, "s2", "m2")
    assert r["mean"] == pytest.approx(0.75) and r["delta"] == pytest.approx(0.25)
    assert (r["wins"], r["ties"], r["losses"]) == (3, 0, 1)
    base = _row(report, "base", "m2")
    assert base["mean"] == 0.5 and base["delta"] == 0.0
    assert np.isnan(base["p_value"]) and not base["significant"] and pd.isna(base["wins"])
    # d_z = mean(d) / sd(d): for s1 on m1 the differences are (0.1, 0.1, 0, 0.1)
    d = np.array([0.3, 0.6, 0.4, 0.1]) - np.array([0.2, 0.5, 0.4, 0.0])
    assert _row(report, "s1", "m1")["effect_size"] == pytest.approx(d.mean() / d.std(ddof=1), abs=1e-12)


def test_pvalues_match_scipy_and_statsmodels_per_metric_family():
    """Oracle: scipy.stats.ttest_rel per system, statsmodels Holm over the non-baseline systems per metric."""
    report = compare(_frame(), baseline="base", n_resamples=200)
    for metric in ("m1", "m2"):
        base = VALUES[("base", metric)]
        raw = [ss.ttest_rel(VALUES[(s, metric)], base).pvalue for s in ("s1", "s2")]
        adj = multitest.multipletests(raw, method="holm")[1]
        for s, p, q in zip(("s1", "s2"), raw, adj):
            r = _row(report, s, metric)
            assert r["p_raw"] == pytest.approx(p, abs=1e-10)
            assert r["p_value"] == pytest.approx(q, abs=1e-10)
            assert r["significant"] == (q <= 0.05)


def test_family_all_corrects_across_systems_and_metrics():
    """Oracle: statsmodels Bonferroni over the 4 non-baseline comparisons (2 systems x 2 metrics)."""
    report = compare(_frame(), baseline="base", correction="bonferroni", family="all", n_resamples=200)
    f = report.to_frame().dropna(subset=["p_raw"])
    expected = multitest.multipletests(f["p_raw"].to_numpy(), method="bonferroni")[1]
    np.testing.assert_allclose(f["p_value"].to_numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("test", ["wilcoxon", "randomization"])
def test_other_tests_match_their_oracles(test):
    """Oracle: scipy.stats.wilcoxon / scipy.stats.permutation_test (exact for 4 queries)."""
    report = compare(_frame(), baseline="base", test=test, correction="none")
    a, b = VALUES[("s2", "m2")], VALUES[("base", "m2")]
    if test == "wilcoxon":
        ref = ss.wilcoxon(a, b).pvalue
    else:
        ref = ss.permutation_test((np.array(a), np.array(b)), lambda x, y, axis: np.mean(x - y, axis=axis),
                                  permutation_type="samples", vectorized=True).pvalue
    assert _row(report, "s2", "m2")["p_value"] == pytest.approx(ref, abs=1e-10)


def test_intervals_match_scipy_bootstrap_and_contain_the_mean():
    """Oracle: scipy.stats.bootstrap(np.mean) with the same seed, for a system's mean and for the paired
    mean difference."""
    rng = np.random.default_rng(1)
    values = {("base", "m"): rng.random(40), ("x", "m"): rng.random(40)}
    report = compare(_frame(values, [f"q{i}" for i in range(40)]), baseline="base", n_resamples=999, seed=3,
                     confidence=0.9)
    r = _row(report, "x", "m")
    ref = ss.bootstrap((values[("x", "m")],), np.mean, n_resamples=999, method="percentile", confidence_level=0.9,
                       rng=np.random.default_rng(3)).confidence_interval
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((ref.low, ref.high), abs=1e-10)
    d = values[("x", "m")] - values[("base", "m")]
    ref = ss.bootstrap((d,), np.mean, n_resamples=999, method="percentile", confidence_level=0.9,
                       rng=np.random.default_rng(3)).confidence_interval
    assert (r["delta_ci_low"], r["delta_ci_high"]) == pytest.approx((ref.low, ref.high), abs=1e-10)
    f = report.to_frame()
    assert ((f["ci_low"] <= f["mean"]) & (f["mean"] <= f["ci_high"])).all()


def test_pairs_on_qid_not_on_row_order():
    """Invariant: shuffling the rows does not change the report (queries are paired on qid)."""
    frame = _frame()
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    # the baseline's first row decides the query order of per_query, not the numbers
    a = compare(frame, baseline="base", test="randomization", n_resamples=300).to_frame()
    b = compare(shuffled, baseline="base", test="randomization", n_resamples=300, metrics=["m1", "m2"]).to_frame()
    order = ["system", "metric"]
    a = a.sort_values(order).reset_index(drop=True)
    b = b.sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns=["ci_low", "ci_high", "delta_ci_low", "delta_ci_high"]),
                                  b.drop(columns=["ci_low", "ci_high", "delta_ci_low", "delta_ci_high"]))


def test_deterministic_given_seed():
    """Invariant: same inputs and seed, same frame bit for bit (bootstrap and randomization)."""
    rng = np.random.default_rng(2)
    values = {(s, m): rng.random(30) for s in ("base", "a", "b") for m in ("x", "y")}
    frame = _frame(values, [str(i) for i in range(30)])
    kw = dict(baseline="base", test="randomization", n_resamples=500, seed=7)
    pd.testing.assert_frame_equal(compare(frame, **kw).to_frame(), compare(frame, **kw).to_frame())
    other = compare(frame, **{**kw, "seed": 8}).to_frame()
    assert not np.array_equal(other["ci_low"].to_numpy(), compare(frame, **kw).to_frame()["ci_low"].to_numpy())


def test_identical_system_is_not_significant():
    """Documented convention: a copy of the baseline has delta 0, p = 1 and only ties."""
    values = {**VALUES, ("copy", "m1"): VALUES[("base", "m1")], ("copy", "m2"): VALUES[("base", "m2")]}
    report = compare(_frame(values), baseline="base", n_resamples=100)
    r = _row(report, "copy", "m1")
    assert r["delta"] == 0.0 and r["p_raw"] == 1.0 and not r["significant"]
    assert (r["wins"], r["ties"], r["losses"]) == (0, 4, 0) and r["effect_size"] == 0.0


def test_metrics_subset_and_order():
    """metrics= selects and orders; an unknown metric lists the ones present."""
    report = compare(_frame(), baseline="base", metrics=["m2"], n_resamples=50)
    assert report.metrics == ["m2"]
    with pytest.raises(UnknownNameError, match=r"Unknown metric 'm3'. Choose from \['m1', 'm2'\]"):
        compare(_frame(), baseline="base", metrics=["m3"])


def test_missing_queries_error_names_them():
    """Bad input: a system lacking the baseline's queries is refused with the qids and the fix."""
    frame = _frame()
    frame = frame[~((frame.system == "s2") & (frame.qid == "q10"))]
    with pytest.raises(DataError, match=r"system 's2' lacks 1 of the baseline's 4 queries \(qids \['q10'\]\) "
                                        r"for metric 'm1'.*missing='intersect'"):
        compare(frame, baseline="base")
    extra = pd.concat([_frame(), pd.DataFrame([("s1", "q99", "m1", 0.5)], columns=_frame().columns)])
    with pytest.raises(DataError, match=r"has 1 queries the baseline 'base' lacks \(qids \['q99'\]\)"):
        compare(extra, baseline="base")


def test_missing_queries_intersect_warns_and_compares_on_common():
    """missing='intersect': all systems on the common queries; the drop is recorded and warned."""
    frame = _frame()
    frame = frame[~((frame.system == "s2") & (frame.qid == "q10"))]
    with pytest.warns(UserWarning, match="compared on the 3 queries all systems have"):
        report = compare(frame, baseline="base", missing="intersect", n_resamples=50)
    r = _row(report, "s1", "m1")
    assert r["n_queries"] == 3
    assert r["mean"] == pytest.approx((0.3 + 0.6 + 0.1) / 3)
    assert any("dropped 1 of base's" in w for w in report.warnings)
    assert _row(report, "s1", "m2")["n_queries"] == 3      # s2 lacks q10 for both metrics
    assert "Warning" in report.to_markdown()


def test_bad_input_is_a_typed_error():
    """Bad input: missing columns, NaN values, duplicates, unknown names, bad parameters."""
    frame = _frame()
    with pytest.raises(SchemaError, match=r"compare needs columns \['value'\]"):
        compare(frame.drop(columns="value"), baseline="base")
    bad = frame.copy()
    bad.loc[3, "value"] = np.nan
    with pytest.raises(DataError, match=r"first at system 's1', qid 'q3', metric 'm1'"):
        compare(bad, baseline="base")
    with pytest.raises(DataError, match=r"repeat a \(system, qid, metric\); first: \('s1', 'q1', 'm1'\).*mean over seeds"):
        compare(pd.concat([frame, frame.iloc[:1]]), baseline="base")
    with pytest.raises(UnknownNameError, match=r"Unknown baseline system 'bse'. Choose from \['base', 's1', 's2'\]. "
                                               r"Did you mean 'base'\?"):
        compare(frame, baseline="bse")
    with pytest.raises(UnknownNameError, match="Unknown statistical test 't'"):
        compare(frame, baseline="base", test="t")
    with pytest.raises(UnknownNameError, match="Unknown multiple-testing correction 'BH'"):
        compare(frame, baseline="base", correction="BH")
    with pytest.raises(UnknownNameError, match="Unknown correction family 'system'"):
        compare(frame, baseline="base", family="system")
    with pytest.raises(DataError, match=r"'alpha' parameter of compare must be a float in \(0, 1\)"):
        compare(frame, baseline="base", alpha=5)
    with pytest.raises(DataError, match="only 1 queries in common"):
        compare(frame[frame.qid == "q1"], baseline="base")


def test_compare_runs_matches_pytrec_eval_per_query_values():
    """Oracle: pytrec_eval per-query ndcg_cut_10 and P_5 fed to compare() give the same report."""
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = np.random.default_rng(5)
    qids = [str(q) for q in range(1, 13)]
    docs = [f"d{i}" for i in range(15)]
    qrels = pd.DataFrame([(q, d, int(rng.integers(0, 3))) for q in qids for d in docs[:10]],
                         columns=["qid", "docid", "label"])
    runs = {name: pd.DataFrame([(q, d, float(rng.random())) for q in qids for d in docs],
                               columns=["qid", "docid", "score"]) for name in ("base", "x", "y")}
    report = compare_runs(qrels, runs, ["nDCG@10", "P@5"], baseline="base", n_resamples=200)

    qrel_dict = {q: {r.docid: int(r.label) for r in g.itertuples()} for q, g in qrels.groupby("qid")}
    evaluator = pytrec_eval.RelevanceEvaluator(qrel_dict, {"ndcg_cut.10", "P.5"})
    rows = []
    for name, run in runs.items():
        run_dict = {q: {r.docid: r.score for r in g.itertuples()} for q, g in run.groupby("qid")}
        for q, m in evaluator.evaluate(run_dict).items():
            rows += [(name, q, "nDCG@10", m["ndcg_cut_10"]), (name, q, "P@5", m["P_5"])]
    expected = compare(pd.DataFrame(rows, columns=["system", "qid", "metric", "value"]), baseline="base",
                       metrics=["nDCG@10", "P@5"], n_resamples=200)
    ours, ref = report.to_frame(), expected.to_frame()
    numeric = ["mean", "delta", "p_raw", "p_value", "effect_size"]
    np.testing.assert_allclose(ours[numeric].to_numpy(float), ref[numeric].to_numpy(float), atol=1e-9)
    assert ours[["wins", "ties", "losses"]].equals(ref[["wins", "ties", "losses"]])


def test_compare_experiments_on_common_queries():
    """Oracle: the same numbers by hand on the common queries; names prefixed with the labels."""
    a = _frame()
    b = _frame({("s1", "m1"): [0.9, 0.9, 0.9, 0.9]}, ["q1", "q2", "q3", "q77"])
    report = compare_experiments(a, b, labels=("runA", "runB"), baseline="runA/base", n_resamples=100)
    assert report.systems == ["runA/base", "runA/s1", "runA/s2", "runB/s1"]
    assert report.metrics == ["m1"]
    r = _row(report, "runB/s1", "m1")
    assert r["n_queries"] == 3
    assert r["delta"] == pytest.approx(0.9 - (0.2 + 0.5 + 0.0) / 3)
    assert any("left out: ['m2']" in w for w in report.warnings)
    assert any("3 queries both experiments have" in w for w in report.warnings)
    # single-system frames without a system column are named by their label
    one = _frame({("x", "m1"): [0.1, 0.2, 0.3, 0.4]}).drop(columns="system")
    two = _frame({("x", "m1"): [0.2, 0.2, 0.3, 0.5]}).drop(columns="system")
    rep = compare_experiments(one, two, n_resamples=50)
    assert rep.systems == ["A", "B"] and _row(rep, "B", "m1")["wins"] == 2


def test_test_spec_with_options_reaches_the_test():
    """Oracle: scipy.stats.wilcoxon(zero_method='pratt'); the spec is named in the legend."""
    report = compare(_frame(), baseline="base", test="wilcoxon(zero_method='pratt')", correction="none")
    ref = ss.wilcoxon(VALUES[("s1", "m1")], VALUES[("base", "m1")], zero_method="pratt").pvalue
    assert _row(report, "s1", "m1")["p_value"] == pytest.approx(ref, abs=1e-10)
    assert "Wilcoxon signed-rank test (zero_method='pratt')" in report.to_markdown()
