"""Turn an experiment's data declaration into folds of train / valid / test ranking datasets.

Each :class:`PreparedFold` carries the full qrels of its test queries, so end-to-end figures count the relevant
documents a first stage missed against the pipeline, and any fixed runs to compare with (the first stage alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltr.ranking import RankingDataset
from ltr.errors import ConfigError
from ltr.schema import DOCID, LABEL, QID



@dataclass
class PreparedFold:
    """One fold: datasets for training, validation (None when absent) and test, and the test qrels."""

    name: str
    train: RankingDataset
    valid: RankingDataset | None
    test: RankingDataset
    qrels: pd.DataFrame
    fixed_runs: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing_queries: str = "skip"   # "zero": a test query the run lacks scores 0 (end-to-end pipelines)


@dataclass
class PreparedData:
    """The folds of an experiment, with what a report should say about the data."""

    folds: list[PreparedFold]
    notes: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)   # e.g. first-stage recall@k, stage costs
    feature_groups: dict[str, str] = field(default_factory=dict)     # feature name -> extractor family


def qrels_of(dataset: RankingDataset) -> pd.DataFrame:
    """The QRELS frame of a labelled dataset (every row is a judged document)."""
    return pd.DataFrame({QID: pd.Series(dataset.qids, dtype=object),
                         DOCID: pd.Series(dataset.docids, dtype=object), LABEL: dataset.labels})


def holdout_split(dataset: RankingDataset, fraction: float, seed: int) -> tuple[RankingDataset, RankingDataset]:
    """Hold out ``fraction`` of the queries (a ``numpy.random.default_rng(seed)`` permutation of the qids in
    row order, as in ``../shared/data/REFERENCE.md``) for validation; rows keep their order."""
    qids = dataset.unique_qids
    perm = np.random.default_rng(seed).permutation(len(qids))
    n_valid = max(1, int(round(fraction * len(qids))))
    valid_q = set(qids[perm[:n_valid]].tolist())
    mask = np.fromiter((q in valid_q for q in dataset.qids), dtype=bool, count=len(dataset))
    return dataset.take(np.flatnonzero(~mask)), dataset.take(np.flatnonzero(mask))


def _fold(name, train, valid, test) -> PreparedFold:
    return PreparedFold(name, train, valid, test, qrels_of(test))


def prepare_letor(exp) -> PreparedData:
    from ltr.io import read_letor_folds
    folder = exp.resolve_path(exp.data.path)
    if not folder.is_dir():
        raise ConfigError(f"data.path {folder} is not a folder (expected Fold1..FoldN inside); "
                          f"fix the path in the experiment")
    folds = []
    for name, parts in read_letor_folds(folder):
        if exp.data.folds is not None and name not in exp.data.folds:
            continue
        folds.append(_fold(name, parts["train"], parts.get("vali"), parts["test"]))
    if exp.data.folds is not None:
        missing = sorted(set(exp.data.folds) - {f.name for f in folds})
        if missing:
            raise ConfigError(f"data.folds names {missing}, which {folder} does not have")
    return PreparedData(folds)


def prepare_letor_files(exp) -> PreparedData:
    from ltr.io import read_letor
    paths = {k: exp.resolve_path(getattr(exp.data, k)) for k in ("train", "test", "valid")}
    for role, p in paths.items():
        if p is not None and not p.is_file():
            raise ConfigError(f"data.{role} file {p} does not exist; fix the path in the experiment")
    train, test = read_letor(paths["train"]), read_letor(paths["test"])
    notes = []
    if paths["valid"] is not None:
        valid = read_letor(paths["valid"])
    else:
        train, valid = holdout_split(train, exp.data.holdout, exp.data.seed)
        notes.append(f"No validation file: {valid.n_queries} of {train.n_queries + valid.n_queries} training "
                     f"queries ({exp.data.holdout:.0%}, numpy default_rng({exp.data.seed}) permutation of the "
                     f"qids) were held out for early stopping and tuning.")
    return PreparedData([_fold("all", train, valid, test)], notes)


def prepare(exp, *, cache_dir=None) -> PreparedData:
    """Folds for ``exp`` by its data kind; fingerprints of every dataset go into ``hashes``.

    ``cache_dir`` keeps computed feature matrices (raw collections only) for a resumed run."""
    if exp.data.kind == "letor":
        prepared = prepare_letor(exp)
    elif exp.data.kind == "letor_files":
        prepared = prepare_letor_files(exp)
    else:
        from ltr.experiment.collection_data import prepare_collection
        prepared = prepare_collection(exp, cache_dir=cache_dir)
    for fold in prepared.folds:
        if fold.valid is None and exp.tuning.budget > 1:
            raise ConfigError(f"fold {fold.name!r} has no validation data, but tuning.budget = "
                              f"{exp.tuning.budget} needs it: add validation files or set tuning.budget = 1")
        for role in ("train", "valid", "test"):
            ds = getattr(fold, role)
            if ds is not None:
                prepared.hashes[f"{fold.name}/{role}"] = ds.fingerprint()
    return prepared
