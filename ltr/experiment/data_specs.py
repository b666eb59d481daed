"""Where an experiment's data come from: one declaration type per data kind, checked when declared.

A TOML ``[data]`` table (or a dict) with ``kind = ...`` becomes one of

- :class:`LetorFolds` (``kind = "letor"``): the LETOR fold layout ``<path>/Fold*/{train,vali,test}.txt``;
- :class:`LetorFiles` (``kind = "letor_files"``): explicit LETOR/SVMlight files;
- :class:`CollectionData` (``kind = "collection"``): a raw collection through a first stage, candidate sets
  and a feature set (the pipeline's own parts, resolved against its registries here, so that
  ``splits = "kfold(n=3)"`` or ``negatives = "random(m=5)"`` fails when declared, not after retrieval).

Each has ``prepare(exp, cache_dir=None) -> PreparedData`` (:mod:`ltr.experiment.letor_data`,
:mod:`ltr.experiment.collection_data`) and ``to_dict()``, which :func:`data_spec` reads back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ltr.errors import ConfigError
from ltr.naming import check_params, select
from ltr.params import check_type


def _fraction(value, what: str) -> float:
    check_type(value, (int, float), what)
    if not 0.0 < float(value) < 1.0:
        raise ConfigError(f"{what} must be a fraction in (0, 1), got {value!r}")
    return float(value)


class DataSpec:
    """Base of the data declarations; :meth:`from_dict` builds the one its ``kind`` names."""

    kind = ""

    def to_dict(self) -> dict:
        """Plain data (JSON/TOML-able) that :func:`data_spec` reads back into an equal declaration."""
        out = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @staticmethod
    def from_dict(value) -> "DataSpec":
        return data_spec(value)

    def prepare(self, exp, cache_dir=None):
        raise NotImplementedError


@dataclass(frozen=True)
class LetorFolds(DataSpec):
    """``kind = "letor"``.

    Parameters
    ----------
    path : str
        The folder holding ``Fold1..FoldN``; relative to the experiment file's folder.
    folds : list of str, optional
        The folds to run (default all, e.g. ``["Fold1"]``).
    """

    path: str
    folds: tuple[str, ...] | None = None
    kind = "letor"

    def __post_init__(self):
        check_type(self.path, str, "data.path")
        if self.folds is not None:
            if isinstance(self.folds, str) or not all(isinstance(f, str) for f in self.folds) or not self.folds:
                raise ConfigError(f"data.folds must be a non-empty list of fold names, got {self.folds!r}")
            object.__setattr__(self, "folds", tuple(self.folds))

    def prepare(self, exp, cache_dir=None):
        from ltr.experiment.letor_data import prepare_letor_folds
        return prepare_letor_folds(self, exp)


@dataclass(frozen=True)
class LetorFiles(DataSpec):
    """``kind = "letor_files"``.

    Parameters
    ----------
    train, test : str
        LETOR/SVMlight files; relative to the experiment file's folder.
    valid : str, optional
        Without it, ``holdout`` of the training queries are held out for validation
        (:func:`ltr.pipeline.splits.holdout_queries`).
    holdout : float, default=0.2
    seed : int, default=0
        Seed of the hold-out.
    """

    train: str
    test: str
    valid: str | None = None
    holdout: float = 0.2
    seed: int = 0
    kind = "letor_files"

    def __post_init__(self):
        for name in ("train", "test"):
            check_type(getattr(self, name), str, f"data.{name}")
        if self.valid is not None:
            check_type(self.valid, str, "data.valid")
        _fraction(self.holdout, "data.holdout")
        check_type(self.seed, int, "data.seed")

    def prepare(self, exp, cache_dir=None):
        from ltr.experiment.letor_data import prepare_letor_files
        return prepare_letor_files(self, exp)


@dataclass(frozen=True)
class CollectionData(DataSpec):
    """``kind = "collection"``: BM25 (or another first stage) top-k -> candidates -> features -> folds.

    Parameters
    ----------
    collection : str
        A registered collection with parameters (``"synthetic-web(seed=0)"``, ``"cacm"``) or a folder
        (relative to the experiment file's folder).
    features : list of str
        Extractor specs, e.g. ``["bm25(field='body')", "recency", "pagerank"]`` (:mod:`features`).
    first_stage : str, default="bm25"
        The first stage (:func:`ltr.pipeline.get_first_stage`), with its own parameters, e.g.
        ``"bm25(k1=1.2, b=0.75, variant='robertson')"``.
    first_stage_k : int, default=100
        Candidates per query (10 < k < 10,000).
    splits : str, default="kfold(k=5)"
        ``"kfold(k=5)"`` (query-level k-fold) or ``"time(test_fraction=0.2)"`` (older queries train, newer
        test; needs query times): :func:`ltr.pipeline.splits.get_splitter`.
    negatives : str, default="all"
        Training candidates: ``"all"`` (the first-stage top-k), ``"random(n=20)"``, ``"hard(n=20)"`` or
        ``"mix(n=20, hard_ratio=0.5)"`` (:func:`ltr.pipeline.candidates.get_negatives`); evaluation candidates
        are never altered.
    normalize : str or None
        Per-query feature normalisation (``"zscore"``, ``"minmax"``) or None.
    holdout : float, default=0.2
        Fraction of each fold's training queries held out for validation (the newest ones for a time split).
    seed : int, default=0
        Seed of the splits, hold-outs and random negatives.
    """

    collection: str
    features: tuple[str, ...]
    first_stage: str = "bm25"
    first_stage_k: int = 100
    splits: str = "kfold(k=5)"
    negatives: str = "all"
    normalize: str | None = None
    holdout: float = 0.2
    seed: int = 0
    kind = "collection"

    def __post_init__(self):
        from features import FeatureSet
        from ltr.pipeline.candidates import get_negatives
        from ltr.pipeline.first_stage import get_first_stage
        from ltr.pipeline.splits import get_splitter, splitter_spec

        check_type(self.collection, str, "data.collection")
        if isinstance(self.features, str) or not self.features:
            raise ConfigError(f"data of kind 'collection' needs a non-empty features list, got {self.features!r}")
        object.__setattr__(self, "features", tuple(self.features))
        check_type(self.first_stage_k, int, "data.first_stage_k")
        if not 10 < self.first_stage_k < 10_000:
            raise ConfigError(f"data.first_stage_k must be in 10 < k < 10,000, got {self.first_stage_k}")
        _fraction(self.holdout, "data.holdout")
        check_type(self.seed, int, "data.seed")
        # the pipeline's own parts, resolved once: every name and parameter is checked here
        first_stage = get_first_stage(self.first_stage)
        if first_stage.get_params().get("k") != type(first_stage)().get_params().get("k"):
            raise ConfigError(f"data.first_stage {self.first_stage!r} sets its own k; the depth is "
                              f"data.first_stage_k")
        splitter = get_splitter(self.splits)
        negatives = get_negatives(self.negatives)
        feature_set = FeatureSet(list(self.features), normalize=self.normalize)
        object.__setattr__(self, "first_stage", first_stage.spec())
        object.__setattr__(self, "splits", splitter_spec(splitter))
        object.__setattr__(self, "negatives", str(negatives))
        object.__setattr__(self, "_parts", {"first_stage": first_stage, "splitter": splitter,
                                            "negatives": negatives, "feature_set": feature_set})

    @property
    def splitter(self):
        return self._parts["splitter"]

    @property
    def negative_strategy(self):
        return self._parts["negatives"]

    def retriever(self, depth: int):
        """A new, unfitted first stage as declared, retrieving ``depth`` documents per query."""
        from ltr.params import clone
        return clone(self._parts["first_stage"]).set_params(k=depth)

    def feature_set(self):
        """A new, unfitted FeatureSet as declared."""
        from ltr.params import clone
        return clone(self._parts["feature_set"])

    def prepare(self, exp, cache_dir=None):
        from ltr.experiment.collection_data import prepare_collection
        return prepare_collection(self, exp, cache_dir=cache_dir)


#: Data kinds by name, with what each reads.
DATA_KINDS: dict[str, type] = {LetorFolds.kind: LetorFolds, LetorFiles.kind: LetorFiles,
                               CollectionData.kind: CollectionData}


def data_spec(value) -> DataSpec:
    """The declaration a ``[data]`` table names by its ``kind`` (default ``"letor"``); unknown keys, missing
    keys and wrong types fail here, naming the key."""
    if isinstance(value, DataSpec):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"data must be a table (dict), got {type(value).__name__} {value!r}")
    fields = dict(value)
    kind = fields.pop("kind", "letor")
    cls = select(DATA_KINDS, kind, what="data kind")
    names = {f.name: f for f in dataclasses.fields(cls)}
    check_params(fields, names, owner=f"data of kind {kind!r}", what="keys", error=ConfigError)
    missing = [n for n, f in names.items()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and n not in fields]
    if missing:
        raise ConfigError(f"data of kind {kind!r} needs {missing}")
    return cls(**fields)
