"""Floor 5: the re-ranking pipeline: first-stage retrieval, candidate sets and negatives, cascades, splits,
and the evaluation of re-ranked runs (end to end against the full qrels; candidate-only figures apart).

>>> from ltr.pipeline import BM25Retriever, build_candidates, Cascade, Stage, query_kfold
"""

from ltr.pipeline.candidates import (FIRST_STAGE, FIRST_STAGE_SCORE, HARD, JUDGED, RANDOM, attach_queries,
                                     build_candidates, candidate_summary, order_run, top_k)
from ltr.pipeline.cascade import Cascade, Stage
from ltr.pipeline.evaluation import (CANDIDATE_SUFFIX, evaluate_candidates, evaluate_end_to_end,
                                     evaluate_pipeline, recall_ceiling)
from ltr.pipeline.first_stage import (DEFAULT_RECALL_KS, FIRST_STAGES, BM25Retriever, FirstStage, get_first_stage,
                                      recall_at_k)
from ltr.pipeline.splits import QuerySplit, letor_folds, query_kfold, time_ordered_split

__all__ = ["BM25Retriever", "CANDIDATE_SUFFIX", "Cascade", "DEFAULT_RECALL_KS", "FIRST_STAGE", "FIRST_STAGE_SCORE",
           "FIRST_STAGES", "FirstStage", "HARD", "get_first_stage", "JUDGED", "QuerySplit", "RANDOM", "Stage", "attach_queries", "build_candidates",
           "candidate_summary", "evaluate_candidates", "evaluate_end_to_end", "evaluate_pipeline",
           "letor_folds", "order_run", "query_kfold", "recall_at_k", "recall_ceiling", "time_ordered_split",
           "top_k"]
