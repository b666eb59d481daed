"""Floor 2: readers and writers of LETOR/SVMlight and TREC files, and atomic writes.

Readers return the types of the floor below (:class:`~ltr.ranking.RankingDataset`, frames with the
columns of :mod:`ltr.schema`); writers write atomically and read back equal. Malformed input raises a
:class:`~ltr.errors.ParseError` naming the file and line.
"""

from ltr.atomic import atomic_write, write_json
from ltr.io.letor import (
           read_letor,
           read_letor_folds,
           read_query_file,
           write_letor,
           write_query_file,
)
from ltr.io.trec import read_qrels, read_run, write_qrels, write_run

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
]
