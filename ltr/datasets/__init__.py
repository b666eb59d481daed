"""Floor 2: data sets: the ranking dataset, raw collections and their loaders, the synthetic web."""

from ltr.datasets.loaders import (available_collections, load_cacm, load_collection, load_cranfield, load_jsonl,
                                  load_smart, load_trec, load_tsv, load_vaswani, register_collection, write_jsonl)
from ltr.datasets.collection import Collection
from ltr.datasets.ranking import RankingDataset, check_group_sizes, group_sizes_from_qids, synthetic_docids
from ltr.datasets.synthetic import generate_synthetic_web, make_synthetic_web, utility_factors

__all__ = ["Collection", "RankingDataset", "generate_synthetic_web", "make_synthetic_web", "utility_factors", "check_group_sizes", "group_sizes_from_qids", "synthetic_docids",
           "available_collections", "load_cacm", "load_collection", "load_cranfield", "load_jsonl", "load_smart",
           "load_trec", "load_tsv", "load_vaswani", "register_collection", "write_jsonl"]
