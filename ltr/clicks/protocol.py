"""The standard unbiased-learning-to-rank simulation protocol, in one call.

Joachims et al. (2017) and Ai et al. (2018): a *production ranker* is trained on a small fraction of the
labelled training queries (1% in both papers); it ranks the other training queries; simulated users issue
those queries and click on its top k under a click model with known bias. The click log then trains the
rankers under study (part 2), whose quality is measured on the true labels of held-out queries.

Defaults, stated: fraction 0.01 of the training queries (at least one), drawn with the seed; the production
ranker is ``Ranker("lambdarank", n_estimators=100, learning_rate=0.1, num_leaves=15,
min_child_samples=5, early_stopping_rounds=None)`` (the papers used a linear Ranking SVM; any Ranker
keyword arguments can replace these); queries are issued uniformly; PBM users with eta = 1 and the graded
mapping with eps = 0.1 and y_max = the largest training label; top 10.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ltr.clicks.log import ClickLog
from ltr.clicks.simulate import (Graded, click_probabilities, get_intervention, get_mapping, get_user_model,
                                 simulate)
from ltr.errors import ConfigError, DataError
from ltr.ranking import RankingDataset
from ltr.schema import DOCID, LABEL, QID

__all__ = ["PRODUCTION_RANKER", "ProtocolResult", "production_protocol"]

PRODUCTION_RANKER = {"objective": "lambdarank", "n_estimators": 100, "learning_rate": 0.1, "num_leaves": 15,
                     "min_child_samples": 5, "early_stopping_rounds": None}
"""Keyword arguments of the default production :class:`ltr.models.Ranker`."""


@dataclass(frozen=True, eq=False)
class ProtocolResult:
    """What :func:`production_protocol` produced.

    Attributes
    ----------
    log : ClickLog
        The simulated sessions on the click queries.
    production_run : DataFrame
        RUN (qid, docid, score) of the production ranker on the click queries (all their documents).
    production_qids, click_qids : ndarray of str
        The labelled queries the production ranker was trained on, and the rest (the queries users issue).
    ranker : ltr.models.Ranker
        The fitted production ranker.
    probabilities : DataFrame
        qid, docid, label, attractiveness, satisfaction of the click queries' documents (the truth).
    propensities : ndarray or None
        True examination per position 1..top for position-based users (PBM, UBM with no click above).
    config : dict
        The resolved settings (printable; saved with results).
    """

    log: ClickLog
    production_run: pd.DataFrame
    production_qids: np.ndarray
    click_qids: np.ndarray
    ranker: object
    probabilities: pd.DataFrame
    propensities: np.ndarray | None
    config: dict = field(default_factory=dict)


def production_protocol(train, *, sessions: int, fraction: float = 0.01, user="pbm", mapping="graded",
                        top: int = 10, seed: int = 0, intervention=None, ranker=None, n_jobs: int = 2
                        ) -> ProtocolResult:
    """Train a production ranker on a fraction of ``train``'s queries and simulate clicks on the rest.

    Parameters
    ----------
    train : RankingDataset or path
        Labelled training data (a LETOR file is read with :func:`ltr.io.read_letor`).
    sessions : int
        Simulated sessions.
    fraction : float, default 0.01
        Share of the training queries that train the production ranker (at least one query).
    user, mapping, top, seed, intervention, n_jobs
        As :func:`ltr.clicks.simulate.simulate_from_qrels`.
    ranker : dict or None
        Keyword arguments of :class:`ltr.models.Ranker` replacing :data:`PRODUCTION_RANKER` entries.

    Returns
    -------
    ProtocolResult

    Examples
    --------
    >>> out = production_protocol("../shared/data/letor4-mq2008/MQ2008/Fold1/train.txt",
    ...                           sessions=100_000, user="pbm(eta=1)", seed=0)          # doctest: +SKIP
    >>> out.log.summary().serps, out.propensities[:3]                                     # doctest: +SKIP
    (100000, array([1.        , 0.5       , 0.33333333]))
    """
    from ltr.models import Ranker

    if not isinstance(train, RankingDataset):
        from ltr.io import read_letor
        train = read_letor(train)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ConfigError(f"fraction must be a float in (0, 1), got {fraction!r}")
    user_model = get_user_model(user)
    mapping_obj = get_mapping(mapping)
    intervention_obj = get_intervention(intervention)
    settings = dict(PRODUCTION_RANKER)
    if ranker is not None:
        if not isinstance(ranker, dict):
            raise ConfigError(f"ranker must be a dict of Ranker keyword arguments, got {type(ranker).__name__}")
        settings.update(ranker)
    settings.setdefault("random_state", int(seed))
    # Step 1: split the training queries
    qids = train.unique_qids
    if len(qids) < 2:
        raise DataError(f"{train.name} has {len(qids)} queries; the protocol needs at least two (one to train "
                        f"the production ranker, one to click on)")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0x5EED,)))
    n_prod = min(max(1, int(round(fraction * len(qids)))), len(qids) - 1)
    chosen = np.zeros(len(qids), dtype=bool)
    chosen[rng.permutation(len(qids))[:n_prod]] = True
    production_qids, click_qids = qids[chosen], qids[~chosen]
    # Step 2: the production ranker ranks the click queries
    model = Ranker(**settings).fit(train.subset_queries(production_qids))
    rest = train.subset_queries(click_qids)
    run = model.predict(rest)
    qrels = pd.DataFrame({QID: rest.qids, DOCID: rest.docids, LABEL: rest.labels})
    # Step 3: users click on its top
    if isinstance(mapping_obj, Graded) and mapping_obj.y_max is None:
        # y_max of the data set (all training labels), not only of the click queries
        mapping_obj = Graded(eps=mapping_obj.eps, y_max=float(np.nanmax(train.labels)))
    probs = click_probabilities(run, qrels, mapping=mapping_obj)
    log = simulate(run, probs, user=user_model, sessions=sessions, top=top, seed=seed,
                   intervention=intervention_obj, n_jobs=n_jobs)
    width = int(log.serps.max_len)
    truth = user_model.examination(width)
    config = {"train": train.name, "train_queries": int(len(qids)), "fraction": float(fraction),
              "production_queries": int(n_prod), "ranker": {k: v for k, v in settings.items()},
              "user": repr(user_model), "mapping": probs.attrs.get("mapping", repr(mapping_obj)),
              "y_max": probs.attrs.get("y_max"), "top": int(top), "sessions": int(sessions), "seed": int(seed),
              "intervention": None if intervention_obj is None else repr(intervention_obj)}
    return ProtocolResult(log=log, production_run=run, production_qids=production_qids, click_qids=click_qids,
                          ranker=model, probabilities=probs, propensities=truth, config=config)
