"""XGBoost adapter: ``xgboost.train`` with query groups in the DMatrix, our metric as ``custom_metric`` and,
for custom objectives, ``obj(predt, dtrain) -> (grad, hess)``.

XGBoost grows trees depth-wise to ``max_depth`` (default 6) with ``tree_method="hist"``. Its
``min_child_weight`` is a hessian sum, not a row count, and a leaf limit needs ``grow_policy``: so the
Ranker's ``num_leaves`` and ``min_child_samples`` have no XGBoost equivalent and are refused when set;
pass XGBoost's own parameters in ``params`` instead.

Weights: XGBoost's ranking objectives (``rank:ndcg``, ``rank:map``, ``rank:pairwise``) take one weight per
query group (``DMatrix.set_weight`` with one value per group; ``lambdarank_obj.cc`` multiplies each
group's gradients by ``w_g * n_groups / sum(w)``, i.e. the weights normalised to mean 1); its pointwise
objectives take one weight per row.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ltr.errors import ConfigError, DataError, UnknownNameError
from ltr.models.backends._base import Backend, Trained, TrainSpec
from ltr.models.backends._lightgbm import native_message
from ltr.models._harness import HarnessEval, Recorder
from ltr.naming import check_params

#: XGBoost's parameter aliases (``DMLC_DECLARE_ALIAS`` in src/tree/param.h and src/context.cc; XGBoost has
#: no API that lists them). Alias -> the name the Ranker uses. tests/models/test_backends.py checks each
#: pair against XGBoost itself (setting one name changes the other in ``Booster.save_config()``).
ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha",
           "n_jobs": "nthread", "random_state": "seed"}
#: Set by the Ranker itself (or not XGBoost parameters at all), with the Ranker argument to use instead.
_RESERVED = {"objective": "objective=", "eval_metric": "eval_metric=", "seed": "random_state=",
             "n_estimators": "n_estimators=", "num_boost_round": "n_estimators=", "num_round": "n_estimators=",
             "early_stopping_rounds": "early_stopping_rounds="}
#: XGBoost's seed is taken modulo 2^32; the Ranker's common range (LightGBM's) is narrower.
_UNUSED = re.compile(r"Parameters: \{(.*?)\} (?:are|is) not used")


def _xgb():
    import xgboost
    return xgboost


def _config_keys(node, out: set) -> set:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                _config_keys(value, out)
            else:
                out.add(key)
    elif isinstance(node, list):
        for value in node:
            _config_keys(value, out)
    return out


class XGBoostBackend(Backend):
    name = "xgboost"
    library = "xgboost"
    model_file = "model.json"
    supports_cluster = True

    def version(self) -> str:
        return _xgb().__version__

    # -- parameters ---------------------------------------------------------------------------------------
    def check_params(self, user_params, objective=None):
        """Aliases replaced by the Ranker's names (``learning_rate`` -> ``eta``); names the Ranker sets
        itself refused; with ``objective``, unknown names and bad values found by XGBoost itself
        (:meth:`_probe`, on the Ranker's default settings)."""
        out = self._canonical(user_params)
        if objective is not None and out:
            base = {"tree_method": "hist", "disable_default_eval_metric": 1, "verbosity": 0}
            if objective.is_custom(self.name):
                base["base_score"] = 0.0
            else:
                base.update(objective.backend_params(self.name, labels=np.array([0.0, 1.0]),
                                                     group_sizes=np.array([2])))
            self._probe({**base, **out}, user=out, given=user_params)
        return out

    def _canonical(self, user_params) -> dict:
        out: dict = {}
        for key, value in user_params.items():
            if key in _RESERVED:
                raise ConfigError(f"params={{{key!r}: ...}} is set by the Ranker itself; use "
                                  f"Ranker({_RESERVED[key]}...) instead")
            main = ALIASES.get(key, key)
            if main in _RESERVED:
                raise ConfigError(f"params={{{key!r}: ...}} (XGBoost's {main!r}) is set by the Ranker itself; "
                                  f"use Ranker({_RESERVED[main]}...) instead")
            if main in out:
                first = next(k for k in user_params if ALIASES.get(k, k) == main)
                raise ConfigError(f"params sets XGBoost's {main!r} twice, as {first!r} and as {key!r} (aliases "
                                  f"of one parameter); keep one")
            out[main] = value
        return out

    def native_params(self, settings, objective, *, labels, group_sizes):
        for key, native in (("num_leaves", "max_leaves (with grow_policy='lossguide')"),
                            ("min_child_samples", "min_child_weight (a hessian sum)")):
            if settings.get(key) is not None:
                raise ConfigError(f"Ranker({key}={settings[key]!r}) has no XGBoost equivalent; leave it None "
                                  f"and set XGBoost's {native} in params= instead")
        if settings.get("subsample_by", "row") == "query":
            raise ConfigError("Ranker(subsample_by='query') samples whole queries (LightGBM's bagging_by_query); "
                              "XGBoost samples rows only (its subsample). Use backend='lightgbm', or "
                              "subsample_by='row'")
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
        user = self._canonical(settings.get("params") or {})
        params.update(user)
        self._probe(params, user=user, given=settings.get("params") or {})
        return params, custom

    def _probe(self, params: dict, *, user: dict, given: dict) -> None:
        """XGBoost's own parameter check, run now on a two-row DMatrix: configuring a Booster validates every
        value (a bad one is an XGBoostError) and, with ``verbosity=1``, warns about the parameters no part
        of the configured model uses (unknown names, or names of another objective or booster)."""
        xgb = _xgb()
        dm = xgb.DMatrix(np.zeros((2, 1), dtype=np.float32), label=np.zeros(2))
        dm.set_group(np.array([2], dtype=np.uint32))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                booster = xgb.Booster({**params, "verbosity": 1}, [dm])
                config = booster.save_config()
            except xgb.core.XGBoostError as err:
                raise ConfigError(f"XGBoost refused the training parameters: {native_message(err)}. Check the "
                                  f"Ranker settings and params={given!r} against XGBoost's parameter "
                                  f"documentation") from None
        unused: list[str] = []
        for w in caught:
            m = _UNUSED.search(str(w.message))
            if m:
                unused += [name.strip().strip('"') for name in m.group(1).split(",") if name.strip()]
        mine = [k for k in unused if k in user]
        if mine:
            import json
            valid = sorted(_config_keys(json.loads(config), set()) - {"name"} | set(ALIASES) | {"verbosity"})
            owner = f"XGBoost with objective {params.get('objective', 'custom')!r} (Ranker(params=...))"
            check_params({k: None for k in mine}, valid, owner=owner, what="parameters (XGBoost does not use "
                         "them)", error=UnknownNameError)

    # -- data ------------------------------------------------------------------------------------------------
    @staticmethod
    def _ranking_native(objective, custom: bool) -> bool:
        return not custom and objective.family != "pointwise"

    def _weights(self, weights, group_sizes, objective, custom: bool, role: str):
        """The weights XGBoost takes: per group for its ranking objectives (refused when they vary inside a
        query), per row otherwise; None for custom objectives (our grad_hess applies them)."""
        if weights is None or custom:
            return None
        if not self._ranking_native(objective, custom):
            return np.asarray(weights, dtype=np.float32)
        w = np.asarray(weights, dtype=np.float64)
        starts = np.r_[0, np.cumsum(group_sizes)[:-1]].astype(np.int64)
        per_group = w[starts]
        varies = np.flatnonzero(np.maximum.reduceat(w, starts) != np.minimum.reduceat(w, starts))
        if varies.size:
            q = int(varies[0])
            rows = w[starts[q]:starts[q] + int(group_sizes[q])]
            raise DataError(f"the {role} weights vary inside query #{q} ({rows.min():g}..{rows.max():g}) and "
                            f"{varies.size - 1} other queries; XGBoost's ranking objective "
                            f"{objective.native[self.name]!r} takes one weight per query (group). Give every "
                            f"row of a query the same weight (RankingDataset.with_query_weights), or use "
                            f"backend='lightgbm', whose ranking objectives weight rows")
        return per_group.astype(np.float32)

    def _dmatrix(self, X, labels, group_sizes, n_jobs, weights=None):
        xgb = _xgb()
        dm = xgb.DMatrix(X, label=labels, nthread=n_jobs)
        if group_sizes is not None:
            dm.set_group(np.asarray(group_sizes, dtype=np.uint32))
        if weights is not None:
            dm.set_weight(weights)
        return dm

    # -- training -------------------------------------------------------------------------------------------
    def train(self, spec: TrainSpec) -> Trained:
        xgb = _xgb()
        n_jobs = spec.params.get("nthread", 1)
        wtrain = self._weights(spec.weights, spec.group_sizes, spec.objective, spec.custom, "training")
        # XGBoost refuses per-row weights beside query groups (it reads them as group weights): a pointwise
        # objective, which needs no groups, gets none when it has per-row weights
        rows_only = wtrain is not None and not self._ranking_native(spec.objective, spec.custom)
        dtrain = self._dmatrix(spec.X, spec.backend_labels, None if rows_only else spec.group_sizes, n_jobs, wtrain)
        harness = HarnessEval(spec.metrics, spec.objective)
        evals = []
        if spec.record:
            evals.append((dtrain, "train"))
            harness.add(dtrain, "train", spec.labels, spec.group_sizes, spec.weights)
        if spec.valid is not None:
            Xv, yv, bv, gv = spec.valid
            wvalid = self._weights(spec.valid_weights, gv, spec.objective, spec.custom, "validation")
            rows_only = wvalid is not None and not self._ranking_native(spec.objective, spec.custom)
            dvalid = self._dmatrix(Xv, bv, None if rows_only else gv, n_jobs, wvalid)
            evals.append((dvalid, "valid"))
            harness.add(dvalid, "valid", yv, gv, spec.valid_weights)
        callbacks, recorder = list(spec.callbacks), None
        if spec.record:
            recorder = Recorder(spec.objective, spec.backend_labels, spec.group_sizes, custom=spec.custom)
            callbacks.append(_XGBRecord(recorder, dtrain))
        bridge = _make_bridge()(callbacks, harness, spec.params, spec.n_estimators)
        obj = None
        if spec.custom:
            objective, labels, sizes, weights = spec.objective, spec.backend_labels, spec.group_sizes, spec.weights

            session = objective.session(labels, sizes, spec.positions)

            def obj(predt, dmatrix):
                return session(labels, predt, sizes, weights)

        try:
            booster = xgb.train(spec.params, dtrain, num_boost_round=spec.n_estimators, evals=evals, obj=obj,
                                custom_metric=harness.xgboost if evals else None, verbose_eval=False,
                                callbacks=[bridge])
        except xgb.core.XGBoostError as err:
            raise ConfigError(f"XGBoost stopped training: {native_message(err)}") from None
        n_iter = booster.num_boosted_rounds()
        best = bridge.best_iteration + 1 if bridge.best_iteration is not None else n_iter
        bias = None
        if spec.params.get("lambdarank_unbiased"):
            bias = unbiased_biases(booster)
        return Trained(booster, int(best), int(n_iter), {}, recorder, position_bias=bias)

    def train_on_cluster(self, client, spec, parts, n_rounds, settings):
        from ltr.models.distributed import xgboost_train_on_cluster
        return xgboost_train_on_cluster(client, spec, parts, n_rounds, settings)

    # -- model ----------------------------------------------------------------------------------------------
    def predict_raw(self, model, X, n_trees, n_jobs):
        dm = self._dmatrix(X, None, None, n_jobs)
        return model.predict(dm, iteration_range=(0, n_trees))

    def to_bytes(self, model) -> bytes:
        return bytes(model.save_raw(raw_format="json"))

    def from_bytes(self, data: bytes):
        booster = _xgb().Booster()
        booster.load_model(bytearray(data))
        return booster

    def check_model_file(self, data: bytes, *, path, n_features: int) -> None:
        from ltr.models.backends._xgboost_model import check_xgboost_model
        check_xgboost_model(data, path=path, n_features=n_features)

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


def _make_bridge():
    """ltr's callbacks (``ltr.models.callbacks``) as one XGBoost ``TrainingCallback`` (defined on first use,
    so that importing this module does not import XGBoost)."""
    global _BRIDGE
    if _BRIDGE is not None:
        return _BRIDGE
    xgb = _xgb()

    class _Bridge(xgb.callback.TrainingCallback):
        """Runs ltr's callbacks in their order with an ltr ``CallbackEnv`` built from XGBoost's evaluation
        log (the values XGBoost parsed back from ``"%f"``, as its own callbacks see them). An ltr
        ``EarlyStopException`` stops training and records the best iteration as XGBoost's
        ``EarlyStopping`` does (``best_iteration`` and ``best_score`` attributes of the model)."""

        def __init__(self, callbacks, harness, params, n_estimators):
            from ltr.models.callbacks import prepare
            super().__init__()
            self.before, self.after = prepare(callbacks)
            self.harness, self.params, self.n_estimators = harness, params, n_estimators
            self.best_iteration = None

        def _env(self, model, epoch, results):
            from ltr.models.callbacks import CallbackEnv
            return CallbackEnv(model=model, backend="xgboost", params=self.params, iteration=epoch,
                               begin_iteration=0, end_iteration=self.n_estimators, evaluation_result_list=results)

        def _run(self, items, env) -> bool:
            from ltr.models.callbacks import EarlyStopException
            try:
                for cb in items:
                    cb(env)
            except EarlyStopException as stop:
                self.best_iteration = stop.best_iteration
                if stop.monitored is not None:
                    env.model.set_attr(best_score=str(stop.monitored.metric_value),
                                       best_iteration=str(stop.best_iteration))
                return True
            return False

        def before_iteration(self, model, epoch, evals_log):
            return self._run(self.before, self._env(model, epoch, [])) if self.before else False

        def after_iteration(self, model, epoch, evals_log):
            if not self.after:
                return False
            from ltr.models.callbacks import EvalResult
            restore = self.harness.restore_names
            results = [EvalResult(data, metric, float(values[-1]), True)
                       for data, curves in restore(evals_log).items() for metric, values in curves.items()]
            return self._run(self.after, self._env(model, epoch, results))

    _BRIDGE = _Bridge
    return _BRIDGE


_BRIDGE = None


class _XGBRecord:
    """ltr callback feeding :class:`Recorder` with the training margins (served from XGBoost's prediction
    cache)."""

    order = 25
    before_iteration = False

    def __init__(self, recorder, dtrain):
        self.recorder, self.dtrain = recorder, dtrain

    def __call__(self, env):
        self.recorder.record(env.iteration + 1, env.model.predict(self.dtrain, output_margin=True))


def unbiased_biases(booster) -> dict | None:
    """XGBoost's position biases of ``lambdarank_unbiased``: ``ti+`` / ``tj-`` from ``save_config``.

    They are normalised so that t(1) = 1 and raised to ``1 / (1 + lambdarank_bias_norm)``; a position beyond
    the tracked ones (``lambdarank_num_pair_per_sample``) or never reached by a pair is 0."""
    import json
    obj = json.loads(booster.save_config())["learner"]["objective"]
    if "ti+" not in obj:
        return None
    param = obj.get("lambdarank_param", {})
    return {"position": list(range(1, len(obj["ti+"]) + 1)), "t_plus": [float(v) for v in obj["ti+"]],
            "t_minus": [float(v) for v in obj["tj-"]], "bias_norm": float(param.get("lambdarank_bias_norm", "nan")),
            "source": "xgboost save_config()['learner']['objective'] ti+ / tj- (float32), after the last iteration"}
