"""ltr: a learning-to-rank research framework.

The package is laid out in floors that follow the data flow; a module imports only from floors below it or
from its own package (ARCHITECTURE.md; tests/test_architecture.py checks it):

floor 8  ltr.cli                          the `ltr` command
floor 7  ltr.experiment                   experiment declaration, runner, manifest, reports of a run
floor 6  ltr.pipeline  ltr.clicks         first stage, candidates and negatives, cascades, splits | click logs
floor 5  ltr.models  ltr.report           Ranker | tables, LaTeX, plots, HTML
floor 4  ltr.metrics                      measures over grouped arrays, metric-name parsing
floor 3  ltr.datasets  features           collection loaders, synthetic web | extractors
floor 2  ltr.io  ltr.objectives  ltr.stats   file formats | objectives | statistics
floor 1  ltr.errors ltr.schema ltr.naming ltr.text ltr.params ltr.collection ltr.ranking ltr.atomic   the core
"""

__version__ = "0.1.0"
