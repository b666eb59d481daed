"""Floor 2: data sets: the ranking dataset, raw collections and their loaders, the synthetic web."""

from ltr.datasets.ranking import RankingDataset, check_group_sizes, group_sizes_from_qids, synthetic_docids

__all__ = ["RankingDataset", "check_group_sizes", "group_sizes_from_qids", "synthetic_docids"]
