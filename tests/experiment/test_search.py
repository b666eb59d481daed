"""The hyper-parameter search (issue 16 item 6): Optuna's TPE beside the random search, same budget, seeded,
bit-reproducible, in the units of the scale-aware search space."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from ltr.errors import ConfigError, UnknownNameError
from ltr.experiment import Experiment, load_experiment, run_experiment
from ltr.experiment.search import _seed, search_configurations, tpe_startup
from ltr.experiment.spec import TuningSpec
from tests.experiment.conftest import write_small_experiment

BUDGET = 5


def _tpe_experiment(tmp_path, name="data", **tuning) -> Experiment:
    toml = write_small_experiment(tmp_path / name, seeds=(0,), objectives=("lambdarank", "ranknet"), budget=BUDGET)
    exp = load_experiment(toml)
    d = exp.to_dict()
    d["backends"] = ["lightgbm"]
    d["tuning"] = {**d["tuning"], "sampler": "tpe", **tuning}
    return Experiment.from_dict(d, base_dir=toml.parent)


def _tuning(out) -> dict:
    return {json.loads(p.read_text())["system"]: json.loads(p.read_text()) for p in out.glob("tuning/*/*.json")}


@pytest.fixture(scope="module")
def two_tpe_runs(tmp_path_factory):
    pytest.importorskip("optuna")
    tmp = tmp_path_factory.mktemp("tpe")
    exp = _tpe_experiment(tmp)
    outs = [run_experiment(exp, tmp / f"out{i}", progress=False, build_report=False) for i in range(2)]
    return exp, outs


def test_tpe_is_bit_reproducible_for_a_fixed_seed(two_tpe_runs):
    """Oracle: the same experiment run twice in fresh folders (one worker): identical configurations, validation
    scores and per-query metrics, to the byte."""
    exp, (a, b) = two_tpe_runs
    ta, tb = _tuning(a), _tuning(b)
    assert set(ta) == {"lightgbm/lambdarank", "lightgbm/ranknet"}
    for name in ta:
        assert ta[name]["sampler"] == "tpe"
        assert [t["config"] for t in ta[name]["trials"]] == [t["config"] for t in tb[name]["trials"]]
        assert [t["valid_score"] for t in ta[name]["trials"]] == [t["valid_score"] for t in tb[name]["trials"]]
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    import optuna
    assert json.loads((a / "manifest.json").read_text())["versions"]["optuna"] == optuna.__version__


def test_tpe_keeps_the_budget_and_is_optunas_own_proposal(two_tpe_runs):
    """Every system gets ``budget`` trials, the first the training defaults. Oracle for the proposals: an Optuna
    study built here by hand (TPESampler with the fold's seed and the same startup, the defaults and then each
    recorded trial told with its recorded validation score) proposes exactly the recorded configurations; and
    they differ from the random search's (TPE really ran)."""
    import optuna

    exp, (out, _) = two_tpe_runs
    random_configs = [{k: v for k, v in c.items() if k not in ("max_depth",)}
                      for c in search_configurations(exp, "all")]
    for name, t in _tuning(out).items():
        trials = t["trials"]
        assert len(trials) == BUDGET
        assert trials[0]["config"] == {k: getattr(exp.training, k) for k in
                                       ("learning_rate", "reg_lambda", "num_leaves", "min_child_samples")}
        dists = {}
        for k, (kind, low, high) in exp.tuning.space.items():
            if k == "max_depth":      # an XGBoost setting: not asked of LightGBM systems
                continue
            dists[k] = (optuna.distributions.IntDistribution(int(low), int(high)) if kind == "int" else
                        optuna.distributions.FloatDistribution(low, high, log=kind == "log"))
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(
            seed=_seed(exp, "all") % 2 ** 32, n_startup_trials=tpe_startup(BUDGET)))
        first = {k: v for k, v in trials[0]["config"].items() if dists[k].low <= v <= dists[k].high}
        study.add_trial(optuna.trial.create_trial(params=first, distributions={k: dists[k] for k in first},
                                                  value=trials[0]["valid_score"]))
        for trial in trials[1:]:
            proposal = study.ask(dists)
            assert proposal.params == trial["config"], name
            study.tell(proposal, trial["valid_score"])
        assert [t["config"] for t in trials[1:]] != random_configs[1:]
        for trial in trials[1:]:
            for k, v in trial["config"].items():
                kind, low, high = exp.tuning.space[k]
                assert low <= v <= high and (kind != "int" or isinstance(v, int))


def test_a_tpe_draw_is_in_the_scale_aware_units(two_tpe_runs):
    """Under ``[protocol] search = "scale-aware"`` a TPE draw of reg_lambda is the shrinkage ratio r, as a random
    draw is: the backend value is r * mean hessian * reference_leaf_rows (protocol.effective_settings)."""
    exp, (out, _) = two_tpe_runs
    assert exp.protocol.search == "scale-aware"
    for t in _tuning(out).values():
        assert t["hessian_scale"] > 0
        for trial in t["trials"]:
            assert trial["effective"]["reg_lambda"] == pytest.approx(
                trial["config"]["reg_lambda"] * t["hessian_scale"] * exp.protocol.reference_leaf_rows)
            assert trial["backend_params"] == {"min_sum_hessian_in_leaf": pytest.approx(1e-3 * t["hessian_scale"])}


def test_the_winner_of_the_tpe_search_is_what_the_cell_trained(two_tpe_runs):
    exp, (out, _) = two_tpe_runs
    for name, t in _tuning(out).items():
        best = max(range(len(t["trials"])), key=lambda i: (t["trials"][i]["valid_score"], -i))
        assert t["best"] == best
        cell = json.loads(next(out.glob(f"cells/all/{name.replace('/', '-')}/seed0/cell.json")).read_text())
        assert cell["config"] == {**t["effective"], **t["backend_params"]}
    assert set(pd.read_csv(out / "metrics.csv")["objective"]) == {"lambdarank", "ranknet"}
    from ltr.experiment.reporting import build_report
    build_report(out, plots=False)
    assert "Optuna TPE (one study per fold and system, seeded), 5 configurations" in (out / "report.md").read_text()


def test_tpe_without_optuna_is_refused_with_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)     # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'ltr\[tune\]'"):
        TuningSpec(sampler="tpe")
    TuningSpec(sampler="tpe", budget=1)                  # no search: nothing to sample
    TuningSpec(sampler="random")


def test_unknown_samplers_list_the_valid_ones():
    with pytest.raises(UnknownNameError, match=r"Choose from \['random', 'tpe'\]"):
        TuningSpec(sampler="grid")
    with pytest.raises(ConfigError, match="tuning.sampler"):
        TuningSpec(sampler=1)


def test_the_sampler_is_part_of_the_cells_identity(tmp_path):
    """Changing the sampler changes what every cell trained: a finished random-search folder is not reused."""
    pytest.importorskip("optuna")
    tpe = _tpe_experiment(tmp_path)
    rnd = Experiment.from_dict({**tpe.to_dict(), "tuning": {**tpe.to_dict()["tuning"], "sampler": "random"}},
                               base_dir=tpe.base_dir)
    assert tpe.cell_fingerprint() != rnd.cell_fingerprint()
    assert 'sampler = "tpe"' in tpe.to_toml()


def test_tpe_asks_each_backend_only_for_the_settings_it_has(tmp_path):
    """XGBoost has no num_leaves / min_child_samples (BACKEND_SETTINGS): its study models learning_rate,
    reg_lambda and max_depth only, and every proposal keeps the space's bounds and kinds; LightGBM's the reverse."""
    pytest.importorskip("optuna")
    from ltr.experiment.search import make_search
    from ltr.experiment.systems import System
    from ltr.objectives import get_objective

    exp = _tpe_experiment(tmp_path)
    for backend, asked in (("xgboost", {"learning_rate", "reg_lambda", "max_depth"}),
                           ("lightgbm", {"learning_rate", "reg_lambda", "num_leaves", "min_child_samples"})):
        system = System(backend, get_objective("ranknet"))
        search = make_search(exp, "all", system)
        assert search.ask() == {k: getattr(exp.training, k) for k in exp.tuning.space}   # the defaults first
        search.tell(0.5)
        for i in range(6):
            config = search.ask()
            assert set(config) == set(exp.tuning.space)
            drawn = {k for k, v in config.items() if v != getattr(exp.training, k)}
            assert drawn <= asked and set(search._trial.params) == asked
            for k in asked:
                kind, low, high = exp.tuning.space[k]
                assert low <= config[k] <= high and (kind != "int" or isinstance(config[k], int))
            search.tell(0.1 * i)
