"""Tables and plots of explanations (ltr.report.explain).

Oracle: hand-built explanations whose answers are known (shares, which features set a document apart,
the sums that must hold), the drawn bars read back from the axes, and one real explanation of a LightGBM
model whose contributions the backend computed.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ltr.errors import DataError, SchemaError
from ltr.report import compare
from ltr.report import explain as X

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _hand_made():
    """Two queries; in q1, document b leads because of feature 'g' and is held back by 'h'."""
    rows = pd.DataFrame({"qid": ["q1", "q1", "q1", "q2", "q2"], "docid": ["a", "b", "c", "d", "e"],
                         "label": [0.0, 2.0, 1.0, 1.0, np.nan]})
    contributions = pd.DataFrame({"f": [0.1, 0.1, 0.1, 0.3, -0.3], "g": [0.0, 0.9, 0.3, 0.0, 0.0],
                                  "h": [0.0, -0.3, 0.0, 0.2, 0.2]})
    bias = 0.5
    rows["bias"] = bias
    rows["raw_score"] = contributions.sum(axis=1) + bias
    rows["score"] = rows["raw_score"]
    values = pd.DataFrame({"f": [1.0, 1.0, 1.0, 2.0, 0.0], "g": [0.0, 5.0, 2.0, 0.0, 0.0],
                           "h": [3.0, 9.0, 3.0, 1.0, 1.0]}, dtype=np.float32)
    return SimpleNamespace(rows=rows, contributions=contributions, values=values)


def test_contribution_importance_beside_gain():
    """Mean |contribution| per feature by hand; shares sum to 1; the gain is matched by name, not position."""
    e = _hand_made()
    table = X.contribution_importance(e, pd.Series({"h": 1.0, "f": 3.0, "g": 0.0}))
    assert list(table["feature"]) == ["g", "f", "h"]                 # means 0.24, 0.18, 0.14
    np.testing.assert_allclose(table["mean_abs_contribution"], [1.2 / 5, 0.9 / 5, 0.7 / 5])
    assert table["contribution_share"].sum() == pytest.approx(1.0)
    assert dict(zip(table["feature"], table["gain"])) == {"g": 0.0, "f": 3.0, "h": 1.0}
    assert dict(zip(table["feature"], table["gain_rank"])) == {"g": 3, "f": 1, "h": 2}
    with pytest.raises(SchemaError, match=r"gain names features the explanation lacks: \['z'\]"):
        X.contribution_importance(e, pd.Series({"z": 1.0}))


def test_query_explanation_names_what_sets_a_document_apart():
    """In q1 the top document is b (score 1.2); relative to the query's mean its 'g' contribution is
    0.9 - 0.4 = +0.5 and its 'h' is -0.3 + 0.1 = -0.2; with every feature shown these sum to its lead."""
    e = _hand_made()
    table = X.query_explanation(e, "q1", top_k=2, n_features=3)
    top = table[table["rank"] == 1]
    assert set(top["docid"]) == {"b"} and list(top["feature"]) == ["g", "h", "f"]
    np.testing.assert_allclose(top["vs_query_mean"], [0.5, -0.2, 0.0], atol=1e-12)
    assert top["vs_query_mean"].sum() == pytest.approx(top["score_vs_query_mean"].iloc[0])
    assert top["value"].iloc[0] == 5.0 and top["contribution"].iloc[0] == pytest.approx(0.9)
    assert list(table.drop_duplicates("rank")["docid"]) == ["b", "c"]
    with pytest.raises(DataError, match="query 'q9' is not in the explanation"):
        X.query_explanation(e, "q9")
    with pytest.raises(DataError, match="The 'top_k' parameter of query_explanation must be an int >= 1"):
        X.query_explanation(e, "q1", top_k=0)


def test_plots_draw_the_table(tmp_path):
    """Bars read back from the axes equal the table's shares and the relative contributions."""
    e = _hand_made()
    table = X.contribution_importance(e, pd.Series({"f": 3.0, "g": 1.0, "h": 0.0}))
    fig = X.plot_contribution_importance(table, path=tmp_path / "imp.png")
    assert isinstance(fig, Figure) and (tmp_path / "imp.png").read_bytes().startswith(PNG_MAGIC)
    shares = [p.get_width() for p in fig.axes[0].patches][::-1]          # drawn bottom-up
    np.testing.assert_allclose(shares, table["contribution_share"])
    fig = X.plot_query_explanation(e, "q1", top_k=2, n_features=2, path=tmp_path / "q.png")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 and (tmp_path / "q.png").stat().st_size > 2000
    bars = [p.get_width() for p in visible[0].patches]
    np.testing.assert_allclose(sorted(bars), [-0.2, 0.5], atol=1e-12)    # b: features g and h
    assert visible[0].get_title().startswith("#1 b (label 2)")


def test_choose_query_and_report_sections(tmp_path):
    """Without a qid the report shows the largest query with a relevant document; the sections and figures
    land in the Markdown report."""
    e = _hand_made()
    assert X.choose_query(e, top_k=3) == "q1"
    per_query = pd.DataFrame({"system": ["a", "a", "b", "b"], "qid": ["q1", "q2", "q1", "q2"],
                              "metric": "nDCG@10", "value": [0.5, 0.6, 0.4, 0.7]})
    report = compare(per_query, baseline="a")
    X.add_explanation(report, e, gain=pd.Series({"f": 1.0, "g": 1.0, "h": 1.0}), top_k=2, n_features=2,
                      system="lightgbm/lambdarank")
    md = report.to_markdown()
    assert "Feature importance: TreeSHAP and gain (lightgbm/lambdarank)" in md
    assert "Why the top documents of query q1 rank where they do" in md
    titles = [title for title, _, _ in report.figures()]
    assert "TreeSHAP importance (lightgbm/lambdarank)" in titles
    assert "Query q1 explained (lightgbm/lambdarank)" in titles
    report.save(tmp_path / "r")
    assert any(p.suffix == ".png" for p in (tmp_path / "r" / "figures").iterdir())


def test_a_real_explanation(tmp_path):
    """The functions take ltr.models.explain.explain's output unchanged (LightGBM's own contributions)."""
    from ltr.models import Ranker
    from ltr.models.explain import explain
    from tests.models.conftest import make_dataset

    train, test = make_dataset(20, n_features=5, seed=1), make_dataset(4, n_features=5, seed=2, prefix="t")
    ranker = Ranker(objective="lambdarank", backend="lightgbm", n_estimators=10, early_stopping_rounds=None,
                    n_jobs=1, params={"min_data_in_leaf": 5}).fit(train)
    e = explain(ranker, test)
    table = X.contribution_importance(e, ranker.feature_importances_)
    assert set(table["feature"]) == set(ranker.feature_names_in_)
    qid = X.choose_query(e)
    full = X.query_explanation(e, qid, top_k=1, n_features=5)
    assert full["vs_query_mean"].sum() == pytest.approx(full["score_vs_query_mean"].iloc[0], abs=1e-12)
