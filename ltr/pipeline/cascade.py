"""Multi-stage re-ranking cascades: a first stage shortlists, then rankers of rising cost re-rank.

A :class:`Cascade` chains a first-stage retriever (BM25 top ``first_k``) and :class:`Stage` objects, each a
:class:`~ltr.models.Ranker` with a :class:`~features.base.FeatureSet` and a cut-off::

    Cascade([Stage("cheap", Ranker(n_estimators=100), FeatureSet(["bm25(field='title')"]), cutoff=100),
             Stage("full", Ranker(n_estimators=500), FeatureSet(["pagerank", "recency"]))],
            first_stage=BM25Retriever(), first_k=1000)

Rules
-----
- **Features accumulate.** Stage ``i`` computes its own feature set on the documents it receives; its
  ranker sees every feature computed so far (earlier stages' and its own), or the subset named in
  ``Stage(feature_names=...)``. A name that no stage up to it computes is an error naming the stage and
  the features (``first_stage_score``, the first stage's own score, is always available by name).
- **Cut-offs never grow**: ``first_k >= cutoff_1 >= cutoff_2 >= ...`` (None = keep everything the stage
  received); a growing cut-off is a :class:`~ltr.errors.ConfigError` at construction.
- **Training stage by stage.** Stage 1 trains on the first stage's top ``first_k`` of the training
  queries, built by :func:`~ltr.pipeline.candidates.build_candidates` with the cascade's training
  strategy (``negatives``, ``add_judged``...). Stage ``i + 1`` trains on the documents stage ``i`` keeps. With
  ``cv=K``, the scores that decide what stage ``i`` keeps *on the training queries* come from K models each
  trained without the query (out-of-fold, by query), so that the next stage trains on the candidate lists
  it will really see, not on lists an over-fitted model made look easy. Queries with fewer than two
  candidates are left out of a stage's training set (a ranking objective learns nothing from them).
- **Early stopping** uses ``valid_fraction`` of the training queries (seeded, by query) as validation set
  of each stage: the candidates that stage receives (stage 1: the first-stage top-k, never the training
  strategy's candidates), scored with the ranker's candidate-set ``eval_metric`` (LightGBM's
  training-time nDCG by default): a candidate-set metric, never reported as an end-to-end figure.
- **Run.** :meth:`Cascade.run` returns the final stage's ranking. With ``keep_dropped=True`` the documents
  dropped at each cut-off follow, in the order of the stage that dropped them, with placeholder scores
  below every kept document's (``score`` then encodes the order only; column ``stage`` says which stage
  ranked each row).
- **Ties.** At a cut-off, documents with equal scores keep the order of the stage before (its evidence
  breaks the tie). Metrics computed on the returned run with trec_eval's rule break the remaining ties of
  the final stage's scores by docid, as for any run.
- **Costs.** :meth:`Cascade.run_with_costs` returns them beside the run: per stage, documents in per query, seconds per query (features
  and model separately) and feature computations (documents x features) per query.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from features.base import FeatureSet
from ltr.collection import Collection
from ltr import errors
from ltr.errors import ConfigError, DataError, SchemaError
from ltr.params import clone
from ltr.ranking import RankingDataset
from ltr.pipeline.candidates import FIRST_STAGE_SCORE, attach_queries, build_candidates
from ltr.pipeline.first_stage import FirstStage
from ltr.pipeline.splits import query_kfold
from ltr.schema import DOCID, QID, QUERY, RANK, SCORE, as_id_array, require_columns

STAGE = "stage"
_TRAIN_OPTIONS = ("add_judged", "negatives", "n_negatives", "hard_ratio")


@dataclass
class Stage:
    """One re-ranking stage: a ranker over a feature set, keeping the best ``cutoff`` documents per query.

    Parameters
    ----------
    name : str
        Shown in the costs and in errors.
    ranker : ltr.models.Ranker
        A template: the cascade fits clones of it.
    features : FeatureSet or list of extractors / extractor names
        The features this stage computes (on the documents it receives).
    cutoff : int or None, default=None
        Documents kept per query for the next stage (None: all).
    feature_names : list of str or None, default=None
        The features the ranker uses, among those computed by this and earlier stages and
        ``"first_stage_score"`` (None: every feature computed so far, without ``first_stage_score``).
    """

    name: str
    ranker: object
    features: FeatureSet | Sequence = field(default_factory=list)
    cutoff: int | None = None
    feature_names: Sequence[str] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a Stage needs a non-empty name; got {self.name!r}")
        if not isinstance(self.features, FeatureSet):
            self.features = FeatureSet(list(self.features))
        if self.cutoff is not None and (isinstance(self.cutoff, bool) or not isinstance(self.cutoff, (int, np.integer))
                                        or self.cutoff < 1):
            raise ConfigError(f"The 'cutoff' parameter of Stage {self.name!r} must be an integer >= 1 or None. "
                              f"Got {self.cutoff!r} instead.")
        if not (hasattr(self.ranker, "fit") and hasattr(self.ranker, "predict_scores")):
            raise ConfigError(f"Stage {self.name!r} needs a ranker with fit() and predict_scores() (an "
                              f"ltr.models.Ranker); got {type(self.ranker).__name__}")


def _top_per_query(frame: pd.DataFrame, scores: np.ndarray, cutoff: int | None):
    """Order each query's rows by descending score (ties: earlier row first) and split at ``cutoff``.

    Returns the positions (into ``frame``) of the kept rows, in rank order, and of the dropped rows.
    """
    codes = pd.factorize(frame[QID].to_numpy())[0]
    order = np.lexsort((np.arange(len(frame)), -scores, codes))
    within = pd.Series(codes[order]).groupby(codes[order]).cumcount().to_numpy()
    if cutoff is None:
        return order, order[:0]
    return order[within < cutoff], order[within >= cutoff]


class CascadeRun(NamedTuple):
    """What :meth:`Cascade.run_with_costs` returns: the run and the cost of each stage per query."""

    run: pd.DataFrame
    costs: pd.DataFrame


class Cascade:
    """A first stage followed by re-ranking stages; trained stage by stage, run end to end.

    Parameters
    ----------
    stages : list of Stage
    first_stage : FirstStage
        E.g. :class:`~ltr.pipeline.first_stage.BM25Retriever` (fitted by :meth:`fit`).
    first_k : int, default=1000
        Documents the first stage retrieves per query.
    cv : int or None, default=None
        Folds by query for the out-of-fold scores that decide what each non-final stage passes on to the next
        stage during training (see the module docstring). None: in-sample scores.
    valid_fraction : float, default=0.2
        Fraction of the training queries held out for early stopping (0: no validation set).
    negatives, add_judged, n_negatives, hard_ratio
        The training strategy of stage 1's candidates (:func:`~ltr.pipeline.candidates.build_candidates`).
    drop_future : bool, default=False
        Leave documents newer than the query time out of every training set
        (:func:`features.recency.future_mask`), for time-ordered evaluations.
    seed : int, default=0
        Seeds the validation split, the folds and the random negatives.

    Attributes
    ----------
    rankers_ : dict of str -> Ranker
        The fitted ranker of each stage.
    feature_names_ : dict of str -> list of str
        The features each stage's ranker uses.
    train_summary_ : DataFrame
        Per stage: training queries and rows, validation queries and rows.
    notes_ : list of str
        Decisions recorded while training (assumed non-relevant documents, dropped queries).
    """

    def __init__(self, stages: Sequence[Stage], *, first_stage: FirstStage, first_k: int = 1000, cv: int | None = None,
                 valid_fraction: float = 0.2, negatives: str = "all", add_judged: bool = False,
                 n_negatives: int | None = None, hard_ratio: float = 0.5, drop_future: bool = False, seed: int = 0):
        self.stages = list(stages)
        self.first_stage, self.first_k, self.cv, self.valid_fraction = first_stage, first_k, cv, valid_fraction
        self.negatives, self.add_judged = negatives, add_judged
        self.n_negatives, self.hard_ratio = n_negatives, hard_ratio
        self.drop_future, self.seed = drop_future, seed
        self._validate()

    # -- configuration ---------------------------------------------------------------------------------
    def _validate(self) -> None:
        if not self.stages:
            raise ConfigError("a Cascade needs at least one Stage")
        bad = [type(s).__name__ for s in self.stages if not isinstance(s, Stage)]
        if bad:
            raise ConfigError(f"Cascade stages must be Stage objects; got {bad}")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ConfigError(f"Cascade stage names must be unique; got {names}")
        if not isinstance(self.first_stage, FirstStage):
            raise ConfigError(f"first_stage must be a FirstStage (e.g. BM25Retriever()); got "
                              f"{type(self.first_stage).__name__}")
        if isinstance(self.first_k, bool) or not isinstance(self.first_k, (int, np.integer)) or self.first_k < 1:
            raise ConfigError(f"The 'first_k' parameter of Cascade must be an integer >= 1. Got {self.first_k!r} "
                              f"instead.")
        if self.cv is not None and (isinstance(self.cv, bool) or not isinstance(self.cv, (int, np.integer))
                                    or self.cv < 2):
            raise ConfigError(f"The 'cv' parameter of Cascade must be None or an integer >= 2. Got {self.cv!r} "
                              f"instead.")
        if not isinstance(self.valid_fraction, (int, float)) or not 0 <= self.valid_fraction < 1:
            raise ConfigError(f"The 'valid_fraction' parameter of Cascade must be a float in [0, 1). Got "
                              f"{self.valid_fraction!r} instead.")
        # cut-offs must not grow
        previous, previous_name = int(self.first_k), f"the first stage (first_k={self.first_k})"
        for s in self.stages:
            if s.cutoff is not None:
                if s.cutoff > previous:
                    raise ConfigError(f"stage {s.name!r} keeps {s.cutoff} documents per query but {previous_name} "
                                      f"passes on only {previous}: cut-offs must not grow from one stage to the "
                                      f"next")
                previous, previous_name = int(s.cutoff), f"stage {s.name!r} (cutoff={s.cutoff})"
        # every stage's features must be computed by it or an earlier stage
        computed: list[str] = []
        seen: set[str] = set()
        self._used: dict[str, list[str]] = {}
        for s in self.stages:
            own = s.features.feature_names_out()
            clash = sorted(seen & set(own))
            if clash:
                raise ConfigError(f"stage {s.name!r} computes features {clash} that an earlier stage already "
                                  f"computes; drop them from this stage (features accumulate along the cascade)")
            computed += own
            seen |= set(own)
            if s.feature_names is None:
                used = list(computed)
            else:
                used = list(s.feature_names)
                missing = [f for f in used if f not in seen and f != FIRST_STAGE_SCORE]
                if missing:
                    raise ConfigError(f"stage {s.name!r} uses features {missing} that were not computed by it or "
                                      f"an earlier stage (computed so far: {computed + [FIRST_STAGE_SCORE]}); add "
                                      f"their extractors to this stage's or an earlier stage's features")
            if not used:
                raise ConfigError(f"stage {s.name!r} has no features: give it a FeatureSet or feature_names")
            self._used[s.name] = used

    def _train_options(self) -> dict:
        return {"add_judged": self.add_judged, "negatives": self.negatives, "n_negatives": self.n_negatives,
                "hard_ratio": self.hard_ratio}

    # -- helpers -----------------------------------------------------------------------------------------
    def _compute(self, stage: Stage, pairs: pd.DataFrame) -> pd.DataFrame:
        feats = stage.features.transform(pairs)
        return pd.concat([pairs, feats], axis=1)

    def _dataset(self, frame: pd.DataFrame, stage: Stage, name: str) -> RankingDataset:
        return RankingDataset.from_frame(frame, self._used[stage.name], name=f"stage {stage.name!r} {name}")

    def _drop_small_queries(self, frame: pd.DataFrame, stage: Stage, what: str, note: bool = True) -> pd.DataFrame:
        sizes = frame.groupby(QID, sort=False)[QID].transform("size")
        small = sizes < 2
        if small.any() and note:
            n = frame.loc[small, QID].nunique()
            self.notes_.append(f"stage {stage.name!r}: {n} {what} queries with fewer than 2 candidates left out "
                               f"of training")
        return frame[~small.to_numpy()]

    def _fit_one(self, stage: Stage, train: pd.DataFrame, valid: pd.DataFrame | None, *,
                 n_estimators: int | None = None):
        ranker = clone(stage.ranker)
        if n_estimators is not None:
            ranker.set_params(n_estimators=int(n_estimators))
        tr = self._drop_small_queries(train, stage, "training", note=n_estimators is None)
        if tr.empty:
            raise DataError(f"stage {stage.name!r} has no training query with at least 2 candidates")
        va = None
        if valid is not None:
            va = self._drop_small_queries(valid, stage, "validation")
            va = None if va.empty else self._dataset(va, stage, "valid")
        return ranker.fit(self._dataset(tr, stage, "train"), va)

    # -- fit ---------------------------------------------------------------------------------------------
    def fit(self, collection: Collection, qids=None) -> "Cascade":
        """Fit the first stage on the collection and train every stage on the training queries.

        Parameters
        ----------
        collection : Collection
            Documents, queries and qrels (only the training queries' qrels are read).
        qids : array-like of str, optional
            The training queries (default: every query with qrels). Test queries must not be among them.
        """
        if not isinstance(collection, Collection):
            raise SchemaError(f"Cascade.fit needs a Collection, got {type(collection).__name__}")
        self._validate()
        self.notes_: list[str] = []
        judged = set(collection.qrels[QID])
        if qids is None:
            train_qids = [q for q in collection.queries[QID] if q in judged]
        else:
            wanted = set(as_id_array(qids).tolist())
            unknown = sorted(wanted - set(collection.queries[QID]))
            if unknown:
                raise DataError(f"Cascade.fit: {len(unknown)} training qids are not queries of {collection.name!r}, "
                                f"e.g. {unknown[:5]}")
            train_qids = [q for q in collection.queries[QID] if q in wanted]
        if len(train_qids) < 2:
            raise DataError(f"Cascade.fit needs at least 2 training queries, got {len(train_qids)}")
        self.collection_name_ = collection.name
        # Step 1: the first stage (collection statistics; each stage's extractors are fitted in step 4)
        self.first_stage.fit(collection)
        queries = collection.queries[collection.queries[QID].isin(set(train_qids))]
        qrels = collection.qrels[collection.qrels[QID].isin(set(train_qids))]
        run = self.first_stage.retrieve(queries, self.first_k)
        # Step 2: validation queries for early stopping (by query, seeded)
        valid_qids: set[str] = set()
        if self.valid_fraction > 0:
            n_valid = int(round(self.valid_fraction * len(train_qids)))
            if 0 < n_valid < len(train_qids):
                perm = np.random.default_rng(self.seed).permutation(len(train_qids))
                valid_qids = {train_qids[i] for i in perm[:n_valid]}
        # Step 3: candidates. Stage 1 trains on the training strategy's candidates; what each stage passes on
        # (for the next stage's training) is computed on the evaluation-style top-k
        common = dict(docids=collection.docids, complete_judgments=collection.complete_judgments, queries=queries)
        strategy = build_candidates(run, qrels, k=self.first_k, mode="train", seed=self.seed,
                                    **self._train_options(), **common)
        current = build_candidates(run, qrels, k=self.first_k, mode="eval", **common)
        self.notes_ += [f"training candidates: {n}" for n in strategy.attrs.get("notes", [])]
        if self.drop_future:
            from features.recency import future_mask
            mask = future_mask(strategy, collection)
            if mask.any():
                self.notes_.append(f"{int(mask.sum())} training candidates newer than their query left out")
            strategy = strategy[~mask].reset_index(drop=True)
            current = current[~future_mask(current, collection)].reset_index(drop=True)
        self.rankers_, self.feature_names_ = {}, {}
        summary = []
        with_features = None  # the candidates the current stage receives, with every feature computed so far
        for i, stage in enumerate(self.stages):
            # Step 4: fit this stage's extractors (collection statistics; a FeatureSet with global normalisation
            # also learns it from these training pairs, never from test queries), then compute them on the
            # candidates the stage receives (and on stage 1's strategy candidates)
            received = current if with_features is None else with_features
            stage.features.fit(collection, strategy if i == 0 else received)
            with_features = self._compute(stage, received)
            if i == 0:
                train_frame = self._compute(stage, strategy)
            else:
                train_frame = with_features
            # validation (early stopping) always on the evaluation-style candidates the stage receives, never
            # on the training strategy's: a strategy must not make its own stopping point look good
            fit_part = train_frame[~train_frame[QID].isin(valid_qids).to_numpy()]
            is_valid = with_features[QID].isin(valid_qids).to_numpy()
            valid_part = with_features[is_valid] if is_valid.any() else None
            self.rankers_[stage.name] = self._fit_one(stage, fit_part, valid_part)
            self.feature_names_[stage.name] = list(self._used[stage.name])
            summary.append((stage.name, fit_part[QID].nunique(), len(fit_part),
                            0 if valid_part is None else valid_part[QID].nunique(),
                            0 if valid_part is None else len(valid_part)))
            if i == len(self.stages) - 1:
                break
            # what this stage passes on: its scores on the training queries, out of fold when cv is set
            scores = self._training_scores(stage, train_frame, with_features)
            kept, _ = _top_per_query(with_features, scores, stage.cutoff)
            with_features = with_features.iloc[kept].reset_index(drop=True)
        self.train_summary_ = pd.DataFrame(summary, columns=["stage", "train_queries", "train_rows",
                                                              "valid_queries", "valid_rows"])
        return self

    def _training_scores(self, stage: Stage, train_frame: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        """Scores of ``stage`` on ``frame`` (the candidates it passes on): in-sample, or out of fold."""
        if self.cv is None:
            return self.rankers_[stage.name].predict_scores(self._dataset(frame, stage, "candidates"))
        scores = np.full(len(frame), np.nan)
        qids_all = train_frame[QID].unique()
        # fold models train as long as the full model did (they have no validation set of their own)
        n_trees = getattr(self.rankers_[stage.name], "best_iteration_", None)
        for fold in query_kfold(qids_all, min(self.cv, len(qids_all)), seed=self.seed):
            test = set(fold.test.tolist())
            part = train_frame[~train_frame[QID].isin(test).to_numpy()]
            ranker = self._fit_one(stage, part, None, n_estimators=n_trees or None)
            rows = frame[QID].isin(test).to_numpy()
            if rows.any():
                scores[rows] = ranker.predict_scores(self._dataset(frame[rows], stage, "candidates"))
        missing = np.isnan(scores)
        if missing.any():  # queries absent from the stage's training frame (no candidates there)
            scores[missing] = self.rankers_[stage.name].predict_scores(
                self._dataset(frame[missing], stage, "candidates"))
        return scores

    # -- run ---------------------------------------------------------------------------------------------
    def run(self, queries: pd.DataFrame, *, keep_dropped: bool = False) -> pd.DataFrame:
        """Retrieve and re-rank ``queries`` end to end (the run of :meth:`run_with_costs`)."""
        return self.run_with_costs(queries, keep_dropped=keep_dropped).run

    def run_with_costs(self, queries: pd.DataFrame, *, keep_dropped: bool = False) -> "CascadeRun":
        """Retrieve and re-rank ``queries`` end to end, timing each stage. The cascade is not changed.

        Parameters
        ----------
        queries : DataFrame
            ``qid``, ``query`` (+ ``query_time`` for recency features).
        keep_dropped : bool, default=False
            Append the documents each cut-off dropped below the kept ones (placeholder scores).

        Returns
        -------
        CascadeRun
            ``run``: RUN frame ``qid``, ``docid``, ``score``, ``rank`` (1-based), ``stage``; ``costs``: per
            stage ``stage``, ``docs_per_query``, ``feature_seconds_per_query``, ``model_seconds_per_query``,
            ``seconds_per_query``, ``feature_computations_per_query``.
        """
        if not hasattr(self, "rankers_"):
            raise errors.NotFittedError("this Cascade is not fitted yet: call fit(collection, qids) first")
        require_columns(queries, (QID, QUERY), caller="Cascade.run")
        n_q = max(len(queries), 1)
        costs = []
        start = time.perf_counter()
        run = self.first_stage.retrieve(queries, self.first_k)
        first_seconds = time.perf_counter() - start
        costs.append(("first_stage", self.first_stage.n_docs_, 0.0, first_seconds / n_q, first_seconds / n_q, 0.0))
        current = run.rename(columns={SCORE: FIRST_STAGE_SCORE}).drop(columns=[RANK])
        current = attach_queries(current, queries)
        dropped_parts = []
        scores = None
        for i, stage in enumerate(self.stages):
            n_in = len(current)
            t0 = time.perf_counter()
            current = self._compute(stage, current)
            t1 = time.perf_counter()
            if current.empty:
                scores = np.zeros(0)
            else:
                scores = self.rankers_[stage.name].predict_scores(self._dataset(current, stage, "candidates"))
            t2 = time.perf_counter()
            n_feat = len(stage.features.feature_names_out())
            costs.append((stage.name, n_in / n_q, (t1 - t0) / n_q, (t2 - t1) / n_q, (t2 - t0) / n_q,
                          n_in * n_feat / n_q))
            kept, dropped = _top_per_query(current, scores, stage.cutoff)
            if keep_dropped and len(dropped):
                dropped_parts.append((stage.name, current.iloc[dropped][[QID, DOCID]].reset_index(drop=True)))
            current = current.iloc[kept].reset_index(drop=True)
            scores = scores[kept]
        out = pd.DataFrame({QID: current[QID].to_numpy(), DOCID: current[DOCID].to_numpy(),
                            SCORE: np.asarray(scores, dtype=np.float64), STAGE: self.stages[-1].name})
        if keep_dropped:
            out = self._append_dropped(out, dropped_parts)
        out[RANK] = (out.groupby(QID, sort=False).cumcount() + 1).to_numpy(dtype=np.int64)
        # queries keep the order they were given in
        order = pd.Categorical(out[QID], categories=pd.unique(queries[QID].astype(str)), ordered=True)
        out = out.iloc[np.lexsort((out[RANK].to_numpy(), order.codes))].reset_index(drop=True)
        out[QID] = out[QID].astype(object)
        out[DOCID] = out[DOCID].astype(object)
        out = out[[QID, DOCID, SCORE, RANK, STAGE]]
        return CascadeRun(out, pd.DataFrame(costs, columns=["stage", "docs_per_query", "feature_seconds_per_query",
                                                           "model_seconds_per_query", "seconds_per_query",
                                                           "feature_computations_per_query"]))

    @staticmethod
    def _append_dropped(out: pd.DataFrame, dropped_parts) -> pd.DataFrame:
        """Documents dropped by the cut-offs, below the kept ones, latest stage first, with placeholder scores
        strictly below every score above them (``min - 1 - j`` for the j-th dropped document of a query)."""
        parts = [out]
        floor = out.groupby(QID, sort=False)[SCORE].min()
        for name, frame in reversed(dropped_parts):
            j = frame.groupby(QID, sort=False).cumcount().to_numpy()
            base = floor.reindex(frame[QID]).to_numpy()
            base = np.where(np.isnan(base), 0.0, base)
            part = pd.DataFrame({QID: frame[QID].to_numpy(), DOCID: frame[DOCID].to_numpy(),
                                 SCORE: base - 1.0 - j, STAGE: name})
            parts.append(part)
            floor = pd.concat([floor, part.groupby(QID, sort=False)[SCORE].min()]).groupby(level=0).min()
        all_rows = pd.concat(parts, ignore_index=True)
        codes = pd.factorize(all_rows[QID])[0]
        order = np.lexsort((np.arange(len(all_rows)), codes))
        return all_rows.iloc[order].reset_index(drop=True)

    def __repr__(self) -> str:
        stages = ", ".join(f"{s.name}(cutoff={s.cutoff}, features={len(s.features.feature_names_out())})"
                           for s in self.stages)
        return f"Cascade({type(self.first_stage).__name__} top {self.first_k} -> {stages})"
