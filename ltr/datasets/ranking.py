"""Moved to :mod:`ltr.ranking` (the core floor); this module re-exports it so existing imports keep working."""

from ltr.ranking import RankingDataset, check_group_sizes, group_sizes_from_qids, synthetic_docids  # noqa: F401
