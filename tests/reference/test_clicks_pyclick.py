"""Click models against PyClick on the real Yandex sample (../shared/data/yandex-clicks-sample).

Oracle: PyClick (markovi/PyClick at 98e7e46) run by the data set's reference/run_pyclick.py; its figures
(test log-likelihood, perplexity, per-position perplexity, conditional perplexity) and its whole fitted model
(every parameter's numerator and denominator, taken right after training) are in reference/results/*.json,
and SOURCE.md's tables are made from them. Protocols: train on trainSample, test on testSample (DBN with 1
and 5 EM iterations, CCM with 1, as PyClick was run) and oneQueryTrain -> oneQueryTest (PyClick's defaults,
50 iterations). The issue asks for 1e-4; we check 1e-9 (the differences seen are below 1e-12: only the order
of floating-point additions differs).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr.clicks import read_yandex
from ltr.clicks.models import get_click_model
from tests.conftest import shared_path

TOL = 1e-9
CASES = [(m, "oneQueryTrain", "oneQueryTest", None) for m in
         ("GCTR", "RCTR", "DCTR", "PBM", "CM", "UBM", "DCM", "SDBN", "DBN", "CCM")]
CASES += [(m, "trainSample", "testSample", None) for m in ("GCTR", "RCTR", "DCTR", "PBM", "CM", "UBM", "DCM", "SDBN")]
CASES += [("DBN", "trainSample", "testSample", 1), ("DBN", "trainSample", "testSample", 5),
          ("CCM", "trainSample", "testSample", 1)]
_LOGS: dict = {}


def _log(name):
    if name not in _LOGS:
        _LOGS[name] = read_yandex(shared_path("yandex-clicks-sample", name))
    return _LOGS[name]


def _reference(model, train, test, iters):
    suffix = f".iters{iters}" if iters else ""
    path = shared_path("yandex-clicks-sample", "reference", "results", f"{model}.{train}-{test}{suffix}.json")
    return json.loads(path.read_text())


def _value(param, em):
    v = param["_numerator"] / param["_denominator"]
    return min(v, 1 - 1e-6) if em else v


@pytest.mark.parametrize("model, train, test, iters", CASES,
                         ids=[f"{m}-{a}{'-it' + str(i) if i else ''}" for m, a, _, i in CASES])
def test_figures_and_parameters_equal_pyclick(model, train, test, iters):
    ref = _reference(model, train, test, iters)
    spec = model.lower() + (f"(iterations={iters})" if iters else "")
    fitted = get_click_model(spec).fit(_log(train))
    score = fitted.evaluate(_log(test))
    assert score.serps == ref["test_sessions"] and score.dropped_unseen_query == 0
    assert score.log_likelihood == pytest.approx(ref["test_loglikelihood"], abs=TOL)
    assert score.perplexity == pytest.approx(ref["test_perplexity"], abs=TOL)
    assert np.allclose(score.perplexity_at, ref["test_perplexity_at_rank"], atol=TOL, rtol=0)
    assert score.conditional_perplexity == pytest.approx(ref["test_conditional_perplexity"], abs=TOL * 1e4,
                                                         rel=TOL)
    assert np.allclose(score.conditional_perplexity_at, ref["test_conditional_perplexity_at_rank"], rtol=TOL)
    # every fitted parameter: rank-level and per (query, document)
    em = fitted.fitting == "em"
    pyclick = ref["fitted_model_pyclick_json"]
    rel = fitted.relevance().set_index(["qid", "docid"])
    for name, table in pyclick.items():
        if isinstance(table, dict) and "_numerator" in table:            # one value (GCTR, DBN cont, CCM taus)
            ours = getattr(fitted, f"{name}_")
            assert float(ours) == pytest.approx(_value(table, em), abs=TOL), name
        elif isinstance(table, list) and isinstance(table[0], list):    # UBM exam[rank][prev-click rank]
            expected = np.array([[_value(p, em) for p in row] for row in table])
            assert np.allclose(fitted.gamma_pyclick(), expected, atol=TOL, rtol=0)
        elif isinstance(table, list):                                    # per rank (PBM exam, RCTR, DCM cont)
            expected = np.array([_value(p, em) for p in table])
            assert np.allclose(getattr(fitted, f"{name}_"), expected, atol=TOL, rtol=0), name
        else:                                                            # per (query, document)
            pairs = [(q, d, _value(p, em)) for q, docs in table.items() for d, p in docs.items()]
            assert len(pairs) == len(rel)
            ours = rel.loc[[(q, d) for q, d, _ in pairs], name].to_numpy()
            assert np.allclose(ours, [v for _, _, v in pairs], atol=TOL, rtol=0), name


def test_pbm_propensities_of_the_sample_match_source_md():
    """Oracle: SOURCE.md, "PBM propensities (fitted exam ...)" for trainSample (6 decimals); PyClick does not
    normalise them, our ratios are exam / exam[1]."""
    pbm = get_click_model("pbm").fit(_log("trainSample"))
    assert np.round(pbm.exam_, 6).tolist() == [0.811197, 0.559160, 0.463511, 0.385884, 0.293176, 0.259504,
                                               0.242015, 0.195992, 0.204441, 0.190103]
    assert pbm.identification_.identified
    assert pbm.propensities()[0] == 1.0 and pbm.propensities()[1] == pytest.approx(0.559160 / 0.811197, abs=1e-6)


def test_exact_dbn_differs_from_pyclick_only_by_the_documented_e_step():
    """The exact E-step (convention='exact') gives other figures than PyClick's update rules; with
    convention='pyclick' (the default) the difference vanishes (checked above to 1e-9). The exact EM reaches a
    higher training log-likelihood than PyClick's at the same iteration count."""
    train, test = _log("trainSample"), _log("testSample")
    ref = _reference("DBN", "trainSample", "testSample", 5)
    exact = get_click_model("dbn(iterations=5, convention='exact')").fit(train)
    pyclick = get_click_model("dbn(iterations=5)").fit(train)
    assert abs(exact.evaluate(test).log_likelihood - ref["test_loglikelihood"]) > 1e-3
    assert pyclick.evaluate(test).log_likelihood == pytest.approx(ref["test_loglikelihood"], abs=TOL)
    assert exact.evaluate(train).log_likelihood > pyclick.evaluate(train).log_likelihood
