"""LightGBM adapter: ``lightgbm.train`` with our metric as ``feval`` and, for custom objectives, a callable
``params["objective"]`` (LightGBM >= 4 calls it as ``objective(preds, train_data) -> (grad, hess)``)."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

import numpy as np

from ltr.errors import ConfigError, UnknownNameError
from ltr.models.backends._base import Backend, Trained, TrainSpec, check_seed
from ltr.models._harness import HarnessEval, Recorder
from ltr.naming import check_params

#: LightGBM parameters the Ranker sets itself, with the Ranker argument to use instead.
_RESERVED = {"objective": "objective=", "metric": "eval_metric=", "num_iterations": "n_estimators=",
             "early_stopping_round": "early_stopping_rounds=", "seed": "random_state="}
#: LightGBM parameters lightgbm.train would drop with only a warning, and why.
_IGNORED = {"categorical_feature": "lightgbm.train takes categorical features from the Dataset, and ltr's "
                                   "features are numerical (it passes none)"}
#: LightGBM's other seeds: the same range as ``seed``.
_SEEDS = ("bagging_seed", "feature_fraction_seed", "data_random_seed", "objective_seed", "extra_seed",
          "drop_seed")


def _lgb():
    import lightgbm
    return lightgbm


def _aliases() -> dict[str, str]:
    """Every LightGBM parameter name and alias -> its main name, from LightGBM's own table
    (``LGBM_DumpParamAliases``, the table its C++ config parser uses)."""
    global _ALIAS_CACHE
    if _ALIAS_CACHE is None:
        from lightgbm.basic import _ConfigAliases
        table = {}
        for main, names in _ConfigAliases._get_all_param_aliases().items():
            table[main] = main
            for alias in names:
                table.setdefault(alias, main)
        _ALIAS_CACHE = table
    return _ALIAS_CACHE


_ALIAS_CACHE: dict | None = None


def native_message(err: BaseException) -> str:
    """A library error as one line: no C++ source location, no stack trace."""
    text = str(err).split("Stack trace:")[0]
    text = re.sub(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ", "", text)
    text = re.sub(r" at \S+\.(?:cpp|hpp|h|cc), line \d+ ?\.?", "", text)
    return " ".join(text.split()).rstrip(".")


@contextlib.contextmanager
def _native_stderr_held():
    """Hold what native code writes to file descriptor 2 during a short call; yields a list that the caller
    fills with True to drop it (LightGBM's ``Log::Fatal`` prints ``[LightGBM] [Fatal] ...`` to stderr itself
    before raising, which would be a second line beside the one typed error). Anything held and not dropped
    is written to stderr afterwards. Used around the parameter probe only (milliseconds)."""
    drop: list = []
    try:
        saved = os.dup(2)
    except OSError:                      # no file descriptor 2 (embedded interpreters): nothing to hold
        yield drop
        return
    with tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        try:
            yield drop
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if not drop:
                held.seek(0)
                text = held.read()
                if text:
                    sys.stderr.write(text.decode("utf-8", "replace"))


class LightGBMBackend(Backend):
    """LightGBM, deterministic: ``deterministic=True``, ``force_row_wise=True``, fixed ``num_threads`` and
    ``seed`` (LightGBM derives its bagging/feature-fraction/objective seeds from ``seed``).

    ``params={"force_col_wise": True}`` replaces the row-wise histograms by column-wise ones: also
    deterministic, with other (equally valid) trees, and without the row-wise copy of the binned data
    (LightGBM: "force_row_wise ... will double the memory cost for Dataset object"); on a matrix of
    MSLR-WEB30K's shape it is what keeps the fit's peak lowest (benchmarks/scale.md)."""

    name = "lightgbm"
    library = "lightgbm"
    model_file = "model.txt"
    supports_cluster = True

    def version(self) -> str:
        return _lgb().__version__

    # -- parameters ---------------------------------------------------------------------------------------
    def check_params(self, user_params, objective=None):
        """Main names for LightGBM's aliases (``eta`` -> ``learning_rate``), so that a user's value really
        overrides the Ranker's (LightGBM keeps the main name when both are given); refuses unknown names,
        names the Ranker sets itself, and seeds out of range; with ``objective``, also values LightGBM
        refuses (:meth:`_probe`)."""
        out = self._canonical(user_params)
        if objective is not None and out:
            native = {} if objective.is_custom(self.name) else objective.backend_params(
                self.name, labels=np.array([0.0, 1.0]), group_sizes=np.array([2]))
            self._probe({"verbosity": -1, **native, **out}, user=user_params)
        return out

    def _canonical(self, user_params) -> dict:
        table = _aliases()
        if "eval_metric" in user_params:
            raise ConfigError("params={'eval_metric': ...} is set by the Ranker itself; use Ranker(eval_metric=...) "
                              "instead")
        unknown = [k for k in user_params if k not in table]
        if unknown:
            check_params({k: None for k in unknown}, sorted(set(table.values())),
                         owner="LightGBM (Ranker(params=...))", what="parameters", error=UnknownNameError)
        out: dict = {}
        for key, value in user_params.items():
            main = table[key]
            if main in _RESERVED:
                raise ConfigError(f"params={{{key!r}: ...}} (LightGBM's {main!r}) is set by the Ranker itself; "
                                  f"use Ranker({_RESERVED[main]}...) instead")
            if main in _IGNORED:
                raise ConfigError(f"params={{{key!r}: ...}} would be ignored: {_IGNORED[main]}")
            if main in out:
                first = next(k for k in user_params if table[k] == main)
                raise ConfigError(f"params sets LightGBM's {main!r} twice, as {first!r} and as {key!r} "
                                  f"(aliases of one parameter); keep one")
            if main in _SEEDS:
                check_seed(value, f"params[{key!r}]")
            out[main] = value
        return out

    def native_params(self, settings, objective, *, labels, group_sizes):
        if settings.get("max_depth") is not None and settings["max_depth"] <= 0:
            raise ConfigError("max_depth must be None (no limit) or >= 1")
        by_query = settings.get("subsample_by", "row") == "query"
        if by_query and tuple(int(p) for p in re.findall(r"\d+", self.version())[:2]) < (4, 6):
            raise ConfigError(f"Ranker(subsample_by='query') needs LightGBM >= 4.6 (its bagging_by_query); "
                              f"this is LightGBM {self.version()}: pip install -U lightgbm")
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
        if by_query:
            params["bagging_by_query"] = True
        custom = objective.is_custom(self.name)
        if not custom:
            params.update(objective.backend_params(self.name, labels=labels, group_sizes=group_sizes))
        params.update(self._canonical(settings.get("params") or {}))
        if params.get("force_col_wise"):
            # the user's choice of column-wise histograms (half the Dataset's memory) replaces the default
            params["force_row_wise"] = False
        self._probe(params, user=settings.get("params") or {})
        return params, custom

    def _probe(self, params: dict, *, user: dict) -> None:
        """Let LightGBM parse and check every parameter value now (a one-row Dataset runs its config
        parser and bound checks), so a bad value is one ConfigError before any data is binned."""
        lgb = _lgb()
        probe = {k: v for k, v in params.items() if not callable(v)}
        try:
            with _native_stderr_held() as drop:
                try:
                    lgb.Dataset(np.zeros((1, 1)), params=probe, free_raw_data=True).construct()
                except lgb.basic.LightGBMError:
                    drop.append(True)
                    raise
        except lgb.basic.LightGBMError as err:
            raise ConfigError(f"LightGBM refused the training parameters: {native_message(err)}. Check the "
                              f"Ranker settings and params={user!r} against LightGBM's parameter "
                              f"documentation") from None

    # -- training -------------------------------------------------------------------------------------------
    def train(self, spec: TrainSpec) -> Trained:
        lgb = _lgb()
        params = dict(spec.params)
        session = None
        if spec.custom:
            objective, labels, sizes, weights = spec.objective, spec.backend_labels, spec.group_sizes, spec.weights
            # a fresh callable per run: stateful objectives (reference Unbiased LambdaMART) keep their state in it
            session = objective.session(labels, sizes, spec.positions)

            def custom_objective(preds, dataset):
                # LightGBM hands a custom objective the raw scores and applies no weights itself
                return session(labels, preds, sizes, weights)

            params["objective"] = custom_objective
        position = None
        if spec.positions is not None and not spec.custom:
            if params.get("objective") != "lambdarank":
                # LightGBM's rank_xendcg (and every other objective) accepts positions and ignores them
                raise ConfigError(f"positions are used by LightGBM's lambdarank only; objective "
                                  f"{params.get('objective')!r} would ignore them silently. Use "
                                  f"'lambdarank_position'")
            position = np.asarray(spec.positions, dtype=np.int32)
        train_set = lgb.Dataset(spec.X, label=spec.backend_labels, group=spec.group_sizes, weight=spec.weights,
                                position=position, free_raw_data=True)
        harness = HarnessEval(spec.metrics, spec.objective)
        valid_sets, valid_names = [], []
        if spec.record:
            valid_sets.append(train_set)
            valid_names.append("train")
            harness.add(train_set, "train", spec.labels, spec.group_sizes, spec.weights)
        if spec.valid is not None:
            Xv, yv, bv, gv = spec.valid
            valid_set = lgb.Dataset(Xv, label=bv, group=gv, weight=spec.valid_weights, reference=train_set,
                                    free_raw_data=True)
            valid_sets.append(valid_set)
            valid_names.append("valid")
            harness.add(valid_set, "valid", yv, gv, spec.valid_weights)
        callbacks, recorder = list(spec.callbacks), None
        if spec.record:
            recorder = Recorder(spec.objective, spec.backend_labels, spec.group_sizes, custom=spec.custom)
            callbacks.append(_LGBRecord(recorder, spec.X))
        bridge = _Bridge(callbacks, spec.n_estimators)
        log = _PositionBiasLog() if position is not None else contextlib.nullcontext()
        if position is not None:
            params["verbosity"] = 2          # LightGBM prints g(position) only in its debug log
        try:
            with log:
                booster = lgb.train(params, train_set, num_boost_round=spec.n_estimators,
                                    valid_sets=valid_sets or None, valid_names=valid_names or None,
                                    feval=harness.lightgbm if valid_sets else None, callbacks=bridge.callbacks())
        except lgb.basic.LightGBMError as err:
            raise ConfigError(f"LightGBM stopped training: {native_message(err)}") from None
        n_iter = booster.current_iteration()
        best = booster.best_iteration if booster.best_iteration > 0 else n_iter
        # the trained booster holds LightGBM's training state (the binned Dataset, gradients, scores); the
        # booster read back from its own model text predicts the same bits (tests/models/test_persistence.py)
        # and holds none of it
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=-1))
        bias = None
        if position is not None:
            bias = log.result()
        elif session is not None and hasattr(session, "state"):
            bias = session.state()
        return Trained(booster, int(best), int(n_iter), {}, recorder, position_bias=bias)

    def train_on_cluster(self, client, spec, parts, n_rounds, settings):
        from ltr.models.distributed import lightgbm_train_on_cluster
        return lightgbm_train_on_cluster(client, spec, parts, n_rounds, settings)

    # -- model ----------------------------------------------------------------------------------------------
    def predict_raw(self, model, X, n_trees, n_jobs):
        return model.predict(X, num_iteration=n_trees, num_threads=n_jobs)

    def to_bytes(self, model) -> bytes:
        return model.model_to_string(num_iteration=-1).encode("utf-8")

    def from_bytes(self, data: bytes):
        return _lgb().Booster(model_str=data.decode("utf-8"))

    def check_model_file(self, data: bytes, *, path, n_features: int) -> None:
        from ltr.models.backends._lightgbm_model import check_lightgbm_model
        check_lightgbm_model(data, path=path, n_features=n_features)

    def n_features(self, model) -> int:
        return model.num_feature()

    def n_trees(self, model) -> int:
        return model.current_iteration()

    def importance(self, model, n_trees, n_features):
        return np.asarray(model.feature_importance(importance_type="gain", iteration=n_trees), dtype=np.float64)


class _PositionBiasLog:
    """Reads LightGBM's position-bias factors g(position) from its debug log while training.

    LightGBM (``rank_objective.hpp``, ``LogDebugPositionBiasFactors``) prints after every iteration, at
    verbosity >= 2, a header line ``position bias_factor`` and one line ``<position id> <g>`` per distinct
    position, where the position id is the value given in ``Dataset(position=...)`` (ltr passes 1-based
    display positions, so the mapping is the identity). The factors are float32 printed with six
    significant digits. The LightGBM logger is replaced for the duration of training (every other line is
    dropped: verbosity 2 is only switched on for this) and restored afterwards."""

    _HEADER = re.compile(r"^\s*position\s+bias_factor\s*$")
    _ROW = re.compile(r"^\s*(-?\d+)\s+(\S+)\s*$")

    def __init__(self):
        self.tables: list[list[tuple[int, float]]] = []
        self._current = None

    # the logger interface LightGBM calls (info for every native message)
    def info(self, msg: str) -> None:
        for line in str(msg).splitlines():
            text = re.sub(r"^\[LightGBM\] \[\w+\] ?", "", line)
            if self._HEADER.match(text):
                self._current = []
                self.tables.append(self._current)
                continue
            m = self._ROW.match(text) if self._current is not None else None
            if m:
                try:
                    self._current.append((int(m.group(1)), float(m.group(2))))
                    continue
                except ValueError:
                    pass
            self._current = None

    def warning(self, msg: str) -> None:
        self.info(msg)

    def __enter__(self):
        basic = _lgb().basic
        self._saved = (basic._LOGGER, basic._INFO_METHOD_NAME, basic._WARNING_METHOD_NAME)
        _lgb().register_logger(self)
        return self

    def __exit__(self, *exc):
        basic = _lgb().basic
        basic._LOGGER, basic._INFO_METHOD_NAME, basic._WARNING_METHOD_NAME = self._saved
        return False

    def result(self) -> dict | None:
        tables = [t for t in self.tables if t]
        if not tables:
            return None
        last = sorted(tables[-1])
        return {"position": [p for p, _ in last], "g": [g for _, g in last], "iterations_logged": len(tables),
                "source": "LightGBM debug log (verbosity 2), table 'position bias_factor' after the last "
                          "iteration; position = the 1-based display position passed as Dataset(position=)"}


class _Bridge:
    """ltr's callbacks (``ltr.models.callbacks``) as LightGBM callbacks: one before-iteration and one
    after-iteration LightGBM callback run ltr's callbacks in their own order, each with an ltr
    ``CallbackEnv``; an ltr ``EarlyStopException`` becomes LightGBM's, so ``lightgbm.train`` sets the best
    iteration and keeps the trees up to it exactly as with its own ``early_stopping``."""

    def __init__(self, callbacks, n_estimators):
        from ltr.models.callbacks import prepare
        self.before, self.after = prepare(callbacks)
        self.n_estimators = n_estimators

    def callbacks(self) -> list:
        out = []
        if self.before:
            out.append(_LGBHook(self.before, before=True))
        if self.after:
            out.append(_LGBHook(self.after, before=False))
        return out


class _LGBHook:
    order = 0

    def __init__(self, callbacks, *, before: bool):
        self.items, self.before_iteration = callbacks, before

    def __call__(self, env):
        from ltr.models.callbacks import CallbackEnv, EarlyStopException, EvalResult
        ours = CallbackEnv(model=env.model, backend="lightgbm", params=env.params, iteration=env.iteration,
                           begin_iteration=env.begin_iteration, end_iteration=env.end_iteration,
                           evaluation_result_list=[EvalResult(*tuple(r)[:4])
                                                   for r in env.evaluation_result_list or []])
        try:
            for cb in self.items:
                cb(ours)
        except EarlyStopException as stop:
            raise _lgb().callback.EarlyStopException(stop.best_iteration, stop.best_score) from None


class _LGBRecord:
    """ltr callback feeding :class:`Recorder` with the training raw scores, kept incrementally (one tree
    predicted per iteration; LightGBM folds its initial score into tree 1)."""

    order = 25            # after record_evaluation (20), before early_stopping (30)
    before_iteration = False

    def __init__(self, recorder: Recorder, X):
        self.recorder, self.X, self.scores = recorder, X, None

    def __call__(self, env):
        tree = env.model.predict(self.X, start_iteration=env.iteration, num_iteration=1, raw_score=True)
        self.scores = tree if self.scores is None else self.scores + tree
        self.recorder.record(env.iteration + 1, self.scores)
