"""The comparison protocol's rules for training each system: the gain it optimises and its regularisers.

- **Gain alignment** (:func:`training_objective`): an objective that optimises a gain trains with the primary
  metric's gain. trec_eval's ``nDCG`` has linear gain, LightGBM's default ``label_gain`` is ``2^y - 1``: a
  baseline trained on one gain and judged on the other is handicapped against objectives that do not use a
  gain at all (measured on the synthetic web: lambdarank's trec_eval nDCG@10 rises from 0.6585 to 0.6665 when
  it trains on the linear gain).
- **Scale-aware search** (:func:`effective_settings`): hessian-unit regularisers relative to each objective's
  own mean hessian (:mod:`ltr.models.scale`), so one draw of the search space is the same shrinkage for every
  objective.
"""

from __future__ import annotations

#: Backend parameters in hessian units and their defaults (one row of unit hessian): scaled by the mean hessian.
HESSIAN_DEFAULTS = {"xgboost": {"min_child_weight": 1.0}, "lightgbm": {"min_sum_hessian_in_leaf": 1e-3}}
#: The names under which a user may declare them (LightGBM's aliases included): a declared one is not scaled.
HESSIAN_ALIASES = {"min_child_weight": ("min_child_weight",),
                   "min_sum_hessian_in_leaf": ("min_sum_hessian_in_leaf", "min_sum_hessian_per_leaf",
                                               "min_sum_hessian", "min_hessian", "min_child_weight")}
#: Parameters in gain or gradient units: never scaled (their scale is not the hessian's).
UNSCALED = ("min_split_gain", "min_gain_to_split", "gamma", "lambda_l1", "reg_alpha", "alpha")


def metric_gain(metric) -> str | None:
    """``"linear"`` or ``"exp"`` for metrics with a gain (nDCG, DCG), else None."""
    from ltr.metrics import parse_metric
    params = getattr(parse_metric(metric), "params", {}) or {}
    return params.get("gain")


def training_objective(objective, primary: str, max_grade: int, *, align: bool = True):
    """The objective a system trains with: ``objective`` with ``label_gain`` set to the primary metric's gain
    (linear ``(0, 1, ..., max_grade)`` or LightGBM's default ``2^y - 1``) when it optimises a gain, does not set
    ``label_gain`` itself and ``align`` is on; otherwise ``objective`` unchanged."""
    gain = metric_gain(primary)
    params = dict(getattr(objective, "params", {}) or {})
    if not align or gain is None or "label_gain" not in params or params["label_gain"] is not None:
        return objective
    if gain == "linear":
        params["label_gain"] = tuple(float(i) for i in range(max(int(max_grade), 1) + 1))
        return type(objective)(**params)
    return objective   # "exp": LightGBM's and XGBoost's default already


def gain_trained(objective, backend: str) -> str:
    """What gain a system trained on, in words (for the report's protocol table)."""
    params = dict(getattr(objective, "params", {}) or {})
    if "label_gain" in params:
        gains = params["label_gain"]
        if gains is None:
            return "exponential, 2^y - 1 (the backend's default)"
        if tuple(gains) == tuple(float(i) for i in range(len(gains))):
            return f"linear, label_gain 0..{len(gains) - 1}"
        return f"label_gain {tuple(gains)}"
    name = getattr(objective, "name", str(objective))
    if name == "rank_xendcg":
        return "exponential, 2^y - 1 (fixed by LightGBM's rank_xendcg)"
    if name in ("lambdarank_map",):
        return "none (MAP: binary relevance)"
    return "none (the objective optimises no gain)"


def effective_settings(backend: str, settings: dict, hessian: float | None, *, reference_leaf_rows: int,
                       declared_params: dict) -> tuple[dict, dict]:
    """The Ranker settings and extra backend parameters a drawn configuration stands for.

    With ``hessian`` (the scale-aware search), ``reg_lambda = r * hessian * reference_leaf_rows`` and the
    backend's hessian-unit defaults (:data:`HESSIAN_DEFAULTS`) are multiplied by ``hessian``, unless
    ``declared_params`` (``training.params``) sets them, which then mean what they say. Without it (the raw
    search) nothing changes.
    """
    out = dict(settings)
    if hessian is None:
        return out, {}
    if out.get("reg_lambda") is not None:
        out["reg_lambda"] = float(out["reg_lambda"]) * hessian * reference_leaf_rows
    extra = {k: v * hessian for k, v in HESSIAN_DEFAULTS.get(backend, {}).items()
             if not any(alias in declared_params for alias in HESSIAN_ALIASES[k])}
    return out, extra
