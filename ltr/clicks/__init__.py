"""Click logs: the data model, readers and writers, simulators, click models and propensity estimation.

Floor 6 (beside ``ltr.pipeline``; it never imports it): the production-ranker protocol trains a
:class:`ltr.models.Ranker` and the report draws with :mod:`ltr.report`. Importing this package is cheap
(numpy and pandas); scipy, matplotlib, LightGBM and pyarrow load only where used.

=====================================  =========================================================
module                                 job
=====================================  =========================================================
:mod:`ltr.clicks.log`                  data model (:class:`ClickLog`), declared rules, summary
:mod:`ltr.clicks.files`                TSV / JSONL / Parquet read and write; format detection
:mod:`ltr.clicks.yandex`               PyClick's Yandex sample format
:mod:`ltr.clicks.stream`               streaming aggregation of logs larger than memory (pyarrow, Dask)
:mod:`ltr.clicks.simulate`             user models (PBM, cascade, DBN, UBM), relevance -> click
                                       probability, interventions, seeded simulation
:mod:`ltr.clicks.protocol`             the standard unbiased-LTR protocol (production ranker, one call)
:mod:`ltr.clicks.training`             training sets from clicks: a log joined to LETOR features, aggregated
                                       per (qid, docid) with counts by position, or one row per impression
:mod:`ltr.clicks.models`               click models fitted from logs (registry), log-likelihood,
                                       perplexity
:mod:`ltr.clicks.propensity`           propensities from interventions, intervention harvesting,
                                       regression EM
:mod:`ltr.clicks.report`               click-log report (summary, CTR by position, model comparison)
=====================================  =========================================================
"""

from ltr.clicks.files import detect_format, read_clicks, write_clicks
from ltr.clicks.log import (CLICK, CLICK_LOG, DROP_RULES, OPTIONAL_COLUMNS, ORIGINAL_POSITION, POSITION, RANKER,
                            SESSION, ClickLog, Drops, LogSummary, SerpMatrix, aggregate, concat)
from ltr.clicks.yandex import read_yandex

__all__ = ["CLICK", "CLICK_LOG", "DROP_RULES", "OPTIONAL_COLUMNS", "ORIGINAL_POSITION", "POSITION", "RANKER",
           "SESSION", "ClickLog", "Drops", "LogSummary", "SerpMatrix", "aggregate", "concat", "detect_format",
           "read_clicks", "read_yandex", "write_clicks"]
