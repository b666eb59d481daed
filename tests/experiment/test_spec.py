"""The experiment declaration: names resolved at creation, TOML round trip, bad input before any work."""

from __future__ import annotations

import pytest

from ltr.errors import ConfigError, UnknownNameError
from ltr.experiment import Experiment, load_experiment
from ltr.experiment.runner import search_configurations

DATA = {"kind": "letor", "path": "somewhere"}


def test_systems_skip_unsupported_combinations():
    exp = Experiment(name="x", data=DATA, objectives=["lambdarank", "rank_xendcg"],
                     backends=["lightgbm", "xgboost"])
    names = [s.name for s in exp.systems()]
    assert "lightgbm/rank_xendcg" in names and "xgboost/rank_xendcg" not in names
    assert exp.skipped() == ["xgboost/rank_xendcg"]
    assert exp.baseline == "lightgbm/lambdarank"


def test_objective_names_are_canonical():
    exp = Experiment(name="x", data=DATA, objectives=["lambdarank(truncation_level=20)"],
                     baseline="lightgbm/lambdarank(truncation_level=20)")
    assert exp.objectives == ("lambdarank(truncation_level=20)",)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"objectives": ["lambdamart"]}, UnknownNameError, r"Unknown objective 'lambdamart'. Choose from \["),
    ({"backends": ["catboost"]}, UnknownNameError, r"Unknown backend 'catboost'. Choose from \['lightgbm', "),
    ({"metrics": ["nDCG@ten"]}, UnknownNameError, r"cutoff"),
    ({"test": "t-test"}, UnknownNameError, r"Unknown statistical test 't-test'"),
    ({"correction": "holmes"}, UnknownNameError, r"Did you mean 'holm'"),
    ({"baseline": "lightgbm/ranknet"}, UnknownNameError, r"Unknown baseline system"),
    ({"seeds": [0, "1"]}, ConfigError, r"each seed must be int"),
    ({"data": {"kind": "letor", "paht": "x"}}, ConfigError, r"unknown keys \['paht'\]; valid: .*did you mean 'path'"),
    ({"data": {"kind": "svm"}}, UnknownNameError, r"Unknown data kind 'svm'"),
    ({"training": {"n_estimators": "100"}}, ConfigError, r"training.n_estimators must be int"),
    ({"tuning": {"budget": 0}}, ConfigError, r"tuning.budget must be >= 1"),
    ({"expected": {"ERR@20": [0.5, 0.1]}}, ConfigError, r"expected names metric .ERR@20."),
])
def test_bad_declarations_fail_before_any_work(kwargs, error, match):
    base = dict(name="x", data=DATA, objectives=["lambdarank"])
    base.update(kwargs)
    with pytest.raises(error, match=match):
        Experiment(**base)


def test_unknown_top_level_key_in_toml(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text('name = "x"\nobjectives = ["lambdarank"]\nmetric = ["AP"]\n[data]\nkind = "letor"\npath = "p"\n')
    with pytest.raises(ConfigError, match=r"e.toml.*unknown keys \['metric'\].*did you mean 'metrics'"):
        load_experiment(path)


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML"):
        load_experiment(path)


def test_toml_round_trip(tmp_path):
    exp = Experiment(name="x", data=DATA, objectives=["lambdarank", "ranknet(sigma=2.0)"],
                     metrics=["nDCG@10", "P(rel=2)@5"], seeds=[3, 4], tuning={"budget": 3})
    path = tmp_path / "x.toml"
    path.write_text(exp.to_toml())
    again = Experiment.from_toml(path)
    assert again.to_dict() == exp.to_dict()
    assert again.fingerprint() == exp.fingerprint()


def test_search_is_the_same_for_every_system_and_starts_with_the_defaults():
    exp = Experiment(name="x", data=DATA, objectives=["lambdarank"], tuning={"budget": 5, "seed": 7})
    configs = search_configurations(exp, "Fold1")
    assert len(configs) == 5
    assert configs[0]["learning_rate"] == exp.training.learning_rate
    assert configs == search_configurations(exp, "Fold1")          # deterministic
    assert configs != search_configurations(exp, "Fold2")          # each fold draws its own
    for config in configs[1:]:
        assert 0.02 <= config["learning_rate"] <= 0.2
        assert 7 <= config["num_leaves"] <= 63


def test_backend_specific_settings_go_only_to_their_backend():
    exp = Experiment(name="x", data=DATA, objectives=["lambdarank"])
    lgb_system, xgb_system = exp.systems()
    lgb = exp.training.ranker_kwargs(lgb_system, {"num_leaves": 15, "max_depth": 4}, seed=3)
    xgb = exp.training.ranker_kwargs(xgb_system, {"num_leaves": 15, "max_depth": 4}, seed=3)
    assert lgb["num_leaves"] == 15 and "max_depth" not in lgb
    assert xgb["max_depth"] == 4 and "num_leaves" not in xgb and "min_child_samples" not in xgb
    assert lgb["random_state"] == xgb["random_state"] == 3
