"""The hessian scale of an objective on a training set, read from the backend's own first tree.

Regularisers such as ``reg_lambda`` (L2 on leaf values: a leaf's Newton step is ``-G / (H + lambda)``),
XGBoost's ``min_child_weight`` and LightGBM's ``min_sum_hessian_in_leaf`` act on sums of hessians, whose scale
differs by orders of magnitude between objectives (LightGBM's lambdarank, whose ``lambdarank_norm`` rescales
each query, has a mean hessian per row of about 0.02 on the synthetic web; RankNet's is about 5; squared error's
is exactly 1). One value of ``reg_lambda`` is then a different model class for each objective. The scale is
measured where the backends compute it: one boosting round at the initial scores, without row or feature
subsampling, whose root node records the hessian sum over all rows (LightGBM ``internal_weight`` /
``leaf_weight`` of ``dump_model()``; XGBoost ``cover`` of ``get_dump(with_stats=True)``); for multi-class
objectives, the mean over the round's trees. Hessians shrink as training proceeds; the initial scale is the
reference every objective shares.
"""

from __future__ import annotations

import json

import numpy as np

from ltr.errors import DataError


def root_hessians(model, backend: str) -> list[tuple[float, float | None]]:
    """``(hessian sum, rows)`` of the root of each tree of the first round (rows None where the backend does
    not record them)."""
    if backend == "lightgbm":
        roots = [t["tree_structure"] for t in model.dump_model()["tree_info"]]
        return [(float(r.get("internal_weight", r.get("leaf_weight"))),
                 float(r.get("internal_count", r.get("leaf_count")))) for r in roots]
    if backend == "xgboost":
        return [(float(json.loads(t)["cover"]), None) for t in model.get_dump(dump_format="json", with_stats=True)]
    raise DataError(f"the hessian scale is read from LightGBM's or XGBoost's trees; backend {backend!r} has none")


def initial_hessian_scale(objective, backend: str, train, *, n_jobs: int = 1, seed: int = 0,
                          params: dict | None = None) -> float:
    """Mean hessian per row of ``objective`` on ``train`` at the backend's initial scores.

    Parameters
    ----------
    objective : str or Objective
    backend : {"lightgbm", "xgboost"}
    train : RankingDataset
    n_jobs, seed : int
    params : dict, optional
        Backend parameters of the models being scaled (e.g. ``label_gain`` set by the objective is part of
        the objective; ``params`` are the experiment's extra backend parameters).

    Returns
    -------
    float
        ``sum of hessians / rows`` at the root of the first round's tree(s), averaged over the trees.
    """
    from ltr.models.ranker import Ranker
    ranker = Ranker(objective=objective, backend=backend, n_estimators=1, early_stopping_rounds=None,
                    subsample=1.0, colsample=1.0, n_jobs=n_jobs, random_state=seed, params=params or None)
    ranker.fit(train)
    roots = root_hessians(ranker.model_, backend)
    n = len(train)
    scale = float(np.mean([h / (rows if rows else n) for h, rows in roots]))
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(f"objective {objective!r} on {backend} has a mean hessian of {scale} on {train.name} at its "
                        f"initial scores; the hessian-scaled search needs a positive one. Use "
                        f"[protocol] search = \"raw\" for it")
    return scale
