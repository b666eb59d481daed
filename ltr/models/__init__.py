"""Floor 4: the Ranker (fit / predict / save / load) over LightGBM and XGBoost, and the file verbs the CLI
calls (``train_files``, ``predict_file``)."""

from ltr.models.backends import available_backends, get_backend
from ltr.models.callbacks import Recorder, pair_counts
from ltr.models.files import predict_file, train_files
from ltr.models.ranker import DEFAULT_EVAL_METRIC, Ranker, label_kind

__all__ = ["DEFAULT_EVAL_METRIC", "Ranker", "Recorder", "available_backends", "get_backend", "label_kind",
           "pair_counts", "predict_file", "train_files"]
