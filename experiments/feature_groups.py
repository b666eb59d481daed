"""Feature-group ablation on the synthetic web: lexical only, then adding recency, domain/URL and PageRank.

The generator's hidden utility mixes topical match, authority and freshness (ltr.datasets.synthetic), so each
group should add what it carries: recency helps fresh-intent queries, PageRank and domain priors
authority-intent ones. The evaluation candidates are the same BM25 top 100 in every variant.

    python experiments/feature_groups.py [OUT_DIR]       # default results/feature-groups
"""

import sys
from dataclasses import replace

from ltr.experiment import Experiment
from ltr.experiment.ablation import run_ablation

LEXICAL = ["bm25(field='title')", "bm25(field='body')", "ql(field='body')", "match(field='body')"]
GROUPS = {
    "lexical": LEXICAL,
    "+recency": LEXICAL + ["recency"],
    "+domain": LEXICAL + ["recency", "url", "domain_prior"],
    "+pagerank": LEXICAL + ["recency", "url", "domain_prior", "pagerank"],
}

BASE = Experiment(
    name="feature-groups",
    data={"kind": "collection", "collection": "synthetic-web(seed=0)", "features": LEXICAL,
          "first_stage_k": 100, "splits": "kfold(k=5)"},
    objectives=["lambdarank"], backends=["lightgbm"],
    metrics=["nDCG@10", "AP", "RR"], seeds=[0, 1, 2],
    training={"n_estimators": 500, "learning_rate": 0.1}, tuning={"budget": 1},
)

VARIANTS = {label: replace(BASE, name=f"feature-groups-{label.strip('+')}",
                           data=replace(BASE.data, features=tuple(features)))
            for label, features in GROUPS.items()}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "results/feature-groups"
    print(run_ablation(VARIANTS, out))
