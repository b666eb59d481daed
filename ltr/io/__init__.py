"""Floor 2: file formats. Readers and writers of LETOR/SVMlight, TREC qrels and runs, TREC documents and
topics, SMART, JSONL and TSV collections, and atomic writes.

Readers return the types of the floor below (:class:`~ltr.ranking.RankingDataset`,
:class:`~ltr.collection.Collection`, frames with the columns of :mod:`ltr.schema`); writers write
atomically and read back equal. Malformed input raises a :class:`~ltr.errors.ParseError` naming the file
and line. The collection formats are imported on first use.
"""

from importlib import import_module

from ltr.atomic import atomic_write, write_json
from ltr.io.letor import (
           read_letor,
           read_letor_folds,
           read_query_file,
           write_letor,
           write_query_file,
)
from ltr.io.trec import read_qrels, read_run, write_qrels, write_run

_LAZY = {
    "ltr.io.jsonl": ("load_jsonl", "write_jsonl"),
    "ltr.io.tsv": ("load_tsv",),
    "ltr.io.smart": ("load_smart", "read_smart"),
    "ltr.io.trec_docs": ("load_trec", "read_trec_docs", "read_trec_topics"),
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
           "atomic_write",
           "read_letor",
           "read_letor_folds",
           "read_qrels",
           "read_query_file",
           "read_run",
           "write_json",
           "write_letor",
           "write_qrels",
           "write_query_file",
           "write_run",
           *_WHERE,
]


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ltr.io' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
