"""Folds from a raw collection: BM25 first stage -> candidates -> features -> ranking datasets.

Rules, each stated in the prepared data's notes so that a report says them:

- Only judged queries (with at least one qrels entry) take part.
- The first stage retrieves ``first_stage_k`` documents per query (BM25, the lexical features' tokenizer). A
  deeper ranking (up to 10,000, capped at the collection size) is retrieved once for the recall@k ceiling and
  as the pool from which hard negatives are drawn.
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

from ltr.ranking import RankingDataset
from ltr.errors import ConfigError
from ltr.experiment.data import PreparedData, PreparedFold
from ltr.experiment.spec import FIRST_STAGE_SYSTEM
from ltr.naming import parse_spec
from ltr.schema import DOCID, LABEL, QID, QUERY, QUERY_TIME, SCORE

MAX_RECALL_DEPTH = 10_000


def _splits(exp, queries: pd.DataFrame, has_time: bool):
    from ltr.pipeline.splits import query_kfold, time_ordered_split
    spec = parse_spec(exp.data.splits, what="split")
    if spec.name == "kfold":
        return query_kfold(queries[QID].to_numpy(), spec.params.get("k", 5), seed=exp.data.seed), "kfold"
    if not has_time:
        raise ConfigError(f"splits {exp.data.splits!r} needs queries with a time; collection "
                          f"{exp.data.collection!r} has none: use splits = \"kfold(k=5)\"")
    return [time_ordered_split(queries, QUERY_TIME, spec.params.get("test_fraction", 0.2))], "time"


def _valid_queries(train_qids: np.ndarray, queries: pd.DataFrame, fraction: float, seed: int, how: str):
    """Hold out validation queries from the training queries: the newest ones for a time split (so that
    validation never looks into the future), a seeded random sample otherwise."""
    n_valid = max(1, int(round(fraction * len(train_qids))))
    if how == "time":
        times = queries.set_index(QID).loc[train_qids, QUERY_TIME].to_numpy()
        order = np.lexsort((train_qids.astype(str), times))
        valid = train_qids[order[-n_valid:]]
    else:
        valid = train_qids[np.random.default_rng(seed).permutation(len(train_qids))[:n_valid]]
    keep = ~np.isin(train_qids, valid)
    return train_qids[keep], valid


def _negatives(exp) -> dict:
    spec = parse_spec(exp.data.negatives, what="negative strategy")
    params = dict(spec.params)
    out = {"negatives": spec.name, "n_negatives": params.pop("n", None)}
    if "hard_ratio" in params:
        out["hard_ratio"] = params.pop("hard_ratio")
    if params:
        raise ConfigError(f"negative strategy {exp.data.negatives!r}: unknown parameters {sorted(params)}; "
                          f"valid: n, hard_ratio")
    return out


def _dataset(pairs: pd.DataFrame, features: pd.DataFrame, names: list[str], name: str) -> RankingDataset:
    X = features.loc[list(zip(pairs[QID], pairs[DOCID]))].to_numpy(dtype=np.float32) if len(pairs) else \
        np.zeros((0, len(names)), dtype=np.float32)
    return RankingDataset(X, pairs[LABEL].to_numpy(), pairs[QID].to_numpy(), pairs[DOCID].to_numpy(),
                          names, name=name)


def _query_columns(pairs: pd.DataFrame) -> list[str]:
    return [c for c in (QUERY, QUERY_TIME) if c in pairs.columns]


def prepare_collection(exp, cache_dir=None) -> PreparedData:
    from features import FeatureSet
    from features.recency import future_mask
    from ltr.datasets.loaders import load_collection
    from ltr.pipeline.candidates import build_candidates, top_k
    from ltr.pipeline.first_stage import BM25Retriever, recall_at_k

    data = exp.data
    collection = load_collection(exp.collection_source()).judged_queries()
    notes = [f"Collection {collection!r}."] + list(collection.notes)
    queries, qrels = collection.queries, collection.qrels
    n_docs = len(collection.documents)
    # Step 1: first stage, once for all queries, deep enough for the recall ceiling and hard negatives
    depth = min(MAX_RECALL_DEPTH, n_docs)
    retriever = BM25Retriever(k=depth).fit(collection)
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
        deep["rank"] = deep.groupby(QID, sort=False).cumcount() + 1
    k = min(int(data.first_stage_k), depth)
    run_k = top_k(deep, k)
    recall = recall_at_k(deep, qrels, n_docs=n_docs)
    notes.append(f"First stage: BM25 (k1={retriever.k1}, b={retriever.b}, {retriever.variant}) top {k} of "
                 f"{n_docs} documents; recall@{k} = {float(recall.loc[recall['k'] <= k, 'recall'].iloc[-1]):.4f} "
                 f"is the ceiling no re-ranker can pass.")
    if not collection.complete_judgments:
        notes.append("The qrels list only some documents: candidates without a qrels entry are assumed "
                     "non-relevant (label 0).")
    if not collection.has_query_times and collection.reference_time is not None:
        notes.append(f"Queries carry no time: document ages are measured against the collection's reference "
                     f"date {collection.reference_time.date()}.")
    # Step 2: splits and candidate sets
    splits, how = _splits(exp, queries, has_time)
    neg = _negatives(exp)
    roles = []
    for split in splits:
        train_q, valid_q = _valid_queries(np.asarray(split.train), queries, data.holdout, data.seed, how)
        train = build_candidates(deep[deep[QID].isin(train_q)], qrels, k=k, mode="train", seed=data.seed,
                                 docids=collection.docids, complete_judgments=collection.complete_judgments,
                                 queries=queries, **neg)
        sizes = train.groupby(QID, sort=False)[DOCID].transform("size")
        train = train[sizes.to_numpy() >= 2]
        valid = build_candidates(run_k[run_k[QID].isin(valid_q)], qrels, k=k, mode="eval", queries=queries)
        test = build_candidates(run_k[run_k[QID].isin(split.test)], qrels, k=k, mode="eval", queries=queries)
        roles.append((split.name, train, valid, test, np.asarray(split.test)))
    # Step 3: features, once per distinct pair
    feature_set = FeatureSet(list(data.features), normalize=data.normalize)
    names = feature_set.feature_names_out()
    all_pairs = pd.concat([p for r in roles for p in r[1:4]], ignore_index=True)
    all_pairs = all_pairs.drop_duplicates([QID, DOCID]).reset_index(drop=True)[[QID, DOCID, *_query_columns(all_pairs)]]
    if data.normalize is not None:
        notes.append(f"Features are normalised per query ({data.normalize}).")
    # the cost of the features is measured on uncached, fitted extractors over one fold's test candidates
    if cache_dir is not None:
        from features.cache import FeatureCache
        values = FeatureCache(cache_dir).get_or_compute(collection, feature_set, all_pairs)
    else:
        values = feature_set.fit_transform(collection, all_pairs)
    sample = roles[0][3]
    timed = FeatureSet(list(data.features), normalize=data.normalize).fit(collection)
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
        notes.append(f"Training candidates ({exp.data.negatives}): {note}.")
    groups = {n: e.name for e in feature_set.steps for n in e.feature_names_out()}
    notes.append("Per-stage cost: the re-ranking stage's time covers computing its features; the GBDT's own "
                 "scoring time per query is in the report's stage-cost figure as measured on the test folds.")
    return PreparedData(folds, notes, tables={"first_stage_recall": recall, "stage_cost": stage_cost},
                        feature_groups=groups)
