"""XGBoost adapter: ``xgboost.train`` with query groups in the DMatrix, our metric as ``custom_metric`` and,
for custom objectives, ``obj(predt, dtrain) -> (grad, hess)``.

XGBoost grows trees depth-wise to ``max_depth`` (default 6) with ``tree_method="hist"``. Its
``min_child_weight`` is a hessian sum, not a row count, and a leaf limit needs ``grow_policy``: so the
Ranker's ``num_leaves`` and ``min_child_samples`` have no XGBoost equivalent and are refused when set;
pass XGBoost's own parameters in ``params`` instead.
"""

from __future__ import annotations

import numpy as np

from ltr.errors import ConfigError
from ltr.models.backends._base import Backend, Trained, TrainSpec
from ltr.models.callbacks import HarnessEval, Recorder


def _xgb():
    import xgboost
    return xgboost


class XGBoostBackend(Backend):
    name = "xgboost"
    model_file = "model.json"

    def version(self) -> str:
        return _xgb().__version__

    def native_params(self, settings, objective, *, labels, group_sizes):
        for key, native in (("num_leaves", "max_leaves (with grow_policy='lossguide')"),
                            ("min_child_samples", "min_child_weight (a hessian sum)")):
            if settings.get(key) is not None:
                raise ConfigError(f"Ranker({key}={settings[key]!r}) has no XGBoost equivalent; leave it None "
                                  f"and set XGBoost's {native} in params= instead")
        params = {
            "tree_method": "hist",
            "eta": settings["learning_rate"],
            "max_depth": 6 if settings["max_depth"] is None else settings["max_depth"],
            "subsample": settings["subsample"],
            "colsample_bytree": settings["colsample"],
            "nthread": settings["n_jobs"],
            "seed": settings["random_state"],
            "disable_default_eval_metric": 1,
            "verbosity": 0,
        }
        if settings["reg_lambda"] is not None:
            params["lambda"] = settings["reg_lambda"]
        custom = objective.is_custom(self.name)
        if custom:
            # a custom ranking loss is shift invariant; without this XGBoost would fit an intercept for
            # its default reg:squarederror objective
            params["base_score"] = 0.0
        else:
            params.update(objective.backend_params(self.name, labels=labels, group_sizes=group_sizes))
        params.update(settings.get("params") or {})
        return params, custom

    def _dmatrix(self, X, labels, group_sizes, n_jobs):
        xgb = _xgb()
        dm = xgb.DMatrix(X, label=labels, nthread=n_jobs)
        if group_sizes is not None:
            dm.set_group(np.asarray(group_sizes, dtype=np.uint32))
        return dm

    def train(self, spec: TrainSpec) -> Trained:
        xgb = _xgb()
        n_jobs = spec.params.get("nthread", 1)
        dtrain = self._dmatrix(spec.X, spec.backend_labels, spec.group_sizes, n_jobs)
        harness = HarnessEval(spec.metrics, spec.objective)
        evals = []
        if spec.record:
            evals.append((dtrain, "train"))
            harness.add(dtrain, "train", spec.labels, spec.group_sizes)
        if spec.valid is not None:
            Xv, yv, bv, gv = spec.valid
            dvalid = self._dmatrix(Xv, bv, gv, n_jobs)
            evals.append((dvalid, "valid"))
            harness.add(dvalid, "valid", yv, gv)
        callbacks = []
        recorder = None
        if spec.record:
            recorder = Recorder(spec.objective, spec.backend_labels, spec.group_sizes, custom=spec.custom)
            callbacks.append(_XGBRecord(recorder, dtrain))
        early = spec.valid is not None and bool(spec.early_stopping_rounds)
        if early:
            callbacks.append(xgb.callback.EarlyStopping(rounds=spec.early_stopping_rounds,
                                                        metric_name=harness.xgboost_name(spec.metrics[0][0]),
                                                        data_name="valid",
                                                        maximize=True, save_best=False))
        obj = None
        if spec.custom:
            objective, labels, sizes = spec.objective, spec.backend_labels, spec.group_sizes

            def obj(predt, dmatrix):
                return objective.grad_hess(labels, predt, sizes)

        evals_result: dict = {}
        booster = xgb.train(spec.params, dtrain, num_boost_round=spec.n_estimators, evals=evals, obj=obj,
                            custom_metric=harness.xgboost if evals else None, evals_result=evals_result,
                            verbose_eval=False, callbacks=callbacks or None)
        n_iter = booster.num_boosted_rounds()
        best = booster.best_iteration + 1 if early else n_iter
        return Trained(booster, int(best), int(n_iter), harness.restore_names(evals_result), recorder)

    def predict_raw(self, model, X, n_trees, n_jobs):
        dm = self._dmatrix(X, None, None, n_jobs)
        return model.predict(dm, iteration_range=(0, n_trees))

    def to_bytes(self, model) -> bytes:
        return bytes(model.save_raw(raw_format="json"))

    def from_bytes(self, data: bytes):
        booster = _xgb().Booster()
        booster.load_model(bytearray(data))
        return booster

    def n_features(self, model) -> int:
        return model.num_features()

    def n_trees(self, model) -> int:
        return model.num_boosted_rounds()

    def importance(self, model, n_trees, n_features):
        scores = model[:n_trees].get_score(importance_type="total_gain") if n_trees else {}
        out = np.zeros(n_features, dtype=np.float64)
        for key, value in scores.items():
            out[int(key[1:])] = value
        return out


def _make_xgb_record():
    xgb = _xgb()

    class _Record(xgb.callback.TrainingCallback):
        """After each iteration, the training margins (served from XGBoost's prediction cache)."""

        def __init__(self, recorder, dtrain):
            super().__init__()
            self.recorder, self.dtrain = recorder, dtrain

        def after_iteration(self, model, epoch, evals_log):
            self.recorder.record(epoch + 1, model.predict(self.dtrain, output_margin=True))
            return False

    return _Record


def _XGBRecord(recorder, dtrain):
    return _make_xgb_record()(recorder, dtrain)
