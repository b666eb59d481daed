"""The Ranker: one scikit-learn-style estimator over every objective and GBDT backend.

Frames or :class:`~ltr.datasets.RankingDataset` in, numpy inside, a RUN frame (qid, docid, score) out.
"""

from __future__ import annotations

import numbers
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ltr.errors import ConfigError, FeatureMismatchError, GroupError, LabelError, NotFittedError, SchemaError
from ltr.metrics import parse_metric
from ltr.models._harness import kernel_threads, scores_from_prediction
from ltr.models.backends import TrainSpec, get_backend
from ltr.models.backends._base import MAX_SEED
from ltr.models.callbacks import check_callbacks, early_stopping, record_evaluation
from ltr.objectives import get_objective
from ltr.ranking import RankingDataset
from ltr.schema import DOCID, QID, SCORE

__all__ = ["MAX_SEED", "Ranker", "label_kind"]

DEFAULT_EVAL_METRIC = "nDCG(gain='exp', norel=1, ties='row')@10"


def label_kind(labels: np.ndarray) -> str:
    """``"binary"`` (only 0 and 1), ``"graded"`` (integers >= 0) or ``"real"`` (anything else)."""
    y = np.asarray(labels, dtype=np.float64)
    if y.size and np.all((y == 0) | (y == 1)):
        return "binary"
    if np.all(np.isfinite(y)) and np.all(y == np.round(y)) and (y.size == 0 or y.min() >= 0):
        return "graded"
    return "real"


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)



# name -> (what is expected, check); messages are built from this table
_CONSTRAINTS = {
    "n_estimators": ("an int >= 1", lambda v: _is_int(v) and v >= 1),
    "learning_rate": ("a float > 0", lambda v: _is_real(v) and v > 0),
    "num_leaves": ("None or an int >= 2", lambda v: v is None or (_is_int(v) and v >= 2)),
    "max_depth": ("None or an int >= 1", lambda v: v is None or (_is_int(v) and v >= 1)),
    "min_child_samples": ("None or an int >= 0", lambda v: v is None or (_is_int(v) and v >= 0)),
    "subsample": ("a float in (0, 1]", lambda v: _is_real(v) and 0 < v <= 1),
    "subsample_by": ("'row' or 'query'", lambda v: v in ("row", "query")),
    "colsample": ("a float in (0, 1]", lambda v: _is_real(v) and 0 < v <= 1),
    "reg_lambda": ("None or a float >= 0", lambda v: v is None or (_is_real(v) and v >= 0)),
    "early_stopping_rounds": ("None or an int >= 1", lambda v: v is None or (_is_int(v) and v >= 1)),
    "n_jobs": ("an int >= 1", lambda v: _is_int(v) and v >= 1),
    "random_state": (f"an int in [0, {MAX_SEED}] (2^31 - 1: LightGBM's seeds are 32-bit signed ints and "
                     f"XGBoost's are taken modulo 2^32, so a larger seed would silently repeat a smaller one)",
                     lambda v: _is_int(v) and 0 <= v <= MAX_SEED),
    "record": ("a bool", lambda v: isinstance(v, (bool, np.bool_))),
    "params": ("None or a dict of backend parameters", lambda v: v is None or isinstance(v, dict)),
    "cluster": ("None, 'local', a Dask scheduler address or a dict (see ltr.models.distributed)",
                lambda v: v is None or isinstance(v, (str, dict))),
}


class Ranker(BaseEstimator):
    """Gradient-boosted ranking model with a named objective on LightGBM or XGBoost.

    Every parameter is keyword-only (as in LightGBM's and scikit-learn's estimators): ``Ranker(objective=
    "ranknet", backend="xgboost")``. The defaults are the backends' own (no row or feature subsampling), so
    that ``Ranker()`` trains what a plain LightGBM script trains; the experiment protocol
    (:class:`ltr.experiment.spec.TrainingSpec`) subsamples rows and features (0.8) instead, see
    ``ltr train --help``.

    Parameters
    ----------
    objective : str or Objective, default="lambdarank"
        An objective name from :func:`ltr.objectives.available_objectives`, with parameters if needed,
        e.g. ``"lambdarank(truncation_level=20)"``, ``"ranknet"``, ``"rank_xendcg"``, ``"regression"``.
    backend : str, default="lightgbm"
        A name from :func:`ltr.models.backends.available_backends` (``"lightgbm"``, ``"xgboost"``).
    n_estimators : int, default=1000
        Maximum number of boosting rounds.
    learning_rate : float, default=0.05
    num_leaves : int or None, default=None
        Leaves per tree (LightGBM; None = LightGBM's 31). No XGBoost equivalent (refused there).
    max_depth : int or None, default=None
        None = no limit on LightGBM, 6 (XGBoost's default) on XGBoost.
    min_child_samples : int or None, default=None
        Rows per leaf (LightGBM ``min_data_in_leaf``; None = 20). No XGBoost equivalent.
    subsample, colsample : float, default=1.0
        Row fraction per tree (LightGBM bagging with ``bagging_freq=1`` when < 1; XGBoost ``subsample``)
        and feature fraction per tree (``feature_fraction`` / ``colsample_bytree``).
    subsample_by : {"row", "query"}, default="row"
        What ``subsample`` draws: rows (documents, each independently) or whole queries (LightGBM >= 4.6
        ``bagging_by_query``; XGBoost has no query sampling and refuses it). Needs ``subsample < 1``. For
        pairwise and listwise objectives the two differ, see the README ("Subsampling rows or queries").
    reg_lambda : float or None, default=None
        L2 regularisation of leaf values; None = the backend's default (LightGBM 0, XGBoost 1).
    early_stopping_rounds : int or None, default=50
        Stop when the validation metric has not improved for this many rounds (needs ``valid``); the
        model then predicts with the best iteration (``best_iteration_``). It is
        :func:`ltr.models.callbacks.early_stopping` on the first ``eval_metric``; None leaves stopping to
        the callbacks given to :meth:`fit`.
    eval_metric : str, Metric or list, default="nDCG(gain='exp', norel=1, ties='row')@10"
        Harness metric(s) (``ltr.metrics.parse_metric`` names) computed by ltr on the validation set's
        candidate sets after every iteration; the first drives early stopping. The default is LightGBM's
        own ``ndcg@10`` convention (gain 2^y - 1, a query without relevant documents scores 1, ties in
        row order as LightGBM's ``std::stable_sort``), so a Ranker stops where a plain LightGBM script
        with ``metric="ndcg", eval_at=[10]`` stops. Write ``"nDCG@10"`` for trec_eval's convention.
    n_jobs : int, default=2
        Threads of the backend and of ltr's compiled gradient kernels (fixed, for determinism).
    random_state : int in [0, 2^31 - 1], default=0
        LightGBM ``seed`` / XGBoost ``seed``. Same seed and data give bit-identical scores. Larger seeds
        are refused: LightGBM takes its seed modulo 2^31 and XGBoost modulo 2^32 (:data:`MAX_SEED`).
    record : bool, default=False
        Record per-iteration introspection in ``history_`` (metric curves on train and valid,
        discordant and effective pairs, mean |lambda|; see :class:`ltr.models.callbacks.Recorder`).
    params : dict or None, default=None
        Backend-specific parameters, passed last (they override the settings above), e.g.
        ``{"min_sum_hessian_in_leaf": 1e-3}`` or ``{"max_bin": 63}``. Names are checked against the
        library's own list: LightGBM's parameter and alias table (an alias is replaced by its main name, so
        ``{"eta": 0.1}`` really overrides ``learning_rate``), XGBoost's own check of unused parameters. An
        unknown name is an UnknownNameError listing the valid ones, a bad value a ConfigError with the
        library's reason, before any data are read.
    cluster : None, str or dict, default=None
        None trains in this process. ``"local"`` (a Dask ``LocalCluster`` started once per process) or a
        scheduler address such as ``"tcp://10.0.0.1:8786"`` trains on Dask, with whole queries per
        partition and a fixed number of rounds (no early stopping); a dict sets the details (workers,
        partitions, ``rounds="sample"``, LightGBM ``time_out``): see :mod:`ltr.models.distributed`.
        Needs ``pip install 'ltr[dask]'``.

    Attributes
    ----------
    model_ : lightgbm.Booster or xgboost.Booster
    backend_ : Backend
        The backend that trained ``model_`` (from the registry); ``predict``, ``save`` and
        ``feature_importances_`` use it, never the ``backend`` parameter, so ``set_params`` after ``fit``
        does not change what a fitted model predicts.
    objective_ : Objective
    best_iteration_ : int
        Number of trees used for prediction.
    n_iterations_ : int
        Number of trees stored in ``model_`` (after early stopping LightGBM keeps the trees up to the best
        iteration, XGBoost keeps them all; the rounds actually run are the length of ``evals_result_``).
    evals_result_ : dict
        ``{"valid": {metric name: [value per iteration]}}`` (and ``"train"`` with ``record=True``).
    history_ : pandas.DataFrame
        With ``record=True``; ``history_.attrs["lambda_source"]`` says where the gradients came from.
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        The training features, in order (scikit-learn's name). ``feature_names_`` is a deprecated alias.
    n_features_in_ : int
    feature_importances_ : pandas.Series
        Total split gain per feature over the trees used for prediction.
    position_bias_ : dict or None
        Position-aware objectives: the position biases the training estimated (``lambdarank_unbiased``:
        ``t_plus`` / ``t_minus`` per position; ``lambdarank_position``: LightGBM's additive ``g``); see
        :mod:`ltr.objectives.unbiased`. None for every other objective.
    distributed_ : dict or None
        With ``cluster``: address, n_workers, n_partitions, rounds and how they were chosen (saved in the
        manifest).

    Examples
    --------
    >>> ranker = Ranker(objective="lambdarank", n_estimators=200, random_state=0)      # doctest: +SKIP
    >>> ranker.fit(train, valid=valid).predict(test).head()                          # doctest: +SKIP
    """

    def __init__(self, *, objective="lambdarank", backend="lightgbm", n_estimators=1000, learning_rate=0.05,
                 num_leaves=None, max_depth=None, min_child_samples=None, subsample=1.0, subsample_by="row",
                 colsample=1.0, reg_lambda=None, early_stopping_rounds=50, eval_metric=DEFAULT_EVAL_METRIC,
                 n_jobs=2, random_state=0, record=False, params=None, cluster=None):
        self.objective = objective
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_by = subsample_by
        self.colsample = colsample
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.eval_metric = eval_metric
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.record = record
        self.params = params
        self.cluster = cluster

    # -- configuration ---------------------------------------------------------------------------
    def _check_settings(self) -> dict:
        settings = self.get_params()
        for name, (expected, ok) in _CONSTRAINTS.items():
            value = settings[name]
            if not ok(value):
                raise ConfigError(f"The {name!r} parameter of Ranker must be {expected}. Got {value!r} instead.")
        if settings["subsample_by"] == "query" and settings["subsample"] >= 1:
            raise ConfigError("Ranker(subsample_by='query') samples whole queries for each tree; set subsample < 1 "
                              "too (the fraction of queries per tree), e.g. Ranker(subsample=0.8, "
                              "subsample_by='query')")
        return settings

    def _metrics(self) -> list:
        spec = self.eval_metric
        items = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        if not items:
            raise ConfigError("eval_metric must name at least one metric, e.g. 'nDCG@10'")
        return [(m if isinstance(m, str) else repr(m), parse_metric(m)) for m in items]

    def _resolve(self):
        settings = self._check_settings()
        backend = get_backend(self.backend)
        objective = get_objective(self.objective)
        if backend.name not in objective.backends:
            raise ConfigError(f"objective {objective!r} is not available on backend {backend.name!r}; it runs "
                              f"on {list(objective.backends)}")
        backend.check_params(settings["params"] or {})     # names (LightGBM), before any data are read
        return settings, backend, objective, self._metrics()

    # -- data --------------------------------------------------------------------------------------
    @staticmethod
    def _dataset(data, role: str, feature_names=None) -> RankingDataset:
        if isinstance(data, RankingDataset):
            return data
        if isinstance(data, pd.DataFrame):
            if feature_names is not None:
                missing = [f for f in feature_names if f not in data.columns]
                if missing:
                    raise FeatureMismatchError(
                        f"the {role} frame lacks {len(missing)} feature column(s) seen at fit time: "
                        f"{missing[:10]}{' ...' if len(missing) > 10 else ''}")
            return RankingDataset.from_frame(data, feature_names, name=f"{role} frame")
        raise SchemaError(f"Ranker needs a RankingDataset or a FEATURES DataFrame as {role}; "
                          f"got {type(data).__name__}")

    def _check_features(self, names: list, role: str, expected: list) -> None:
        names, expected = list(names), list(expected)
        if names == expected:
            return
        missing = [f for f in expected if f not in set(names)]
        unexpected = [f for f in names if f not in set(expected)]
        parts = []
        if missing:
            parts.append(f"missing {missing[:10]}{' ...' if len(missing) > 10 else ''}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:10]}{' ...' if len(unexpected) > 10 else ''}")
        if not parts:
            pos = next(i for i, (a, b) in enumerate(zip(names, expected)) if a != b)
            parts.append(f"same names in a different order (position {pos}: expected {expected[pos]!r}, "
                         f"got {names[pos]!r}); reorder the columns as at fit time")
        raise FeatureMismatchError(f"the {role} features differ from the {len(expected)} training features: "
                                   + "; ".join(parts))

    @staticmethod
    def _check_labels_present(ds: RankingDataset, role: str) -> None:
        bad = np.flatnonzero(~np.isfinite(ds.labels))
        if bad.size:
            r = int(bad[0])
            raise LabelError(f"{ds.name} ({role}) has {bad.size} rows with NaN or infinite labels (first: "
                             f"query {ds.qids[r]!r}, docid {ds.docids[r]!r}, row {r}); every training and "
                             f"validation row needs a label: drop those rows or fill them")

    @staticmethod
    def _click_labels(ds: RankingDataset, objective) -> RankingDataset:
        """For the IPS objectives (``needs_clicks``): the set with its labels replaced by the objective's
        labels from ``ds.clicks`` (the IPS estimates); any other objective trains on ``ds.labels``."""
        if not objective.needs_clicks:
            return ds
        if ds.clicks is None:
            raise ConfigError(f"objective {objective!r} learns from click counts, but {ds.name} has none "
                              f"(RankingDataset.clicks is None). Build the training set with "
                              f"ltr.clicks.training.click_training_set(log, features, aggregate=True, "
                              f"propensities=...); to train on true labels use 'binary' or 'ranknet'")
        labels = objective.labels_from_clicks(ds.clicks, ds.group_sizes)
        out = RankingDataset.__new__(RankingDataset)
        out.__dict__.update(ds.__dict__)
        out.labels = np.asarray(labels, dtype=np.float64)
        return out

    @staticmethod
    def _positions(ds: RankingDataset, objective, backend: str):
        """The display positions a position-aware objective needs (``needs_positions``), checked; else None.

        ``lambdarank_unbiased`` reads the position from the row order (XGBoost has no position field), so
        every query block must be one SERP in display order: positions 1, 2, ..., n.
        """
        if not objective.needs_positions:
            return None
        if ds.positions is None:
            raise ConfigError(f"objective {objective!r} needs the display position of every row, but {ds.name} "
                              f"has none (RankingDataset.positions is None). Build the training set with "
                              f"ltr.clicks.training.click_training_set(log, features, aggregate=False): one row "
                              f"per impression, one group per SERP")
        pos = ds.positions
        if objective.name == "lambdarank_unbiased":
            offsets = ds.query_offsets
            expected = np.arange(len(pos)) - np.repeat(offsets[:-1], ds.group_sizes) + 1
            bad = np.flatnonzero(pos != expected)
            if bad.size:
                r = int(bad[0])
                raise GroupError(f"objective {objective!r} takes the position from the row order inside each group "
                                 f"(as XGBoost does), but in {ds.name} row {r} (query {ds.qids[r]!r}) is at row "
                                 f"{int(expected[r])} of its group and was shown at position {int(pos[r])}. Each "
                                 f"group must be one SERP in display order (click_training_set(aggregate=False) "
                                 f"builds that)")
        return pos

    # -- fit -----------------------------------------------------------------------------------------
    def fit(self, train, valid=None, *, callbacks=None) -> Ranker:
        """Train on ``train`` (a RankingDataset or a FEATURES frame), early-stopping on ``valid``.

        Parameters
        ----------
        train : RankingDataset or DataFrame
            Rows of a query contiguous; labels on every row; optional per-row ``weights``
            (:attr:`RankingDataset.weights`). A frame's feature columns are its numeric columns other than
            qid, docid and label.
        valid : RankingDataset or DataFrame, optional
            Same features (names and order) as ``train``.
        callbacks : list of callable, optional
            Training callbacks (:mod:`ltr.models.callbacks`: ``early_stopping``, ``record_evaluation``,
            ``log_evaluation``, or your own), called with a ``CallbackEnv`` at every iteration, on either
            backend. Not available with ``cluster``.

        Returns
        -------
        self

        Raises
        ------
        UnknownNameError
            Unknown objective, backend, metric or backend parameter name (the message lists the valid ones).
        ConfigError
            A setting out of range (a seed beyond 2^31 - 1 included), an objective the backend cannot run, a
            parameter the Ranker sets itself in ``params``, a value the backend refuses.
        LabelError
            NaN/infinite labels, labels of a kind the objective cannot take, or labels that leave nothing
            to learn (``lambdarank_map(threshold=5)`` on labels 0..2).
        GroupError
            A query split into several blocks, or (pairwise/listwise objectives) a query with one document.
        DataError
            Weights a backend cannot honour (XGBoost's ranking objectives and weights varying in a query).
        FeatureMismatchError
            Validation features that differ from the training features.
        """
        # Step 1: resolve every name before touching the data
        settings, backend, objective, metrics = self._resolve()
        if callbacks is not None:
            if self.cluster is not None:
                raise ConfigError("fit(callbacks=...) runs in this process at every iteration; training on a "
                                  "cluster (Ranker(cluster=...)) runs a fixed number of rounds and takes no callbacks")
            check_callbacks(callbacks, [name for name, _ in metrics])     # before any data are read
        # Step 2: data and labels
        train_ds = self._dataset(train, "train")
        self._check_labels_present(train_ds, "train")
        sizes = train_ds.group_sizes
        if train_ds.n_queries == 0:
            raise GroupError(f"{train_ds.name} has no rows to train on")
        if objective.family != "pointwise" and np.any(sizes == 1):
            ones = np.flatnonzero(sizes == 1)
            raise GroupError(
                f"{train_ds.name} has {ones.size} queries with a single document (first: "
                f"{train_ds.unique_qids[ones[0]]!r}); the {objective.family} objective {objective!r} learns "
                f"nothing from them. Drop them (keep = data.unique_qids[data.group_sizes > 1]; "
                f"data.subset_queries(keep)) or use a pointwise objective")
        train_ds = self._click_labels(train_ds, objective)
        positions = self._positions(train_ds, objective, backend.name)
        if positions is not None and self.cluster is not None:
            raise ConfigError(f"objective {objective!r} needs the display positions and position biases estimated "
                              f"across the whole training set at every iteration; training on a cluster "
                              f"(Ranker(cluster=...)) does not carry them. Train in this process (cluster=None)")
        objective.check_labels(train_ds.labels, sizes, backend=backend.name)
        valid_ds = None
        if valid is not None:
            feature_names = train_ds.feature_names if isinstance(valid, pd.DataFrame) else None
            valid_ds = self._dataset(valid, "valid", feature_names)
            self._check_features(valid_ds.feature_names, "validation", train_ds.feature_names)
            self._check_labels_present(valid_ds, "valid")
        # Step 3: native parameters (checked by the library) and the callbacks
        params, custom = backend.native_params(settings, objective, labels=train_ds.labels, group_sizes=sizes)
        backend_labels = objective.transform_labels(train_ds.labels, backend=backend.name)
        valid_tuple = None
        if valid_ds is not None:
            valid_tuple = (valid_ds.X, valid_ds.labels,
                           objective.transform_labels(valid_ds.labels, backend=backend.name),
                           valid_ds.group_sizes)
        evals: dict = {}
        all_callbacks = [*(callbacks or []), record_evaluation(evals)]
        if valid_ds is not None and self.early_stopping_rounds:
            all_callbacks.append(early_stopping(self.early_stopping_rounds))
        spec = TrainSpec(params=params, objective=objective, custom=custom, X=train_ds.X,
                         labels=train_ds.labels, backend_labels=backend_labels, group_sizes=sizes,
                         n_estimators=self.n_estimators,
                         early_stopping_rounds=self.early_stopping_rounds if valid_ds is not None else None,
                         metrics=metrics, valid=valid_tuple, record=bool(self.record), callbacks=all_callbacks,
                         weights=train_ds.weights, valid_weights=valid_ds.weights if valid_ds is not None else None,
                         positions=positions)
        # Step 4: training
        distributed = None
        if self.cluster is not None:             # Dask is imported only here (optional extra)
            from ltr.models.backends import BACKENDS
            from ltr.models.distributed import train_on_cluster
            if not backend.supports_cluster:
                able = sorted(name for name, b in BACKENDS.items() if b.supports_cluster)
                raise ConfigError(f"backend {backend.name!r} cannot train on a cluster; use one of {able}")
            trained, distributed = train_on_cluster(spec, backend, self.cluster, qids=train_ds.qids,
                                                    seed=self.random_state)
            evals = trained.evals_result
        else:
            with kernel_threads(self.n_jobs):
                trained = backend.train(spec)
        # Step 5: fitted state (what predict, save and feature_importances_ read)
        self.model_ = trained.model
        self.backend_ = backend
        self.objective_ = objective
        self.best_iteration_ = trained.best_iteration
        self.n_iterations_ = trained.n_iterations
        self.evals_result_ = {k: {m: list(map(float, v)) for m, v in d.items()} for k, d in evals.items()}
        self.feature_names_in_ = np.asarray(train_ds.feature_names, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.label_kind_ = label_kind(train_ds.labels)
        self.train_fingerprint_ = train_ds.fingerprint()
        self.valid_fingerprint_ = valid_ds.fingerprint() if valid_ds is not None else None
        self.backend_params_ = {k: v for k, v in params.items() if k != "objective" or not callable(v)}
        if custom:
            self.backend_params_["objective"] = f"custom: {objective!r}.grad_hess"
        self.history_ = trained.recorder.history(self.evals_result_) if trained.recorder is not None else None
        self.position_bias_ = trained.position_bias
        self.distributed_ = distributed
        self._fit_params = {**settings, "objective": repr(objective), "backend": backend.name}
        return self

    # -- fitted state ----------------------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        """For ``sklearn.utils.validation.check_is_fitted``."""
        return hasattr(self, "model_")

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise NotFittedError("this Ranker is not fitted yet: call fit(train, valid) or Ranker.load(dir) "
                                 "first")

    @property
    def feature_names_(self) -> list:
        """Deprecated alias of :attr:`feature_names_in_` (as a list)."""
        warnings.warn("Ranker.feature_names_ is deprecated; use feature_names_in_ (scikit-learn's name)",
                      FutureWarning, stacklevel=2)
        self._check_fitted()
        return list(self.feature_names_in_)

    # -- predict ---------------------------------------------------------------------------------------
    def predict_scores(self, data) -> np.ndarray:
        """One float64 score per row of ``data``, in its row order (higher = ranked higher)."""
        self._check_fitted()
        names = list(self.feature_names_in_)
        ds = self._dataset(data, "prediction", names if isinstance(data, pd.DataFrame) else None)
        self._check_features(ds.feature_names, "prediction", names)
        raw = self.backend_.predict_raw(self.model_, ds.X, self.best_iteration_, self.n_jobs)
        return scores_from_prediction(self.objective_, raw, len(ds))

    def predict(self, data) -> pd.DataFrame:
        """A RUN frame (qid, docid, score) in the row order of ``data`` (a frame's index is kept)."""
        self._check_fitted()
        names = list(self.feature_names_in_)
        ds = self._dataset(data, "prediction", names if isinstance(data, pd.DataFrame) else None)
        scores = self.predict_scores(ds)
        index = data.index if isinstance(data, pd.DataFrame) else None
        return pd.DataFrame({QID: pd.Series(ds.qids, dtype=object, index=index),
                             DOCID: pd.Series(ds.docids, dtype=object, index=index),
                             SCORE: pd.Series(scores, index=index)})

    @property
    def feature_importances_(self) -> pd.Series:
        """Total split gain per feature over the trees used for prediction."""
        self._check_fitted()
        gain = self.backend_.importance(self.model_, self.best_iteration_, self.n_features_in_)
        return pd.Series(gain, index=pd.Index(list(self.feature_names_in_), name="feature"), name="gain")

    # -- persistence -----------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the backend's own model file and ``manifest.json`` into directory ``path``."""
        from ltr.models.persistence import save_ranker
        self._check_fitted()
        save_ranker(self, path)

    @classmethod
    def load(cls, path) -> Ranker:
        """Read a directory written by :meth:`save`; a missing, tampered or malformed model is a
        ModelFormatError (the model file's structure is checked before LightGBM or XGBoost parse it)."""
        from ltr.models.persistence import load_ranker
        return load_ranker(path, cls)

    def versions(self) -> dict:
        """Library versions that matter for reproducing this model."""
        import ltr
        backend = self.backend_ if hasattr(self, "backend_") else get_backend(self.backend)
        return {"ltr": ltr.__version__, backend.library: backend.version(), "numpy": np.__version__,
                "python": sys.version.split()[0]}
