"""LightGBM adapter: ``lightgbm.train`` with our metric as ``feval`` and, for custom objectives, a callable
``params["objective"]`` (LightGBM >= 4 calls it as ``objective(preds, train_data) -> (grad, hess)``)."""

from __future__ import annotations

import numpy as np

from ltr.errors import ConfigError
from ltr.models.backends._base import Backend, Trained, TrainSpec
from ltr.models.callbacks import HarnessEval, Recorder


def _lgb():
    import lightgbm
    return lightgbm


class LightGBMBackend(Backend):
    """LightGBM, deterministic: ``deterministic=True``, ``force_row_wise=True``, fixed ``num_threads`` and
    ``seed`` (LightGBM derives its bagging/feature-fraction/objective seeds from ``seed``)."""

    name = "lightgbm"
    model_file = "model.txt"

    def version(self) -> str:
        return _lgb().__version__

    def native_params(self, settings, objective, *, labels, group_sizes):
        if settings.get("max_depth") is not None and settings["max_depth"] <= 0:
            raise ConfigError("max_depth must be None (no limit) or >= 1")
        params = {
            "boosting": "gbdt",
            "learning_rate": settings["learning_rate"],
            "num_leaves": 31 if settings["num_leaves"] is None else settings["num_leaves"],
            "max_depth": -1 if settings["max_depth"] is None else settings["max_depth"],
            "min_data_in_leaf": 20 if settings["min_child_samples"] is None else settings["min_child_samples"],
            "bagging_fraction": settings["subsample"],
            "bagging_freq": 1 if settings["subsample"] < 1.0 else 0,
            "feature_fraction": settings["colsample"],
            "lambda_l2": 0.0 if settings["reg_lambda"] is None else settings["reg_lambda"],
            "num_threads": settings["n_jobs"],
            "seed": settings["random_state"],
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
            "metric": "None",
        }
        custom = objective.is_custom(self.name)
        if not custom:
            params.update(objective.backend_params(self.name, labels=labels, group_sizes=group_sizes))
        params.update(settings.get("params") or {})
        return params, custom

    def train(self, spec: TrainSpec) -> Trained:
        lgb = _lgb()
        params = dict(spec.params)
        if spec.custom:
            objective, labels, sizes = spec.objective, spec.backend_labels, spec.group_sizes

            def custom_objective(preds, dataset):
                return objective.grad_hess(labels, preds, sizes)

            params["objective"] = custom_objective
        train_set = lgb.Dataset(spec.X, label=spec.backend_labels, group=spec.group_sizes, free_raw_data=True)
        harness = HarnessEval(spec.metrics, spec.objective)
        valid_sets, valid_names = [], []
        if spec.record:
            valid_sets.append(train_set)
            valid_names.append("train")
            harness.add(train_set, "train", spec.labels, spec.group_sizes)
        if spec.valid is not None:
            Xv, yv, bv, gv = spec.valid
            valid_set = lgb.Dataset(Xv, label=bv, group=gv, reference=train_set, free_raw_data=True)
            valid_sets.append(valid_set)
            valid_names.append("valid")
            harness.add(valid_set, "valid", yv, gv)
        evals_result: dict = {}
        callbacks = [lgb.record_evaluation(evals_result)]
        if spec.valid is not None and spec.early_stopping_rounds:
            callbacks.append(lgb.early_stopping(spec.early_stopping_rounds, first_metric_only=True,
                                                verbose=False))
        recorder = None
        if spec.record:
            recorder = Recorder(spec.objective, spec.backend_labels, spec.group_sizes, custom=spec.custom)
            callbacks.append(_LGBRecord(recorder, spec.X))
        booster = lgb.train(params, train_set, num_boost_round=spec.n_estimators,
                            valid_sets=valid_sets or None, valid_names=valid_names or None,
                            feval=harness.lightgbm if valid_sets else None, callbacks=callbacks)
        n_iter = booster.current_iteration()
        best = booster.best_iteration if booster.best_iteration > 0 else n_iter
        return Trained(booster, int(best), int(n_iter), evals_result, recorder)

    def predict_raw(self, model, X, n_trees, n_jobs):
        return model.predict(X, num_iteration=n_trees, num_threads=n_jobs)

    def to_bytes(self, model) -> bytes:
        return model.model_to_string(num_iteration=-1).encode("utf-8")

    def from_bytes(self, data: bytes):
        return _lgb().Booster(model_str=data.decode("utf-8"))

    def n_features(self, model) -> int:
        return model.num_feature()

    def n_trees(self, model) -> int:
        return model.current_iteration()

    def importance(self, model, n_trees, n_features):
        return np.asarray(model.feature_importance(importance_type="gain", iteration=n_trees), dtype=np.float64)


class _LGBRecord:
    """LightGBM after-iteration callback feeding :class:`Recorder` with the training raw scores, kept
    incrementally (one tree predicted per iteration; LightGBM folds its initial score into tree 1)."""

    order = 25            # after record_evaluation (20), before early_stopping (30)
    before_iteration = False

    def __init__(self, recorder: Recorder, X):
        self.recorder, self.X, self.scores = recorder, X, None

    def __call__(self, env):
        tree = env.model.predict(self.X, start_iteration=env.iteration, num_iteration=1, raw_score=True)
        self.scores = tree if self.scores is None else self.scores + tree
        self.recorder.record(env.iteration + 1, self.scores)
