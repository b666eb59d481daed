"""Floor 3: raw collections and their loaders, the synthetic web.

The core types live on the ground floor (:class:`ltr.collection.Collection`, :class:`ltr.ranking.RankingDataset`)
and are re-exported here. The loaders and the synthetic-web generator are imported on first use, so that
``import ltr.datasets`` (and everything below it) stays cheap.
"""

from importlib import import_module

from ltr.collection import Collection
from ltr.ranking import RankingDataset, check_group_sizes, group_sizes_from_qids, synthetic_docids

_LAZY = {
    "ltr.datasets.loaders": ("available_collections", "load_cacm", "load_collection", "load_cranfield",
                             "load_folder", "load_jsonl", "load_smart", "load_trec", "load_tsv", "load_vaswani",
                             "register_collection", "write_jsonl"),
    "ltr.datasets.synthetic": ("generate_synthetic_web", "make_synthetic_web", "utility_factors"),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}

__all__ = ["Collection", "RankingDataset", "check_group_sizes", "group_sizes_from_qids", "synthetic_docids",
           *_WHERE]


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ltr.datasets' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
