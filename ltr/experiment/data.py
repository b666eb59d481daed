"""Turn an experiment's data declaration into folds of train / valid / test ranking datasets.

The declaration (:mod:`ltr.experiment.data_specs`) prepares its own kind of data; :func:`prepare` adds what
every kind shares: the check that tuning has validation data, and the fingerprint of every dataset (the data
hashes that are part of the experiment's identity).
"""

from __future__ import annotations

import numpy as np

from ltr.errors import ConfigError, DataError
from ltr.experiment.letor_data import holdout_split  # noqa: F401 (re-exported)
from ltr.experiment.prepared import PreparedData, PreparedFold, qrels_of  # noqa: F401 (re-exported)


def prepare(exp, *, cache_dir=None) -> PreparedData:
    """Folds for ``exp`` by its data kind; fingerprints of every dataset go into ``hashes``.

    ``cache_dir`` keeps computed feature matrices (raw collections only) for a resumed run."""
    prepared = exp.data.prepare(exp, cache_dir=cache_dir)
    for fold in prepared.folds:
        if fold.valid is None and exp.tuning.budget > 1:
            raise ConfigError(f"fold {fold.name!r} has no validation data, but tuning.budget = "
                              f"{exp.tuning.budget} needs it: add validation files or set tuning.budget = 1")
        for role in ("train", "valid", "test"):
            ds = getattr(fold, role)
            if ds is not None:
                prepared.hashes[f"{fold.name}/{role}"] = ds.fingerprint()
        _check_disjoint(fold, prepared)
    return prepared


def _check_disjoint(fold, prepared: PreparedData) -> None:
    """Test data identical to the training (or validation) data is refused; shared queries are noted."""
    h = prepared.hashes
    for role in ("train", "valid"):
        if h.get(f"{fold.name}/{role}") == h[f"{fold.name}/test"]:
            raise DataError(f"fold {fold.name!r}: the test data are identical to the {role} data (same SHA-256 "
                            f"{h[f'{fold.name}/test'][:12]}), so the test would score what the models were "
                            f"{'trained' if role == 'train' else 'tuned'} on; fix the data paths")
    shared = np.intersect1d(fold.train.unique_qids.astype(str), fold.test.unique_qids.astype(str))
    if shared.size:
        prepared.notes.append(f"Fold {fold.name}: {shared.size} of {fold.test.n_queries} test queries also appear "
                              f"in the training data (e.g. {shared[:3].tolist()}); their scores are not "
                              f"held-out estimates.")
