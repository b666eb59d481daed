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


COLLECTION = {"kind": "collection", "collection": "synthetic-web(n_docs=400, n_topics=4, seed=0)",
              "features": ["bm25(field='body')"]}


@pytest.mark.parametrize("data, error, match", [
    ({"splits": "kfold(n=3)"}, UnknownNameError, r"split 'kfold' got unknown parameters \['n'\]; valid: \['k'\]"),
    ({"splits": "kfold(k=1)"}, ConfigError, r"The 'k' parameter of split 'kfold' must be an integer >= 2"),
    ({"negatives": "random(m=5)"}, UnknownNameError, r"negative strategy 'random' got unknown parameters \['m'\]"),
    ({"negatives": "all(n=5)"}, UnknownNameError, r"negative strategy 'all' got unknown parameters \['n'\]"),
    ({"first_stage": "bm25(k1=-1)"}, ConfigError, r"The 'k1' parameter of BM25Retriever must be a float >= 0"),
    ({"first_stage": "bm25(variant='okapi')"}, UnknownNameError, r"Unknown BM25 variant 'okapi'"),
    ({"first_stage": "bm25(k=50)"}, ConfigError, r"sets its own k; the depth is data.first_stage_k"),
    ({"first_stage_k": 5}, ConfigError, r"first_stage_k must be in 10 < k < 10,000"),
    ({"features": ["bm25(field='body')", "bm25(field='body')"]}, ConfigError, r"duplicate feature names"),
    ({"path": "x"}, ConfigError, r"data of kind 'collection' got unknown keys \['path'\]"),
])
def test_collection_parts_are_checked_when_declared(data, error, match):
    """Oracle: the documented messages, raised before any retrieval (issue 10: parameters accepted and
    ignored, or refused only after BM25 retrieval)."""
    with pytest.raises(error, match=match):
        Experiment(name="x", data={**COLLECTION, **data}, objectives=["lambdarank"])


def test_collection_declaration_is_canonical():
    exp = Experiment(name="x", data={**COLLECTION, "first_stage": "bm25(b=0.4, k1=1.2)", "splits": "kfold(k=5)",
                                     "negatives": "hard(n=20)"}, objectives=["lambdarank"])
    assert exp.data.first_stage == "bm25(k1=1.2)"      # b=0.4 is the default: omitted
    assert exp.data.splits == "kfold" and exp.data.negatives == "hard(n=20)"
    assert exp.data.retriever(500).get_params()["k"] == 500


@pytest.mark.parametrize("kwargs, match", [
    ({"metrics": ["nDCG@10", "P@10", "ndcg_cut_10"]}, r"metrics \(in their canonical form\) lists \['nDCG@10'\] "
                                                      r"more than once"),
    ({"seeds": [0, 1, 0]}, r"seeds lists \['0'\] more than once"),
    ({"backends": ["lightgbm", "lightgbm"]}, r"backends lists \['lightgbm'\] more than once"),
    ({"seeds": [2**31]}, r"seed 2147483648 is outside \[0, 2147483647\] \(2\^31 - 1\)"),
    ({"seeds": [-1]}, r"seed -1 is outside"),
    ({"tuning": {"space": {"reg_lambda": ["log", 0, 10]}}}, r"a 'log' range needs low > 0"),
    ({"tuning": {"space": {"num_leaves": ["int", 2.5, 10]}}}, r"an 'int' range needs integer bounds"),
    ({"data": {"kind": "letor", "path": "p", "holdout": 0.2}}, r"data of kind 'letor' got unknown keys \['holdout'\]"),
])
def test_repeats_and_out_of_range_values_are_refused(kwargs, match):
    """Oracle: the documented messages (issue 11, item 5: duplicate seeds or backends doubled every row of
    metrics.csv; seeds were reduced mod 2^32; a log range at 0 crashed)."""
    base = dict(name="x", data=DATA, objectives=["lambdarank"])
    base.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        Experiment(**base)


def test_metric_names_are_canonical():
    exp = Experiment(name="x", data=DATA, objectives=["lambdarank"], metrics=["nDCG@10", "P@10"],
                     expected={"nDCG@10": [0.5, 0.1]})
    assert exp.metrics == ("nDCG@10", "P@10")
    assert exp.primary == "nDCG@10" and exp.stop_metric == "nDCG@10"      # the first metric, by default
    explicit = Experiment(name="x", data=DATA, objectives=["lambdarank"], metrics=["AP", "nDCG@10"],
                          primary="nDCG@10", training={"eval_metric": "nDCG(gain='exp', norel=1, ties='row')@10"})
    assert explicit.primary == "nDCG@10"
    assert explicit.stop_metric == "nDCG(gain='exp', norel=1, ties='row')@10"
    with pytest.raises(ConfigError, match=r"primary metric 'RR' is not in metrics"):
        Experiment(name="x", data=DATA, objectives=["lambdarank"], metrics=["AP"], primary="RR")


def test_systems_are_typed():
    exp = Experiment(name="x", data=DATA, objectives=["lambdarank(truncation_level=20)", "ranknet"],
                     backends=["xgboost", "lightgbm"], baseline="lightgbm/lambdarank(truncation_level=20)")
    first = exp.systems()[0]
    assert (first.backend, first.objective_name, first.name) == (
        "xgboost", "lambdarank(truncation_level=20)", "xgboost/lambdarank(truncation_level=20)")
    assert exp.system("lightgbm/ranknet").objective.family == "pairwise"
    assert first.own_settings({"num_leaves": 7, "max_depth": 4}) == {"max_depth": 4}
