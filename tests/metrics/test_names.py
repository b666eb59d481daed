"""trec_eval's and ir_measures' metric names read into ours; parse_metrics; every error message."""

from __future__ import annotations

import pytest

from ltr.errors import ConfigError, UnknownNameError
from ltr.metrics import parse_metric, parse_metrics
from ltr.metrics.names import expand_trec_eval

# (name as another tool spells it, our canonical repr): trec_eval's -m and output forms, ir_measures' names
CASES = [
    ("map", "AP"), ("map_cut_100", "AP@100"), ("map_cut.100", "AP@100"), ("ndcg", "nDCG"),
    ("ndcg_cut_10", "nDCG@10"), ("ndcg_cut.10", "nDCG@10"), ("P_10", "P@10"), ("P.10", "P@10"),
    ("recall_100", "R@100"), ("recall.1000", "R@1000"), ("success_1", "Success@1"), ("success.5", "Success@5"),
    ("recip_rank", "RR"), ("Rprec", "Rprec"), ("bpref", "Bpref"), ("set_P", "P"), ("set_recall", "R"),
    ("P.5(rel=2)", "P(rel=2)@5"), ("MAP", "AP"), ("MRR", "RR"), ("NDCG@10", "nDCG@10"), ("BPref", "Bpref"),
    ("RPrec", "Rprec"), ("SetP", "P"), ("SetR(rel=2)", "R(rel=2)"), ("nDCG(dcg='log2')@10", "nDCG@10"),
    ("nDCG(dcg='exp-log2')@10", "nDCG(gain='exp')@10"), ("AP(judged_only=False)@5", "AP@5"),
]


@pytest.mark.parametrize("given, canonical", CASES)
def test_other_tools_names_are_our_canonical_metrics(given, canonical):
    """Oracle: trec_eval's measure list (trec_eval -h -m all_trec) and ir_measures' registry, by hand."""
    metric = parse_metric(given)
    assert repr(metric) == canonical
    assert metric == parse_metric(canonical) and parse_metric(repr(metric)) == metric


def test_expand_trec_eval_multi_cutoff_form():
    """Oracle: trec_eval's -m syntax, where 'P.5,10' asks for P_5 and P_10."""
    assert expand_trec_eval("P.5,10") == ["P.5", "P.10"]
    assert expand_trec_eval("ndcg_cut.5, 10,20") == ["ndcg_cut.5", "ndcg_cut.10", "ndcg_cut.20"]
    assert expand_trec_eval("nDCG@10") == ["nDCG@10"]


def test_parse_metrics_keeps_the_names_given_and_refuses_one_measure_twice():
    """Oracle: the names given, in order; two spellings of one measure are one measure."""
    parsed = parse_metrics(["ndcg_cut.10", "map", "P.5,10", "nDCG(gain='exp')@10"])
    assert list(parsed) == ["ndcg_cut.10", "map", "P.5", "P.10", "nDCG(gain='exp')@10"]
    assert [repr(m) for m in parsed.values()] == ["nDCG@10", "AP", "P@5", "P@10", "nDCG(gain='exp')@10"]
    assert parse_metrics("AP") == {"AP": parse_metric("AP")}
    with pytest.raises(ConfigError, match=r"^metrics 'nDCG@10' and 'ndcg_cut_10' are the same measure, nDCG@10; "
                                          r"give it once$"):
        parse_metrics(["nDCG@10", "ndcg_cut_10"])
    with pytest.raises(ConfigError, match=r"^metric 'AP' is given twice; give it once$"):
        parse_metrics(["AP", "AP"])
    with pytest.raises(ConfigError, match=r"^the experiment needs at least one metric"):
        parse_metrics([], what="the experiment")


@pytest.mark.parametrize("name, error, pattern", [
    ("P.5,10", ConfigError, r"'P\.5,10' names 2 metrics \(trec_eval's -m form\); give them one at a time: "
                            r"\['P\.5', 'P\.10'\]"),
    ("P_10@5", ConfigError, r"metric 'P_10' already has its cutoff \(10\); drop '@5' or write 'P@5'"),
    ("set_P@10", ConfigError, r"set_P is a set measure and takes no cutoff; for a cutoff write 'P@10'"),
    ("num_ret", UnknownNameError, r"metric 'num_ret' \(trec_eval / ir_measures\) has no equivalent in ltr; "
                                  r"ltr's metrics: \['AP', 'Bpref'"),
    ("infAP", UnknownNameError, r"metric 'infAP' \(trec_eval / ir_measures\) has no equivalent"),
    ("nDCG(judged_only=True)@10", ConfigError, r"judged_only=True .* is not supported; remove the unjudged"),
    ("nDCG(dcg='exp')@10", ConfigError, r"dcg of metric nDCG \(ir_measures' parameter\) must be one of "
                                        r"\['exp-log2', 'log2'\]"),
    ("nDCG(dcg='log2', gain='exp')@10", ConfigError, r"got dcg='log2' \(gain 'linear'\) and gain='exp'; give one"),
    ("nDCG(gains={0: 0, 1: 3})@10", ConfigError, r"a gain table \(ir_measures' gains=\{0: 0, 1: 3\}\) is not "
                                                 r"supported"),
    ("ndcg_cutt_10", UnknownNameError, r"Unknown metric 'ndcg_cutt_10'\. Choose from"),
])
def test_bad_names(name, error, pattern):
    """Oracle: each message says what arrived, what is allowed and how to write it."""
    with pytest.raises(error, match=pattern):
        parse_metric(name)
