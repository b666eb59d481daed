"""Oracle: ir_measures (its provider pinned to pytrec_eval, i.e. trec_eval 9's ties and query set).

For every measure ir_measures' pytrec_eval provider and ltr both have, the name ir_measures prints is given
to :func:`ltr.metrics.parse_metric` as it is, and our aggregate over random runs with ties equals
``ir_measures.pytrec_eval.calc_aggregate``. Other ir_measures providers break ties differently (ranx, for
one, keeps input order), so they are not oracles for trec_eval's values.

Query set: ir_measures averages over every query of the qrels, scoring a query the run lacks with the
measure's default (0): that is trec_eval ``-c``, i.e. our ``missing_queries='zero'``, not trec_eval's
default (the queries in both), which is what ``pytrec_eval`` itself returns (see
``Evaluator.iter_calc`` in ``ir_measures/providers/base.py``).
"""

from __future__ import annotations

import pytest

from ltr.metrics import aggregate, evaluate, parse_metric
from tests.reference.test_metrics_vs_trec_eval import random_case

ir_measures = pytest.importorskip("ir_measures")

#: Measures in ir_measures' syntax; each must be supported by its pytrec_eval provider (checked below).
SHARED = ["P@1", "P@5", "P@10", "P(rel=2)@5", "AP", "AP@10", "AP@100", "AP(rel=2)", "AP(rel=2)@5", "nDCG", "nDCG@5",
          "nDCG@10", "nDCG@20", "R@5", "R@10", "R@100", "Rprec", "Rprec(rel=2)", "Bpref", "Bpref(rel=2)", "RR",
          "RR(rel=2)", "Success@1", "Success@5", "Success(rel=2)@10", "SetP", "SetP(rel=2)", "SetR", "SetR(rel=2)"]


def _irm_frames(qrels, run):
    return (qrels.rename(columns={"qid": "query_id", "docid": "doc_id", "label": "relevance"})
            .astype({"relevance": int}),
            run.rename(columns={"qid": "query_id", "docid": "doc_id"}))


def test_every_shared_measure_is_supported_by_the_pytrec_eval_provider():
    """Oracle: ir_measures' own `supports`; a name it cannot compute would make the comparison below empty."""
    for name in SHARED:
        assert ir_measures.pytrec_eval.supports(ir_measures.parse_measure(name)), name


@pytest.mark.parametrize("seed", range(12))
def test_aggregates_equal_ir_measures_calc_aggregate(seed, path):
    """Oracle: ir_measures.pytrec_eval.calc_aggregate on random qrels and runs with exact and float32 ties,
    graded and negative labels and queries on one side only; names as ir_measures prints them."""
    qrels, run = random_case(500 + seed)
    if not set(qrels.qid) & set(run.qid):
        pytest.skip("no common query in this random case")
    measures = [ir_measures.parse_measure(name) for name in SHARED]
    expected = ir_measures.pytrec_eval.calc_aggregate(measures, *_irm_frames(qrels, run))
    names = [str(m) for m in measures]
    ours = aggregate(evaluate(qrels, run, names, missing_queries="zero"))
    for measure, name in zip(measures, names):
        assert ours[name] == pytest.approx(expected[measure], abs=1e-12), name


@pytest.mark.parametrize("seed", range(6))
def test_per_query_values_equal_ir_measures_iter_calc(seed):
    """Oracle: ir_measures.pytrec_eval.iter_calc, query by query (values and the set of queries)."""
    qrels, run = random_case(700 + seed)
    if not set(qrels.qid) & set(run.qid):
        pytest.skip("no common query in this random case")
    measures = [ir_measures.parse_measure(n) for n in ("nDCG@10", "AP", "RR", "P@5", "Bpref", "SetR")]
    ours = evaluate(qrels, run, [str(m) for m in measures], missing_queries="zero").set_index(["qid", "metric"])
    ours = ours["value"]
    seen = set()
    for row in ir_measures.pytrec_eval.iter_calc(measures, *_irm_frames(qrels, run)):
        seen.add(row.query_id)
        assert ours[(row.query_id, str(row.measure))] == pytest.approx(row.value, abs=1e-12)
    assert seen == set(ours.index.get_level_values("qid"))


def test_ir_measures_and_trec_eval_spellings_are_our_canonical_metrics():
    """Oracle: the names ir_measures prints for its measures and trec_eval's names of the same measure."""
    pairs = {"nDCG@10": "ndcg_cut_10", "AP": "map", "AP@100": "map_cut_100", "P@10": "P_10", "R@100": "recall_100",
             "RR": "recip_rank", "Rprec": "Rprec", "Bpref": "bpref", "nDCG": "ndcg", "Success@1": "success_1",
             "SetP": "set_P", "SetR": "set_recall", "MAP": "map", "MRR": "recip_rank", "NDCG@10": "ndcg_cut.10",
             "BPref": "bpref", "RPrec": "Rprec", "P(rel=2)@5": "P.5(rel=2)"}
    for irm, trec in pairs.items():
        ours = parse_metric(str(ir_measures.parse_measure(irm)))
        assert parse_metric(trec) == ours == parse_metric(repr(ours))
