"""ltr: a learning-to-rank research framework.

The package is laid out in floors that follow the data flow; a module imports only from floors below it
(see README.md, "Architecture"):

floor 7  ltr.cli                      the `ltr` command
floor 6  ltr.experiment               experiment declaration, runner, manifest
floor 5  ltr.pipeline                 first stage, candidates and negatives, cascades, splits
floor 4  ltr.models  ltr.report       Ranker | tables, LaTeX, plots, HTML
floor 3  ltr.metrics                  measures over grouped arrays, metric-name parsing
floor 2  ltr.datasets ltr.io features collections, synthetic web, ranking dataset | LETOR, TREC | extractors
floor 1  ltr.objectives ltr.schema ltr.errors ltr.naming ltr.text ltr.stats
"""

__version__ = "0.1.0"
