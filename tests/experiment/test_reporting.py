"""The experiment report's protocol content (issue 13): family, control, both levels of inference, Tukey HSD,
power, TOST, headline and the per-system training protocol, each figure checked against an independent
computation from the folder's metrics.csv."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ltr import stats as S
from ltr.experiment import load_experiment, run_experiment
from ltr.experiment.reporting import read_metrics
from tests.experiment.conftest import write_small_experiment

CONTROL = "lightgbm/lambdarank (control)"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("protocol")
    toml = write_small_experiment(base / "data", seeds=(0, 1, 2), objectives=("lambdarank", "ranknet"))
    text = toml.read_text().replace('backends = ["lightgbm", "xgboost"]', 'backends = ["lightgbm"]')
    toml.write_text(text.replace("[tuning]", "[protocol]\ncontrol = true\nequivalence_margin = 0.05\n\n[tuning]"))
    return run_experiment(load_experiment(toml), base / "out", progress=False)


def test_protocol_table_matches_independent_computations(folder):
    """Oracles: statsmodels' multipletests (Holm over the primary family, the control left out), scipy's
    paired t-test, statsmodels' TTestPower.solve_power (MDE at 80% power, level alpha/m), statsmodels'
    ttost_paired, and ltr.stats.run_level_test / tukey_hsd applied to run means and seed means computed here
    from metrics.csv with pandas."""
    from scipy import stats as sps
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.power import TTestPower
    from statsmodels.stats.weightstats import ttost_paired

    protocol = pd.read_csv(folder / "protocol.csv").set_index("system")
    metrics = read_metrics(folder)
    prim = metrics[metrics["metric"] == "nDCG@10"]
    per_query = prim.groupby(["system", "qid"])["value"].mean().unstack(0)
    base = per_query["lightgbm/lambdarank"]
    family = ["lightgbm/ranknet"]
    assert protocol.loc[CONTROL, "in family"] == "no (control)"
    assert protocol.loc["lightgbm/ranknet", "in family"] == "yes"
    raw = {s: sps.ttest_rel(per_query[s], base).pvalue for s in [*family, CONTROL]}
    holm = multipletests([raw[s] for s in family], method="holm")[1]
    for s, p in zip(family, holm):
        assert protocol.loc[s, "per-query p"] == pytest.approx(p, rel=1e-9)
    assert protocol.loc[CONTROL, "per-query p"] == pytest.approx(raw[CONTROL], rel=1e-9)   # uncorrected
    for s in [*family, CONTROL]:
        d = per_query[s] - base
        m = 1 if s == CONTROL else len(family)
        es = TTestPower().solve_power(nobs=len(d), alpha=0.05 / m, power=0.8, alternative="two-sided")
        assert protocol.loc[s, "per-query MDE"] == pytest.approx(es * d.std(ddof=1), rel=1e-4)
        tost = ttost_paired(per_query[s].to_numpy(), base.to_numpy(), -0.05, 0.05)[0]
        assert protocol.loc[s, "TOST p"] == pytest.approx(tost, rel=1e-9)
    runs = prim.groupby(["system", "fold", "seed"])["value"].mean().reset_index()
    b = runs[runs["system"] == "lightgbm/lambdarank"]
    for s in [*family, CONTROL]:
        a = runs[runs["system"] == s]
        res = S.run_level_test(a["value"], b["value"], folds_a=a["fold"], folds_b=b["fold"])
        assert protocol.loc[s, "run-level delta"] == pytest.approx(res.statistic, abs=1e-12)
        assert protocol.loc[s, "run-level floor"] == pytest.approx(res.p_floor)
        expected = res.pvalue if s == CONTROL else min(1.0, res.pvalue * len(family))
        assert protocol.loc[s, "run-level p"] == pytest.approx(expected, rel=1e-9)
    tukey = S.tukey_hsd(per_query.reset_index().melt(id_vars="qid", var_name="system"),
                        systems=["lightgbm/lambdarank", *family, CONTROL])
    for s in [*family, CONTROL]:
        row = tukey[(tukey["system_a"] == "lightgbm/lambdarank") & (tukey["system_b"] == s)].iloc[0]
        assert protocol.loc[s, "Tukey p"] == pytest.approx(row["p_value"], rel=1e-9)


def test_reports_state_what_was_tested(folder):
    """report.md, report.html and report.tex state the claim, both levels, the run-level floor (one fold of
    3 + 3 runs: 20 labelings, floor 0.1), the control outside the family, secondary metrics as exploratory,
    the trained gain and the stopping metric; a non-significant comparison is never "no difference"."""
    md = (folder / "report.md").read_text()
    html = (folder / "report.html").read_text()
    tex = (folder / "report.tex").read_text()
    for text in (md, html):
        assert "on the primary metric nDCG@10" in text
        assert "On these queries with these trained models" in text
        assert "Across training seeds and folds" in text
        assert "cannot reject" in text and "seeds per system would let it" in text
        assert "outside the family" in text
        assert "AP (exploratory)" in text
        assert "linear, label" in text           # lambdarank trained on trec_eval nDCG's linear gain
        assert "MDE" in text
    assert "Claim tested" in tex and r"\begin{tabular}" in tex and "exploratory" in tex
    assert "no difference\"" in md and "n.s., MDE" in md
    gains = {json.loads(p.read_text())["system"]: json.loads(p.read_text())["gain"]
             for p in (folder / "tuning").glob("*/*.json")}
    assert gains["lightgbm/lambdarank"].startswith("linear") and gains[CONTROL].startswith("linear")
    assert gains["lightgbm/ranknet"].startswith("none")


def test_seeds_without_effect_finds_systems_no_seed_changed():
    """Oracle: the definition, checked by hand on a frame where one system's values are the same for every
    seed on every (fold, query, metric), another's differ on one query by 1e-12, and a third is constant too;
    with one seed there is nothing to compare."""
    from ltr.experiment.reporting import seeds_without_effect
    rows = []
    for system in ("a/same", "b/differs", "c/same-too"):
        for fold in ("F1", "F2"):
            for qid in ("1", "2"):
                for seed in (0, 1):
                    value = 0.5 + 0.1 * (qid == "2")
                    if system == "b/differs" and fold == "F2" and qid == "2" and seed == 1:
                        value += 1e-12
                    rows.append({"system": system, "fold": fold, "qid": qid, "metric": "AP", "seed": seed,
                                 "value": value})
    frame = pd.DataFrame(rows)
    assert seeds_without_effect(frame) == ["a/same", "c/same-too"]
    assert seeds_without_effect(frame[frame["seed"] == 0]) == []      # one seed: nothing to compare
