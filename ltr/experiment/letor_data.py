"""Folds from LETOR files: the ``Fold1..FoldN`` layout, or explicit train / valid / test files."""

from __future__ import annotations

import numpy as np

from ltr.errors import ConfigError
from ltr.experiment.prepared import PreparedData, fold_of
from ltr.ranking import RankingDataset


def holdout_split(dataset: RankingDataset, fraction: float, seed: int) -> tuple[RankingDataset, RankingDataset]:
    """Hold out ``fraction`` of the queries for validation (:func:`ltr.pipeline.splits.holdout_queries`: a
    ``numpy.random.default_rng(seed)`` permutation of the qids in row order, as in
    ``../shared/data/REFERENCE.md``); rows keep their order."""
    from ltr.pipeline.splits import holdout_queries
    _, valid_q = holdout_queries(dataset.unique_qids, fraction, seed=seed)
    mask = np.isin(dataset.qids, valid_q)
    return dataset.take(np.flatnonzero(~mask)), dataset.take(np.flatnonzero(mask))


def prepare_letor_folds(spec, exp) -> PreparedData:
    from ltr.io import read_letor_folds
    folder = exp.resolve_path(spec.path)
    if not folder.is_dir():
        raise ConfigError(f"data.path {folder} is not a folder (expected Fold1..FoldN inside); "
                          f"fix the path in the experiment")
    folds = []
    for name, parts in read_letor_folds(folder):
        if spec.folds is not None and name not in spec.folds:
            continue
        folds.append(fold_of(name, parts["train"], parts.get("vali"), parts["test"]))
    if spec.folds is not None:
        missing = sorted(set(spec.folds) - {f.name for f in folds})
        if missing:
            raise ConfigError(f"data.folds names {missing}, which {folder} does not have")
    return PreparedData(folds)


def prepare_letor_files(spec, exp) -> PreparedData:
    from ltr.io import read_letor
    paths = {k: exp.resolve_path(getattr(spec, k)) for k in ("train", "test", "valid")}
    for role, p in paths.items():
        if p is not None and not p.is_file():
            raise ConfigError(f"data.{role} file {p} does not exist; fix the path in the experiment")
    train, test = read_letor(paths["train"]), read_letor(paths["test"])
    notes = []
    if paths["valid"] is not None:
        valid = read_letor(paths["valid"])
    else:
        train, valid = holdout_split(train, spec.holdout, spec.seed)
        notes.append(f"No validation file: {valid.n_queries} of {train.n_queries + valid.n_queries} training "
                     f"queries ({spec.holdout:.0%}, numpy default_rng({spec.seed}) permutation of the "
                     f"qids) were held out for early stopping and tuning.")
    return PreparedData([fold_of("all", train, valid, test)], notes)
