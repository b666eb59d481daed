"""Folds from a raw collection: BM25 first stage -> candidates -> features -> ranking datasets.

Rules, each stated in the prepared data's notes so that a report says them:

- Only judged queries (with at least one qrels entry) take part.
- The first stage (``data.first_stage``, BM25 by default, the lexical features' tokenizer) retrieves
  ``first_stage_k`` documents per query. A deeper ranking (up to 10,000, capped at the collection size) is
  retrieved once for the recall@k ceiling and as the pool from which hard negatives are drawn.
- When queries carry a time, documents newer than the query time are removed from every candidate set: they
  did not exist when the query was issued, so neither training nor evaluation may see them.
- Evaluation candidates (validation and test) are the first-stage top-k, never altered by the training
  strategy. Training candidates follow ``data.negatives``. Training queries with fewer than two candidates are
  dropped (pairwise and listwise objectives learn nothing from them).
- End-to-end figures use the full qrels of the test queries; a query that retrieved nothing scores 0.
- The collection statistics of the features are learned from the documents only (``FeatureSet.fit``), never
  from labels; each distinct (query, document) pair is featurised once, and the feature matrix is cached in
  the run's folder (``features.cache``: keyed by collection, extractor parameters, pairs and code).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ltr.errors import ConfigError
from ltr.experiment.prepared import PreparedData, PreparedFold
from ltr.experiment.systems import FIRST_STAGE_SYSTEM
from ltr.ranking import RankingDataset
from ltr.schema import DOCID, LABEL, QID, QUERY, QUERY_TIME, RANK, SCORE

MAX_RECALL_DEPTH = 10_000


def _dataset(pairs: pd.DataFrame, features: pd.DataFrame, names: list[str], name: str) -> RankingDataset:
    X = features.loc[list(zip(pairs[QID], pairs[DOCID]))].to_numpy(dtype=np.float32) if len(pairs) else \
        np.zeros((0, len(names)), dtype=np.float32)
    return RankingDataset(X, pairs[LABEL].to_numpy(), pairs[QID].to_numpy(), pairs[DOCID].to_numpy(),
                          names, name=name)


def _query_columns(pairs: pd.DataFrame) -> list[str]:
    return [c for c in (QUERY, QUERY_TIME) if c in pairs.columns]


def _describe(retriever) -> str:
    params = retriever.get_params()
    if retriever.name == "bm25":
        return f"BM25 (k1={params['k1']}, b={params['b']}, {params['variant']})"
    return retriever.spec()


def prepare_collection(spec, exp, cache_dir=None) -> PreparedData:
    """Folds of a :class:`~ltr.experiment.data_specs.CollectionData` declaration (rules: module docstring)."""
    from features.recency import future_mask
    from ltr.datasets.loaders import load_collection
    from ltr.pipeline.candidates import build_candidates
    from ltr.pipeline.first_stage import DEFAULT_RECALL_KS, recall_at_k
    from ltr.pipeline.splits import holdout_queries

    collection = load_collection(exp.collection_source()).judged_queries()
    notes = [f"Collection {collection!r}."] + list(collection.notes)
    queries, qrels = collection.queries, collection.qrels
    n_docs = len(collection.documents)
    # Step 1: first stage, once for all queries, deep enough for the recall ceiling and hard negatives
    depth = min(MAX_RECALL_DEPTH, n_docs)
    retriever = spec.retriever(depth).fit(collection)
    started = time.perf_counter()
    deep = retriever.retrieve(queries, k=depth)
    first_stage_seconds = (time.perf_counter() - started) / max(1, len(queries))
    has_time = collection.has_query_times
    if has_time and collection.has_timestamps:
        future = future_mask(deep.merge(queries[[QID, QUERY_TIME]], on=QID, how="left"), collection)
        if future.any():
            notes.append(f"{int(future.sum())} retrieved documents newer than their query time were removed "
                         f"from the candidates (they did not exist when the query was issued).")
            deep = deep[~future].copy()
            deep[RANK] = deep.groupby(QID, sort=False).cumcount() + 1
    k = min(int(spec.first_stage_k), depth)
    run_k = deep[deep[RANK] <= k]
    recall = recall_at_k(deep, qrels, ks=sorted({*DEFAULT_RECALL_KS, k}), n_docs=n_docs)
    notes.append(f"First stage: {_describe(retriever)} top {k} of {n_docs} documents; recall@{k} = "
                 f"{float(recall.loc[recall['k'] == k, 'recall'].iloc[0]):.4f} is the ceiling no re-ranker can "
                 f"pass.")
    notes.append(f"Every system is scored on its ranking of the first stage's top {k} (the first stage's own run "
                 f"too): the metrics are over the top {k} (AP counts the relevant documents found there, divided by "
                 f"all of the query's relevant documents); `ltr evaluate` of a deeper run gives other values.")
    if not collection.complete_judgments:
        notes.append("The qrels list only some documents: candidates without a qrels entry are assumed "
                     "non-relevant (label 0).")
    if not collection.has_query_times and collection.reference_time is not None:
        notes.append(f"Queries carry no time: document ages are measured against the collection's reference "
                     f"date {collection.reference_time.date()}.")
    # Step 2: splits and candidate sets
    if spec.splitter.needs_time and not has_time:
        raise ConfigError(f"splits {spec.splits!r} needs queries with a time; collection "
                          f"{spec.collection!r} has none: use splits = \"kfold(k=5)\"")
    splits = spec.splitter.split(queries, seed=spec.seed)
    times = queries.set_index(QID)[QUERY_TIME] if spec.splitter.needs_time else None
    roles = []
    for split in splits:
        train_q = np.asarray(split.train)
        train_q, valid_q = holdout_queries(train_q, spec.holdout, seed=spec.seed,
                                           times=None if times is None else times.loc[train_q].to_numpy())
        train = build_candidates(deep[deep[QID].isin(train_q)], qrels, k=k, mode="train", seed=spec.seed,
                                 docids=collection.docids, complete_judgments=collection.complete_judgments,
                                 queries=queries, **spec.negative_strategy.build_kwargs())
        sizes = train.groupby(QID, sort=False)[DOCID].transform("size")
        train = train[sizes.to_numpy() >= 2]
        valid = build_candidates(run_k[run_k[QID].isin(valid_q)], qrels, k=k, mode="eval", queries=queries)
        test = build_candidates(run_k[run_k[QID].isin(split.test)], qrels, k=k, mode="eval", queries=queries)
        roles.append((split.name, train, valid, test, np.asarray(split.test)))
    # Step 3: features, once per distinct pair
    feature_set = spec.feature_set()
    names = feature_set.feature_names_out()
    all_pairs = pd.concat([p for r in roles for p in r[1:4]], ignore_index=True)
    all_pairs = all_pairs.drop_duplicates([QID, DOCID]).reset_index(drop=True)[[QID, DOCID, *_query_columns(all_pairs)]]
    if spec.normalize is not None:
        notes.append(f"Features are normalised per query ({spec.normalize}).")
    if cache_dir is not None:
        from features.cache import FeatureCache
        values = FeatureCache(cache_dir).get_or_compute(collection, feature_set, all_pairs)
    else:
        values = feature_set.fit_transform(collection, all_pairs)
    # the cost of the features is measured on uncached, fitted extractors over one fold's test candidates
    sample = roles[0][3]
    timed = spec.feature_set().fit(collection)
    started = time.perf_counter()
    timed.transform(sample)
    feature_seconds = (time.perf_counter() - started) / max(1, sample[QID].nunique())
    stage_cost = pd.DataFrame({
        "stage": [f"BM25 top {k} of {n_docs}", f"features ({len(names)}) + GBDT re-ranking of {k}"],
        "seconds_per_query": [first_stage_seconds, feature_seconds],
        "feature_computations_per_query": [0.0, len(sample) / max(1, sample[QID].nunique()) * len(names)]})
    values.index = pd.MultiIndex.from_arrays([all_pairs[QID], all_pairs[DOCID]])
    # Step 4: datasets per fold
    folds = []
    for name, train, valid, test, test_q in roles:
        fold_qrels = qrels[qrels[QID].isin(test_q)].reset_index(drop=True)
        first_stage = run_k[run_k[QID].isin(test_q)][[QID, DOCID, SCORE]].reset_index(drop=True)
        folds.append(PreparedFold(name, _dataset(train, values, names, f"{name}/train"),
                                  _dataset(valid, values, names, f"{name}/valid"),
                                  _dataset(test, values, names, f"{name}/test"), fold_qrels,
                                  fixed_runs={FIRST_STAGE_SYSTEM: first_stage}, missing_queries="zero"))
    for note in train.attrs.get("notes", []):
        notes.append(f"Training candidates ({spec.negatives}): {note}.")
    groups = {n: e.name for e in feature_set.steps for n in e.feature_names_out()}
    notes.append("Per-stage cost: the re-ranking stage's time covers computing its features; the GBDT's own "
                 "scoring time per query is in the report's stage-cost figure as measured on the test folds.")
    return PreparedData(folds, notes, tables={"first_stage_recall": recall, "stage_cost": stage_cost},
                        feature_groups=groups)
