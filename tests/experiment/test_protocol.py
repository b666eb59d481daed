"""The comparison protocol (issue 13): gain alignment, the stopping metric, the hessian-scaled search and the
A/A control, checked on what the runner actually trained."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltr.experiment import Experiment, load_experiment, run_experiment
from ltr.experiment.protocol import effective_settings, gain_trained, training_objective
from ltr.models.scale import initial_hessian_scale
from ltr.objectives import get_objective
from ltr.ranking import RankingDataset
from tests.experiment.conftest import make_letor, write_small_experiment


@pytest.fixture(scope="module")
def graded() -> RankingDataset:
    return make_letor(30, 5, prefix="g")


def test_gain_follows_the_primary_metric():
    """trec_eval's nDCG is linear-gain: lambdarank trains on label_gain 0..k; gain='exp' keeps 2^y - 1;
    objectives without a gain and explicit label_gain are left alone."""
    lam = get_objective("lambdarank")
    linear = training_objective(lam, "nDCG@10", 3)
    assert linear.params["label_gain"] == (0.0, 1.0, 2.0, 3.0)
    assert gain_trained(linear, "lightgbm") == "linear, label_gain 0..3"
    assert training_objective(lam, "nDCG(gain='exp')@10", 3) is lam
    assert training_objective(lam, "AP", 3) is lam
    assert training_objective(lam, "nDCG@10", 3, align=False) is lam
    own = get_objective("lambdarank(label_gain=(0, 1, 3, 7))")
    assert training_objective(own, "nDCG@10", 3) is own
    ranknet = get_objective("ranknet")
    assert training_objective(ranknet, "nDCG@10", 3) is ranknet
    assert gain_trained(get_objective("rank_xendcg"), "lightgbm").startswith("exponential")


@pytest.mark.parametrize("objective", ["ranknet", "regression", "lambdarank_ref"])
def test_the_hessian_scale_is_the_objectives_own(graded, objective):
    """Oracle: the mean of the objective's own hessian at the initial scores (our gradient kernels; squared
    error's is exactly 1), against what LightGBM's first tree records (float32 sums)."""
    obj = get_objective(objective)
    measured = initial_hessian_scale(obj, "lightgbm", graded, seed=0)
    if objective == "regression":
        expected = 1.0
    else:
        _, hess = obj.grad_hess(graded.labels, np.zeros(len(graded)), graded.group_sizes)
        expected = float(np.mean(hess))
    assert measured == pytest.approx(expected, rel=1e-5)


def test_the_scale_aware_search_scales_hessian_units_only():
    settings = {"reg_lambda": 0.5, "num_leaves": 15, "learning_rate": 0.1, "min_child_samples": 20}
    eff, extra = effective_settings("lightgbm", settings, 0.02, reference_leaf_rows=20, declared_params={})
    assert eff["reg_lambda"] == pytest.approx(0.5 * 0.02 * 20)
    assert {k: eff[k] for k in ("num_leaves", "learning_rate", "min_child_samples")} == \
        {"num_leaves": 15, "learning_rate": 0.1, "min_child_samples": 20}
    assert extra == {"min_sum_hessian_in_leaf": pytest.approx(2e-5)}
    _, extra = effective_settings("xgboost", settings, 5.0, reference_leaf_rows=20, declared_params={})
    assert extra == {"min_child_weight": 5.0}
    _, extra = effective_settings("lightgbm", settings, 5.0, reference_leaf_rows=20,
                                  declared_params={"min_hessian": 1.0})   # declared (an alias): used as written
    assert extra == {}
    assert effective_settings("lightgbm", settings, None, reference_leaf_rows=20, declared_params={}) == \
        (settings, {})


def test_the_runner_trains_what_the_protocol_says(tmp_path):
    """The models on disk: lambdarank's label_gain is linear (primary nDCG@10), every system stopped on the
    primary metric, reg_lambda and min_child_weight were scaled by each objective's measured hessian, and the
    control trained the baseline with disjoint seeds."""
    toml = write_small_experiment(tmp_path / "data", seeds=(0, 1), objectives=("lambdarank", "ranknet"), budget=2)
    exp = load_experiment(toml)
    exp = Experiment.from_dict({**exp.to_dict(), "protocol": {"control": True}}, base_dir=toml.parent)
    out = run_experiment(exp, tmp_path / "out", progress=False, build_report=False)
    tuning = {json.loads(p.read_text())["system"]: json.loads(p.read_text()) for p in out.glob("tuning/*/*.json")}
    assert set(tuning) == {"lightgbm/lambdarank", "xgboost/lambdarank", "lightgbm/ranknet", "xgboost/ranknet",
                           "lightgbm/lambdarank (control)"}
    for name, t in tuning.items():
        assert t["metric"] == "nDCG@10" and t["search"] == "scale-aware" and t["hessian_scale"] > 0
        for trial in t["trials"]:
            assert trial["effective"]["reg_lambda"] == pytest.approx(
                trial["config"]["reg_lambda"] * t["hessian_scale"] * 20)
    assert tuning["lightgbm/lambdarank"]["gain"] == "linear, label_gain 0..3"
    assert tuning["xgboost/ranknet"]["backend_params"] == {
        "min_child_weight": pytest.approx(tuning["xgboost/ranknet"]["hessian_scale"])}
    assert tuning["lightgbm/ranknet"]["hessian_scale"] > 10 * tuning["lightgbm/lambdarank"]["hessian_scale"]
    model = json.loads(next(out.glob("cells/all/lightgbm-lambdarank/seed0/model/manifest.json")).read_text())
    assert "label_gain" in json.dumps(model)
    control = sorted(p.parent.name for p in out.glob("cells/all/lightgbm-lambdarank_control/*/cell.json"))
    assert control == ["seed2", "seed3"]          # disjoint from the experiment's seeds 0, 1
    import pandas as pd
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics.loc[metrics["objective"] == "lambdarank (control)", "seed"]) == {2, 3}
