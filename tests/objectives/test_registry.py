"""The objective registry: names, printed forms, parameters, backends and their messages."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ltr.errors import ConfigError, UnknownNameError
from ltr.naming import parse_spec
from ltr.objectives import LABEL_KINDS, Objective, available_objectives, get_objective, registry

ROUND_TRIP = [
    ("binary", "binary"),
    ("binary(threshold=2)", "binary(threshold=2.0)"),
    ("multiclass(num_class=5)", "multiclass(num_class=5)"),
    ("multiclass(quantize=(0.5, 1.5))", "multiclass(quantize=(0.5, 1.5))"),
    ("regression", "regression"),
    ("ranknet", "ranknet"),
    ("ranknet(sigma=1)", "ranknet"),
    ("ranknet(sigma=2, normalize=True)", "ranknet(sigma=2.0, normalize=True)"),
    ("lambdarank(truncation_level=20)", "lambdarank(truncation_level=20)"),
    ("lambdarank(truncation_level=30, norm=True)", "lambdarank"),
    ("lambdarank(label_gain=[0, 1, 3])", "lambdarank(label_gain=(0.0, 1.0, 3.0))"),
    ("lambdarank(quantize=1)", "lambdarank(quantize=(1.0,))"),
    ("lambdarank_ref(norm=False, sigmoid=0.5)", "lambdarank_ref(norm=False, sigmoid=0.5)"),
    ("lambdarank_map(threshold=1)", "lambdarank_map(threshold=1.0)"),
    ("lambdarank(pair_method='mean', pairs_per_sample=4)", "lambdarank(pair_method='mean', pairs_per_sample=4)"),
    ("lambdarank(pair_method=topk)", "lambdarank"),
    ("rank_xendcg(objective_seed=3)", "rank_xendcg(objective_seed=3)"),
    ("  ranknet( sigma = 0.5 )  ", "ranknet(sigma=0.5)"),
]


@pytest.mark.parametrize("text, printed", ROUND_TRIP)
def test_printed_form_parses_back(text, printed):
    """repr is the identity: it prints the non-default parameters and parses back to an equal object."""
    obj = get_objective(text)
    assert repr(obj) == printed
    again = get_objective(repr(obj))
    assert again == obj and hash(again) == hash(obj)
    assert parse_spec(repr(obj)).name == obj.name


def test_equal_repr_means_equal_and_same_hash():
    a, b = get_objective("ranknet(sigma=2)"), get_objective("ranknet(sigma=2.0)")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert get_objective("ranknet") != get_objective("ranknet(normalize=True)")
    assert get_objective("lambdarank") != get_objective("lambdarank_ref")
    assert get_objective(a) is a


def test_objectives_are_immutable():
    obj = get_objective("ranknet")
    with pytest.raises(AttributeError, match=r"immutable"):
        obj.sigma = 3.0
    with pytest.raises(TypeError):
        obj.params["sigma"] = 3.0
    assert copy.deepcopy(obj) is obj
    assert obj.sigma == 1.0 and obj.params == {"sigma": 1.0, "normalize": False, "pairs_per_doc": None, "seed": 0}


def test_registry_contents_and_metadata():
    """Every registered objective declares a family, backends, label kinds and a docstring with a reference."""
    assert {"binary", "multiclass", "regression", "ranknet", "lambdarank", "lambdarank_ref", "lambdarank_map",
            "rank_xendcg"} <= set(available_objectives())
    assert available_objectives() == sorted(registry)
    for name in available_objectives():
        obj = get_objective(name)
        assert obj.name == name and isinstance(obj, Objective)
        assert obj.family in {"pointwise", "pairwise", "listwise"}
        assert obj.backends      # each name is checked against the backend registry in tests/models/test_backends.py
        assert obj.label_kinds and obj.label_kinds <= set(LABEL_KINDS)
        assert "References" in type(obj).__doc__, name


def test_unknown_name_lists_the_registered_ones():
    with pytest.raises(UnknownNameError) as err:
        get_objective("lambdamart")
    msg = str(err.value)
    assert msg.startswith("Unknown objective 'lambdamart'. Choose from ")
    assert str(available_objectives()) in msg


def test_unknown_parameters_list_the_valid_ones():
    with pytest.raises(UnknownNameError, match=r"objective 'ranknet' got unknown parameters \['sigmoid'\]; "
                                               r"valid: \['normalize', 'pairs_per_doc', 'seed', 'sigma'\]"):
        get_objective("ranknet(sigmoid=2)")
    with pytest.raises(UnknownNameError, match=r"did you mean 'truncation_level'"):
        get_objective("lambdarank(truncation=10)")
    with pytest.raises(UnknownNameError, match=r"has a cutoff '@10'"):
        get_objective("lambdarank@10")


BAD_VALUES = [
    ("ranknet(sigma=-1)", r"The 'sigma' parameter of objective 'ranknet' must be a float > 0. Got -1 instead."),
    ("ranknet(normalize=1)", r"The 'normalize' parameter of objective 'ranknet' must be True or False. Got 1"),
    ("lambdarank(truncation_level=0)", r"'truncation_level' parameter .* must be an int >= 1. Got 0"),
    ("lambdarank(truncation_level=2.5)", r"must be an int >= 1. Got 2.5"),
    ("lambdarank(label_gain=(1,))", r"at least two finite gains >= 0"),
    ("lambdarank(quantize=(2, 1))", r"strictly increasing"),
    ("binary(threshold='high')", r"must be a finite float. Got 'high'"),
    ("rank_xendcg(objective_seed=1.5)", r"must be an int. Got 1.5"),
    ("lambdarank(pair_method='all')", r"'pair_method' parameter .* must be one of \['topk', 'mean'\]. Got 'all'"),
    ("lambdarank(pair_method='mean', truncation_level=5)", r"truncation_level applies to pair_method='topk' only"),
    ("lambdarank_map(pairs_per_sample=3)", r"pairs_per_sample applies to pair_method='mean' only"),
]


@pytest.mark.parametrize("text, message", BAD_VALUES)
def test_bad_parameter_values_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        get_objective(text)


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match=r"Unknown backend 'catboost'. Choose from \['lightgbm', 'xgboost'\]"):
        get_objective("ranknet").is_custom("catboost")


def test_backend_an_objective_lacks_is_refused_with_the_ones_it_has():
    with pytest.raises(ConfigError, match=r"objective rank_xendcg is not available on xgboost; it runs on "
                                          r"\['lightgbm'\]"):
        get_objective("rank_xendcg").backend_params("xgboost")
    with pytest.raises(ConfigError, match=r"lambdarank_map is not available on lightgbm"):
        get_objective("lambdarank_map").check_labels(np.zeros(2), [2], backend="lightgbm")


IS_CUSTOM = [
    ("binary", "lightgbm", False), ("binary", "xgboost", False),
    ("regression", "lightgbm", False), ("multiclass", "xgboost", False),
    ("ranknet", "lightgbm", True), ("ranknet", "xgboost", False),
    ("lambdarank", "lightgbm", False), ("lambdarank", "xgboost", False),
    ("lambdarank_ref", "lightgbm", True), ("lambdarank_ref", "xgboost", True),
    ("lambdarank_map", "xgboost", False), ("rank_xendcg", "lightgbm", False),
]


@pytest.mark.parametrize("name, backend, custom", IS_CUSTOM)
def test_is_custom_and_backend_params(name, backend, custom):
    """Custom objectives give {} (the ranker passes grad_hess); native ones name the backend's objective."""
    obj = get_objective(name)
    labels = np.array([0.0, 1.0, 2.0, 0.0, 1.0])
    assert obj.is_custom(backend) is custom
    params = obj.backend_params(backend, labels=labels, group_sizes=[3, 2])
    if custom:
        assert params == {}
        assert "custom objective" in obj.describe(backend)
    else:
        assert params["objective"] == obj.native[backend]
        assert f"objective = {params['objective']!r}" in obj.describe(backend, labels=labels, group_sizes=[3, 2])


NATIVE = [
    ("binary", "lightgbm", {"objective": "binary"}),
    ("binary", "xgboost", {"objective": "binary:logistic"}),
    ("regression", "lightgbm", {"objective": "regression"}),
    ("regression", "xgboost", {"objective": "reg:squarederror"}),
    ("multiclass", "lightgbm", {"objective": "multiclass", "num_class": 3}),
    ("multiclass", "xgboost", {"objective": "multi:softprob", "num_class": 3}),
    ("multiclass(num_class=6)", "lightgbm", {"objective": "multiclass", "num_class": 6}),
    ("lambdarank(truncation_level=20, label_gain=(0, 1, 3))", "lightgbm",
     {"objective": "lambdarank", "lambdarank_truncation_level": 20, "lambdarank_norm": True, "sigmoid": 1.0,
      "label_gain": [0.0, 1.0, 3.0]}),
    ("rank_xendcg", "lightgbm", {"objective": "rank_xendcg"}),
    ("ranknet", "xgboost", {"objective": "rank:pairwise", "lambdarank_pair_method": "topk",
                            "lambdarank_num_pair_per_sample": 3, "lambdarank_normalization": False,
                            "lambdarank_score_normalization": False, "lambdarank_unbiased": False}),
]


@pytest.mark.parametrize("name, backend, expected", NATIVE)
def test_native_parameter_tables(name, backend, expected):
    labels = np.array([0.0, 1.0, 2.0, 0.0, 1.0])
    assert get_objective(name).backend_params(backend, labels=labels, group_sizes=[3, 2]) == expected


def test_lightgbm_accepts_every_native_mapping():
    """Oracle: LightGBM itself. Each native mapping trains one round without complaint."""
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=40).astype(float)
    X = rng.normal(size=(40, 3))
    sizes = [10, 10, 20]
    for name in available_objectives():
        obj = get_objective(name)
        if "lightgbm" not in obj.backends or obj.is_custom("lightgbm"):
            continue
        obj.check_labels(labels, sizes, backend="lightgbm")
        y = obj.transform_labels(labels, backend="lightgbm")
        params = {**obj.backend_params("lightgbm", labels=labels, group_sizes=sizes), "verbose": -1,
                  "num_threads": 1, "min_data_in_leaf": 1}
        booster = lgb.train(params, lgb.Dataset(X, label=y, group=sizes), num_boost_round=1)
        scores = obj.transform_scores(booster.predict(X))
        assert scores.shape == (40,), name


def test_xgboost_accepts_every_native_mapping():
    """Oracle: XGBoost itself. Each native mapping trains one round without complaint."""
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=40).astype(float)
    X = rng.normal(size=(40, 3))
    sizes = [10, 10, 20]
    for name in [*available_objectives(), "lambdarank_map(threshold=1)"]:
        obj = get_objective(name)
        if "xgboost" not in obj.backends or obj.is_custom("xgboost") or name == "lambdarank_map":
            continue
        obj.check_labels(labels, sizes, backend="xgboost")
        d = xgb.DMatrix(X, label=obj.transform_labels(labels, backend="xgboost"))
        d.set_group(sizes)
        params = {**obj.backend_params("xgboost", labels=labels, group_sizes=sizes), "nthread": 1}
        booster = xgb.train(params, d, num_boost_round=1)
        scores = obj.transform_scores(booster.predict(d))
        assert scores.shape == (40,), name
