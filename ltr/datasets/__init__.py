"""Floor 2: data sets: the ranking dataset, raw collections and their loaders, the synthetic web."""

from ltr.datasets.loaders import (available_collections, load_cacm, load_collection, load_cranfield, load_jsonl,
                                  load_smart, load_trec, load_tsv, load_vaswani, register_collection, write_jsonl)
from ltr.datasets.ranking import RankingDataset, check_group_sizes, group_sizes_from_qids, synthetic_docids

__all__ = ["RankingDataset", "check_group_sizes", "group_sizes_from_qids", "synthetic_docids",
           "available_collections", "load_cacm", "load_collection", "load_cranfield", "load_jsonl", "load_smart",
           "load_trec", "load_tsv", "load_vaswani", "register_collection", "write_jsonl"]
