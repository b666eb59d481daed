"""Our first stage, feature sets and rankers as PyTerrier transformers (``pip install 'ltr[pyterrier]'``).

PyTerrier (Macdonald and Tonellotto, ICTIR 2020) composes retrieval pipelines from transformers over data
frames: ``bm25 >> features >> ranker`` chains, ``a ** b`` joins two feature extractors into one ``features``
column, ``pipeline % 10`` cuts each ranking at 10, and ``pt.Experiment`` evaluates pipelines side by side with
paired significance tests. PyTerrier 1.x needs no Java for any of that (Java, through ``pyjnius``, only for its
Terrier indexes and retrievers, which nothing here uses): this module runs on the ``pyterrier`` package alone.

Three adapters, each a real ``pt.Transformer``:

- :class:`FirstStageRetriever` (``pt.Transformer``): a query frame (``qid, query``) in, a result frame
  (``qid, query, docno, score, rank``) out, from our :class:`~ltr.pipeline.first_stage.BM25Retriever` (or any
  registered first stage); the scores are the ``bm25__<field>`` features to the last bit, as in our own
  pipeline.
- :class:`FeatureTransformer` (``pt.Transformer``): a result frame in, the same frame with a ``features``
  column (one float64 array per row) out, from a :class:`features.base.FeatureSet`; ``feature_names_out()``
  says what each position holds.
- :class:`RankerEstimator` (``pt.Estimator``): trains a :class:`~ltr.models.Ranker` on a result frame with
  ``features`` (labels joined from the qrels; unjudged documents are 0, as PyTerrier's own learners do), and
  re-ranks: ``score`` is the model's, ``rank`` is recomputed (``pt.model.add_ranks``).

PyTerrier's conventions, which these adapters follow: documents are ``docno`` (our ``docid``), ranks start at
0 (``pt.model.FIRST_RANK``; ours at 1), qids and docnos are strings, results are sorted by ``qid`` then
``rank`` (PyTerrier does not require it; ours always are). A ``pt.apply`` or ``pt.Transformer.from_df``
output carries no ``rank`` column: a re-ranker recomputes it from its scores. ``pt.Experiment`` names measures
by trec_eval names (``"ndcg_cut_10"``, ``"map"``, ``"P_10"``) or ``pt.measures`` objects; our
:func:`ltr.metrics.evaluate` accepts the same strings, and on the same run gives the same per-query values
(tested inside a real ``pt.Experiment``, its paired t-test and Wilcoxon p-values against :mod:`ltr.stats`).

Helpers move our frames to PyTerrier's and back: :func:`topics_of`, :func:`qrels_of` (a
:class:`~ltr.collection.Collection`'s queries and qrels as PyTerrier's ``topics`` and ``qrels``) and
:func:`run_of` (a result frame as our RUN frame, ``qid, docid, score``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

try:
    import pyterrier as pt
except ImportError:   # an optional dependency: say how to get it
    raise ImportError("ltr.interop.pyterrier needs PyTerrier: pip install 'ltr[pyterrier]' (or pip install "
                      "pyterrier; Java is not needed)") from None

from ltr.collection import Collection
from ltr.errors import ConfigError, FeatureMismatchError, SchemaError
from ltr.ranking import RankingDataset
from ltr.schema import DOCID, FEATURE_DTYPE, LABEL, QID, QUERY, QUERY_TIME, RANK, SCORE

__all__ = ["FirstStageRetriever", "FeatureTransformer", "RankerEstimator", "topics_of", "qrels_of", "run_of",
           "DOCNO", "FEATURES"]

#: PyTerrier's column names where they differ from ours.
DOCNO, FEATURES = "docno", "features"


# -- frames ------------------------------------------------------------------------------------------------
def topics_of(collection: Collection) -> pd.DataFrame:
    """A collection's queries as PyTerrier topics: ``qid, query`` (strings), and ``query_time`` where the
    collection has it (the recency extractors read it), in the collection's order."""
    q = collection.queries
    out = pd.DataFrame({QID: q[QID].astype(str).to_numpy(dtype=object),
                        QUERY: q[QUERY].astype(str).to_numpy(dtype=object)})
    if QUERY_TIME in q.columns:
        out[QUERY_TIME] = q[QUERY_TIME].to_numpy()
    return out


def qrels_of(collection: Collection) -> pd.DataFrame:
    """A collection's qrels as PyTerrier qrels: ``qid, docno, label`` (``label`` an integer where every grade
    is one, as trec_eval reads qrels files; float otherwise)."""
    q = collection.qrels
    label = q[LABEL].to_numpy()
    if np.all(np.mod(label, 1) == 0):
        label = label.astype(np.int64)
    return pd.DataFrame({QID: q[QID].astype(str).to_numpy(dtype=object),
                         DOCNO: q[DOCID].astype(str).to_numpy(dtype=object), LABEL: label})


def run_of(results: pd.DataFrame) -> pd.DataFrame:
    """A PyTerrier result frame (``qid, docno, score``) as our RUN frame (``qid, docid, score``), for
    :func:`ltr.metrics.evaluate`, :func:`ltr.io.write_run` and the reports."""
    pt.validate.result_frame(results, extra_columns=[SCORE])
    return pd.DataFrame({QID: results[QID].astype(str).to_numpy(dtype=object),
                         DOCID: results[DOCNO].astype(str).to_numpy(dtype=object),
                         SCORE: results[SCORE].to_numpy(dtype=np.float64)})


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Queries in order of first appearance, each one's rows by rank (a stable sort)."""
    codes = pd.factorize(frame[QID])[0]
    order = np.lexsort((frame[RANK].to_numpy(), codes))
    return frame.iloc[order].reset_index(drop=True)


def _query_order(frame: pd.DataFrame) -> np.ndarray:
    """Row order that makes each query one contiguous block, queries by first appearance (stable)."""
    return np.argsort(pd.factorize(frame[QID])[0], kind="stable")


# -- first stage -------------------------------------------------------------------------------------------
class FirstStageRetriever(pt.Transformer):
    """Our first stage as a PyTerrier retriever: topics in, ``qid, query, docno, score, rank`` out.

    Parameters
    ----------
    first_stage : FirstStage or str, default="bm25"
        A retriever or its printed form (``"bm25(k1=1.2, b=0.75)"``, see
        :func:`ltr.pipeline.first_stage.get_first_stage`).
    collection : Collection, optional
        Fitted on at construction (an already fitted ``first_stage`` needs none).
    num_results : int, optional
        Documents per query (default: the retriever's ``k``).

    Other columns of the topics (e.g. ``query_time``) are kept on every row of their query. A query that
    retrieves nothing has no rows (and a UserWarning says how many), as in our pipeline.

    Examples
    --------
    >>> bm25 = FirstStageRetriever("bm25", collection, num_results=100)          # doctest: +SKIP
    >>> bm25.search("boosted trees")                                           # doctest: +SKIP
    """

    def __init__(self, first_stage="bm25", collection: Collection | None = None, *, num_results: int | None = None):
        from ltr.pipeline.first_stage import get_first_stage
        self.first_stage = get_first_stage(first_stage)
        if collection is not None:
            self.first_stage.fit(collection)
        elif not hasattr(self.first_stage, "n_docs_"):
            raise ConfigError(f"FirstStageRetriever needs a fitted first stage: give collection=, or fit "
                              f"{self.first_stage.spec()} on a Collection first")
        self.num_results = num_results

    def __repr__(self) -> str:
        k = "" if self.num_results is None else f", num_results={self.num_results}"
        return f"FirstStageRetriever({self.first_stage.spec()!r}{k})"

    def transform_inputs(self):
        return [[QID, QUERY]]

    def transform_outputs(self, input_columns):
        pt.validate.query_frame(input_columns, extra_columns=[QUERY], context=self)
        return [c for c in input_columns if c not in (DOCNO, SCORE, RANK)] + [DOCNO, SCORE, RANK]

    def transform(self, topics: pd.DataFrame) -> pd.DataFrame:
        if isinstance(topics, pd.DataFrame) and DOCNO in topics.columns:
            raise SchemaError(f"{self!r} retrieves from a query frame, but got a result frame (it has a "
                              f"'docno' column); to score given documents by BM25, use FeatureTransformer "
                              f"with the 'bm25' extractor")
        pt.validate.query_frame(topics, extra_columns=[QUERY], context=self)
        query_cols = [c for c in topics.columns if c not in (SCORE, RANK, FEATURES)]
        topics = topics[query_cols].copy()
        topics[QID] = topics[QID].astype(str)
        if topics[QID].duplicated().any():
            dup = topics.loc[topics[QID].duplicated(), QID].unique()[:5].tolist()
            raise SchemaError(f"{self!r} got {int(topics[QID].duplicated().sum())} repeated qids in its topics, "
                              f"e.g. {dup}; a query frame has one row per query: drop or renumber the repeats")
        if len(topics) == 0:
            return pd.DataFrame({**{c: pd.Series([], dtype=topics[c].dtype) for c in query_cols},
                                 DOCNO: pd.Series([], dtype=object), SCORE: pd.Series([], dtype=np.float64),
                                 RANK: pd.Series([], dtype=np.int64)})
        run = self.first_stage.retrieve(topics[[QID, QUERY]], self.num_results)
        out = run.rename(columns={DOCID: DOCNO})
        out[RANK] = out[RANK].to_numpy(dtype=np.int64) - 1 + pt.model.FIRST_RANK   # ours are 1-based
        out = out.merge(topics, on=QID, how="left", sort=False)
        return out[query_cols + [DOCNO, SCORE, RANK]]


# -- features ----------------------------------------------------------------------------------------------
class FeatureTransformer(pt.Transformer):
    """A :class:`features.base.FeatureSet` as a PyTerrier feature extractor: adds a ``features`` column.

    Parameters
    ----------
    features : FeatureSet, list of extractors or printed forms, or one printed form
        E.g. ``["bm25(field='title')", "tfidf"]``.
    collection : Collection, optional
        The extractors are fitted on it at construction (an already fitted FeatureSet needs none). A
        ``scope="global"`` normalisation learns from training pairs: fit the FeatureSet yourself first
        (``FeatureSet.fit(collection, train_pairs)``).

    The input is a result frame (``qid, docno``, plus ``query`` for the lexical extractors and
    ``query_time`` for the recency ones); the output is the same frame, same rows in the same order, with
    ``features``: one float64 array per row, positions as :meth:`feature_names_out`. ``a ** b`` concatenates
    the arrays of ``a`` and ``b`` (PyTerrier's FeatureUnion); the names of the union are
    ``a.feature_names_out() + b.feature_names_out()``. A frame that already has ``features`` is refused
    (PyTerrier's rule for feature unions): join extractors with ``**`` instead of ``>>``.
    """

    def __init__(self, features, collection: Collection | None = None):
        from features.base import FeatureSet
        if isinstance(features, str):
            features = [features]
        self.feature_set = features if isinstance(features, FeatureSet) else FeatureSet(list(features))
        if collection is not None:
            if self.feature_set.normalize is not None and self.feature_set.scope == "global":
                raise ConfigError("FeatureTransformer cannot fit a FeatureSet(scope='global') on a collection alone: "
                                  "it learns its normalisation from training pairs; call feature_set.fit(collection, "
                                  "train_pairs) first and pass the fitted FeatureSet without collection=")
            self.feature_set.fit(collection)

    def __repr__(self) -> str:
        return f"FeatureTransformer({self.feature_set.specs()!r})"

    def feature_names_out(self) -> list[str]:
        """What each position of ``features`` holds, in order."""
        return self.feature_set.feature_names_out()

    def transform_inputs(self):
        return [[QID, QUERY, DOCNO]]

    def transform_outputs(self, input_columns):
        pt.validate.result_frame(input_columns, extra_columns=[QUERY], context=self)
        return list(input_columns) + ([FEATURES] if FEATURES not in input_columns else [])

    def transform(self, results: pd.DataFrame) -> pd.DataFrame:
        pt.validate.result_frame(results, extra_columns=[QUERY], context=self)
        if FEATURES in results.columns:
            raise SchemaError(f"{self!r} got a frame that already has a 'features' column; join feature "
                              f"extractors with ** (PyTerrier's feature union), not >>")
        out = results.copy()
        pairs = pd.DataFrame({QID: results[QID].astype(str).to_numpy(dtype=object),
                              DOCID: results[DOCNO].astype(str).to_numpy(dtype=object),
                              QUERY: results[QUERY].to_numpy(dtype=object)})
        if QUERY_TIME in results.columns:
            pairs[QUERY_TIME] = results[QUERY_TIME].to_numpy()
        if len(pairs) == 0:
            out[FEATURES] = pd.Series([], dtype=object, index=out.index)
            return out
        matrix = self.feature_set.transform(pairs)[self.feature_names_out()].to_numpy(dtype=np.float64)
        out[FEATURES] = pd.Series(list(matrix), index=out.index, dtype=object)
        return out


# -- ranker ------------------------------------------------------------------------------------------------
class RankerEstimator(pt.Estimator):
    """A :class:`~ltr.models.Ranker` as a PyTerrier learning-to-rank stage.

    Parameters
    ----------
    ranker : Ranker, optional
        Trained by :meth:`fit` (or already fitted, then used as it is); default ``Ranker()``.
    feature_names : list of str, optional
        The names of the positions of ``features`` (e.g. ``a.feature_names_out() + b.feature_names_out()``
        for ``a ** b``), which the model's manifest, importances and explanations then carry; default
        ``f1..fN``.
    **ranker_params
        Passed to ``Ranker(...)`` when ``ranker`` is not given, e.g. ``objective="ranknet"``.

    :meth:`fit` takes PyTerrier's four arguments (training results with ``features``, training qrels,
    validation results, validation qrels; the validation pair drives early stopping and may be None only
    when the ranker stops by no metric, ``early_stopping_rounds=None``). Labels are joined on ``(qid,
    docno)``; a retrieved document without a judgement is non-relevant (label 0), as in PyTerrier's own
    ``pt.ltr`` learners and in trec_eval. :meth:`transform` replaces ``score`` by the model's and recomputes
    ``rank`` (0-based, ties in row order, ``pt.model.add_ranks``), sorted by qid then rank.
    """

    def __init__(self, ranker=None, *, feature_names=None, **ranker_params):
        from ltr.models import Ranker
        if ranker is not None and ranker_params:
            raise ConfigError(f"RankerEstimator takes a Ranker or Ranker parameters, not both (got ranker= and "
                              f"{sorted(ranker_params)})")
        self.ranker = ranker if ranker is not None else Ranker(**ranker_params)
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]

    def __repr__(self) -> str:
        return f"RankerEstimator({self.ranker!r})"

    def transform_inputs(self):
        return [[QID, DOCNO, FEATURES]]

    def transform_outputs(self, input_columns):
        pt.validate.result_frame(input_columns, extra_columns=[FEATURES], context=self)
        return [c for c in input_columns if c not in (SCORE, RANK)] + [SCORE, RANK]

    def _matrix(self, results: pd.DataFrame, role: str, *, check_names: bool = True) -> np.ndarray:
        rows = results[FEATURES].to_numpy()
        widths = {np.shape(r)[0] if np.ndim(r) == 1 else -1 for r in rows}
        if -1 in widths or len(widths) > 1:
            raise FeatureMismatchError(f"the {role} frame's 'features' must hold one 1-D array of the same length on "
                                       f"every row; found lengths {sorted(widths)} (-1: not a 1-D array)")
        X = np.stack(rows).astype(FEATURE_DTYPE) if len(rows) else np.zeros((0, 0), dtype=FEATURE_DTYPE)
        names = self.feature_names
        if check_names and names is not None and X.shape[1] != len(names):
            raise FeatureMismatchError(f"the {role} frame has {X.shape[1]} features per row but {len(names)} "
                                       f"feature_names were given ({names[:5]}...); check the pipeline's "
                                       f"extractors against the names")
        return X

    def _dataset(self, results: pd.DataFrame, qrels: pd.DataFrame | None, role: str) -> RankingDataset:
        pt.validate.result_frame(results, extra_columns=[FEATURES], context=self)
        if len(results) == 0:
            raise SchemaError(f"{self!r}.fit got no {role} results (the first stage retrieved nothing)")
        results = results.iloc[_query_order(results)]
        labels = np.full(len(results), np.nan)
        if qrels is not None:
            pt.validate.columns(qrels, includes=[QID, DOCNO, LABEL])
            judged = qrels.assign(**{QID: qrels[QID].astype(str), DOCNO: qrels[DOCNO].astype(str)})
            if judged.duplicated([QID, DOCNO]).any():
                dup = judged.loc[judged.duplicated([QID, DOCNO]), [QID, DOCNO]].head(3).values.tolist()
                raise SchemaError(f"the {role} qrels judge some (qid, docno) twice, e.g. {dup}; keep one "
                                  f"label per pair")
            keys = pd.MultiIndex.from_arrays([results[QID].astype(str), results[DOCNO].astype(str)])
            found = pd.Series(judged[LABEL].to_numpy(dtype=np.float64),
                              index=pd.MultiIndex.from_arrays([judged[QID], judged[DOCNO]])).reindex(keys)
            labels = np.nan_to_num(found.to_numpy(), nan=0.0)   # unjudged: non-relevant
        X = self._matrix(results, role)
        names = self.feature_names or [f"f{i + 1}" for i in range(X.shape[1])]
        return RankingDataset(X, labels, results[QID].to_numpy(), results[DOCNO].to_numpy(), names,
                              name=f"PyTerrier {role} results")

    def fit(self, topics_or_res_tr, qrels_tr, topics_or_res_va=None, qrels_va=None) -> "RankerEstimator":
        if qrels_tr is None:
            raise SchemaError(f"{self!r}.fit needs the training qrels (qid, docno, label)")
        train = self._dataset(topics_or_res_tr, qrels_tr, "training")
        valid = None
        if topics_or_res_va is not None:
            if qrels_va is None:
                raise SchemaError(f"{self!r}.fit got validation results without validation qrels")
            valid = self._dataset(topics_or_res_va, qrels_va, "validation")
        self.ranker.fit(train, valid=valid)
        return self

    def transform(self, results: pd.DataFrame) -> pd.DataFrame:
        pt.validate.result_frame(results, extra_columns=[FEATURES], context=self)
        out = results.copy()
        if len(out) == 0:
            out[SCORE] = pd.Series([], dtype=np.float64, index=out.index)
            out[RANK] = pd.Series([], dtype=np.int64, index=out.index)
            return out
        if not hasattr(self.ranker, "feature_names_in_"):
            from ltr.errors import NotFittedError
            raise NotFittedError(f"{self!r} is not fitted yet: call fit(train_results, train_qrels, valid_results, "
                                 f"valid_qrels), or pass a fitted Ranker")
        order = _query_order(out)
        X = self._matrix(out.iloc[order], "prediction", check_names=False)
        expected = list(self.ranker.feature_names_in_)
        if X.shape[1] != len(expected):
            raise FeatureMismatchError(f"{self!r} was trained on {len(expected)} features but the frame's 'features' "
                                       f"hold {X.shape[1]}; score with the pipeline the model was trained in")
        ds = RankingDataset(X, np.full(len(out), np.nan), out[QID].astype(str).to_numpy()[order],
                            out[DOCNO].astype(str).to_numpy()[order], self.feature_names or expected,
                            name="PyTerrier results")
        scores = np.empty(len(out))
        scores[order] = self.ranker.predict_scores(ds)
        out[SCORE] = scores
        out = pt.model.add_ranks(out)
        return _sorted(out)
