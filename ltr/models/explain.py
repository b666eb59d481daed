"""Per (query, document) explanations: TreeSHAP contributions from the backends' own implementations.

LightGBM's ``Booster.predict(pred_contrib=True)`` and XGBoost's ``Booster.predict(pred_contribs=True)`` both
compute exact TreeSHAP values (Lundberg et al., 2020): one contribution per feature plus a bias (the
expected raw score), which **sum to the row's raw score** (the margin, before any sigmoid or softmax).
Nothing else is installed for it.

Ranking is invariant to a shift of a query's scores, so what explains a document's *rank* is its
contributions relative to the other documents of its query: :attr:`Explanation.relative` subtracts each
query's mean contribution per feature (the bias cancels), and those sum to the document's score minus the
query's mean score. :mod:`ltr.report.explain` turns an :class:`Explanation` into tables and plots.

>>> explanation = explain(ranker, test)                          # doctest: +SKIP
>>> explanation.additivity_error()                               # doctest: +SKIP
2.1e-15

References
----------
Lundberg, S. M. et al. (2020). From local explanations to global understanding with explainable AI for trees.
Nature Machine Intelligence 2, 56-67. doi:10.1038/s42256-019-0138-9
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltr.errors import ConfigError, DataError, FeatureMismatchError, SchemaError
from ltr.models._fitted import fitted_model
from ltr.schema import DOCID, LABEL, QID, SCORE

__all__ = ["Explanation", "explain"]

RAW_SCORE, BIAS = "raw_score", "bias"


@dataclass
class Explanation:
    """TreeSHAP contributions of a set of (query, document) rows.

    Attributes
    ----------
    rows : DataFrame
        One row per document, in the data's order: ``qid``, ``docid``, ``label`` (NaN when unknown),
        ``score`` (the Ranker's score), ``raw_score`` (the margin) and ``bias`` (the expected raw score).
    contributions : DataFrame of shape (n_rows, n_features), float64
        Columns = the model's feature names, in order; ``contributions.sum(axis=1) + bias == raw_score``.
    values : DataFrame of shape (n_rows, n_features), float32
        The feature values the model saw.
    backend, objective : str
    n_trees : int
        Boosting rounds explained (the Ranker's ``best_iteration_``).
    """

    rows: pd.DataFrame
    contributions: pd.DataFrame
    values: pd.DataFrame
    backend: str
    objective: str
    n_trees: int

    @property
    def feature_names(self) -> list[str]:
        return list(self.contributions.columns)

    def __len__(self) -> int:
        return len(self.rows)

    def additivity_error(self) -> float:
        """max |sum of contributions + bias - raw score| (float rounding only: ~1e-15 on LightGBM, ~1e-6 on
        XGBoost, which computes in float32)."""
        total = self.contributions.to_numpy().sum(axis=1) + self.rows[BIAS].to_numpy()
        return float(np.max(np.abs(total - self.rows[RAW_SCORE].to_numpy()))) if len(self) else 0.0

    def mean_abs(self) -> pd.Series:
        """Mean |contribution| per feature over the rows (a global importance in raw-score units)."""
        return self.contributions.abs().mean().rename("mean_abs_contribution")

    @property
    def relative(self) -> pd.DataFrame:
        """Contributions minus their query's mean: what sets a document apart from its query's others.

        Per row they sum to ``raw_score`` minus the query's mean raw score.
        """
        means = self.contributions.groupby(self.rows[QID].to_numpy(), sort=False).transform("mean")
        return self.contributions - means.to_numpy()

    def query(self, qid) -> Explanation:
        """The rows of one query (DataError listing some known qids if it is absent)."""
        mask = (self.rows[QID] == str(qid)).to_numpy()
        if not mask.any():
            known = list(dict.fromkeys(self.rows[QID]))[:10]
            raise DataError(f"query {str(qid)!r} is not in the explained data ({self.rows[QID].nunique()} queries, "
                            f"e.g. {known})")
        take = lambda f: f.loc[mask].reset_index(drop=True)
        return Explanation(take(self.rows), take(self.contributions), take(self.values), self.backend,
                           self.objective, self.n_trees)


def _dataset(data, feature_names):
    from ltr.ranking import RankingDataset
    if isinstance(data, RankingDataset):
        return data
    if isinstance(data, pd.DataFrame):
        missing = [f for f in feature_names if f not in data.columns]
        if missing:
            raise SchemaError(f"explain needs the model's feature columns; the frame lacks {missing[:10]}")
        return RankingDataset.from_frame(data, feature_names, name="explained frame")
    raise SchemaError(f"explain needs a RankingDataset or a FEATURES DataFrame; got {type(data).__name__}")


def _lightgbm(booster, X, n_trees, n_jobs):
    contrib = booster.predict(X, num_iteration=n_trees, pred_contrib=True, num_threads=n_jobs)
    raw = booster.predict(X, num_iteration=n_trees, raw_score=True, num_threads=n_jobs)
    return np.asarray(contrib, dtype=np.float64), np.asarray(raw, dtype=np.float64)


def _xgboost(booster, X, n_trees, n_jobs):
    import xgboost as xgb
    dm = xgb.DMatrix(X, nthread=n_jobs)
    contrib = booster.predict(dm, pred_contribs=True, iteration_range=(0, n_trees))
    raw = booster.predict(dm, output_margin=True, iteration_range=(0, n_trees))
    return np.asarray(contrib, dtype=np.float64), np.asarray(raw, dtype=np.float64)


def explain(ranker, data, *, n_jobs: int | None = None) -> Explanation:
    """TreeSHAP contributions of every row of ``data`` under a fitted ``ranker``.

    Parameters
    ----------
    ranker : Ranker
        Fitted (or loaded). Objectives scored by a single margin (ranking, regression, binary and custom
        objectives); ``multiclass`` scores by the expected grade over several margins, which is not a sum
        of per-feature terms, and is refused.
    data : RankingDataset or DataFrame
        The model's features (a frame: named columns, plus qid, docid and optionally label).
    n_jobs : int, optional
        Threads (default: the Ranker's ``n_jobs``).

    Returns
    -------
    Explanation

    Raises
    ------
    ConfigError
        A multiclass model.
    FeatureMismatchError, SchemaError
        Features that differ from the model's, or data of another type.
    """
    fitted = fitted_model(ranker)
    if fitted.objective.name == "multiclass":
        raise ConfigError(f"objective {fitted.objective!r} scores a document by its expected grade over "
                          f"several class margins, a non-additive function of the trees; per-feature "
                          f"contributions to it do not exist. Explain a ranking, regression or binary model, or "
                          f"call the backend's pred_contrib per class")
    ds = _dataset(data, fitted.feature_names)
    if list(ds.feature_names) != fitted.feature_names:
        raise FeatureMismatchError(f"the explained data's features {list(ds.feature_names)[:10]} differ from the "
                                   f"model's {fitted.feature_names[:10]} (names and order must match)")
    X = ds.dense_X()
    n_jobs = n_jobs or getattr(fitted.ranker, "n_jobs", 1) or 1
    reader = {"lightgbm": _lightgbm, "xgboost": _xgboost}[fitted.backend]
    contrib, raw = reader(fitted.booster, X, fitted.n_trees, n_jobs)
    n_features = len(fitted.feature_names)
    if contrib.shape != (len(ds), n_features + 1):
        raise RuntimeError(f"{fitted.backend} returned contributions of shape {contrib.shape} for {len(ds)} rows "
                           f"and {n_features} features; this is a bug in ltr; please report it")
    scores = fitted.ranker.predict_scores(ds)
    rows = pd.DataFrame({QID: pd.Series(ds.qids, dtype=object), DOCID: pd.Series(ds.docids, dtype=object),
                         LABEL: ds.labels, SCORE: scores, RAW_SCORE: raw.reshape(-1), BIAS: contrib[:, -1]})
    columns = pd.Index(fitted.feature_names, name="feature")
    return Explanation(rows, pd.DataFrame(contrib[:, :-1], columns=columns),
                       pd.DataFrame(X, columns=columns.copy()), fitted.backend, repr(fitted.objective),
                       fitted.n_trees)
