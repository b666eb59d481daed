"""The backend registry and the backends' parameter checks (names, aliases, values, seeds)."""

from __future__ import annotations

import json
import subprocess
import sys

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb

from ltr.errors import ConfigError, UnknownNameError
from ltr.models import Ranker
from ltr.models.backends import BACKENDS, Backend, available_backends, get_backend, register_backend
from ltr.models.backends._base import MAX_SEED
from ltr.models.backends._xgboost import ALIASES
from ltr.objectives import available_objectives, get_objective, objective_backends
from tests.models.conftest import make_dataset


# -- the registry ---------------------------------------------------------------------------------------------

def test_the_registry_is_the_one_list_of_backends():
    """Every backend an objective names is registered, and every registered backend runs some objective."""
    assert available_backends() == sorted(BACKENDS) == ["lightgbm", "xgboost"]
    assert set(objective_backends()) == set(available_backends())
    for name in available_objectives():
        assert set(get_objective(name).backends) <= set(available_backends()), name
    for name in available_backends():
        backend = get_backend(name)
        assert isinstance(backend, Backend) and backend.name == name and get_backend(backend) is backend
        assert backend.library and backend.model_file and backend.version()


def test_unknown_backend_lists_the_registered_ones():
    with pytest.raises(UnknownNameError, match=r"Unknown backend 'xgb'. Choose from \['lightgbm', 'xgboost'\]"):
        get_backend("xgb")
    with pytest.raises(RuntimeError, match="registered twice"):
        register_backend(get_backend("lightgbm"))


def test_importing_the_registry_loads_no_backend_library():
    """available_backends() is what declarations validate against; it must not import LightGBM, XGBoost or
    scikit-learn."""
    code = ("import sys; from ltr.models.backends import available_backends; available_backends(); "
            "print([m for m in ('lightgbm', 'xgboost', 'sklearn', 'dask') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- parameter names ------------------------------------------------------------------------------------------

def test_unknown_lightgbm_parameter_is_refused_with_the_valid_names():
    """Oracle: LightGBM's own parameter and alias table (LGBM_DumpParamAliases). Before, a typo was silently
    ignored by LightGBM (a warning, suppressed at verbosity -1)."""
    with pytest.raises(UnknownNameError, match=r"got unknown parameters \['min_data_in_leaves'\]; valid: .*"
                                               r"did you mean 'min_data_in_leaf'"):
        Ranker(params={"min_data_in_leaves": 5}, n_jobs=1).fit(make_dataset(4))


def test_lightgbm_alias_really_overrides_the_rankers_setting():
    """Oracle: lightgbm.train with learning_rate=0.3. LightGBM keeps the main name when a main name and an alias
    are both given, so before the alias was mapped {"eta": 0.3} lost to the Ranker's learning_rate=0.05."""
    data = make_dataset(20, seed=1)
    via_alias = Ranker(n_estimators=10, early_stopping_rounds=None, n_jobs=1, params={"eta": 0.3}).fit(data)
    direct = Ranker(n_estimators=10, early_stopping_rounds=None, n_jobs=1, learning_rate=0.3).fit(data)
    assert via_alias.backend_params_["learning_rate"] == 0.3 and "eta" not in via_alias.backend_params_
    np.testing.assert_array_equal(via_alias.predict_scores(data), direct.predict_scores(data))
    with pytest.raises(ConfigError, match=r"sets LightGBM's 'learning_rate' twice, as 'eta' and as 'shrinkage_rate'"):
        Ranker(params={"eta": 0.3, "shrinkage_rate": 0.2}, n_jobs=1).fit(data)


@pytest.mark.parametrize("backend,key,hint", [("lightgbm", "num_trees", "n_estimators="),
                                              ("lightgbm", "random_seed", "random_state="),
                                              ("lightgbm", "early_stopping_rounds", "early_stopping_rounds="),
                                              ("lightgbm", "eval_metric", "eval_metric="),
                                              ("xgboost", "random_state", "random_state="),
                                              ("xgboost", "n_estimators", "n_estimators="),
                                              ("xgboost", "eval_metric", "eval_metric=")])
def test_parameters_the_ranker_sets_are_refused_under_every_alias(backend, key, hint):
    with pytest.raises(ConfigError, match=rf"is set by the Ranker itself; use Ranker\({hint}\.\.\.\)"):
        Ranker(backend=backend, params={key: 1}, n_jobs=1).fit(make_dataset(4))


def test_unknown_xgboost_parameter_is_refused_by_xgboosts_own_check():
    """Oracle: XGBoost's own validation ('Parameters: { ... } are not used', from a configured Booster), which
    knows the parameters of the objective: scale_pos_weight exists but rank:ndcg does not use it."""
    data = make_dataset(4)
    with pytest.raises(UnknownNameError, match=r"got unknown parameters \(XGBoost does not use them\) "
                                               r"\['max_dept'\].*did you mean 'max_depth'"):
        Ranker(backend="xgboost", params={"max_dept": 3}, n_jobs=1).fit(data)
    with pytest.raises(UnknownNameError, match=r"objective 'rank:ndcg'.*\['scale_pos_weight'\]"):
        Ranker(backend="xgboost", params={"scale_pos_weight": 2.0}, n_jobs=1).fit(data)
    ok = Ranker(objective="binary(threshold=1)", backend="xgboost", params={"scale_pos_weight": 2.0}, n_estimators=2,
                n_jobs=1).fit(data)
    assert ok.backend_params_["scale_pos_weight"] == 2.0


def test_xgboost_alias_table_matches_xgboost():
    """Oracle: XGBoost itself. Setting an alias in a Booster changes the other name in save_config() (XGBoost
    exposes no list of aliases; the table in ltr is checked here against the library)."""
    dm = xgb.DMatrix(np.zeros((2, 1)), label=np.zeros(2))

    def config(params):
        found = {}

        def walk(node):
            for key, value in node.items():
                walk(value) if isinstance(value, dict) else found.setdefault(key, value)
        walk(json.loads(xgb.Booster({"verbosity": 0, **params}, [dm]).save_config())["learner"])
        return found

    base = config({})
    for alias, main in ALIASES.items():
        value = "3" if main in ("nthread", "seed") else "0.37"
        changed = config({alias: value})
        assert changed[main] != base[main] and changed[main] == changed[alias], (alias, main)


# -- parameter values -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend,params,reason", [
    ("lightgbm", {"num_leaves": -3}, r"Check failed: \(num_leaves\) > \(1\)"),
    ("lightgbm", {"max_bin": "abc"}, r'Parameter max_bin should be of type int, got "abc"'),
    ("lightgbm", {"bagging_fraction": 1.5}, r"Check failed: \(bagging_fraction\) <= \(1\.0\)"),
    ("xgboost", {"max_depth": "abc"}, r"Invalid Parameter format for max_depth expect int but value='abc'"),
    ("xgboost", {"subsample": 1.5}, r"value 1\.5 for Parameter subsample exceed bound \[0,1\]"),
])
def test_bad_parameter_value_is_one_typed_line(backend, params, reason, capfd):
    """Oracle: the library's own reason, in one line (no C++ source location, no stack trace, nothing printed
    by LightGBM), raised before any data are binned."""
    with pytest.raises(ConfigError) as err:
        Ranker(backend=backend, params=params, n_jobs=1).fit(make_dataset(4))
    text = str(err.value)
    assert "\n" not in text and "Stack trace" not in text and ".cpp" not in text and ".cc:" not in text
    assert text.startswith(("LightGBM refused the training parameters: ", "XGBoost refused the training parameters: "))
    assert __import__("re").search(reason, text)
    assert "[Fatal]" not in capfd.readouterr().err


# -- seeds ----------------------------------------------------------------------------------------------------

def test_backends_fold_large_seeds_so_the_ranker_refuses_them():
    """Oracle: the backends themselves. LightGBM trains the same model for seed s and s + 2^31, XGBoost for s and
    s + 2^32 (both with row and feature subsampling): so a seed beyond 2^31 - 1 would silently repeat a smaller
    one and is refused, with the range."""
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 5)), (rng.random(300) > 0.5).astype(float)

    def lgb_scores(seed):
        p = {"objective": "binary", "verbosity": -1, "seed": seed, "bagging_fraction": 0.5, "bagging_freq": 1,
             "feature_fraction": 0.5, "deterministic": True, "num_threads": 1}
        return lgb.train(p, lgb.Dataset(X, y), 4).predict(X)

    def xgb_scores(seed):
        p = {"objective": "binary:logistic", "verbosity": 0, "seed": seed, "subsample": 0.5, "colsample_bytree": 0.5,
             "nthread": 1}
        return xgb.train(p, xgb.DMatrix(X, label=y), 4).predict(xgb.DMatrix(X))

    assert np.array_equal(lgb_scores(5), lgb_scores(5 + 2**31)) and not np.array_equal(lgb_scores(5), lgb_scores(6))
    assert np.array_equal(xgb_scores(5), xgb_scores(5 + 2**32)) and not np.array_equal(xgb_scores(5), xgb_scores(6))
    assert MAX_SEED == 2**31 - 1
    data = make_dataset(4)
    for backend in available_backends():
        with pytest.raises(ConfigError, match=r"'random_state' parameter of Ranker must be an int in \[0, 2147483647\]"):
            Ranker(backend=backend, random_state=2**32, n_jobs=1).fit(data)
        Ranker(backend=backend, random_state=MAX_SEED, n_estimators=1, n_jobs=1).fit(data)
    with pytest.raises(ConfigError, match=r"params\['bagging_seed'\] must be an int in \[0, 2147483647\]"):
        Ranker(params={"bagging_seed": 2**40}, n_jobs=1).fit(data)
    with pytest.raises(ConfigError, match=r"'objective_seed' parameter of objective 'rank_xendcg' must be None or an "
                                          r"int in \[0, 2147483647\]"):
        get_objective("rank_xendcg(objective_seed=4294967296)")


def test_check_params_validates_a_declaration_without_data():
    """For declarations (an experiment's [training] params): names and values are checked before any data are
    read, by each library's own rules, and aliases come back under the names the Ranker uses."""
    ranknet = get_objective("ranknet")
    assert get_backend("lightgbm").check_params({"eta": 0.1, "min_data": 5}, ranknet) == {"learning_rate": 0.1,
                                                                                         "min_data_in_leaf": 5}
    assert get_backend("xgboost").check_params({"learning_rate": 0.1}, ranknet) == {"eta": 0.1}
    with pytest.raises(UnknownNameError, match=r"\['max_dept'\]"):
        get_backend("xgboost").check_params({"max_dept": 3}, ranknet)
    with pytest.raises(ConfigError, match=r"LightGBM refused the training parameters: Check failed: \(num_leaves\)"):
        get_backend("lightgbm").check_params({"num_leaves": 1}, ranknet)
    with pytest.raises(ConfigError, match=r"XGBoost refused the training parameters: value 3 for Parameter subsample"):
        get_backend("xgboost").check_params({"subsample": 3}, get_objective("lambdarank"))
