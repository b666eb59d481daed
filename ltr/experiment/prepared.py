"""What the data declaration prepares: folds of train / valid / test ranking datasets and the test qrels.

Each :class:`PreparedFold` carries the full qrels of its test queries, so end-to-end figures count the relevant
documents a first stage missed against the pipeline, and any fixed runs to compare with (the first stage alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ltr.ranking import RankingDataset
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


def fold_of(name: str, train: RankingDataset, valid: RankingDataset | None, test: RankingDataset) -> PreparedFold:
    """A fold whose test qrels are the test dataset's labels (LETOR: every row is judged)."""
    return PreparedFold(name, train, valid, test, qrels_of(test))
