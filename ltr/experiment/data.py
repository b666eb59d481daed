"""Turn an experiment's data declaration into folds of train / valid / test ranking datasets.

The declaration (:mod:`ltr.experiment.data_specs`) prepares its own kind of data; :func:`prepare` adds what
every kind shares: the check that tuning has validation data, and the fingerprint of every dataset (the data
hashes that are part of the experiment's identity).
"""

from __future__ import annotations

from ltr.errors import ConfigError
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
    return prepared
